//! Measures the simulator at fleet scale: memory per empty cluster and per stored object,
//! then (with --serve) keeps serving so a load tool can measure throughput.
//!
//!   cargo run --release -p flotilla-simulator --example footprint -- 5000 20 [--serve]
//!
//! Prints the resident memory growth (from /proc/self/statm) per cluster and per object, and
//! for --serve a URL and token for `wrk`.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use flotilla_simulator::{SimSettings, Simulator, config};
use serde_json::json;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let clusters: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let per_cluster: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let serve = args.iter().any(|a| a == "--serve");

    let before = rss_bytes();
    let started = Instant::now();
    let sim = Simulator::start("127.0.0.1:0".parse()?, config::generated(clusters), SimSettings::default()).await?;
    let with_clusters = rss_bytes();
    let start_time = started.elapsed();

    // A ConfigMap of about 600 bytes of JSON, like a small application config.
    let started = Instant::now();
    for cluster in sim.fleet().all() {
        for i in 0..per_cluster {
            let cm = json!({"metadata": {"name": format!("cm-{i}"), "labels": {"app.kubernetes.io/managed-by": "flotilla", "flotilla.io/resource": format!("r-{i}")},
                "annotations": {"flotilla.io/revision": "1", "flotilla.io/hash": "3f0c9a1e5b7d2c4f"}},
                "data": {"settings.yaml": "log:\n  level: info\n  format: json\nserver:\n  port: 8080\n  timeout: 30s\nfeatures:\n  - audit\n  - metrics\n", "region": "eu"}});
            cluster.create_object("v1", "configmaps", Some("default"), cm).map_err(|e| anyhow::anyhow!(e.message))?;
        }
    }
    let with_objects = rss_bytes();
    let seed_time = started.elapsed();
    let objects = clusters * per_cluster;

    println!("clusters: {clusters} (started in {:.2?})", start_time);
    println!(
        "memory per empty cluster: {:.1} KiB",
        (with_clusters.saturating_sub(before)) as f64 / clusters as f64 / 1024.0
    );
    if objects > 0 {
        println!(
            "objects: {objects} ConfigMaps (seeded in {:.2?}); memory per stored object: {:.2} KiB",
            seed_time,
            (with_objects.saturating_sub(with_clusters)) as f64 / objects as f64 / 1024.0
        );
    }
    println!("resident memory total: {:.1} MiB", with_objects as f64 / 1024.0 / 1024.0);

    if serve {
        let first = sim.fleet().all().into_iter().next().expect("at least one cluster");
        println!("url: {}/api/v1/namespaces/default/configmaps/cm-0", sim.server_url(first.name()));
        println!("token: {}", first.token);
        println!("serving until Ctrl-C");
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}
