pub(crate) mod server_fns;

use flotilla_domain::{Access, ClusterSummary, LabelSelector};
use leptos::prelude::*;
use leptos_meta::Title;

use super::fleet::server_fns::list_clusters;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{Allowed, AppShell, ErrorAlert, FieldError};
use crate::model::WorkspaceSummary;
use server_fns::{CreateWorkspace, list_workspaces};

/// Workspaces: clusters grouped by a label selector. Lists them with what they reach now,
/// and creates new ones with a live preview of the clusters a selector matches.
#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let create = ServerAction::<CreateWorkspace>::new();
    let workspaces = Resource::new(move || create.version().get(), |_| list_workspaces());
    let creating = RwSignal::new(false);
    // A workspace made: close the form (it opens empty next time).
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            creating.set(false);
        }
    });

    view! {
        <Title text="Workspaces" />
        <AppShell>
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Workspaces"</h1>
                    <p class="mt-1 text-sm text-slate-600">
                        "Clusters grouped by label, holding cluster-scoped configuration and projects."
                    </p>
                </div>
                <Allowed allows=Access::is_tenant_admin>
                    <Show when=move || !creating.get()>
                        <button type="button" class=BUTTON_PRIMARY on:click=move |_| creating.set(true)>
                            "New workspace"
                        </button>
                    </Show>
                </Allowed>
            </div>
            <Show when=move || creating.get()>
                <NewWorkspace create on_cancel=move || creating.set(false) />
            </Show>
            <Suspense fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading workspaces…"</p> }>
                {move || Suspend::new(async move {
                    match workspaces.await {
                        Ok(rows) if rows.is_empty() => view! { <NoWorkspaces /> }.into_any(),
                        Ok(rows) => view! { <WorkspaceTable rows /> }.into_any(),
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
            <Allowed allows=Access::is_tenant_admin>
                <ExportAll />
            </Allowed>
        </AppShell>
    }
}

/// Every workspace as YAML, a file each, for a Git repository of the tenant's configuration.
#[component]
fn ExportAll() -> impl IntoView {
    use super::workspace::export::export_tenant;
    use crate::components::styles::BUTTON_SECONDARY;

    let export = Action::new(move |kubefed: &bool| export_tenant(*kubefed));
    view! {
        <section aria-labelledby="export-all" class="mt-10">
            <h2 id="export-all" class="text-base font-semibold">"Export every workspace"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "One YAML file per workspace (its cluster-scoped objects, then each project), in a stable order so that a Git repository of them diffs cleanly. Secret values are never exported."
            </p>
            <div class="mt-3 flex flex-wrap gap-2">
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| { export.dispatch(false); }>"Export YAML"</button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| { export.dispatch(true); }>"Export as KubeFed"</button>
            </div>
            {move || export.value().get().map(|answer| match answer {
                Err(e) => view! { <div class="mt-2"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                Ok(files) if files.is_empty() => view! { <p class="mt-2 text-sm text-slate-600">"No workspaces to export."</p> }.into_any(),
                Ok(files) => view! {
                    <ul class="mt-3 space-y-1 text-sm" data-testid="export-files">
                        {files.into_iter().map(|f| {
                            let href = format!("data:text/yaml;charset=utf-8,{}", super::project::export::js_escape(&f.yaml));
                            view! {
                                <li>
                                    <a class="font-medium text-sky-700 hover:underline" href=href download=f.file_name.clone()>
                                        {format!("Download {}", f.file_name)}
                                    </a>
                                    {f.notes.iter().map(|n| view! { <p class="text-amber-800">{n.clone()}</p> }).collect_view()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </section>
    }
}

/// The create form. The preview parses the selector in the browser as it is typed (the
/// same parser the server uses), so errors and matches show before anything is sent.
#[component]
fn NewWorkspace(create: ServerAction<CreateWorkspace>, on_cancel: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let clusters = Resource::new(|| (), |_| list_clusters());
    let selector = RwSignal::new(String::new());
    let pending = create.pending();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let form_error = move || error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());
    let parsed = Memo::new(move |_| LabelSelector::parse(&selector.get()).map_err(|e| e.to_string()));

    view! {
        <section aria-labelledby="new-workspace" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="new-workspace" class="text-base font-semibold">"New workspace"</h2>
            <ActionForm action=create attr:class="mt-4 grid gap-6 lg:grid-cols-2" attr:novalidate=true>
                <div class="space-y-4">
                    <div>
                        <label for="workspace-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                        <input
                            id="workspace-name"
                            name="name"
                            autocomplete="off"
                            autofocus=true
                            placeholder="edge"
                            class=INPUT
                            aria-describedby="name-hint name-error"
                        />
                        <p id="name-hint" class="mt-1 text-xs text-slate-500">
                            "Lowercase letters, digits and dashes."
                        </p>
                        <FieldError error field="name" />
                    </div>
                    <div>
                        <label for="workspace-selector" class="block text-sm font-medium text-slate-700">
                            "Cluster selector"
                        </label>
                        <input
                            id="workspace-selector"
                            name="selector"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="env=prod,region in (eu,us),!legacy"
                            class=format!("{INPUT} font-mono")
                            aria-describedby="selector-hint selector-error selector-preview"
                            aria-invalid=move || parsed.get().is_err().to_string()
                            prop:value=move || selector.get()
                            on:input=move |ev| selector.set(event_target_value(&ev))
                        />
                        <p id="selector-hint" class="mt-1 text-xs text-slate-500">
                            "Empty selects every cluster. Clusters that get matching labels later join by themselves."
                        </p>
                        {move || match (parsed.get(), error.get().and_then(|e| e.for_field("selector"))) {
                            (Err(message), _) | (Ok(_), Some(message)) => view! {
                                <p id="selector-error" class="mt-1 text-sm text-red-700">{message}</p>
                            }.into_any(),
                            _ => ().into_any(),
                        }}
                    </div>
                    <Show when=move || form_error().is_some()>
                        <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{form_error}</p>
                    </Show>
                    <div class="flex gap-3">
                        <button type="submit" disabled=pending class=BUTTON_PRIMARY>
                            {move || if pending.get() { "Creating…" } else { "Create workspace" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_cancel()>
                            "Cancel"
                        </button>
                    </div>
                </div>
                <div id="selector-preview" aria-live="polite">
                    <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading clusters…"</p> }>
                        {move || Suspend::new(async move {
                            match clusters.await {
                                Ok(all) => view! { <Preview all parsed /> }.into_any(),
                                Err(e) => view! { <p class="text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
            </ActionForm>
        </section>
    }
}

/// The clusters the selector matches now.
#[component]
fn Preview(all: Vec<ClusterSummary>, parsed: Memo<Result<LabelSelector, String>>) -> impl IntoView {
    let total = all.len();
    let all = StoredValue::new(all);
    let matched = move || match parsed.get() {
        Ok(selector) => Some(all.with_value(|all| {
            all.iter().filter(|c| selector.matches(&c.labels)).map(|c| c.name.clone()).collect::<Vec<_>>()
        })),
        Err(_) => None,
    };
    view! {
        <h3 class="text-sm font-medium text-slate-700">"Preview"</h3>
        {move || match matched() {
            None => view! {
                <p class="mt-2 text-sm text-slate-500">"Fix the selector to see the clusters it matches."</p>
            }.into_any(),
            Some(names) => {
                let count = names.len();
                view! {
                    <p class="mt-2 text-sm text-slate-600" data-testid="preview-count">
                        {format!("Matches {count} of {total} clusters")}
                    </p>
                    <ul class="mt-2 flex max-h-64 flex-wrap gap-1.5 overflow-y-auto" aria-label="matched clusters">
                        {names.into_iter().map(|n| view! {
                            <li data-testid="preview-cluster" class="rounded bg-sky-50 px-2 py-0.5 font-mono text-xs text-sky-900 ring-1 ring-inset ring-sky-600/20">{n}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
    }
}

#[component]
fn NoWorkspaces() -> impl IntoView {
    view! {
        <section
            aria-labelledby="no-workspaces"
            class="mt-8 rounded-lg border border-dashed border-slate-300 bg-white px-6 py-16 text-center"
        >
            <h2 id="no-workspaces" class="text-base font-semibold text-slate-900">"No workspaces yet"</h2>
            <p class="mx-auto mt-2 max-w-md text-sm text-slate-600">
                "A workspace selects clusters by label, for example " <code class="rounded bg-slate-100 px-1">"env=prod"</code> "."
            </p>
            <Allowed allows=Access::is_tenant_admin>
                <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">
                    "Create one with " <strong>"New workspace"</strong> ", then add projects to it."
                </p>
            </Allowed>
            <Allowed allows=|a| !a.is_tenant_admin()>
                <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">
                    "None you have a role on: your tenant's admin gives roles to your groups."
                </p>
            </Allowed>
        </section>
    }
}

#[component]
fn WorkspaceTable(rows: Vec<WorkspaceSummary>) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Workspace"</th>
                        <th scope="col" class="px-4 py-3">"Selector"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Clusters"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Projects"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|w| view! {
                        <tr data-testid="workspace-row">
                            <td class="px-4 py-3 font-medium">
                                <a href=format!("/workspaces/{}", w.id) class="text-sky-700 hover:underline">{w.name}</a>
                            </td>
                            <td class="px-4 py-3 font-mono text-xs text-slate-700">
                                {if w.selector.is_empty() { "(every cluster)".to_owned() } else { w.selector }}
                            </td>
                            <td class="px-4 py-3 text-right tabular-nums">{w.clusters}</td>
                            <td class="px-4 py-3 text-right tabular-nums">{w.projects}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
