pub(crate) mod server_fns;

use leptos::prelude::*;

use crate::AppError;
use crate::components::ReviewStep;
use crate::components::styles::INPUT;
use crate::model::ResourceRow;
use server_fns::review_new;

/// Adds any object, written as YAML, to a workspace (cluster-scoped objects) or a project
/// (namespaced ones). It is parsed as it is typed (the server's own parser, in the
/// browser); "Review" shows what it would create in which clusters; adding is done from
/// the review.
#[component]
pub fn AddYaml(
    title: &'static str,
    hint: &'static str,
    example: &'static str,
    workspace_id: String,
    project_id: Option<String>,
    /// Adds the YAML; the page watches its own action's result.
    add: impl Fn(String) + Send + Sync + 'static,
    #[prop(into)] added: Signal<Option<Result<ResourceRow, AppError>>>,
    #[prop(into)] adding: Signal<bool>,
) -> impl IntoView {
    let yaml = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        let text = yaml.get();
        if text.trim().is_empty() { None } else { flotilla_domain::parse_manifest(&text).err().map(|e| e.to_string()) }
    });
    let review = Action::new(move |text: &String| {
        let (workspace_id, project_id, text) = (workspace_id.clone(), project_id.clone(), text.clone());
        async move { review_new(workspace_id, project_id, text.clone()).await.map(|r| (text, r)) }
    });
    let error = Signal::derive(move || {
        added.get().and_then(Result::err).or_else(|| review.value().get().and_then(Result::err))
    });
    let message = move || {
        checked
            .get()
            .map(|m| m.trim_start_matches("yaml: ").to_owned())
            .or_else(|| error.get().and_then(|e| e.for_field("yaml")))
    };
    let stale = Signal::derive(move || review.value().with(|r| matches!(r, Some(Ok((t, _))) if *t != yaml.get())));
    // Added: the editor empties for the next one.
    Effect::new(move |_| {
        if matches!(added.get(), Some(Ok(_))) {
            yaml.set(String::new());
            review.value().set(None);
        }
    });
    view! {
        <section aria-labelledby="add-yaml" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="add-yaml" class="text-base font-semibold">{title}</h2>
            <p class="mt-1 text-xs text-slate-500">{hint}</p>
            <label for="yaml" class="mt-4 block text-sm font-medium text-slate-700">"YAML"</label>
            <textarea
                id="yaml"
                rows="12"
                spellcheck="false"
                placeholder=example
                class=format!("{INPUT} font-mono text-xs")
                aria-describedby="yaml-error"
                aria-invalid=move || message().is_some().to_string()
                prop:value=move || yaml.get()
                on:input=move |ev| yaml.set(event_target_value(&ev))
            ></textarea>
            <Show when=move || message().is_some()>
                <p id="yaml-error" data-testid="yaml-error" class="mt-1 text-sm text-red-700">{message}</p>
            </Show>
            <ReviewStep review stale applying=adding error apply_label="Add object"
                disabled=Signal::derive(move || checked.get().is_some() || yaml.get().trim().is_empty())
                on_review=Callback::new(move |()| { review.dispatch(yaml.get_untracked()); })
                on_apply=Callback::new(add) />
        </section>
    }
}
