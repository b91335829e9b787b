use leptos::prelude::*;
use leptos_meta::Title;

use super::register_cluster::RegisterClusterPanel;
use crate::components::styles::BUTTON_PRIMARY;
use crate::components::{AppShell, ErrorAlert, HealthBadge};
use crate::fleet::{ClusterSummary, RegisterCluster, list_clusters};
use crate::live::LiveEvent;

/// Cluster id → (health, reason, server version), from the live stream.
type LiveHealth = std::collections::HashMap<String, (String, String, Option<String>)>;

/// The fleet: every cluster of the tenant, with health, version and labels; searchable.
#[component]
pub fn FleetPage() -> impl IntoView {
    let register = ServerAction::<RegisterCluster>::new();
    let clusters = Resource::new(move || register.version().get(), |_| list_clusters());
    let query = RwSignal::new(String::new());
    let registering = RwSignal::new(false);
    // Health as the engine reports it from now on (a cluster going offline shows at once).
    let live = RwSignal::new(LiveHealth::new());
    crate::live::subscribe(move |event| {
        if let LiveEvent::Cluster { cluster_id, health, reason, server_version } = event {
            live.update(|m| {
                m.insert(cluster_id, (health, reason, server_version));
            });
        }
    });

    view! {
        <Title text="Fleet" />
        <AppShell>
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Fleet"</h1>
                    <p class="mt-1 text-sm text-slate-600">"The member clusters of this tenant."</p>
                </div>
                <Show when=move || !registering.get()>
                    <button type="button" class=BUTTON_PRIMARY on:click=move |_| registering.set(true)>
                        "Register cluster"
                    </button>
                </Show>
            </div>
            <Show when=move || registering.get()>
                <RegisterClusterPanel register on_close=Callback::new(move |()| registering.set(false)) />
            </Show>
            <div class="mt-6 flex justify-end">
                <div class="w-full max-w-xs">
                    <label for="fleet-search" class="block text-sm font-medium text-slate-700">
                        "Search"
                    </label>
                    <input
                        id="fleet-search"
                        type="search"
                        placeholder="name, URL or label (env=prod)"
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading clusters…"</p> }>
                {move || Suspend::new(async move {
                    match clusters.await {
                        Ok(rows) if rows.is_empty() => view! { <EmptyFleet /> }.into_any(),
                        Ok(rows) => view! { <ClusterTable rows query=query.read_only() live /> }.into_any(),
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[component]
fn EmptyFleet() -> impl IntoView {
    view! {
        <section
            aria-labelledby="empty-fleet"
            class="mt-8 rounded-lg border border-dashed border-slate-300 bg-white px-6 py-16 text-center"
        >
            <h2 id="empty-fleet" class="text-base font-semibold text-slate-900">"No clusters registered yet"</h2>
            <p class="mx-auto mt-2 max-w-md text-sm text-slate-600">
                "Registered clusters appear here with their health, Kubernetes version and labels. "
                "Add one with " <strong>"Register cluster"</strong> " and its kubeconfig, or start Flotilla with "
                <code class="rounded bg-slate-100 px-1">"scripts/run.sh --demo"</code> " for 12 simulated clusters."
            </p>
        </section>
    }
}

#[component]
fn ClusterTable(rows: Vec<ClusterSummary>, query: ReadSignal<String>, live: RwSignal<LiveHealth>) -> impl IntoView {
    let total = rows.len();
    let rows = StoredValue::new(rows);
    let visible =
        move || rows.with_value(|r| r.iter().filter(|c| c.matches_text(&query.get())).cloned().collect::<Vec<_>>());
    view! {
        <p class="mt-6 text-sm text-slate-600" aria-live="polite" data-testid="fleet-count">
            {move || {
                let shown = visible().len();
                if shown == total { format!("{total} clusters") } else { format!("{shown} of {total} clusters") }
            }}
        </p>
        <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Cluster"</th>
                        <th scope="col" class="px-4 py-3">"Health"</th>
                        <th scope="col" class="px-4 py-3">"Version"</th>
                        <th scope="col" class="px-4 py-3">"Labels"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For each=visible key=|c| c.name.clone() children=move |c| view! { <ClusterSummaryView c live /> } />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ClusterSummaryView(c: ClusterSummary, live: RwSignal<LiveHealth>) -> impl IntoView {
    let id = c.id.clone();
    let loaded = (c.health.clone(), c.health_reason.clone(), c.server_version.clone());
    let now = move || live.with(|m| m.get(&id).cloned()).unwrap_or_else(|| loaded.clone());
    let now_too = now.clone();
    view! {
                        <tr data-testid="cluster-row">
                            <td class="px-4 py-3">
                                <div class="font-medium text-slate-900">{c.name.clone()}</div>
                                <div class="text-xs text-slate-500">{c.api_server_url.clone()}</div>
                            </td>
                            <td class="px-4 py-3">
                                {move || { let (health, reason, _) = now(); view! { <HealthBadge health reason /> } }}
                            </td>
                            <td class="px-4 py-3 text-slate-700">{move || now_too().2.unwrap_or_else(|| "—".into())}</td>
                            <td class="px-4 py-3">
                                <ul class="flex flex-wrap gap-1" aria-label="labels">
                                    {c.labels.iter().map(|(k, v)| view! {
                                        <li class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">{format!("{k}={v}")}</li>
                                    }).collect_view()}
                                </ul>
                            </td>
                        </tr>
    }
    .into_any()
}
