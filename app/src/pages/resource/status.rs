//! The Status tab: the resource in each cluster of its scope, live.

use std::collections::HashMap;

use leptos::prelude::*;

use super::PageState;
use super::server_fns::adopt_existing;
use crate::components::styles::BUTTON_SECONDARY;
use crate::components::{ErrorAlert, HealthBadge, StatusBadge};
use crate::model::{ResourceDetail, StatusView};

/// The resource in each cluster of its scope, live.
#[component]
pub(super) fn StatusTable(
    d: ResourceDetail,
    cells: RwSignal<HashMap<String, Option<StatusView>>>,
    health: RwSignal<HashMap<String, (String, String)>>,
    page: PageState,
) -> impl IntoView {
    if d.clusters.is_empty() {
        return view! {
            <p class="rounded-md border border-dashed border-slate-300 p-6 text-sm text-slate-600">
                "No cluster is in this resource's workspace and project yet. Label clusters to match them, and it follows."
            </p>
        }
        .into_any();
    }
    let adopt = view! { <Adopt d=d.clone() cells page /> };
    view! {
        {adopt}
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="resource-status">
                <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Cluster"</th>
                        <th scope="col" class="px-4 py-3">"Cluster health"</th>
                        <th scope="col" class="px-4 py-3">"Status"</th>
                        <th scope="col" class="px-4 py-3">"Message"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {d.clusters.into_iter().map(|c| {
                        let (cid, hid) = (c.id.clone(), c.id.clone());
                        let cell = Memo::new(move |_| cells.with(|m| m.get(&cid).cloned().flatten()));
                        view! {
                            <tr data-testid="status-row" data-cluster=c.name.clone()>
                                <th scope="row" class="px-4 py-2 text-left font-mono font-medium">{c.name.clone()}</th>
                                <td class="px-4 py-2">
                                    {move || {
                                        let (h, reason) = health.with(|m| m.get(&hid).cloned()).unwrap_or_default();
                                        view! { <HealthBadge health=h reason /> }
                                    }}
                                </td>
                                <td class="px-4 py-2">
                                    {move || match cell.get() {
                                        None => view! { <span class="text-xs text-slate-500">"not placed here"</span> }.into_any(),
                                        Some(s) => view! { <StatusBadge s /> }.into_any(),
                                    }}
                                </td>
                                <td class="px-4 py-2 text-xs text-slate-600">{move || cell.get().map(|s| s.message).unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Where clusters answer `AlreadyExists` (an object of this name was there before Flotilla):
/// how many, and for an admin of the resource's home, the way to take them over.
#[component]
fn Adopt(d: ResourceDetail, cells: RwSignal<HashMap<String, Option<StatusView>>>, page: PageState) -> impl IntoView {
    let existing =
        Memo::new(move |_| cells.with(|m| m.values().flatten().filter(|s| s.code == "AlreadyExists").count()));
    let (id, version, may) = (d.id.clone(), d.version, d.level.is_admin() && d.locked.is_none());
    let adopt = Action::new(move |&(): &()| adopt_existing(id.clone(), version));
    Effect::new(move |_| {
        if let Some(Ok(revision)) = adopt.value().get() {
            page.applied(format!("Revision {revision}: the existing objects are being taken over."));
        }
    });
    let error = move || adopt.value().get().and_then(Result::err).map(|e| e.to_string());
    move || {
        (existing.get() > 0).then(|| {
            let what = crate::words::count(existing.get(), "cluster");
            view! {
                <div role="region" aria-label="Objects that existed before" data-testid="adopt"
                    class="mb-4 rounded-md border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900">
                    <p>{format!("In {what}, an object of this name exists that Flotilla did not create; it is left alone.")}</p>
                    {if may {
                        view! {
                            <p class="mt-1 text-xs">"Adopting takes those objects over: they are replaced by this resource as rendered for each cluster, and managed from then on."</p>
                            <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=move || adopt.pending().get()
                                on:click=move |_| { adopt.dispatch(()); }>
                                {move || if adopt.pending().get() { "Adopting…" } else { "Adopt the existing objects" }}
                            </button>
                        }.into_any()
                    } else {
                        view! { <p class="mt-1 text-xs">"An admin of its workspace or project may adopt them."</p> }.into_any()
                    }}
                    <Show when=move || error().is_some()>
                        <div class="mt-2"><ErrorAlert message=error().unwrap_or_default() /></div>
                    </Show>
                </div>
            }
        })
    }
}
