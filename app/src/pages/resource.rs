//! The resource page: its status in every cluster (live), and tabs to edit it, read its
//! history and delete it; each tab has its file beside this one.

mod delete;
mod edit;
mod history;
pub(crate) mod server_fns;
mod status;

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::{AppShell, ErrorAlert};
use crate::live::{LiveEvent, Spoken};
use crate::model::{ResourceDetail, StatusView};
use server_fns::{get_resource_detail, get_resource_statuses};

use delete::DeleteResource;
use edit::Editor;
use history::History;
use status::StatusTable;

/// One resource: its status in every cluster (live), its editor (YAML, Secret values,
/// placement, per-cluster overrides), its history, and deletion. Every change is shown as a
/// per-cluster diff first and applied only from there.
#[component]
pub fn ResourcePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = PageState { tab: RwSignal::new(Tab::Status), notice: RwSignal::new(None), reload: RwSignal::new(0) };
    let reload = page.reload;
    let detail = Resource::new(move || (id(), reload.get()), |(id, _)| get_resource_detail(id));
    // By cluster; `None`: removed by the live stream (a load from the lagging store must not
    // bring it back).
    let cells = RwSignal::new(HashMap::<String, Option<StatusView>>::new());
    let health = RwSignal::new(HashMap::<String, (String, String)>::new());
    // While the statuses are read again after the stream opens: the clusters the stream has
    // spoken of since (`true`: a status, `false`: the cluster's health).
    let spoken = Spoken::<(String, bool)>::new();
    crate::live::subscribe(move |event| match event {
        LiveEvent::Status(s) if s.resource_id == id() => cells.update(|c| {
            spoken.touch(&(s.cluster_id.clone(), true));
            c.insert(s.cluster_id.clone(), Some(s));
        }),
        LiveEvent::Removed { resource_id, cluster_id } if resource_id == id() => cells.update(|c| {
            spoken.touch(&(cluster_id.clone(), true));
            c.insert(cluster_id, None);
        }),
        LiveEvent::Cluster { cluster_id, health: h, reason, .. } => health.update(|m| {
            spoken.touch(&(cluster_id.clone(), false));
            m.insert(cluster_id, (h, reason));
        }),
        LiveEvent::Opened => {
            // What changed between the page's load and the stream's opening was on neither:
            // read it once more, keeping what the stream has said meanwhile.
            spoken.begin();
            let resource = id();
            leptos::task::spawn_local(async move {
                let read = get_resource_statuses(resource).await;
                let spoken = spoken.end();
                // `try_`: the page may have been left meanwhile.
                if let Ok(now) = read {
                    cells.try_update(|c| {
                        // A status gone in between is gone (unless the stream spoke of it).
                        let present: HashSet<String> = now.statuses.iter().map(|s| s.cluster_id.clone()).collect();
                        for (cluster, cell) in c.iter_mut() {
                            if !present.contains(cluster) && !spoken.contains(&(cluster.clone(), true)) {
                                *cell = None;
                            }
                        }
                        for s in now.statuses {
                            if !spoken.contains(&(s.cluster_id.clone(), true)) {
                                c.insert(s.cluster_id.clone(), Some(s));
                            }
                        }
                    });
                    health.try_update(|h| {
                        for cl in now.clusters {
                            if !spoken.contains(&(cl.id.clone(), false)) {
                                h.insert(cl.id, (cl.health, cl.health_reason));
                            }
                        }
                    });
                }
            });
        }
        LiveEvent::Resync => {
            cells.update(HashMap::clear);
            reload.update(|n| *n += 1);
        }
        _ => {}
    });

    view! {
        <Title text="Resource" />
        <AppShell>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the resource…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
                            cells.update(|c| {
                                for s in &d.statuses {
                                    c.entry(s.cluster_id.clone()).or_insert_with(|| Some(s.clone()));
                                }
                            });
                            health.update(|h| {
                                for c in &d.clusters {
                                    h.entry(c.id.clone()).or_insert_with(|| (c.health.clone(), c.health_reason.clone()));
                                }
                            });
                            view! { <Resource d cells health page /> }.into_any()
                        }
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Status,
    Edit,
    History,
}

/// What outlives a reload of the resource: the open tab and the last change's notice.
#[derive(Clone, Copy)]
struct PageState {
    tab: RwSignal<Tab>,
    notice: RwSignal<Option<String>>,
    /// Bumped to read the resource again (after a change; when live events were missed).
    reload: RwSignal<u32>,
}

impl PageState {
    /// A change was applied: say so, read the resource again, and show its rollout.
    fn applied(self, notice: String) {
        self.notice.set(Some(notice));
        self.tab.set(Tab::Status);
        self.reload.update(|n| *n += 1);
    }
}

#[component]
fn Resource(
    d: ResourceDetail,
    cells: RwSignal<HashMap<String, Option<StatusView>>>,
    health: RwSignal<HashMap<String, (String, String)>>,
    page: PageState,
) -> impl IntoView {
    let tab = page.tab;
    let title = format!("{} {}", d.kind, d.name);
    let back = match (&d.project_id, &d.project_name) {
        (Some(id), Some(name)) => view! {
            " / " <a href=format!("/projects/{id}") class="hover:text-slate-800 hover:underline">{name.clone()}</a>
        }
        .into_any(),
        _ => ().into_any(),
    };
    let can_edit = d.level.can_edit();
    let d = StoredValue::new(d);
    let tab_button = move |t: Tab, label: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                aria-selected=move || (tab.get() == t).to_string()
                class=move || format!(
                    "border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600 {}",
                    if tab.get() == t { "border-sky-600 text-sky-700" } else { "border-transparent text-slate-600 hover:text-slate-900" }
                )
                on:click=move |_| tab.set(t)
            >
                {label}
            </button>
        }
    };

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
            <a href=format!("/workspaces/{}", d.with_value(|d| d.workspace_id.clone())) class="hover:text-slate-800 hover:underline">
                {d.with_value(|d| d.workspace_name.clone())}
            </a>
            {back}
            " /"
        </nav>
        <div class="mt-1 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {d.with_value(|d| format!("{} · revision {} · in {} of its scope", d.api_version, d.revision, crate::words::count(d.clusters.len(), "cluster")))}
                </p>
            </div>
            <DeleteResource d=d.get_value() />
        </div>
        {move || page.notice.get().map(|text| view! {
            <p role="status" class="mt-4 flex items-center justify-between gap-3 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
                {text}
                <button type="button" class="text-xs underline" on:click=move |_| page.notice.set(None)>"Dismiss"</button>
            </p>
        })}
        <div role="tablist" aria-label="Resource" class="mt-6 flex gap-2 border-b border-slate-200">
            {tab_button(Tab::Status, "Status")}
            {can_edit.then(|| tab_button(Tab::Edit, "Edit"))}
            {tab_button(Tab::History, "History")}
        </div>
        <div class="mt-6">
            {move || match tab.get() {
                Tab::Status => view! { <StatusTable d=d.get_value() cells health page /> }.into_any(),
                Tab::Edit if can_edit => view! { <Editor d=d.get_value() page /> }.into_any(),
                Tab::Edit => view! { <StatusTable d=d.get_value() cells health page /> }.into_any(),
                Tab::History => view! { <History d=d.get_value() page /> }.into_any(),
            }}
        </div>
    }
}
