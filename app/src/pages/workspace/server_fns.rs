//! The workspace page's server functions: the workspace with its clusters, projects and
//! cluster-scoped resources; its selector; new projects and new cluster-scoped objects.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ProjectSummary, ResourceRow, WorkspaceDetail, WorkspaceSummary};

/// A workspace with its clusters and projects.
#[server(endpoint = "workspaces/detail")]
pub async fn get_workspace_detail(id: String) -> Result<WorkspaceDetail, AppError> {
    crate::error::with_status(ssr::workspace_detail(id).await)
}

/// Changes a workspace's selector, if the workspace is still at `version`. Clusters that no
/// longer match lose its objects; new matches receive them.
#[server(endpoint = "workspaces/set-selector")]
pub async fn set_workspace_selector(id: String, version: i64, selector: String) -> Result<WorkspaceSummary, AppError> {
    crate::error::with_status(ssr::set_selector(id, version, selector).await)
}

/// Creates a project (a namespace of its name in each of its clusters) in a workspace.
#[server(endpoint = "projects/create")]
pub async fn create_project(workspace_id: String, name: String, selector: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::create_project(workspace_id, name, selector).await)
}

/// Adds a cluster-scoped object (Namespace, ClusterRole, CRD, …), written as YAML, to a
/// workspace: to every cluster it selects.
#[server(endpoint = "workspaces/add-resource")]
pub async fn add_workspace_resource(workspace_id: String, yaml: String) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_workspace_resource(workspace_id, yaml).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::{Level, ResourceName, StatusCode};
    use flotilla_store::Project;

    use crate::AppError;
    use crate::backend::{
        actor, add_new, app_state, cluster_ref, matching, project_summary, require_caller, workspace_summary,
    };
    use crate::model::{ProjectSummary, ResourceRow, WorkspaceDetail, WorkspaceResource, WorkspaceSummary};

    pub async fn workspace_detail(id: String) -> Result<WorkspaceDetail, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &id).await?;
        let level = user.access.workspace(&workspace.id);
        // Someone with a role on some of its projects only sees those, and not the
        // workspace's own resources.
        let projects: Vec<Project> = store
            .list_projects(&user.tenant_id, &id)
            .await?
            .into_iter()
            .filter(|p| user.access.project(&p.id, &workspace.id).is_some())
            .collect();
        if level.is_none() && projects.is_empty() {
            return Err(AppError::NotFound);
        }
        let all = store.list_clusters(&user.tenant_id).await?;
        let selected = matching(&all, &workspace.selector, None);
        let projects: Vec<ProjectSummary> =
            projects.into_iter().map(|p| project_summary(p, &all, &workspace.selector)).collect();
        let mut resources = Vec::new();
        let own = if level.is_some() { store.list_resources(&user.tenant_id, &id, None).await? } else { Vec::new() };
        for r in own.into_iter().filter(|r| !r.deleted) {
            let statuses = store.resource_statuses(&user.tenant_id, &r.id).await?;
            let count = |f: fn(StatusCode) -> bool| statuses.iter().filter(|s| f(s.code)).count();
            resources.push(WorkspaceResource {
                synced: count(|c| c == StatusCode::Synced),
                failing: count(StatusCode::is_failure),
                placed: statuses.len(),
                id: r.id,
                kind: r.kind,
                name: r.name,
                revision: r.revision,
            });
        }
        let installs = if level.is_some() {
            let own = store.list_installs(&user.tenant_id, Some(&id), None).await?;
            let own = own.into_iter().filter(|i| i.project_id.is_none()).collect();
            crate::pages::apps::server_fns::ssr::install_views(&store, &user.tenant_id, own).await?
        } else {
            Vec::new()
        };
        Ok(WorkspaceDetail {
            installs,
            workspace: workspace_summary(workspace, selected.len(), projects.len()),
            resources,
            cluster_labels: selected.iter().map(|c| c.labels.clone()).collect(),
            clusters: selected.into_iter().map(cluster_ref).collect(),
            projects,
            level,
        })
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
        Ok(workspace_summary(workspace, matched, projects))
    }

    pub async fn create_project(
        workspace_id: String,
        name: String,
        selector: String,
    ) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &workspace_id).await?;
        let level = user.require_level(&workspace.id, None, Level::Admin)?;
        let name = ResourceName::parse("name", name.trim())?;
        let clearance = user.clearance(level)?;
        let project =
            store.create_project(&user.tenant_id, &actor(&user), clearance, &workspace.id, &name, &selector).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(project_summary(project, &all, &workspace.selector))
    }

    pub async fn add_workspace_resource(workspace_id: String, yaml: String) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        add_new(&user, workspace_id, None, yaml).await
    }
}
