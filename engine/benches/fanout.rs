//! Engine benchmark against simulated clusters in a separate process (so the hub's memory
//! is the hub's alone). Reports, each against a floor measured in the same run:
//!
//! (a) one template change fanned out to N clusters: time until every cluster reports
//!     `Synced` for the new revision ÷ a bare kube client doing the same N writes at the
//!     same concurrency (one task per cluster);
//! (b) writes to members across an engine restart and resyncs of an unchanged fleet
//!     (target 0);
//! (c) hub heap per managed (cluster × object).
//!
//! `cargo bench -p flotilla-engine --bench fanout -- [clusters] [objects]` (default 1000 20).
//! With `FLOTILLA_BENCH_EXIT_AFTER_SYNC=1` it exits right after the initial sync, so a heap
//! profiler (`heaptrack`) reports what the hub holds for the fleet as "leaked".
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flotilla_domain::{ResourceName, StatusCode};
use flotilla_engine::{EngineHandle, EngineSettings, StatusEvent};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec, SecretCipher, SecretKey, Store};
use serde_json::{Value, json};
use support::{SimChild, TICKS_PER_SECOND, cpu_ticks, engine_settings, member_client};

/// Counts live heap bytes of this process.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// A global allocator is an unsafe trait: this one only counts, then forwards each call
// unchanged to the system allocator, so it keeps every promise `System` makes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clusters = args.first().copied().unwrap_or(1000);
    let objects = args.get(1).copied().unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if support::is_simulator() {
        rt.block_on(support::simulator_process(clusters));
    } else {
        rt.block_on(hub(clusters, objects));
    }
}

async fn hub(n: usize, objects: usize) {
    let mut child = SimChild::spawn(n);
    let ca = child.ca.clone();

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(
        &format!("sqlite://{}/bench.db", dir.path().display()),
        SecretCipher::new(&SecretKey::generate()),
    )
    .await
    .expect("store");
    let tenant = store.bootstrap(None).await.expect("bootstrap").tenant_id;
    let members = child.members.clone();
    for c in &members {
        let cluster = NewCluster {
            name: ResourceName::parse("name", c["name"].as_str().expect("name")).expect("name"),
            api_server_url: c["url"].as_str().expect("url").to_owned(),
            ca_pem: ca.clone(),
            token: c["token"].as_str().expect("token").to_owned().into(),
            labels: [("env".to_owned(), "bench".to_owned())].into(),
        };
        store.register_cluster(&tenant, "bench", &cluster, false).await.expect("register");
    }
    let actor = Actor::system("bench");
    let ws = store
        .create_workspace(&tenant, &actor, &ResourceName::parse("n", "bench").expect("n"), "env=bench")
        .await
        .expect("ws");
    let project = store
        .create_project(
            &tenant,
            &actor,
            flotilla_domain::Clearance::TenantAdmin,
            &ws.id,
            &ResourceName::parse("n", "load").expect("n"),
            "",
        )
        .await
        .expect("project");
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "load")) };
    let cm = |i: usize, v: &str| {
        ResourceSpec::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:02}")},
            "data": {"value": v, "padding": "x".repeat(400)}}))
    };
    let mut ids = Vec::new();
    for i in 1..objects {
        ids.push(
            store
                .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &cm(i, "1"))
                .await
                .expect("resource"),
        );
    }
    let target = store
        .create_resource(&tenant, &actor, flotilla_domain::Clearance::TenantAdmin, home, &cm(0, "1"))
        .await
        .expect("resource");
    let per_cluster = objects + 1; // the project's namespace + the ConfigMaps

    // ── initial sync, and memory once settled ─────────────────────────────────────────
    let heap_before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    let engine = EngineHandle::start(store.clone(), engine_settings()).await.expect("engine");
    let mut events = engine.subscribe();
    let all_ids: Vec<String> = store
        .list_resources(&tenant, &ws.id, Some(&project.id))
        .await
        .expect("resources")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all_ids.len(), per_cluster);
    wait_synced(
        &mut events,
        n * per_cluster,
        &all_ids,
        None,
        &Fallback { store: &store, tenant: &tenant, engine: &engine },
    )
    .await;
    let initial = started.elapsed();
    engine.flush().await;
    tokio::time::sleep(Duration::from_secs(2)).await; // watches established
    let heap_after = LIVE.load(Ordering::Relaxed);
    let managed = n * per_cluster;
    let per_object = (heap_after.saturating_sub(heap_before)) as f64 / managed as f64;
    if std::env::var_os("FLOTILLA_BENCH_EXIT_AFTER_SYNC").is_some() {
        // For heap profilers: what is live now shows up as leaked at exit.
        println!("hub heap per managed object after the initial sync: {per_object:.0} bytes");
        child.stop();
        std::process::exit(0);
    }

    // ── (a) fan-out vs floor ──────────────────────────────────────────────────────────
    let clients = floor_clients(&members, ca.as_deref()).await;
    let mut rounds_run = Vec::new();
    let mut cpu = CpuSplit::default();
    let (hub_pid, sim_pid) = (std::process::id(), child.pid());
    // Nine rounds, the median reported (two cores shared by hub and simulator make single
    // rounds noisy); more (FLOTILLA_BENCH_ROUNDS) for profiling.
    let rounds = std::env::var("FLOTILLA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(9u32);
    for round in 0..rounds.max(1) {
        let c0 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        let floor = floor_writes(&clients, round).await;
        let c1 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        events = events.resubscribe(); // from now on
        let t = Instant::now();
        let version = store.get_resource(&tenant, &target).await.expect("get").version;
        let revision = store
            .update_resource(
                &tenant,
                &actor,
                flotilla_domain::Clearance::TenantAdmin,
                &target,
                version,
                &cm(0, &format!("v{}", round + 2)),
            )
            .await
            .expect("update");
        let stored = t.elapsed();
        let fallback = Fallback { store: &store, tenant: &tenant, engine: &engine };
        let arrivals = wait_synced(&mut events, n, std::slice::from_ref(&target), Some(revision), &fallback).await;
        let fanout = t.elapsed();
        let c2 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        cpu.add(c0, c1, c2);
        engine.flush().await; // the next round starts with this one's statuses stored
        let after = |i: Instant| i.duration_since(t);
        rounds_run.push(Round {
            fanout,
            floor,
            stored,
            first: arrivals.first().copied().map(after),
            median: arrivals.get(arrivals.len() / 2).copied().map(after),
        });
    }
    let mut ratios: Vec<f64> = rounds_run.iter().map(Round::ratio).collect();
    ratios.sort_by(f64::total_cmp);

    // ── (b) an engine restart and resyncs of the unchanged fleet ─────────────────────
    engine.shutdown().await;
    drop(engine);
    let (w0, r0) = child.counts();
    let settings = EngineSettings { resync: Duration::from_secs(4), ..engine_settings() };
    let engine = EngineHandle::start(store.clone(), settings).await.expect("engine restart");
    tokio::time::sleep(Duration::from_secs(9)).await; // the restart's pass and two resyncs at 4 s
    let (w1, r1) = child.counts();

    println!("clusters: {n}, objects per cluster: {per_cluster} (namespace + {objects} ConfigMaps)");
    println!("initial sync of {managed} objects: {:.2} s", initial.as_secs_f64());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ms_or_nan = |d: Option<Duration>| d.map_or(f64::NAN, ms);
    for (i, r) in rounds_run.iter().enumerate() {
        println!(
            "(a) round {}: fan-out {:.1} ms (stored at {:.1} ms, first Synced at {:.1} ms, half at {:.1} ms), \
             floor (bare kube client, {n} PUTs, {n} concurrent) {:.1} ms, ratio {:.2}",
            i + 1,
            ms(r.fanout),
            ms(r.stored),
            ms_or_nan(r.first),
            ms_or_nan(r.median),
            ms(r.floor),
            r.ratio()
        );
    }
    println!("(a) fan-out / floor, median of {}: {:.2} (target <= 1.5)", ratios.len(), ratios[ratios.len() / 2]);
    if let Some(line) = cpu.describe() {
        println!("(a) {line}");
    }
    println!(
        "(b) member writes across an engine restart and 9 s of resyncs (4 s period): {} (target 0); reads: {}",
        w1 - w0,
        r1 - r0
    );
    println!(
        "(c) hub heap per managed (cluster x object): {:.0} bytes ({:.2} KiB; {} MiB for {managed}) (target <= 1 KiB)",
        per_object,
        per_object / 1024.0,
        (heap_after.saturating_sub(heap_before)) / (1 << 20)
    );
    engine.shutdown().await;
    child.stop();
}

struct Round {
    fanout: Duration,
    floor: Duration,
    stored: Duration,
    /// When the first and the middle Synced arrived (None when the stream lagged).
    first: Option<Duration>,
    median: Option<Duration>,
}

impl Round {
    fn ratio(&self) -> f64 {
        self.fanout.as_secs_f64() / self.floor.as_secs_f64()
    }
}

/// CPU time (clock ticks) of the hub and the simulator, during the floors and during the
/// fan-outs: on a machine the two processes share, the ratio follows the CPU each side needs.
#[derive(Default)]
struct CpuSplit {
    floor: (u64, u64),
    fanout: (u64, u64),
    known: bool,
}

impl CpuSplit {
    fn add(&mut self, c0: (Option<u64>, Option<u64>), c1: (Option<u64>, Option<u64>), c2: (Option<u64>, Option<u64>)) {
        let (Some(h0), Some(s0), Some(h1), Some(s1), Some(h2), Some(s2)) = (c0.0, c0.1, c1.0, c1.1, c2.0, c2.1) else {
            return;
        };
        self.known = true;
        self.floor.0 += h1 - h0;
        self.floor.1 += s1 - s0;
        self.fanout.0 += h2 - h1;
        self.fanout.1 += s2 - s1;
    }

    fn describe(&self) -> Option<String> {
        let hz = TICKS_PER_SECOND;
        self.known.then(|| {
            format!(
                "CPU over all rounds: floors hub {:.2} s + simulator {:.2} s; fan-outs hub {:.2} s + simulator {:.2} s",
                self.floor.0 as f64 / hz,
                self.floor.1 as f64 / hz,
                self.fanout.0 as f64 / hz,
                self.fanout.1 as f64 / hz
            )
        })
    }
}

/// Where to look when the live stream has moved on (a subscriber that falls behind the
/// engine's event backlog gets `Lagged`, as a slow browser would).
struct Fallback<'a> {
    store: &'a Store,
    tenant: &'a str,
    engine: &'a EngineHandle,
}

impl Fallback<'_> {
    async fn synced(&self, ids: &[String], revision: Option<i64>) -> usize {
        self.engine.flush().await;
        let mut synced = 0;
        for id in ids {
            let statuses = self.store.resource_statuses(self.tenant, id).await.expect("statuses");
            synced += statuses
                .iter()
                .filter(|s| s.code == StatusCode::Synced && revision.is_none_or(|r| s.applied_revision == Some(r)))
                .count();
        }
        synced
    }
}

/// Waits for `count` Synced statuses of `ids` (at `revision`, if given): from the live
/// stream, or from the store if the stream lagged. With a `revision`, returns when each
/// arrived, in order (none if the stream lagged).
async fn wait_synced(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<StatusEvent>>,
    count: usize,
    ids: &[String],
    revision: Option<i64>,
    fallback: &Fallback<'_>,
) -> Vec<Instant> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut arrivals = Vec::with_capacity(if revision.is_some() { count } else { 0 });
    let mut seen = std::collections::HashSet::new();
    while seen.len() < count {
        match tokio::time::timeout(Duration::from_secs(120), events.recv()).await {
            Ok(Ok(event)) => {
                let StatusEvent::Resource(r) = &*event else { continue };
                let wanted = ids.contains(&r.resource_id) && revision.is_none_or(|rev| r.applied_revision == Some(rev));
                let new = r.code == StatusCode::Synced
                    && wanted
                    && seen.insert((r.resource_id.clone(), r.cluster_id.clone()));
                if new && revision.is_some() {
                    arrivals.push(Instant::now());
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                while fallback.synced(ids, revision).await < count {
                    assert!(Instant::now() < deadline, "not all synced after 120 s");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Vec::new();
            }
            Ok(Err(e)) => panic!("status stream: {e}"),
            Err(_) => panic!("only {} of {count} synced after 120 s", seen.len()),
        }
    }
    arrivals
}

async fn floor_clients(members: &[Value], ca: Option<&str>) -> Vec<kube::Api<k8s_openapi::api::core::v1::ConfigMap>> {
    let mut apis = Vec::new();
    for c in members {
        let client = member_client(c, ca);
        let api = kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client, "load");
        let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "floor"}, "data": {"value": "0", "padding": "x".repeat(400)}}))
        .expect("cm");
        api.create(&Default::default(), &cm).await.expect("create floor object");
        apis.push(api);
    }
    apis
}

/// The floor: one PUT per cluster, all clusters at once, connections already warm.
async fn floor_writes(apis: &[kube::Api<k8s_openapi::api::core::v1::ConfigMap>], round: u32) -> Duration {
    let start = Instant::now();
    let writes = apis.iter().map(|api| async move {
        let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "floor"}, "data": {"value": format!("{round}"), "padding": "x".repeat(400)}}))
        .expect("cm");
        api.replace("floor", &Default::default(), &cm).await.expect("floor write");
    });
    futures::future::join_all(writes).await;
    start.elapsed()
}
