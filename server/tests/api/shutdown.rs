//! Stopping the server (SIGTERM, Ctrl-C) lets the engine's writes in flight end and stores
//! every status before it exits, so a restart knows what the members hold.

use std::time::Duration;

use flotilla_domain::{ResourceName, StatusCode};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec, Store};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{WAIT, spawn_app, spawn_app_in};

/// The cluster's status for `resource`, if any.
async fn status(store: &Store, tenant: &str, resource: &str) -> Option<(StatusCode, Option<i64>)> {
    let statuses = store.resource_statuses(tenant, resource).await.unwrap();
    statuses.first().map(|s| (s.code, s.applied_revision))
}

#[tokio::test]
async fn a_server_stopped_right_after_a_change_is_restarted_without_writing_to_members_again() {
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("a")], SimSettings::default())
        .await
        .unwrap();
    let member = sim.cluster("a").unwrap();
    let app = spawn_app().await;
    let store = app.store.clone();
    let tenant = store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = Actor::system("test");
    let name = |n: &str| ResourceName::parse("name", n).unwrap();
    let cluster = NewCluster {
        name: name("a"),
        api_server_url: sim.server_url("a"),
        ca_pem: sim.ca_pem().map(str::to_owned),
        token: SecretString::from(member.token.clone()),
        labels: [("env".to_owned(), "prod".to_owned())].into(),
    };
    store.register_cluster(&tenant, "test", &cluster, false).await.unwrap();
    let ws = store.create_workspace(&tenant, &actor, &name("prod"), "env=prod").await.unwrap();
    let project = store
        .create_project(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("shop"), "")
        .await
        .unwrap();

    // A change, and the server stopped the moment the member has it (its status is then
    // still on its way to the store).
    let writes = member.counts().writes;
    let configmap =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}});
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let id = store
        .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &ResourceSpec::new(configmap))
        .await
        .unwrap();
    // The project's namespace and the ConfigMap: two writes. (Polled every millisecond, not
    // with `eventually`: the stop must come before the status reaches the store.)
    let deadline = tokio::time::Instant::now() + WAIT;
    while member.counts().writes < writes + 2 {
        assert!(tokio::time::Instant::now() < deadline, "the member never got the change");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let data_dir = app.stop().await;
    let written = member.counts().writes;
    assert_eq!(status(&store, &tenant, &id).await, Some((StatusCode::Synced, Some(1))), "stored before exiting");

    // Restarted on the same data: it checks the member and writes nothing.
    let app = spawn_app_in(data_dir, |_| {}).await;
    let store = app.store.clone();
    tokio::time::sleep(Duration::from_secs(3)).await; // a probe, a pass, the watches' lists
    assert_eq!(member.counts().writes, written, "the restart wrote to the member again");
    assert_eq!(status(&store, &tenant, &id).await, Some((StatusCode::Synced, Some(1))));
    app.stop().await;
}
