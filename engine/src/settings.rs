use std::sync::Arc;
use std::time::Duration;

use flotilla_outbound::OutboundPolicy;

/// How the engine paces itself. The defaults suit a real fleet; tests shorten them.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Every worker re-checks everything it manages this often (catches anything missed).
    pub resync: Duration,
    /// How often a Ready cluster's `/version` is probed.
    pub probe: Duration,
    /// Backoff after a failure, per cluster: doubles from `backoff_min` to `backoff_max`,
    /// with jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Each request to a member gives up after this long (the cluster then counts as slow
    /// or offline, never blocking others).
    pub request_timeout: Duration,
    /// Watch managed objects for drift and workload health.
    pub watch: bool,
    /// Clusters served from one origin (a Rancher server, the simulator) share HTTP/2
    /// connections. A cluster joins a connection while fewer than this many long-lived
    /// streams use it (each cluster counts one, each of its watches one more), and never
    /// more than three quarters of the concurrent streams the server allows (kube-apiserver
    /// 100, Go's default 250), leaving room for watches that restart and for probes. Fewer,
    /// fuller connections cost both ends less: frames of many streams go out in one write.
    pub streams_per_connection: usize,
    /// Which addresses the engine may connect to (the server's `--outbound-*` settings).
    pub outbound: Arc<OutboundPolicy>,
    /// The longest the rollout driver waits between two looks at the active rollouts (it
    /// looks sooner when a status it waits on changes, or a soak or deadline ends).
    pub rollout_tick: Duration,
    /// How replicas on PostgreSQL share the clusters and rollouts (unused on SQLite).
    pub leases: crate::LeaseSettings,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(300),
            probe: Duration::from_secs(5),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            watch: true,
            streams_per_connection: 1000,
            outbound: Arc::default(),
            rollout_tick: Duration::from_secs(1),
            leases: crate::LeaseSettings::default(),
        }
    }
}
