//! #16 point 6: one outbound policy for cluster endpoints and OpenID Providers. The hub never
//! calls link-local or cloud metadata addresses, calls its own machine only where the operator
//! allows it, speaks plain http only to loopback, checks names after resolving them, and
//! parses URLs as URLs.

use flotilla_outbound::Loopback;
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_store::NewCluster;
use flotilla_testkit::eventually;
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, refused, spawn_app_with};

async fn simulator() -> Simulator {
    Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("edge-1")], SimSettings::default())
        .await
        .unwrap()
}

/// Registers the kubeconfig's only context; the answer as it came.
async fn register(app: &TestApp, client: &reqwest::Client, kubeconfig: &str, name: &str) -> reqwest::Response {
    let form = [("kubeconfig", kubeconfig), ("context", "edge-1"), ("name", name), ("labels", "")];
    app.call(client, "/api/fleet/register", &form).await
}

fn message(error: &Value) -> String {
    error["Invalid"]["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_hub_that_does_not_allow_its_own_machine_never_calls_it_by_address_or_by_name() {
    let app = spawn_app_with(|a| a.outbound_loopback = Some(Loopback::Deny)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim = simulator().await;
    let by_address = sim.kubeconfig("edge-1").unwrap();

    // Named by address: known before anything is sent, and said when the context is listed.
    let contexts: Value =
        ok(app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", &by_address)]).await).await;
    assert!(contexts[0]["problem"].as_str().unwrap().contains("loopback"), "{contexts}");
    let answer = refused(register(&app, &client, &by_address, "edge-1").await, 422).await;
    assert!(message(&answer).contains("Flotilla does not connect there"), "{answer}");

    // Named by a name that resolves to it: refused once resolved, and nothing was connected to.
    let by_name = by_address.replace("127.0.0.1", "localhost");
    let form = [("kubeconfig", by_name.as_str()), ("context", "edge-1")];
    let answer = refused(app.call(&client, "/api/fleet/test-connection", &form).await, 422).await;
    assert!(message(&answer).contains("localhost resolves to 127.0.0.1, a loopback address"), "{answer}");
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    assert!(app.store.list_clusters(&tenant).await.unwrap().is_empty(), "nothing registered");

    // The engine applies the same policy to whatever the store holds (a cluster saved before
    // the policy, or by another way in): it stays offline, saying why.
    let access = flotilla_engine::kubeconfig::access(&by_name, "edge-1").unwrap();
    let token = access.token().unwrap().clone();
    let cluster = NewCluster {
        name: flotilla_domain::ResourceName::parse("name", "edge-1").unwrap(),
        api_server_url: access.server,
        ca_pem: access.ca_pem,
        token,
        labels: Default::default(),
    };
    app.store.register_cluster(&tenant, "admin", &cluster, false).await.unwrap();
    eventually("the engine refuses the stored cluster's address", WAIT, || async {
        let clusters = app.store.list_clusters(&tenant).await.unwrap();
        clusters[0].health == "Offline" && clusters[0].health_reason.contains("loopback address")
    })
    .await;
    assert_eq!(sim.cluster("edge-1").unwrap().counts().requests, 0, "the simulator was never called");
}

#[tokio::test]
async fn metadata_link_local_plain_http_and_urls_that_are_not_urls_are_refused_when_registering() {
    // Clusters over https on this machine (the simulator) allowed, plain http not at all.
    let app = spawn_app_with(|a| {
        a.outbound_loopback = Some(Loopback::Https);
        a.outbound_deny = Some("192.0.2.0/24".into());
    })
    .await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim = simulator().await;
    let kubeconfig = sim.kubeconfig("edge-1").unwrap();
    let server = sim.server_url("edge-1");
    for (url, why) in [
        ("https://169.254.169.254/latest", "cloud metadata service"),
        ("https://[fd00:ec2::254]", "cloud metadata service"),
        ("https://[::ffff:169.254.169.254]", "cloud metadata service"),
        ("https://169.254.10.10:6443", "link-local"),
        ("https://[fe80::1]:6443", "link-local"),
        ("https://0.0.0.0:6443", "unspecified"),
        ("http://10.0.0.1:6443", "plain http"),
        ("http://k8s.example:6443", "plain http"),
        ("https://192.0.2.10:6443", "a network this hub refuses"),
        // Joined as text, a query would have swallowed every request's path.
        (&format!("{server}?x="), "query"),
        (&format!("{server}#x"), "fragment"),
        ("https://user:pw@k8s.example", "password"),
    ] {
        let text = kubeconfig.replace(&server, url);
        let answer = refused(register(&app, &client, &text, "edge-1").await, 422).await;
        assert!(message(&answer).contains(why), "{url}: {answer}");
    }
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    assert!(app.store.list_clusters(&tenant).await.unwrap().is_empty(), "nothing registered");

    // A trailing slash is normalised away; the cluster works.
    let text = kubeconfig.replace(&server, &format!("{server}/"));
    let registered = ok(register(&app, &client, &text, "edge-1").await).await;
    assert_eq!(registered["api_server_url"], server.as_str());
}

#[tokio::test]
async fn a_provider_is_saved_only_where_the_hub_may_call_it() {
    // Clusters over https on this machine (the simulator) allowed, plain http not at all.
    let app = spawn_app_with(|a| {
        a.outbound_loopback = Some(Loopback::Https);
        a.outbound_deny = Some("192.0.2.0/24".into());
    })
    .await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    let form = |issuer: &'static str| {
        vec![
            ("id", id),
            ("version", "1"),
            ("provider[issuer_url]", issuer),
            ("provider[client_id]", "flotilla"),
            ("provider[client_secret]", "secret"),
            ("provider[scopes]", "openid"),
            ("provider[groups_claim]", "groups"),
        ]
    };
    for (issuer, why) in [
        ("http://idp.example", "plain http"),
        ("https://169.254.169.254/", "cloud metadata service"),
        ("https://[fe80::1]/realms/acme", "link-local"),
        ("https://192.0.2.1", "a network this hub refuses"),
        ("https://idp.example/?x=1", "query"),
        ("gopher://idp.example", "https://"),
    ] {
        let answer = refused(app.call(&admin, "/api/tenants/set-oidc", &form(issuer)).await, 422).await;
        assert_eq!(answer["Invalid"]["field"], "issuer_url");
        assert!(message(&answer).contains(why), "{issuer}: {answer}");
        // "Test configuration" asks the same policy before sending anything.
        let answer = refused(app.call(&admin, "/api/tenants/test-oidc", &form(issuer)).await, 422).await;
        assert!(message(&answer).contains(why), "{issuer}: {answer}");
    }
    assert!(app.store.tenant_oidc(id).await.unwrap().is_none(), "nothing saved");
    ok(app.call(&admin, "/api/tenants/set-oidc", &form("https://idp.acme.example/realms/acme/")).await).await;
    let saved = app.store.tenant_oidc(id).await.unwrap().unwrap();
    assert_eq!(saved.issuer_url, "https://idp.acme.example/realms/acme");
}
