use std::time::Duration;

use flotilla_domain::ResourceName;
use flotilla_store::{Actor, ResourceHome, ResourceSpec};
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_live_stream_needs_a_login() {
    let app = spawn_app().await;
    let response = app.client().get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn statuses_reach_the_live_stream_as_the_engine_syncs() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let mut stream = client.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = Actor::system("test");
    let name = |s: &str| ResourceName::parse("name", s).unwrap();
    let ws = app.store.create_workspace(&tenant, &actor, &name("live"), "env=staging").await.unwrap();
    let project = app.store.create_project(&tenant, &actor, &ws.id, &name("shop"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let cm = ResourceSpec::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}),
    );
    let id = app.store.create_resource(&tenant, &actor, home, &cm).await.unwrap();

    // The four staging clusters report Synced for the ConfigMap; the saves were announced.
    let mut text = String::new();
    let mut synced = std::collections::BTreeSet::new();
    let mut changed = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while synced.len() < 4 {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("events in time").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            assert!(event.get("tenant_id").is_none() && !data.contains("applied_hash"), "{data}");
            if frame.starts_with("event: status") && event["resource_id"] == id.as_str() && event["code"] == "Synced" {
                synced.insert(event["cluster_id"].as_str().unwrap().to_owned());
            }
            if frame.starts_with("event: changed") {
                changed.insert((event["what"].as_str().unwrap().to_owned(), event["id"].as_str().unwrap().to_owned()));
            }
        }
    }
    for (what, id) in [("workspace", &ws.id), ("project", &project.id), ("resource", &id)] {
        assert!(changed.contains(&(what.to_owned(), id.clone())), "{what} {id}: {changed:?}");
    }
}
