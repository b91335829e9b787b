use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::add_yaml::AddYaml;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{
    AppShell, EditSelector, ErrorAlert, Field, FieldError, HealthBadge, ReviewStep, StatusBadge, look,
};
use crate::live::{LiveEvent, StatusView};
use crate::projects::{
    AddConfigmap, AddResource, AddSecret, ClusterRef, ProjectView, ResourceRow, SetProjectSelector, get_project_view,
    get_workspace_detail, review_configmap, review_secret,
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
    let add_secret = ServerAction::<AddSecret>::new();
    // Bumped when the stream says events were missed: read everything again.
    let resync = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || {
            let changes = add.version().get() + add_yaml.version().get() + edit.version().get();
            (id(), changes + add_secret.version().get(), resync.get())
        },
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
                            view! { <Project p cells health add add_yaml edit add_secret /> }.into_any()
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
    add_secret: ServerAction<AddSecret>,
) -> impl IntoView {
    let ProjectView { id, name, workspace_id, workspace_name, selector, version, clusters, resources, level, .. } = p;
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
    let tab = RwSignal::new(Tab::All);
    let shown_resources =
        move || resources.with_value(|rs| rs.iter().filter(|r| tab.get().holds(&r.kind)).cloned().collect::<Vec<_>>());
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
                    "Namespace {name} in {} clusters{}.",
                    clusters.with_value(Vec::len),
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
                        {resources.with_value(|rs| rs.iter().filter(|r| t.holds(&r.kind)).count())}
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
                    <For each=shown_resources key=|r| r.id.clone() let:r>
                        <MatrixRow r clusters=visible cells />
                    </For>
                    <Show when=move || shown_resources().is_empty()>
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
            <ReviewStep review stale applying=add.pending() error apply_label="Add ConfigMap"
                on_review=Callback::new(move |()| { review.dispatch(input.with_value(|f| f())); })
                on_apply=Callback::new(move |i| { add.dispatch(i); }) />
        </section>
    }
}

/// A Secret from keys and values typed into password fields: write-only (stored
/// encrypted, never shown again), reviewed by its keys before it is added.
#[component]
fn AddSecretForm(project_id: String, add: ServerAction<AddSecret>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let next = StoredValue::new(1u32);
    let rows = RwSignal::new(vec![(0u32, RwSignal::new(String::new()), RwSignal::new(String::new()))]);
    let input = StoredValue::new(move || AddSecret {
        project_id: project_id.clone(),
        name: name.get(),
        values: rows.with(|rs| {
            rs.iter().map(|(_, k, v)| (k.get().trim().to_owned(), v.get())).filter(|(k, _)| !k.is_empty()).collect()
        }),
    });
    let review = Action::new(move |i: &AddSecret| {
        let i = i.clone();
        async move {
            let AddSecret { project_id, name, values } = i.clone();
            review_secret(project_id, name, values).await.map(|r| (i, r))
        }
    });
    let error = Signal::derive(move || {
        add.value().get().and_then(Result::err).or_else(|| review.value().get().and_then(Result::err))
    });
    let stale = Signal::derive(move || {
        let now = input.with_value(|f| f());
        review.value().with(|r| matches!(r, Some(Ok((i, _))) if (&i.name, &i.values) != (&now.name, &now.values)))
    });
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_))) {
            name.set(String::new());
            rows.set(vec![(0, RwSignal::new(String::new()), RwSignal::new(String::new()))]);
            review.value().set(None);
        }
    });
    view! {
        <section aria-labelledby="add-secret" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="add-secret" class="text-base font-semibold">"Add a Secret"</h2>
            <p class="mt-1 text-xs text-slate-500">"Values are stored encrypted and never shown again, here or anywhere in Flotilla."</p>
            <div class="mt-4 space-y-4">
                <Field id="secret-name" label="Name" field="name" error>
                    <input id="secret-name" autocomplete="off" placeholder="db-credentials" class=INPUT aria-describedby="name-error"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </Field>
                <fieldset aria-describedby="values-error">
                    <legend class="text-sm font-medium text-slate-700">"Values"</legend>
                    <div class="mt-1 space-y-2">
                        <For each=move || rows.get() key=|r| r.0 let:r>
                            {
                                let (key, k, v) = r;
                                view! {
                                    <div class="grid grid-cols-[1fr_1fr_auto] items-end gap-2" data-testid="secret-row">
                                        <div>
                                            <label for=format!("secret-key-{key}") class="block text-xs text-slate-600">"Key"</label>
                                            <input id=format!("secret-key-{key}") autocomplete="off" class=format!("{INPUT} font-mono")
                                                prop:value=move || k.get() on:input=move |ev| k.set(event_target_value(&ev)) />
                                        </div>
                                        <div>
                                            <label for=format!("secret-value-{key}") class="block text-xs text-slate-600">"Value"</label>
                                            <input id=format!("secret-value-{key}") type="password" autocomplete="new-password" class=INPUT
                                                prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev)) />
                                        </div>
                                        <button type="button" class=BUTTON_SECONDARY aria-label="Remove this value"
                                            on:click=move |_| rows.update(|rs| rs.retain(|r| r.0 != key))>"Remove"</button>
                                    </div>
                                }
                            }
                        </For>
                    </div>
                    <FieldError error field="values" />
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-2")
                        on:click=move |_| {
                            let key = next.get_value();
                            next.set_value(key + 1);
                            rows.update(|rs| rs.push((key, RwSignal::new(String::new()), RwSignal::new(String::new()))));
                        }>"Add another value"</button>
                </fieldset>
            </div>
            <ReviewStep review stale applying=add.pending() error apply_label="Add Secret"
                on_review=Callback::new(move |()| { review.dispatch(input.with_value(|f| f())); })
                on_apply=Callback::new(move |i| { add.dispatch(i); }) />
        </section>
    }
}

/// The project page's tabs: resources by kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    All,
    ConfigMaps,
    Secrets,
    Quotas,
    Rbac,
    Workloads,
    Other,
}

impl Tab {
    const ALL: [Tab; 7] = [Tab::All, Tab::ConfigMaps, Tab::Secrets, Tab::Quotas, Tab::Rbac, Tab::Workloads, Tab::Other];

    fn label(self) -> &'static str {
        match self {
            Tab::All => "All",
            Tab::ConfigMaps => "ConfigMaps",
            Tab::Secrets => "Secrets",
            Tab::Quotas => "Quotas",
            Tab::Rbac => "Roles",
            Tab::Workloads => "Workloads",
            Tab::Other => "Other",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Tab::All => "resources",
            Tab::ConfigMaps => "ConfigMaps",
            Tab::Secrets => "Secrets",
            Tab::Quotas => "quotas or limit ranges",
            Tab::Rbac => "Roles, RoleBindings or ServiceAccounts",
            Tab::Workloads => "workloads",
            Tab::Other => "other objects",
        }
    }

    fn of(kind: &str) -> Tab {
        match kind {
            "ConfigMap" => Tab::ConfigMaps,
            "Secret" => Tab::Secrets,
            "ResourceQuota" | "LimitRange" => Tab::Quotas,
            "Role" | "RoleBinding" | "ServiceAccount" => Tab::Rbac,
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "ReplicaSet" | "Pod" => Tab::Workloads,
            _ => Tab::Other,
        }
    }

    fn holds(self, kind: &str) -> bool {
        self == Tab::All || Tab::of(kind) == self
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: info\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: change-me\n";
const QUOTA: &str = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: compute\nspec:\n  hard:\n    requests.cpu: \"4\"\n    requests.memory: 8Gi\n    pods: \"20\"\n";
const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: read-config\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list, watch]\n";
const SERVICE: &str =
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n";

/// Clusters shown at once in the matrix.
const COLUMNS: usize = 25;
