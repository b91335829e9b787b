use std::collections::BTreeMap;

use flotilla_domain::LabelSelector;
use leptos::prelude::*;

use crate::AppError;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{ErrorAlert, FieldError};

/// "Edit selector", and once clicked the editor: `load` fetches the labels of the clusters
/// the selector chooses from (only then), `on_save` saves the new selector.
#[component]
pub fn EditSelector<L, Fut>(
    /// What the selector chooses from, e.g. "clusters of the fleet".
    among: &'static str,
    initial: String,
    /// How many clusters it selects now.
    now: usize,
    load: L,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(into)] saving: Signal<bool>,
    on_save: Callback<String>,
) -> impl IntoView
where
    L: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<BTreeMap<String, String>>, AppError>> + Send + 'static,
{
    let editing = RwSignal::new(false);
    let candidates = Resource::new(
        move || editing.get(),
        move |open| {
            let loading = open.then(&load);
            async move {
                match loading {
                    Some(loading) => loading.await,
                    None => Ok(Vec::new()),
                }
            }
        },
    );
    let initial = StoredValue::new(initial);
    view! {
        <Show when=move || !editing.get()>
            <button type="button" class="mt-1 text-sm text-sky-700 underline hover:text-sky-900" on:click=move |_| editing.set(true)>
                "Edit selector"
            </button>
        </Show>
        <Show when=move || editing.get()>
            <div class="mt-3 max-w-xl">
                <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the clusters…"</p> }>
                    {move || Suspend::new(async move {
                        match candidates.await {
                            Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Ok(labels) => view! {
                                <SelectorEditor among initial=initial.get_value() candidates=labels now error saving
                                    on_save=move |selector| on_save.run(selector)
                                    on_cancel=move || editing.set(false) />
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </Show>
    }
}

/// Edits a label selector with a live preview of how many of `candidates` (cluster labels)
/// it matches, next to how many are matched now. The selector is parsed as it is typed,
/// with the server's own parser.
#[component]
fn SelectorEditor(
    /// What the selector chooses from, e.g. "clusters of the fleet".
    among: &'static str,
    initial: String,
    candidates: Vec<BTreeMap<String, String>>,
    now: usize,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(into)] saving: Signal<bool>,
    on_save: impl Fn(String) + Send + Sync + 'static,
    on_cancel: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(initial);
    let total = candidates.len();
    let candidates = StoredValue::new(candidates);
    let parsed = Memo::new(move |_| LabelSelector::parse(&text.get()).map_err(|e| e.to_string()));
    let matched =
        move || parsed.get().ok().map(|s| candidates.with_value(|c| c.iter().filter(|l| s.matches(l)).count()));
    let form_error = move || error.get().filter(AppError::is_form_level).map(|e| e.to_string());
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="selector-editor">
            <label for="edit-selector" class="block text-sm font-medium text-slate-700">"Selector"</label>
            <input id="edit-selector" autocomplete="off" spellcheck="false" placeholder="empty selects all"
                class=format!("{INPUT} font-mono") aria-describedby="edit-selector-preview selector-error"
                aria-invalid=move || parsed.get().is_err().to_string()
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            <p id="edit-selector-preview" class="mt-1 text-xs" aria-live="polite" data-testid="edit-selector-preview">
                {move || match (parsed.get(), matched()) {
                    (Err(e), _) => view! { <span class="text-red-700">{e}</span> }.into_any(),
                    (Ok(_), Some(n)) => view! { <span class="text-slate-600">{format!("Matches {n} of {total} {among} (now {now})")}</span> }.into_any(),
                    _ => ().into_any(),
                }}
            </p>
            <FieldError error field="selector" />
            <Show when=move || form_error().is_some()>
                <div class="mt-2"><ErrorAlert message=form_error().unwrap_or_default() /></div>
            </Show>
            <div class="mt-3 flex gap-2">
                <button type="button" class=BUTTON_PRIMARY disabled=move || saving.get() || parsed.get().is_err()
                    on:click=move |_| on_save(text.get())>
                    {move || if saving.get() { "Saving…" } else { "Save selector" }}
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_cancel()>"Cancel"</button>
            </div>
        </div>
    }
}
