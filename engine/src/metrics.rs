//! What the engine counts, for an operator's Prometheus (`/metrics`, served by the server):
//! member writes by verb and result, member errors by class, how long sync passes take, how
//! much work waits, clusters by health, watch restarts, and how far the stored statuses lag
//! the live ones. Figures are fleet-wide: no tenant's or cluster's name is ever a label.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::member::{Outcome, Refusal};

/// A write to a member.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Update,
    Delete,
}

impl Verb {
    fn label(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// How a request to a member ended. Every value but `Ok` is also an error class.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum WriteResult {
    Ok,
    /// No connection, or a 502–504: the cluster is not there.
    Unreachable,
    /// No answer within the request timeout.
    Timeout,
    /// The member said no (invalid, forbidden, conflict, throttled, a server error).
    Refused,
    /// Its namespace or type is missing.
    MissingDependency,
    /// An object of that name exists and is not Flotilla's.
    NotOurs,
}

impl WriteResult {
    pub fn of<T>(outcome: &Outcome<T>) -> Self {
        match outcome {
            Ok(_) => Self::Ok,
            Err(refusal) => Self::class(refusal),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::Refused => "refused",
            Self::MissingDependency => "missing_dependency",
            Self::NotOurs => "not_ours",
        }
    }

    pub fn class(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::Unreachable(_) => Self::Unreachable,
            Refusal::TimedOut(_) => Self::Timeout,
            Refusal::Refused(_) => Self::Refused,
            Refusal::MissingDependency(_) => Self::MissingDependency,
            Refusal::NotOurs => Self::NotOurs,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    verb: &'static str,
    result: &'static str,
}

impl WriteLabels {
    fn new(verb: Verb, result: WriteResult) -> Self {
        Self { verb: verb.label(), result: result.label() }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    health: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The engine's metrics. Cheap to update from any worker; registered once with
/// [`Metrics::register`].
#[derive(Debug)]
pub struct Metrics {
    member_writes: Family<WriteLabels, Counter>,
    member_errors: Family<ClassLabels, Counter>,
    reconcile: Histogram,
    pending: Gauge<i64, AtomicI64>,
    clusters: Family<HealthLabels, Gauge>,
    watch_restarts: Family<ReasonLabels, Counter>,
    persist_lag: Histogram,
    reloads: Counter,
    caught_up: Counter,
    leases: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            member_writes: Family::default(),
            member_errors: Family::default(),
            // 1 ms … ~16 s
            reconcile: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            pending: Gauge::default(),
            clusters: Family::default(),
            watch_restarts: Family::default(),
            // 5 ms … ~10 s
            persist_lag: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
            reloads: Counter::default(),
            caught_up: Counter::default(),
            leases: Gauge::default(),
        }
    }
}

impl Metrics {
    /// Adds the engine's metrics to `registry` (names get the registry's prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register("member_writes", "Writes to member clusters, by verb and result", self.member_writes.clone());
        registry.register(
            "member_errors",
            "Failed requests to member clusters (writes and probes), by class",
            self.member_errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "How long one cluster's sync pass took",
            self.reconcile.clone(),
        );
        registry.register(
            "pending_resources",
            "Resources waiting for a sync pass or a retry, over all clusters",
            self.pending.clone(),
        );
        registry.register("clusters", "Registered clusters by health", self.clusters.clone());
        registry.register("watch_restarts", "Watches on members listed again, by reason", self.watch_restarts.clone());
        registry.register(
            "status_persist_lag_seconds",
            "How long a status waited between being published live and being stored",
            self.persist_lag.clone(),
        );
        registry.register(
            "store_reloads",
            "Times the engine read everything from the store (at start, and after missing change events)",
            self.reloads.clone(),
        );
        registry.register(
            "caught_up",
            "Clusters, workspaces, projects and resources the periodic check found changed without an event",
            self.caught_up.clone(),
        );
        registry.register(
            "leases_held",
            "Cluster and rollout leases this replica holds (PostgreSQL with several replicas)",
            self.leases.clone(),
        );
    }

    /// How many leases this replica holds.
    pub fn leases_held_now(&self) -> i64 {
        self.leases.get()
    }

    pub(crate) fn leases_held(&self, n: usize) {
        self.leases.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// How many times the engine has read everything from the store.
    pub fn store_reloads(&self) -> u64 {
        self.reloads.get()
    }

    /// How many rows the periodic check found changed without an event, and read again.
    pub fn caught_up(&self) -> u64 {
        self.caught_up.get()
    }

    pub(crate) fn reloaded(&self) {
        self.reloads.inc();
    }

    pub(crate) fn catch_up(&self, rows: usize) {
        self.caught_up.inc_by(rows as u64);
    }

    pub(crate) fn wrote(&self, verb: Verb, result: WriteResult) {
        self.member_writes.get_or_create(&WriteLabels::new(verb, result)).inc();
        if result != WriteResult::Ok {
            self.failed(result);
        }
    }

    /// A request to a member failed (`class` is not `Ok`).
    pub(crate) fn failed(&self, class: WriteResult) {
        self.member_errors.get_or_create(&ClassLabels { class: class.label() }).inc();
    }

    pub(crate) fn reconciled(&self, took: Duration) {
        self.reconcile.observe(took.as_secs_f64());
    }

    /// A worker's count of waiting resources went from `was` to `now`.
    pub(crate) fn pending_changed(&self, was: usize, now: usize) {
        let delta = i64::try_from(now).unwrap_or(i64::MAX) - i64::try_from(was).unwrap_or(i64::MAX);
        if delta != 0 {
            self.pending.inc_by(delta);
        }
    }

    /// A cluster's health went from `was` to `now` (`None`: not counted, e.g. its worker
    /// started or ended).
    pub(crate) fn cluster_health_changed(&self, was: Option<&str>, now: Option<&str>) {
        if was == now {
            return;
        }
        if let Some(was) = was {
            self.clusters.get_or_create(&HealthLabels { health: was.to_owned() }).dec();
        }
        if let Some(now) = now {
            self.clusters.get_or_create(&HealthLabels { health: now.to_owned() }).inc();
        }
    }

    pub(crate) fn watch_restarted(&self, reason: &'static str) {
        self.watch_restarts.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub(crate) fn persisted(&self, lag: Duration) {
        self.persist_lag.observe(lag.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(registry: &Registry) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, registry).unwrap();
        out
    }

    #[test]
    fn counts_show_in_the_exposition_with_their_labels() {
        let metrics = Metrics::default();
        let mut registry = Registry::with_prefix("flotilla");
        metrics.register(&mut registry);
        metrics.wrote(Verb::Create, WriteResult::Ok);
        metrics.wrote(Verb::Update, WriteResult::Timeout);
        metrics.cluster_health_changed(None, Some("Ready"));
        metrics.cluster_health_changed(None, Some("Ready"));
        metrics.cluster_health_changed(Some("Ready"), Some("Offline"));
        metrics.pending_changed(0, 5);
        metrics.pending_changed(5, 2);
        let out = text(&registry);
        for line in [
            r#"flotilla_member_writes_total{verb="create",result="ok"} 1"#,
            r#"flotilla_member_writes_total{verb="update",result="timeout"} 1"#,
            r#"flotilla_member_errors_total{class="timeout"} 1"#,
            r#"flotilla_clusters{health="Ready"} 1"#,
            r#"flotilla_clusters{health="Offline"} 1"#,
            "flotilla_pending_resources 2",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line} in\n{out}");
        }
    }
}
