//! `/metrics`: Prometheus's text format on its own listener, moving with the work.

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, spawn_app_with};

/// The value of the sample named exactly `series` (name with labels), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "a complete exposition");
    text
}

#[tokio::test]
async fn metrics_move_with_requests_writes_and_clusters() {
    let app = spawn_app_with(|a| a.demo = Some(true)).await;
    let before = scrape(&app.metrics_url).await;

    // Requests by route and status, and the demo fleet's clusters and writes.
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    assert_eq!(client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(client.get(app.url("/no/such/page")).send().await.unwrap().status(), 404);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let actor = flotilla_store::Actor::system("test");
    let name = flotilla_domain::ResourceName::parse("name", "everywhere").unwrap();
    let ws = app.store.create_workspace(&tenant, &actor, &name, "").await.unwrap();
    let template = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}});
    let home = flotilla_store::ResourceHome { workspace_id: &ws.id, project: None };
    app.store
        .create_resource(
            &tenant,
            &actor,
            flotilla_domain::Clearance::TenantAdmin,
            home,
            &flotilla_store::ResourceSpec::new(template),
        )
        .await
        .unwrap();

    let clusters = app.store.list_clusters(&tenant).await.unwrap().len() as f64;
    let after = eventually("the demo fleet Ready and written to, in the metrics", WAIT, || async {
        let after = scrape(&app.metrics_url).await;
        let created = sample(&after, r#"flotilla_member_writes_total{verb="create",result="ok"}"#);
        let ready = sample(&after, r#"flotilla_clusters{health="Ready"}"#);
        // Statuses reach the store a moment after the members have them.
        let stored = sample(&after, "flotilla_status_persist_lag_seconds_count");
        (created >= clusters && ready == clusters && stored > 0.0).then_some(after)
    })
    .await;
    assert!(clusters >= 12.0, "the demo fleet");
    assert_eq!(sample(&after, r#"flotilla_clusters{health="Ready"}"#), clusters, "{after}");
    assert!(sample(&after, r#"flotilla_member_writes_total{verb="create",result="ok"}"#) >= clusters, "{after}");
    assert!(sample(&after, "flotilla_reconcile_duration_seconds_count") > 0.0, "{after}");
    assert!(sample(&after, "flotilla_status_persist_lag_seconds_count") > 0.0, "{after}");
    let ok = r#"flotilla_http_requests_total{method="GET",route="/healthz",status="200"}"#;
    assert_eq!(sample(&after, ok) - sample(&before, ok), 1.0, "{after}");
    let missing = r#"flotilla_http_requests_total{method="GET",route="fallback",status="404"}"#;
    assert!(sample(&after, missing) >= 1.0, "{after}");
    // Nothing names a tenant or a cluster.
    assert!(!after.contains(&tenant) && !after.contains("prod-eu"), "{after}");

    // Only the metrics listener serves them.
    assert_eq!(client.get(app.url("/metrics")).send().await.unwrap().status(), 404);
}
