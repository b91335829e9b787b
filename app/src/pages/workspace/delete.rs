//! Deleting a workspace after reviewing it: its projects and cluster-scoped objects go from
//! every cluster (namespaces last), or stay there, no longer managed. A tenant admin's (as
//! creating one is).

use leptos::prelude::*;

use crate::AppError;
use crate::model::Review;

/// What deleting workspace `id` does in each cluster: the objects each holds of it (its
/// projects' included) now, removed (or, with `orphan`, left).
#[server(endpoint = "workspaces/review-delete")]
pub async fn review_workspace_delete(id: String, orphan: bool) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review(id, orphan).await)
}

/// Deletes workspace `id` with its projects, if it is still at `version`; answers where to
/// go next (the workspaces page).
#[server(endpoint = "workspaces/delete")]
pub async fn delete_workspace(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
    crate::error::with_status(ssr::delete(id, version, orphan).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::{BTreeMap, BTreeSet};

    use flotilla_domain::Level;
    use flotilla_store::{DeletionPolicy, Store, Workspace};

    use crate::AppError;
    use crate::backend::{Caller, actor, app_state, require_caller};
    use crate::model::Review;

    /// The workspace, if the caller may delete it: a tenant admin.
    async fn deletable(caller: &Caller, id: &str) -> Result<(Store, Workspace), AppError> {
        let store = app_state()?.store;
        let workspace = store.get_workspace(&caller.tenant_id, id).await?;
        // Not found for those who cannot see it; refused for those who only work in it.
        let sees_it = caller.access.workspace(&workspace.id).is_some()
            || store
                .list_projects(&caller.tenant_id, &workspace.id)
                .await?
                .iter()
                .any(|p| caller.access.project(&p.id, &workspace.id).is_some());
        if !sees_it {
            return Err(AppError::NotFound);
        }
        caller.require_tenant_admin()?;
        Ok((store, workspace))
    }

    pub async fn review(id: String, orphan: bool) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (store, workspace) = deletable(&user, &id).await?;
        // Each object as `Kind name`, a project's as `Kind namespace/name`.
        let mut names: BTreeMap<String, String> = store
            .list_resources(&user.tenant_id, &workspace.id, None)
            .await?
            .into_iter()
            .map(|r| (r.id, format!("{} {}", r.kind, r.name)))
            .collect();
        for project in store.list_projects(&user.tenant_id, &workspace.id).await? {
            for r in store.list_resources(&user.tenant_id, &workspace.id, Some(&project.id)).await? {
                let name = if r.kind == "Namespace" { r.name } else { format!("{}/{}", project.name, r.name) };
                names.insert(r.id, format!("{} {name}", r.kind));
            }
        }
        let clusters: BTreeMap<String, String> =
            store.list_clusters(&user.tenant_id).await?.into_iter().map(|c| (c.id, c.name)).collect();
        let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (resource, cluster) in store.workspace_holdings(&user.tenant_id, &workspace.id).await? {
            if let (Some(cluster), Some(name)) = (clusters.get(&cluster), names.get(&resource)) {
                held.entry(cluster.clone()).or_default().insert(name.clone());
            }
        }
        Ok(crate::backend::removal_review(held, orphan))
    }

    pub async fn delete(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
        let user = require_caller().await?;
        let (store, workspace) = deletable(&user, &id).await?;
        let clearance = user.clearance(Level::Admin)?;
        let policy = if orphan { DeletionPolicy::Orphan } else { DeletionPolicy::Delete };
        store.delete_workspace(&user.tenant_id, &actor(&user), clearance, &workspace.id, version, policy).await?;
        Ok("/workspaces".to_owned())
    }
}

/// Delete, choosing what happens in the clusters, after reviewing it.
#[component]
pub(super) fn DeleteWorkspace(id: String, version: i64, projects: usize) -> impl IntoView {
    use leptos_router::hooks::use_navigate;

    use crate::components::RemovalPanel;
    use crate::components::styles::DANGER_SECONDARY;

    let open = RwSignal::new(false);
    let orphan = RwSignal::new(false);
    let review_id = id.clone();
    let review = Action::new(move |orphan: &bool| review_workspace_delete(review_id.clone(), *orphan));
    let delete = Action::new(move |orphan: &bool| delete_workspace(id.clone(), version, *orphan));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(next)) = delete.value().get() {
            navigate(&next, Default::default());
        }
    });
    let title = match projects {
        0 => "Delete this workspace".to_owned(),
        n => format!("Delete this workspace and its {}", crate::words::count(n, "project")),
    };
    view! {
        <div class="mt-8 w-full max-w-xl">
            <Show when=move || !open.get()>
                <button type="button" class=DANGER_SECONDARY on:click=move |_| open.set(true)>"Delete workspace…"</button>
            </Show>
            <Show when=move || open.get()>
                <RemovalPanel title=title.clone() labels=("Delete workspace", "Deleting…") orphan review
                    remove=delete on_cancel=Callback::new(move |()| open.set(false)) />
            </Show>
        </div>
    }
}
