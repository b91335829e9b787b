//! Deleting the resource, choosing what happens in the clusters, after a review.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::server_fns::{delete_resource, review_delete};
use crate::components::RemovalPanel;
use crate::components::styles::DANGER_SECONDARY;
use crate::model::ResourceDetail;

/// Delete, choosing what happens in the clusters, after reviewing it.
#[component]
pub(super) fn DeleteResource(d: ResourceDetail) -> impl IntoView {
    if d.locked.is_some() || !d.level.can_edit() {
        return ().into_any();
    }
    let open = RwSignal::new(false);
    let orphan = RwSignal::new(d.deletion_policy == "orphan");
    let id = d.id.clone();
    let review = Action::new(move |orphan: &bool| review_delete(id.clone(), *orphan));
    let id = d.id.clone();
    let version = d.version;
    let delete = Action::new(move |orphan: &bool| delete_resource(id.clone(), version, *orphan));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(next)) = delete.value().get() {
            navigate(&next, Default::default());
        }
    });
    view! {
        <div class="w-full max-w-xl">
            <Show when=move || !open.get()>
                <div class="flex justify-end">
                    <button type="button" class=DANGER_SECONDARY on:click=move |_| open.set(true)>"Delete…"</button>
                </div>
            </Show>
            <Show when=move || open.get()>
                <RemovalPanel title="Delete this resource".to_owned() labels=("Delete", "Deleting…") orphan review
                    remove=delete on_cancel=Callback::new(move |()| open.set(false)) />
            </Show>
        </div>
    }
    .into_any()
}
