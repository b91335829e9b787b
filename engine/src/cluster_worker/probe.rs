//! Is the cluster there? The worker connects, asks `/version` every probe period (jittered),
//! and publishes the cluster's health when it changes. A cluster that does not answer goes
//! Offline with backoff, and everything placed on it shows `ClusterNotReady` while what it
//! last accepted is kept (nothing is rewritten when it returns unchanged).

use std::time::Duration;

use flotilla_domain::StatusCode;
use flotilla_store::ClusterHealth;
use k8s_openapi::apimachinery::pkg::version::Info;
use rand::Rng;
use tokio::time::Instant;

use super::ClusterWorker;
use crate::member::{self, Refusal};
use crate::metrics::WriteResult;

impl ClusterWorker {
    pub(super) async fn probe(&mut self) {
        if self.client.is_none() {
            let watches = self.expected_watches();
            match self.cx.transports.connect(&self.cluster, watches).await {
                Ok(c) => {
                    self.client = Some(c);
                    self.forget_credentials();
                }
                Err(e) => {
                    self.cx.metrics.failed(WriteResult::Unreachable);
                    self.mark_offline(e.to_string()).await;
                    return;
                }
            }
        }
        let Some(client) = self.client() else { return };
        let Ok(version) = http::Request::get("/version").body(Vec::new()) else { return };
        let timeout = self.cx.settings.request_timeout;
        match tokio::time::timeout(timeout, client.request::<Info>(version)).await {
            Ok(Ok(info)) => {
                let was_ready = self.ready;
                self.ready = true;
                self.failures = 0;
                // Jittered, so a fleet whose workers started together does not probe in
                // one burst every period: the first period after the cluster became ready is
                // anywhere in one period (a replica that starts or takes over thousands of
                // clusters at once spreads their probes over it), later ones ±20 %.
                let spread = if was_ready { 0.8..1.2 } else { 0.1..1.1 };
                let period = self.cx.settings.probe.mul_f64(rand::rng().random_range(spread));
                self.next_probe = Instant::now() + period;
                let health =
                    ClusterHealth { health: "Ready", reason: String::new(), server_version: Some(info.git_version) };
                self.publish_health(health).await;
                if !was_ready {
                    // What it serves, before anything is written or watched.
                    if let Err(Refusal::Unreachable(why) | Refusal::TimedOut(why)) = self.discover().await {
                        self.mark_offline(why).await;
                        return;
                    }
                    self.check_all = true;
                    self.ensure_watches();
                }
            }
            Ok(Err(e)) => {
                let refusal = member::classify(e);
                self.cx.metrics.failed(WriteResult::class(&refusal));
                self.mark_offline(refusal.reason()).await;
            }
            Err(_) => {
                self.cx.metrics.failed(WriteResult::Timeout);
                self.mark_offline(format!("no answer within {} s", timeout.as_secs())).await;
            }
        }
    }

    pub(super) async fn mark_offline(&mut self, reason: String) {
        self.ready = false;
        let delay = self.backoff();
        self.next_probe = Instant::now() + delay;
        self.publish_health(ClusterHealth { health: "Offline", reason: reason.clone(), server_version: None }).await;
        // Everything placed here waits for the cluster; what it last accepted is kept, so
        // nothing is rewritten when it returns unchanged.
        for id in self.placed() {
            self.set_status(&id, StatusCode::ClusterNotReady, format!("cluster offline: {reason}"));
        }
    }

    async fn publish_health(&mut self, health: ClusterHealth) {
        if self.health_published.as_ref() == Some(&health) {
            return;
        }
        if let Err(e) = self.cx.store.set_cluster_health(&self.cluster.id, &health).await {
            tracing::warn!(error = %e, "could not record cluster health");
        }
        let was = self.health_published.as_ref().map(|h| h.health);
        self.cx.metrics.cluster_health_changed(was, Some(health.health));
        self.cx.sink.cluster(&self.cluster.tenant_id, &self.cluster.id, health.clone());
        self.health_published = Some(health);
    }

    /// Exponential backoff with jitter, per cluster.
    pub(super) fn backoff(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let settings = &self.cx.settings;
        let exp = settings.backoff_min.saturating_mul(1 << self.failures.min(16).saturating_sub(1));
        exp.min(settings.backoff_max).mul_f64(rand::rng().random_range(0.8..1.2))
    }
}
