//! Federating a namespace that already runs in one of the workspace's clusters into a new
//! project of its name (`kubefedctl federate --contents`): preview, then federate. The
//! namespace's objects become the project's resources and adopt the objects in that
//! cluster, as they are where they match (nothing is written there), and reach the
//! project's other clusters like any resource.
//!
//! Tenant admins only: it reads what the hub's credentials can read in a member, which no
//! workspace role covers.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{FederatePreview, ProjectSummary};

/// What federating `namespace` of cluster `cluster_id` (objects matching `selector`) into
/// a new project of workspace `workspace_id` would take, leave and write.
#[server(endpoint = "workspaces/federate-preview")]
pub async fn preview_federation(
    workspace_id: String,
    cluster_id: String,
    namespace: String,
    selector: String,
) -> Result<FederatePreview, AppError> {
    crate::error::with_status(ssr::preview(workspace_id, cluster_id, namespace, selector).await)
}

/// Federates it: a project named after the namespace (on the workspace's clusters matching
/// `project_selector`), holding what the preview said it would take, read again now.
#[server(endpoint = "workspaces/federate")]
pub async fn federate_namespace(
    workspace_id: String,
    cluster_id: String,
    namespace: String,
    selector: String,
    project_selector: String,
) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::federate(workspace_id, cluster_id, namespace, selector, project_selector).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::time::Duration;

    use flotilla_domain::federate::{Verdict, verdict};
    use flotilla_domain::policy::{Clearance, Home, PodSecurity, is_reserved_namespace};
    use flotilla_domain::{LabelSelector, Placement, ResourceName, review::to_yaml};
    use flotilla_engine::kubeconfig::ClusterAccess;
    use flotilla_store::ResourceSpec;
    use serde_json::Value;

    use crate::AppError;
    use crate::backend::{Caller, actor, app_state, matching, project_summary, require_caller};
    use crate::model::{FederateObject, FederatePreview, ProjectSummary};

    /// How long each request to the member may take.
    const READ_TIMEOUT: Duration = Duration::from_secs(10);

    /// What was read and decided, for the preview and for federating.
    struct Gathered {
        preview: FederatePreview,
        pod_security: PodSecurity,
        name: ResourceName,
        workspace_id: String,
        workspace_selector: String,
        taken: Vec<ResourceSpec>,
    }

    fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    async fn gather(
        user: &Caller,
        workspace_id: &str,
        cluster_id: &str,
        namespace: &str,
        selector: &str,
    ) -> Result<Gathered, AppError> {
        user.require_tenant_admin()?;
        let state = app_state()?;
        let store = state.store;
        let workspace = store.get_workspace(&user.tenant_id, workspace_id).await?;
        let clusters = store.list_clusters(&user.tenant_id).await?;
        // A cluster of another tenant is not found; one of this tenant outside the
        // workspace cannot be federated from here.
        let cluster = clusters.iter().find(|c| c.id == cluster_id).ok_or(AppError::NotFound)?;
        if !matching(&clusters, &workspace.selector, None).iter().any(|c| c.id == cluster.id) {
            return Err(invalid("cluster_id", format!("{} is not one of this workspace's clusters", cluster.name)));
        }
        let name = ResourceName::parse("namespace", namespace.trim())?;
        if is_reserved_namespace(name.as_str()) {
            return Err(invalid(
                "namespace",
                format!("{name} is a namespace of Kubernetes or Flotilla itself: it cannot become a project"),
            ));
        }
        let selector = LabelSelector::parse(selector).map_err(|e| invalid("selector", e.to_string()))?.to_string();
        let types = store.cluster_types(&user.tenant_id, &cluster.id).await?.ok_or_else(|| {
            invalid("cluster_id", format!("Flotilla has not read what {} serves yet: is it online?", cluster.name))
        })?;
        let engine_cluster = store.engine_cluster(&cluster.id).await?.ok_or(AppError::NotFound)?;
        let access =
            ClusterAccess::with_token(engine_cluster.api_server_url, engine_cluster.ca_pem, engine_cluster.token);
        let contents = flotilla_engine::federate::read_namespace(
            &access,
            state.outbound.clone(),
            READ_TIMEOUT,
            name.as_str(),
            &selector,
            &types,
        )
        .await
        .map_err(|why| invalid("namespace", format!("could not read {name} in {}: {why}", cluster.name)))?;

        // The project keeps the namespace's own Pod Security level where it names one.
        let labels = contents.namespace.pointer("/metadata/labels").cloned().unwrap_or(Value::Null);
        let named = labels.get("pod-security.kubernetes.io/enforce").and_then(Value::as_str);
        let pod_security = named.and_then(PodSecurity::parse).unwrap_or_default();
        let missing: Vec<String> = pod_security
            .namespace_labels()
            .iter()
            .filter(|(k, v)| labels.get(*k).and_then(Value::as_str) != Some(*v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let namespace_change = (!missing.is_empty()).then(|| {
            format!("The namespace gets the Pod Security labels of its level ({}): one write.", missing.join(", "))
        });

        let home = Home { namespace: Some(name.as_str()), pod_security };
        let mut objects = Vec::new();
        let mut taken = Vec::new();
        for object in &contents.objects {
            let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("").to_owned();
            let mut row = FederateObject {
                api_version: text("/apiVersion"),
                kind: text("/kind"),
                name: text("/metadata/name"),
                taken: false,
                reason: String::new(),
                yaml: String::new(),
            };
            match verdict(object) {
                Verdict::Skip(why) => row.reason = why,
                Verdict::Take(template) => {
                    let checked = flotilla_domain::resource::check_resource(
                        &template,
                        &Placement::everywhere(),
                        &[],
                        Some(name.as_str()),
                    )
                    .and_then(|c| flotilla_domain::policy::check(&template, home, Clearance::TenantAdmin).map(|()| c));
                    match checked {
                        Err(e) => row.reason = format!("refused: {e}"),
                        Ok(checked) => {
                            row.taken = true;
                            // A Secret's values never come back: the preview names its keys.
                            let mut shown = checked.template.clone();
                            if let Some(values) = &checked.secret_values {
                                shown["data"] = values.keys().map(|k| (k.clone(), Value::from("(hidden)"))).collect();
                            }
                            row.yaml = to_yaml(&shown).unwrap_or_default();
                            taken.push(ResourceSpec::new(template));
                        }
                    }
                }
            }
            objects.push(row);
        }
        let unreadable = contents
            .unreadable
            .into_iter()
            .map(|(kind, why)| match why.starts_with("Forbidden") {
                // A joined cluster's identity reads Secrets only in its projects' namespaces.
                true => format!("{kind}: not allowed to Flotilla's credentials in this cluster"),
                false => format!("{kind}: {why}"),
            })
            .collect();
        let preview = FederatePreview {
            cluster: cluster.name.clone(),
            namespace: name.to_string(),
            pod_security: pod_security.as_str().to_owned(),
            namespace_change,
            objects,
            unreadable,
        };
        Ok(Gathered {
            preview,
            pod_security,
            name,
            workspace_id: workspace.id,
            workspace_selector: workspace.selector,
            taken,
        })
    }

    pub async fn preview(
        workspace_id: String,
        cluster_id: String,
        namespace: String,
        selector: String,
    ) -> Result<FederatePreview, AppError> {
        let user = require_caller().await?;
        Ok(gather(&user, &workspace_id, &cluster_id, &namespace, &selector).await?.preview)
    }

    pub async fn federate(
        workspace_id: String,
        cluster_id: String,
        namespace: String,
        selector: String,
        project_selector: String,
    ) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let g = gather(&user, &workspace_id, &cluster_id, &namespace, &selector).await?;
        let store = app_state()?.store;
        let project_selector = LabelSelector::parse(&project_selector)
            .map_err(|e| invalid("project_selector", e.to_string()))?
            .to_string();
        // The objects run in the source cluster: the project must reach it to adopt them.
        let all = store.list_clusters(&user.tenant_id).await?;
        let reached = matching(&all, &g.workspace_selector, Some(&project_selector));
        if !reached.iter().any(|c| c.id == cluster_id) {
            return Err(invalid(
                "project_selector",
                format!("the project must include {}, where the namespace runs", g.preview.cluster),
            ));
        }
        let project = store
            .federate_project(
                &user.tenant_id,
                &actor(&user),
                Clearance::TenantAdmin,
                &g.workspace_id,
                &g.name,
                &project_selector,
                g.pod_security,
                &g.taken,
            )
            .await?;
        Ok(project_summary(project, &all, &g.workspace_selector))
    }
}

/// The workspace page's "Federate a namespace" panel: pick a cluster and namespace, see
/// what would be taken, then federate (and go to the new project).
#[component]
pub fn FederatePanel(workspace_id: String, clusters: Vec<crate::model::ClusterRef>) -> impl IntoView {
    use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
    use crate::components::{ErrorAlert, Field};

    let open = RwSignal::new(false);
    let cluster_id = RwSignal::new(clusters.first().map(|c| c.id.clone()).unwrap_or_default());
    let namespace = RwSignal::new(String::new());
    let selector = RwSignal::new(String::new());
    let project_selector = RwSignal::new(String::new());
    let workspace = StoredValue::new(workspace_id);
    let preview = Action::new(move |(): &()| {
        let (w, c, n, s) =
            (workspace.get_value(), cluster_id.get_untracked(), namespace.get_untracked(), selector.get_untracked());
        async move { preview_federation(w, c, n, s).await }
    });
    let federate = Action::new(move |(): &()| {
        let args = (
            workspace.get_value(),
            cluster_id.get_untracked(),
            namespace.get_untracked(),
            selector.get_untracked(),
            project_selector.get_untracked(),
        );
        async move { federate_namespace(args.0, args.1, args.2, args.3, args.4).await }
    });
    // Federated: on to the new project.
    Effect::new(move |_| {
        if let Some(Ok(project)) = federate.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(&format!("/projects/{}", project.id), Default::default());
        }
    });
    let preview_error = Signal::derive(move || preview.value().get().and_then(Result::err));
    let federate_error = Signal::derive(move || federate.value().get().and_then(Result::err));
    let form_error = move || preview_error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());
    // A change to what is read makes the preview out of date.
    Effect::new(move |_| {
        let _ = (cluster_id.get(), namespace.get(), selector.get());
        preview.value().set(None);
    });
    let clusters = StoredValue::new(clusters);

    view! {
        <section aria-labelledby="federate" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div>
                    <h2 id="federate" class="text-base font-semibold">"Federate a namespace"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "Bring a namespace that already runs in one of these clusters under Flotilla: it becomes a project of its name, "
                        "its objects the project's resources. In that cluster they are adopted as they are (nothing is rewritten where they match); "
                        "the project's other clusters get them too."
                    </p>
                </div>
                <Show when=move || !open.get()>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(true)>"Federate a namespace…"</button>
                </Show>
            </div>
            <Show when=move || open.get()>
                <form class="mt-4 grid gap-4 md:grid-cols-3 md:items-start" novalidate
                    on:submit=move |ev| { ev.prevent_default(); preview.dispatch(()); }>
                    <Field id="federate-cluster" label="Cluster" field="cluster_id" error=preview_error>
                        <select id="federate-cluster" class=INPUT on:change=move |ev| cluster_id.set(event_target_value(&ev))>
                            {clusters.get_value().into_iter().map(|c| {
                                let id = c.id.clone();
                                view! { <option value=c.id selected=move || cluster_id.get() == id>{c.name}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                    <Field id="federate-namespace" label="Namespace" field="namespace" error=preview_error>
                        <input id="federate-namespace" autocomplete="off" spellcheck="false" placeholder="shop" class=format!("{INPUT} font-mono")
                            prop:value=move || namespace.get() on:input=move |ev| namespace.set(event_target_value(&ev)) />
                    </Field>
                    <Field id="federate-selector" label="Only objects labelled (optional)" field="selector" error=preview_error>
                        <input id="federate-selector" autocomplete="off" spellcheck="false" placeholder="app=web" class=format!("{INPUT} font-mono")
                            prop:value=move || selector.get() on:input=move |ev| selector.set(event_target_value(&ev)) />
                    </Field>
                    <div class="flex gap-2 md:col-span-3">
                        <button type="submit" class=BUTTON_PRIMARY disabled=move || preview.pending().get()>
                            {move || if preview.pending().get() { "Reading…" } else { "Preview" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                    <Show when=move || form_error().is_some()>
                        <div class="md:col-span-3"><ErrorAlert message=form_error().unwrap_or_default() /></div>
                    </Show>
                </form>
                {move || preview.value().get().and_then(Result::ok).map(|p| view! {
                    <FederatePreviewView p project_selector federate federate_error />
                })}
            </Show>
        </section>
    }
}

#[component]
fn FederatePreviewView(
    p: FederatePreview,
    project_selector: RwSignal<String>,
    federate: Action<(), Result<ProjectSummary, AppError>>,
    federate_error: Signal<Option<AppError>>,
) -> impl IntoView {
    use crate::components::styles::{BUTTON_PRIMARY, INPUT};
    use crate::components::{ErrorAlert, Field};

    let taken = p.taken();
    let left = p.objects.len() - taken;
    let form_error = move || federate_error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());
    view! {
        <div class="mt-6 border-t border-slate-200 pt-4" data-testid="federate-preview">
            <h3 class="text-sm font-semibold">
                {format!("{} in {}: {} to federate, {} left in place", p.namespace, p.cluster, crate::words::count(taken, "object"), left)}
            </h3>
            <p class="mt-1 text-sm text-slate-600">
                {format!("The project {} gets the Pod Security level {}. ", p.namespace, p.pod_security)}
                {p.namespace_change.clone().unwrap_or_else(|| "The namespace needs no change.".into())}
            </p>
            {(!p.unreadable.is_empty()).then(|| view! {
                <p class="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-600/20">
                    {format!("Not read (left out): {}", p.unreadable.join("; "))}
                </p>
            })}
            <ul class="mt-3 divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Objects of the namespace">
                {p.objects.clone().into_iter().map(|o| view! {
                    <li class="px-4 py-2 text-sm" data-testid="federate-object" data-taken=o.taken.to_string()>
                        <div class="flex flex-wrap items-center justify-between gap-2">
                            <span class="font-mono text-xs">{format!("{}/{}", o.kind, o.name)}</span>
                            {if o.taken {
                                view! { <span class="text-emerald-800">"✓ federated"</span> }.into_any()
                            } else {
                                view! { <span class="text-slate-600">{format!("left in place: {}", o.reason)}</span> }.into_any()
                            }}
                        </div>
                        {o.taken.then(|| view! {
                            <details class="mt-1">
                                <summary class="cursor-pointer text-xs text-sky-700">"Template"</summary>
                                <pre class="mt-1 overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs">{o.yaml.clone()}</pre>
                            </details>
                        })}
                    </li>
                }).collect_view()}
            </ul>
            <div class="mt-4 grid gap-4 md:grid-cols-3 md:items-end">
                <div class="md:col-span-2">
                    <Field id="federate-project-selector" label="The project's clusters (a selector within the workspace; empty: all of them)" field="project_selector" error=federate_error>
                        <input id="federate-project-selector" autocomplete="off" spellcheck="false" placeholder="region=eu" class=format!("{INPUT} font-mono")
                            prop:value=move || project_selector.get() on:input=move |ev| project_selector.set(event_target_value(&ev)) />
                    </Field>
                </div>
                <div>
                    <button type="button" class=BUTTON_PRIMARY disabled=move || federate.pending().get()
                        on:click=move |_| { federate.dispatch(()); }>
                        {move || if federate.pending().get() { "Federating…".to_owned() } else { format!("Federate {}", p.namespace) }}
                    </button>
                </div>
            </div>
            <Show when=move || form_error().is_some()>
                <div class="mt-3"><ErrorAlert message=form_error().unwrap_or_default() /></div>
            </Show>
        </div>
    }
}
