//! The fleet as the dashboard sees it: server functions and their types.

use leptos::prelude::*;

pub use flotilla_domain::ClusterSummary;

use crate::AppError;

/// The clusters of the caller's tenant.
#[server(endpoint = "fleet/clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
    crate::error::with_status(ssr::list_clusters().await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::ClusterSummary;
    use crate::AppError;
    use crate::auth::ssr::require_user;
    use crate::state::app_state;

    pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
        let user = require_user().await?;
        Ok(app_state()?.store.list_clusters(&user.tenant_id).await?)
    }
}
