//! The Status tab: the resource in each cluster of its scope, live.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::components::{HealthBadge, StatusBadge};
use crate::model::{ResourceDetail, StatusView};

/// The resource in each cluster of its scope, live.
#[component]
pub(super) fn StatusTable(
    d: ResourceDetail,
    cells: RwSignal<HashMap<String, Option<StatusView>>>,
    health: RwSignal<HashMap<String, (String, String)>>,
) -> impl IntoView {
    if d.clusters.is_empty() {
        return view! {
            <p class="rounded-md border border-dashed border-slate-300 p-6 text-sm text-slate-600">
                "No cluster is in this resource's workspace and project yet. Label clusters to match them, and it follows."
            </p>
        }
        .into_any();
    }
    view! {
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
