//! One row of the project's matrix: a resource and its status in each shown cluster.

use leptos::prelude::*;

use crate::components::StatusBadge;
use crate::model::{ClusterRef, ResourceRow};

use super::Cells;

#[component]
pub(super) fn MatrixRow(r: ResourceRow, clusters: Memo<Vec<ClusterRef>>, cells: RwSignal<Cells>) -> impl IntoView {
    let label = format!("{}/{}", r.kind, r.name);
    let (cell_label, row_label) = (label.clone(), label.clone());
    let resource_id = r.id.clone();
    view! {
        <tr data-testid="matrix-row" data-resource=row_label>
            <th scope="row" class="px-4 py-3 text-left font-medium text-slate-900">
                <a href=format!("/resources/{}", r.id) class="rounded hover:text-sky-700 hover:underline focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600">{label}</a>
                <span class="ml-2 text-xs font-normal text-slate-500">{format!("rev {}", r.revision)}</span>
            </th>
            <For each=move || clusters.get() key=|c| c.id.clone() let:c>
                {
                    let label = cell_label.clone();
                    let key = (resource_id.clone(), c.id.clone());
                    let cell = move || cells.with(|m| m.get(&key).cloned().flatten());
                    view! {
                        <td class="px-3 py-2" data-testid="status-cell" data-cluster=c.name.clone() data-resource=label.clone()>
                            {move || match cell() {
                                None => view! { <span class="text-xs text-slate-500" title="No status yet">"—"</span> }.into_any(),
                                Some(s) => view! { <StatusBadge s /> }.into_any(),
                            }}
                        </td>
                    }
                }
            </For>
        </tr>
    }
}
