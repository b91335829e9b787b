//! How long a change committed through one replica takes to be announced on another: two
//! stores (two pools, two change log followers) on one PostgreSQL database; a workspace's
//! selector changed through A, timed from just before A's call until B's change feed has it
//! (what wakes B's engine workers and B's live streams). The scale-out promises p95 ≤ 250 ms.
//!
//! ```sh
//! FLOTILLA_TEST_POSTGRES=postgres://postgres@127.0.0.1:55432 cargo bench -p flotilla-store --bench change_latency -- 300
//! ```
//! (the test command's throwaway server, or any server where the role may create databases).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use flotilla_domain::ResourceName;
use flotilla_store::{Actor, Change, SecretCipher, SecretKey, Store};

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(300);
    let Ok(server) = std::env::var(flotilla_testkit::TEST_POSTGRES_ENV) else {
        eprintln!("set {} to a PostgreSQL server URL", flotilla_testkit::TEST_POSTGRES_ENV);
        std::process::exit(2);
    };
    let url = flotilla_testkit::fresh_postgres_database(&server).await;
    let key = SecretKey::generate();
    let a = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let b = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let tenant = a.bootstrap(None).await.unwrap().tenant_id;
    let actor = Actor::system("bench");
    let name = ResourceName::parse("name", "bench").unwrap();
    let ws = a.create_workspace(&tenant, &actor, &name, "").await.unwrap();
    let mut heard = b.subscribe_changes();
    let mut version = ws.version;
    let mut took = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let selector = format!("round={round}");
        let started = Instant::now();
        version = a.set_workspace_selector(&tenant, &actor, &ws.id, &selector, version).await.unwrap().version;
        loop {
            match tokio::time::timeout(Duration::from_secs(5), heard.recv()).await {
                Ok(Ok(Change::Workspace { id, .. })) if id == ws.id => break,
                Ok(Ok(_)) => continue,
                other => panic!("round {round}: B heard nothing: {other:?}"),
            }
        }
        took.push(started.elapsed());
        // Changes come one at a time here, as people make them, not in a burst.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!(
        "change through A, announced on B ({rounds} changes): p50 {:?}, p95 {:?}, p99 {:?}, max {:?} (target p95 ≤ 250 ms)",
        at(0.50),
        at(0.95),
        at(0.99),
        took[took.len() - 1]
    );
}
