//! Importing YAML into a new project of the workspace: KubeFed's `types.kubefed.io/v1beta1`
//! documents (a `FederatedNamespace` and `Federated<Kind>`s with placement and overrides) or
//! plain multi-document YAML (`kubectl kustomize`, `helm template`), reviewed first
//! (`flotilla_domain::kubefed` reads them). A workspace admin's, as creating a project is;
//! each object is weighed by the policy at the importer's clearance.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ImportPreview, ProjectSummary, WorkspaceImportPreview};

/// What importing `yaml` would create (`name`: the project's name when the documents name
/// no namespace).
#[server(endpoint = "workspaces/import-review")]
pub async fn review_import(workspace_id: String, name: String, yaml: String) -> Result<ImportPreview, AppError> {
    crate::error::with_status(ssr::review_project(workspace_id, name, yaml).await)
}

/// Imports it: a new project holding the documents' objects.
#[server(endpoint = "workspaces/import")]
pub async fn import_project(workspace_id: String, name: String, yaml: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::import(workspace_id, name, yaml).await)
}

/// What importing `yaml` into the workspace itself would create: its cluster-scoped objects
/// and a new project for each namespace the documents name (a workspace export, say).
#[server(endpoint = "workspaces/import-workspace-review")]
pub async fn review_workspace_import(workspace_id: String, yaml: String) -> Result<WorkspaceImportPreview, AppError> {
    crate::error::with_status(ssr::review_workspace(workspace_id, yaml).await)
}

/// Imports it, all or nothing; answers the projects made.
#[server(endpoint = "workspaces/import-workspace")]
pub async fn import_into_workspace(workspace_id: String, yaml: String) -> Result<Vec<ProjectSummary>, AppError> {
    crate::error::with_status(ssr::import_workspace(workspace_id, yaml).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::kubefed::{ImportedResource, plan_import, plan_workspace_import, read_documents};
    use flotilla_domain::{Clearance, Level, ResourceName};
    use flotilla_store::{ImportedProject, ResourceSpec, Store, Workspace};

    use crate::AppError;
    use crate::backend::{Caller, actor, app_state, project_summary, require_caller};
    use crate::model::{ImportPreview, ImportRow, ProjectSummary, WorkspaceImportPreview};

    /// Who imports into which workspace: the caller, who must administer workspace
    /// `workspace_id` (a foreign or unknown id is not found), and the clearance their
    /// objects are weighed at.
    struct Importer {
        user: Caller,
        store: Store,
        workspace: Workspace,
        clearance: Clearance,
    }

    async fn importer(workspace_id: &str) -> Result<Importer, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, workspace_id).await?;
        let level = user.require_level(&workspace.id, None, Level::Admin)?;
        let clearance = user.clearance(level)?;
        Ok(Importer { user, store, workspace, clearance })
    }

    /// Refuses an import whose review found problems: nothing is imported.
    fn without_problems(problems: &[String]) -> Result<(), AppError> {
        if problems.is_empty() {
            return Ok(());
        }
        Err(AppError::Invalid {
            field: "yaml".into(),
            message: format!("nothing was imported: {}", problems.join("; ")),
        })
    }

    /// How the preview lists `r`.
    fn row(r: &ImportedResource, everywhere: &str) -> ImportRow {
        ImportRow {
            kind: r.template["kind"].as_str().unwrap_or_default().to_owned(),
            name: r.template.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
            placement: match (&r.placement.clusters, &r.placement.selector) {
                (Some(names), _) if names.is_empty() => "nowhere (no placement)".to_owned(),
                (Some(names), _) => format!("clusters {}", names.join(", ")),
                (None, Some(s)) if !s.is_empty() => format!("clusters where {s}"),
                _ => everywhere.to_owned(),
            },
            overrides: r.overrides.len(),
        }
    }

    fn spec(r: ImportedResource) -> ResourceSpec {
        ResourceSpec { placement: r.placement, overrides: r.overrides, ..ResourceSpec::new(r.template) }
    }

    pub async fn review_workspace(workspace_id: String, yaml: String) -> Result<WorkspaceImportPreview, AppError> {
        let importer = importer(&workspace_id).await?;
        Ok(plan_workspace(&importer, &yaml).await?.0)
    }

    /// The preview, and what to create: the workspace's own specs and the projects.
    async fn plan_workspace(
        importer: &Importer,
        yaml: &str,
    ) -> Result<(WorkspaceImportPreview, (Vec<ResourceSpec>, Vec<ImportedProject>)), AppError> {
        let plan = plan_workspace_import(&read_documents(yaml)?);
        let mut problems = plan.problems;
        let mut previews = Vec::new();
        let mut projects = Vec::new();
        for p in plan.projects {
            let namespace = p.namespace.unwrap_or_default();
            let selector = p.project_selector.unwrap_or_default();
            let name = match ResourceName::parse("name", &namespace) {
                Ok(name) => name,
                Err(e) => {
                    problems.push(format!("namespace {namespace}: {}", e.reason()));
                    continue;
                }
            };
            previews.push(ImportPreview {
                project: namespace,
                project_selector: selector.clone(),
                resources: p.resources.iter().map(|r| row(r, "every cluster of the project")).collect(),
                problems: Vec::new(),
            });
            projects.push(ImportedProject { name, selector, resources: p.resources.into_iter().map(spec).collect() });
        }
        // Names already taken are said now, not at the import.
        let names: Vec<&str> = previews.iter().map(|p| p.project.as_str()).collect();
        for (name, deleting) in importer.store.taken_project_names(&importer.user.tenant_id, &names).await? {
            problems.push(if deleting {
                format!(
                    "namespace {name}: the project {name} is being deleted; its name is free once its objects are gone"
                )
            } else {
                format!("namespace {name}: a project named {name} exists in this tenant (project names are namespaces)")
            });
        }
        let preview = WorkspaceImportPreview {
            resources: plan.resources.iter().map(|r| row(r, "every cluster of the workspace")).collect(),
            projects: previews,
            problems,
        };
        Ok((preview, (plan.resources.into_iter().map(spec).collect(), projects)))
    }

    pub async fn import_workspace(workspace_id: String, yaml: String) -> Result<Vec<ProjectSummary>, AppError> {
        let importer = importer(&workspace_id).await?;
        let (preview, (resources, projects)) = plan_workspace(&importer, &yaml).await?;
        without_problems(&preview.problems)?;
        if resources.is_empty() && projects.is_empty() {
            return Err(AppError::Invalid { field: "yaml".into(), message: "the YAML holds no objects".into() });
        }
        let Importer { user, store, workspace, clearance } = importer;
        let made = store
            .import_into_workspace(&user.tenant_id, &actor(&user), clearance, &workspace.id, &resources, &projects)
            .await
            .map_err(|e| match AppError::from(e) {
                // There is no name field here: the YAML's namespaces name the projects.
                AppError::Invalid { message, .. } => {
                    AppError::Invalid { field: "yaml".into(), message: format!("nothing was imported: {message}") }
                }
                other => other,
            })?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(made.into_iter().map(|p| project_summary(p, &all, &workspace.selector)).collect())
    }

    pub async fn review_project(workspace_id: String, name: String, yaml: String) -> Result<ImportPreview, AppError> {
        importer(&workspace_id).await?;
        Ok(plan_project(&name, &yaml)?.0)
    }

    /// A new project's name and selector, and the specs of its resources.
    type ProjectSpecs = (ResourceName, String, Vec<ResourceSpec>);

    /// The preview, and what to create.
    fn plan_project(name: &str, yaml: &str) -> Result<(ImportPreview, ProjectSpecs), AppError> {
        let plan = plan_import(&read_documents(yaml)?);
        let project = match (name.trim(), plan.namespace.as_deref()) {
            ("", None) => {
                return Err(AppError::Invalid {
                    field: "name".into(),
                    message: "the documents name no namespace: name the project".into(),
                });
            }
            ("", Some(ns)) => ns.to_owned(),
            (given, Some(ns)) if given != ns => {
                return Err(AppError::Invalid {
                    field: "name".into(),
                    message: format!("the documents are for namespace {ns}: the project takes its name"),
                });
            }
            (given, _) => given.to_owned(),
        };
        let project = ResourceName::parse("name", &project)?;
        let rows = plan.resources.iter().map(|r| row(r, "every cluster of the project")).collect();
        let selector = plan.project_selector.clone().unwrap_or_default();
        let specs = plan.resources.into_iter().map(spec).collect();
        let preview = ImportPreview {
            project: project.to_string(),
            project_selector: selector.clone(),
            resources: rows,
            problems: plan.problems,
        };
        Ok((preview, (project, selector, specs)))
    }

    pub async fn import(workspace_id: String, name: String, yaml: String) -> Result<ProjectSummary, AppError> {
        let Importer { user, store, workspace, clearance } = importer(&workspace_id).await?;
        let (preview, (project, selector, specs)) = plan_project(&name, &yaml)?;
        without_problems(&preview.problems)?;
        let created = store
            .import_project(&user.tenant_id, &actor(&user), clearance, &workspace.id, &project, &selector, &specs)
            .await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(project_summary(created, &all, &workspace.selector))
    }
}

/// The workspace page's "Import YAML" panel: into a new project, or (a workspace export,
/// several namespaces, cluster-scoped objects) into the workspace itself. `imported` is run
/// after an import into the workspace (one into a project opens the project).
#[component]
pub fn ImportPanel(workspace_id: String, imported: Callback<()>) -> impl IntoView {
    use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
    use crate::components::{ErrorAlert, Field};

    let open = RwSignal::new(false);
    let into_workspace = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let yaml = RwSignal::new(String::new());
    let workspace = StoredValue::new(workspace_id);
    // Both kinds of review read as a workspace import's (one project, nothing of its own).
    let review = Action::new(move |(): &()| {
        let (w, n, y, all) =
            (workspace.get_value(), name.get_untracked(), yaml.get_untracked(), into_workspace.get_untracked());
        async move {
            if all {
                return review_workspace_import(w, y).await;
            }
            review_import(w, n, y).await.map(|p| WorkspaceImportPreview {
                resources: Vec::new(),
                problems: p.problems.clone(),
                projects: vec![ImportPreview { problems: Vec::new(), ..p }],
            })
        }
    });
    let import = Action::new(move |(): &()| {
        let (w, n, y, all) =
            (workspace.get_value(), name.get_untracked(), yaml.get_untracked(), into_workspace.get_untracked());
        async move {
            if all {
                return import_into_workspace(w, y).await.map(|made| (true, made));
            }
            import_project(w, n, y).await.map(|p| (false, vec![p]))
        }
    });
    Effect::new(move |_| match import.value().get() {
        Some(Ok((false, made))) if made.len() == 1 => {
            leptos_router::hooks::use_navigate()(&format!("/projects/{}", made[0].id), Default::default());
        }
        Some(Ok(_)) => {
            open.set(false);
            yaml.set(String::new());
            imported.run(());
        }
        _ => {}
    });
    Effect::new(move |_| {
        let _ = (name.get(), yaml.get(), into_workspace.get());
        review.value().set(None);
    });
    let review_error = Signal::derive(move || review.value().get().and_then(Result::err));
    let import_error = Signal::derive(move || import.value().get().and_then(Result::err));
    let form_error =
        move || review_error.get().or_else(|| import_error.get()).filter(|e| e.is_form_level()).map(|e| e.to_string());
    let row = |r: &crate::model::ImportRow| {
        view! {
            <li class="flex flex-wrap justify-between gap-2 px-4 py-2 text-sm" data-testid="import-row">
                <span class="font-mono text-xs">{format!("{}/{}", r.kind, r.name)}</span>
                <span class="text-slate-600">
                    {r.placement.clone()}
                    {(r.overrides > 0).then(|| format!(" · {}", crate::words::count(r.overrides, "override")))}
                </span>
            </li>
        }
    };
    view! {
        <section aria-labelledby="import" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div>
                    <h2 id="import" class="text-base font-semibold">"Import YAML"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "A new project from KubeFed's federated types (types.kubefed.io/v1beta1: placement and overrides kept) "
                        "or plain multi-document YAML (kubectl kustomize, helm template), or a workspace export into this workspace; reviewed first."
                    </p>
                </div>
                <Show when=move || !open.get()>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(true)>"Import YAML…"</button>
                </Show>
            </div>
            <Show when=move || open.get()>
                <form class="mt-4 space-y-4" novalidate on:submit=move |ev| { ev.prevent_default(); review.dispatch(()); }>
                    <fieldset class="space-y-1 text-sm">
                        <legend class="font-medium text-slate-700">"Import into"</legend>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="import-into" prop:checked=move || !into_workspace.get() on:change=move |_| into_workspace.set(false) />
                            "A new project (the YAML's one namespace)"
                        </label>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="import-into" prop:checked=move || into_workspace.get() on:change=move |_| into_workspace.set(true) />
                            "This workspace: a project per namespace, cluster-scoped objects to the workspace (a workspace export)"
                        </label>
                    </fieldset>
                    <Show when=move || !into_workspace.get()>
                        <div class="max-w-sm">
                            <Field id="import-name" label="Project (when the YAML names no namespace)" field="name" error=review_error>
                                <input id="import-name" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                            </Field>
                        </div>
                    </Show>
                    <Field id="import-yaml" label="YAML" field="yaml" error=review_error>
                        <textarea id="import-yaml" rows="12" spellcheck="false" class=format!("{INPUT} font-mono text-xs")
                            prop:value=move || yaml.get() on:input=move |ev| yaml.set(event_target_value(&ev)) />
                    </Field>
                    <div class="flex gap-2">
                        <button type="submit" class=BUTTON_PRIMARY disabled=move || review.pending().get()>"Review"</button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                    <Show when=move || form_error().is_some()>
                        <ErrorAlert message=form_error().unwrap_or_default() />
                    </Show>
                </form>
                {move || review.value().get().and_then(Result::ok).map(|p| {
                    let blocked = !p.problems.is_empty();
                    let label = match (into_workspace.get_untracked(), p.projects.first()) {
                        (false, Some(only)) => format!("Import into project {}", only.project),
                        _ => "Import into this workspace".to_owned(),
                    };
                    view! {
                        <div class="mt-6 border-t border-slate-200 pt-4" data-testid="import-preview">
                            {blocked.then(|| view! {
                                <div role="alert" class="mt-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="import-problems">
                                    <p class="font-medium">"Not importable as it is (nothing is imported until these are fixed):"</p>
                                    <ul class="mt-1 list-disc pl-5">{p.problems.iter().map(|x| view! { <li>{x.clone()}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            {(!p.resources.is_empty()).then(|| view! {
                                <h3 class="mt-3 text-sm font-semibold">{format!("The workspace: {}", crate::words::count(p.resources.len(), "cluster-scoped object"))}</h3>
                                <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200">
                                    {p.resources.iter().map(row).collect_view()}
                                </ul>
                            })}
                            {p.projects.iter().map(|project| view! {
                                <h3 class="mt-3 text-sm font-semibold">
                                    {format!("Project {}: {}", project.project, crate::words::count(project.resources.len(), "resource"))}
                                    {(!project.project_selector.is_empty()).then(|| format!(", on the workspace's clusters where {}", project.project_selector))}
                                </h3>
                                <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200">
                                    {project.resources.iter().map(row).collect_view()}
                                </ul>
                            }).collect_view()}
                            <button type="button" class=format!("{BUTTON_PRIMARY} mt-4") disabled=move || blocked || import.pending().get()
                                on:click=move |_| { import.dispatch(()); }>
                                {label}
                            </button>
                        </div>
                    }
                })}
            </Show>
        </section>
    }
}
