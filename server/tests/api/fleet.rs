use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, spawn_app, spawn_app_with};

#[tokio::test]
async fn listing_clusters_needs_a_login() {
    let app = spawn_app().await;
    let response = app.call(&app.client(), "/api/fleet/clusters", &[]).await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("Unauthenticated"));
}

#[tokio::test]
async fn a_new_install_has_an_empty_fleet() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let rows: Vec<serde_json::Value> = app.call(&client, "/api/fleet/clusters", &[]).await.json().await.unwrap();
    assert!(rows.is_empty());
}

#[tokio::test]
async fn the_demo_fleet_is_registered_and_reachable() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let rows: Vec<serde_json::Value> = app.call(&client, "/api/fleet/clusters", &[]).await.json().await.unwrap();
    assert_eq!(rows.len(), 12);
    let prod = rows.iter().filter(|r| r["labels"]["env"] == "prod").count();
    let eu = rows.iter().filter(|r| r["labels"]["region"] == "eu").count();
    assert_eq!((prod, eu), (8, 6));
    let body = serde_json::to_string(&rows).unwrap();
    assert!(!body.contains("token"), "no credentials reach the browser");

    // The registered endpoint and credentials reach a real simulated API server.
    let first = &rows[0];
    let name = first["name"].as_str().unwrap();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let listed = app.store.list_clusters(&tenant.id).await.unwrap();
    let id = &listed.iter().find(|c| c.name == name).unwrap().id;
    let token = app.store.cluster_token(&tenant.id, id).await.unwrap();
    let demo = app.demo_ca.as_ref().expect("demo fleet serves TLS");
    let tls_client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(demo.as_bytes()).unwrap())
        .build()
        .unwrap();
    let version: serde_json::Value = tls_client
        .get(format!("{}/version", first["api_server_url"].as_str().unwrap()))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["major"], "1");

    // Kubeconfigs for kubectl are written into the data dir.
    assert!(app.data_dir.path().join("demo-kubeconfigs/fleet.kubeconfig").exists());
}

#[tokio::test]
async fn the_engine_probes_the_demo_fleet_and_records_health() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    eventually("every demo cluster Ready with its version", WAIT, || async {
        let clusters = app.store.list_clusters(&tenant.id).await.unwrap();
        clusters.iter().all(|c| c.health == "Ready" && c.server_version.is_some())
    })
    .await;
}

#[tokio::test]
async fn the_types_page_lists_what_the_demo_fleet_serves() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    // Each cluster's discovery is read when it becomes Ready.
    eventually("every demo cluster's types read", WAIT, || async {
        let view: serde_json::Value = app.call(&client, "/api/fleet/types", &[]).await.json().await.unwrap();
        view["clusters"] == 12 && view["unread"] == serde_json::json!([])
    })
    .await;
    let view: serde_json::Value = app.call(&client, "/api/fleet/types", &[]).await.json().await.unwrap();
    let types = view["types"].as_array().unwrap();
    let row = |api_version: &str, kind: &str| {
        types.iter().find(|t| t["api_version"] == api_version && t["kind"] == kind).cloned().unwrap_or_default()
    };
    let deployments = row("apps/v1", "Deployment");
    assert_eq!(
        (&deployments["plural"], &deployments["namespaced"], &deployments["served_by"], &deployments["lacking"]),
        (&serde_json::json!("deployments"), &serde_json::json!(true), &serde_json::json!(12), &serde_json::json!(0))
    );
    assert_eq!(row("v1", "Namespace")["namespaced"], false);
    assert!(types.iter().all(|t| !t["plural"].as_str().unwrap().contains('/')), "no subresources");
    let page = client.get(app.url("/types")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("deployments"));
}

#[tokio::test]
async fn labels_are_edited_at_a_version_and_clusters_deregistered_after_confirming_their_name() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws: serde_json::Value = app
        .call(&client, "/api/workspaces/create", &[("name", "prod"), ("selector", "env=prod")])
        .await
        .json()
        .await
        .unwrap();
    app.call(
        &client,
        "/api/projects/create",
        &[("workspace_id", ws["id"].as_str().unwrap()), ("name", "eu"), ("selector", "region=eu")],
    )
    .await;

    let rows: Vec<serde_json::Value> = app.call(&client, "/api/fleet/overview", &[]).await.json().await.unwrap();
    let row = |name: &str| rows.iter().find(|r| r["cluster"]["name"] == name).unwrap().clone();
    let eu = row("prod-eu-1");
    assert_eq!((eu["workspaces"].as_u64(), eu["projects"].as_u64()), (Some(1), Some(1)));
    let us = row("prod-us-1");
    assert_eq!((us["workspaces"].as_u64(), us["projects"].as_u64()), (Some(1), Some(0)));
    assert_eq!(row("staging-eu-1")["workspaces"], 0);
    let id = eu["cluster"]["id"].as_str().unwrap();
    let version = eu["cluster"]["version"].as_i64().unwrap().to_string();

    // Bad labels name the field; a stale version names who changed it; nothing is written.
    let bad = app.call(&client, "/api/fleet/set-labels", &[("id", id), ("version", &version), ("labels", "env")]).await;
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.json::<serde_json::Value>().await.unwrap()["Invalid"]["field"], "labels");
    let stale =
        app.call(&client, "/api/fleet/set-labels", &[("id", id), ("version", "0"), ("labels", "env=dev")]).await;
    assert_eq!(stale.status(), 409);
    let missing =
        app.call(&client, "/api/fleet/set-labels", &[("id", "nope"), ("version", "1"), ("labels", "a=b")]).await;
    assert_eq!(missing.status(), 404);
    // Flotilla's identity label comes with a join only.
    let faked = app
        .call(
            &client,
            "/api/fleet/set-labels",
            &[("id", id), ("version", &version), ("labels", "env=prod,flotilla.io/identity=flotilla-hub")],
        )
        .await;
    assert_eq!(faked.status(), 422);
    let body = faked.json::<serde_json::Value>().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "labels");
    assert!(body.to_string().contains("set by a join, not by hand"), "{body}");

    // Relabelled out of the project's region: the counts follow.
    let moved: serde_json::Value = app
        .call(&client, "/api/fleet/set-labels", &[("id", id), ("version", &version), ("labels", "env=prod,region=us")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((moved["workspaces"].as_u64(), moved["projects"].as_u64()), (Some(1), Some(0)));
    let version = moved["cluster"]["version"].as_i64().unwrap().to_string();

    // Deregistering asks for the name; then the cluster is on its way out and takes no edits.
    let unconfirmed = app
        .call(
            &client,
            "/api/fleet/deregister",
            &[("id", id), ("version", &version), ("cleanup", "true"), ("confirm", "prod")],
        )
        .await;
    assert_eq!(unconfirmed.status(), 422);
    assert_eq!(unconfirmed.json::<serde_json::Value>().await.unwrap()["Invalid"]["field"], "confirm");
    let done = app
        .call(
            &client,
            "/api/fleet/deregister",
            &[("id", id), ("version", &version), ("cleanup", "true"), ("confirm", "prod-eu-1")],
        )
        .await;
    assert!(done.status().is_success(), "{}", done.status());
    let gone_or_going: Vec<serde_json::Value> =
        app.call(&client, "/api/fleet/overview", &[]).await.json().await.unwrap();
    if let Some(r) = gone_or_going.iter().find(|r| r["cluster"]["id"] == id) {
        assert_eq!(r["cluster"]["deregistering"], "cleanup");
        assert_eq!(r["workspaces"], 0, "a cluster on its way out takes no placements");
    }
    let detail: serde_json::Value =
        app.call(&client, "/api/workspaces/detail", &[("id", ws["id"].as_str().unwrap())]).await.json().await.unwrap();
    assert_eq!(detail["clusters"].as_array().unwrap().len(), 7);
}

/// #16 point 15: the demo never takes over a cluster that someone registered under a demo
/// cluster's name at another address.
#[tokio::test]
async fn the_demo_leaves_a_cluster_registered_elsewhere_alone() {
    let first = crate::helpers::spawn_app_in(tempfile::tempdir().unwrap(), |_| {}).await;
    let tenant = first.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let mine = flotilla_store::NewCluster {
        name: flotilla_domain::ResourceName::parse("name", "prod-eu-1").unwrap(),
        api_server_url: "https://prod-eu-1.example.com:6443".into(),
        ca_pem: None,
        token: secrecy::SecretString::from("mine"),
        labels: Default::default(),
    };
    first.store.register_cluster(&tenant, "someone", &mine, false).await.unwrap();
    let dir = first.stop().await;

    let app = crate::helpers::spawn_app_in(dir, |args| args.demo = Some(true)).await;
    let clusters = app.store.list_clusters(&tenant).await.unwrap();
    let mine = clusters.iter().find(|c| c.name == "prod-eu-1").unwrap();
    assert_eq!(mine.api_server_url, "https://prod-eu-1.example.com:6443");
    assert_eq!(clusters.len(), 12, "the other eleven demo clusters are registered");
}
