//! The project page: its resources × its clusters, each cell live; tabs by kind, each with
//! the forms that add that kind (`project/tabs.rs`, `project/add_forms.rs`); a matrix row is
//! `project/matrix.rs`.

mod add_forms;
pub(crate) mod delete;
pub(crate) mod export;
mod matrix;
mod pod_security;
pub(crate) mod server_fns;
mod tabs;

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::add_yaml::AddYaml;
use super::apps::InstallApp;
use super::workspace::server_fns::get_workspace_detail;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, EditSelector, ErrorAlert, HealthBadge, look};
use crate::live::{LiveEvent, Spoken};
use crate::model::{ProjectView, StatusView};
use server_fns::{
    AddConfigmap, AddResource, AddSecret, AdoptNamespace, SetPodSecurity, SetProjectSelector, get_project_statuses,
    get_project_view,
};

use add_forms::{AddConfigMap, AddSecretForm};
use matrix::{InstallRows, MatrixRow};
use pod_security::PodSecurityLevel;
use tabs::{CONFIGMAP, DEPLOYMENT, QUOTA, ROLE, SECRET, SERVICE, Tab};

/// Statuses by (resource, cluster). `None` is a status the live stream removed: a page load
/// that still has it (the store lags the stream) must not bring it back.
type Cells = HashMap<(String, String), Option<StatusView>>;

/// A project: its resources × its clusters, each cell the resource's status in that
/// cluster, kept current from the live stream without reloading.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let add = ServerAction::<AddConfigmap>::new();
    let add_yaml = ServerAction::<AddResource>::new();
    let edit = ServerAction::<SetProjectSelector>::new();
    let set_level = ServerAction::<SetPodSecurity>::new();
    let add_secret = ServerAction::<AddSecret>::new();
    // Bumped when the stream says events were missed: read everything again.
    let resync = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || {
            let changes =
                add.version().get() + add_yaml.version().get() + edit.version().get() + set_level.version().get();
            (id(), changes + add_secret.version().get(), resync.get())
        },
        |(id, _, _)| get_project_view(id),
    );
    let cells = RwSignal::new(Cells::new());
    let health = RwSignal::new(HashMap::<String, (String, String)>::new());
    // While the statuses are read again after the stream opens: the cells and clusters (no
    // resource) the stream has spoken of since.
    let spoken = Spoken::<(String, String)>::new();
    let touch = move |key: &(String, String)| spoken.touch(key);
    crate::live::subscribe(move |event| match event {
        LiveEvent::Status(s) => cells.update(|c| {
            let key = (s.resource_id.clone(), s.cluster_id.clone());
            touch(&key);
            c.insert(key, Some(s));
        }),
        LiveEvent::Removed { resource_id, cluster_id } => cells.update(|c| {
            let key = (resource_id, cluster_id);
            touch(&key);
            c.insert(key, None);
        }),
        LiveEvent::Opened => {
            // Statuses that changed between the page's load and the stream's opening were on
            // neither: read them once more, keeping what the stream has said meanwhile.
            spoken.begin();
            let project = id();
            leptos::task::spawn_local(async move {
                let read = get_project_statuses(project).await;
                let spoken = spoken.end();
                // `try_`: the page may have been left meanwhile.
                if let Ok(now) = read {
                    cells.try_update(|c| {
                        // A status gone in between is gone (unless the stream spoke of it).
                        let present: HashSet<(String, String)> =
                            now.statuses.iter().map(|s| (s.resource_id.clone(), s.cluster_id.clone())).collect();
                        for (key, cell) in c.iter_mut() {
                            if !present.contains(key) && !spoken.contains(key) {
                                *cell = None;
                            }
                        }
                        for s in now.statuses {
                            let key = (s.resource_id.clone(), s.cluster_id.clone());
                            if !spoken.contains(&key) {
                                c.insert(key, Some(s));
                            }
                        }
                    });
                    // A cluster's health, keyed (no resource, cluster) among what was spoken of.
                    health.try_update(|h| {
                        for cl in now.clusters {
                            if !spoken.contains(&(String::new(), cl.id.clone())) {
                                h.insert(cl.id, (cl.health, cl.health_reason));
                            }
                        }
                    });
                }
            });
        }
        LiveEvent::Cluster { cluster_id, health: h, reason, .. } => health.update(|m| {
            touch(&(String::new(), cluster_id.clone()));
            m.insert(cluster_id, (h, reason));
        }),
        LiveEvent::Resync => {
            // Events were missed: the next load is the whole truth again.
            cells.update(Cells::clear);
            resync.update(|n| *n += 1);
        }
        // Saved changes reload nothing here: a form being filled in would be lost.
        LiveEvent::Changed { .. } => {}
    });

    view! {
        <Title text="Project" />
        <AppShell>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the project…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(p) => {
                            // What the page loaded fills what the stream has not said yet: the
                            // stream is ahead of the store (statuses are stored after a burst),
                            // so a status it brought while this loaded stays.
                            cells.update(|c| {
                                for s in p.statuses() {
                                    c.entry((s.resource_id.clone(), s.cluster_id.clone())).or_insert(Some(s));
                                }
                            });
                            health.update(|h| {
                                for c in &p.clusters {
                                    h.entry(c.id.clone()).or_insert_with(|| (c.health.clone(), c.health_reason.clone()));
                                }
                            });
                            view! { <Project p cells health add add_yaml edit set_level add_secret reload=resync /> }.into_any()
                        }
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[component]
fn Project(
    p: ProjectView,
    cells: RwSignal<Cells>,
    health: RwSignal<HashMap<String, (String, String)>>,
    add: ServerAction<AddConfigmap>,
    add_yaml: ServerAction<AddResource>,
    edit: ServerAction<SetProjectSelector>,
    set_level: ServerAction<SetPodSecurity>,
    add_secret: ServerAction<AddSecret>,
    /// Bumped to read the project again (after an install).
    reload: RwSignal<u32>,
) -> impl IntoView {
    let ProjectView {
        id,
        name,
        workspace_id,
        workspace_name,
        selector,
        version,
        clusters,
        resources,
        level,
        pod_security,
        tenant_admin,
        installs,
        can_delete,
        ..
    } = p;
    let (edit_id, edit_workspace) = (StoredValue::new(id.clone()), StoredValue::new(workspace_id.clone()));
    let clusters = StoredValue::new(clusters);
    let pairs = resources.len() * clusters.with_value(Vec::len);
    // A fleet has hundreds of clusters: the matrix shows a page of them, filtered by name.
    let filter = RwSignal::new(String::new());
    let page = RwSignal::new(0usize);
    let shown = Memo::new(move |_| {
        let text = filter.get().trim().to_lowercase();
        clusters.with_value(|all| {
            all.iter().filter(|c| text.is_empty() || c.name.to_lowercase().contains(&text)).cloned().collect::<Vec<_>>()
        })
    });
    let pages = move || shown.with(|s| s.len().div_ceil(COLUMNS).max(1));
    let visible = Memo::new(move |_| {
        let start = page.get().min(pages() - 1) * COLUMNS;
        shown.with(|s| s.iter().skip(start).take(COLUMNS).cloned().collect::<Vec<_>>())
    });
    let resources = StoredValue::new(resources);
    // Where a namespace of the project's name existed before it, nothing of the project is
    // written until a tenant admin adopts it.
    let namespace_id = resources.with_value(|rs| rs.iter().find(|r| r.kind == "Namespace").map(|r| r.id.clone()));
    let foreign_namespace = move || {
        namespace_id.as_ref().is_some_and(|ns| {
            cells.with(|c| c.iter().any(|((r, _), s)| r == ns && s.as_ref().is_some_and(|s| s.code == "AlreadyExists")))
        })
    };
    let adopt = ServerAction::<AdoptNamespace>::new();
    let tab = RwSignal::new(Tab::All);
    // Resources of an installed app fold under their install where the tab shows installs.
    let in_install =
        StoredValue::new(installs.iter().flat_map(|i| i.resource_ids.iter().cloned()).collect::<HashSet<String>>());
    let installs = StoredValue::new(installs);
    let shown_resources = move || {
        let t = tab.get();
        resources.with_value(|rs| {
            rs.iter()
                .filter(|r| t.holds(&r.kind) && !(t.shows_installs() && in_install.with_value(|i| i.contains(&r.id))))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let install_rows = move || {
        if !tab.get().shows_installs() {
            return Vec::new();
        }
        installs.with_value(|is| {
            is.iter()
                .map(|i| {
                    let rows = resources.with_value(|rs| {
                        rs.iter().filter(|r| i.resource_ids.contains(&r.id)).cloned().collect::<Vec<_>>()
                    });
                    (i.clone(), rows)
                })
                .collect::<Vec<_>>()
        })
    };
    let count = move |category: &'static str| {
        cells.with(|c| c.values().flatten().filter(|s| look(&s.code).0 == category).count())
    };
    let cluster_names: Vec<String> = clusters.with_value(|c| c.iter().map(|c| c.name.clone()).collect());
    let ids = StoredValue::new((id.clone(), workspace_id.clone()));
    let names = StoredValue::new(cluster_names);

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
            <a href=format!("/workspaces/{workspace_id}") class="hover:text-slate-800 hover:underline">{workspace_name}</a>
            " / "
        </nav>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            <span data-testid="project-scope">
                {format!(
                    "Namespace {name} in {}{}.",
                    crate::words::count(clusters.with_value(Vec::len), "cluster"),
                    if selector.is_empty() { String::new() } else { format!(" (narrowed by {selector})") },
                )}
            </span>
        </p>
        {level.is_admin().then(|| view! {
            <EditSelector among="clusters of the workspace" initial=selector.clone() now=clusters.with_value(Vec::len)
                load=move || {
                    let workspace_id = edit_workspace.get_value();
                    async move { get_workspace_detail(workspace_id).await.map(|d| d.cluster_labels) }
                }
                error=Signal::derive(move || edit.value().get().and_then(Result::err))
                saving=edit.pending()
                on_save=Callback::new(move |selector| { edit.dispatch(SetProjectSelector { id: edit_id.get_value(), version, selector }); }) />
        })}
        <PodSecurityLevel id=id.clone() version current=pod_security can_change=level.is_admin() action=set_level />
        <export::ExportProject id=id.clone() />
        {can_delete.then(|| view! { <delete::DeleteProject id=id.clone() version /> })}
        <Show when=foreign_namespace.clone()>
            <div class="mt-3 max-w-3xl rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-600/20" data-testid="foreign-namespace">
                <p>{format!(
                    "In some clusters a namespace named {name} existed before this project and is not Flotilla's: \
                     nothing of the project is written there until a tenant admin adopts it."
                )}</p>
                {tenant_admin.then(|| {
                    let id = edit_id.get_value();
                    view! {
                        <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=move || adopt.pending().get()
                            on:click=move |_| { adopt.dispatch(AdoptNamespace { id: id.clone() }); }>
                            "Adopt the namespace"
                        </button>
                    }
                })}
                {move || adopt.value().get().and_then(Result::err).map(|e| view! { <div class="mt-2"><ErrorAlert message=e.to_string() /></div> })}
            </div>
        </Show>
        {(!level.can_edit()).then(|| view! {
            <p class="mt-2 text-sm text-slate-600" data-testid="read-only">"You can view this project; your role does not let you change it."</p>
        })}

        <dl class="mt-6 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Status summary">
            {["Synced", "Progressing", "Failed", "Offline"].into_iter().map(|category| {
                let (_, icon, class) = look(match category {
                    "Synced" => "Synced",
                    "Progressing" => "Pending",
                    "Offline" => "ClusterNotReady",
                    _ => "CreationFailed",
                });
                view! {
                    <div class=format!("rounded-lg px-4 py-3 ring-1 ring-inset {class}")>
                        <dt class="text-xs font-medium uppercase tracking-wide">{format!("{icon} {category}")}</dt>
                        <dd class="mt-1 text-2xl font-semibold tabular-nums" data-testid=format!("summary-{}", category.to_lowercase())>
                            {move || count(category)}
                        </dd>
                    </div>
                }
            }).collect_view()}
        </dl>
        <p class="mt-2 text-xs text-slate-500">
            {format!("{} resources × {} clusters = {pairs} statuses", resources.with_value(Vec::len), clusters.with_value(Vec::len))}
        </p>
        <div role="tablist" aria-label="Kinds of resource" class="mt-6 flex flex-wrap gap-1 border-b border-slate-200">
            {Tab::ALL.into_iter().map(|t| view! {
                <button type="button" role="tab"
                    aria-selected=move || (tab.get() == t).to_string()
                    class=move || format!(
                        "border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600 {}",
                        if tab.get() == t { "border-sky-600 text-sky-700" } else { "border-transparent text-slate-600 hover:text-slate-900" }
                    )
                    on:click=move |_| tab.set(t)>
                    {t.label()}
                    <span class="ml-1.5 rounded-full bg-slate-100 px-1.5 text-xs tabular-nums text-slate-600">
                        {if t == Tab::Apps { installs.with_value(Vec::len) } else { resources.with_value(|rs| rs.iter().filter(|r| t.holds(&r.kind)).count()) }}
                    </span>
                </button>
            }).collect_view()}
        </div>
        <div class="mt-4 flex flex-wrap items-end justify-between gap-3">
            <div class="w-full max-w-xs">
                <label for="cluster-filter" class="block text-sm font-medium text-slate-700">"Filter clusters"</label>
                <input id="cluster-filter" type="search" class=INPUT placeholder="name"
                    prop:value=move || filter.get()
                    on:input=move |ev| { filter.set(event_target_value(&ev)); page.set(0); } />
            </div>
            <nav aria-label="Cluster pages" class="flex items-center gap-2 text-sm">
                <button type="button" class=BUTTON_SECONDARY disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <span data-testid="cluster-page" class="tabular-nums text-slate-600">
                    {move || {
                        let total = shown.with(Vec::len);
                        let start = page.get().min(pages() - 1) * COLUMNS;
                        if total == 0 { "no clusters".to_owned() } else {
                            format!("clusters {}–{} of {total}", start + 1, (start + COLUMNS).min(total))
                        }
                    }}
                </span>
                <button type="button" class=BUTTON_SECONDARY disabled=move || { page.get() + 1 >= pages() }
                    on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </nav>
        </div>

        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="status-matrix">
                <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Resource"</th>
                        <For each=move || visible.get() key=|c| c.id.clone() let:c>
                            {
                                let cid = c.id.clone();
                                view! {
                                    <th scope="col" class="px-3 py-3 font-mono font-medium">
                                        <div>{c.name.clone()}</div>
                                        {move || {
                                            let (h, reason) = health.with(|m| m.get(&cid).cloned()).unwrap_or_default();
                                            view! { <HealthBadge health=h reason /> }
                                        }}
                                    </th>
                                }
                            }
                        </For>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For each=install_rows key=|(i, _)| i.id.clone() let:row>
                        <InstallRows install=row.0 resources=row.1 clusters=visible cells can_edit=level.can_edit() reload />
                    </For>
                    <For each=shown_resources key=|r| r.id.clone() let:r>
                        <MatrixRow r clusters=visible cells />
                    </For>
                    <Show when=move || shown_resources().is_empty() && install_rows().is_empty()>
                        <tr>
                            <td colspan="26" class="px-4 py-6 text-sm text-slate-600">
                                {move || format!("No {} here yet{}", tab.get().noun(), if level.can_edit() { ": add one below." } else { "." })}
                            </td>
                        </tr>
                    </Show>
                </tbody>
            </table>
        </div>

        <div class="mt-8 grid gap-6 xl:grid-cols-2">
            {move || level.can_edit().then(|| {
                let (pid, wid) = ids.get_value();
                let yaml = move |title: &'static str, hint: &'static str, example: &'static str| {
                    let pid = pid.clone();
                    view! {
                        <AddYaml title hint example workspace_id=wid.clone() project_id=Some(pid.clone())
                            add=move |yaml| { add_yaml.dispatch(AddResource { project_id: pid.clone(), yaml }); }
                            added=add_yaml.value() adding=add_yaml.pending() />
                    }
                };
                let pid = ids.get_value().0;
                match tab.get() {
                    Tab::Apps => {
                        let (project_id, workspace_id) = ids.get_value();
                        view! {
                            <div class="xl:col-span-2">
                                <InstallApp workspace_id project_id=Some(project_id)
                                    installed=move |_| reload.update(|n| *n += 1) />
                            </div>
                        }.into_any()
                    }
                    Tab::All => view! {
                        <AddConfigMap project_id=pid add cluster_names=names.get_value() />
                        {yaml("Add any object (YAML)", "Deployments, Services, Roles, Secrets…; the namespace is the project's.", DEPLOYMENT)}
                    }.into_any(),
                    Tab::ConfigMaps => view! {
                        <AddConfigMap project_id=pid add cluster_names=names.get_value() />
                        {yaml("Add a ConfigMap as YAML", "For binary data or values spanning lines.", CONFIGMAP)}
                    }.into_any(),
                    Tab::Secrets => view! {
                        <AddSecretForm project_id=pid add=add_secret />
                        {yaml("Add a Secret as YAML", "Values are stored encrypted and never shown again.", SECRET)}
                    }.into_any(),
                    Tab::Quotas => yaml("Add a ResourceQuota or LimitRange (YAML)", "Caps what the namespace may use in each cluster.", QUOTA).into_any(),
                    Tab::Rbac => yaml("Add a Role, RoleBinding or ServiceAccount (YAML)", "Who may do what in the namespace.", ROLE).into_any(),
                    Tab::Workloads => yaml("Add a workload (YAML)", "Deployments, StatefulSets, DaemonSets, Jobs, CronJobs; each cell shows its rollout.", DEPLOYMENT).into_any(),
                    Tab::Other => yaml("Add any object (YAML)", "Services, Ingresses, PersistentVolumeClaims…; the namespace is the project's.", SERVICE).into_any(),
                }
            })}
        </div>
    }
}

/// Clusters shown at once in the matrix.
const COLUMNS: usize = 25;
