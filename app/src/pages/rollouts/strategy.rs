//! A rollout's strategy as forms hold it: canary, wave size, one wave per label value,
//! order, soak, progress deadline, failures tolerated, approval — with the defaults of
//! `Strategy::default()`, sensible for about fifty clusters.

use flotilla_domain::rollout::{Approval, Canary, Strategy, WaveSize};
use leptos::prelude::*;

use crate::components::styles::INPUT;

/// The strategy as the form holds it (texts as typed).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyForm {
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
    pub fn strategy(&self) -> Result<Strategy, String> {
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

/// The strategy's inputs, bound to `form`.
#[component]
pub fn StrategyFields(form: RwSignal<StrategyForm>) -> impl IntoView {
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
    // A `<select>` of `(value, text)` options, bound like `field`; without `id`, `label` is
    // its accessible name alone (it sits beside another input under that one's label).
    let choice = move |label: &'static str,
                       id: Option<&'static str>,
                       options: &'static [(&'static str, &'static str)],
                       get: fn(&StrategyForm) -> String,
                       set: fn(&mut StrategyForm, String)| {
        let select = view! {
            <select id=id aria-label=id.is_none().then_some(label) class=INPUT prop:value=move || form.with(get)
                on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))>
                {options.iter().map(|(value, text)| view! { <option value=*value>{*text}</option> }).collect_view()}
            </select>
        };
        match id {
            Some(id) => view! {
                <div>
                    <label for=id class="block text-xs font-medium text-slate-700">{label}</label>
                    {select}
                </div>
            }
            .into_any(),
            None => select.into_any(),
        }
    };
    const CANARY: &[(&str, &str)] = &[
        ("first", "the first cluster"),
        ("names", "clusters by name"),
        ("selector", "clusters by selector"),
        ("none", "no canary"),
    ];
    const UNITS: &[(&str, &str)] = &[("percent", "%"), ("clusters", "clusters")];
    const APPROVAL: &[(&str, &str)] =
        &[("never", "none"), ("after_canary", "after the canary"), ("between_waves", "between waves")];
    view! {
                {choice("Canary", Some("upgrade-canary"), CANARY, |f| f.canary.clone(), |f, v| f.canary = v)}
                <Show when=move || form.with(|f| f.canary == "names" || f.canary == "selector")>
                    {field("Canary clusters (names, or a selector)", "upgrade-canary-value", |f| f.canary_value.clone(), |f, v| f.canary_value = v)}
                </Show>
                <div>
                    <label for="upgrade-wave" class="block text-xs font-medium text-slate-700">"Wave size"</label>
                    <div class="flex gap-1">
                        <input id="upgrade-wave" class=INPUT autocomplete="off" prop:value=move || form.with(|f| f.wave.clone())
                            on:input=move |ev| form.update(|f| f.wave = event_target_value(&ev)) />
                        {choice("Wave size unit", None, UNITS, |f| f.unit.clone(), |f, v| f.unit = v)}
                    </div>
                </div>
                {field("One wave per value of label (optional)", "upgrade-wave-per", |f| f.wave_per.clone(), |f, v| f.wave_per = v)}
                {field("Order: selectors, first goes first (a; b)", "upgrade-order", |f| f.order.clone(), |f, v| f.order = v)}
                {field("Soak (s)", "upgrade-soak", |f| f.soak.clone(), |f, v| f.soak = v)}
                {field("Progress deadline (s)", "upgrade-deadline", |f| f.deadline.clone(), |f, v| f.deadline = v)}
                {field("Failures tolerated", "upgrade-failures", |f| f.max_failures.clone(), |f, v| f.max_failures = v)}
                {choice("Approval", Some("upgrade-approval"), APPROVAL, |f| f.approval.clone(), |f, v| f.approval = v)}
    }
}
