//! Workspaces, projects and federated resources against a real SQLite file: revisions,
//! audit rows and change events in one transaction; Secret values encrypted; bad input
//! refused with nothing written; optimistic concurrency; statuses.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::name;
use flotilla_domain::{ClusterOverride, OverridePatch, Placement, StatusCode};
use flotilla_store::{
    Actor, Change, DeletionPolicy, Error, NewCluster, ResourceHome, ResourceSpec, StatusRecord, Store, now_ms,
};
use secrecy::SecretString;
use serde_json::json;

struct Fixture {
    store: Store,
    tenant: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let (store, dir, tenant) = common::bootstrapped(None).await;
    Fixture { store, tenant, _dir: dir }
}

fn alice() -> Actor {
    Actor::system("alice")
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap()
}

fn configmap(data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": data})
}

#[tokio::test]
async fn projects_bring_their_namespace_and_resources_get_revisions() {
    let f = fixture().await;
    let mut changes = f.store.subscribe_changes();
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("payments"), " env = prod ").await.unwrap();
    assert_eq!(ws.selector, "env=prod");
    let project = f
        .store
        .create_project(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            &ws.id,
            &name("checkout"),
            "region in (eu)",
        )
        .await
        .unwrap();

    // The project's namespace is a resource of the project.
    let resources = f.store.list_resources(&f.tenant, &ws.id, Some(&project.id)).await.unwrap();
    assert_eq!(resources.len(), 1);
    assert_eq!((resources[0].kind.as_str(), resources[0].name.as_str()), ("Namespace", "checkout"));
    let engine_ns = f.store.engine_resource(&resources[0].id).await.unwrap().unwrap();
    assert_eq!(engine_ns.template["metadata"]["labels"]["flotilla.io/project"], "checkout");

    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "checkout")) };
    let id = f
        .store
        .create_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            home,
            &ResourceSpec::new(configmap(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    let record = f.store.get_resource(&f.tenant, &id).await.unwrap();
    assert_eq!((record.revision, record.version), (1, 1));

    let mut spec = ResourceSpec::new(configmap(json!({"a": "2"})));
    spec.overrides = vec![ClusterOverride {
        cluster: "prod-eu-1".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/data/a", json!("3"))],
    }];
    spec.placement = Placement::selector("tier=1");
    assert_eq!(
        f.store
            .update_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &id, 1, &spec)
            .await
            .unwrap(),
        2
    );
    let loaded = f.store.engine_resource(&id).await.unwrap().unwrap();
    assert_eq!(loaded.revision, 2);
    assert_eq!(loaded.template["data"]["a"], "2");
    assert_eq!(loaded.placement, Placement::selector("tier=1"));
    assert_eq!(loaded.overrides, spec.overrides);

    // A stale edit names who changed it since.
    let stale = f
        .store
        .update_resource(&f.tenant, &Actor::system("bob"), flotilla_domain::Clearance::TenantAdmin, &id, 1, &spec)
        .await
        .unwrap_err();
    assert!(matches!(stale, Error::Stale { .. }));
    assert!(stale.to_string().contains("changed by alice since you opened it"), "{stale}");

    assert_eq!(count(&f.store, "resource_revisions").await, 3);
    let actions: Vec<String> = f.store.audit_log(&f.tenant, 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(
        actions[..5],
        ["resource.update", "resource.create", "resource.create", "project.create", "workspace.create"]
    );

    let mut seen = Vec::new();
    while let Ok(c) = changes.try_recv() {
        seen.push(c);
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.contains(&Change::Project { tenant_id: f.tenant.clone(), id: project.id.clone() }));
    assert_eq!(seen.last(), Some(&Change::Resource { tenant_id: f.tenant.clone(), id: id.clone() }));
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    let f = fixture().await;
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("w"), "").await.unwrap();
    let project = f
        .store
        .create_project(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("p"), "")
        .await
        .unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "p")) };
    let before = (count(&f.store, "federated_resources").await, count(&f.store, "audit_log").await);

    let mut bad_override = ResourceSpec::new(configmap(json!({"a": "1"})));
    bad_override.overrides = vec![ClusterOverride {
        cluster: "c1".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/data/missing", json!("x"))],
    }];
    let e = f
        .store
        .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, home, &bad_override)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the path does not exist"), "{e}");

    let mut bad_placement = ResourceSpec::new(configmap(json!({})));
    bad_placement.placement = Placement::selector("env in (");
    assert!(
        f.store
            .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, home, &bad_placement)
            .await
            .unwrap_err()
            .to_string()
            .contains("placement")
    );

    let cluster_role =
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}});
    let e = f
        .store
        .create_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            home,
            &ResourceSpec::new(cluster_role),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("add it to the workspace"), "{e}");

    assert!(f.store.create_workspace(&f.tenant, &alice(), &name("w2"), "env=").await.is_ok());
    assert!(f.store.create_workspace(&f.tenant, &alice(), &name("w3"), "env in").await.is_err());
    assert!(
        f.store.create_workspace(&f.tenant, &alice(), &name("w"), "").await.unwrap_err().to_string().contains("exists")
    );

    // Another tenant's workspace is "not found", and nothing is written.
    let other = ResourceHome { workspace_id: &ws.id, project: None };
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}});
    let e = f
        .store
        .create_resource(
            "other-tenant",
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            other,
            &ResourceSpec::new(role.clone()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound("workspace")), "{e}");

    assert_eq!(before.0, count(&f.store, "federated_resources").await);
    assert_eq!(before.1 + 1, count(&f.store, "audit_log").await, "only w2 was written");

    // Identity cannot change on update.
    let id = f
        .store
        .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, other, &ResourceSpec::new(role))
        .await
        .unwrap();
    let renamed =
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "y"}});
    let e = f
        .store
        .update_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            &id,
            1,
            &ResourceSpec::new(renamed),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot change"), "{e}");
    let dup = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}});
    assert!(
        f.store
            .create_resource(
                &f.tenant,
                &alice(),
                flotilla_domain::Clearance::TenantAdmin,
                other,
                &ResourceSpec::new(dup)
            )
            .await
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
}

#[tokio::test]
async fn secret_values_are_encrypted_at_rest_and_kept_across_edits() {
    let f = fixture().await;
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("w"), "").await.unwrap();
    let project = f
        .store
        .create_project(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("p"), "")
        .await
        .unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "p")) };
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
        "stringData": {"password": "hunter2-plaintext"}, "data": {"user": "YWRtaW4="}});
    let id = f
        .store
        .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, home, &ResourceSpec::new(secret))
        .await
        .unwrap();

    let (template, enc): (String, Option<String>) =
        sqlx::query_as("SELECT template, secret_data_enc FROM resource_revisions WHERE resource_id = $1")
            .bind(&id)
            .fetch_one(f.store.pool_for_tests())
            .await
            .unwrap();
    assert!(!template.contains("hunter2") && !template.contains("aHVudGVy") && !template.contains("YWRtaW4="));
    let enc = enc.unwrap();
    assert!(enc.starts_with("v1:") && !enc.contains("hunter2"));
    let loaded = f.store.engine_resource(&id).await.unwrap().unwrap();
    assert_eq!(loaded.template["data"], json!({"password": "aHVudGVyMi1wbGFpbnRleHQ=", "user": "YWRtaW4="}));

    // An edit without values (the dashboard never has them) keeps them.
    let relabelled = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "labels": {"a": "b"}}});
    f.store
        .update_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            &id,
            1,
            &ResourceSpec::new(relabelled),
        )
        .await
        .unwrap();
    let loaded = f.store.engine_resource(&id).await.unwrap().unwrap();
    assert_eq!(loaded.template["data"]["user"], "YWRtaW4=");
    assert_eq!(loaded.template["metadata"]["labels"]["a"], "b");

    let mut leaky = ResourceSpec::new(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dg=="}}),
    );
    leaky.overrides = vec![ClusterOverride {
        cluster: "c".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/data/k", json!("eA=="))],
    }];
    assert!(
        f.store
            .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, home, &leaky)
            .await
            .unwrap_err()
            .to_string()
            .contains("cannot be overridden")
    );
    let bad_b64 =
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "y"}, "data": {"k": "not base64!"}});
    assert!(
        f.store
            .create_resource(
                &f.tenant,
                &alice(),
                flotilla_domain::Clearance::TenantAdmin,
                home,
                &ResourceSpec::new(bad_b64)
            )
            .await
            .unwrap_err()
            .to_string()
            .contains("base64")
    );
}

#[tokio::test]
async fn statuses_upsert_and_deleted_resources_purge_only_when_clean() {
    let f = fixture().await;
    let cluster = NewCluster {
        name: name("c1"),
        api_server_url: "https://127.0.0.1:1/clusters/c1".into(),
        ca_pem: None,
        token: SecretString::from("t".to_owned()),
        labels: Default::default(),
    };
    let cluster_id = f.store.register_cluster(&f.tenant, "admin", &cluster, false).await.unwrap();
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("w"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: None };
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}});
    let mut spec = ResourceSpec::new(role);
    spec.deletion_policy = DeletionPolicy::Orphan;
    let id = f
        .store
        .create_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, home, &spec)
        .await
        .unwrap();

    let mut status = StatusRecord {
        tenant_id: f.tenant.clone(),
        resource_id: id.clone(),
        cluster_id: cluster_id.clone(),
        code: StatusCode::Pending,
        message: String::new(),
        applied_revision: None,
        applied_hash: None,
        member_generation: None,
        member_resource_version: None,
        health: None,
        updated_at: now_ms(),
    };
    f.store.save_statuses(std::slice::from_ref(&status), &[]).await.unwrap();
    status.code = StatusCode::Synced;
    status.applied_revision = Some(1);
    status.member_resource_version = Some("42".into());
    // A row for a resource that no longer exists is skipped, not an error for the batch.
    // Batches larger than one statement's rows keep every real row (here the last one).
    let mut batch: Vec<StatusRecord> =
        (0..1200).map(|i| StatusRecord { resource_id: format!("gone-{i}"), ..status.clone() }).collect();
    batch.push(status.clone());
    f.store.save_statuses(&batch, &[]).await.unwrap();
    assert_eq!(f.store.cluster_statuses(&f.tenant, &cluster_id).await.unwrap(), vec![status.clone()]);
    assert_eq!(f.store.resource_statuses("other-tenant", &id).await.unwrap(), vec![]);
    assert_eq!(f.store.cluster_statuses("other-tenant", &cluster_id).await.unwrap(), vec![]);
    // Many clusters at once, over more than one statement: the real cluster's row comes back
    // wherever it is asked (first, past the first statement's clusters), under its id only.
    let others: Vec<String> = (0..700).map(|i| format!("no-such-cluster-{i}")).collect();
    for at in [0, 600] {
        let mut asked: Vec<(&str, &str)> = others.iter().map(|c| (f.tenant.as_str(), c.as_str())).collect();
        asked.insert(at, (&f.tenant, &cluster_id));
        let by_cluster = f.store.clusters_statuses(&asked).await.unwrap();
        assert_eq!(by_cluster.len(), 1, "asked at {at}");
        assert_eq!(by_cluster[&cluster_id], vec![status.clone()]);
    }

    let version = f.store.get_resource(&f.tenant, &id).await.unwrap().version;
    let stale = f
        .store
        .delete_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            &id,
            version - 1,
            DeletionPolicy::Delete,
        )
        .await;
    assert!(matches!(stale, Err(Error::Stale { .. })), "{stale:?}");
    f.store
        .delete_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            &id,
            version,
            DeletionPolicy::Delete,
        )
        .await
        .unwrap();
    assert!(f.store.engine_resource(&id).await.unwrap().unwrap().deleted);
    assert!(!f.store.purge_resource(&id).await.unwrap(), "a member still holds it");
    f.store.save_statuses(&[], &[(id.clone(), cluster_id.clone())]).await.unwrap();
    assert!(f.store.purge_resource(&id).await.unwrap());
    assert!(f.store.engine_resource(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn workspace_and_project_selectors_change_once_per_version_with_an_audit_row() {
    let f = fixture().await;
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("edge"), "env=prod").await.unwrap();
    let project = f
        .store
        .create_project(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("cache"), "")
        .await
        .unwrap();
    let mut changes = f.store.subscribe_changes();

    let ws2 = f.store.set_workspace_selector(&f.tenant, &alice(), &ws.id, "region in (eu),env=prod", 1).await.unwrap();
    assert_eq!((ws2.selector.as_str(), ws2.version), ("env=prod,region=eu", 2), "canonical form, next version");
    let p2 = f.store.set_project_selector(&f.tenant, &alice(), &project.id, "tier=1", 1).await.unwrap();
    assert_eq!((p2.selector.as_str(), p2.version, p2.name.as_str()), ("tier=1", 2, "cache"));
    assert!(matches!(changes.try_recv().unwrap(), Change::Workspace { id, .. } if id == ws.id));
    assert!(matches!(changes.try_recv().unwrap(), Change::Project { id, .. } if id == project.id));

    let bob = Actor::system("bob");
    for stale in [
        f.store.set_workspace_selector(&f.tenant, &bob, &ws.id, "env=dev", 1).await.unwrap_err(),
        f.store.set_project_selector(&f.tenant, &bob, &project.id, "tier=2", 1).await.unwrap_err(),
    ] {
        assert!(stale.to_string().contains("changed by alice since you opened it"), "{stale}");
    }
    let bad = f.store.set_project_selector(&f.tenant, &bob, &project.id, "tier in (", 2).await.unwrap_err();
    assert!(matches!(bad, Error::Domain(_)), "{bad}");
    assert_eq!(f.store.list_workspaces(&f.tenant).await.unwrap()[0].selector, "env=prod,region=eu");
    assert_eq!(f.store.list_projects(&f.tenant, &ws.id).await.unwrap()[0].selector, "tier=1");

    let log = f.store.audit_log(&f.tenant, 2).await.unwrap();
    assert_eq!((log[0].action.as_str(), log[0].target_name.as_str()), ("project.update", "cache"));
    assert!(log[0].detail.contains(r#""from":"""#) && log[0].detail.contains(r#""to":"tier=1""#), "{}", log[0].detail);
    assert_eq!((log[1].action.as_str(), log[1].target_kind.as_str()), ("workspace.update", "workspace"));
}

#[tokio::test]
async fn history_lists_revisions_and_a_revert_is_a_new_revision_with_the_old_values() {
    let f = fixture().await;
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("w"), "").await.unwrap();
    let project = f
        .store
        .create_project(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("p"), "")
        .await
        .unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "p")) };
    let secret = |value: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": value}});
    let id = f
        .store
        .create_resource(
            &f.tenant,
            &alice(),
            flotilla_domain::Clearance::TenantAdmin,
            home,
            &ResourceSpec::new(secret("first")),
        )
        .await
        .unwrap();
    let mut second = ResourceSpec::new(secret("second"));
    second.placement = Placement::clusters(["a"]);
    f.store
        .update_resource(&f.tenant, &Actor::system("bob"), flotilla_domain::Clearance::TenantAdmin, &id, 1, &second)
        .await
        .unwrap();

    let history = f.store.list_revisions(&f.tenant, &id).await.unwrap();
    let shown: Vec<_> = history.iter().map(|r| (r.revision, r.author_name.as_str(), r.message.as_str())).collect();
    assert_eq!(shown, vec![(2, "bob", "updated"), (1, "alice", "created")]);
    let one = f.store.resource_revision(&f.tenant, &id, Some(1)).await.unwrap();
    assert_eq!(one.spec.placement, Placement::everywhere());
    assert!(one.spec.template.get("stringData").is_none() && one.spec.template.get("data").is_none());
    assert_eq!(one.secret_values.unwrap()["password"], "Zmlyc3Q="); // "first"
    assert_eq!(f.store.resource_revision(&f.tenant, &id, None).await.unwrap().revision, 2);
    assert!(matches!(f.store.resource_revision(&f.tenant, &id, Some(9)).await, Err(Error::NotFound(_))));
    assert!(matches!(f.store.list_revisions("other-tenant", &id).await, Err(Error::NotFound(_))));

    // A stale revert is refused; so is reverting to the current revision.
    let stale = f.store.revert_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &id, 1, 1).await;
    assert!(matches!(&stale, Err(Error::Stale { by, .. }) if by == "bob"), "{stale:?}");
    let current = f
        .store
        .revert_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &id, 2, 2)
        .await
        .unwrap_err();
    assert!(current.to_string().contains("current"), "{current}");
    let audit_rows = count(&f.store, "audit_log").await;

    assert_eq!(
        f.store.revert_resource(&f.tenant, &alice(), flotilla_domain::Clearance::TenantAdmin, &id, 2, 1).await.unwrap(),
        3
    );
    let three = f.store.resource_revision(&f.tenant, &id, None).await.unwrap();
    assert_eq!((three.revision, three.record.version), (3, 3));
    assert_eq!(three.spec.placement, Placement::everywhere());
    let engine = f.store.engine_resource(&id).await.unwrap().unwrap();
    assert_eq!(engine.template["data"]["password"], "Zmlyc3Q=");
    let newest = &f.store.list_revisions(&f.tenant, &id).await.unwrap()[0];
    assert_eq!((newest.message.as_str(), newest.reverted_from), ("reverted to 1", Some(1)));
    assert_eq!(count(&f.store, "audit_log").await, audit_rows + 1);
    assert_eq!(f.store.audit_log(&f.tenant, 1).await.unwrap()[0].action, "resource.revert");
}

#[tokio::test]
async fn the_audit_log_filters_by_who_what_target_and_outcome_and_pages() {
    use flotilla_store::{AuditEntry, AuditOutcome, AuditQuery};
    let f = fixture().await;
    let ws = f.store.create_workspace(&f.tenant, &alice(), &name("payments"), "").await.unwrap();
    f.store
        .create_project(
            &f.tenant,
            &Actor::system("bob"),
            flotilla_domain::Clearance::TenantAdmin,
            &ws.id,
            &name("checkout-1"),
            "",
        )
        .await
        .unwrap();
    f.store
        .record_audit(
            &AuditEntry::new(&f.tenant, "mallory", "login", AuditOutcome::Denied).target("user", "", "mal_lory"),
        )
        .await
        .unwrap();
    let search = |q: AuditQuery, limit| {
        let store = f.store.clone();
        let tenant = f.tenant.clone();
        async move {
            let rows = store.search_audit(&tenant, &q, limit).await.unwrap();
            rows.into_iter().map(|r| format!("{} {} {}", r.actor_name, r.action, r.target_name)).collect::<Vec<_>>()
        }
    };
    let all = search(AuditQuery::default(), 100).await;
    assert!(all.len() >= 4, "{all:?}");
    assert_eq!(all[0], "mallory login mal_lory", "newest first");
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(search(q(|q| q.actor = "BOB".into()), 100).await.len(), 2, "the project and its namespace");
    assert_eq!(search(q(|q| q.action = "workspace.create".into()), 100).await, ["alice workspace.create payments"]);
    assert_eq!(search(q(|q| q.action = "project".into()), 100).await, ["bob project.create checkout-1"]);
    // `_` and `%` are text, not wildcards (unescaped, both would match "checkout").
    assert_eq!(search(q(|q| q.target = "L_L".into()), 100).await, ["mallory login mal_lory"]);
    assert!(search(q(|q| q.target = "k_ut".into()), 100).await.is_empty());
    assert!(search(q(|q| q.target = "k%t".into()), 100).await.is_empty());
    assert_eq!(search(q(|q| q.outcome = "denied".into()), 100).await, ["mallory login mal_lory"]);
    assert!(f.store.search_audit("other-tenant", &AuditQuery::default(), 100).await.unwrap().is_empty());

    // Pages: each continues before the last id of the one before, with nothing twice.
    let first = f.store.search_audit(&f.tenant, &AuditQuery::default(), 2).await.unwrap();
    let rest = f
        .store
        .search_audit(&f.tenant, &AuditQuery { before: Some(first[1].id.clone()), ..Default::default() }, 100)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), all.len());
    assert!(rest.iter().all(|r| first.iter().all(|f| f.id != r.id)));
}
