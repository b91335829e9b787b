//! The admin API over HTTPS: list and add clusters, inject faults, fetch kubeconfigs.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::{client, code, start};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use serde_json::json;

/// A client of the admin API, with the simulator's admin token.
fn http(sim: &flotilla_simulator::Simulator) -> reqwest::Client {
    with_token(sim, Some(sim.admin_token()))
}

fn with_token(sim: &flotilla_simulator::Simulator, token: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().expect("TLS").as_bytes()).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    }
    reqwest::Client::builder().add_root_certificate(ca).default_headers(headers).build().unwrap()
}

/// #16 point 15: the admin API hands out credentials and takes clusters offline, so it
/// answers only with the admin token; the kubeconfigs written to disk are the owner's only.
#[tokio::test]
async fn the_admin_api_needs_its_token_and_kubeconfigs_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let sim = start().await;
    let base = sim.base_url();
    for client in [with_token(&sim, None), with_token(&sim, Some("not-the-token"))] {
        for (method, path) in [
            (reqwest::Method::GET, "/admin/clusters"),
            (reqwest::Method::POST, "/admin/clusters"),
            (reqwest::Method::GET, "/admin/clusters/a/kubeconfig"),
            (reqwest::Method::PUT, "/admin/clusters/a/faults"),
            (reqwest::Method::DELETE, "/admin/clusters/a"),
        ] {
            let response =
                client.request(method.clone(), format!("{base}{path}")).json(&json!({})).send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path}");
        }
    }
    assert!(sim.fleet().get("a").is_some(), "nothing was removed");
    let dir = tempfile::tempdir().unwrap();
    for path in sim.write_kubeconfigs(dir.path()).unwrap() {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let token = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    assert_eq!(token.trim(), sim.admin_token());
}

#[tokio::test]
async fn faults_are_set_and_lifted_over_http() {
    let sim = start().await;
    let admin = http(&sim);
    let nss = Api::<Namespace>::all(client(&sim, "a").await);

    let url = format!("{}/admin/clusters/a/faults", sim.base_url());
    let set = admin.put(&url).json(&json!({"offline": true})).send().await.unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(set.json::<serde_json::Value>().await.unwrap()["offline"], true);
    assert_eq!(code(nss.list(&ListParams::default()).await.unwrap_err()), 503);

    let bad = admin.put(&url).json(&json!({"error_rate": 2.0})).send().await.unwrap();
    assert_eq!(bad.status(), 422, "an error rate above 1 is refused");
    let typo = admin.put(&url).json(&json!({"ofline": true})).send().await.unwrap();
    assert!(typo.status().is_client_error(), "unknown fault fields are refused");

    admin.put(&url).json(&json!({})).send().await.unwrap();
    nss.list(&ListParams::default()).await.expect("back online");
    let missing =
        admin.put(format!("{}/admin/clusters/zz/faults", sim.base_url())).json(&json!({})).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn clusters_are_listed_added_and_given_kubeconfigs() {
    let sim = start().await;
    let admin = http(&sim);
    let list: Vec<serde_json::Value> =
        admin.get(format!("{}/admin/clusters", sim.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["labels"]["env"], "prod");
    assert_eq!(list[0]["objects"], 4, "the four initial namespaces");

    // A cluster joins while running and is reachable at once.
    let added = admin
        .post(format!("{}/admin/clusters", sim.base_url()))
        .json(&json!({"name": "late", "labels": {"env": "dev"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let kubeconfig = admin.get(format!("{}/admin/clusters/late/kubeconfig", sim.base_url())).send().await.unwrap();
    let text = kubeconfig.text().await.unwrap();
    assert!(text.contains("certificate-authority-data") && text.contains("/clusters/late"));
    let late = client(&sim, "late").await;
    assert_eq!(Api::<Namespace>::all(late).list(&ListParams::default()).await.unwrap().items.len(), 4);

    let again =
        admin.post(format!("{}/admin/clusters", sim.base_url())).json(&json!({"name": "late"})).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let gone = admin.delete(format!("{}/admin/clusters/late", sim.base_url())).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    assert!(sim.cluster("late").is_none());
}

/// Over HTTP/2 (curl's default over TLS) the host comes as `:authority`, not as a Host
/// header: the kubeconfigs handed out still name the simulator's address and port.
#[tokio::test]
async fn kubeconfigs_fetched_over_http2_name_the_simulators_port() {
    const CURL: &str = "/usr/bin/curl";
    if !std::path::Path::new(CURL).exists() {
        assert!(std::env::var_os("CI").is_none(), "curl is missing at {CURL}");
        eprintln!("\n*** SKIPPED: {CURL} not found ***\n");
        return;
    }
    let sim = start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem().unwrap()).unwrap();
    let out = tokio::process::Command::new(CURL)
        .args(["-sS", "--http2", "-w", "\n%{http_version}", "--cacert"])
        .arg(&ca)
        .args(["-H", &format!("Authorization: Bearer {}", sim.admin_token())])
        .arg(format!("{}/admin/clusters/a/kubeconfig?auth=certificate", sim.base_url()))
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (kubeconfig, version) = text.rsplit_once('\n').unwrap();
    assert_eq!(version, "2", "{text}");
    let config: serde_json::Value = serde_json::from_str(kubeconfig).unwrap();
    assert_eq!(config["clusters"][0]["cluster"]["server"], sim.server_url("a"), "{kubeconfig}");
    assert!(config["users"][0]["user"]["client-certificate-data"].is_string(), "{kubeconfig}");
}
