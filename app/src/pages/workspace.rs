pub(crate) mod delete;
pub(crate) mod export;
pub(crate) mod federate;
pub(crate) mod import;
pub(crate) mod server_fns;

use flotilla_domain::{LabelSelector, Level};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::add_yaml::AddYaml;
use super::apps::InstallApp;
use super::fleet::server_fns::list_clusters;
use crate::components::styles::{BUTTON_PRIMARY, INPUT};
use crate::components::{Allowed, AppShell, EditSelector, ErrorAlert, Field, FieldError, HealthBadge};
use crate::model::WorkspaceDetail;
use server_fns::{AddWorkspaceResource, CreateProject, SetWorkspaceSelector, get_workspace_detail};

/// One workspace: the clusters it selects now and its projects; new projects narrow it.
#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let create = ServerAction::<CreateProject>::new();
    let add = ServerAction::<AddWorkspaceResource>::new();
    let edit = ServerAction::<SetWorkspaceSelector>::new();
    // Bumped after an app is installed.
    let installed = RwSignal::new(0usize);
    let detail = Resource::new(
        move || (id(), create.version().get() + add.version().get() + edit.version().get() + installed.get()),
        |(id, _)| get_workspace_detail(id),
    );

    view! {
        <Title text="Workspace" />
        <AppShell>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the workspace…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => view! { <Workspace d create add edit installed /> }.into_any(),
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[component]
fn Workspace(
    d: WorkspaceDetail,
    create: ServerAction<CreateProject>,
    add: ServerAction<AddWorkspaceResource>,
    edit: ServerAction<SetWorkspaceSelector>,
    installed: RwSignal<usize>,
) -> impl IntoView {
    let WorkspaceDetail { workspace, clusters, projects, resources, cluster_labels, level, installs } = d;
    let install_workspace = workspace.id.clone();
    // What the caller's role allows: the server refuses the rest anyway.
    let is_admin = level.is_some_and(Level::is_admin);
    let can_edit = level.is_some_and(Level::can_edit);
    let selector = RwSignal::new(String::new());
    let parsed = Memo::new(move |_| LabelSelector::parse(&selector.get()).map_err(|e| e.to_string()));
    let labels = StoredValue::new(cluster_labels);
    let total = labels.with_value(Vec::len);
    let preview =
        move || parsed.get().ok().map(|s| labels.with_value(|all| all.iter().filter(|l| s.matches(l)).count()));
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let form_error = move || error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());
    let pending = create.pending();
    let edit_id = StoredValue::new(workspace.id.clone());
    let (version, now) = (workspace.version, clusters.len());
    let workspace_id = workspace.id.clone();
    let (yaml_workspace, add_workspace) = (workspace.id.clone(), workspace.id.clone());
    let (federate_workspace, import_workspace) = (workspace.id.clone(), workspace.id.clone());
    let (delete_workspace, project_count) = (workspace.id.clone(), projects.len());
    let export_id = workspace.id.clone();
    let form = NodeRef::<leptos::html::Form>::new();
    // Created: the form empties for the next one.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
            selector.set(String::new());
        }
    });

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
        </nav>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{workspace.name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            "Selects "
            <code class="rounded bg-slate-100 px-1 font-mono" data-testid="workspace-selector">
                {if workspace.selector.is_empty() { "every cluster".to_owned() } else { workspace.selector.clone() }}
            </code>
            {format!(": {} now.", crate::words::count(clusters.len(), "cluster"))}
        </p>
        {is_admin.then(|| view! {
            <EditSelector among="clusters of the fleet" initial=workspace.selector.clone() now
                load=|| async { list_clusters().await.map(|all| all.into_iter().map(|c| c.labels).collect()) }
                error=Signal::derive(move || edit.value().get().and_then(Result::err))
                saving=edit.pending()
                on_save=Callback::new(move |selector| { edit.dispatch(SetWorkspaceSelector { id: edit_id.get_value(), version, selector }); }) />
        })}
        <ul class="mt-3 flex flex-wrap gap-2" aria-label="clusters">
            {clusters.clone().into_iter().map(|c| view! {
                <li class="flex items-center gap-1.5 rounded border border-slate-200 bg-white px-2 py-1 text-xs">
                    <span class="font-mono">{c.name}</span>
                    <HealthBadge health=c.health reason=c.health_reason />
                </li>
            }).collect_view()}
        </ul>

        <h2 class="mt-8 text-lg font-semibold">"Projects"</h2>
        {if projects.is_empty() {
            view! {
                <p class="mt-2 text-sm text-slate-600">
                    "No projects yet. A project is a namespace of its name in each of its clusters, holding ConfigMaps, Secrets and workloads."
                    {is_admin.then_some(" Create one below.")}
                </p>
            }.into_any()
        } else {
            view! {
                <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm">
                    {projects.into_iter().map(|p| view! {
                        <li data-testid="project-row" class="flex items-center justify-between px-4 py-3 text-sm">
                            <a href=format!("/projects/{}", p.id) class="font-medium text-sky-700 hover:underline">{p.name}</a>
                            <span class="text-slate-600">
                                <code class="font-mono text-xs">{if p.selector.is_empty() { "(all of the workspace)".to_owned() } else { p.selector }}</code>
                                {format!(" · {}", crate::words::count(p.clusters, "cluster"))}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}

        {is_admin.then(|| view! {
        <section aria-labelledby="new-project" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="new-project" class="text-base font-semibold">"New project"</h2>
            <ActionForm action=create node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-3 md:items-start" attr:novalidate=true>
                <input type="hidden" name="workspace_id" value=workspace_id />
                <Field id="project-name" label="Name (the namespace)" field="name" error>
                    <input id="project-name" name="name" autocomplete="off" placeholder="shop" class=INPUT aria-describedby="name-error" />
                </Field>
                <div>
                    <label for="project-selector" class="block text-sm font-medium text-slate-700">"Narrow to clusters"</label>
                    <input
                        id="project-selector"
                        name="selector"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="region=eu"
                        class=format!("{INPUT} font-mono")
                        aria-describedby="project-preview selector-error"
                        prop:value=move || selector.get()
                        on:input=move |ev| selector.set(event_target_value(&ev))
                    />
                    <p id="project-preview" class="mt-1 text-xs text-slate-600" aria-live="polite" data-testid="project-preview">
                        {move || match (parsed.get(), preview()) {
                            (Err(e), _) => e,
                            (Ok(_), Some(n)) => format!("{n} of the workspace's {total} clusters"),
                            _ => String::new(),
                        }}
                    </p>
                    <FieldError error field="selector" />
                </div>
                <div class="md:pt-6">
                    <button type="submit" disabled=pending class=BUTTON_PRIMARY>
                        {move || if pending.get() { "Creating…" } else { "Create project" }}
                    </button>
                </div>
                <Show when=move || form_error().is_some()>
                    <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 md:col-span-3">{form_error}</p>
                </Show>
            </ActionForm>
        </section>
        })}

        {level.is_some().then(|| view! { <export::ExportWorkspace id=export_id.clone() /> })}
        {is_admin.then(|| view! {
            <import::ImportPanel workspace_id=import_workspace.clone() imported=Callback::new(move |()| installed.update(|n| *n += 1)) />
        })}
        {(is_admin && !clusters.is_empty()).then(|| view! {
            <Allowed allows=flotilla_domain::Access::is_tenant_admin>
                <federate::FederatePanel workspace_id=federate_workspace.clone() clusters=clusters.clone() />
            </Allowed>
        })}

        {level.is_some().then(|| view! {
        <h2 class="mt-8 text-lg font-semibold">"Cluster-scoped resources"</h2>
        <p class="mt-1 text-sm text-slate-600">"Namespaces, ClusterRoles, CRDs and other objects without a namespace, in every cluster of the workspace."</p>
        {if resources.is_empty() {
            view! { <p class="mt-2 text-sm text-slate-600">"None yet."{can_edit.then_some(" Add one as YAML below.")}</p> }.into_any()
        } else {
            view! {
                <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm" aria-label="Cluster-scoped resources">
                    {resources.into_iter().map(|r| view! {
                        <li data-testid="workspace-resource" class="flex flex-wrap items-center justify-between gap-2 px-4 py-3 text-sm">
                            <a href=format!("/resources/{}", r.id) class="font-medium text-sky-700 hover:underline">{format!("{}/{}", r.kind, r.name)}</a>
                            <span class="text-slate-600">
                                {format!("rev {} · Synced in {} of {}", r.revision, r.synced, r.placed)}
                                {(r.failing > 0).then(|| view! { <span class="ml-2 text-red-700">{format!("✕ failing in {}", r.failing)}</span> })}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h2 class="mt-8 text-lg font-semibold">"Apps"</h2>
        <p class="mt-1 text-sm text-slate-600">"Cluster-scoped apps (CRDs and their classes) installed in every cluster of the workspace."</p>
        {if installs.is_empty() {
            view! { <p class="mt-2 text-sm text-slate-600">"None installed."</p> }.into_any()
        } else {
            view! {
                <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm" aria-label="Installed apps">
                    {installs.into_iter().map(|i| view! {
                        <li data-testid="workspace-install" class="flex flex-wrap items-center justify-between gap-2 px-4 py-3 text-sm">
                            <span class="font-medium">{format!("{} — {} {}", i.name, i.display_name, i.version)}</span>
                            <span class="text-slate-600">
                                {crate::words::count(i.resource_ids.len(), "resource")}
                                {i.upgrades.first().map(|v| format!(" · {v} available"))}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {can_edit.then(|| view! {
            <div class="mt-4">
                <InstallApp workspace_id=install_workspace.clone() project_id=None
                    installed=move |_| installed.update(|n| *n += 1) />
            </div>
        })}
        {can_edit.then(|| view! {
        <div class="mt-4">
            <AddYaml
                title="Add a cluster-scoped object (YAML)"
                hint="Namespaces, and (by a tenant admin) ClusterRoles, ClusterRoleBindings, CRDs and the like. Namespaced objects belong in a project."
                example=EXAMPLE
                workspace_id=yaml_workspace
                project_id=None
                add=move |yaml| { add.dispatch(AddWorkspaceResource { workspace_id: add_workspace.clone(), yaml }); }
                added=add.value()
                adding=add.pending()
            />
        </div>
        })}
        })}
        <Allowed allows=flotilla_domain::Access::is_tenant_admin>
            <delete::DeleteWorkspace id=delete_workspace.clone() version projects=project_count />
        </Allowed>
    }
}

const EXAMPLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: read-pods\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list, watch]\n";
