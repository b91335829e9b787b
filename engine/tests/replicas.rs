//! Several replicas over one PostgreSQL database: each an engine with a store of its own (its
//! own connection pool, change log follower and leases), sharing the simulated clusters.
//! They run when the test command gives them PostgreSQL (FLOTILLA_TEST_POSTGRES); one SQLite
//! process has nothing to share.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use flotilla_store::{ResourceSpec, Store};
use serde_json::json;

fn on_postgres() -> bool {
    let shared = std::env::var(flotilla_testkit::TEST_POSTGRES_ENV).is_ok_and(|v| !v.is_empty());
    if !shared {
        eprintln!("skipped: replicas share a PostgreSQL database ({} is not set)", flotilla_testkit::TEST_POSTGRES_ENV);
    }
    shared
}

/// A fleet of `n` clusters labelled env=prod whose writes are recorded, with its first
/// replica; and the clusters' names.
async fn recorded_fleet(n: usize) -> (common::Fleet, Vec<String>) {
    let clusters: Vec<String> = (0..n).map(|i| format!("c{i:02}")).collect();
    let spec: Vec<(&str, &str)> = clusters.iter().map(|c| (c.as_str(), "env=prod")).collect();
    let fleet = common::fleet(&spec).await;
    for name in &clusters {
        fleet.sim.cluster(name).unwrap().record_writes();
    }
    (fleet, clusters)
}

fn configmap(value: &str) -> ResourceSpec {
    ResourceSpec::new(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"v": value}
    }))
}

/// Cluster leases per holder.
async fn cluster_leases(store: &Store) -> HashMap<String, usize> {
    let mut held = HashMap::new();
    for (name, holder, _, expires_at) in store.leases().await.unwrap() {
        if let (true, Some(holder)) = (name.starts_with("cluster:"), holder)
            && expires_at > flotilla_store::now_ms()
        {
            *held.entry(holder).or_default() += 1;
        }
    }
    held
}

/// Per cluster, the writers in the order they wrote: each replica's writes must be one run
/// (a replica that handed a cluster over, or lost it, never writes to it again) — except
/// `survivor`, which may take its clusters back once the others are gone: its second run must
/// then be the last.
fn assert_one_writer_at_a_time(fleet: &common::Fleet, clusters: &[String], survivor: Option<&str>) -> usize {
    let mut writes = 0;
    for name in clusters {
        let log = fleet.sim.cluster(name).unwrap().write_log();
        writes += log.len();
        let mut runs: Vec<String> = Vec::new();
        for w in &log {
            let agent = w.user_agent.clone().unwrap_or_default();
            assert!(agent.contains("replica/"), "{name}: a write without the replica's name: {w:?}");
            if runs.last() != Some(&agent) {
                runs.push(agent);
            }
        }
        for (i, agent) in runs.iter().enumerate() {
            let again = runs[..i].contains(agent);
            let back_for_good = survivor.is_some_and(|s| agent.ends_with(&format!("replica/{s}")))
                && i == runs.len() - 1
                && runs.iter().filter(|a| *a == agent).count() == 2;
            assert!(!again || back_for_good, "{name}: {agent} wrote again after another replica: {runs:?}");
        }
    }
    writes
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_the_clusters_and_a_change_made_on_either_converges_everywhere() {
    if !on_postgres() {
        return;
    }
    // Rendezvous hashing gives each of R replicas about 1/R of the clusters: with 16, the
    // chance that one of two replicas gets none is 2^-15.
    let (fleet, clusters) = recorded_fleet(16).await;
    let n = clusters.len();
    let b = fleet.replica().await;
    let (a_id, b_id) = (fleet.store.replica().to_owned(), b.store.replica().to_owned());
    wait_for("the clusters shared between the two replicas", Duration::from_secs(10), async || {
        let held = cluster_leases(&fleet.store).await;
        held.values().sum::<usize>() == n && held.get(&a_id) > Some(&0) && held.get(&b_id) > Some(&0)
    })
    .await;

    // Made through A; then changed through B.
    let (ws, project) = fleet.project("env=prod", "shop", "").await;
    let cm = fleet.add(&ws, Some((&project, "shop")), &configmap("one")).await;
    for name in &clusters {
        fleet.wait_synced_rev(&cm, name, 1).await;
    }
    let version = b.store.get_resource(&fleet.tenant, &cm).await.unwrap().version;
    b.store
        .update_resource(
            &fleet.tenant,
            &common::actor(),
            flotilla_domain::Clearance::TenantAdmin,
            &cm,
            version,
            &configmap("two"),
        )
        .await
        .unwrap();
    for name in &clusters {
        fleet.wait_synced_rev(&cm, name, 2).await;
        let object = fleet.member_configmap(name, "shop", "settings").await.unwrap();
        assert_eq!(object["v"], "two", "{name}");
    }
    let writes = assert_one_writer_at_a_time(&fleet, &clusters, None);
    // Per cluster: the namespace, then the ConfigMap twice; a hand-off rewrites nothing.
    assert_eq!(writes, n * 3, "each object written once per revision");
    b.engine.shutdown().await;
    fleet.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_that_stops_or_loses_the_database_has_its_clusters_taken_over() {
    if !on_postgres() {
        return;
    }
    // With 30 clusters the chance that one of three replicas gets none of them is about
    // 3·(2/3)^30 ≈ 2·10^-5 (with 8 it was 12 %, and the check below failed that often).
    let (fleet, clusters) = recorded_fleet(30).await;
    let n = clusters.len();
    let b = fleet.replica().await;
    let c = fleet.replica().await;
    let ids = [fleet.store.replica().to_owned(), b.store.replica().to_owned(), c.store.replica().to_owned()];
    wait_for("the clusters shared among three replicas", Duration::from_secs(10), async || {
        let held = cluster_leases(&fleet.store).await;
        held.values().sum::<usize>() == n && held.len() == 3
    })
    .await;
    let (ws, project) = fleet.project("env=prod", "shop", "").await;
    let cm = fleet.add(&ws, Some((&project, "shop")), &configmap("one")).await;
    for name in &clusters {
        fleet.wait_synced_rev(&cm, name, 1).await;
    }

    // B stops cleanly: it releases its leases, and the others take them at their next look.
    b.engine.shutdown().await;
    wait_for("B's clusters taken over", Duration::from_secs(5), async || {
        let held = cluster_leases(&fleet.store).await;
        held.values().sum::<usize>() == n && !held.contains_key(&ids[1])
    })
    .await;

    // C loses the database (as a replica cut off from it, or killed, does): it can neither
    // renew its leases nor pass the fence, so it writes nothing more; its leases expire and
    // A, the one replica still alive, takes them.
    c.store.close_for_tests().await;
    let lost_at = tokio::time::Instant::now();
    wait_for("C's clusters taken over", Duration::from_secs(15), async || {
        let held = cluster_leases(&fleet.store).await;
        held.get(&ids[0]) == Some(&n)
    })
    .await;
    println!("C's clusters taken over after {:?} (lease time 3 s)", lost_at.elapsed());

    fleet.update(&cm, &configmap("two")).await;
    for name in &clusters {
        fleet.wait_synced_rev(&cm, name, 2).await;
    }
    // A may have handed a cluster to B or C while the three shared them (the shares settle a
    // moment after every replica holds some), and takes it back once they are gone.
    assert_one_writer_at_a_time(&fleet, &clusters, Some(&ids[0]));
    fleet.engine.shutdown().await;
}
