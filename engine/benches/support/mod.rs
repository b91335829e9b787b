//! What the engine's benches share: the simulated fleet in a child process (the same bench
//! binary, started in the simulator's role), the engine settings for it, and readings of CPU
//! time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use flotilla_engine::EngineSettings;
use serde_json::{Value, json};

/// Set in the child's environment: it serves the simulated clusters.
pub const SIM_ROLE: &str = "FLOTILLA_BENCH_SIMULATOR";

/// The engine's defaults, with the simulated fleet (on this machine's loopback) allowed.
pub fn engine_settings() -> EngineSettings {
    let outbound =
        flotilla_outbound::OutboundPolicy { loopback: flotilla_outbound::Loopback::Https, ..Default::default() };
    EngineSettings { outbound: std::sync::Arc::new(outbound), ..EngineSettings::default() }
}

/// Whether this process is the child serving the fleet.
pub fn is_simulator() -> bool {
    std::env::var_os(SIM_ROLE).is_some()
}

/// The child: serves `n` clusters (`c0000`…), prints how to reach them as one JSON line,
/// then answers each line on stdin with the total member writes and requests, until stdin
/// closes.
pub async fn simulator_process(n: usize) {
    use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
    let specs = (0..n).map(|i| ClusterSpec::new(format!("c{i:04}"))).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().expect("addr"), specs, SimSettings::default()).await.expect("sim");
    let clusters: Vec<Value> = sim
        .fleet()
        .all()
        .iter()
        .map(|c| json!({"name": c.name(), "url": sim.server_url(c.name()), "token": c.token}))
        .collect();
    println!("{}", json!({"ca": sim.ca_pem(), "clusters": clusters}));
    let fleet = sim.fleet().clone();
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
            let (mut writes, mut requests) = (0, 0);
            for c in fleet.all() {
                writes += c.counts().writes;
                requests += c.counts().requests;
            }
            println!("{writes} {requests}");
        }
    })
    .await
    .expect("stdin loop");
}

/// This bench's own binary started again in another role (`env`), with `args`, its stdin and
/// stdout piped; with the first line it prints (what it says once it is ready).
pub fn spawn_role(
    env: &[(&str, &str)],
    args: &[String],
    what: &str,
) -> (std::process::Child, BufReader<std::process::ChildStdout>, String) {
    let mut process = Command::new(std::env::current_exe().expect("exe"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut out = BufReader::new(process.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).unwrap_or_else(|e| panic!("{what} says it is ready: {e}"));
    (process, out, line)
}

/// The simulated fleet in a child process.
pub struct SimChild {
    pub process: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
    /// The CA's PEM, if the fleet serves HTTPS.
    pub ca: Option<String>,
    /// Each cluster as `{"name", "url", "token"}`.
    pub members: Vec<Value>,
}

impl SimChild {
    /// Starts `n` clusters in a child process and waits until they are served.
    pub fn spawn(n: usize) -> Self {
        eprintln!("starting {n} simulated clusters in a child process…");
        let (process, out, line) = spawn_role(&[(SIM_ROLE, "1")], &[n.to_string()], "the simulator");
        let info: Value = serde_json::from_str(&line).expect("json");
        let ca = info["ca"].as_str().map(str::to_owned);
        let members = info["clusters"].as_array().expect("clusters").clone();
        Self { process, out, ca, members }
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Member writes and requests so far, over the whole fleet.
    pub fn counts(&mut self) -> (u64, u64) {
        let stdin = self.process.stdin.as_mut().expect("stdin");
        writeln!(stdin, "counts").expect("ask counts");
        let mut line = String::new();
        self.out.read_line(&mut line).expect("counts");
        let mut it = line.split_whitespace().map(|v| v.parse::<u64>().expect("number"));
        (it.next().expect("writes"), it.next().expect("requests"))
    }

    /// Stops the child (its stdin closes, then it is killed).
    pub fn stop(mut self) {
        drop(self.process.stdin.take());
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// User + system CPU ticks a process has used so far (Linux `/proc`; None elsewhere).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3, `state`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// USER_HZ on Linux: CPU ticks per second.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// A bare kube client for member `c` (`{"url", "token"}`), trusting the fleet's CA: what any
/// other client of the cluster would use (the floors).
pub fn member_client(c: &Value, ca: Option<&str>) -> kube::Client {
    let mut config = kube::Config::new(c["url"].as_str().expect("url").parse().expect("uri"));
    config.default_retry = false;
    config.auth_info.token = Some(c["token"].as_str().expect("token").to_owned().into());
    if let Some(pem) = ca {
        config.root_cert = Some(vec![pem_der(pem)]);
    }
    kube::Client::try_from(config).expect("client")
}

/// A PEM certificate's DER bytes.
pub fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("pem")
}

/// Counts the live heap bytes of a bench process: install it with
/// `#[global_allocator] static ALLOC: support::Counting = support::Counting;`.
pub struct Counting;

/// Live heap bytes, when [`Counting`] is the global allocator.
pub static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// A global allocator is an unsafe trait: this one only counts, then forwards each call
// unchanged to the system allocator, so it keeps every promise `System` makes.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Registers the simulated members (`{"name", "url", "token"}`) in `tenant`, labelled
/// env=bench, a few at a time (at 10,000 clusters one after another takes minutes on
/// PostgreSQL).
pub async fn register_members(store: &flotilla_store::Store, tenant: &str, members: &[Value], ca: Option<&str>) {
    use futures::StreamExt as _;
    futures::stream::iter(members)
        .for_each_concurrent(8, |c| async move {
            let cluster = flotilla_store::NewCluster {
                name: flotilla_domain::ResourceName::parse("name", c["name"].as_str().expect("name")).expect("name"),
                api_server_url: c["url"].as_str().expect("url").to_owned(),
                ca_pem: ca.map(str::to_owned),
                token: c["token"].as_str().expect("token").to_owned().into(),
                labels: [("env".to_owned(), "bench".to_owned())].into(),
            };
            store.register_cluster(tenant, "bench", &cluster, false).await.expect("register");
        })
        .await;
}

/// A bench's workload: workspace `bench` over every member, project `load` in it with
/// `objects` ConfigMaps; `target` (cm-00) is the one the fan-outs change.
pub struct Workload {
    pub tenant: String,
    pub workspace: String,
    pub project: String,
    pub target: String,
    /// Every resource of the project (the ConfigMaps and the project's namespace).
    pub all: Vec<String>,
}

impl Workload {
    /// Objects each cluster holds: the project's namespace and the ConfigMaps.
    pub fn per_cluster(&self) -> usize {
        self.all.len()
    }
}

/// ConfigMap `cm-<i>` with `value` (and 400 bytes of padding, as a small real config).
pub fn configmap(i: usize, value: &str) -> flotilla_store::ResourceSpec {
    flotilla_store::ResourceSpec::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{i:02}")}, "data": {"value": value, "padding": "x".repeat(400)}}))
}

/// Creates the [`Workload`] (the store bootstrapped, the members registered).
pub async fn seed_workload(
    store: &flotilla_store::Store,
    members: &[Value],
    ca: Option<&str>,
    objects: usize,
) -> Workload {
    use flotilla_domain::{Clearance, ResourceName};
    let tenant = store.bootstrap(None).await.expect("bootstrap").tenant_id;
    register_members(store, &tenant, members, ca).await;
    let actor = flotilla_store::Actor::system("bench");
    let rn = |s: &str| ResourceName::parse("name", s).expect("name");
    let ws = store.create_workspace(&tenant, &actor, &rn("bench"), "env=bench").await.expect("ws");
    let project =
        store.create_project(&tenant, &actor, Clearance::TenantAdmin, &ws.id, &rn("load"), "").await.expect("project");
    let home = flotilla_store::ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "load")) };
    for i in 1..objects {
        store
            .create_resource(&tenant, &actor, Clearance::TenantAdmin, home, &configmap(i, "1"))
            .await
            .expect("resource");
    }
    let target = store
        .create_resource(&tenant, &actor, Clearance::TenantAdmin, home, &configmap(0, "1"))
        .await
        .expect("resource");
    let all: Vec<String> = store
        .list_resources(&tenant, &ws.id, Some(&project.id))
        .await
        .expect("resources")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all.len(), objects + 1, "the ConfigMaps and the project's namespace");
    Workload { tenant, workspace: ws.id, project: project.id, target, all }
}

/// Changes the target ConfigMap to `value`; returns its new revision.
pub async fn change_target(store: &flotilla_store::Store, w: &Workload, value: &str) -> i64 {
    let version = store.get_resource(&w.tenant, &w.target).await.expect("get").version;
    store
        .update_resource(
            &w.tenant,
            &flotilla_store::Actor::system("bench"),
            flotilla_domain::Clearance::TenantAdmin,
            &w.target,
            version,
            &configmap(0, value),
        )
        .await
        .expect("update")
}

/// The floors: the same PUTs the engine's fan-out makes, by a bare client, measured two ways
/// (the faster one is the floor): one connection per cluster, as any cluster's own client
/// has, and clusters sharing HTTP/2 connections to the fleet's one origin, as the engine
/// does itself (with two groupings: 1,000 and 250 clusters per connection).
pub struct Floors {
    per_cluster: Vec<kube::Api<k8s_openapi::api::core::v1::ConfigMap>>,
    shared: Vec<(usize, Vec<SharedConnection>)>,
}

/// One HTTP/2 connection and the clusters whose requests it carries.
struct SharedConnection {
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Full<bytes::Bytes>,
    >,
    /// Per cluster: the object's URL and the `Authorization` value.
    targets: Vec<(http::Uri, http::HeaderValue)>,
}

/// One round's floors.
pub struct FloorTimes {
    pub per_cluster: std::time::Duration,
    /// (clusters per connection, time)
    pub shared: Vec<(usize, std::time::Duration)>,
}

impl FloorTimes {
    /// The fastest way.
    pub fn best(&self) -> std::time::Duration {
        self.shared.iter().map(|(_, d)| *d).fold(self.per_cluster, std::time::Duration::min)
    }

    pub fn describe(&self) -> String {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let mut text = format!("one connection per cluster {:.1} ms", ms(self.per_cluster));
        for (per, d) in &self.shared {
            text.push_str(&format!(", shared HTTP/2 ({per} clusters/connection) {:.1} ms", ms(*d)));
        }
        text
    }
}

fn floor_object(value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "floor", "namespace": "load"},
        "data": {"value": value, "padding": "x".repeat(400)}})
}

impl Floors {
    /// Connects both ways (warm connections) and creates the object the floors rewrite in
    /// namespace `load` of every member.
    pub async fn connect(members: &[Value], ca: Option<&str>) -> Self {
        use futures::StreamExt as _;
        use kube::client::ConfigExt as _;
        let per_cluster: Vec<_> = futures::stream::iter(members)
            .map(|c| async move {
                let api = kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(member_client(c, ca), "load");
                let cm = serde_json::from_value(floor_object("0")).expect("cm");
                api.create(&Default::default(), &cm).await.expect("create floor object");
                api
            })
            .buffered(64)
            .collect()
            .await;
        let mut shared = Vec::new();
        for per in [1000, 250] {
            let mut connections = Vec::new();
            for chunk in members.chunks(per) {
                let url: http::Uri = chunk[0]["url"].as_str().expect("url").parse().expect("uri");
                let mut config = kube::Config::new(url);
                if let Some(pem) = ca {
                    config.root_cert = Some(vec![pem_der(pem)]);
                }
                let tls = config.rustls_client_config().expect("tls");
                let connector =
                    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http2().build();
                let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .http2_only(true)
                    .build(connector);
                let targets = chunk
                    .iter()
                    .map(|c| {
                        let uri =
                            format!("{}/api/v1/namespaces/load/configmaps/floor", c["url"].as_str().expect("url"));
                        let auth = format!("Bearer {}", c["token"].as_str().expect("token"));
                        (uri.parse().expect("uri"), http::HeaderValue::from_str(&auth).expect("header"))
                    })
                    .collect();
                connections.push(SharedConnection { client, targets });
            }
            shared.push((per, connections));
        }
        let floors = Self { per_cluster, shared };
        floors.write_shared(0, "0").await; // connect
        floors
    }

    /// One round: every member's floor object rewritten to `value`, each way in turn.
    pub async fn round(&self, value: &str) -> FloorTimes {
        let start = std::time::Instant::now();
        let writes = self.per_cluster.iter().map(|api| async move {
            let cm = serde_json::from_value(floor_object(value)).expect("cm");
            api.replace("floor", &Default::default(), &cm).await.expect("floor write");
        });
        futures::future::join_all(writes).await;
        let per_cluster = start.elapsed();
        let mut shared = Vec::new();
        for (i, (per, _)) in self.shared.iter().enumerate() {
            shared.push((*per, self.write_shared(i, value).await));
        }
        FloorTimes { per_cluster, shared }
    }

    /// Every member's object rewritten over the `grouping`th set of shared connections.
    async fn write_shared(&self, grouping: usize, value: &str) -> std::time::Duration {
        use http_body_util::BodyExt as _;
        let body = bytes::Bytes::from(serde_json::to_vec(&floor_object(value)).expect("json"));
        let start = std::time::Instant::now();
        let writes = self.shared[grouping].1.iter().flat_map(|connection| {
            connection.targets.iter().map(|(uri, auth)| {
                let request = http::Request::put(uri.clone())
                    .header(http::header::AUTHORIZATION, auth.clone())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(http_body_util::Full::new(body.clone()))
                    .expect("request");
                let client = &connection.client;
                async move {
                    let answer = client.request(request).await.expect("floor write");
                    let status = answer.status();
                    let bytes = answer.into_body().collect().await.expect("answer").to_bytes();
                    assert!(status.is_success(), "floor write: {status} {}", String::from_utf8_lossy(&bytes));
                }
            })
        });
        futures::future::join_all(writes).await;
        start.elapsed()
    }
}
