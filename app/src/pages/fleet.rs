pub(crate) mod server_fns;
mod unjoin;

use leptos::prelude::*;
use leptos_meta::Title;

use super::register_cluster::RegisterClusterPanel;
use flotilla_domain::{Access, LabelSelector};

use super::register_cluster::server_fns::RegisterCluster;
use crate::AppError;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{Allowed, AppShell, ErrorAlert, FieldError, HealthBadge};
use crate::live::LiveEvent;
use crate::model::{ClusterSummary, FleetRow};
use flotilla_domain::join as identity;
use server_fns::{deregister_cluster, fleet_overview, rotate_credentials, set_cluster_labels, update_grant};
use unjoin::UnjoinPanel;

/// The sentence saying what a deregistration or unjoin did, shown above the list.
#[derive(Clone, Copy)]
pub(crate) struct FleetNotice(pub(crate) RwSignal<Option<String>>);

/// Cluster id → (health, reason, server version), from the live stream.
type LiveHealth = std::collections::HashMap<String, (String, String, Option<String>)>;

/// The fleet: every cluster of the tenant with health, version, labels and the workspaces
/// and projects on it; filtered by selector and text; labels edited, clusters deregistered.
#[component]
pub fn FleetPage() -> impl IntoView {
    let register = ServerAction::<RegisterCluster>::new();
    // Bumped after a change made on this page.
    let reload = RwSignal::new(0u32);
    let clusters = Resource::new(move || (register.version().get(), reload.get()), |_| fleet_overview());
    let registering = RwSignal::new(false);
    // Health as the engine reports it from now on (a cluster going offline shows at once).
    let live = RwSignal::new(LiveHealth::new());
    crate::live::subscribe(move |event| match event {
        LiveEvent::Cluster { cluster_id, health, reason, server_version } => live.update(|m| {
            m.insert(cluster_id, (health, reason, server_version));
        }),
        // Clusters registered, relabelled or gone, workspaces and projects placed (by
        // anyone): the list and its counts follow.
        LiveEvent::Changed { what, .. } if what != "resource" => reload.update(|n| *n += 1),
        LiveEvent::Resync => reload.update(|n| *n += 1),
        _ => {}
    });
    let filters = Filters { query: RwSignal::new(String::new()), selector: RwSignal::new(String::new()) };
    // What became of the last cluster deregistered or unjoined here (its row is gone).
    let notice = FleetNotice(RwSignal::new(None));
    provide_context(notice);
    let unjoining = RwSignal::new(false);

    view! {
        <Title text="Fleet" />
        <AppShell>
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Fleet"</h1>
                    <p class="mt-1 text-sm text-slate-600">"The member clusters of this tenant."</p>
                </div>
                <Allowed allows=Access::is_tenant_admin>
                    <div class="flex gap-2">
                        <Show when=move || !unjoining.get()>
                            <button type="button" class=BUTTON_SECONDARY on:click=move |_| unjoining.set(true)>
                                "Unjoin a cluster"
                            </button>
                        </Show>
                        <Show when=move || !registering.get()>
                            <button type="button" class=BUTTON_PRIMARY on:click=move |_| registering.set(true)>
                                "Register cluster"
                            </button>
                        </Show>
                    </div>
                </Allowed>
            </div>
            <Show when=move || notice.0.get().is_some()>
                <p role="status" data-testid="fleet-notice"
                    class="mt-4 flex items-start justify-between gap-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900 ring-1 ring-inset ring-emerald-600/20">
                    <span>{move || notice.0.get()}</span>
                    <button type="button" class="text-emerald-800 underline" on:click=move |_| notice.0.set(None)>"Dismiss"</button>
                </p>
            </Show>
            <Show when=move || registering.get()>
                <RegisterClusterPanel register on_close=Callback::new(move |()| registering.set(false)) />
            </Show>
            <Show when=move || unjoining.get()>
                <UnjoinPanel on_close=Callback::new(move |()| unjoining.set(false)) />
            </Show>
            // A reload keeps showing the list until the new one is there.
            <Transition fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading clusters…"</p> }>
                {move || Suspend::new(async move {
                    match clusters.await {
                        Ok(rows) if rows.is_empty() => view! { <EmptyFleet /> }.into_any(),
                        Ok(rows) => view! { <ClusterTable rows live reload filters /> }.into_any(),
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
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

/// The fleet's filters (kept across reloads of the list).
#[derive(Clone, Copy)]
struct Filters {
    query: RwSignal<String>,
    selector: RwSignal<String>,
}

#[component]
fn ClusterTable(
    rows: Vec<FleetRow>,
    live: RwSignal<LiveHealth>,
    reload: RwSignal<u32>,
    filters: Filters,
) -> impl IntoView {
    let total = rows.len();
    let rows = StoredValue::new(rows);
    let Filters { query, selector } = filters;
    let parsed = Memo::new(move |_| LabelSelector::parse(&selector.get()).map_err(|e| e.to_string()));
    let visible = move || {
        let Ok(sel) = parsed.get() else { return Vec::new() };
        let text = query.get();
        rows.with_value(|r| {
            r.iter()
                .filter(|r| sel.matches(&r.cluster.labels) && r.cluster.matches_text(&text))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="mt-6 grid gap-4 sm:grid-cols-2 lg:max-w-3xl">
            <div>
                <label for="fleet-selector" class="block text-sm font-medium text-slate-700">"Label selector"</label>
                <input id="fleet-selector" autocomplete="off" spellcheck="false" placeholder="env=prod,region in (eu)"
                    class=format!("{INPUT} font-mono") aria-describedby="fleet-selector-error"
                    aria-invalid=move || parsed.get().is_err().to_string()
                    prop:value=move || selector.get() on:input=move |ev| selector.set(event_target_value(&ev)) />
                <Show when=move || parsed.get().is_err()>
                    <p id="fleet-selector-error" class="mt-1 text-sm text-red-700">{move || parsed.get().err()}</p>
                </Show>
            </div>
            <div>
                <label for="fleet-search" class="block text-sm font-medium text-slate-700">"Search"</label>
                <input id="fleet-search" type="search" placeholder="name, URL or label" class=INPUT
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
            </div>
        </div>
        <p class="mt-4 text-sm text-slate-600" aria-live="polite" data-testid="fleet-count">
            {move || {
                let shown = visible().len();
                if shown == total { crate::words::count(total, "cluster") } else { format!("{shown} of {total} clusters") }
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
                        <th scope="col" class="px-4 py-3 text-right">"Workspaces"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Projects"</th>
                        <th scope="col" class="px-4 py-3"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For each=visible key=|r| (r.cluster.id.clone(), r.cluster.version, r.cluster.deregistering.clone())
                        children=move |r| view! { <ClusterRowView r live reload /> } />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ClusterRowView(r: FleetRow, live: RwSignal<LiveHealth>, reload: RwSignal<u32>) -> impl IntoView {
    let FleetRow { cluster: c, workspaces, projects } = r;
    let id = c.id.clone();
    let loaded = (c.health.clone(), c.health_reason.clone(), c.server_version.clone());
    let now = move || live.with(|m| m.get(&id).cloned()).unwrap_or_else(|| loaded.clone());
    let now_too = now.clone();
    let open = RwSignal::new(false);
    let deregistering = c.deregistering.clone();
    let name = c.name.clone();
    view! {
        <tr data-testid="cluster-row" data-cluster=c.name.clone()>
            <td class="px-4 py-3">
                <div class="font-medium text-slate-900">{c.name.clone()}</div>
                <div class="text-xs text-slate-500">{c.api_server_url.clone()}</div>
                {deregistering.clone().map(|mode| view! {
                    <div class="mt-1 inline-block rounded bg-amber-50 px-1.5 py-0.5 text-xs text-amber-800 ring-1 ring-inset ring-amber-600/20">
                        {if mode == "cleanup" { "Deregistering: removing Flotilla's objects…" } else { "Deregistering…" }}
                    </div>
                })}
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
            <td class="px-4 py-3 text-right tabular-nums" data-testid="cluster-workspaces">{workspaces}</td>
            <td class="px-4 py-3 text-right tabular-nums" data-testid="cluster-projects">{projects}</td>
            <td class="px-4 py-3 text-right">
                {deregistering.is_none().then(|| view! {
                    <Allowed allows=Access::is_tenant_admin>
                        <button type="button" class=BUTTON_SECONDARY aria-expanded=move || open.get().to_string()
                            aria-label=format!("Manage {name}") on:click=move |_| open.update(|o| *o = !*o)>"Manage"</button>
                    </Allowed>
                })}
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr>
                <td colspan="7" class="bg-slate-50 px-4 py-4">
                    <ManageCluster c=c.clone() reload on_close=move || open.set(false) />
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

/// Edit a cluster's labels, or deregister it (choosing whether Flotilla cleans up first).
#[component]
fn ManageCluster(
    c: ClusterSummary,
    reload: RwSignal<u32>,
    on_close: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let labels_text = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let labels = RwSignal::new(labels_text);
    let (id, version, name) = (c.id.clone(), c.version, c.name.clone());
    let save = {
        let id = id.clone();
        Action::new(move |text: &String| set_cluster_labels(id.clone(), version, text.clone()))
    };
    let cleanup = RwSignal::new(true);
    let confirm = RwSignal::new(String::new());
    // For a joined cluster: remove Flotilla's identity too, with an admin kubeconfig.
    let unjoin = RwSignal::new(false);
    let admin_text = RwSignal::new(String::new());
    let admin_context = RwSignal::new(String::new());
    let notice = use_context::<FleetNotice>();
    let deregister = {
        let id = id.clone();
        Action::new(move |(cleanup, confirm, unjoin, text, context): &(bool, String, bool, String, String)| {
            let done = deregister_cluster(
                id.clone(),
                version,
                *cleanup,
                confirm.clone(),
                *unjoin,
                text.clone(),
                context.clone(),
            );
            async move {
                let done = done.await;
                // Said by the page: this row is gone (re-made as "deregistering") by then.
                if let (Ok(done), Some(notice)) = (&done, notice) {
                    notice.0.set(Some(done.sentence()));
                }
                done
            }
        })
    };
    Effect::new(move |_| {
        // Both read every time, so that both stay tracked (`||` would skip the second).
        let (saved, deregistered) = (save.value().get(), deregister.value().get());
        if matches!(saved, Some(Ok(_))) || matches!(deregistered, Some(Ok(_))) {
            reload.update(|n| *n += 1);
        }
    });
    let joined = identity::is_joined(&c.labels);
    let grant_id = id.clone();
    let rotate = Action::new(move |&(): &()| rotate_credentials(id.clone(), version));
    Effect::new(move |_| {
        if matches!(rotate.value().get(), Some(Ok(_))) {
            reload.update(|n| *n += 1);
        }
    });
    let rotate_error = move || rotate.value().get().and_then(Result::err).map(|e| e.to_string());
    let label_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let deregister_error = Signal::derive(move || deregister.value().get().and_then(Result::err));
    let form_error = move || {
        label_error.get().or_else(|| deregister_error.get()).filter(|e| e.is_form_level()).map(|e| e.to_string())
    };
    let label_id = format!("labels-{}", c.name);
    let confirm_id = format!("confirm-{}", c.name);
    view! {
        <div class="grid gap-6 lg:grid-cols-2" data-testid="manage-cluster">
            <section aria-label=format!("Labels of {name}")>
                <label for=label_id.clone() class="block text-sm font-medium text-slate-700">"Labels"</label>
                <input id=label_id class=format!("{INPUT} font-mono") autocomplete="off" spellcheck="false" aria-describedby="labels-error"
                    prop:value=move || labels.get() on:input=move |ev| labels.set(event_target_value(&ev)) />
                <FieldError error=label_error field="labels" />
                <p class="mt-1 text-xs text-slate-500">"Workspaces and projects follow the new labels: objects are added to or removed from this cluster."</p>
                <div class="mt-3 flex gap-2">
                    <button type="button" class=BUTTON_PRIMARY disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch(labels.get()); }>
                        {move || if save.pending().get() { "Saving…" } else { "Save labels" }}
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close()>"Close"</button>
                </div>
                <h3 class="mt-6 text-sm font-semibold text-slate-800">"Credentials"</h3>
                {if joined {
                    view! {
                        <p class="mt-1 text-xs text-slate-500" data-testid="identity">
                            {format!("Joined: Flotilla works here as {}/{}, with only the permissions it needs.", identity::NAMESPACE, identity::SERVICE_ACCOUNT)}
                        </p>
                        <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=move || rotate.pending().get()
                            on:click=move |_| { rotate.dispatch(()); }>
                            {move || if rotate.pending().get() { "Rotating…" } else { "Rotate credentials" }}
                        </button>
                        <Show when=move || rotate_error().is_some()>
                            <div class="mt-2"><ErrorAlert message=rotate_error().unwrap_or_default() /></div>
                        </Show>
                        <UpdateGrant id=grant_id.clone() version name=name.clone() />
                    }.into_any()
                } else {
                    view! {
                        <p class="mt-1 text-xs text-slate-500" data-testid="identity">
                            "Registered with the kubeconfig's own token. Register it again with “Join” to give Flotilla a least-privilege identity of its own."
                        </p>
                    }.into_any()
                }}
            </section>
            <section aria-label=format!("Deregister {name}") class="rounded-md border border-red-200 bg-white p-4">
                <h3 class="text-sm font-semibold text-red-800">"Deregister"</h3>
                <fieldset class="mt-2 space-y-1 text-sm">
                    <legend class="sr-only">"Flotilla's objects in this cluster"</legend>
                    <label class="flex items-center gap-2">
                        <input type="radio" name=format!("cleanup-{name}") prop:checked=move || cleanup.get() on:change=move |_| cleanup.set(true) />
                        "Remove Flotilla's objects from it first"
                    </label>
                    <label class="flex items-center gap-2">
                        <input type="radio" name=format!("cleanup-{name}") prop:checked=move || !cleanup.get() on:change=move |_| cleanup.set(false) />
                        "Leave them in place, unmanaged"
                    </label>
                </fieldset>
                {joined.then(|| {
                    let (text_id, context_id) = (format!("admin-kubeconfig-{name}"), format!("admin-context-{name}"));
                    view! {
                        <fieldset class="mt-3 space-y-1 text-sm">
                            <legend class="font-medium text-slate-700">"Flotilla's identity in it"</legend>
                            <label class="flex items-center gap-2">
                                <input type="radio" name=format!("unjoin-{name}") prop:checked=move || !unjoin.get() on:change=move |_| unjoin.set(false) />
                                "Leave it (its token keeps working until removed)"
                            </label>
                            <label class="flex items-center gap-2">
                                <input type="radio" name=format!("unjoin-{name}") prop:checked=move || unjoin.get() on:change=move |_| unjoin.set(true) />
                                "Remove it (unjoin), with an admin kubeconfig"
                            </label>
                        </fieldset>
                        <Show when=move || unjoin.get()>
                            <label for=text_id.clone() class="mt-2 block text-sm font-medium text-slate-700">"Admin kubeconfig"</label>
                            <textarea id=text_id.clone() rows="5" spellcheck="false" autocomplete="off"
                                class=format!("{INPUT} font-mono text-xs") aria-describedby="admin_kubeconfig-error"
                                placeholder="Used once to delete flotilla-system and Flotilla's roles; never stored."
                                prop:value=move || admin_text.get() on:input=move |ev| admin_text.set(event_target_value(&ev))></textarea>
                            <FieldError error=deregister_error field="admin_kubeconfig" />
                            <label for=context_id.clone() class="mt-2 block text-sm font-medium text-slate-700">"Context"</label>
                            <input id=context_id.clone() class=format!("{INPUT} font-mono") autocomplete="off" spellcheck="false"
                                placeholder="the kubeconfig's current context" aria-describedby="admin_context-error"
                                prop:value=move || admin_context.get() on:input=move |ev| admin_context.set(event_target_value(&ev)) />
                            <FieldError error=deregister_error field="admin_context" />
                        </Show>
                    }
                })}
                <label for=confirm_id.clone() class="mt-3 block text-sm font-medium text-slate-700">{format!("Type {name} to confirm")}</label>
                <input id=confirm_id class=format!("{INPUT} font-mono") autocomplete="off" aria-describedby="confirm-error"
                    prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
                <FieldError error=deregister_error field="confirm" />
                <button type="button" class="mt-3 rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600"
                    disabled=move || deregister.pending().get()
                    on:click=move |_| {
                        let unjoin = unjoin.get();
                        let (text, context) = if unjoin { (admin_text.get(), admin_context.get()) } else { Default::default() };
                        deregister.dispatch((cleanup.get(), confirm.get(), unjoin, text, context));
                    }>
                    {move || match (deregister.pending().get(), unjoin.get()) {
                        (true, true) => "Deregistering and unjoining…",
                        (true, false) => "Deregistering…",
                        (false, true) => "Deregister and unjoin",
                        (false, false) => "Deregister",
                    }}
                </button>
            </section>
            <Show when=move || form_error().is_some()>
                <div class="lg:col-span-2"><ErrorAlert message=form_error().unwrap_or_default() /></div>
            </Show>
        </div>
    }
}

/// A joined cluster's grant brought up to the kinds the tenant's resources use, with an admin
/// kubeconfig (used once).
#[component]
fn UpdateGrant(id: String, version: i64, name: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    let notice = use_context::<FleetNotice>();
    let update = Action::new(move |(text, context): &(String, String)| {
        let done = update_grant(id.clone(), version, text.clone(), context.clone());
        async move {
            let done = done.await;
            // Said by the page: the row is re-made (its version moved) and this panel with it.
            if let (Ok(g), Some(notice)) = (&done, notice) {
                notice.0.set(Some(g.sentence()));
            }
            done
        }
    });
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let form_error = move || error.get().filter(AppError::is_form_level).map(|e| e.to_string());
    let (text_id, context_id) = (format!("grant-kubeconfig-{name}"), format!("grant-context-{name}"));
    view! {
        <Show when=move || !open.get()>
            <button type="button" class=format!("{BUTTON_SECONDARY} mt-2 ml-2") on:click=move |_| open.set(true)>"Update the grant…"</button>
        </Show>
        <Show when=move || open.get()>
            <div class="mt-3 rounded-md border border-slate-200 bg-white p-3" data-testid="update-grant">
                <p class="text-xs text-slate-600">
                    "Grants Flotilla's identity the kinds this tenant's resources use beyond the standard ones (custom resources in projects, the cluster-scoped kinds its workspaces hold), applied with an admin kubeconfig used once; its token is renewed."
                </p>
                <label for=text_id.clone() class="mt-2 block text-sm font-medium text-slate-700">"Admin kubeconfig"</label>
                <textarea id=text_id.clone() rows="4" spellcheck="false" autocomplete="off" class=format!("{INPUT} font-mono text-xs")
                    aria-describedby="admin_kubeconfig-error"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <FieldError error field="admin_kubeconfig" />
                <label for=context_id.clone() class="mt-2 block text-sm font-medium text-slate-700">"Context"</label>
                <input id=context_id.clone() class=format!("{INPUT} font-mono") autocomplete="off" spellcheck="false"
                    placeholder="the kubeconfig's current context" aria-describedby="admin_context-error"
                    prop:value=move || context.get() on:input=move |ev| context.set(event_target_value(&ev)) />
                <FieldError error field="admin_context" />
                <FieldError error field="cluster" />
                <button type="button" class=format!("{BUTTON_PRIMARY} mt-3") disabled=move || update.pending().get()
                    on:click=move |_| { update.dispatch((text.get(), context.get())); }>
                    {move || if update.pending().get() { "Updating…" } else { "Update grant" }}
                </button>
                <Show when=move || form_error().is_some()>
                    <div class="mt-2"><ErrorAlert message=form_error().unwrap_or_default() /></div>
                </Show>
            </div>
        </Show>
    }
}
