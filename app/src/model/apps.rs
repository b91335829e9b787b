//! Apps: the catalog as the install form and the Apps page show it, and installs.

use std::collections::BTreeMap;

use flotilla_domain::catalog::{AppScope, Parameter};
use serde::{Deserialize, Serialize};

/// An app of the catalog with its versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogApp {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub scope: AppScope,
    pub versions: Vec<CatalogVersionView>,
}

/// One version of an app, with what the install form needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersionView {
    pub id: String,
    pub version: String,
    pub app_version: String,
    pub changelog: String,
    /// Whether going back to the version it replaced is safe.
    pub rollback_safe: bool,
    /// The installed versions it may replace, as a SemVer range (`>=3.7.0, <3.8.1`); empty
    /// when none.
    pub upgrades_from: String,
    /// Built into Flotilla, rather than the tenant's own.
    pub builtin: bool,
    pub parameters: Vec<Parameter>,
}

/// What the install form sends: the version, the install's name, and each parameter's text
/// as typed (parameters left out take their defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallInput {
    pub version_id: String,
    pub name: String,
    pub values: BTreeMap<String, String>,
    /// Per-cluster values, in order: a cluster takes the first rule naming or selecting it.
    #[serde(default)]
    pub rules: Vec<RuleInput>,
}

/// One per-cluster rule as the form sends it: a cluster's name or a label selector (one of
/// the two), and parameter texts as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInput {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub selector: String,
    pub values: BTreeMap<String, String>,
}

/// An install as a project or workspace lists it, its resources folded under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallView {
    pub id: String,
    pub name: String,
    pub app_name: String,
    pub display_name: String,
    pub version: String,
    pub app_version: String,
    pub resource_ids: Vec<String>,
    /// Versions it may be upgraded to, newest first.
    pub upgrades: Vec<String>,
    /// Its per-cluster values in words, in order (`replicas=3 where region=eu`).
    #[serde(default)]
    pub rules: Vec<String>,
    /// The install's version for optimistic concurrency (uninstalling names it).
    #[serde(default)]
    pub row_version: i64,
}

/// One app across the tenant's fleet, for the Apps page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFleet {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub scope: AppScope,
    /// The catalog's versions, newest first.
    pub versions: Vec<String>,
    /// The same versions as the upgrade form offers them.
    pub choices: Vec<VersionChoice>,
    pub installs: Vec<InstallPlace>,
}

/// A version an upgrade may go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChoice {
    pub id: String,
    pub version: String,
    pub changelog: String,
    pub rollback_safe: bool,
    /// Built into Flotilla, rather than added by the tenant.
    pub builtin: bool,
}

impl AppFleet {
    /// Clusters running each version, newest first (an install counts in each of its
    /// clusters).
    pub fn clusters_by_version(&self) -> Vec<(String, usize)> {
        let mut by: Vec<(String, usize)> = Vec::new();
        for version in &self.versions {
            let clusters: usize = self.installs.iter().filter(|i| &i.version == version).map(|i| i.clusters).sum();
            if clusters > 0 || self.installs.iter().any(|i| &i.version == version) {
                by.push((version.clone(), clusters));
            }
        }
        by
    }

    /// "3 installs on 50 clusters — 47 on 3.7.1, 3 on 3.8.1".
    pub fn summary(&self) -> String {
        if self.installs.is_empty() {
            return "Not installed".to_owned();
        }
        let clusters: usize = self.installs.iter().map(|i| i.clusters).sum();
        let mut by = self.clusters_by_version();
        by.reverse();
        let versions = by.iter().map(|(v, n)| format!("{n} on {v}")).collect::<Vec<_>>().join(", ");
        format!(
            "{} on {} — {versions}",
            crate::words::count(self.installs.len(), "install"),
            crate::words::count(clusters, "cluster")
        )
    }
}

/// Where an app is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallPlace {
    pub id: String,
    pub name: String,
    pub version: String,
    /// `workspace/project`, or the workspace for a workspace install.
    pub place: String,
    /// The project's page, or the workspace's.
    pub href: String,
    pub clusters: usize,
    /// The newest version it may be upgraded to, if any.
    pub upgrade: Option<String>,
}

/// An install's health in one cluster: every object synced and every workload healthy at the
/// installed revision, or the worst of what its resources say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppHealth {
    Healthy,
    /// Objects still being written, or workloads rolling out.
    Progressing,
    /// A workload stalled or failing (e.g. an image that does not start).
    Degraded,
    /// An object could not be written.
    Failed,
    /// The cluster does not answer.
    Offline,
}

impl AppHealth {
    /// From the statuses of the install's resources in one cluster (`None`: no status yet).
    pub fn of<'a>(statuses: impl IntoIterator<Item = Option<&'a super::StatusView>>) -> Self {
        let mut worst = Self::Healthy;
        for status in statuses {
            let this = match status {
                None => Self::Progressing,
                Some(s) => match s.code.as_str() {
                    "Synced" => match s.health.as_deref() {
                        Some(h) if h.starts_with("Degraded") => Self::Degraded,
                        Some(h) if !h.starts_with("Healthy") => Self::Progressing,
                        _ => Self::Healthy,
                    },
                    "ClusterNotReady" => Self::Offline,
                    "Pending" | "WaitingForDependency" | "WaitingForRemoval" => Self::Progressing,
                    _ => Self::Failed,
                },
            };
            worst = worst.max(this);
        }
        worst
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::Progressing => "Progressing",
            Self::Degraded => "Degraded",
            Self::Failed => "Failed",
            Self::Offline => "Offline",
        }
    }

    /// Icon and colours (never colour alone).
    pub fn look(self) -> (&'static str, &'static str) {
        match self {
            Self::Healthy => ("✓", "bg-emerald-50 text-emerald-800 ring-emerald-600/20"),
            Self::Progressing => ("◷", "bg-sky-50 text-sky-800 ring-sky-600/20"),
            Self::Degraded => ("!", "bg-amber-50 text-amber-900 ring-amber-600/20"),
            Self::Failed => ("✕", "bg-red-50 text-red-800 ring-red-600/20"),
            Self::Offline => ("⚠", "bg-slate-100 text-slate-700 ring-slate-500/30"),
        }
    }

    fn rank(self) -> u8 {
        match self {
            Self::Healthy => 0,
            Self::Progressing => 1,
            Self::Offline => 2,
            Self::Degraded => 3,
            Self::Failed => 4,
        }
    }
}

impl PartialOrd for AppHealth {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AppHealth {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatusView;

    fn status(code: &str, health: Option<&str>) -> StatusView {
        StatusView {
            resource_id: "r".into(),
            cluster_id: "c".into(),
            code: code.into(),
            message: String::new(),
            applied_revision: Some(1),
            health: health.map(str::to_owned),
        }
    }

    #[test]
    fn an_install_is_healthy_only_when_every_object_is_synced_and_every_workload_healthy() {
        let synced = status("Synced", None);
        let healthy = status("Synced", Some("Healthy 3/3"));
        let rolling = status("Synced", Some("Progressing 1/3 updated, 2/3 ready"));
        let stalled = status("Synced", Some("Degraded: ProgressDeadlineExceeded"));
        let failed = status("CreationFailed", None);
        let offline = status("ClusterNotReady", None);
        assert_eq!(AppHealth::of([Some(&synced), Some(&healthy)]), AppHealth::Healthy);
        assert_eq!(AppHealth::of([Some(&synced), None]), AppHealth::Progressing, "no status yet");
        assert_eq!(AppHealth::of([Some(&healthy), Some(&rolling)]), AppHealth::Progressing);
        assert_eq!(AppHealth::of([Some(&rolling), Some(&stalled)]), AppHealth::Degraded);
        assert_eq!(AppHealth::of([Some(&offline), Some(&stalled), Some(&failed)]), AppHealth::Failed);
        assert_eq!(AppHealth::of([Some(&offline), Some(&rolling)]), AppHealth::Offline);
    }

    #[test]
    fn the_fleet_summary_counts_clusters_by_version() {
        let place = |version: &str, clusters: usize| InstallPlace {
            id: version.into(),
            name: "kafka".into(),
            version: version.into(),
            place: "ws/p".into(),
            href: "/projects/p".into(),
            clusters,
            upgrade: None,
        };
        let app = AppFleet {
            name: "kafka".into(),
            display_name: "Apache Kafka".into(),
            description: String::new(),
            scope: AppScope::Project,
            versions: vec!["3.8.1".into(), "3.8.0".into(), "3.7.1".into()],
            choices: Vec::new(),
            installs: vec![place("3.7.1", 20), place("3.7.1", 27), place("3.8.1", 3)],
        };
        assert_eq!(app.summary(), "3 installs on 50 clusters — 47 on 3.7.1, 3 on 3.8.1");
        assert_eq!(AppFleet { installs: vec![], ..app }.summary(), "Not installed");
    }
}
