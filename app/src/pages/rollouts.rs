//! Rollouts: the list (who started each, how it ended) and one rollout live — its waves with
//! every cluster's state, a progress bar, elapsed and expected time, the timeline, and the
//! actions (pause, resume, approve, abort; retry or skip a cluster).

pub(crate) mod server_fns;
mod strategy;
mod upgrade_form;

use flotilla_domain::rollout::{RolloutState, StepState};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
pub use strategy::{StrategyFields, StrategyForm};
pub use upgrade_form::UpgradeForm;

use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY};
use crate::components::{AppShell, ErrorAlert};
use crate::model::{RolloutSummary, RolloutView, StepView, WaveView, duration};
use crate::time::utc;
use server_fns::{ActOnRollout, get_rollout, list_rollouts};

/// How often an open rollout page reads the rollout again while it moves.
const REFRESH_MS: u64 = 1000;

/// A signal that ticks every `REFRESH_MS` in the browser (never on the server).
fn ticker() -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_millis(REFRESH_MS),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    tick
}

pub fn state_class(state: RolloutState) -> &'static str {
    match state {
        RolloutState::Running => "bg-sky-50 text-sky-800 ring-sky-600/20",
        RolloutState::AwaitingApproval | RolloutState::Paused => "bg-amber-50 text-amber-800 ring-amber-600/20",
        RolloutState::Aborting | RolloutState::Aborted => "bg-red-50 text-red-800 ring-red-600/20",
        RolloutState::Succeeded => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
    }
}

fn step_class(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "bg-slate-50 text-slate-600 ring-slate-400/20",
        StepState::Updating | StepState::Soaking => "bg-sky-50 text-sky-800 ring-sky-600/30",
        StepState::Done => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        StepState::Failed | StepState::RollingBack => "bg-red-50 text-red-800 ring-red-600/30",
        StepState::RolledBack => "bg-amber-50 text-amber-800 ring-amber-600/30",
        StepState::Skipped => "bg-slate-100 text-slate-500 ring-slate-400/20 line-through",
    }
}

/// The progress bar's width for `percent`, in twelfths (Tailwind sees each class whole here).
fn bar_width(percent: usize) -> &'static str {
    const WIDTHS: [&str; 13] = [
        "w-0", "w-1/12", "w-2/12", "w-3/12", "w-4/12", "w-5/12", "w-6/12", "w-7/12", "w-8/12", "w-9/12", "w-10/12",
        "w-11/12", "w-full",
    ];
    WIDTHS[(percent.min(100) * 12).div_ceil(100)]
}

#[component]
fn StateBadge(state: RolloutState) -> impl IntoView {
    view! {
        <span class=format!("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", state_class(state))
            data-testid="rollout-state" data-state=state.as_str()>
            {state.label()}
        </span>
    }
}

#[component]
pub fn RolloutsPage() -> impl IntoView {
    let rollouts = Resource::new(|| (), |()| list_rollouts());
    view! {
        <Title text="Rollouts" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Rollouts"</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "Changes moving across the fleet wave by wave: app upgrades started from the Apps page. \
                 Each one's page shows its plan, every cluster's state and its timeline."
            </p>
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading rollouts…"</p> }>
                {move || Suspend::new(async move {
                    match rollouts.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="mt-6 text-sm text-slate-600">"No rollout yet. Upgrade an app from the Apps page to start one."</p>
                        }.into_any(),
                        Ok(list) => view! { <RolloutTable list /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[component]
fn RolloutTable(list: Vec<RolloutSummary>) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">"Rollout"</th>
                        <th scope="col" class="px-4 py-2">"State"</th>
                        <th scope="col" class="px-4 py-2">"Started by"</th>
                        <th scope="col" class="px-4 py-2">"Started"</th>
                        <th scope="col" class="px-4 py-2">"How it ended"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {list.into_iter().map(|r| view! {
                        <tr data-testid="rollout-row">
                            <td class="px-4 py-2 font-medium">
                                <a class="text-sky-700 hover:underline" href=format!("/rollouts/{}", r.id)>{r.title}</a>
                            </td>
                            <td class="px-4 py-2"><StateBadge state=r.state /></td>
                            <td class="px-4 py-2">{r.created_by}</td>
                            <td class="px-4 py-2 tabular-nums text-slate-600">{utc(r.created_at)}</td>
                            <td class="px-4 py-2 text-slate-600">
                                {match r.finished_at {
                                    Some(at) => format!("{} · {}", utc(at), r.message),
                                    None => r.message,
                                }}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let act = ServerAction::<ActOnRollout>::new();
    let tick = ticker();
    let rollout = Resource::new(move || (id(), tick.get(), act.version().get()), |(id, _, _)| get_rollout(id));
    view! {
        <Title text="Rollout" />
        <AppShell>
            <p class="text-sm"><a class="text-sky-700 hover:underline" href="/rollouts">"← Rollouts"</a></p>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading the rollout…"</p> }>
                {move || Suspend::new(async move {
                    match rollout.await {
                        // The title is the rollout's once it is read (inside the Transition:
                        // a read outside one would not hydrate as it was rendered).
                        Ok(r) => view! { <Title text=r.summary.title.clone() /> <Rollout r act /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
        </AppShell>
    }
}

#[component]
fn Rollout(r: RolloutView, act: ServerAction<ActOnRollout>) -> impl IntoView {
    let total = r.total().max(1);
    let settled = r.settled();
    let percent = settled * 100 / total;
    let left = r.expected_left_ms().map(|ms| format!(" · about {} left", duration(ms))).unwrap_or_default();
    let counts = [StepState::Updating, StepState::Soaking, StepState::Done, StepState::Failed, StepState::RolledBack]
        .into_iter()
        .filter_map(|s| {
            let n = r.count(s);
            (n > 0).then(|| format!("{n} {}", s.label()))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let strategy = &r.strategy;
    let how = format!(
        "soak {} s · deadline {} s · {} failure(s) tolerated{}{}",
        strategy.soak_seconds,
        strategy.progress_deadline_seconds,
        strategy.max_failures,
        match strategy.approval {
            flotilla_domain::rollout::Approval::Never => "",
            flotilla_domain::rollout::Approval::AfterCanary => " · approval after the canary",
            flotilla_domain::rollout::Approval::BetweenWaves => " · approval between waves",
        },
        if r.rollback_safe { "" } else { " · this version cannot be rolled back safely: failures pause" },
    );
    let id = r.summary.id.clone();
    let can_act = r.can_act;
    let actions = r.actions();
    let current = r.current_wave;
    let state = r.summary.state;
    let error = move || act.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold tracking-tight" data-testid="rollout-title">{r.summary.title.clone()}</h1>
            <StateBadge state />
        </div>
        <p class="mt-1 text-sm text-slate-600">
            {format!("Started by {} at {} · {}", r.summary.created_by, utc(r.summary.created_at), how)}
        </p>
        {(!r.summary.message.is_empty()).then(|| view! {
            <p class="mt-3 rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-800" data-testid="rollout-message">{r.summary.message.clone()}</p>
        })}
        <div class="mt-4">
            <div class="flex justify-between text-xs text-slate-600">
                <span data-testid="rollout-progress">{format!("{settled} of {} clusters settled · {counts}", r.total())}</span>
                <span class="tabular-nums">{format!("{} elapsed{left}", duration(r.elapsed_ms()))}</span>
            </div>
            <div class="mt-1 h-2 w-full overflow-hidden rounded-full bg-slate-100" role="progressbar"
                aria-label="Clusters settled" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                // A class, not a style attribute: the page's Content-Security-Policy allows no inline styles.
                <div class=format!("h-full bg-sky-600 transition-all {}", bar_width(percent))></div>
            </div>
        </div>
        {(can_act && !actions.is_empty()).then(|| {
            let id = id.clone();
            view! {
                <div class="mt-4 flex flex-wrap gap-2">
                    {actions.into_iter().map(|(action, label)| {
                        let id = id.clone();
                        let class = if action == "abort" { BUTTON_SECONDARY } else { BUTTON_PRIMARY };
                        view! {
                            <button type="button" class=class data-action=action disabled=move || act.pending().get()
                                on:click=move |_| { act.dispatch(ActOnRollout { id: id.clone(), action: action.into(), cluster_id: None }); }>
                                {label}
                            </button>
                        }
                    }).collect_view()}
                </div>
            }
        })}
        {move || error().map(|e| view! { <div class="mt-3"><ErrorAlert message=e /></div> })}
        <div class="mt-6 grid gap-4 lg:grid-cols-3">
            <section class="lg:col-span-2 space-y-3" aria-label="Waves">
                {r.waves.into_iter().map(|w| {
                    let id = id.clone();
                    view! { <Wave w current state can_act id act /> }
                }).collect_view()}
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="timeline">
                <h2 id="timeline" class="text-sm font-semibold">"Timeline"</h2>
                <ol class="mt-2 max-h-[32rem] space-y-2 overflow-y-auto text-xs" data-testid="timeline">
                    {r.events.into_iter().map(|e| view! {
                        <li>
                            <span class="tabular-nums text-slate-500">{utc(e.at)}</span>
                            <span class="ml-1 font-medium">{e.cluster.unwrap_or_else(|| "rollout".into())}</span>
                            <span class="ml-1 text-slate-700">{format!("→ {}", e.state)}</span>
                            <p class="text-slate-600">{e.message}</p>
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        </div>
    }
}

#[component]
fn Wave(
    w: WaveView,
    current: u32,
    state: RolloutState,
    can_act: bool,
    id: String,
    act: ServerAction<ActOnRollout>,
) -> impl IntoView {
    let here = w.index == current && !state.finished();
    let class = if here { "border-sky-300 ring-1 ring-sky-200" } else { "border-slate-200" };
    view! {
        <div class=format!("rounded-lg border bg-white p-4 shadow-sm {class}") data-testid="wave" data-wave=w.index.to_string()>
            <h2 class="text-sm font-semibold">
                {w.label.clone()}
                {here.then(|| view! { <span class="ml-2 text-xs font-normal text-sky-700">"current"</span> })}
            </h2>
            <ul class="mt-2 grid gap-2 sm:grid-cols-2">
                {w.steps.into_iter().map(|s| {
                    let id = id.clone();
                    view! { <Step s can_act id act /> }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn Step(s: StepView, can_act: bool, id: String, act: ServerAction<ActOnRollout>) -> impl IntoView {
    let retry = can_act && matches!(s.state, StepState::Failed | StepState::RolledBack);
    let skip = can_act && matches!(s.state, StepState::Pending | StepState::Failed | StepState::RolledBack);
    let button = move |action: &'static str, label: &'static str| {
        let (id, cluster) = (id.clone(), s.cluster_id.clone());
        view! {
            <button type="button" class="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50"
                data-action=action
                on:click=move |_| { act.dispatch(ActOnRollout { id: id.clone(), action: action.into(), cluster_id: Some(cluster.clone()) }); }>
                {label}
            </button>
        }
    };
    view! {
        <li class="rounded-md border border-slate-100 p-2" data-testid="step" data-cluster=s.name.clone() data-state=s.state.as_str()>
            <div class="flex items-center justify-between gap-2">
                <span class="font-mono text-sm">{s.name.clone()}</span>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", step_class(s.state))>
                    {s.state.label()}
                </span>
            </div>
            {(!s.message.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-600 break-words">{s.message.clone()}</p> })}
            {(retry || skip).then(|| view! {
                <div class="mt-1 flex gap-1">
                    {retry.then(|| button("retry", "Retry"))}
                    {skip.then(|| button("skip", "Skip"))}
                </div>
            })}
        </li>
    }
}
