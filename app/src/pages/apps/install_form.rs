//! Installing an app: pick an app and version, name the install, fill the form generated from
//! the version's parameters (each field checked as it is typed, by the same rules the server
//! applies), review what it creates in each cluster, then install.

use std::collections::BTreeMap;

use flotilla_domain::catalog::{ParamType, Parameter};
use leptos::prelude::*;

use super::server_fns::{get_catalog, install_app, review_install};
use crate::AppError;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{ErrorAlert, FieldError, ReviewStep};
use crate::model::{CatalogApp, CatalogVersionView, InstallInput, RuleInput};

/// Fields whose errors show next to an input of this form; others show above the buttons.
fn is_own_field(field: &str) -> bool {
    field == "name" || field == "overrides" || field.starts_with("values.")
}

/// The install form of a project (`project_id`) or workspace. `installed` is told the new
/// install's id.
#[component]
pub fn InstallApp(
    workspace_id: String,
    project_id: Option<String>,
    #[prop(into)] installed: Callback<String>,
) -> impl IntoView {
    let scope = if project_id.is_some() { "project" } else { "workspace" };
    let catalog = Resource::new(|| (), move |()| get_catalog(scope.to_owned()));
    view! {
        <section aria-labelledby="install-app" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="install-app">
            <h2 id="install-app" class="text-base font-semibold">"Install an app"</h2>
            <p class="mt-1 text-xs text-slate-500">
                {if scope == "project" {
                    "Into this project's namespace in each of its clusters; every object is reviewed first."
                } else {
                    "Cluster-scoped apps (CRDs, classes) into every cluster of this workspace; a tenant admin's."
                }}
            </p>
            <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading the catalog…"</p> }>
                {move || Suspend::new({
                    let (workspace_id, project_id) = (workspace_id.clone(), project_id.clone());
                    async move {
                        match catalog.await {
                            Ok(apps) if apps.is_empty() => view! {
                                <p class="mt-3 text-sm text-slate-600">"The catalog has no app for here."</p>
                            }.into_any(),
                            Ok(apps) => view! { <Form apps workspace_id project_id installed /> }.into_any(),
                            Err(e) => view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The request with what the form holds now.
#[derive(Clone, PartialEq)]
struct Request {
    workspace_id: String,
    project_id: Option<String>,
    input: InstallInput,
}

#[component]
fn Form(
    apps: Vec<CatalogApp>,
    workspace_id: String,
    project_id: Option<String>,
    installed: Callback<String>,
) -> impl IntoView {
    let apps = StoredValue::new(apps);
    let first = apps.with_value(|a| a.first().map(|a| a.name.clone()).unwrap_or_default());
    let app = RwSignal::new(first.clone());
    let versions = move || {
        apps.with_value(|a| a.iter().find(|x| x.name == app.get()).map(|x| x.versions.clone())).unwrap_or_default()
    };
    let version_id = RwSignal::new(String::new());
    let name = RwSignal::new(first);
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let rows = RwSignal::new(Vec::<RuleRow>::new());
    let version = Memo::new(move |_| versions().into_iter().find(|v| v.id == version_id.get()));
    // A new app picks its newest version and its name; a new version resets the fields to
    // its defaults.
    Effect::new(move |_| {
        let newest = versions().first().map(|v| v.id.clone()).unwrap_or_default();
        version_id.set(newest);
    });
    Effect::new(move |_| {
        values.set(version.get().map(|v| defaults(&v)).unwrap_or_default());
    });

    let request = StoredValue::new(move || Request {
        workspace_id: workspace_id.clone(),
        project_id: project_id.clone(),
        input: InstallInput {
            version_id: version_id.get(),
            name: name.get().trim().to_owned(),
            values: values.get(),
            rules: rules_of(&rows.get()),
        },
    });
    let review = Action::new(move |r: &Request| {
        let r = r.clone();
        async move {
            review_install(r.workspace_id.clone(), r.project_id.clone(), r.input.clone())
                .await
                .map(|review| (r, review))
        }
    });
    let install = Action::new(move |r: &Request| {
        let r = r.clone();
        async move { install_app(r.workspace_id, r.project_id, r.input).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(id)) = install.value().get() {
            review.value().set(None);
            install.value().set(None);
            installed.run(id);
        }
    });
    let error = Signal::derive(move || {
        install.value().get().and_then(Result::err).or_else(|| review.value().get().and_then(Result::err))
    });
    let stale = Signal::derive(move || {
        let now = request.with_value(|f| f());
        review.value().with(|r| matches!(r, Some(Ok((r, _))) if r != &now))
    });
    // Typing checks each field at once, with the rules the server applies.
    let field_problems = move || {
        version.get().map_or(0, |v| {
            values.with(|vals| {
                v.parameters
                    .iter()
                    .filter(|p| p.from_text(vals.get(&p.name).map_or("", String::as_str)).is_err())
                    .count()
            })
        })
    };
    let other_error = move || {
        error.get().and_then(|e| match e {
            AppError::Invalid { field, message } if !is_own_field(&field) => Some(message),
            _ => None,
        })
    };

    view! {
        <div class="mt-4 grid gap-4 md:grid-cols-3">
            <div>
                <label for="install-app-name" class="block text-sm font-medium text-slate-700">"App"</label>
                <select id="install-app-name" class=INPUT prop:value=move || app.get()
                    on:change=move |ev| { let a = event_target_value(&ev); name.set(a.clone()); rows.set(Vec::new()); app.set(a); }>
                    {apps.with_value(|a| a.iter().map(|a| view! {
                        <option value=a.name.clone()>{a.display_name.clone()}</option>
                    }).collect_view())}
                </select>
            </div>
            <div>
                <label for="install-version" class="block text-sm font-medium text-slate-700">"Version"</label>
                <select id="install-version" class=INPUT prop:value=move || version_id.get()
                    on:change=move |ev| version_id.set(event_target_value(&ev))>
                    {move || versions().into_iter().map(|v| view! {
                        <option value=v.id.clone() selected=v.id == version_id.get_untracked()>
                            {format!("{} (app {}){}", v.version, v.app_version, if v.builtin { "" } else { " · your tenant's" })}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="install-name" class="block text-sm font-medium text-slate-700">"Install name"</label>
                <input id="install-name" autocomplete="off" class=INPUT aria-describedby="name-error"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                <FieldError error field="name" />
            </div>
        </div>
        {move || apps.with_value(|a| a.iter().find(|x| x.name == app.get()).map(|a| a.description.clone())).map(|d| view! {
            <p class="mt-3 text-sm text-slate-600">{d}</p>
        })}
        {move || version.get().filter(|v| !v.changelog.is_empty()).map(|v| view! {
            <p class="mt-1 text-xs text-slate-500" data-testid="install-changelog">{v.changelog.clone()}</p>
        })}
        <fieldset class="mt-4" aria-label="Parameters">
            <div class="grid gap-4 md:grid-cols-2">
                {move || version.get().map(|v| v.parameters.into_iter().map(|p| view! {
                    <ParameterField p values error />
                }).collect_view())}
            </div>
        </fieldset>
        <RuleRows rows version values error />
        <Show when=move || other_error().is_some()>
            <div class="mt-3"><ErrorAlert message=other_error().unwrap_or_default() /></div>
        </Show>
        <ReviewStep review stale applying=install.pending() error apply_label="Install"
            disabled=Signal::derive(move || field_problems() > 0 || version_id.get().is_empty())
            on_review=Callback::new(move |()| { review.dispatch(request.with_value(|f| f())); })
            on_apply=Callback::new(move |r| { install.dispatch(r); }) />
    }
}

/// One row of the per-cluster values: for a cluster (by name) or the clusters a selector
/// matches, one parameter's value. Rows for the same target make one rule, in the order
/// targets first appear.
#[derive(Clone, Copy)]
struct RuleRow {
    key: usize,
    by_selector: RwSignal<bool>,
    target: RwSignal<String>,
    parameter: RwSignal<String>,
    value: RwSignal<String>,
}

fn rules_of(rows: &[RuleRow]) -> Vec<RuleInput> {
    let mut rules: Vec<RuleInput> = Vec::new();
    for row in rows {
        let target = row.target.get().trim().to_owned();
        let (cluster, selector) = if row.by_selector.get() { (String::new(), target) } else { (target, String::new()) };
        let (parameter, value) = (row.parameter.get(), row.value.get());
        match rules.iter_mut().find(|r| r.cluster == cluster && r.selector == selector) {
            Some(rule) => {
                rule.values.insert(parameter, value);
            }
            None => rules.push(RuleInput { cluster, selector, values: BTreeMap::from([(parameter, value)]) }),
        }
    }
    rules
}

/// The per-cluster values editor (Fleet's target customizations): "3 replicas where
/// region=eu". A cluster takes the first rule naming or selecting it.
#[component]
fn RuleRows(
    rows: RwSignal<Vec<RuleRow>>,
    version: Memo<Option<CatalogVersionView>>,
    values: RwSignal<BTreeMap<String, String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let next = StoredValue::new(0usize);
    let parameters = move || version.get().map(|v| v.parameters).unwrap_or_default();
    let add = move |_| {
        let parameter = parameters().first().map(|p| p.name.clone()).unwrap_or_default();
        let value = values.with(|v| v.get(&parameter).cloned().unwrap_or_default());
        let key = next.get_value();
        next.set_value(key + 1);
        let row = RuleRow {
            key,
            by_selector: RwSignal::new(true),
            target: RwSignal::new(String::new()),
            parameter: RwSignal::new(parameter),
            value: RwSignal::new(value),
        };
        rows.update(|r| r.push(row));
    };
    view! {
        <fieldset class="mt-4" aria-labelledby="rules-legend" data-testid="install-rules">
            <legend id="rules-legend" class="text-sm font-medium text-slate-700">"Per-cluster values"</legend>
            <p class="mt-1 text-xs text-slate-500">
                "Values for some clusters only, e.g. more replicas where tier=1. A selector follows clusters that \
                 join or are relabelled later; a cluster takes the first rule that names or selects it."
            </p>
            <Show when=move || !rows.with(Vec::is_empty)>
                <div class="mt-2 space-y-2">
                    <For each=move || rows.get() key=|r| r.key let:row>
                        <div class="grid items-end gap-2 md:grid-cols-[10rem_1fr_12rem_1fr_auto]" data-testid="rule-row">
                            <select class=INPUT aria-label="Applies to"
                                prop:value=move || if row.by_selector.get() { "selector" } else { "cluster" }
                                on:change=move |ev| row.by_selector.set(event_target_value(&ev) == "selector")>
                                <option value="selector">"Clusters where"</option>
                                <option value="cluster">"Cluster named"</option>
                            </select>
                            <input class=INPUT autocomplete="off"
                                aria-label=move || if row.by_selector.get() { "Label selector" } else { "Cluster name" }
                                placeholder=move || if row.by_selector.get() { "tier=1" } else { "prod-eu-1" }
                                prop:value=move || row.target.get() on:input=move |ev| row.target.set(event_target_value(&ev)) />
                            <select class=INPUT aria-label="Parameter" prop:value=move || row.parameter.get()
                                on:change=move |ev| row.parameter.set(event_target_value(&ev))>
                                {move || parameters().into_iter().map(|p| {
                                    let selected = p.name == row.parameter.get_untracked();
                                    let label = p.label().to_owned();
                                    view! { <option value=p.name.clone() selected=selected>{label}</option> }
                                }).collect_view()}
                            </select>
                            <input class=INPUT autocomplete="off" aria-label="Value"
                                prop:value=move || row.value.get() on:input=move |ev| row.value.set(event_target_value(&ev)) />
                            <button type="button" class="px-2 py-2 text-sm text-red-700 hover:underline"
                                on:click=move |_| rows.update(|r| r.retain(|x| x.key != row.key))>
                                "Remove"
                            </button>
                        </div>
                    </For>
                </div>
            </Show>
            <FieldError error field="overrides" />
            <button type="button" class=format!("mt-2 {BUTTON_SECONDARY}") data-testid="add-rule" on:click=add>
                "Add a per-cluster value"
            </button>
        </fieldset>
    }
}

/// Each parameter's default as the form shows it.
fn defaults(version: &CatalogVersionView) -> BTreeMap<String, String> {
    version
        .parameters
        .iter()
        .map(|p| (p.name.clone(), p.default.as_ref().map(Parameter::to_text).unwrap_or_default()))
        .collect()
}

/// One parameter's input: a number, a checkbox, a choice or text, with its description and
/// its error as typed (or the server's).
#[component]
fn ParameterField(
    p: Parameter,
    values: RwSignal<BTreeMap<String, String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("param-{}", p.name);
    let field = format!("values.{}", p.name);
    let key = p.name.clone();
    let text = {
        let key = key.clone();
        move || values.with(|v| v.get(&key).cloned().unwrap_or_default())
    };
    let set = {
        let key = key.clone();
        move |value: String| {
            values.update(|v| {
                v.insert(key.clone(), value);
            })
        }
    };
    let typed_error = {
        let (p, text) = (p.clone(), text.clone());
        move || p.from_text(&text()).err()
    };
    let message = {
        let (field, typed_error) = (field.clone(), typed_error.clone());
        move || typed_error().or_else(|| error.get().and_then(|e| e.for_field(&field)))
    };
    let describe = format!("{id}-help {id}-error");
    let input = match (&p.kind, &p.choices) {
        (ParamType::Boolean, _) => {
            let (text, set) = (text.clone(), set.clone());
            view! {
                <input id=id.clone() type="checkbox" class="mt-2 h-4 w-4 rounded border-slate-300 text-sky-700"
                    aria-describedby=describe.clone()
                    prop:checked=move || text() == "true"
                    on:change=move |ev| set(event_target_checked(&ev).to_string()) />
            }
            .into_any()
        }
        (_, Some(choices)) => {
            let (text, set) = (text.clone(), set.clone());
            view! {
                <select id=id.clone() class=INPUT aria-describedby=describe.clone()
                    prop:value=text on:change=move |ev| set(event_target_value(&ev))>
                    {choices.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        (kind, None) => {
            let (text, set) = (text.clone(), set.clone());
            let numeric = *kind == ParamType::Integer;
            view! {
                <input id=id.clone() autocomplete="off" class=INPUT aria-describedby=describe.clone()
                    type=if numeric { "number" } else { "text" }
                    min=p.minimum.map(|m| m.to_string()) max=p.maximum.map(|m| m.to_string())
                    aria-invalid=move || typed_error().is_some().to_string()
                    prop:value=text on:input=move |ev| set(event_target_value(&ev)) />
            }
            .into_any()
        }
    };
    let hint = match (&p.kind, p.minimum, p.maximum) {
        (ParamType::Integer, Some(min), Some(max)) => format!(" ({min}–{max})"),
        (ParamType::Quantity, _, _) if p.choices.is_none() => " (quantity, e.g. 10Gi)".to_owned(),
        _ => String::new(),
    };
    view! {
        <div data-testid="parameter" data-name=p.name.clone()>
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{format!("{}{hint}", p.label())}</label>
            {input}
            <p id=format!("{id}-help") class="mt-1 text-xs text-slate-500">{p.description.clone()}</p>
            <p id=format!("{id}-error") class="mt-1 text-sm text-red-700">{message}</p>
        </div>
    }
}
