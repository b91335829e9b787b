//! `flotilla-simulator`: serve simulated Kubernetes clusters on one port.
//!
//!   flotilla-simulator --demo --kubeconfig-dir ./sim
//!   flotilla-simulator --count 5000 --listen 127.0.0.1:6443
//!   flotilla-simulator --config fleet.toml

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use flotilla_simulator::{SimSettings, Simulator, WorkloadSettings, config};

#[derive(Debug, Parser)]
#[command(name = "flotilla-simulator", version, about = "Simulated Kubernetes member clusters over HTTP")]
struct Args {
    /// Address to serve on.
    #[arg(long, env = "FLOTILLA_SIM_LISTEN", default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// TOML file listing the clusters and their labels.
    #[arg(long, conflicts_with_all = ["demo", "count"])]
    config: Option<PathBuf>,
    /// The 12-cluster demo fleet (env prod/staging, region eu/us).
    #[arg(long, conflicts_with = "count")]
    demo: bool,
    /// N generated clusters with cycling env/region/tier labels.
    #[arg(long)]
    count: Option<usize>,
    /// Write a kubeconfig per cluster (and fleet.kubeconfig) into this folder.
    #[arg(long)]
    kubeconfig_dir: Option<PathBuf>,
    /// Milliseconds per workload rollout step (one pod).
    #[arg(long, default_value_t = 200)]
    tick_ms: u64,
    /// Images containing this (or any of several, comma-separated) never become ready.
    #[arg(long, default_value = "broken")]
    broken_image_pattern: String,
    /// Seconds before a stuck rollout reports ProgressDeadlineExceeded.
    #[arg(long, default_value_t = 30)]
    progress_deadline_s: u64,
    /// Serve plain HTTP instead of HTTPS (kubectl then refuses to send tokens).
    #[arg(long)]
    plain_http: bool,
    /// The token the admin API requires (`Authorization: Bearer …`); random when not given,
    /// and written to `<kubeconfig-dir>/admin-token`.
    #[arg(long, env = "FLOTILLA_SIM_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let specs = match (&args.config, args.demo, args.count) {
        (Some(path), _, _) => config::from_file(path)?,
        (None, true, _) => config::demo(),
        (None, false, Some(n)) => config::generated(n),
        (None, false, None) => config::demo(),
    };
    let settings = SimSettings {
        tick: Duration::from_millis(args.tick_ms.max(1)),
        workloads: WorkloadSettings {
            broken_image_pattern: args.broken_image_pattern,
            progress_deadline: Duration::from_secs(args.progress_deadline_s),
            ..WorkloadSettings::default()
        },
        tls: !args.plain_http,
        admin_token: args.admin_token.clone().unwrap_or_else(flotilla_simulator::random_token),
        ..SimSettings::default()
    };
    let count = specs.len();
    let sim = Simulator::start(args.listen, specs, settings).await.context("starting the simulator")?;
    if let Some(dir) = &args.kubeconfig_dir {
        sim.write_kubeconfigs(dir).context("writing kubeconfigs")?;
        tracing::info!(dir = %dir.display(), "kubeconfigs and the admin API token written");
    } else if args.admin_token.is_none() {
        tracing::info!(token = %sim.admin_token(), "admin API token (pass --admin-token to choose one)");
    }
    tracing::info!(clusters = count, url = %sim.base_url(), "serving clusters under /clusters/<name>; admin API under /admin/clusters");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}
