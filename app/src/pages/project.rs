use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::add_yaml::AddYaml;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, ErrorAlert, Field, HealthBadge, ReviewPanel, SelectorEditor, StatusBadge, look};
use crate::live::{LiveEvent, StatusView};
use crate::projects::{
    AddConfigmap, AddResource, ClusterRef, ProjectView, ResourceRow, SetProjectSelector, get_project_view,
    get_workspace_detail, review_configmap,
};

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
    // Bumped when the stream says events were missed: read everything again.
    let resync = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || (id(), add.version().get() + add_yaml.version().get() + edit.version().get(), resync.get()),
        |(id, _, _)| get_project_view(id),
    );
    let cells = RwSignal::new(Cells::new());
    let health = RwSignal::new(HashMap::<String, (String, String)>::new());
    crate::live::subscribe(move |event| match event {
        LiveEvent::Status(s) => cells.update(|c| {
            c.insert((s.resource_id.clone(), s.cluster_id.clone()), Some(s));
        }),
        LiveEvent::Removed { resource_id, cluster_id } => cells.update(|c| {
            c.insert((resource_id, cluster_id), None);
        }),
        LiveEvent::Cluster { cluster_id, health: h, reason, .. } => health.update(|m| {
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
                            view! { <Project p cells health add add_yaml edit /> }.into_any()
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
) -> impl IntoView {
    let ProjectView { id, name, workspace_id, workspace_name, selector, version, clusters, resources, .. } = p;
    let editing = RwSignal::new(false);
    let scope = Resource::new(move || editing.get(), {
        let workspace_id = workspace_id.clone();
        move |open| {
            let workspace_id = workspace_id.clone();
            async move {
                if open { get_workspace_detail(workspace_id).await.map(|d| d.cluster_labels) } else { Ok(Vec::new()) }
            }
        }
    });
    let (edit_id, edit_selector) = (StoredValue::new(id.clone()), StoredValue::new(selector.clone()));
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
    let count = move |category: &'static str| {
        cells.with(|c| c.values().flatten().filter(|s| look(&s.code).0 == category).count())
    };
    let cluster_names: Vec<String> = clusters.with_value(|c| c.iter().map(|c| c.name.clone()).collect());
    let project_id = id.clone();

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
            <a href=format!("/workspaces/{workspace_id}") class="hover:text-slate-800 hover:underline">{workspace_name}</a>
            " / "
        </nav>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{name.clone()}</h1>
        <p class="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-600">
            <span data-testid="project-scope">
                {format!("Namespace {name} in {} clusters", clusters.with_value(Vec::len))}
                {if selector.is_empty() { String::new() } else { format!(" (narrowed by {selector})") }}
                "."
            </span>
            <Show when=move || !editing.get()>
                <button type="button" class="text-sm text-sky-700 underline hover:text-sky-900" on:click=move |_| editing.set(true)>
                    "Edit selector"
                </button>
            </Show>
        </p>
        <Show when=move || editing.get()>
            <div class="mt-3 max-w-xl">
                <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the workspace's clusters…"</p> }>
                    {move || Suspend::new(async move {
                        match scope.await {
                            Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Ok(labels) => {
                                let id = edit_id.get_value();
                                view! {
                                    <SelectorEditor among="clusters of the workspace" initial=edit_selector.get_value()
                                        candidates=labels now=clusters.with_value(Vec::len)
                                        error=Signal::derive(move || edit.value().get().and_then(Result::err))
                                        saving=edit.pending()
                                        on_save=move |selector| { edit.dispatch(SetProjectSelector { id: id.clone(), version, selector }); }
                                        on_cancel=move || editing.set(false) />
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </Show>

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
                    {resources.get_value().into_iter().map(|r| view! { <MatrixRow r clusters=visible cells /> }).collect_view()}
                </tbody>
            </table>
        </div>

        <div class="mt-8 grid gap-6 xl:grid-cols-2">
            <AddConfigMap project_id=id.clone() add cluster_names />
            <AddYaml
                title="Add any object (YAML)"
                hint="Deployments, Services, Roles, Secrets…; the namespace is the project's."
                example=EXAMPLE
                workspace_id=workspace_id.clone()
                project_id=Some(id)
                add=move |yaml| { add_yaml.dispatch(AddResource { project_id: project_id.clone(), yaml }); }
                added=add_yaml.value()
                adding=add_yaml.pending()
            />
        </div>
    }
}

#[component]
fn MatrixRow(r: ResourceRow, clusters: Memo<Vec<ClusterRef>>, cells: RwSignal<Cells>) -> impl IntoView {
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
                                None => view! { <span class="text-xs text-slate-400" title="No status yet">"—"</span> }.into_any(),
                                Some(s) => view! { <StatusBadge s /> }.into_any(),
                            }}
                        </td>
                    }
                }
            </For>
        </tr>
    }
}

/// A ConfigMap from `key=value` lines, with values that differ in one cluster; reviewed
/// (what it creates in which cluster) before it is added.
#[component]
fn AddConfigMap(project_id: String, add: ServerAction<AddConfigmap>, cluster_names: Vec<String>) -> impl IntoView {
    let (name, data) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (override_cluster, override_data) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let input = move || AddConfigmap {
        project_id: project_id.clone(),
        name: name.get(),
        data: data.get(),
        override_cluster: Some(override_cluster.get()),
        override_data: Some(override_data.get()),
    };
    let input = StoredValue::new(input);
    let review = Action::new(move |i: &AddConfigmap| {
        let i = i.clone();
        async move {
            let AddConfigmap { project_id, name, data, override_cluster, override_data } = i.clone();
            review_configmap(project_id, name, data, override_cluster, override_data).await.map(|r| (i, r))
        }
    });
    let error = Signal::derive(move || {
        add.value().get().and_then(Result::err).or_else(|| review.value().get().and_then(Result::err))
    });
    let stale = Signal::derive(move || {
        let now = input.with_value(|f| f());
        let same = |i: &AddConfigmap| {
            (&i.name, &i.data, &i.override_cluster, &i.override_data)
                == (&now.name, &now.data, &now.override_cluster, &now.override_data)
        };
        review.value().with(|r| matches!(r, Some(Ok((i, _))) if !same(i)))
    });
    // Added: the form empties for the next one.
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_))) {
            for s in [name, data, override_cluster, override_data] {
                s.set(String::new());
            }
            review.value().set(None);
        }
    });
    let text = |s: RwSignal<String>| (move || s.get(), move |ev| s.set(event_target_value(&ev)));
    let (name_value, name_input) = text(name);
    let (data_value, data_input) = text(data);
    let (od_value, od_input) = text(override_data);
    view! {
        <section aria-labelledby="add-configmap" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="add-configmap" class="text-base font-semibold">"Add a ConfigMap"</h2>
            <div class="mt-4 grid gap-4 md:grid-cols-2">
                <div class="space-y-4">
                    <Field id="cm-name" label="Name" field="name" error>
                        <input id="cm-name" autocomplete="off" placeholder="settings" class=INPUT aria-describedby="name-error"
                            prop:value=name_value on:input=name_input />
                    </Field>
                    <Field id="cm-data" label="Data (key=value per line)" field="data" error>
                        <textarea id="cm-data" rows="4" spellcheck="false" class=format!("{INPUT} font-mono") aria-describedby="data-error"
                            prop:value=data_value on:input=data_input></textarea>
                    </Field>
                </div>
                <div class="space-y-4">
                    <Field id="cm-override-cluster" label="Override in cluster (optional)" field="override_cluster" error>
                        <select id="cm-override-cluster" class=INPUT aria-describedby="override_cluster-error"
                            prop:value=move || override_cluster.get()
                            on:change=move |ev| override_cluster.set(event_target_value(&ev))>
                            <option value="">"— none —"</option>
                            {cluster_names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </Field>
                    <Field id="cm-override-data" label="Values there (key=value per line)" field="override_data" error>
                        <textarea id="cm-override-data" rows="3" spellcheck="false" class=format!("{INPUT} font-mono") aria-describedby="override_data-error"
                            prop:value=od_value on:input=od_input></textarea>
                    </Field>
                </div>
            </div>
            <button type="button" class=format!("{BUTTON_SECONDARY} mt-4") disabled=move || review.pending().get()
                on:click=move |_| { review.dispatch(input.with_value(|f| f())); }>
                {move || if review.pending().get() { "Reviewing…" } else { "Review" }}
            </button>
            <Show when=move || review.value().with(|r| matches!(r, Some(Err(e)) if e.is_form_level()))>
                <div class="mt-3"><ErrorAlert message=error.get().map(|e| e.to_string()).unwrap_or_default() /></div>
            </Show>
            {move || review.value().get().and_then(Result::ok).map(|(i, r)| view! {
                <ReviewPanel review=r stale applying=add.pending() error apply_label="Add ConfigMap"
                    on_apply=move || { add.dispatch(i.clone()); } />
            })}
        </section>
    }
}

const EXAMPLE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";

/// Clusters shown at once in the matrix.
const COLUMNS: usize = 25;
