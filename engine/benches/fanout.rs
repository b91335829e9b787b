//! Engine benchmark against simulated clusters in a separate process (so the hub's memory
//! is the hub's alone). Reports, each against a floor measured in the same run:
//!
//! (a) one template change fanned out to N clusters: time until every cluster reports
//!     `Synced` for the new revision ÷ the floor, a bare client doing the same N writes at the
//!     same concurrency (one task per cluster), measured with one connection per cluster and
//!     over shared HTTP/2 connections (as the engine itself multiplexes), the faster counting;
//! (b) writes to members across an engine restart and resyncs of an unchanged fleet
//!     (target 0);
//! (c) hub heap per managed (cluster × object).
//!
//! `cargo bench -p flotilla-engine --bench fanout -- [clusters] [objects]` (default 1000 20).
//! The store is SQLite, or a fresh database on the PostgreSQL server that
//! `FLOTILLA_TEST_POSTGRES` names (one replica, holding every cluster's lease).
//! With `FLOTILLA_BENCH_EXIT_AFTER_SYNC=1` it exits right after the initial sync, so a heap
//! profiler (`heaptrack`) reports what the hub holds for the fleet as "leaked".
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use flotilla_domain::StatusCode;
use flotilla_engine::{EngineHandle, EngineSettings, StatusEvent};
use flotilla_store::{SecretCipher, SecretKey, Store};
use support::{Floors, LIVE, SimChild, TICKS_PER_SECOND, Workload, change_target, cpu_ticks, engine_settings};

#[global_allocator]
static ALLOC: support::Counting = support::Counting;

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
    let url = flotilla_testkit::database_url(dir.path()).await;
    let store = Store::connect(&url, SecretCipher::new(&SecretKey::generate())).await.expect("store");
    let members = child.members.clone();
    let seeding = Instant::now();
    let workload = support::seed_workload(&store, &members, ca.as_deref(), objects).await;
    eprintln!("{n} clusters registered and {objects} objects made in {:.1} s", seeding.elapsed().as_secs_f64());
    let Workload { tenant, target, .. } = &workload;
    let per_cluster = workload.per_cluster();

    // ── initial sync, and memory once settled ─────────────────────────────────────────
    let heap_before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    let engine = EngineHandle::start(store.clone(), engine_settings()).await.expect("engine");
    let mut events = engine.subscribe();
    wait_synced(
        &mut events,
        n * per_cluster,
        &workload.all,
        None,
        &Fallback { store: &store, tenant, engine: &engine },
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
    let floors = Floors::connect(&members, ca.as_deref()).await;
    let mut rounds_run = Vec::new();
    let mut cpu = CpuSplit::default();
    let (hub_pid, sim_pid) = (std::process::id(), child.pid());
    // Nine rounds, the median reported (two cores shared by hub and simulator make single
    // rounds noisy); more (FLOTILLA_BENCH_ROUNDS) for profiling.
    let rounds = std::env::var("FLOTILLA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(9u32);
    for round in 0..rounds.max(1) {
        let c0 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        let floor = floors.round(&format!("{round}")).await;
        let c1 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        events = events.resubscribe(); // from now on
        let t = Instant::now();
        let revision = change_target(&store, &workload, &format!("v{}", round + 2)).await;
        let stored = t.elapsed();
        let fallback = Fallback { store: &store, tenant, engine: &engine };
        let arrivals = wait_synced(&mut events, n, std::slice::from_ref(target), Some(revision), &fallback).await;
        let fanout = t.elapsed();
        let c2 = (cpu_ticks(hub_pid), cpu_ticks(sim_pid));
        cpu.add(c0, c1, c2);
        engine.flush().await; // the next round starts with this one's statuses stored
        let after = |i: Instant| i.duration_since(t);
        rounds_run.push(Round {
            fanout,
            floor: floor.best(),
            floors: floor.describe(),
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
             floor {:.1} ms (bare client, {n} PUTs, {n} concurrent: {}), ratio {:.2}",
            i + 1,
            ms(r.fanout),
            ms(r.stored),
            ms_or_nan(r.first),
            ms_or_nan(r.median),
            ms(r.floor),
            r.floors,
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
    /// The faster of the floors, and all of them.
    floor: Duration,
    floors: String,
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
/// stream, or from the store if the stream lagged or went quiet (the initial sync begins as
/// the engine starts, before the bench can subscribe). With a `revision`, returns when each
/// arrived, in order (none if the store had to be asked).
async fn wait_synced(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<StatusEvent>>,
    count: usize,
    ids: &[String],
    revision: Option<i64>,
    fallback: &Fallback<'_>,
) -> Vec<Instant> {
    let limit = Duration::from_secs(600);
    let deadline = Instant::now() + limit;
    let mut arrivals = Vec::with_capacity(if revision.is_some() { count } else { 0 });
    let mut seen = std::collections::HashSet::new();
    while seen.len() < count {
        assert!(Instant::now() < deadline, "only {} of {count} synced after {limit:?}", seen.len());
        match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
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
                    assert!(Instant::now() < deadline, "not all synced after {limit:?}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Vec::new();
            }
            Ok(Err(e)) => panic!("status stream: {e}"),
            // Quiet for a second: perhaps all are there and some were reported before.
            Err(_) if fallback.synced(ids, revision).await >= count => return Vec::new(),
            Err(_) => {}
        }
    }
    arrivals
}
