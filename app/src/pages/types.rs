//! The types the fleet serves: every kind the members' discovery lists (API version,
//! plural, scope), how many clusters serve it and which lack it. What Flotilla writes is
//! addressed by what each cluster says here, and an object of a kind a cluster lacks shows
//! `TypeNotServed` there.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::AppError;
use crate::components::styles::INPUT;
use crate::components::{AppShell, ErrorAlert};
use crate::model::{TypeRow, TypesView};

/// The types the caller's tenant's clusters serve, from their discovery.
#[server(endpoint = "fleet/types")]
pub async fn fleet_types() -> Result<TypesView, AppError> {
    crate::error::with_status(ssr::fleet_types().await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::AppError;
    use crate::backend::{app_state, require_caller};
    use crate::model::TypesView;

    pub async fn fleet_types() -> Result<TypesView, AppError> {
        let user = require_caller().await?;
        let fleet = app_state()?.store.fleet_types(&user.tenant_id).await?;
        let clusters: Vec<(String, Option<String>)> =
            fleet.clusters.into_iter().map(|c| (c.cluster_name, c.digest)).collect();
        Ok(TypesView::of(&clusters, &fleet.sets))
    }
}

#[component]
pub fn TypesPage() -> impl IntoView {
    let types = Resource::new(|| (), |_| fleet_types());
    let query = RwSignal::new(String::new());
    let lacking_only = RwSignal::new(false);
    view! {
        <Title text="Types" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Types"</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "The kinds the member clusters serve, as their discovery lists them. Flotilla writes each object "
                "by what its cluster says here; where a cluster lacks a kind, the object shows "
                <code class="rounded bg-slate-100 px-1">"TypeNotServed"</code>" in that cluster until its API or CRD is there."
            </p>
            <div class="mt-6 flex flex-wrap items-end gap-6">
                <div class="w-72">
                    <label for="types-search" class="block text-sm font-medium text-slate-700">"Search"</label>
                    <input id="types-search" type="search" placeholder="kind, group or plural" class=INPUT
                        prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
                </div>
                <label class="flex items-center gap-2 pb-2 text-sm text-slate-700">
                    <input type="checkbox" class="h-4 w-4 rounded border-slate-300"
                        prop:checked=move || lacking_only.get()
                        on:change=move |ev| lacking_only.set(event_target_checked(&ev)) />
                    "Only types some clusters lack"
                </label>
            </div>
            <Transition fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading types…"</p> }>
                {move || Suspend::new(async move {
                    match types.await {
                        Ok(view) => view! { <TypesTable view query lacking_only /> }.into_any(),
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
        </AppShell>
    }
}

#[component]
fn TypesTable(view: TypesView, query: RwSignal<String>, lacking_only: RwSignal<bool>) -> impl IntoView {
    let TypesView { clusters, unread, types } = view;
    let read = clusters - unread.len();
    let total = types.len();
    let types = StoredValue::new(types);
    let visible = move || {
        let text = query.get().to_lowercase();
        let lacking_only = lacking_only.get();
        types.with_value(|all| {
            all.iter()
                .filter(|r| !lacking_only || r.lacking > 0)
                .filter(|r| {
                    text.is_empty()
                        || [&r.kind, &r.api_version, &r.plural].iter().any(|f| f.to_lowercase().contains(&text))
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let unread_note = (!unread.is_empty()).then(|| {
        let names = unread.join(", ");
        view! {
            <p class="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-600/20" data-testid="types-unread">
                {format!("Not read yet (offline since registering): {names}. They count in no column below.")}
            </p>
        }
    });
    view! {
        {unread_note}
        <p class="mt-4 text-sm text-slate-600" aria-live="polite" data-testid="types-count">
            {move || {
                let shown = visible().len();
                let of = if shown == total { crate::words::count(total, "type") } else { format!("{shown} of {total} types") };
                format!("{of}, from {}", crate::words::count(read, "cluster"))
            }}
        </p>
        <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Kind"</th>
                        <th scope="col" class="px-4 py-3">"API version"</th>
                        <th scope="col" class="px-4 py-3">"Resource"</th>
                        <th scope="col" class="px-4 py-3">"Scope"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Served by"</th>
                        <th scope="col" class="px-4 py-3">"Lacking"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For each=visible key=|r| (r.api_version.clone(), r.kind.clone())
                        children=move |r| view! { <TypeRowView r read /> } />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TypeRowView(r: TypeRow, read: usize) -> impl IntoView {
    let lacking = match r.lacking {
        0 => view! { <span class="text-slate-500">"—"</span> }.into_any(),
        n => {
            let more = n - r.lacking_named.len();
            let names = r.lacking_named.join(", ");
            let text = if more > 0 { format!("{names} and {more} more") } else { names };
            view! { <span class="text-amber-800" data-testid="type-lacking">{text}</span> }.into_any()
        }
    };
    view! {
        <tr data-testid="type-row" data-kind=r.kind.clone() data-api-version=r.api_version.clone()>
            <td class="px-4 py-2 font-medium text-slate-900">{r.kind.clone()}</td>
            <td class="px-4 py-2 font-mono text-xs text-slate-700">{r.api_version.clone()}</td>
            <td class="px-4 py-2 font-mono text-xs text-slate-700">{r.plural.clone()}</td>
            <td class="px-4 py-2 text-slate-700">{if r.namespaced { "Namespaced" } else { "Cluster" }}</td>
            <td class="px-4 py-2 text-right tabular-nums" data-testid="type-served-by">{format!("{} of {read}", r.served_by)}</td>
            <td class="px-4 py-2">{lacking}</td>
        </tr>
    }
}
