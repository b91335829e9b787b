//! Rollout benchmark: an app upgrade (podinfo 6.6.3 → 6.7.1 from the built-in catalog)
//! across N simulated clusters in waves of W, each cluster soaking S seconds, driven by the
//! engine's rollout driver, against its floor measured in the same run: a bare kube client
//! doing the same waves by hand on the same clusters: write a Deployment of the same size to
//! every cluster of a wave at once, wait (by watch) until each has rolled out, soak S
//! seconds, next wave. The floor is what waiting on health costs by itself: the simulator's
//! own time to roll a workload, wave after wave, plus the soaks.
//!
//! Reports total time ÷ floor (target ≤ 1.2) and the hub's CPU time per cluster moved.
//!
//! `cargo bench -p flotilla-engine --bench rollout -- [clusters] [wave] [soak seconds]`
//! (default 1000 100 2). The simulated clusters run in a child process (the simulator's
//! default pace: a workload rolls one pod per 200 ms tick).
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::{Duration, Instant};

use flotilla_domain::rollout::{Canary, RolloutState, Strategy, WaveSize};
use flotilla_domain::{Clearance, ResourceName, StatusCode};
use flotilla_engine::EngineHandle;
use flotilla_store::{Actor, AppUpgrade, InstallHome, NewInstall, SecretCipher, SecretKey, Store};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use support::{SimChild, TICKS_PER_SECOND, cpu_ticks, engine_settings, member_client};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clusters = args.first().copied().unwrap_or(1000) as usize;
    let wave = args.get(1).copied().unwrap_or(100) as usize;
    let soak = args.get(2).copied().unwrap_or(2) as u32;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if support::is_simulator() {
        rt.block_on(support::simulator_process(clusters));
    } else {
        rt.block_on(hub(clusters, wave, soak));
    }
}

async fn hub(n: usize, wave: usize, soak: u32) {
    let child = SimChild::spawn(n);
    let (ca, members) = (child.ca.clone(), child.members.clone());
    let (hub_pid, sim_pid) = (std::process::id(), child.pid());

    // ── the floor: the same waves by hand with a bare kube client ─────────────────────
    let apis = floor_apis(&members, ca.as_deref()).await;
    eprintln!("floor: a {}-replica Deployment in every cluster…", REPLICAS);
    roll_all(&apis, "6.6.3").await;
    let c0 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
    let t = Instant::now();
    let mut floor_waves = Vec::new();
    for chunk in apis.chunks(wave) {
        let w = Instant::now();
        roll_all(chunk, "6.7.1").await;
        floor_waves.push(w.elapsed());
        tokio::time::sleep(Duration::from_secs(u64::from(soak))).await;
    }
    let floor = t.elapsed();
    let c1 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
    drop(apis);

    // ── the hub: podinfo installed everywhere, then upgraded by a rollout ─────────────
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = Store::connect(&url, SecretCipher::new(&SecretKey::generate())).await.expect("store");
    let tenant = store.bootstrap(None).await.expect("bootstrap").tenant_id;
    store.sync_builtin_catalog(&flotilla_catalog::builtin().expect("catalog")).await.expect("catalog");
    let actor = Actor::system("bench");
    let rn = |s: &str| ResourceName::parse("name", s).expect("name");
    support::register_members(&store, &tenant, &members, ca.as_deref()).await;
    let ws = store.create_workspace(&tenant, &actor, &rn("bench"), "env=bench").await.expect("ws");
    let project =
        store.create_project(&tenant, &actor, Clearance::TenantAdmin, &ws.id, &rn("shop"), "").await.expect("project");
    let version = |v: &str| {
        let store = &store;
        let tenant = &tenant;
        let v = v.to_owned();
        async move {
            store
                .catalog(tenant)
                .await
                .expect("catalog")
                .into_iter()
                .find(|c| c.definition.meta.name == "podinfo" && c.definition.meta.version.to_string() == v)
                .expect("podinfo version")
                .id
        }
    };
    let home = InstallHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let values = serde_json::Map::from_iter([("replicas".to_owned(), json!(REPLICAS))]);
    let from = version("6.6.3").await;
    let new = NewInstall { version_id: &from, name: "podinfo", values: &values, rules: &[] };
    let install = store.install_app(&tenant, &actor, Clearance::TenantAdmin, home, new).await.expect("install");
    let deployment = {
        let mut found = None;
        for id in store.get_install(&tenant, &install).await.expect("install").resource_ids {
            if store.get_resource(&tenant, &id).await.expect("resource").kind == "Deployment" {
                found = Some(id);
            }
        }
        found.expect("podinfo has a Deployment")
    };
    eprintln!("the hub installs podinfo 6.6.3 in {n} clusters…");
    let engine = EngineHandle::start(store.clone(), engine_settings()).await.expect("engine");
    let started = Instant::now();
    wait_healthy(&store, &engine, &tenant, &deployment, n, 1).await;
    let initial = started.elapsed();

    // What the hub spends keeping 1,000 clusters when nothing moves (probes, watches,
    // timers): subtracted below to give what moving a cluster costs.
    let idle_for = Duration::from_secs(5);
    let i0 = cpu_ticks(hub_pid);
    tokio::time::sleep(idle_for).await;
    let idle = i0.zip(cpu_ticks(hub_pid)).map(|(a, b)| (b - a) as f64 / TICKS_PER_SECOND / idle_for.as_secs_f64());

    let to = version("6.7.1").await;
    let strategy = Strategy {
        canary: Canary::None,
        wave_size: WaveSize::Clusters(wave as u32),
        soak_seconds: soak,
        ..Strategy::default()
    };
    eprintln!("the hub upgrades podinfo to 6.7.1 in waves of {wave}…");
    let c2 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
    let t = Instant::now();
    let installs = [(install.as_str(), Clearance::TenantAdmin)];
    let upgrade = AppUpgrade { installs: &installs, to_version_id: &to, strategy: &strategy };
    let rollout = store.start_app_upgrade(&tenant, &actor, upgrade).await.expect("start");
    // Looked at once a second (the look costs the hub too); the time is the store's own:
    // from the start's transaction to the one that recorded the success.
    let mut polls = tokio::time::interval(Duration::from_secs(1));
    let detail = loop {
        polls.tick().await;
        let r = store.get_rollout(&tenant, &rollout).await.expect("rollout");
        match r.record.state {
            RolloutState::Succeeded => break r,
            RolloutState::Running => assert!(t.elapsed() < Duration::from_secs(1800), "no end in 30 min"),
            other => panic!("the rollout stopped: {}: {:?}", other.as_str(), r.events.first().map(|e| &e.message)),
        }
    };
    let c3 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
    let rollout_window = t.elapsed();
    let finished = detail.record.finished_at.expect("finished_at");
    let total = Duration::from_millis(u64::try_from(finished - detail.record.created_at).expect("ordered"));
    let waves = detail.clusters.iter().map(|c| c.wave).collect::<std::collections::BTreeSet<_>>().len();
    let revision = store.get_resource(&tenant, &deployment).await.expect("resource").revision;
    wait_healthy(&store, &engine, &tenant, &deployment, n, revision).await;

    let s = |d: Duration| d.as_secs_f64();
    let roll: Vec<String> = floor_waves.iter().map(|d| format!("{:.2}", s(*d))).collect();
    println!("clusters: {n}, waves: {waves} of up to {wave}, soak {soak} s, podinfo {REPLICAS} replicas");
    println!("initial install of podinfo in {n} clusters (until all healthy): {:.2} s", s(initial));
    println!("floor (bare kube client, the same waves by hand, each rolled then soaked): {:.2} s", s(floor));
    println!("      the simulator's time to roll one wave, by wave: {} s", roll.join(", "));
    println!("rollout (start → Succeeded, every cluster healthy on 6.7.1): {:.2} s", s(total));
    println!("rollout / floor: {:.3} (target <= 1.2)", total.as_secs_f64() / floor.as_secs_f64());
    let hz = TICKS_PER_SECOND;
    if let (Some(h0), Some(s0), Some(h1), Some(s1)) = (c0.0, c0.1, c1.0, c1.1) {
        println!("floor CPU: client {:.2} s, simulator {:.2} s", (h1 - h0) as f64 / hz, (s1 - s0) as f64 / hz);
    }
    if let (Some(h2), Some(s2), Some(h3), Some(s3)) = (c2.0, c2.1, c3.0, c3.1) {
        let hub = (h3 - h2) as f64 / hz;
        let window = rollout_window.as_secs_f64();
        println!(
            "rollout CPU: hub {hub:.2} s over {window:.1} s ({:.2} ms per cluster moved), simulator {:.2} s",
            hub * 1e3 / n as f64,
            (s3 - s2) as f64 / hz
        );
        if let Some(idle) = idle {
            let moving = (hub - idle * window).max(0.0);
            println!(
                "      of which keeping the fleet (idle hub: {:.0} % of a core): {:.2} s; moving the clusters: \
                 {moving:.2} s ({:.2} ms per cluster)",
                idle * 100.0,
                idle * window,
                moving * 1e3 / n as f64
            );
        }
    }
    engine.shutdown().await;
    child.stop();
}

/// podinfo's Deployment in the benchmark, and the floor's, run this many pods.
const REPLICAS: i64 = 2;

/// Waits until every cluster shows the resource Synced at `revision` and healthy.
async fn wait_healthy(store: &Store, engine: &EngineHandle, tenant: &str, id: &str, n: usize, revision: i64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        engine.flush().await;
        let statuses = store.resource_statuses(tenant, id).await.expect("statuses");
        let healthy = statuses
            .iter()
            .filter(|s| s.code == StatusCode::Synced && s.applied_revision == Some(revision))
            .filter(|s| s.health.is_some_and(|h| h.to_string().starts_with("Healthy")))
            .count();
        if healthy == n {
            return;
        }
        assert!(Instant::now() < deadline, "only {healthy} of {n} healthy at revision {revision}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A client per cluster for the floor's Deployment, in a namespace of its own.
async fn floor_apis(members: &[Value], ca: Option<&str>) -> Vec<Api<Deployment>> {
    let mut apis = Vec::new();
    for c in members {
        let client = member_client(c, ca);
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "floor"}})).expect("ns");
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.expect("namespace");
        apis.push(Api::namespaced(client, "floor"));
    }
    apis
}

/// The floor's Deployment at podinfo `version`: as podinfo's, the size that matters to the
/// simulator (replicas) the same.
fn floor_deployment(version: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "floor"},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "floor"}},
            "template": {
                "metadata": {"labels": {"app": "floor"}},
                "spec": {"containers": [{"name": "podinfo", "image": format!("ghcr.io/stefanprodan/podinfo:{version}")}]}
            }
        }
    }))
    .expect("deployment")
}

/// Writes the floor's Deployment at `version` to every cluster of `apis` at once (creating
/// it where it is missing) and waits, by watch, until each has rolled out.
async fn roll_all(apis: &[Api<Deployment>], version: &str) {
    let rolls = apis.iter().map(|api| async move {
        let mut desired = floor_deployment(version);
        let written = match api.get_opt("floor").await.expect("get") {
            Some(current) => {
                desired.metadata.resource_version = current.metadata.resource_version;
                api.replace("floor", &PostParams::default(), &desired).await.expect("replace")
            }
            None => api.create(&PostParams::default(), &desired).await.expect("create"),
        };
        if rolled_out(&written) {
            return;
        }
        let rv = written.metadata.resource_version.clone().expect("resourceVersion");
        let params = WatchParams::default().fields("metadata.name=floor");
        let mut events = api.watch(&params, &rv).await.expect("watch").boxed();
        while let Some(event) = events.next().await {
            if let WatchEvent::Modified(d) = event.expect("watch event")
                && rolled_out(&d)
            {
                return;
            }
        }
        panic!("the watch ended before the floor's Deployment rolled out");
    });
    futures::future::join_all(rolls).await;
}

/// Rolled out: the new generation observed, every replica updated, ready and available.
fn rolled_out(d: &Deployment) -> bool {
    let (Some(spec), Some(status)) = (&d.spec, &d.status) else { return false };
    let want = spec.replicas.unwrap_or(1);
    status.observed_generation >= d.metadata.generation
        && status.updated_replicas == Some(want)
        && status.ready_replicas == Some(want)
        && status.available_replicas == Some(want)
}
