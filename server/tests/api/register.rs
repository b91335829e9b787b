use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use serde_json::Value;

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, spawn_app};

fn field(error: &Value) -> &str {
    error["Invalid"]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_cluster_is_registered_from_a_kubeconfig_after_a_test_connection() {
    let app = spawn_app().await;
    let client = app.client();
    assert_eq!(app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", "x")]).await.status(), 401);
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim =
        Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("edge-1")], SimSettings::default())
            .await
            .unwrap();
    let kubeconfig = sim.kubeconfig("edge-1").unwrap();

    let contexts: Value =
        app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", &kubeconfig)]).await.json().await.unwrap();
    assert_eq!(contexts[0]["name"], "edge-1");
    assert_eq!(contexts[0]["server"], sim.server_url("edge-1"));
    assert!(contexts[0]["problem"].is_null());
    assert!(!contexts.to_string().contains(&sim.fleet().get("edge-1").unwrap().token), "no token goes back");

    let version =
        app.call(&client, "/api/fleet/test-connection", &[("kubeconfig", &kubeconfig), ("context", "edge-1")]).await;
    assert_eq!(version.status(), 200);
    assert!(version.json::<String>().await.unwrap().starts_with('v'));

    // Refusals name their field; nothing is registered.
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("not a kubeconfig: [", "edge-1", "edge-1", "", "context"),
        (&kubeconfig, "nope", "edge-1", "", "context"),
        (&kubeconfig, "edge-1", "Edge 1", "", "name"),
        (&kubeconfig, "edge-1", "edge-1", "env", "labels"),
        (&kubeconfig, "edge-1", "edge-1", "env=prod,env=dev", "labels"),
    ];
    for (text, context, name, labels, want) in cases {
        let answer = app
            .call(
                &client,
                "/api/fleet/register",
                &[("kubeconfig", text), ("context", context), ("name", name), ("labels", labels)],
            )
            .await;
        assert_eq!(answer.status(), 422, "{want}");
        assert_eq!(field(&answer.json().await.unwrap()), want);
    }
    let bad = app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", "")]).await;
    assert_eq!(field(&bad.json().await.unwrap()), "kubeconfig");
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    assert!(app.store.list_clusters(&tenant).await.unwrap().is_empty());

    let registered: Value = app
        .call(
            &client,
            "/api/fleet/register",
            &[
                ("kubeconfig", &kubeconfig),
                ("context", "edge-1"),
                ("name", "edge-1"),
                ("labels", "env=prod, region=eu"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(registered["name"], "edge-1");
    assert_eq!(registered["labels"], serde_json::json!({"env": "prod", "region": "eu"}));
    assert!(!registered.to_string().contains("token"));

    // The engine takes it up: Ready with the server's version.
    eventually("the new cluster Ready with its version", WAIT, || async {
        let clusters = app.store.list_clusters(&tenant).await.unwrap();
        clusters.len() == 1 && clusters[0].health == "Ready" && clusters[0].server_version.is_some()
    })
    .await;
    let again = app
        .call(
            &client,
            "/api/fleet/register",
            &[("kubeconfig", &kubeconfig), ("context", "edge-1"), ("name", "edge-1"), ("labels", "")],
        )
        .await;
    assert_eq!(field(&again.json().await.unwrap()), "name", "the name is taken");
}
