//! Removing something from the fleet after a review: deleting a resource, uninstalling an
//! app. The person chooses whether the objects go from the clusters or stay there, no longer
//! managed; each choice is reviewed cluster by cluster before the red button.

use leptos::prelude::*;

use crate::AppError;
use crate::components::styles::BUTTON_SECONDARY;
use crate::components::{ErrorAlert, ReviewView};
use crate::model::Review;

/// The panel: the choice, its review, and the buttons. `review` and `remove` are dispatched
/// with `orphan` (leave the objects in the clusters); a new choice is reviewed again.
#[component]
pub fn RemovalPanel<T>(
    /// The panel's heading (`Delete this resource`).
    title: String,
    /// The red button's label and its label while removing (`Delete`, `Deleting…`).
    labels: (&'static str, &'static str),
    orphan: RwSignal<bool>,
    review: Action<bool, Result<Review, AppError>>,
    remove: Action<bool, Result<T, AppError>>,
    on_cancel: Callback<()>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        review.dispatch(orphan.get());
    });
    let heading = format!("removal-{}", title.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    let labelled_by = heading.clone();
    // One radio group per panel (arrow keys move within it).
    let group = format!("{heading}-policy");
    view! {
        <section aria-labelledby=labelled_by class="rounded-lg border border-red-200 bg-white p-4 shadow-sm" data-testid="removal">
            <h2 id=heading class="text-base font-semibold text-red-800">{title}</h2>
            <fieldset class="mt-2 space-y-1 text-sm">
                <legend class="sr-only">"What happens in the clusters"</legend>
                <label class="flex items-center gap-2">
                    <input type="radio" name=group.clone() prop:checked=move || !orphan.get() on:change=move |_| orphan.set(false) />
                    "Delete it from the clusters too"
                </label>
                <label class="flex items-center gap-2">
                    <input type="radio" name=group prop:checked=move || orphan.get() on:change=move |_| orphan.set(true) />
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
            {move || remove.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
            <div class="mt-4 flex gap-3">
                <button type="button" class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600"
                    disabled=move || remove.pending().get() || review.pending().get()
                    on:click=move |_| { remove.dispatch(orphan.get_untracked()); }>
                    {move || if remove.pending().get() { labels.1 } else { labels.0 }}
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </section>
    }
}
