//! One federated resource as its page shows and edits it, and a change's review.

use std::collections::BTreeMap;

use flotilla_domain::Placement;
use flotilla_domain::review::ClusterChange;
use serde::{Deserialize, Serialize};

use super::{ClusterRef, StatusView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDetail {
    /// What the caller may do with it (the page hides the rest; the server refuses it anyway).
    pub level: flotilla_domain::Level,
    pub id: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    /// What an edit must name to be applied (optimistic concurrency).
    pub version: i64,
    pub workspace_id: String,
    pub workspace_name: String,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    /// The template as YAML; a Secret's without its values.
    pub yaml: String,
    /// A Secret's keys (its values never leave the server); `None` for other kinds.
    pub secret_keys: Option<Vec<String>>,
    pub placement: Placement,
    pub overrides: Vec<OverrideRow>,
    /// `delete` or `orphan`: what deleting it does by default.
    pub deletion_policy: String,
    /// The clusters of its workspace (and project), which placement chooses from.
    pub clusters: Vec<ClusterRef>,
    /// Their labels, in `clusters` order, for the placement preview.
    pub cluster_labels: Vec<BTreeMap<String, String>>,
    pub statuses: Vec<StatusView>,
    /// Why it cannot be edited or deleted here, if so.
    pub locked: Option<String>,
}

/// One patch of a per-cluster override, as the editor's row holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRow {
    pub cluster: String,
    /// `add`, `replace` or `remove`.
    pub op: String,
    /// A JSON pointer into the object (`/spec/replicas`, `/data/LOG_LEVEL`).
    pub path: String,
    /// Typed like what it overrides (see `flotilla_domain::overrides::value_from_text`).
    pub value: String,
}

/// An edit as the editor sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceEdit {
    pub yaml: String,
    pub placement: Placement,
    pub overrides: Vec<OverrideRow>,
    /// Secrets: values to set (plain text), by key. Keys not named keep their values.
    #[serde(default)]
    pub secret_set: BTreeMap<String, String>,
    /// Secrets: keys to remove.
    #[serde(default)]
    pub secret_remove: Vec<String>,
}

/// What a change will do, cluster by cluster (identical changes grouped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub changes: Vec<ClusterChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionView {
    pub revision: i64,
    pub author: String,
    pub message: String,
    /// UTC, to the second.
    pub at: String,
}
