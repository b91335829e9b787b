//! Workspaces and their projects as the dashboard sees them: server functions and types.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

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

/// The workspaces of the caller's tenant, by name.
#[server(endpoint = "workspaces/list")]
pub async fn list_workspaces() -> Result<Vec<WorkspaceSummary>, AppError> {
    crate::error::with_status(ssr::list_workspaces().await)
}

/// Creates a workspace selecting clusters by `selector`. Errors name the field (`name`,
/// `selector`).
#[server(endpoint = "workspaces/create")]
pub async fn create_workspace(name: String, selector: String) -> Result<WorkspaceSummary, AppError> {
    crate::error::with_status(ssr::create_workspace(name, selector).await)
}

/// Changes a workspace's selector, if the workspace is still at `version`. Clusters that no
/// longer match lose its objects; new matches receive them.
#[server(endpoint = "workspaces/set-selector")]
pub async fn set_workspace_selector(id: String, version: i64, selector: String) -> Result<WorkspaceSummary, AppError> {
    crate::error::with_status(ssr::set_selector(id, version, selector).await)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use flotilla_domain::{ClusterSummary, Reach, ResourceName};
    use flotilla_store::Workspace;

    use super::WorkspaceSummary;
    use crate::AppError;
    use flotilla_domain::Level;

    use crate::auth::ssr::{actor, require_caller};
    use crate::state::app_state;

    /// The clusters a workspace (and project) reaches, by the domain's rule ([`Reach`]).
    /// Stored selectors were checked when saved; one that no longer parses reaches nothing.
    /// Clusters being deregistered are reached by nothing.
    pub(crate) fn matching<'a>(
        clusters: &'a [ClusterSummary],
        workspace: &str,
        project: Option<&str>,
    ) -> Vec<&'a ClusterSummary> {
        let Ok(reach) = Reach::parse(workspace, project) else { return Vec::new() };
        clusters.iter().filter(|c| c.deregistering.is_none() && reach.scope().contains(&c.labels)).collect()
    }

    /// `workspace` as lists show it, with how many clusters it matches and projects it has.
    pub(crate) fn summary(workspace: Workspace, clusters: usize, projects: usize) -> WorkspaceSummary {
        WorkspaceSummary {
            id: workspace.id,
            name: workspace.name,
            selector: workspace.selector,
            version: workspace.version,
            clusters,
            projects,
        }
    }

    /// The workspaces the caller has a role on, or on one of whose projects.
    pub async fn list_workspaces() -> Result<Vec<WorkspaceSummary>, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let mut out = Vec::new();
        let mut all_projects = store.list_tenant_projects(&user.tenant_id).await?;
        for workspace in store.list_workspaces(&user.tenant_id).await? {
            let projects = all_projects.remove(&workspace.id).unwrap_or_default();
            if !user.access.sees_workspace(&workspace.id, projects.iter().map(|p| p.id.as_str())) {
                continue;
            }
            let projects = projects.len();
            let matched = matching(&clusters, &workspace.selector, None).len();
            out.push(summary(workspace, matched, projects));
        }
        Ok(out)
    }

    pub async fn create_workspace(name: String, selector: String) -> Result<WorkspaceSummary, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let name = ResourceName::parse("name", name.trim())?;
        let store = app_state()?.store;
        let workspace = store.create_workspace(&user.tenant_id, &actor(&user), &name, &selector).await?;
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let matched = matching(&clusters, &workspace.selector, None).len();
        Ok(summary(workspace, matched, 0))
    }

    pub async fn set_selector(id: String, version: i64, selector: String) -> Result<WorkspaceSummary, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &id).await?;
        user.require_level(&workspace.id, None, Level::Admin)?;
        let workspace = store.set_workspace_selector(&user.tenant_id, &actor(&user), &id, &selector, version).await?;
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let projects = store.list_projects(&user.tenant_id, &id).await?.len();
        let matched = matching(&clusters, &workspace.selector, None).len();
        Ok(summary(workspace, matched, projects))
    }
}
