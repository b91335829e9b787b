//! Dashboard benchmark: the server with N simulated clusters (default 1,000) in one project.
//!
//! (1) Server time to render a project page (`GET /projects/{id}`: the HTML with its data,
//!     the status matrix of every resource × cluster), p50 and p95, against a floor measured
//!     in the same run: the login page (the same shell, no data).
//! (2) Delay from a change made in a member (a managed ConfigMap edited behind Flotilla's
//!     back, as with `kubectl edit`) to the status event reaching a browser's live stream
//!     (`/api/events`): the watch sees the drift, the engine writes the object back, the
//!     member accepts, the event goes out. p50 and p95.
//!
//! `cargo bench -p server --bench dashboard -- [clusters] [configmaps]` (default 1000 5).
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use flotilla_domain::{ResourceName, StatusCode};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec};
use secrecy::SecretString;
use serde_json::json;
use server::config::{Args, Settings};
use server::startup::Application;

const PASSWORD: &str = "bench-admin-password";

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clusters = args.first().copied().unwrap_or(1000);
    let configmaps = args.get(1).copied().unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(bench(clusters, configmaps));
}

async fn bench(n: usize, configmaps: usize) {
    eprintln!("starting {n} simulated clusters and the server…");
    let specs = (0..n).map(|i| ClusterSpec::new(format!("c{i:04}"))).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().expect("addr"), specs, SimSettings::default()).await.expect("sim");
    let data = tempfile::tempdir().expect("tempdir");
    let settings = Settings::resolve(Args {
        listen: Some("127.0.0.1:0".parse().expect("addr")),
        data_dir: Some(data.path().to_path_buf()),
        admin_password: Some(SecretString::from(PASSWORD.to_owned())),
        site_root: Some(data.path().join("site")),
        log: Some("warn".into()),
        ..Args::default()
    })
    .expect("settings");
    let app = Application::build(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());

    let tenant = store.tenant_by_slug("default").await.expect("tenant").expect("default tenant").id;
    for c in sim.fleet().all() {
        let cluster = NewCluster {
            name: ResourceName::parse("name", c.name()).expect("name"),
            api_server_url: sim.server_url(c.name()),
            ca_pem: sim.ca_pem().map(str::to_owned),
            token: c.token.clone().into(),
            labels: [("env".to_owned(), "bench".to_owned())].into(),
        };
        store.register_cluster(&tenant, "bench", &cluster, false).await.expect("register");
    }
    let actor = Actor::system("bench");
    let name = |s: &str| ResourceName::parse("name", s).expect("name");
    let ws = store.create_workspace(&tenant, &actor, &name("bench"), "env=bench").await.expect("workspace");
    let project = store
        .create_project(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, &ws.id, &name("shop"), "")
        .await
        .expect("project");
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let mut ids = Vec::new();
    for i in 0..configmaps {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}")}, "data": {"v": "1"}});
        ids.push(
            store
                .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &ResourceSpec::new(cm))
                .await
                .expect("resource"),
        );
    }
    let started = Instant::now();
    let everything = n * (configmaps + 1);
    loop {
        let mut synced = 0;
        for r in store.list_resources(&tenant, &ws.id, Some(&project.id)).await.expect("resources") {
            let statuses = store.resource_statuses(&tenant, &r.id).await.expect("statuses");
            synced += statuses.iter().filter(|s| s.code == StatusCode::Synced).count();
        }
        if synced == everything {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "only {synced} of {everything} synced");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("{everything} objects synced in {:.1} s", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await; // watches settle

    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let login = client
        .post(format!("{base}/api/auth/login"))
        .header("Accept", "application/json")
        .form(&[("tenant", "default"), ("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert!(login.status().is_success(), "login: {}", login.status());

    // ── (1) page render ───────────────────────────────────────────────────────────────
    let page = format!("{base}/projects/{}", project.id);
    let first = client.get(&page).send().await.expect("page").text().await.expect("body");
    assert!(first.contains("c0000"), "the page shows the clusters");
    let rounds = 30;
    let mut page_ms = Vec::new();
    let mut floor_ms = Vec::new();
    let mut data_ms = Vec::new();
    let mut size = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let body = client.get(format!("{base}/login")).send().await.expect("login page").text().await.expect("body");
        floor_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(body.contains("Log in"));
        let t = Instant::now();
        let body = client.get(&page).send().await.expect("page").text().await.expect("body");
        page_ms.push(t.elapsed().as_secs_f64() * 1e3);
        size = body.len();
        let t = Instant::now();
        let data = client
            .post(format!("{base}/api/projects/view"))
            .header("Accept", "application/json")
            .form(&[("id", project.id.as_str())])
            .send()
            .await
            .expect("view")
            .bytes()
            .await
            .expect("body");
        data_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(data.len() > 1000);
    }

    // ── (2) member change → browser ───────────────────────────────────────────────────
    let mut events = client.get(format!("{base}/api/events")).send().await.expect("events");
    let member = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(sim.ca_pem().expect("tls").as_bytes()).expect("ca"))
        .build()
        .expect("member client");
    let clusters_by_name: std::collections::HashMap<String, String> =
        store.list_clusters(&tenant).await.expect("clusters").into_iter().map(|c| (c.name, c.id)).collect();
    let mut delays = Vec::new();
    let mut text = String::new();
    for i in 0..40usize {
        let cluster = format!("c{:04}", (i * 97) % n);
        let token = sim.fleet().get(&cluster).expect("cluster").token.clone();
        let cluster_id = &clusters_by_name[&cluster];
        let url = format!("{}/api/v1/namespaces/shop/configmaps/cm-0", sim.server_url(&cluster));
        let t = Instant::now();
        let edited = member
            .patch(&url)
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .body(format!(r#"{{"data":{{"v":"drift-{i}"}}}}"#))
            .send()
            .await
            .expect("edit in the member");
        assert!(edited.status().is_success(), "{}", edited.status());
        // The status event of the write-back, for that cluster.
        'wait: loop {
            let chunk = tokio::time::timeout(Duration::from_secs(30), events.chunk())
                .await
                .expect("an event in time")
                .expect("stream")
                .expect("open");
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let frame: String = text.drain(..end + 2).collect();
                if frame.starts_with("event: status") && frame.contains(&ids[0]) && frame.contains(cluster_id.as_str())
                {
                    delays.push(t.elapsed().as_secs_f64() * 1e3);
                    break 'wait;
                }
            }
        }
        text.clear();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let q = |v: &mut Vec<f64>, p: usize| {
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) * p / 100]
    };
    let (p50, p95) = (q(&mut page_ms, 50), q(&mut page_ms, 95));
    let floor = q(&mut floor_ms, 50);
    let data = q(&mut data_ms, 50);
    println!("clusters: {n}, resources in the project: {} (namespace + {configmaps} ConfigMaps)", configmaps + 1);
    println!(
        "(1) project page render ({} statuses, {} KiB of HTML): p50 {p50:.1} ms, p95 {p95:.1} ms (target p50 <= 50 ms); \
         floor (login page) p50 {floor:.1} ms; ratio {:.1}; of which the data (projects/view) p50 {data:.1} ms",
        everything,
        size / 1024,
        p50 / floor
    );
    let (d50, d95) = (q(&mut delays, 50), q(&mut delays, 95));
    println!(
        "(2) member change -> browser event (drift seen by the watch, written back, event on /api/events): \
         p50 {d50:.1} ms, p95 {d95:.1} ms over {} changes (target p95 <= 250 ms)",
        delays.len()
    );
}
