//! Rows of the project's matrix: a resource and its status in each shown cluster, and an
//! installed app with its health in each cluster and its resources folded under it.

use leptos::prelude::*;

use crate::components::{RemovalPanel, StatusBadge};
use crate::model::{AppHealth, ClusterRef, InstallView, ResourceRow};
use crate::pages::apps::server_fns::{review_uninstall, uninstall_app};

use super::Cells;

#[component]
pub(super) fn MatrixRow(
    r: ResourceRow,
    clusters: Memo<Vec<ClusterRef>>,
    cells: RwSignal<Cells>,
    /// Folded under an install: indented under its row.
    #[prop(optional)]
    nested: bool,
) -> impl IntoView {
    let label = format!("{}/{}", r.kind, r.name);
    let (cell_label, row_label) = (label.clone(), label.clone());
    let resource_id = r.id.clone();
    view! {
        <tr data-testid="matrix-row" data-resource=row_label>
            <th scope="row" class=if nested { "py-3 pl-10 pr-4 text-left font-medium text-slate-900" } else { "px-4 py-3 text-left font-medium text-slate-900" }>
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

/// An install: its app and version, its health in each shown cluster (every object synced,
/// every workload healthy), and — unfolded — its resources' own rows.
#[component]
pub(super) fn InstallRows(
    install: InstallView,
    resources: Vec<ResourceRow>,
    clusters: Memo<Vec<ClusterRef>>,
    cells: RwSignal<Cells>,
    /// The caller may change the project's resources (and so uninstall).
    can_edit: bool,
    /// Bumped to read the project again (after an uninstall).
    reload: RwSignal<u32>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let uninstalling = RwSignal::new(false);
    let orphan = RwSignal::new(false);
    let (install_id, row_version) = (install.id.clone(), install.row_version);
    let review = Action::new({
        let id = install_id.clone();
        move |orphan: &bool| review_uninstall(id.clone(), *orphan)
    });
    let remove = Action::new(move |orphan: &bool| uninstall_app(install_id.clone(), row_version, *orphan));
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    let title = format!("Uninstall {}", install.name);
    let ids = StoredValue::new(install.resource_ids.clone());
    let label = format!("{} — {} {}", install.name, install.display_name, install.version);
    // Upgraded from the Apps page, with this install chosen (one rollout for it alone).
    let upgrade =
        install.upgrades.first().map(|v| (format!("Upgrade to {v}…"), upgrade_href(&install.id, &install.app_name)));
    let count = resources.len();
    let resources = StoredValue::new(resources);
    let name = StoredValue::new(install.name.clone());
    view! {
        <tr data-testid="install-row" data-install=name.get_value() class="bg-slate-50/60">
            <th scope="row" class="px-4 py-3 text-left font-medium text-slate-900">
                <button type="button" class="inline-flex items-center gap-1 rounded text-left hover:text-sky-700 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>
                    <span aria-hidden="true" class="inline-block w-3">{move || if open.get() { "▾" } else { "▸" }}</span>
                    {label}
                </button>
                <span class="ml-2 text-xs font-normal text-slate-500">{crate::words::count(count, "resource")}</span>
                {upgrade.map(|(text, href)| view! {
                    <a class="ml-2 text-xs font-normal text-sky-700 hover:underline" data-testid="upgrade-available" href=href>{text}</a>
                })}
                {can_edit.then(|| view! {
                    <button type="button" class="ml-2 text-xs font-normal text-red-700 hover:underline" data-testid="uninstall"
                        on:click=move |_| uninstalling.set(true)>
                        "Uninstall…"
                    </button>
                })}
                {(!install.rules.is_empty()).then(|| view! {
                    <p class="ml-4 mt-1 text-xs font-normal text-slate-600" data-testid="install-rules">
                        {format!("Per-cluster values: {}", install.rules.join("; "))}
                    </p>
                })}
            </th>
            <For each=move || clusters.get() key=|c| c.id.clone() let:c>
                {
                    let cluster_id = c.id.clone();
                    let health = move || {
                        cells.with(|m| {
                            ids.with_value(|ids| {
                                AppHealth::of(ids.iter().map(|r| m.get(&(r.clone(), cluster_id.clone())).and_then(Option::as_ref)))
                            })
                        })
                    };
                    view! {
                        <td class="px-3 py-2" data-testid="app-health" data-cluster=c.name.clone() data-install=name.get_value()>
                            {move || {
                                let h = health();
                                let (icon, class) = h.look();
                                view! {
                                    <span class=format!("inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {class}")>
                                        <span aria-hidden="true">{icon}</span>{h.label()}
                                    </span>
                                }
                            }}
                        </td>
                    }
                }
            </For>
        </tr>
        <Show when=move || uninstalling.get()>
            <tr>
                <td colspan=move || clusters.with(Vec::len) + 1 class="px-4 py-3">
                    <div class="max-w-3xl">
                        <RemovalPanel title=title.clone() labels=("Uninstall", "Uninstalling…") orphan review remove
                            on_cancel=Callback::new(move |()| uninstalling.set(false)) />
                    </div>
                </td>
            </tr>
        </Show>
        <Show when=move || open.get()>
            {resources.get_value().into_iter().map(|r| view! { <MatrixRow r clusters cells nested=true /> }).collect_view()}
        </Show>
    }
}

/// Where an install is upgraded: the Apps page, its upgrade form open with the install chosen
/// (ids are UUIDs and app names DNS labels: nothing to escape).
fn upgrade_href(install_id: &str, app_name: &str) -> String {
    format!("/apps?upgrade={install_id}#app-{app_name}")
}
