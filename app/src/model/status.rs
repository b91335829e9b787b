//! A status as the browser sees it.

use serde::{Deserialize, Serialize};

/// One resource's status in one cluster, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub resource_id: String,
    pub cluster_id: String,
    /// A propagation code (`Synced`, `ClusterNotReady`, …).
    pub code: String,
    pub message: String,
    pub applied_revision: Option<i64>,
    /// Workload health as `Healthy 3/3`, `Progressing 1/3 updated, 0/3 ready`, …
    pub health: Option<String>,
}

/// A stored status as the browser sees it: without its tenant, the rendered hash or what
/// the member answered, which stay on the server.
#[cfg(feature = "ssr")]
impl From<&flotilla_store::StatusRecord> for StatusView {
    fn from(r: &flotilla_store::StatusRecord) -> Self {
        Self {
            resource_id: r.resource_id.clone(),
            cluster_id: r.cluster_id.clone(),
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
            applied_revision: r.applied_revision,
            health: r.health.map(|h| h.to_string()),
        }
    }
}
