//! What the live stream (`GET /api/events`, server-sent events) tells the browser. Each
//! event is one of these as JSON, named by its kind (`event: status`, …).

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

/// An event of the live stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A status changed.
    Status(StatusView),
    /// The resource no longer has a status in the cluster (removed, orphaned, unplaced).
    Removed { resource_id: String, cluster_id: String },
    /// A cluster's health changed.
    Cluster { cluster_id: String, health: String, reason: String, server_version: Option<String> },
    /// Events were missed (the reader fell behind): read the current state again.
    Resync,
}

impl LiveEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Removed { .. } => "removed",
            Self::Cluster { .. } => "cluster",
            Self::Resync => "resync",
        }
    }
}

#[cfg(feature = "ssr")]
impl LiveEvent {
    /// The engine's event as the browser sees it (tenant and hashes stay on the server).
    pub fn from_engine(event: &flotilla_engine::StatusEvent) -> Self {
        use flotilla_engine::StatusEvent as E;
        match event {
            E::Resource(r) => Self::from_record(r),
            E::Removed { resource_id, cluster_id, .. } => {
                Self::Removed { resource_id: resource_id.clone(), cluster_id: cluster_id.clone() }
            }
            E::Cluster { cluster_id, health, .. } => Self::Cluster {
                cluster_id: cluster_id.clone(),
                health: health.health.to_owned(),
                reason: health.reason.clone(),
                server_version: health.server_version.clone(),
            },
        }
    }

    /// A stored status as the browser sees it.
    pub fn from_record(r: &flotilla_store::StatusRecord) -> Self {
        Self::Status(StatusView {
            resource_id: r.resource_id.clone(),
            cluster_id: r.cluster_id.clone(),
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
            applied_revision: r.applied_revision,
            health: r.health.map(|h| h.to_string()),
        })
    }
}
