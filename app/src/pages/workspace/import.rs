//! Importing YAML into a new project of the workspace: KubeFed's `types.kubefed.io/v1beta1`
//! documents (a `FederatedNamespace` and `Federated<Kind>`s with placement and overrides) or
//! plain multi-document YAML (`kubectl kustomize`, `helm template`), reviewed first
//! (`flotilla_domain::kubefed` reads them). A workspace admin's, as creating a project is;
//! each object is weighed by the policy at the importer's clearance.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ImportPreview, ProjectSummary};

/// What importing `yaml` would create (`name`: the project's name when the documents name
/// no namespace).
#[server(endpoint = "workspaces/import-review")]
pub async fn review_import(workspace_id: String, name: String, yaml: String) -> Result<ImportPreview, AppError> {
    crate::error::with_status(ssr::review(workspace_id, name, yaml).await.map(|(preview, _)| preview))
}

/// Imports it: a new project holding the documents' objects.
#[server(endpoint = "workspaces/import")]
pub async fn import_project(workspace_id: String, name: String, yaml: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::import(workspace_id, name, yaml).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::kubefed::{plan_import, read_documents};
    use flotilla_domain::{Level, ResourceName};
    use flotilla_store::ResourceSpec;

    use crate::AppError;
    use crate::backend::{actor, app_state, project_summary, require_caller};
    use crate::model::{ImportPreview, ImportRow, ProjectSummary};

    /// The preview, and the specs to create with the project's name and selector.
    pub async fn review(
        workspace_id: String,
        name: String,
        yaml: String,
    ) -> Result<(ImportPreview, (ResourceName, String, Vec<ResourceSpec>)), AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &workspace_id).await?;
        user.require_level(&workspace.id, None, Level::Admin)?;
        let plan = plan_import(&read_documents(&yaml)?);
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
        let rows = plan
            .resources
            .iter()
            .map(|r| ImportRow {
                kind: r.template["kind"].as_str().unwrap_or_default().to_owned(),
                name: r.template.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
                placement: match (&r.placement.clusters, &r.placement.selector) {
                    (Some(names), _) if names.is_empty() => "nowhere (no placement)".to_owned(),
                    (Some(names), _) => format!("clusters {}", names.join(", ")),
                    (None, Some(s)) if !s.is_empty() => format!("clusters where {s}"),
                    _ => "every cluster of the project".to_owned(),
                },
                overrides: r.overrides.len(),
            })
            .collect();
        let selector = plan.project_selector.clone().unwrap_or_default();
        let specs = plan
            .resources
            .into_iter()
            .map(|r| ResourceSpec { placement: r.placement, overrides: r.overrides, ..ResourceSpec::new(r.template) })
            .collect();
        let preview = ImportPreview {
            project: project.to_string(),
            project_selector: selector.clone(),
            resources: rows,
            problems: plan.problems,
        };
        Ok((preview, (project, selector, specs)))
    }

    pub async fn import(workspace_id: String, name: String, yaml: String) -> Result<ProjectSummary, AppError> {
        let (preview, (project, selector, specs)) = review(workspace_id.clone(), name, yaml).await?;
        if !preview.problems.is_empty() {
            return Err(AppError::Invalid {
                field: "yaml".into(),
                message: format!("nothing was imported: {}", preview.problems.join("; ")),
            });
        }
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &workspace_id).await?;
        let level = user.require_level(&workspace.id, None, Level::Admin)?;
        let clearance = user.clearance(level)?;
        let created = store
            .import_project(&user.tenant_id, &actor(&user), clearance, &workspace.id, &project, &selector, &specs)
            .await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(project_summary(created, &all, &workspace.selector))
    }
}

/// The workspace page's "Import YAML" panel.
#[component]
pub fn ImportPanel(workspace_id: String) -> impl IntoView {
    use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
    use crate::components::{ErrorAlert, Field};

    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let yaml = RwSignal::new(String::new());
    let workspace = StoredValue::new(workspace_id);
    let review = Action::new(move |(): &()| {
        let (w, n, y) = (workspace.get_value(), name.get_untracked(), yaml.get_untracked());
        async move { review_import(w, n, y).await }
    });
    let import = Action::new(move |(): &()| {
        let (w, n, y) = (workspace.get_value(), name.get_untracked(), yaml.get_untracked());
        async move { import_project(w, n, y).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(project)) = import.value().get() {
            leptos_router::hooks::use_navigate()(&format!("/projects/{}", project.id), Default::default());
        }
    });
    Effect::new(move |_| {
        let _ = (name.get(), yaml.get());
        review.value().set(None);
    });
    let review_error = Signal::derive(move || review.value().get().and_then(Result::err));
    let import_error = Signal::derive(move || import.value().get().and_then(Result::err));
    let form_error =
        move || review_error.get().or_else(|| import_error.get()).filter(|e| e.is_form_level()).map(|e| e.to_string());
    view! {
        <section aria-labelledby="import" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div>
                    <h2 id="import" class="text-base font-semibold">"Import YAML"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "A new project from KubeFed's federated types (types.kubefed.io/v1beta1: placement and overrides kept) "
                        "or plain multi-document YAML (kubectl kustomize, helm template), reviewed first."
                    </p>
                </div>
                <Show when=move || !open.get()>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(true)>"Import YAML…"</button>
                </Show>
            </div>
            <Show when=move || open.get()>
                <form class="mt-4 space-y-4" novalidate on:submit=move |ev| { ev.prevent_default(); review.dispatch(()); }>
                    <div class="max-w-sm">
                        <Field id="import-name" label="Project (when the YAML names no namespace)" field="name" error=review_error>
                            <input id="import-name" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                        </Field>
                    </div>
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
                    view! {
                        <div class="mt-6 border-t border-slate-200 pt-4" data-testid="import-preview">
                            <h3 class="text-sm font-semibold">
                                {format!("Project {}: {}", p.project, crate::words::count(p.resources.len(), "resource"))}
                                {(!p.project_selector.is_empty()).then(|| format!(", on the workspace's clusters where {}", p.project_selector))}
                            </h3>
                            {blocked.then(|| view! {
                                <div role="alert" class="mt-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="import-problems">
                                    <p class="font-medium">"Not importable as it is (nothing is imported until these are fixed):"</p>
                                    <ul class="mt-1 list-disc pl-5">{p.problems.iter().map(|x| view! { <li>{x.clone()}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            <ul class="mt-3 divide-y divide-slate-100 rounded-lg border border-slate-200">
                                {p.resources.iter().map(|r| view! {
                                    <li class="flex flex-wrap justify-between gap-2 px-4 py-2 text-sm" data-testid="import-row">
                                        <span class="font-mono text-xs">{format!("{}/{}", r.kind, r.name)}</span>
                                        <span class="text-slate-600">
                                            {r.placement.clone()}
                                            {(r.overrides > 0).then(|| format!(" · {}", crate::words::count(r.overrides, "override")))}
                                        </span>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <button type="button" class=format!("{BUTTON_PRIMARY} mt-4") disabled=move || blocked || import.pending().get()
                                on:click=move |_| { import.dispatch(()); }>
                                {format!("Import into project {}", p.project)}
                            </button>
                        </div>
                    }
                })}
            </Show>
        </section>
    }
}
