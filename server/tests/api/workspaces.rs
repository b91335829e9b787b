use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn workspaces_need_a_login() {
    let app = spawn_app().await;
    let client = app.client();
    assert_eq!(app.call(&client, "/api/workspaces/list", &[]).await.status(), 401);
    let created = app.call(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "")]).await;
    assert_eq!(created.status(), 401);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert!(app.store.list_workspaces(&tenant.id).await.unwrap().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_workspace_is_created_with_its_selector_and_counts_the_clusters_it_matches() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;

    let created = app
        .call(&client, "/api/workspaces/create", &[("name", "prod-eu"), ("selector", "region in (eu), env=prod")])
        .await;
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["selector"], "env=prod,region=eu", "stored in canonical form");
    assert_eq!(created["version"], 1);
    let everything: Value =
        app.call(&client, "/api/workspaces/create", &[("name", "all"), ("selector", "")]).await.json().await.unwrap();

    let listed: Vec<Value> = app.call(&client, "/api/workspaces/list", &[]).await.json().await.unwrap();
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
    app.call(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "")]).await;
    let cases = [
        ("Not A Name", "", "name"),
        ("", "", "name"),
        ("ok-name", "env in (prod", "selector"),
        ("ok-name", "=prod", "selector"),
        ("edge", "env=prod", "name"), // taken
    ];
    for (name, selector, field) in cases {
        let answer = app.call(&client, "/api/workspaces/create", &[("name", name), ("selector", selector)]).await;
        assert_eq!(answer.status(), 422, "{name:?} {selector:?}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["Invalid"]["field"], field, "{name:?} {selector:?}: {error}");
        assert!(!error["Invalid"]["message"].as_str().unwrap().is_empty());
    }
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert_eq!(app.store.list_workspaces(&tenant.id).await.unwrap().len(), 1, "only the first was written");
}

#[tokio::test]
async fn selectors_are_edited_at_their_version_and_bad_ones_name_the_field() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws: Value = app
        .call(&client, "/api/workspaces/create", &[("name", "prod"), ("selector", "env=prod")])
        .await
        .json()
        .await
        .unwrap();
    let ws_id = ws["id"].as_str().unwrap();
    let project: Value = app
        .call(&client, "/api/projects/create", &[("workspace_id", ws_id), ("name", "shop"), ("selector", "")])
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap();
    assert_eq!(project["clusters"], 8);

    for (endpoint, id) in [("/api/workspaces/set-selector", ws_id), ("/api/projects/set-selector", project_id)] {
        let bad = app.call(&client, endpoint, &[("id", id), ("version", "1"), ("selector", "region in (")]).await;
        assert_eq!(bad.status(), 422, "{endpoint}");
        assert_eq!(bad.json::<Value>().await.unwrap()["Invalid"]["field"], "selector");
        let stale = app.call(&client, endpoint, &[("id", id), ("version", "7"), ("selector", "")]).await;
        assert_eq!(stale.status(), 409, "{endpoint}");
        assert!(stale.text().await.unwrap().contains("changed by admin since you opened it"));
        let missing = app.call(&client, endpoint, &[("id", "nope"), ("version", "1"), ("selector", "")]).await;
        assert_eq!(missing.status(), 404, "{endpoint}");
    }

    // The project narrows to eu: 4 clusters; the workspace widens to staging too.
    let narrowed: Value = app
        .call(&client, "/api/projects/set-selector", &[("id", project_id), ("version", "1"), ("selector", "region=eu")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((narrowed["selector"].as_str(), narrowed["clusters"].as_u64()), (Some("region=eu"), Some(4)));
    let widened: Value = app
        .call(
            &client,
            "/api/workspaces/set-selector",
            &[("id", ws_id), ("version", "1"), ("selector", "env in (prod,staging)")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((widened["clusters"].as_u64(), widened["version"].as_i64()), (Some(12), Some(2)));
    let view: Value = app.call(&client, "/api/projects/view", &[("id", project_id)]).await.json().await.unwrap();
    assert_eq!(view["clusters"].as_array().unwrap().len(), 6, "eu in prod and staging");
    assert_eq!(view["version"], 2);
}

#[tokio::test]
async fn projects_refuse_bad_input_by_field_and_unknown_workspaces_are_not_found() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    assert_eq!(
        app.call(&client, "/api/projects/create", &[("workspace_id", "x"), ("name", "a"), ("selector", "")])
            .await
            .status(),
        401
    );
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws: Value = app
        .call(&client, "/api/workspaces/create", &[("name", "prod"), ("selector", "env=prod")])
        .await
        .json()
        .await
        .unwrap();
    let ws_id = ws["id"].as_str().unwrap();
    let create = |name: &'static str, selector: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            app.call(client, "/api/projects/create", &[("workspace_id", ws_id), ("name", name), ("selector", selector)])
                .await
        }
    };
    assert!(create("shop", "").await.status().is_success());
    for (name, selector, field) in [("Shop", "", "name"), ("cart", "region in (", "selector"), ("shop", "", "name")] {
        let answer = create(name, selector).await;
        assert_eq!(answer.status(), 422, "{name} {selector}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["Invalid"]["field"], field, "{name} {selector}: {error}");
    }
    let unknown = app
        .call(&client, "/api/projects/create", &[("workspace_id", "nope"), ("name", "cart"), ("selector", "")])
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(app.call(&client, "/api/workspaces/detail", &[("id", "nope")]).await.status(), 404);
    let detail: Value = app.call(&client, "/api/workspaces/detail", &[("id", ws_id)]).await.json().await.unwrap();
    assert_eq!(detail["projects"].as_array().unwrap().len(), 1, "nothing half-written");
}
