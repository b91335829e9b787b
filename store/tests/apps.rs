//! Apps in the store (#17 points 1, 2, 4): the built-in catalog is copied in and refreshed,
//! an install renders its version into federated resources in one transaction, and every
//! refusal — bad values, the wrong home, an object the installer may not write, a name taken
//! — writes nothing.
// Tests may unwrap (the workspace lints forbid it elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::name;
use flotilla_domain::Clearance;
use flotilla_domain::catalog::AppDefinition;
use flotilla_store::{Actor, CatalogSync, Error, NewInstall, ResourceHome, ResourceSpec, Store};
use serde_json::{Map, Value, json};

struct Fixture {
    store: Store,
    tenant: String,
    workspace: String,
    project: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let (store, dir, tenant) = common::bootstrapped(None).await;
    let sync = store.sync_builtin_catalog(&flotilla_catalog::builtin().unwrap()).await.unwrap();
    assert_eq!(sync, CatalogSync { added: 8, updated: 0, removed: 0 });
    let ws = store.create_workspace(&tenant, &someone(), &name("ops"), "").await.unwrap();
    let project =
        store.create_project(&tenant, &someone(), Clearance::Admin, &ws.id, &name("payments"), "").await.unwrap();
    Fixture { store, tenant, workspace: ws.id, project: project.id, _dir: dir }
}

fn someone() -> Actor {
    Actor::system("someone")
}

fn values(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

impl Fixture {
    fn in_project(&self) -> ResourceHome<'_> {
        ResourceHome { workspace_id: &self.workspace, project: Some((&self.project, "payments")) }
    }

    fn in_workspace(&self) -> ResourceHome<'_> {
        ResourceHome { workspace_id: &self.workspace, project: None }
    }

    async fn version_id(&self, app: &str, version: &str) -> String {
        let catalog = self.store.catalog(&self.tenant).await.unwrap();
        let found =
            catalog.iter().find(|v| v.definition.meta.name == app && v.definition.meta.version.to_string() == version);
        found.unwrap().id.clone()
    }

    async fn install(
        &self,
        home: ResourceHome<'_>,
        clearance: Clearance,
        app: (&str, &str),
        name: &str,
        v: Value,
    ) -> Result<String, Error> {
        let version = self.version_id(app.0, app.1).await;
        let values = values(v);
        let new = NewInstall { version_id: &version, name, values: &values, rules: &[] };
        self.store.install_app(&self.tenant, &someone(), clearance, home, new).await
    }

    /// Every row an install could write.
    async fn rows(&self) -> [i64; 4] {
        let mut counts = [0; 4];
        for (i, table) in
            ["app_installs", "app_install_resources", "federated_resources", "audit_log"].iter().enumerate()
        {
            counts[i] = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(self.store.pool_for_tests())
                .await
                .unwrap();
        }
        counts
    }
}

#[tokio::test]
async fn the_builtin_catalog_is_copied_in_and_refreshed_when_it_changes() {
    let f = fixture().await;
    let mut shipped = flotilla_catalog::builtin().unwrap();
    assert_eq!(f.store.sync_builtin_catalog(&shipped).await.unwrap(), CatalogSync::default(), "unchanged: no write");

    let kafka_381 =
        shipped.iter_mut().find(|d| d.meta.name == "kafka" && d.meta.version.to_string() == "3.8.1").unwrap();
    kafka_381.meta.changelog = "a better changelog".into();
    let installed = f.install(f.in_project(), Clearance::Edit, ("kafka", "3.7.1"), "kafka", json!({})).await.unwrap();
    // 3.7.1 is no longer shipped, but an install runs it: it stays. podinfo 6.6.3 goes.
    shipped
        .retain(|d: &AppDefinition| !(d.meta.version.to_string() == "3.7.1" || d.meta.version.to_string() == "6.6.3"));
    let sync = f.store.sync_builtin_catalog(&shipped).await.unwrap();
    assert_eq!(sync, CatalogSync { added: 0, updated: 1, removed: 1 });
    let catalog = f.store.catalog(&f.tenant).await.unwrap();
    let listed: Vec<String> =
        catalog.iter().map(|v| format!("{} {}", v.definition.meta.name, v.definition.meta.version)).collect();
    assert!(listed.contains(&"kafka 3.7.1".to_owned()) && !listed.contains(&"podinfo 6.6.3".to_owned()), "{listed:?}");
    assert!(catalog.iter().all(|v| v.builtin));
    let install = f.store.get_install(&f.tenant, &installed).await.unwrap();
    assert_eq!(
        f.store.catalog_version(&f.tenant, &install.version_id).await.unwrap().definition.meta.version.to_string(),
        "3.7.1"
    );
}

#[tokio::test]
async fn installing_kafka_creates_its_resources_in_one_change() {
    let f = fixture().await;
    let before = f.rows().await;
    let id =
        f.install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), "events", json!({"brokers": 5})).await.unwrap();
    let after = f.rows().await;
    assert_eq!(after[0] - before[0], 1, "one install");
    assert_eq!(after[1] - before[1], 5, "five resources linked");
    assert_eq!(after[2] - before[2], 5, "five federated resources");
    assert_eq!(after[3] - before[3], 6, "an audit row per resource and one for the install");

    let install = f.store.get_install(&f.tenant, &id).await.unwrap();
    assert_eq!((install.name.as_str(), install.app_name.as_str()), ("events", "kafka"));
    assert_eq!(install.values, values(json!({"brokers": 5})), "the values as given, without defaults");
    assert_eq!(install.project_id.as_deref(), Some(f.project.as_str()));
    let mut kinds = Vec::new();
    for resource in &install.resource_ids {
        let record = f.store.get_resource(&f.tenant, resource).await.unwrap();
        kinds.push(format!("{} {}", record.kind, record.name));
        if record.kind == "StatefulSet" {
            let template = f.store.resource_revision(&f.tenant, resource, None).await.unwrap().spec.template;
            assert_eq!(template["spec"]["replicas"], 5);
            assert_eq!(template["spec"]["template"]["spec"]["containers"][0]["image"], "apache/kafka:3.8.1");
        }
    }
    assert_eq!(
        kinds,
        [
            "ConfigMap events-config",
            "PodDisruptionBudget events",
            "Service events",
            "Service events-headless",
            "StatefulSet events"
        ]
    );
    let listed = f.store.list_installs(&f.tenant, None, Some(&f.project)).await.unwrap();
    assert_eq!(listed, vec![install]);
    assert!(f.store.list_installs(&f.tenant, None, Some("another-project")).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_install_writes_nothing() {
    let f = fixture().await;
    let before = f.rows().await;
    let domain_error = |e: Error| match e {
        Error::Domain(e) => (e.field(), e.reason().to_owned()),
        other => panic!("expected a domain error, got {other:?}"),
    };

    let bad_values = f
        .install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), "kafka", json!({"brokers": 0, "colour": 1}))
        .await;
    let (field, reason) = domain_error(bad_values.unwrap_err());
    assert_eq!(field, "values");
    assert!(
        reason.contains("`brokers` must be at least 1") && reason.contains("`colour` is not a parameter"),
        "{reason}"
    );

    let crds_in_a_project =
        f.install(f.in_project(), Clearance::TenantAdmin, ("gateway-api", "1.2.0"), "gw", json!({})).await;
    assert!(domain_error(crds_in_a_project.unwrap_err()).1.contains("install it in a workspace"));

    let kafka_in_a_workspace =
        f.install(f.in_workspace(), Clearance::TenantAdmin, ("kafka", "3.8.1"), "kafka", json!({})).await;
    assert!(domain_error(kafka_in_a_workspace.unwrap_err()).1.contains("installed in a project"));

    // CRDs reach every cluster of the workspace: a workspace admin may not install them.
    let by_an_admin = f.install(f.in_workspace(), Clearance::Admin, ("gateway-api", "1.2.0"), "gw", json!({})).await;
    assert!(matches!(by_an_admin, Err(Error::Domain(flotilla_domain::Error::Refused { .. }))), "{by_an_admin:?}");

    let bad_name = f.install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), "Kafka_1", json!({})).await;
    assert_eq!(domain_error(bad_name.unwrap_err()).0, "name");
    let long_name = f.install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), &"k".repeat(41), json!({})).await;
    assert!(domain_error(long_name.unwrap_err()).1.contains("at most 40"));

    let none = Map::new();
    let new = NewInstall { version_id: "no-such-id", name: "kafka", values: &none, rules: &[] };
    let unknown = f.store.install_app(&f.tenant, &someone(), Clearance::Edit, f.in_project(), new).await;
    assert!(matches!(unknown, Err(Error::NotFound("app version"))), "{unknown:?}");
    assert_eq!(f.rows().await, before, "nothing written by any refusal");

    // An object of the same name already in the project: the whole install is refused.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kafka-config"}});
    f.store
        .create_resource(&f.tenant, &someone(), Clearance::Edit, f.in_project(), &ResourceSpec::new(cm))
        .await
        .unwrap();
    let before = f.rows().await;
    let clash = f.install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), "kafka", json!({})).await;
    assert!(domain_error(clash.unwrap_err()).1.contains("ConfigMap payments/kafka-config already exists"));
    assert_eq!(f.rows().await, before);

    f.install(f.in_project(), Clearance::Edit, ("kafka", "3.8.1"), "events", json!({})).await.unwrap();
    let before = f.rows().await;
    let twice = f.install(f.in_project(), Clearance::Edit, ("podinfo", "6.7.1"), "events", json!({})).await;
    assert!(domain_error(twice.unwrap_err()).1.contains("an install named events exists"));
    assert_eq!(f.rows().await, before);
}

#[tokio::test]
async fn a_tenant_admin_installs_gateway_api_in_a_workspace() {
    let f = fixture().await;
    let id = f
        .install(
            f.in_workspace(),
            Clearance::TenantAdmin,
            ("gateway-api", "1.2.0"),
            "gateway-api",
            json!({"className": "internal"}),
        )
        .await
        .unwrap();
    let install = f.store.get_install(&f.tenant, &id).await.unwrap();
    assert_eq!(install.project_id, None);
    assert_eq!(install.resource_ids.len(), 5, "three CRDs, the class and the reader role");
    // Another tenant sees neither the install nor (for a foreign id) anything else.
    let other = f.store.create_tenant(&someone(), "other", "Other").await.unwrap();
    assert!(matches!(f.store.get_install(&other.id, &id).await, Err(Error::NotFound("install"))));
    assert!(f.store.list_installs(&other.id, None, None).await.unwrap().is_empty());
    assert_eq!(f.store.catalog(&other.id).await.unwrap().len(), 8, "the built-in catalog is everyone's");
}
