//! What a role may put into member clusters, enforced where every change is saved (#16
//! points 1–4): the store refuses what the author's clearance does not cover — on create,
//! update, revert and delete, and in what a cluster's overrides make of an object — writes
//! nothing when it refuses, and records the clearance with each revision for the engine.
// Tests may unwrap (the workspace lints forbid it elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::name;
use flotilla_domain::policy::ALLOW_ESCALATION;
use flotilla_domain::{Clearance, ClusterOverride, OverridePatch, PodSecurity};
use flotilla_store::{Actor, Error, ResourceHome, ResourceSpec, Store};
use serde_json::{Value, json};

struct Fixture {
    store: Store,
    tenant: String,
    workspace: String,
    project: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let (store, dir, tenant) = common::bootstrapped(None).await;
    let actor = someone();
    let ws = store.create_workspace(&tenant, &actor, &name("ops"), "").await.unwrap();
    let project = store.create_project(&tenant, &actor, Clearance::Admin, &ws.id, &name("shop"), "").await.unwrap();
    Fixture { store, tenant, workspace: ws.id, project: project.id, _dir: dir }
}

fn someone() -> Actor {
    Actor::system("someone")
}

impl Fixture {
    fn in_workspace(&self) -> ResourceHome<'_> {
        ResourceHome { workspace_id: &self.workspace, project: None }
    }

    fn in_project(&self) -> ResourceHome<'_> {
        ResourceHome { workspace_id: &self.workspace, project: Some((&self.project, "shop")) }
    }

    async fn add(&self, clearance: Clearance, home: ResourceHome<'_>, template: Value) -> Result<String, Error> {
        self.store.create_resource(&self.tenant, &someone(), clearance, home, &ResourceSpec::new(template)).await
    }

    /// The project namespace's template as stored now.
    async fn namespace(&self) -> Value {
        let resources = self.store.list_resources(&self.tenant, &self.workspace, Some(&self.project)).await.unwrap();
        let ns = resources.iter().find(|r| r.kind == "Namespace").unwrap();
        self.store.resource_revision(&self.tenant, &ns.id, None).await.unwrap().spec.template
    }

    /// Every row a refused change could have written.
    async fn rows(&self) -> (i64, i64, i64) {
        let count = |table: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(self.store.pool_for_tests())
                .await
                .unwrap()
        };
        (count("federated_resources").await, count("resource_revisions").await, count("audit_log").await)
    }
}

fn refusal(e: Error) -> String {
    match e {
        Error::Domain(flotilla_domain::Error::Refused { reason }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn binding(kind: &str, role: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "b"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": [{"kind": "Group", "name": "devs"}]})
}

#[tokio::test]
async fn a_workspace_admin_cannot_put_rbac_into_the_members_and_a_refusal_writes_nothing() {
    let f = fixture().await;
    let before = f.rows().await;
    let crb = binding("ClusterRoleBinding", "view");
    let reason = refusal(f.add(Clearance::Admin, f.in_workspace(), crb.clone()).await.unwrap_err());
    assert!(reason.contains("needs a tenant admin"), "{reason}");
    assert_eq!(f.rows().await, before, "a refused change writes nothing");
    f.add(Clearance::TenantAdmin, f.in_workspace(), crb).await.unwrap();
    // A namespace is a workspace editor's.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tools"}});
    f.add(Clearance::Edit, f.in_workspace(), ns).await.unwrap();
    let kube = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}});
    assert!(
        refusal(f.add(Clearance::TenantAdmin, f.in_workspace(), kube).await.unwrap_err()).contains("not Flotilla's")
    );
}

#[tokio::test]
async fn cluster_admin_is_bound_only_when_a_tenant_admin_says_so() {
    let f = fixture().await;
    let crb = binding("ClusterRoleBinding", "cluster-admin");
    let reason = refusal(f.add(Clearance::TenantAdmin, f.in_workspace(), crb.clone()).await.unwrap_err());
    assert!(reason.contains(ALLOW_ESCALATION), "{reason}");
    let mut allowed = crb;
    allowed["metadata"]["annotations"] = json!({ALLOW_ESCALATION: "true"});
    let id = f.add(Clearance::TenantAdmin, f.in_workspace(), allowed).await.unwrap();
    // The revision keeps who was cleared for it: the engine checks it again before writing.
    let engine_view = f.store.engine_resource(&id).await.unwrap().unwrap();
    assert_eq!(engine_view.clearance, Clearance::TenantAdmin);

    let rb = binding("RoleBinding", "cluster-admin");
    let reason = refusal(f.add(Clearance::TenantAdmin, f.in_project(), rb).await.unwrap_err());
    assert!(reason.contains("RoleBinding to the ClusterRole cluster-admin"), "{reason}");
}

#[tokio::test]
async fn a_project_editor_cannot_change_revert_or_delete_what_fences_the_namespace() {
    let f = fixture().await;
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "10"}}});
    assert!(
        refusal(f.add(Clearance::Edit, f.in_project(), quota.clone()).await.unwrap_err()).contains("needs an admin")
    );
    let id = f.add(Clearance::Admin, f.in_project(), quota.clone()).await.unwrap();
    let mut bigger = quota;
    bigger["spec"]["hard"]["pods"] = json!("1000");
    let (store, who, delete) = (&f.store, someone(), flotilla_store::DeletionPolicy::Delete);
    let bigger = ResourceSpec::new(bigger);
    let e = store.update_resource(&f.tenant, &who, Clearance::Edit, &id, 1, &bigger).await.unwrap_err();
    assert!(refusal(e).contains("changing or removing this ResourceQuota needs an admin"));
    store.update_resource(&f.tenant, &who, Clearance::Admin, &id, 1, &bigger).await.unwrap();
    let e = store.revert_resource(&f.tenant, &who, Clearance::Edit, &id, 2, 1).await.unwrap_err();
    assert!(refusal(e).contains("needs an admin"));
    let e = store.delete_resource(&f.tenant, &who, Clearance::Edit, &id, 2, delete).await.unwrap_err();
    assert!(refusal(e).contains("needs an admin"));
    assert!(!store.get_resource(&f.tenant, &id).await.unwrap().deleted);
    store.delete_resource(&f.tenant, &who, Clearance::Admin, &id, 2, delete).await.unwrap();
}

#[tokio::test]
async fn an_override_cannot_make_a_binding_escalate_in_one_cluster() {
    let f = fixture().await;
    let mut spec = ResourceSpec::new(binding("RoleBinding", "view"));
    spec.overrides.push(ClusterOverride {
        cluster: "edge-1".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/roleRef/name", json!("cluster-admin"))],
    });
    let e = f.store.create_resource(&f.tenant, &someone(), Clearance::TenantAdmin, f.in_project(), &spec).await;
    assert!(refusal(e.unwrap_err()).starts_with("in cluster edge-1"));
}

#[tokio::test]
async fn the_pod_security_level_labels_the_namespace_and_privileged_is_a_tenant_admins() {
    let f = fixture().await;
    let template = f.namespace().await;
    assert_eq!(template["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "baseline");

    let privileged = deployment(json!({"hostNetwork": true, "containers": [{"name": "c", "image": "x"}]}));
    let reason = refusal(f.add(Clearance::TenantAdmin, f.in_project(), privileged.clone()).await.unwrap_err());
    assert!(reason.contains("hostNetwork") && reason.contains("Pod Security level baseline"), "{reason}");

    let (store, who, privileged_level) = (&f.store, someone(), PodSecurity::Privileged);
    let e = store.set_project_pod_security(&f.tenant, &who, Clearance::Admin, &f.project, privileged_level, 1);
    assert!(refusal(e.await.unwrap_err()).contains("only a tenant admin"));
    let p = store.set_project_pod_security(&f.tenant, &who, Clearance::TenantAdmin, &f.project, privileged_level, 1);
    let p = p.await.unwrap();
    assert_eq!((p.pod_security, p.version), (PodSecurity::Privileged, 2));
    let template = f.namespace().await;
    assert_eq!(template["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged");
    f.add(Clearance::Edit, f.in_project(), privileged).await.unwrap();
}

#[tokio::test]
async fn kubernetes_namespaces_are_not_project_names() {
    let f = fixture().await;
    for reserved in ["kube-system", "default", "kube-public", "flotilla-system"] {
        let (who, project) = (someone(), name(reserved));
        let e = f.store.create_project(&f.tenant, &who, Clearance::TenantAdmin, &f.workspace, &project, "").await;
        let message = e.unwrap_err().to_string();
        assert!(message.contains("namespace of Kubernetes or Flotilla"), "{reserved}: {message}");
    }
}

fn deployment(pod: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}})
}
