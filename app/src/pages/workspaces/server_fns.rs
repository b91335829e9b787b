//! The workspaces page's server functions: the workspaces the caller sees, and creating one.

use leptos::prelude::*;

use crate::AppError;
use crate::model::WorkspaceSummary;

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

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::ResourceName;

    use crate::AppError;
    use crate::backend::{actor, app_state, matching, require_caller, workspace_summary};
    use crate::model::WorkspaceSummary;

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
            out.push(workspace_summary(workspace, matched, projects));
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
        Ok(workspace_summary(workspace, matched, 0))
    }
}
