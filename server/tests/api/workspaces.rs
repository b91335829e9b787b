use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn call(app: &TestApp, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(endpoint)).header("Accept", "application/json").form(form).send().await.unwrap()
}

#[tokio::test]
async fn workspaces_need_a_login() {
    let app = spawn_app().await;
    let client = app.client();
    assert_eq!(call(&app, &client, "/api/workspaces/list", &[]).await.status(), 401);
    let created = call(&app, &client, "/api/workspaces/create", &[("name", "edge"), ("selector", "")]).await;
    assert_eq!(created.status(), 401);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert!(app.store.list_workspaces(&tenant.id).await.unwrap().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_workspace_is_created_with_its_selector_and_counts_the_clusters_it_matches() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;

    let created =
        call(&app, &client, "/api/workspaces/create", &[("name", "prod-eu"), ("selector", "region in (eu), env=prod")])
            .await;
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["selector"], "env=prod,region=eu", "stored in canonical form");
    assert_eq!(created["version"], 1);
    let everything: Value =
        call(&app, &client, "/api/workspaces/create", &[("name", "all"), ("selector", "")]).await.json().await.unwrap();

    let listed: Vec<Value> = call(&app, &client, "/api/workspaces/list", &[]).await.json().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["all", "prod-eu"]);
    // The demo fleet: 12 clusters, of which prod in eu are 4.
    assert_eq!((listed[0]["clusters"].as_u64(), listed[1]["clusters"].as_u64()), (Some(12), Some(4)));
    assert_eq!(listed[1]["projects"], 0);
    assert_eq!(everything["clusters"], 12);

    // Written with its audit row, naming the user who made it.
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let audit = app.store.audit_log(&tenant.id, 5).await.unwrap();
    let entry = audit.iter().find(|r| r.action == "workspace.create" && r.target_name == "prod-eu");
    assert_eq!(entry.map(|r| r.actor_name.as_str()), Some("admin"));
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    call(&app, &client, "/api/workspaces/create", &[("name", "edge"), ("selector", "")]).await;
    let cases = [
        ("Not A Name", "", "name"),
        ("", "", "name"),
        ("ok-name", "env in (prod", "selector"),
        ("ok-name", "=prod", "selector"),
        ("edge", "env=prod", "name"), // taken
    ];
    for (name, selector, field) in cases {
        let answer = call(&app, &client, "/api/workspaces/create", &[("name", name), ("selector", selector)]).await;
        assert_eq!(answer.status(), 422, "{name:?} {selector:?}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["Invalid"]["field"], field, "{name:?} {selector:?}: {error}");
        assert!(!error["Invalid"]["message"].as_str().unwrap().is_empty());
    }
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert_eq!(app.store.list_workspaces(&tenant.id).await.unwrap().len(), 1, "only the first was written");
}
