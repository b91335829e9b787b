//! Upgrading an app: which installs, to which version, and how (the strategy, with defaults
//! sensible for about fifty clusters); the plan is shown wave by wave before anything starts.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::server_fns::{plan_upgrade, start_upgrade};
use super::strategy::{StrategyFields, StrategyForm};
use crate::components::ErrorAlert;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::model::PlanView;
use crate::model::{InstallPlace, UpgradeInput, VersionChoice};

/// The upgrade form of one app: `installs` to choose from (those `preselect` names checked;
/// all with an upgrade when empty) and the versions it may go to.
#[component]
pub fn UpgradeForm(
    display_name: String,
    installs: Vec<InstallPlace>,
    choices: Vec<VersionChoice>,
    #[prop(into)] preselect: Vec<String>,
    #[prop(into)] close: Callback<()>,
) -> impl IntoView {
    let checked: Vec<String> = if preselect.is_empty() {
        installs.iter().filter(|i| i.upgrade.is_some()).map(|i| i.id.clone()).collect()
    } else {
        preselect
    };
    let chosen = RwSignal::new(checked);
    let target = installs.iter().find_map(|i| i.upgrade.clone()).unwrap_or_default();
    let to = RwSignal::new(
        choices.iter().find(|c| c.version == target).or(choices.first()).map(|c| c.id.clone()).unwrap_or_default(),
    );
    let form = RwSignal::new(StrategyForm::default());
    let choices = StoredValue::new(choices);
    let input = move || -> Result<UpgradeInput, String> {
        Ok(UpgradeInput {
            install_ids: chosen.get(),
            to_version_id: to.get(),
            strategy: form.with(StrategyForm::strategy)?,
        })
    };
    let plan = Action::new(move |i: &UpgradeInput| {
        let i = i.clone();
        async move { plan_upgrade(i.clone()).await.map(|p| (i, p)) }
    });
    let start = Action::new(move |i: &UpgradeInput| {
        let i = i.clone();
        async move { start_upgrade(i).await }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/rollouts/{id}"), Default::default());
        }
    });
    let typed = move || input().err();
    let error = move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| plan.value().get().and_then(Result::err))
            .map(|e| e.to_string())
    };
    let planned = move || {
        let now = input().ok();
        plan.value().get().and_then(Result::ok).filter(|(i, _)| Some(i) == now.as_ref()).map(|(_, p)| p)
    };
    view! {
        <div class="mt-4 rounded-lg border border-sky-200 bg-sky-50/40 p-4" data-testid="upgrade-form">
            <h3 class="text-sm font-semibold">{format!("Upgrade {display_name}")}</h3>
            <fieldset class="mt-3">
                <legend class="text-xs font-medium text-slate-700">"Installs"</legend>
                <div class="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-sm">
                    {installs.into_iter().map(|i| {
                        let id = i.id.clone();
                        let id2 = i.id.clone();
                        view! {
                            <label class="inline-flex items-center gap-1">
                                <input type="checkbox" class="h-4 w-4 rounded border-slate-300"
                                    prop:checked=move || chosen.with(|c| c.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| { c.retain(|x| x != &id2); if on { c.push(id2.clone()); } });
                                    } />
                                {format!("{} in {} ({}, {} clusters)", i.name, i.place, i.version, i.clusters)}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="mt-3 grid gap-3 md:grid-cols-4">
                <div>
                    <label for="upgrade-to" class="block text-xs font-medium text-slate-700">"To version"</label>
                    <select id="upgrade-to" class=INPUT prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))>
                        {choices.with_value(|cs| cs.iter().map(|c| view! {
                            <option value=c.id.clone() selected=c.id == to.get_untracked()>
                                {format!("{}{}", c.version, if c.rollback_safe { "" } else { " (no safe rollback)" })}
                            </option>
                        }).collect_view())}
                    </select>
                </div>
                <StrategyFields form />
            </div>
            {move || typed().map(|e| view! { <p class="mt-2 text-sm text-red-700" role="alert">{e}</p> })}
            {move || error().map(|e| view! { <div class="mt-2"><ErrorAlert message=e /></div> })}
            {move || planned().map(|p| view! { <Plan p /> })}
            <div class="mt-3 flex gap-2">
                <button type="button" class=BUTTON_SECONDARY disabled=move || typed().is_some() || plan.pending().get()
                    on:click=move |_| { if let Ok(i) = input() { plan.dispatch(i); } }>
                    "Preview the plan"
                </button>
                <button type="button" class=BUTTON_PRIMARY
                    disabled=move || planned().is_none() || start.pending().get()
                    on:click=move |_| { if let Some((i, _)) = plan.value().get().and_then(Result::ok) { start.dispatch(i); } }>
                    "Start the rollout"
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| close.run(())>"Cancel"</button>
            </div>
        </div>
    }
}

#[component]
fn Plan(p: PlanView) -> impl IntoView {
    view! {
        <div class="mt-3" data-testid="plan">
            <p class="text-sm font-medium">{format!("{} clusters in {} waves", p.clusters, p.waves.len())}</p>
            <ol class="mt-1 space-y-1 text-sm">
                {p.waves.into_iter().map(|w| view! {
                    <li data-testid="plan-wave">
                        <span class="font-medium">{w.label}</span>
                        <span class="ml-2 font-mono text-xs text-slate-600">{w.clusters.join(", ")}</span>
                    </li>
                }).collect_view()}
            </ol>
        </div>
    }
}
