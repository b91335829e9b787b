use crate::helpers::{ADMIN_PASSWORD, spawn_app, spawn_app_with};

async fn clusters(app: &crate::helpers::TestApp, client: &reqwest::Client) -> reqwest::Response {
    client.post(app.url("/api/fleet/clusters")).header("Accept", "application/json").send().await.unwrap()
}

#[tokio::test]
async fn listing_clusters_needs_a_login() {
    let app = spawn_app().await;
    let response = clusters(&app, &app.client()).await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("Unauthenticated"));
}

#[tokio::test]
async fn a_new_install_has_an_empty_fleet() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let rows: Vec<serde_json::Value> = clusters(&app, &client).await.json().await.unwrap();
    assert!(rows.is_empty());
}

#[tokio::test]
async fn the_demo_fleet_is_registered_and_reachable() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let rows: Vec<serde_json::Value> = clusters(&app, &client).await.json().await.unwrap();
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
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let clusters = app.store.list_clusters(&tenant.id).await.unwrap();
        if clusters.iter().all(|c| c.health == "Ready" && c.server_version.is_some()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all demo clusters became Ready: {clusters:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
