//! Exporting a workspace (its cluster-scoped resources, then each project) or every
//! workspace of the tenant as YAML, plain or in KubeFed's format, deterministic so that a Git
//! repository of exports diffs cleanly; a workspace export imports back into a workspace
//! (`flotilla_domain::kubefed::export_workspace`). Secret values are never part of it.

use leptos::prelude::*;

use crate::AppError;
use crate::model::ExportView;

/// Workspace `id` with its projects as YAML (`kubefed`: KubeFed's `types.kubefed.io/v1beta1`).
/// Anyone with a role on the workspace may.
#[server(endpoint = "workspaces/export")]
pub async fn export_workspace(id: String, kubefed: bool) -> Result<ExportView, AppError> {
    crate::error::with_status(ssr::workspace(id, kubefed).await)
}

/// Every workspace of the tenant, one file each (by name). A tenant admin's.
#[server(endpoint = "workspaces/export-all")]
pub async fn export_tenant(kubefed: bool) -> Result<Vec<ExportView>, AppError> {
    crate::error::with_status(ssr::tenant(kubefed).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::Level;
    use flotilla_domain::kubefed::{self, ExportedProject};
    use flotilla_store::{Store, Workspace};

    use crate::AppError;
    use crate::backend::{app_state, require_caller};
    use crate::model::ExportView;
    use crate::pages::project::export::ssr::{exported, format_notes, project_specs};

    /// The export of `workspace`, its first line a comment naming it and its selector (which
    /// no Kubernetes object holds).
    async fn export(
        store: &Store,
        tenant_id: &str,
        workspace: &Workspace,
        kubefed: bool,
    ) -> Result<ExportView, AppError> {
        let own = project_specs(store, tenant_id, &workspace.id, None).await?;
        let projects = store.list_projects(tenant_id, &workspace.id).await?;
        let mut specs = Vec::new();
        for p in &projects {
            specs.push(project_specs(store, tenant_id, &workspace.id, Some(&p.id)).await?);
        }
        let exported_projects: Vec<ExportedProject<'_>> = projects
            .iter()
            .zip(&specs)
            .map(|(p, s)| ExportedProject { namespace: &p.name, selector: &p.selector, resources: exported(s) })
            .collect();
        let own = exported(&own);
        let (body, mut notes) = kubefed::export_workspace(&own, &exported_projects, kubefed)?;
        let all: Vec<_> =
            own.iter().chain(exported_projects.iter().flat_map(|p| p.resources.iter())).cloned().collect();
        notes.extend(format_notes(&all, kubefed));
        let selects = if workspace.selector.is_empty() {
            "every cluster".to_owned()
        } else {
            format!("the clusters where {}", workspace.selector)
        };
        let yaml = format!("# Flotilla workspace {}: {selects}\n{body}", workspace.name);
        let file_name = format!("{}{}.yaml", workspace.name, if kubefed { "-kubefed" } else { "" });
        Ok(ExportView { file_name, yaml, notes })
    }

    pub async fn workspace(id: String, kubefed: bool) -> Result<ExportView, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &id).await?;
        user.require_level(&workspace.id, None, Level::View)?;
        export(&store, &user.tenant_id, &workspace, kubefed).await
    }

    pub async fn tenant(kubefed: bool) -> Result<Vec<ExportView>, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let store = app_state()?.store;
        let mut files = Vec::new();
        for workspace in store.list_workspaces(&user.tenant_id).await? {
            files.push(export(&store, &user.tenant_id, &workspace, kubefed).await?);
        }
        Ok(files)
    }
}

/// The workspace page's export buttons.
#[component]
pub(super) fn ExportWorkspace(id: String) -> impl IntoView {
    use crate::pages::project::export::ExportButtons;

    let export = Action::new(move |kubefed: &bool| export_workspace(id.clone(), *kubefed));
    view! { <ExportButtons export /> }
}
