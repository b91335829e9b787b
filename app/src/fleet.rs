//! The fleet as the dashboard sees it: server functions and their types.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// One cluster row (no credentials ever).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRow {
    pub name: String,
    pub api_server_url: String,
    pub labels: BTreeMap<String, String>,
    pub health: String,
    pub health_reason: String,
    pub server_version: Option<String>,
}

impl ClusterRow {
    /// Whether free text `query` appears in the name, URL or a `key=value` label.
    pub fn matches_text(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        q.is_empty()
            || self.name.to_lowercase().contains(&q)
            || self.api_server_url.to_lowercase().contains(&q)
            || self.labels.iter().any(|(k, v)| format!("{k}={v}").to_lowercase().contains(&q))
    }
}

/// The clusters of the caller's tenant.
#[server(endpoint = "fleet/clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterRow>, AppError> {
    crate::error::with_status(ssr::list_clusters().await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::ClusterRow;
    use crate::AppError;
    use crate::auth::ssr::require_user;
    use crate::state::app_state;

    pub async fn list_clusters() -> Result<Vec<ClusterRow>, AppError> {
        let user = require_user().await?;
        let clusters = app_state()?.store.list_clusters(&user.tenant_id).await?;
        Ok(clusters
            .into_iter()
            .map(|c| ClusterRow {
                name: c.name,
                api_server_url: c.api_server_url,
                labels: c.labels,
                health: c.health,
                health_reason: c.health_reason,
                server_version: c.server_version,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_search_looks_at_names_urls_and_labels() {
        let row = ClusterRow {
            name: "prod-eu-1".into(),
            api_server_url: "https://127.0.0.1:6443/clusters/prod-eu-1".into(),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
            health: "Unknown".into(),
            health_reason: String::new(),
            server_version: None,
        };
        for q in ["", "PROD-eu", "env=prod", "6443", "  eu-1 "] {
            assert!(row.matches_text(q), "{q}");
        }
        for q in ["staging", "env=staging", "us-"] {
            assert!(!row.matches_text(q), "{q}");
        }
    }
}
