//! The fleet as the dashboard sees it: server functions and their types.

use leptos::prelude::*;

pub use flotilla_domain::ClusterSummary;

use crate::AppError;

/// The clusters of the caller's tenant.
#[server(endpoint = "fleet/clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
    crate::error::with_status(ssr::list_clusters().await)
}

/// A cluster as the fleet page lists it: with how many workspaces and projects reach it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FleetRow {
    pub cluster: ClusterSummary,
    pub workspaces: usize,
    pub projects: usize,
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

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::parse_labels;
    use flotilla_store::Store;

    use super::{ClusterSummary, FleetRow};
    use crate::AppError;
    use crate::auth::ssr::{SessionIds, require_caller};
    use crate::state::app_state;
    use crate::workspaces::ssr::matching;

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

/// A kubeconfig context as the register form offers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContextChoice {
    pub name: String,
    pub server: String,
    /// Why it cannot be used, if it cannot (shown, and the option disabled).
    pub problem: Option<String>,
}

/// The contexts of a pasted or uploaded kubeconfig, the current one first.
#[server(endpoint = "fleet/read-kubeconfig")]
pub async fn read_kubeconfig(kubeconfig: String) -> Result<Vec<ContextChoice>, AppError> {
    crate::error::with_status(register::read_kubeconfig(kubeconfig).await)
}

/// Connects to the context's API server as the engine would; answers its version.
#[server(endpoint = "fleet/test-connection")]
pub async fn test_connection(kubeconfig: String, context: String) -> Result<String, AppError> {
    crate::error::with_status(register::test_connection(kubeconfig, context).await)
}

/// Registers the context's cluster under `name` with `labels` (`key=value,…`). The
/// credentials are stored encrypted and never sent back.
#[server(endpoint = "fleet/register")]
pub async fn register_cluster(
    kubeconfig: String,
    context: String,
    name: String,
    labels: String,
) -> Result<ClusterSummary, AppError> {
    crate::error::with_status(register::register_cluster(kubeconfig, context, name, labels).await)
}

#[cfg(feature = "ssr")]
mod register {
    use std::time::Duration;

    use flotilla_domain::{ResourceName, parse_labels};
    use flotilla_engine::kubeconfig;
    use flotilla_store::NewCluster;

    use super::{ClusterSummary, ContextChoice};
    use crate::AppError;
    use crate::auth::ssr::require_caller;
    use crate::state::app_state;

    const TEST_TIMEOUT: Duration = Duration::from_secs(8);

    fn invalid(field: &str, message: String) -> AppError {
        AppError::Invalid { field: field.to_owned(), message }
    }

    pub async fn read_kubeconfig(text: String) -> Result<Vec<ContextChoice>, AppError> {
        require_caller().await?.require_tenant_admin()?;
        let contexts = kubeconfig::contexts(&text).map_err(|m| invalid("kubeconfig", m))?;
        Ok(contexts.into_iter().map(|c| ContextChoice { name: c.name, server: c.server, problem: c.problem }).collect())
    }

    pub async fn test_connection(text: String, context: String) -> Result<String, AppError> {
        require_caller().await?.require_tenant_admin()?;
        let access = kubeconfig::access(&text, &context).map_err(|m| invalid("context", m))?;
        kubeconfig::test_connection(&access, TEST_TIMEOUT)
            .await
            .map_err(|why| invalid("context", format!("cannot reach {}: {why}", access.server)))
    }

    pub async fn register_cluster(
        text: String,
        context: String,
        name: String,
        labels: String,
    ) -> Result<ClusterSummary, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let name = ResourceName::parse("name", name.trim())?;
        let labels = parse_labels(&labels)?;
        let access = kubeconfig::access(&text, &context).map_err(|m| invalid("context", m))?;
        let store = app_state()?.store;
        let cluster =
            NewCluster { name, api_server_url: access.server, ca_pem: access.ca_pem, token: access.token, labels };
        let id = store.register_cluster(&user.tenant_id, &user.username, &cluster, false).await?;
        store.list_clusters(&user.tenant_id).await?.into_iter().find(|c| c.id == id).ok_or(AppError::Internal)
    }
}
