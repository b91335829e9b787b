use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, ErrorAlert, Field, HealthBadge, StatusBadge, look};
use crate::live::{LiveEvent, StatusView};
use crate::projects::{AddConfigmap, AddResource, ClusterRef, ProjectView, ResourceRow, get_project_view};

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
    // Bumped when the stream says events were missed: read everything again.
    let resync = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || (id(), add.version().get() + add_yaml.version().get(), resync.get()),
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
                            view! { <Project p cells health add add_yaml /> }.into_any()
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
) -> impl IntoView {
    let ProjectView { id, name, workspace_id, workspace_name, selector, clusters, resources, .. } = p;
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

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
            <a href=format!("/workspaces/{workspace_id}") class="hover:text-slate-800 hover:underline">{workspace_name}</a>
            " / "
        </nav>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            {format!("Namespace {name} in {} clusters", clusters.with_value(Vec::len))}
            {if selector.is_empty() { String::new() } else { format!(" (narrowed by {selector})") }}
            "."
        </p>

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
                <button type="button" class=BUTTON_SECONDARY disabled=move || page.get() + 1 >= pages()
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
            <AddYaml project_id=id add=add_yaml />
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

/// A ConfigMap from `key=value` lines, with values that differ in one cluster.
#[component]
fn AddConfigMap(project_id: String, add: ServerAction<AddConfigmap>, cluster_names: Vec<String>) -> impl IntoView {
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let form_error = move || error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());
    let pending = add.pending();
    let form = NodeRef::<leptos::html::Form>::new();
    // Added: the form empties for the next one.
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    view! {
        <section aria-labelledby="add-configmap" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="add-configmap" class="text-base font-semibold">"Add a ConfigMap"</h2>
            <ActionForm action=add node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:novalidate=true>
                <input type="hidden" name="project_id" value=project_id />
                <div class="space-y-4">
                    <Field id="cm-name" label="Name" field="name" error>
                        <input id="cm-name" name="name" autocomplete="off" placeholder="settings" class=INPUT aria-describedby="name-error" />
                    </Field>
                    <Field id="cm-data" label="Data (key=value per line)" field="data" error>
                        <textarea id="cm-data" name="data" rows="4" spellcheck="false" class=format!("{INPUT} font-mono") aria-describedby="data-error"></textarea>
                    </Field>
                </div>
                <div class="space-y-4">
                    <Field id="cm-override-cluster" label="Override in cluster (optional)" field="override_cluster" error>
                        <select id="cm-override-cluster" name="override_cluster" class=INPUT aria-describedby="override_cluster-error">
                            <option value="">"— none —"</option>
                            {cluster_names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </Field>
                    <Field id="cm-override-data" label="Values there (key=value per line)" field="override_data" error>
                        <textarea id="cm-override-data" name="override_data" rows="3" spellcheck="false" class=format!("{INPUT} font-mono") aria-describedby="override_data-error"></textarea>
                    </Field>
                </div>
                <Show when=move || form_error().is_some()>
                    <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 md:col-span-2">{form_error}</p>
                </Show>
                <div class="md:col-span-2">
                    <button type="submit" disabled=pending class=BUTTON_PRIMARY>
                        {move || if pending.get() { "Adding…" } else { "Add ConfigMap" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

const EXAMPLE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";

/// Any namespaced object as YAML. It is parsed as it is typed (the server's own parser, in
/// the browser), so mistakes show with their line before anything is sent.
#[component]
fn AddYaml(project_id: String, add: ServerAction<AddResource>) -> impl IntoView {
    let yaml = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        let text = yaml.get();
        if text.trim().is_empty() { None } else { flotilla_domain::parse_manifest(&text).err().map(|e| e.to_string()) }
    });
    let server_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let message = move || {
        checked
            .get()
            .map(|m| m.trim_start_matches("yaml: ").to_owned())
            .or_else(|| server_error.get().map(|e| e.to_string()))
    };
    let pending = add.pending();
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_))) {
            yaml.set(String::new());
        }
    });
    view! {
        <section aria-labelledby="add-yaml" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="add-yaml" class="text-base font-semibold">"Add any object (YAML)"</h2>
            <p class="mt-1 text-xs text-slate-500">"Deployments, Services, Roles, Secrets…; the namespace is the project's."</p>
            <label for="yaml" class="mt-4 block text-sm font-medium text-slate-700">"YAML"</label>
            <textarea
                id="yaml"
                rows="12"
                spellcheck="false"
                placeholder=EXAMPLE
                class=format!("{INPUT} font-mono text-xs")
                aria-describedby="yaml-error"
                aria-invalid=move || message().is_some().to_string()
                prop:value=move || yaml.get()
                on:input=move |ev| yaml.set(event_target_value(&ev))
            ></textarea>
            <Show when=move || message().is_some()>
                <p id="yaml-error" data-testid="yaml-error" class="mt-1 text-sm text-red-700">{message}</p>
            </Show>
            <button
                type="button"
                class=format!("{BUTTON_PRIMARY} mt-4")
                disabled=move || pending.get() || checked.get().is_some() || yaml.get().trim().is_empty()
                on:click={
                    let project_id = project_id.clone();
                    move |_| {
                        add.dispatch(AddResource { project_id: project_id.clone(), yaml: yaml.get_untracked() });
                    }
                }
            >
                {move || if pending.get() { "Adding…" } else { "Add object" }}
            </button>
        </section>
    }
}

/// Clusters shown at once in the matrix.
const COLUMNS: usize = 25;
