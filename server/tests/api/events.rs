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
    let project = app
        .store
        .create_project(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("shop"), "")
        .await
        .unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let cm = ResourceSpec::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}),
    );
    let id =
        app.store.create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &cm).await.unwrap();

    // The four staging clusters report Synced for the ConfigMap; the saves were announced.
    let mut seen = Vec::new();
    let mut synced = std::collections::BTreeSet::new();
    read_until(
        &mut stream,
        |name, event| {
            if name == "status" && event["resource_id"] == id.as_str() && event["code"] == "Synced" {
                synced.insert(event["cluster_id"].as_str().unwrap().to_owned());
            }
            synced.len() == 4
        },
        &mut seen,
    )
    .await;
    for event in &seen {
        assert!(event.get("tenant_id").is_none() && event.get("applied_hash").is_none(), "{event}");
    }
    let changed: std::collections::BTreeSet<(String, String)> = seen
        .iter()
        .filter(|e| e["kind"] == "changed")
        .map(|e| (e["what"].as_str().unwrap().to_owned(), e["id"].as_str().unwrap().to_owned()))
        .collect();
    for (what, id) in [("workspace", &ws.id), ("project", &project.id), ("resource", &id)] {
        assert!(changed.contains(&(what.to_owned(), id.clone())), "{what} {id}: {changed:?}");
    }
}

/// Reads SSE frames from `stream` until `done` says so; every frame's data goes to `seen`.
pub(crate) async fn read_until(
    stream: &mut reqwest::Response,
    mut done: impl FnMut(&str, &serde_json::Value) -> bool,
    seen: &mut Vec<serde_json::Value>,
) {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("events in time").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            let name = frame.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_owned();
            seen.push(event.clone());
            if done(&name, &event) {
                return;
            }
        }
    }
}

#[tokio::test]
async fn the_live_stream_tells_each_user_only_of_what_their_roles_let_them_see() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = Actor::system("test");
    let name = |s: &str| ResourceName::parse("name", s).unwrap();
    let ws = app.store.create_workspace(&tenant, &actor, &name("live"), "env=staging").await.unwrap();
    let mine = app
        .store
        .create_project(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("mine"), "")
        .await
        .unwrap();
    let theirs = app
        .store
        .create_project(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("theirs"), "")
        .await
        .unwrap();
    let grant = flotilla_domain::Grant::new(flotilla_domain::Role::ProjectViewer, mine.id.clone());
    let password = secrecy::SecretString::from("viewer-password-long");
    app.store.create_local_user(&actor, &tenant, "vic", &password, &grant).await.unwrap();
    let viewer = app.client();
    app.login(&viewer, "vic", "viewer-password-long").await;
    let mut admin_stream = admin.get(app.url("/api/events")).send().await.unwrap();
    let mut viewer_stream = viewer.get(app.url("/api/events")).send().await.unwrap();

    let cm = |n: &str| {
        ResourceSpec::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {"a": "1"}}))
    };
    // First theirs, synced everywhere (the admin sees it) …
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&theirs.id, "theirs")) };
    let hidden = app
        .store
        .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &cm("secret-plans"))
        .await
        .unwrap();
    let mut synced = 0;
    read_until(
        &mut admin_stream,
        |name, e| {
            synced += usize::from(name == "status" && e["resource_id"] == hidden.as_str() && e["code"] == "Synced");
            synced == 4
        },
        &mut Vec::new(),
    )
    .await;
    // … then one of the viewer's project. Events arrive in order: by the time the viewer has
    // heard of theirs four times, they would have heard of the other one first.
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&mine.id, "mine")) };
    let shown = app
        .store
        .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &cm("settings"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut synced = 0;
    read_until(
        &mut viewer_stream,
        |name, e| {
            synced += usize::from(name == "status" && e["resource_id"] == shown.as_str() && e["code"] == "Synced");
            synced == 4
        },
        &mut seen,
    )
    .await;
    assert!(
        seen.iter().all(|e| e["resource_id"] != hidden.as_str() && e["id"] != hidden.as_str()),
        "nothing of a project the viewer has no role on: {seen:?}"
    );
}

#[tokio::test]
async fn a_disabled_readers_stream_ends_at_once_while_others_go_on() {
    let app = spawn_app().await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = Actor::system("test");
    let ws =
        app.store.create_workspace(&tenant, &actor, &ResourceName::parse("name", "live").unwrap(), "").await.unwrap();
    let grant = flotilla_domain::Grant::new(flotilla_domain::Role::WorkspaceViewer, ws.id.clone());
    let password = secrecy::SecretString::from("viewer-password-long");
    let vic = app.store.create_local_user(&actor, &tenant, "vic", &password, &grant).await.unwrap();
    let viewer = app.client();
    app.login(&viewer, "vic", "viewer-password-long").await;
    let mut admin_stream = admin.get(app.url("/api/events")).send().await.unwrap();
    let mut viewer_stream = viewer.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(viewer_stream.status(), 200);

    app.store.set_user_disabled(&actor, &tenant, &vic.id, true).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while viewer_stream.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the disabled reader's stream ended");
    assert_eq!(viewer.get(app.url("/api/events")).send().await.unwrap().status(), 401);

    // The admin's stream is still open and hears the next change.
    app.store.set_workspace_selector(&tenant, &actor, &ws.id, "env=prod", ws.version).await.unwrap();
    read_until(&mut admin_stream, |_, e| e["kind"] == "changed" && e["id"] == ws.id.as_str(), &mut Vec::new()).await;
}

/// #16 point 9: logging out ends an open stream within seconds (the session is checked while
/// the stream is open), and a reader hears of workspaces and projects only when they may see
/// them.
#[tokio::test]
async fn logging_out_ends_the_stream_and_changes_reach_only_who_may_see_them() {
    let app = spawn_app().await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = Actor::system("test");
    let name = |s: &str| ResourceName::parse("name", s).unwrap();
    let ws = app.store.create_workspace(&tenant, &actor, &name("open"), "").await.unwrap();
    let other = app.store.create_workspace(&tenant, &actor, &name("closed"), "").await.unwrap();
    let grant = flotilla_domain::Grant::new(flotilla_domain::Role::WorkspaceViewer, ws.id.clone());
    let password = secrecy::SecretString::from("viewer-password-long");
    app.store.create_local_user(&actor, &tenant, "vic", &password, &grant).await.unwrap();
    let viewer = app.client();
    app.login(&viewer, "vic", "viewer-password-long").await;
    let mut stream = viewer.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);

    // A change of the workspace they cannot see, then one of theirs: only theirs arrives.
    app.store.set_workspace_selector(&tenant, &actor, &other.id, "env=prod", other.version).await.unwrap();
    app.store.set_workspace_selector(&tenant, &actor, &ws.id, "env=prod", ws.version).await.unwrap();
    let mut seen = Vec::new();
    read_until(&mut stream, |_, e| e["kind"] == "changed" && e["id"] == ws.id.as_str(), &mut seen).await;
    assert!(seen.iter().all(|e| e["id"] != other.id.as_str()), "nothing of the other workspace: {seen:?}");

    // Logging out (elsewhere: the same session from another request) ends the open stream.
    app.call(&viewer, "/api/auth/logout", &[]).await;
    let ended =
        tokio::time::timeout(Duration::from_secs(10), async { while stream.chunk().await.unwrap().is_some() {} }).await;
    assert!(ended.is_ok(), "the stream ended after logout");
}
