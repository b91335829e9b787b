//! Several replicas sharing one fleet over PostgreSQL, each its own process (so memory and CPU
//! are each replica's own), with the simulated clusters in another. Reports:
//!
//! (a) the initial sync with R replicas: time until every object is `Synced` in every
//!     cluster, and per replica the clusters it holds leases on, its heap (Rust allocations),
//!     resident memory and CPU;
//! (b) one template change fanned out by the R replicas together: time until every cluster
//!     reports `Synced` for it, against the floor (support::Floors) measured in the same run;
//! (c) one replica killed with SIGKILL, then a change: time until the dead replica's leases
//!     are all held by the others, and until every cluster (its own included) is `Synced` for
//!     the change.
//!
//! `FLOTILLA_TEST_POSTGRES=postgres://… cargo bench -p flotilla-engine --bench replicas --
//! [clusters] [objects] [replicas]` (default 1000 20 3); a fresh database on that server.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use flotilla_engine::EngineHandle;
use flotilla_store::{SecretCipher, SecretKey, Store};
use support::{Floors, LIVE, SimChild, TICKS_PER_SECOND, Workload, change_target, cpu_ticks, engine_settings};

#[global_allocator]
static ALLOC: support::Counting = support::Counting;

/// Set in a replica child's environment: the database it works from.
const REPLICA_ROLE: &str = "FLOTILLA_BENCH_REPLICA";
/// The secret key the replicas share (cluster credentials are sealed with it).
const KEY: &str = "FLOTILLA_BENCH_KEY";
/// How long the takeover may take at most before the bench gives up.
const PATIENCE: Duration = Duration::from_secs(600);

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clusters = args.first().copied().unwrap_or(1000);
    let objects = args.get(1).copied().unwrap_or(20);
    let replicas = args.get(2).copied().unwrap_or(3).max(2);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if support::is_simulator() {
        rt.block_on(support::simulator_process(clusters));
    } else if let Ok(url) = std::env::var(REPLICA_ROLE) {
        rt.block_on(replica_process(&url));
    } else {
        rt.block_on(coordinate(clusters, objects, replicas));
    }
}

/// A replica: an engine on the shared database until its stdin closes; answers each line
/// with its live heap bytes.
async fn replica_process(url: &str) {
    // FLOTILLA_BENCH_LOG=<filter> (e.g. `flotilla_engine=debug`): the replica's log on stderr.
    if let Ok(filter) = std::env::var("FLOTILLA_BENCH_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let key = SecretKey::parse(&std::env::var(KEY).expect("key")).expect("key");
    let store = Store::connect(url, SecretCipher::new(&key)).await.expect("store");
    let before = LIVE.load(Ordering::Relaxed);
    let engine = EngineHandle::start(store.clone(), engine_settings()).await.expect("engine");
    println!("ready {} {before}", store.replica());
    let (lines, mut asked) = tokio::sync::mpsc::unbounded_channel::<()>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() || lines.send(()).is_err() {
                break;
            }
        }
    });
    while asked.recv().await.is_some() {
        println!("{}", LIVE.load(Ordering::Relaxed));
    }
    engine.shutdown().await;
}

/// A replica child process.
struct Replica {
    process: Child,
    out: BufReader<ChildStdout>,
    id: String,
    /// Heap bytes before its engine started.
    heap_at_start: usize,
}

impl Replica {
    fn spawn(url: &str, key: &str) -> Self {
        let (process, out, line) = support::spawn_role(&[(REPLICA_ROLE, url), (KEY, key)], &[], "a replica");
        let mut words = line.split_whitespace().skip(1);
        let id = words.next().expect("replica id").to_owned();
        let heap_at_start = words.next().and_then(|w| w.parse().ok()).expect("heap");
        Self { process, out, id, heap_at_start }
    }

    /// Live heap bytes now, less those before its engine started.
    fn heap(&mut self) -> usize {
        let stdin = self.process.stdin.as_mut().expect("stdin");
        writeln!(stdin, "heap").expect("ask");
        let mut line = String::new();
        self.out.read_line(&mut line).expect("heap");
        line.trim().parse::<usize>().expect("bytes").saturating_sub(self.heap_at_start)
    }

    fn resident_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        kib / 1024.0
    }

    fn cpu_s(&self) -> f64 {
        cpu_ticks(self.process.id()).map_or(f64::NAN, |t| t as f64 / TICKS_PER_SECOND)
    }
}

/// Statuses `Synced` in the whole tenant (at `revision` of `resource`, if given).
async fn synced(store: &Store, at: Option<(&str, i64)>) -> i64 {
    let query = match at {
        None => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM propagation_status WHERE code = 'Synced'"),
        Some((resource, revision)) => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM propagation_status WHERE code = 'Synced' AND resource_id = $1 AND applied_revision = $2",
        )
        .bind(resource.to_owned())
        .bind(revision),
    };
    query.fetch_one(store.pool_for_tests()).await.expect("count")
}

/// Polls `done` every 50 ms; how long until it held.
async fn time_until(what: &str, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < PATIENCE, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// How long after `since` the simulated members had taken `n` more writes than
/// `writes_before` (each cluster's write of one change), asking every 10 ms.
async fn written_everywhere(child: &mut SimChild, writes_before: u64, n: usize, since: Instant) -> Duration {
    loop {
        let (writes, _) = child.counts();
        if writes >= writes_before + n as u64 {
            return since.elapsed();
        }
        assert!(since.elapsed() < PATIENCE, "{} of {n} clusters written after {PATIENCE:?}", writes - writes_before);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Live cluster leases held by replicas other than `dead`.
async fn leases_elsewhere(store: &Store, dead: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM leases WHERE name LIKE 'cluster:%' AND holder IS NOT NULL AND holder <> $1 \
         AND expires_at > $2",
    )
    .bind(dead.to_owned())
    .bind(flotilla_store::now_ms())
    .fetch_one(store.pool_for_tests())
    .await
    .expect("leases")
}

/// Live cluster leases per holder.
async fn cluster_leases(store: &Store) -> std::collections::HashMap<String, usize> {
    let mut held = std::collections::HashMap::new();
    let now = flotilla_store::now_ms();
    for (name, holder, _, expires_at) in store.leases().await.expect("leases") {
        if let (true, Some(holder)) = (name.starts_with("cluster:"), holder)
            && expires_at > now
        {
            *held.entry(holder).or_insert(0) += 1;
        }
    }
    held
}

async fn coordinate(n: usize, objects: usize, r: usize) {
    let Some(server) = std::env::var(flotilla_testkit::TEST_POSTGRES_ENV).ok().filter(|v| !v.is_empty()) else {
        eprintln!("replicas share a PostgreSQL database: set {} (a server URL)", flotilla_testkit::TEST_POSTGRES_ENV);
        std::process::exit(2);
    };
    let url = flotilla_testkit::fresh_postgres_database(&server).await;
    let mut child = SimChild::spawn(n);
    let ca = child.ca.clone();
    let members = child.members.clone();
    let key: String = rand::random::<[u8; 32]>().iter().map(|b| format!("{b:02x}")).collect();
    let store = Store::connect(&url, SecretCipher::new(&SecretKey::parse(&key).expect("key"))).await.expect("store");
    let seeding = Instant::now();
    let workload = support::seed_workload(&store, &members, ca.as_deref(), objects).await;
    eprintln!("{n} clusters registered and {objects} objects made in {:.1} s", seeding.elapsed().as_secs_f64());
    let Workload { target, .. } = &workload;
    let managed = (n * workload.per_cluster()) as i64;

    // ── (a) the initial sync by R replicas ───────────────────────────────────────────
    let started = Instant::now();
    let mut replicas: Vec<Replica> = (0..r).map(|_| Replica::spawn(&url, &key)).collect();
    let initial = time_until("the initial sync", async || synced(&store, None).await >= managed).await;
    let initial = initial.max(started.elapsed().saturating_sub(Duration::from_millis(50)));
    tokio::time::sleep(Duration::from_secs(3)).await; // watches established, statuses stored
    let held = cluster_leases(&store).await;
    println!("clusters: {n}, objects per cluster: {}, replicas: {r}", workload.per_cluster());
    println!("(a) initial sync of {managed} objects by {r} replicas: {:.2} s", initial.as_secs_f64());
    for (i, replica) in replicas.iter_mut().enumerate() {
        let holds = held.get(&replica.id).copied().unwrap_or(0);
        let heap = replica.heap();
        let per_object = heap as f64 / (holds * workload.per_cluster()).max(1) as f64;
        println!(
            "(a) replica {}: leases on {holds} clusters ({:.0} %), heap {:.1} MiB ({per_object:.0} bytes per managed \
             object), resident {:.0} MiB, CPU so far {:.1} s",
            i + 1,
            holds as f64 * 100.0 / n as f64,
            heap as f64 / f64::from(1 << 20),
            replica.resident_mib(),
            replica.cpu_s()
        );
    }

    // ── (b) a fan-out by all of them, against the floor ─────────────────────────────
    let floors = Floors::connect(&members, ca.as_deref()).await;
    let mut ratios = Vec::new();
    for round in 0..3 {
        let floor = floors.round(&format!("{round}")).await;
        let cpu_before: Vec<f64> = replicas.iter().map(Replica::cpu_s).collect();
        let (writes_before, _) = child.counts();
        let t = Instant::now();
        let revision = change_target(&store, &workload, &format!("v{}", round + 2)).await;
        let written = written_everywhere(&mut child, writes_before, n, t).await;
        let fanout =
            time_until("the fan-out", async || synced(&store, Some((target, revision))).await >= n as i64).await;
        let fanout = fanout.max(t.elapsed().saturating_sub(Duration::from_millis(50)));
        let cpu: Vec<String> =
            replicas.iter().zip(&cpu_before).map(|(r, before)| format!("{:.2} s", r.cpu_s() - before)).collect();
        let ratio = written.as_secs_f64() / floor.best().as_secs_f64();
        ratios.push(ratio);
        println!(
            "(b) round {}: fan-out {:.0} ms (every member written; every status Synced in the store {:.0} ms, statuses \
             being stored in batches up to 250 ms apart), floor {:.0} ms ({}), ratio {ratio:.2}; replicas' CPU {}",
            round + 1,
            written.as_secs_f64() * 1e3,
            fanout.as_secs_f64() * 1e3,
            floor.best().as_secs_f64() * 1e3,
            floor.describe(),
            cpu.join(", ")
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!("(b) fan-out / floor with {r} replicas, median of {}: {:.2}", ratios.len(), ratios[ratios.len() / 2]);
    drop(floors);

    // ── (c) one replica killed, then a change ────────────────────────────────────────
    let mut victim = replicas.remove(1);
    let victims_clusters = cluster_leases(&store).await.get(&victim.id).copied().unwrap_or(0);
    victim.process.kill().expect("kill -9");
    let killed = Instant::now();
    victim.process.wait().expect("reaped");
    let (writes_before, _) = child.counts();
    let revision = change_target(&store, &workload, "after-the-kill").await;
    // When the dead replica's leases were all held by others, every member had the change
    // written, and every cluster's status said Synced for it.
    let (mut leases, mut written, mut converged) = (None, None, None);
    while converged.is_none() || leases.is_none() || written.is_none() {
        assert!(killed.elapsed() < PATIENCE, "no takeover within {PATIENCE:?}");
        if leases.is_none() && leases_elsewhere(&store, &victim.id).await == n as i64 {
            leases = Some(killed.elapsed());
        }
        if written.is_none() && child.counts().0 >= writes_before + n as u64 {
            written = Some(killed.elapsed());
        }
        if converged.is_none() && synced(&store, Some((target, revision))).await >= n as i64 {
            converged = Some(killed.elapsed());
        }
        // Not more often: the bench's own queries would take PostgreSQL's time from the replicas.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let secs = |d: Option<Duration>| d.unwrap_or_default().as_secs_f64();
    println!(
        "(c) replica 2 (leases on {victims_clusters} clusters) killed with SIGKILL, then a change: its leases all held by \
         the others after {:.1} s (lease time 9 s), every member written after {:.1} s and every cluster Synced \
         for the change after {:.1} s (target <= 15 s)",
        secs(leases),
        secs(written),
        secs(converged)
    );
    let held = cluster_leases(&store).await;
    for replica in &mut replicas {
        let heap = replica.heap();
        println!(
            "(c) replica {}: leases on {} clusters, heap {:.1} MiB, resident {:.0} MiB",
            replica.id,
            held.get(&replica.id).copied().unwrap_or(0),
            heap as f64 / f64::from(1 << 20),
            replica.resident_mib()
        );
    }
    let (writes, requests) = child.counts();
    println!("member writes over the whole run: {writes}; requests: {requests}");
    for mut replica in replicas {
        drop(replica.process.stdin.take()); // it stops its engine and exits
        let _ = replica.process.wait();
    }
    child.stop();
}
