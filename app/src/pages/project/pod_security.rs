use flotilla_domain::PodSecurity;
use leptos::prelude::*;

use super::server_fns::SetPodSecurity;
use crate::components::ErrorAlert;
use crate::components::styles::BUTTON_SECONDARY;

/// The Pod Security Standard of the project's namespace, and (for a project admin) the
/// control to change it. `privileged` is offered to everyone who may change the level; the
/// server lets only a tenant admin choose it and says so.
#[component]
pub(super) fn PodSecurityLevel(
    id: String,
    version: i64,
    current: PodSecurity,
    can_change: bool,
    action: ServerAction<SetPodSecurity>,
) -> impl IntoView {
    let chosen = RwSignal::new(current.as_str().to_owned());
    let error = move || action.value().get().and_then(Result::err).map(|e| e.to_string());
    let id = StoredValue::new(id);
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-2 text-sm text-slate-600" data-testid="pod-security">
            <span>"Pods must meet the Pod Security level"</span>
            {if can_change {
                view! {
                    <label for="pod-security-level" class="sr-only">"Pod Security level"</label>
                    <select id="pod-security-level" class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
                        prop:value=move || chosen.get()
                        on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {PodSecurity::ALL.into_iter().map(|l| view! {
                            <option value=l.as_str() selected=l == current>{l.as_str()}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" class=BUTTON_SECONDARY
                        disabled=move || action.pending().get() || chosen.get() == current.as_str()
                        on:click=move |_| {
                            action.dispatch(SetPodSecurity { id: id.get_value(), version, level: chosen.get_untracked() });
                        }>
                        "Apply level"
                    </button>
                }.into_any()
            } else {
                view! { <strong class="font-medium text-slate-800">{current.as_str()}</strong> }.into_any()
            }}
        </div>
        <Show when=move || error().is_some()>
            <div class="mt-2 max-w-xl"><ErrorAlert message=error().unwrap_or_default() /></div>
        </Show>
    }
}
