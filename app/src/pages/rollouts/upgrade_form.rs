//! Upgrading an app: which installs, to which version, and how (the strategy, with defaults
//! sensible for about fifty clusters); the plan is shown wave by wave before anything starts.

use flotilla_domain::rollout::{Approval, Canary, Strategy, WaveSize};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::server_fns::{plan_upgrade, start_upgrade};
use crate::components::ErrorAlert;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::model::{InstallPlace, PlanView, UpgradeInput, VersionChoice};

/// The strategy as the form holds it (texts as typed).
#[derive(Debug, Clone, PartialEq)]
struct StrategyForm {
    canary: String,
    canary_value: String,
    wave: String,
    unit: String,
    wave_per: String,
    order: String,
    soak: String,
    deadline: String,
    max_failures: String,
    approval: String,
}

impl Default for StrategyForm {
    fn default() -> Self {
        let d = Strategy::default();
        Self {
            canary: "first".into(),
            canary_value: String::new(),
            wave: "25".into(),
            unit: "percent".into(),
            wave_per: String::new(),
            order: String::new(),
            soak: d.soak_seconds.to_string(),
            deadline: d.progress_deadline_seconds.to_string(),
            max_failures: d.max_failures.to_string(),
            approval: "never".into(),
        }
    }
}

impl StrategyForm {
    /// The strategy, or what is wrong with a field.
    fn strategy(&self) -> Result<Strategy, String> {
        let number = |text: &str, what: &str| text.trim().parse::<u32>().map_err(|_| format!("{what}: a whole number"));
        let canary = match self.canary.as_str() {
            "none" => Canary::None,
            "names" => Canary::Names(
                self.canary_value.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect(),
            ),
            "selector" => Canary::Selector(self.canary_value.trim().to_owned()),
            _ => Canary::First,
        };
        let wave = number(&self.wave, "wave size")?;
        let wave_size = if self.unit == "percent" {
            WaveSize::Percent(u8::try_from(wave).map_err(|_| "wave size: at most 100 %".to_owned())?)
        } else {
            WaveSize::Clusters(wave)
        };
        let strategy = Strategy {
            canary,
            wave_size,
            wave_per: Some(self.wave_per.trim().to_owned()).filter(|k| !k.is_empty()),
            order: self.order.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            soak_seconds: number(&self.soak, "soak")?,
            progress_deadline_seconds: number(&self.deadline, "progress deadline")?,
            max_failures: number(&self.max_failures, "failures tolerated")?,
            approval: match self.approval.as_str() {
                "after_canary" => Approval::AfterCanary,
                "between_waves" => Approval::BetweenWaves,
                _ => Approval::Never,
            },
        };
        strategy.check().map_err(|e| e.to_string())?;
        Ok(strategy)
    }
}

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
    let field = move |label: &'static str,
                      id: &'static str,
                      get: fn(&StrategyForm) -> String,
                      set: fn(&mut StrategyForm, String)| {
        view! {
            <div>
                <label for=id class="block text-xs font-medium text-slate-700">{label}</label>
                <input id=id class=INPUT autocomplete="off" prop:value=move || form.with(get)
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev))) />
            </div>
        }
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
                <div>
                    <label for="upgrade-canary" class="block text-xs font-medium text-slate-700">"Canary"</label>
                    <select id="upgrade-canary" class=INPUT prop:value=move || form.with(|f| f.canary.clone())
                        on:change=move |ev| form.update(|f| f.canary = event_target_value(&ev))>
                        <option value="first">"the first cluster"</option>
                        <option value="names">"clusters by name"</option>
                        <option value="selector">"clusters by selector"</option>
                        <option value="none">"no canary"</option>
                    </select>
                </div>
                <Show when=move || form.with(|f| f.canary == "names" || f.canary == "selector")>
                    {field("Canary clusters (names, or a selector)", "upgrade-canary-value", |f| f.canary_value.clone(), |f, v| f.canary_value = v)}
                </Show>
                <div>
                    <label for="upgrade-wave" class="block text-xs font-medium text-slate-700">"Wave size"</label>
                    <div class="flex gap-1">
                        <input id="upgrade-wave" class=INPUT autocomplete="off" prop:value=move || form.with(|f| f.wave.clone())
                            on:input=move |ev| form.update(|f| f.wave = event_target_value(&ev)) />
                        <select aria-label="Wave size unit" class=INPUT prop:value=move || form.with(|f| f.unit.clone())
                            on:change=move |ev| form.update(|f| f.unit = event_target_value(&ev))>
                            <option value="percent">"%"</option>
                            <option value="clusters">"clusters"</option>
                        </select>
                    </div>
                </div>
                {field("One wave per value of label (optional)", "upgrade-wave-per", |f| f.wave_per.clone(), |f, v| f.wave_per = v)}
                {field("Order: selectors, first goes first (a; b)", "upgrade-order", |f| f.order.clone(), |f, v| f.order = v)}
                {field("Soak (s)", "upgrade-soak", |f| f.soak.clone(), |f, v| f.soak = v)}
                {field("Progress deadline (s)", "upgrade-deadline", |f| f.deadline.clone(), |f, v| f.deadline = v)}
                {field("Failures tolerated", "upgrade-failures", |f| f.max_failures.clone(), |f, v| f.max_failures = v)}
                <div>
                    <label for="upgrade-approval" class="block text-xs font-medium text-slate-700">"Approval"</label>
                    <select id="upgrade-approval" class=INPUT prop:value=move || form.with(|f| f.approval.clone())
                        on:change=move |ev| form.update(|f| f.approval = event_target_value(&ev))>
                        <option value="never">"none"</option>
                        <option value="after_canary">"after the canary"</option>
                        <option value="between_waves">"between waves"</option>
                    </select>
                </div>
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
