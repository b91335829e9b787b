//! A workspace: the clusters it selects, its projects and its cluster-scoped resources.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A workspace in the list: its selector and what it reaches now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub id: String,
    pub name: String,
    /// Canonical text form (`env=prod,region in (eu,us)`); empty selects every cluster.
    pub selector: String,
    pub version: i64,
    /// Clusters the selector matches now.
    pub clusters: usize,
    pub projects: usize,
}

/// A cluster as a page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub id: String,
    pub name: String,
    /// `Unknown`, `Ready` or `Offline`.
    pub health: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_reason: String,
}

/// A project's (or one resource's) statuses and its clusters' health as they are now (read
/// again when a page's live stream opens: what changed while the page loaded was on neither).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusesNow {
    pub statuses: Vec<crate::model::StatusView>,
    pub clusters: Vec<ClusterRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    /// Narrows the workspace's clusters; empty keeps them all.
    pub selector: String,
    pub clusters: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceDetail {
    pub workspace: WorkspaceSummary,
    /// The clusters the workspace selects now.
    pub clusters: Vec<ClusterRef>,
    pub projects: Vec<ProjectSummary>,
    /// Its cluster-scoped resources (Namespaces, ClusterRoles, CRDs, …).
    pub resources: Vec<WorkspaceResource>,
    /// Every label of those clusters, for previews in the browser.
    pub cluster_labels: Vec<BTreeMap<String, String>>,
    /// The caller's level on the workspace; `None` when they see it only through some of its
    /// projects.
    pub level: Option<flotilla_domain::Level>,
    /// Apps installed in the workspace itself (cluster-scoped ones); their resources are
    /// among `resources`.
    #[serde(default)]
    pub installs: Vec<super::InstallView>,
}

/// A cluster-scoped resource of a workspace with how its rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceResource {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    /// Clusters that report it Synced, that report it failing, and that have a status.
    pub synced: usize,
    pub failing: usize,
    pub placed: usize,
}
