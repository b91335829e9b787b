//! Deleting the resource, choosing what happens in the clusters, after a review.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::server_fns::{delete_resource, review_delete};
use crate::components::styles::BUTTON_SECONDARY;
use crate::components::{ErrorAlert, ReviewView};
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
    // A new choice needs a new review.
    Effect::new(move |_| {
        let o = orphan.get();
        if open.get_untracked() {
            review.dispatch(o);
        }
    });
    view! {
        <div class="w-full max-w-xl">
            <Show when=move || !open.get()>
                <div class="flex justify-end">
                    <button type="button" class="rounded-md border border-red-300 bg-white px-4 py-2 text-sm font-medium text-red-700 shadow-sm hover:bg-red-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-red-600"
                        on:click=move |_| { open.set(true); review.dispatch(orphan.get_untracked()); }>"Delete…"</button>
                </div>
            </Show>
            <Show when=move || open.get()>
                <section aria-labelledby="delete-title" class="rounded-lg border border-red-200 bg-white p-4 shadow-sm">
                    <h2 id="delete-title" class="text-base font-semibold text-red-800">"Delete this resource"</h2>
                    <fieldset class="mt-2 space-y-1 text-sm">
                        <legend class="sr-only">"What happens in the clusters"</legend>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="delete-policy" prop:checked=move || !orphan.get() on:change=move |_| orphan.set(false) />
                            "Delete it from the clusters too"
                        </label>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="delete-policy" prop:checked=move || orphan.get() on:change=move |_| orphan.set(true) />
                            "Leave it in the clusters, no longer managed"
                        </label>
                    </fieldset>
                    <div class="mt-3">
                        {move || match review.value().get() {
                            None => view! { <p class="text-sm text-slate-500">"Reviewing…"</p> }.into_any(),
                            Some(Err(e)) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Some(Ok(r)) => view! { <ReviewView review=r /> }.into_any(),
                        }}
                    </div>
                    {move || delete.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
                    <div class="mt-4 flex gap-3">
                        <button type="button" class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600"
                            disabled=move || delete.pending().get() || review.pending().get()
                            on:click=move |_| { delete.dispatch(orphan.get_untracked()); }>
                            {move || if delete.pending().get() { "Deleting…" } else { "Delete" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </section>
            </Show>
        </div>
    }
    .into_any()
}
