//! A member cluster as users see it: no credentials, ever.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A registered cluster, as listed to users and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub id: String,
    pub name: String,
    pub api_server_url: String,
    pub labels: BTreeMap<String, String>,
    /// `Unknown`, `Ready` or `Offline`.
    pub health: String,
    pub health_reason: String,
    pub server_version: Option<String>,
    /// What an edit must name to be applied (optimistic concurrency).
    #[serde(default)]
    pub version: i64,
    /// Set while the cluster is being deregistered: `cleanup` (Flotilla's objects are
    /// removed first) or `leave`. Such a cluster takes no new placements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistering: Option<String>,
}

impl ClusterSummary {
    /// Whether free text `query` appears in the name, URL or a `key=value` label
    /// (case-insensitive; an empty query matches everything).
    pub fn matches_text(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        q.is_empty()
            || self.name.to_lowercase().contains(&q)
            || self.api_server_url.to_lowercase().contains(&q)
            || self.labels.iter().any(|(k, v)| format!("{k}={v}").to_lowercase().contains(&q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_search_looks_at_names_urls_and_labels() {
        let row = ClusterSummary {
            id: "1".into(),
            name: "prod-eu-1".into(),
            api_server_url: "https://127.0.0.1:6443/clusters/prod-eu-1".into(),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
            health: "Unknown".into(),
            health_reason: String::new(),
            server_version: None,
            version: 1,
            deregistering: None,
        };
        for q in ["", "PROD-eu", "env=prod", "6443", "  eu-1 "] {
            assert!(row.matches_text(q), "{q}");
        }
        for q in ["staging", "env=staging", "us-"] {
            assert!(!row.matches_text(q), "{q}");
        }
    }
}
