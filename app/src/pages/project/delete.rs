//! Deleting a project after reviewing it: its objects go from every cluster (namespace
//! last), or stay there, no longer managed. A workspace admin's (as creating one is).

use leptos::prelude::*;

use crate::AppError;
use crate::model::Review;

/// What deleting project `id` does in each cluster: the objects each holds of it now,
/// removed (or, with `orphan`, left).
#[server(endpoint = "projects/review-delete")]
pub async fn review_project_delete(id: String, orphan: bool) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review(id, orphan).await)
}

/// Deletes project `id`, if it is still at `version`; answers where to go next (its
/// workspace's page).
#[server(endpoint = "projects/delete")]
pub async fn delete_project(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
    crate::error::with_status(ssr::delete(id, version, orphan).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::{BTreeMap, BTreeSet};

    use flotilla_domain::Level;
    use flotilla_store::{DeletionPolicy, Project, Store};

    use crate::AppError;
    use crate::backend::{Caller, actor, app_state, require_caller};
    use crate::model::Review;

    /// The project, if the caller may delete it: a workspace admin of its workspace.
    async fn deletable(caller: &Caller, id: &str) -> Result<(Store, Project), AppError> {
        let store = app_state()?.store;
        let project = store.get_project(&caller.tenant_id, id).await?;
        // Not found for those who cannot see it; refused for those who only work in it.
        caller.require_level(&project.workspace_id, Some(&project.id), Level::View)?;
        if !caller.access.workspace(&project.workspace_id).is_some_and(Level::is_admin) {
            return Err(AppError::Forbidden("Only an admin of its workspace may delete a project.".into()));
        }
        Ok((store, project))
    }

    pub async fn review(id: String, orphan: bool) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (store, project) = deletable(&user, &id).await?;
        let resources = store.list_resources(&user.tenant_id, &project.workspace_id, Some(&project.id)).await?;
        let names: BTreeMap<&str, String> =
            resources.iter().map(|r| (r.id.as_str(), format!("{} {}", r.kind, r.name))).collect();
        let clusters: BTreeMap<String, String> =
            store.list_clusters(&user.tenant_id).await?.into_iter().map(|c| (c.id, c.name)).collect();
        // What each cluster holds of the project now, by its statuses.
        let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in store.project_statuses(&user.tenant_id, &project.id).await? {
            if let (Some(cluster), Some(name)) = (clusters.get(&s.cluster_id), names.get(s.resource_id.as_str())) {
                held.entry(cluster.clone()).or_default().insert(name.clone());
            }
        }
        Ok(crate::backend::removal_review(held, orphan))
    }

    pub async fn delete(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
        let user = require_caller().await?;
        let (store, project) = deletable(&user, &id).await?;
        let clearance = user.clearance(Level::Admin)?;
        let policy = if orphan { DeletionPolicy::Orphan } else { DeletionPolicy::Delete };
        store.delete_project(&user.tenant_id, &actor(&user), clearance, &project.id, version, policy).await?;
        Ok(format!("/workspaces/{}", project.workspace_id))
    }
}

/// Delete, choosing what happens in the clusters, after reviewing it.
#[component]
pub(super) fn DeleteProject(id: String, version: i64) -> impl IntoView {
    use leptos_router::hooks::use_navigate;

    use crate::components::RemovalPanel;
    use crate::components::styles::DANGER_SECONDARY;

    let open = RwSignal::new(false);
    let orphan = RwSignal::new(false);
    let review_id = id.clone();
    let review = Action::new(move |orphan: &bool| review_project_delete(review_id.clone(), *orphan));
    let delete = Action::new(move |orphan: &bool| delete_project(id.clone(), version, *orphan));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(next)) = delete.value().get() {
            navigate(&next, Default::default());
        }
    });
    view! {
        <div class="mt-4 w-full max-w-xl">
            <Show when=move || !open.get()>
                <button type="button" class=DANGER_SECONDARY on:click=move |_| open.set(true)>"Delete project…"</button>
            </Show>
            <Show when=move || open.get()>
                <RemovalPanel title="Delete this project".to_owned() labels=("Delete project", "Deleting…") orphan review
                    remove=delete on_cancel=Callback::new(move |()| open.set(false)) />
            </Show>
        </div>
    }
}
