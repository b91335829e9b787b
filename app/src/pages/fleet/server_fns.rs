//! The fleet page's server functions: the tenant's clusters with what reaches them, their
//! labels, deregistering.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ClusterSummary, FleetRow};

/// The clusters of the caller's tenant.
#[server(endpoint = "fleet/clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
    crate::error::with_status(ssr::list_clusters().await)
}

/// Every cluster of the caller's tenant with the workspaces and projects placed on it.
#[server(endpoint = "fleet/overview")]
pub async fn fleet_overview() -> Result<Vec<FleetRow>, AppError> {
    crate::error::with_status(ssr::overview().await)
}

/// Replaces a cluster's labels (`key=value,…`), if it is still at `version`. Moves it into
/// or out of workspaces and projects; the engine follows.
#[server(endpoint = "fleet/set-labels")]
pub async fn set_cluster_labels(id: String, version: i64, labels: String) -> Result<FleetRow, AppError> {
    crate::error::with_status(ssr::set_labels(id, version, labels).await)
}

/// Deregisters a cluster, if it is still at `version`. `confirm` must repeat its name.
/// With `cleanup`, Flotilla first removes its objects from the cluster; otherwise they stay.
#[server(endpoint = "fleet/deregister")]
pub async fn deregister_cluster(id: String, version: i64, cleanup: bool, confirm: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::deregister(id, version, cleanup, confirm).await)
}

/// Gives a joined cluster's Flotilla identity a new token (made with its own access) and
/// removes the old one, if the cluster is still at `version`.
#[server(endpoint = "fleet/rotate-credentials")]
pub async fn rotate_credentials(id: String, version: i64) -> Result<FleetRow, AppError> {
    crate::error::with_status(ssr::rotate(id, version).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::time::Duration;

    use flotilla_domain::join as identity;
    use flotilla_domain::parse_labels;
    use flotilla_engine::kubeconfig::ClusterAccess;
    use flotilla_store::Store;

    use crate::AppError;
    use crate::backend::{SessionIds, app_state, matching, require_caller};
    use crate::model::{ClusterSummary, FleetRow};

    /// How long each request of a rotation may take.
    const ROTATE_TIMEOUT: Duration = Duration::from_secs(8);

    pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
        let user = require_caller().await?;
        Ok(app_state()?.store.list_clusters(&user.tenant_id).await?)
    }

    /// The tenant's clusters, each with how many workspaces and projects select it.
    async fn rows(store: &Store, user: &SessionIds) -> Result<Vec<FleetRow>, AppError> {
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let mut counts = std::collections::HashMap::<String, (usize, usize)>::new();
        let mut projects = store.list_tenant_projects(&user.tenant_id).await?;
        for workspace in store.list_workspaces(&user.tenant_id).await? {
            for c in matching(&clusters, &workspace.selector, None) {
                counts.entry(c.id.clone()).or_default().0 += 1;
            }
            for project in projects.remove(&workspace.id).unwrap_or_default() {
                for c in matching(&clusters, &workspace.selector, Some(&project.selector)) {
                    counts.entry(c.id.clone()).or_default().1 += 1;
                }
            }
        }
        Ok(clusters
            .into_iter()
            .map(|cluster| {
                let (workspaces, projects) = counts.get(&cluster.id).copied().unwrap_or_default();
                FleetRow { cluster, workspaces, projects }
            })
            .collect())
    }

    pub async fn overview() -> Result<Vec<FleetRow>, AppError> {
        let user = require_caller().await?;
        rows(&app_state()?.store, &user).await
    }

    pub async fn set_labels(id: String, version: i64, labels: String) -> Result<FleetRow, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let labels = parse_labels(&labels)?;
        let store = app_state()?.store;
        store.set_cluster_labels(&user.tenant_id, &user.username, &id, version, &labels).await?;
        rows(&store, &user).await?.into_iter().find(|r| r.cluster.id == id).ok_or(AppError::NotFound)
    }

    pub async fn rotate(id: String, version: i64) -> Result<FleetRow, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let state = app_state()?;
        let store = state.store;
        // A foreign or unknown id is not found, whatever it is elsewhere.
        let cluster =
            store.engine_cluster(&id).await?.filter(|c| c.tenant_id == user.tenant_id).ok_or(AppError::NotFound)?;
        if !identity::is_joined(&cluster.labels) {
            return Err(AppError::Invalid {
                field: "cluster".into(),
                message: format!(
                    "{} was registered with a token of its own, not joined: Flotilla has no identity there to rotate \
                     (register it again with “Join” to give it one)",
                    cluster.name
                ),
            });
        }
        if cluster.version != version {
            // Said before a token is made in the member (the store would refuse it after).
            return Err(AppError::Conflict(format!(
                "{} was changed since you opened it: reload the fleet",
                cluster.name
            )));
        }
        let current = ClusterAccess { server: cluster.api_server_url, ca_pem: cluster.ca_pem, token: cluster.token };
        let failed =
            |why: String| AppError::Invalid { field: "cluster".into(), message: format!("could not rotate: {why}") };
        let rotation =
            flotilla_engine::join::rotate(&current, state.outbound.clone(), ROTATE_TIMEOUT).await.map_err(failed)?;
        store.set_cluster_token(&user.tenant_id, &user.username, &id, version, &rotation.access.token).await?;
        // Stored: the old token may go (the engine reconnects with the new one).
        rotation.finish(state.outbound.clone(), ROTATE_TIMEOUT).await.map_err(failed)?;
        rows(&store, &user).await?.into_iter().find(|r| r.cluster.id == id).ok_or(AppError::NotFound)
    }

    pub async fn deregister(id: String, version: i64, cleanup: bool, confirm: String) -> Result<(), AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let store = app_state()?.store;
        let cluster =
            store.list_clusters(&user.tenant_id).await?.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
        if confirm.trim() != cluster.name {
            return Err(AppError::Invalid {
                field: "confirm".into(),
                message: format!("type the cluster's name, {}, to confirm", cluster.name),
            });
        }
        Ok(store.deregister_cluster(&user.tenant_id, &user.username, &id, version, cleanup).await?)
    }
}
