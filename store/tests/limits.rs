//! #16 point 13: what one person's input may weigh in the database. A resource keeps its last
//! revisions only; a project (or a workspace itself) holds a bounded number of resources.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::name;
use flotilla_domain::Clearance;
use flotilla_domain::limits::{MAX_RESOURCES_PER_HOME, REVISIONS_KEPT};
use flotilla_store::{Actor, Error, ResourceHome, ResourceSpec, now_ms};
use serde_json::json;

fn configmap(name: &str, value: i64) -> ResourceSpec {
    ResourceSpec::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value.to_string()}}),
    )
}

#[tokio::test]
async fn a_resource_keeps_its_last_revisions_and_older_ones_are_removed() {
    let (store, _dir, tenant) = common::bootstrapped(None).await;
    let alice = Actor::system("alice");
    let ws = store.create_workspace(&tenant, &alice, &name("w"), "").await.unwrap();
    let p = store.create_project(&tenant, &alice, Clearance::TenantAdmin, &ws.id, &name("p"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&p.id, "p")) };
    let id = store.create_resource(&tenant, &alice, Clearance::Edit, home, &configmap("c", 1)).await.unwrap();
    let edits = REVISIONS_KEPT + 9;
    for version in 1..=edits {
        store
            .update_resource(&tenant, &alice, Clearance::Edit, &id, version, &configmap("c", version + 1))
            .await
            .unwrap();
    }
    let current = edits + 1;
    let history = store.list_revisions(&tenant, &id).await.unwrap();
    assert_eq!(history.len() as i64, REVISIONS_KEPT, "only the last {REVISIONS_KEPT} are kept");
    assert_eq!(history[0].revision, current);
    assert_eq!(history.last().unwrap().revision, current - REVISIONS_KEPT + 1);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM resource_revisions WHERE resource_id = $1")
        .bind(&id)
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(rows, REVISIONS_KEPT);
    // A removed revision is gone for reverting too, said as such; a kept one still reverts
    // (and a revert is a new revision, so the window moves on).
    let gone = store.revert_resource(&tenant, &alice, Clearance::Edit, &id, current, 1).await;
    assert!(matches!(gone, Err(Error::NotFound("revision"))), "{gone:?}");
    let oldest_kept = current - REVISIONS_KEPT + 1;
    store.revert_resource(&tenant, &alice, Clearance::Edit, &id, current, oldest_kept).await.unwrap();
    let history = store.list_revisions(&tenant, &id).await.unwrap();
    assert_eq!(history.len() as i64, REVISIONS_KEPT);
    assert_eq!(history[0].reverted_from, Some(oldest_kept));
    assert!(history.iter().all(|r| r.revision > oldest_kept), "the reverted-to revision has now aged out");
}

#[tokio::test]
async fn a_project_and_a_workspace_hold_a_bounded_number_of_resources() {
    let (store, _dir, tenant) = common::bootstrapped(None).await;
    let alice = Actor::system("alice");
    let ws = store.create_workspace(&tenant, &alice, &name("w"), "").await.unwrap();
    let p = store.create_project(&tenant, &alice, Clearance::TenantAdmin, &ws.id, &name("p"), "").await.unwrap();
    // Fill the project up to one short of the bound in one go (its namespace is one already).
    let mut tx = store.pool_for_tests().begin().await.unwrap();
    for i in 1..MAX_RESOURCES_PER_HOME - 1 {
        sqlx::query(
            "INSERT INTO federated_resources (id, tenant_id, workspace_id, project_id, api_version, kind, name, \
             current_revision, deletion_policy, adopt_existing, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'v1', 'ConfigMap', $5, 1, 'delete', FALSE, $6, $6)",
        )
        .bind(format!("filler-{i}"))
        .bind(&tenant)
        .bind(&ws.id)
        .bind(&p.id)
        .bind(format!("filler-{i}"))
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&p.id, "p")) };
    store.create_resource(&tenant, &alice, Clearance::Edit, home, &configmap("last", 1)).await.unwrap();
    let full = store.create_resource(&tenant, &alice, Clearance::Edit, home, &configmap("one-more", 1)).await;
    let message = full.unwrap_err().to_string();
    assert!(message.contains(&format!("this project holds {MAX_RESOURCES_PER_HOME} resources")), "{message}");
    // The workspace's own resources are counted apart from its projects'.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shared"}});
    let ws_home = ResourceHome { workspace_id: &ws.id, project: None };
    store.create_resource(&tenant, &alice, Clearance::Edit, ws_home, &ResourceSpec::new(ns)).await.unwrap();
}
