//! Exporting a project as YAML: plain objects (for `kubectl apply -f`) or KubeFed's
//! federated types (placement and overrides kept), deterministic so that exports kept in Git
//! diff cleanly (`flotilla_domain::kubefed::export`). Anyone who sees the project may; a
//! Secret's values are never part of it.

use leptos::prelude::*;

use crate::AppError;
use crate::model::ExportView;

/// Project `id` as YAML (`kubefed`: KubeFed's `types.kubefed.io/v1beta1`).
#[server(endpoint = "projects/export")]
pub async fn export_project(id: String, kubefed: bool) -> Result<ExportView, AppError> {
    crate::error::with_status(ssr::export(id, kubefed).await)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use flotilla_domain::Level;
    use flotilla_domain::kubefed::{self, ExportedResource};

    use crate::AppError;
    use crate::backend::{app_state, require_caller};
    use crate::model::ExportView;

    /// The specs of a project's live resources, as they export: without the grant binding of
    /// Flotilla's own identity (Flotilla's to keep, not the project's).
    pub(crate) async fn project_specs(
        store: &flotilla_store::Store,
        tenant_id: &str,
        workspace_id: &str,
        project_id: Option<&str>,
    ) -> Result<Vec<flotilla_store::ResourceSpec>, AppError> {
        let mut specs = Vec::new();
        for r in store.list_resources(tenant_id, workspace_id, project_id).await? {
            if !r.deleted && !flotilla_domain::join::is_hub_grant(&r.kind, &r.name) {
                specs.push(store.resource_revision(tenant_id, &r.id, None).await?.spec);
            }
        }
        Ok(specs)
    }

    /// `specs` as the exporter takes them.
    pub(crate) fn exported(specs: &[flotilla_store::ResourceSpec]) -> Vec<ExportedResource<'_>> {
        specs
            .iter()
            .map(|s| ExportedResource { template: &s.template, placement: &s.placement, overrides: &s.overrides })
            .collect()
    }

    /// What the format leaves out of `resources`, besides what the exporter says.
    pub(crate) fn format_notes(resources: &[ExportedResource<'_>], kubefed: bool) -> Vec<String> {
        let mut notes = Vec::new();
        if resources.iter().any(|r| r.template["kind"] == "Secret" && r.template["apiVersion"] == "v1") {
            notes.push("Secret values are never exported: the Secrets are listed with their other fields".into());
        }
        if !kubefed && resources.iter().any(|r| r.placement != &Default::default() || !r.overrides.is_empty()) {
            notes.push("plain YAML has no placement or overrides: export as KubeFed to keep them".into());
        }
        notes
    }

    pub async fn export(id: String, kubefed: bool) -> Result<ExportView, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let project = store.get_project(&user.tenant_id, &id).await?;
        user.require_level(&project.workspace_id, Some(&project.id), Level::View)?;
        let specs = project_specs(&store, &user.tenant_id, &project.workspace_id, Some(&project.id)).await?;
        let resources = exported(&specs);
        let (yaml, mut notes) = kubefed::export(&project.name, &project.selector, &resources, kubefed)?;
        notes.extend(format_notes(&resources, kubefed));
        let file_name = format!("{}{}.yaml", project.name, if kubefed { "-kubefed" } else { "" });
        Ok(ExportView { file_name, yaml, notes })
    }
}

/// The project page's export buttons and what they produced, with a download link.
#[component]
pub(super) fn ExportProject(id: String) -> impl IntoView {
    let export = Action::new(move |kubefed: &bool| export_project(id.clone(), *kubefed));
    view! { <ExportButtons export /> }
}

/// "Export YAML" and "Export as KubeFed" (`export` is dispatched with `kubefed`), and what
/// they produced, with a download link.
#[component]
pub(crate) fn ExportButtons(export: Action<bool, Result<ExportView, AppError>>) -> impl IntoView {
    use crate::components::ErrorAlert;
    use crate::components::styles::BUTTON_SECONDARY;

    view! {
        <div class="mt-4 flex flex-wrap items-center gap-2">
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| { export.dispatch(false); }>"Export YAML"</button>
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| { export.dispatch(true); }>"Export as KubeFed"</button>
        </div>
        {move || export.value().get().map(|answer| match answer {
            Err(e) => view! { <div class="mt-2"><ErrorAlert message=e.to_string() /></div> }.into_any(),
            Ok(x) => {
                let href = format!("data:text/yaml;charset=utf-8,{}", js_escape(&x.yaml));
                view! {
                    <div class="mt-2 max-w-3xl" data-testid="export">
                        {x.notes.iter().map(|n| view! { <p class="text-sm text-amber-800">{n.clone()}</p> }).collect_view()}
                        <a class="text-sm font-medium text-sky-700 hover:underline" href=href download=x.file_name.clone()>
                            {format!("Download {}", x.file_name)}
                        </a>
                        <pre class="mt-2 max-h-96 overflow-auto rounded-md border border-slate-200 bg-white p-3 font-mono text-xs shadow-sm">{x.yaml.clone()}</pre>
                    </div>
                }.into_any()
            }
        })}
    }
}

/// `text` escaped for a `data:` URL.
pub(crate) fn js_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
