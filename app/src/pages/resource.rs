use std::collections::{BTreeMap, HashMap};

use flotilla_domain::{LabelSelector, Placement};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::AppError;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, DiffView, ErrorAlert, FieldError, HealthBadge, ReviewView, StatusBadge};
use crate::live::{LiveEvent, StatusView};
use crate::resources::{
    OverrideRow, ResourceDetail, ResourceEdit, Review, RevisionView, apply_edit, compare_revisions, delete_resource,
    get_history, get_resource_detail, revert_resource, review_delete, review_edit, review_revert,
};

/// One resource: its status in every cluster (live), its editor (YAML, Secret values,
/// placement, per-cluster overrides), its history, and deletion. Every change is shown as a
/// per-cluster diff first and applied only from there.
#[component]
pub fn ResourcePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = PageState { tab: RwSignal::new(Tab::Status), notice: RwSignal::new(None), reload: RwSignal::new(0) };
    let reload = page.reload;
    let detail = Resource::new(move || (id(), reload.get()), |(id, _)| get_resource_detail(id));
    // By cluster; `None`: removed by the live stream (a load from the lagging store must not
    // bring it back).
    let cells = RwSignal::new(HashMap::<String, Option<StatusView>>::new());
    let health = RwSignal::new(HashMap::<String, (String, String)>::new());
    crate::live::subscribe(move |event| match event {
        LiveEvent::Status(s) if s.resource_id == id() => cells.update(|c| {
            c.insert(s.cluster_id.clone(), Some(s));
        }),
        LiveEvent::Removed { resource_id, cluster_id } if resource_id == id() => cells.update(|c| {
            c.insert(cluster_id, None);
        }),
        LiveEvent::Cluster { cluster_id, health: h, reason, .. } => health.update(|m| {
            m.insert(cluster_id, (h, reason));
        }),
        LiveEvent::Resync => {
            cells.update(HashMap::clear);
            reload.update(|n| *n += 1);
        }
        _ => {}
    });

    view! {
        <Title text="Resource" />
        <AppShell>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the resource…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
                            cells.update(|c| {
                                for s in &d.statuses {
                                    c.entry(s.cluster_id.clone()).or_insert_with(|| Some(s.clone()));
                                }
                            });
                            health.update(|h| {
                                for c in &d.clusters {
                                    h.entry(c.id.clone()).or_insert_with(|| (c.health.clone(), c.health_reason.clone()));
                                }
                            });
                            view! { <Resource d cells health page /> }.into_any()
                        }
                        Err(e) => view! { <div class="mt-8"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Status,
    Edit,
    History,
}

/// What outlives a reload of the resource: the open tab and the last change's notice.
#[derive(Clone, Copy)]
struct PageState {
    tab: RwSignal<Tab>,
    notice: RwSignal<Option<String>>,
    /// Bumped to read the resource again (after a change; when live events were missed).
    reload: RwSignal<u32>,
}

impl PageState {
    /// A change was applied: say so, read the resource again, and show its rollout.
    fn applied(self, notice: String) {
        self.notice.set(Some(notice));
        self.tab.set(Tab::Status);
        self.reload.update(|n| *n += 1);
    }
}

#[component]
fn Resource(
    d: ResourceDetail,
    cells: RwSignal<HashMap<String, Option<StatusView>>>,
    health: RwSignal<HashMap<String, (String, String)>>,
    page: PageState,
) -> impl IntoView {
    let tab = page.tab;
    let title = format!("{} {}", d.kind, d.name);
    let back = match (&d.project_id, &d.project_name) {
        (Some(id), Some(name)) => view! {
            " / " <a href=format!("/projects/{id}") class="hover:text-slate-800 hover:underline">{name.clone()}</a>
        }
        .into_any(),
        _ => ().into_any(),
    };
    let can_edit = d.level.can_edit();
    let d = StoredValue::new(d);
    let tab_button = move |t: Tab, label: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                aria-selected=move || (tab.get() == t).to_string()
                class=move || format!(
                    "border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600 {}",
                    if tab.get() == t { "border-sky-600 text-sky-700" } else { "border-transparent text-slate-600 hover:text-slate-900" }
                )
                on:click=move |_| tab.set(t)
            >
                {label}
            </button>
        }
    };

    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <a href="/workspaces" class="hover:text-slate-800 hover:underline">"Workspaces"</a>
            " / "
            <a href=format!("/workspaces/{}", d.with_value(|d| d.workspace_id.clone())) class="hover:text-slate-800 hover:underline">
                {d.with_value(|d| d.workspace_name.clone())}
            </a>
            {back}
            " /"
        </nav>
        <div class="mt-1 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {d.with_value(|d| format!("{} · revision {} · in {} clusters of its scope", d.api_version, d.revision, d.clusters.len()))}
                </p>
            </div>
            <DeleteResource d=d.get_value() />
        </div>
        {move || page.notice.get().map(|text| view! {
            <p role="status" class="mt-4 flex items-center justify-between gap-3 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
                {text}
                <button type="button" class="text-xs underline" on:click=move |_| page.notice.set(None)>"Dismiss"</button>
            </p>
        })}
        <div role="tablist" aria-label="Resource" class="mt-6 flex gap-2 border-b border-slate-200">
            {tab_button(Tab::Status, "Status")}
            {can_edit.then(|| tab_button(Tab::Edit, "Edit"))}
            {tab_button(Tab::History, "History")}
        </div>
        <div class="mt-6">
            {move || match tab.get() {
                Tab::Status => view! { <StatusTable d=d.get_value() cells health /> }.into_any(),
                Tab::Edit if can_edit => view! { <Editor d=d.get_value() page /> }.into_any(),
                Tab::Edit => view! { <StatusTable d=d.get_value() cells health /> }.into_any(),
                Tab::History => view! { <History d=d.get_value() page /> }.into_any(),
            }}
        </div>
    }
}

/// The resource in each cluster of its scope, live.
#[component]
fn StatusTable(
    d: ResourceDetail,
    cells: RwSignal<HashMap<String, Option<StatusView>>>,
    health: RwSignal<HashMap<String, (String, String)>>,
) -> impl IntoView {
    if d.clusters.is_empty() {
        return view! {
            <p class="rounded-md border border-dashed border-slate-300 p-6 text-sm text-slate-600">
                "No cluster is in this resource's workspace and project yet. Label clusters to match them, and it follows."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="resource-status">
                <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Cluster"</th>
                        <th scope="col" class="px-4 py-3">"Cluster health"</th>
                        <th scope="col" class="px-4 py-3">"Status"</th>
                        <th scope="col" class="px-4 py-3">"Message"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {d.clusters.into_iter().map(|c| {
                        let (cid, hid) = (c.id.clone(), c.id.clone());
                        let cell = Memo::new(move |_| cells.with(|m| m.get(&cid).cloned().flatten()));
                        view! {
                            <tr data-testid="status-row" data-cluster=c.name.clone()>
                                <th scope="row" class="px-4 py-2 text-left font-mono font-medium">{c.name.clone()}</th>
                                <td class="px-4 py-2">
                                    {move || {
                                        let (h, reason) = health.with(|m| m.get(&hid).cloned()).unwrap_or_default();
                                        view! { <HealthBadge health=h reason /> }
                                    }}
                                </td>
                                <td class="px-4 py-2">
                                    {move || match cell.get() {
                                        None => view! { <span class="text-xs text-slate-500">"not placed here"</span> }.into_any(),
                                        Some(s) => view! { <StatusBadge s /> }.into_any(),
                                    }}
                                </td>
                                <td class="px-4 py-2 text-xs text-slate-600">{move || cell.get().map(|s| s.message).unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// How placement is chosen in the editor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlaceMode {
    Everywhere,
    Clusters,
    Selector,
}

/// One editable row, keyed so rows keep their inputs when others are removed.
#[derive(Clone)]
struct Row {
    key: u32,
    row: RwSignal<OverrideRow>,
}

/// The editor: YAML, a Secret's values, placement and overrides. "Review changes" asks
/// the server what would change in each cluster; "Apply" saves it from the review.
#[component]
fn Editor(d: ResourceDetail, page: PageState) -> impl IntoView {
    if let Some(why) = d.locked.clone() {
        return view! { <p class="rounded-md bg-slate-100 px-4 py-3 text-sm text-slate-700">{why}</p> }.into_any();
    }
    let id = d.id.clone();
    let version = d.version;
    let yaml = RwSignal::new(d.yaml.clone());
    let yaml_error = Memo::new(move |_| flotilla_domain::parse_manifest(&yaml.get()).err().map(|e| e.to_string()));

    // Placement.
    let mode = RwSignal::new(match (&d.placement.clusters, &d.placement.selector) {
        (Some(_), _) => PlaceMode::Clusters,
        (None, Some(s)) if !s.trim().is_empty() => PlaceMode::Selector,
        _ => PlaceMode::Everywhere,
    });
    let chosen = RwSignal::new(d.placement.clusters.clone().unwrap_or_default());
    let selector = RwSignal::new(d.placement.selector.clone().unwrap_or_default());
    let labels = StoredValue::new(d.cluster_labels.clone());
    let names: Vec<String> = d.clusters.iter().map(|c| c.name.clone()).collect();
    let names = StoredValue::new(names);
    let matched = Memo::new(move |_| match LabelSelector::parse(&selector.get()) {
        Ok(s) => Ok(labels.with_value(|l| l.iter().filter(|l| s.matches(l)).count())),
        Err(e) => Err(e.to_string()),
    });
    let placement = move || match mode.get() {
        PlaceMode::Everywhere => Placement::everywhere(),
        PlaceMode::Clusters => Placement::clusters(chosen.get()),
        PlaceMode::Selector => Placement::selector(selector.get()),
    };

    // Overrides.
    let next_key = StoredValue::new(0u32);
    let new_row = move |row: OverrideRow| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        Row { key, row: RwSignal::new(row) }
    };
    let rows = RwSignal::new(d.overrides.iter().cloned().map(new_row).collect::<Vec<_>>());

    // A Secret's values: new ones typed here; the old ones are never shown.
    let secret_keys = d.secret_keys.clone();
    let is_secret = secret_keys.is_some();
    let secret_set = RwSignal::new(BTreeMap::<String, String>::new());
    let secret_remove = RwSignal::new(Vec::<String>::new());
    let new_key = RwSignal::new(String::new());
    let new_value = RwSignal::new(String::new());

    let edit = move || {
        let mut set = secret_set.get();
        let key = new_key.get().trim().to_owned();
        if !key.is_empty() {
            set.insert(key, new_value.get());
        }
        set.retain(|_, v| !v.is_empty());
        ResourceEdit {
            yaml: yaml.get(),
            placement: placement(),
            overrides: rows.get().iter().map(|r| r.row.get()).collect(),
            secret_set: set,
            secret_remove: secret_remove.get(),
        }
    };

    // The review keeps the edit it reviewed: that edit, and only that, is what Apply saves.
    let review = Action::new(move |edit: &ResourceEdit| {
        let (id, edit) = (id.clone(), edit.clone());
        async move { review_edit(id, edit.clone()).await.map(|r| (edit, r)) }
    });
    let id = d.id.clone();
    let apply = Action::new(move |edit: &ResourceEdit| apply_edit(id.clone(), version, edit.clone()));
    let error = Signal::derive(move || {
        apply.value().get().and_then(Result::err).or_else(|| review.value().get().and_then(Result::err))
    });
    let form_error = move || error.get().filter(AppError::is_form_level).map(|e| e.to_string());
    let conflict = move || matches!(error.get(), Some(AppError::Conflict(_)));
    let reviewed = move || review.value().get().and_then(Result::ok);
    let stale_review = move || review.value().with(|r| matches!(r, Some(Ok((e, _))) if *e != edit()));
    Effect::new(move |_| {
        if let Some(Ok(rev)) = apply.value().get() {
            page.applied(format!("Applied as revision {rev}: its rollout shows below."));
        }
    });

    view! {
        <div class="grid gap-6 xl:grid-cols-2">
            <div class="space-y-6">
                <section aria-labelledby="edit-yaml" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                    <h2 id="edit-yaml" class="text-base font-semibold">"Object (YAML)"</h2>
                    {is_secret.then(|| view! {
                        <p class="mt-1 text-xs text-slate-500">"A Secret's values are not shown here: set them under Values."</p>
                    })}
                    <label for="resource-yaml" class="sr-only">"YAML"</label>
                    <textarea
                        id="resource-yaml"
                        rows="16"
                        spellcheck="false"
                        class=format!("{INPUT} font-mono text-xs")
                        aria-describedby="yaml-error"
                        aria-invalid=move || (yaml_error.get().is_some() || error.get().and_then(|e| e.for_field("yaml")).is_some()).to_string()
                        prop:value=move || yaml.get()
                        on:input=move |ev| yaml.set(event_target_value(&ev))
                    ></textarea>
                    <Show
                        when=move || yaml_error.get().is_some()
                        fallback=move || view! { <FieldError error field="yaml" /> }
                    >
                        <p id="yaml-error" class="mt-1 text-sm text-red-700">{move || yaml_error.get().map(|m| m.trim_start_matches("yaml: ").to_owned())}</p>
                    </Show>
                </section>

                {secret_keys.map(|keys| view! {
                    <section aria-labelledby="secret-values" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                        <h2 id="secret-values" class="text-base font-semibold">"Values"</h2>
                        <p class="mt-1 text-xs text-slate-500">"Write-only: stored encrypted, never shown again. Leave a value empty to keep it."</p>
                        <ul class="mt-4 space-y-3">
                            {keys.into_iter().map(|key| {
                                let (k1, k2, k3, k4) = (key.clone(), key.clone(), key.clone(), key.clone());
                                let input_id = format!("secret-{key}");
                                view! {
                                    <li class="flex flex-wrap items-end gap-3">
                                        <div class="min-w-48 flex-1">
                                            <label for=input_id.clone() class="block font-mono text-sm text-slate-700">{key.clone()}</label>
                                            <input id=input_id type="password" autocomplete="new-password" placeholder="unchanged" class=INPUT
                                                disabled=move || secret_remove.with(|r| r.contains(&k1))
                                                prop:value=move || secret_set.with(|s| s.get(&k2).cloned().unwrap_or_default())
                                                on:input=move |ev| secret_set.update(|s| { s.insert(k3.clone(), event_target_value(&ev)); }) />
                                        </div>
                                        <label class="flex items-center gap-2 pb-2 text-sm text-slate-700">
                                            <input type="checkbox" on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                secret_remove.update(|r| { r.retain(|k| *k != k4); if on { r.push(k4.clone()); } });
                                            } />
                                            "Remove"
                                        </label>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <div class="mt-4 grid gap-3 sm:grid-cols-2">
                            <div>
                                <label for="secret-new-key" class="block text-sm font-medium text-slate-700">"New key"</label>
                                <input id="secret-new-key" autocomplete="off" class=format!("{INPUT} font-mono")
                                    prop:value=move || new_key.get() on:input=move |ev| new_key.set(event_target_value(&ev)) />
                            </div>
                            <div>
                                <label for="secret-new-value" class="block text-sm font-medium text-slate-700">"Its value"</label>
                                <input id="secret-new-value" type="password" autocomplete="new-password" class=INPUT
                                    prop:value=move || new_value.get() on:input=move |ev| new_value.set(event_target_value(&ev)) />
                            </div>
                        </div>
                    </section>
                })}
            </div>

            <div class="space-y-6">
                <fieldset class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-describedby="placement-error">
                    <legend class="px-1 text-base font-semibold">"Placement"</legend>
                    <div class="space-y-2 text-sm">
                        {[(PlaceMode::Everywhere, "Every cluster of its scope"), (PlaceMode::Clusters, "Chosen clusters"), (PlaceMode::Selector, "Clusters matching a selector")]
                            .into_iter().map(|(m, label)| view! {
                                <label class="flex items-center gap-2">
                                    <input type="radio" name="placement-mode" prop:checked=move || mode.get() == m on:change=move |_| mode.set(m) />
                                    {label}
                                </label>
                            }).collect_view()}
                    </div>
                    <Show when=move || mode.get() == PlaceMode::Clusters>
                        <div class="mt-3 max-h-56 overflow-y-auto rounded-md border border-slate-200 p-3" role="group" aria-label="Chosen clusters">
                            {names.get_value().into_iter().map(|n| {
                                let (a, b) = (n.clone(), n.clone());
                                view! {
                                    <label class="flex items-center gap-2 py-0.5 font-mono text-sm">
                                        <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&a))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| { c.retain(|x| *x != b); if on { c.push(b.clone()); c.sort(); } });
                                            } />
                                        {n}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <p class="mt-1 text-xs text-slate-500">{move || format!("{} chosen", chosen.with(Vec::len))}</p>
                    </Show>
                    <Show when=move || mode.get() == PlaceMode::Selector>
                        <label for="placement-selector" class="mt-3 block text-sm font-medium text-slate-700">"Selector"</label>
                        <input id="placement-selector" autocomplete="off" placeholder="region in (eu)" class=format!("{INPUT} font-mono")
                            aria-invalid=move || matched.get().is_err().to_string()
                            prop:value=move || selector.get() on:input=move |ev| selector.set(event_target_value(&ev)) />
                        <p class="mt-1 text-xs" data-testid="placement-preview">
                            {move || match matched.get() {
                                Ok(n) => view! { <span class="text-slate-600">{format!("matches {n} of {} clusters", names.with_value(Vec::len))}</span> }.into_any(),
                                Err(e) => view! { <span class="text-red-700">{e}</span> }.into_any(),
                            }}
                        </p>
                    </Show>
                    <FieldError error field="placement" />
                </fieldset>

                <fieldset class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-describedby="overrides-error">
                    <legend class="px-1 text-base font-semibold">"Per-cluster overrides"</legend>
                    <p class="text-xs text-slate-500">"JSON pointer paths into the object, e.g. /spec/replicas or /data/LOG_LEVEL. Values are typed like what they replace."</p>
                    <Show when=move || rows.with(Vec::is_empty)>
                        <p class="mt-3 text-sm text-slate-600">"No overrides: every cluster gets the same object."</p>
                    </Show>
                    <div class="mt-3 space-y-3">
                        <For each=move || rows.get() key=|r| r.key let:r>
                            <OverrideEditor row=r.row key=r.key names=names.get_value()
                                on_remove=move || rows.update(|rs| rs.retain(|x| x.key != r.key)) />
                        </For>
                    </div>
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-3")
                        on:click=move |_| {
                            let first = names.with_value(|n| n.first().cloned()).unwrap_or_default();
                            rows.update(|rs| rs.push(new_row(OverrideRow { cluster: first, op: "replace".into(), ..Default::default() })));
                        }>"Add override"</button>
                    <FieldError error field="overrides" />
                </fieldset>
            </div>
        </div>

        <div class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <div class="flex flex-wrap items-center gap-3">
                <button type="button" class=BUTTON_PRIMARY
                    disabled=move || review.pending().get() || yaml_error.get().is_some()
                    on:click=move |_| { apply.value().set(None); page.notice.set(None); review.dispatch(edit()); }>
                    {move || if review.pending().get() { "Reviewing…" } else { "Review changes" }}
                </button>
                <span class="text-xs text-slate-500">"Shows what would change in each cluster. Nothing is saved until you apply."</span>
            </div>
            <Show when=move || form_error().is_some()>
                <div class="mt-4 flex flex-wrap items-center gap-3">
                    <ErrorAlert message=form_error().unwrap_or_default() />
                    <Show when=conflict>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| page.reload.update(|n| *n += 1)>"Reload the latest"</button>
                    </Show>
                </div>
            </Show>
            {move || reviewed().map(|(input, r): (ResourceEdit, Review)| view! {
                <div class="mt-6 border-t border-slate-200 pt-6">
                    <h3 class="text-base font-semibold">"Review"</h3>
                    <Show when=stale_review>
                        <p class="mt-2 text-sm text-amber-800">"The edit changed since this review: review it again before applying."</p>
                    </Show>
                    <div class="mt-3"><ReviewView review=r /></div>
                    <button type="button" class=format!("{BUTTON_PRIMARY} mt-4")
                        disabled=move || apply.pending().get() || stale_review()
                        on:click=move |_| { apply.dispatch(input.clone()); }>
                        {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                    </button>
                </div>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn OverrideEditor(
    row: RwSignal<OverrideRow>,
    key: u32,
    names: Vec<String>,
    on_remove: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let id = |what: &str| format!("override-{key}-{what}");
    view! {
        <div class="grid gap-2 rounded-md border border-slate-200 p-3 sm:grid-cols-2" data-testid="override-row">
            <div>
                <label for=id("cluster") class="block text-xs font-medium text-slate-600">"Cluster"</label>
                <select id=id("cluster") class=INPUT on:change=move |ev| row.update(|r| r.cluster = event_target_value(&ev))>
                    {names.into_iter().map(|n| {
                        let selected = row.with_untracked(|r| r.cluster == n);
                        view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for=id("op") class="block text-xs font-medium text-slate-600">"Operation"</label>
                <select id=id("op") class=INPUT on:change=move |ev| row.update(|r| r.op = event_target_value(&ev))>
                    {["replace", "add", "remove"].into_iter().map(|op| {
                        let selected = row.with_untracked(|r| r.op == op);
                        view! { <option value=op selected=selected>{op}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for=id("path") class="block text-xs font-medium text-slate-600">"Path"</label>
                <input id=id("path") autocomplete="off" placeholder="/spec/replicas" class=format!("{INPUT} font-mono")
                    prop:value=move || row.with(|r| r.path.clone()) on:input=move |ev| row.update(|r| r.path = event_target_value(&ev)) />
            </div>
            <div>
                <label for=id("value") class="block text-xs font-medium text-slate-600">"Value"</label>
                <input id=id("value") autocomplete="off" class=format!("{INPUT} font-mono")
                    disabled=move || row.with(|r| r.op == "remove")
                    prop:value=move || row.with(|r| r.value.clone()) on:input=move |ev| row.update(|r| r.value = event_target_value(&ev)) />
            </div>
            <div class="flex justify-end sm:col-span-2">
                <button type="button" class=BUTTON_SECONDARY aria-label="Remove this override" on:click=move |_| on_remove()>"Remove"</button>
            </div>
        </div>
    }
}

/// Revisions with author and time; compare any two; revert to one (reviewed first).
#[component]
fn History(d: ResourceDetail, page: PageState) -> impl IntoView {
    let id = d.id.clone();
    let current = d.revision;
    let version = d.version;
    let revisions = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_history,
    );
    let from = RwSignal::new((current - 1).max(1));
    let to = RwSignal::new(current);
    let compare = {
        let id = id.clone();
        Action::new(move |&(a, b): &(i64, i64)| {
            let id = id.clone();
            async move { compare_revisions(id, a, b).await.map(|lines| (a, b, lines)) }
        })
    };
    let revert_review = {
        let id = id.clone();
        Action::new(move |&rev: &i64| {
            let id = id.clone();
            async move { review_revert(id, rev).await.map(|r| (rev, r)) }
        })
    };
    let revert = {
        let id = id.clone();
        Action::new(move |rev: &i64| revert_resource(id.clone(), version, *rev))
    };
    Effect::new(move |_| {
        if let Some(Ok(rev)) = revert.value().get() {
            page.applied(format!("Reverted as revision {rev}: its rollout shows below."));
        }
    });
    // The project's own namespace cannot be reverted; a viewer may not revert anything.
    let locked = d.locked.is_some() || !d.level.can_edit();

    view! {
        <div class="grid gap-6 xl:grid-cols-2">
            <section aria-labelledby="revisions" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <h2 id="revisions" class="text-base font-semibold">"Revisions"</h2>
                <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match revisions.await {
                            Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Ok(rows) => view! {
                                <table class="mt-3 min-w-full text-sm" data-testid="revisions">
                                    <thead class="text-left text-xs font-semibold text-slate-600">
                                        <tr>
                                            <th scope="col" class="py-2 pr-3">"Revision"</th>
                                            <th scope="col" class="py-2 pr-3">"By"</th>
                                            <th scope="col" class="py-2 pr-3">"When"</th>
                                            <th scope="col" class="py-2 pr-3">"From"</th>
                                            <th scope="col" class="py-2 pr-3">"To"</th>
                                            <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {rows.into_iter().map(|r: RevisionView| {
                                            let rev = r.revision;
                                            view! {
                                                <tr data-testid="revision" data-revision=rev>
                                                    <td class="py-2 pr-3">
                                                        <span class="font-medium">{rev}</span>
                                                        <span class="ml-2 text-xs text-slate-500">{r.message.clone()}</span>
                                                        {(rev == current).then(|| view! { <span class="ml-2 rounded bg-sky-50 px-1.5 text-xs text-sky-800">"current"</span> })}
                                                    </td>
                                                    <td class="py-2 pr-3">{r.author.clone()}</td>
                                                    <td class="py-2 pr-3 text-xs text-slate-600">{r.at.clone()}</td>
                                                    <td class="py-2 pr-3">
                                                        <input type="radio" name="compare-from" aria-label=format!("Compare from revision {rev}")
                                                            prop:checked=move || from.get() == rev on:change=move |_| from.set(rev) />
                                                    </td>
                                                    <td class="py-2 pr-3">
                                                        <input type="radio" name="compare-to" aria-label=format!("Compare to revision {rev}")
                                                            prop:checked=move || to.get() == rev on:change=move |_| to.set(rev) />
                                                    </td>
                                                    <td class="py-2 text-right">
                                                        {(rev != current && !locked).then(|| view! {
                                                            <button type="button" class=BUTTON_SECONDARY
                                                                on:click=move |_| { revert.value().set(None); revert_review.dispatch(rev); }>
                                                                {format!("Revert to {rev}")}
                                                            </button>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <button type="button" class=format!("{BUTTON_SECONDARY} mt-4")
                                    disabled=move || from.get() == to.get()
                                    on:click=move |_| { compare.dispatch((from.get(), to.get())); }>
                                    {move || format!("Compare {} → {}", from.get(), to.get())}
                                </button>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <div class="space-y-6">
                {move || compare.value().get().map(|result| match result {
                    Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                    Ok((a, b, lines)) => {
                        view! {
                            <section aria-labelledby="comparison" class="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
                                <h2 id="comparison" class="bg-slate-50 px-4 py-2 text-sm font-semibold">{format!("Revision {a} → {b}")}</h2>
                                {if lines.is_empty() {
                                    view! { <p class="px-4 py-3 text-sm text-slate-600">"The two revisions are the same."</p> }.into_any()
                                } else {
                                    view! { <DiffView lines /> }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                })}
                {move || revert_review.value().get().map(|result| match result {
                    Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                    Ok((rev, review)) => {
                        view! {
                            <section aria-labelledby="revert-review" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                                <h2 id="revert-review" class="text-base font-semibold">{format!("Revert to revision {rev}")}</h2>
                                <p class="mt-1 text-xs text-slate-500">"Reverting makes a new revision equal to that one."</p>
                                <div class="mt-3"><ReviewView review /></div>
                                {move || revert.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
                                <button type="button" class=format!("{BUTTON_PRIMARY} mt-4") disabled=move || revert.pending().get()
                                    on:click=move |_| { revert.dispatch(rev); }>
                                    {move || if revert.pending().get() { "Reverting…".to_owned() } else { format!("Apply revert to {rev}") }}
                                </button>
                            </section>
                        }.into_any()
                    }
                })}
            </div>
        </div>
    }
}

/// Delete, choosing what happens in the clusters, after reviewing it.
#[component]
fn DeleteResource(d: ResourceDetail) -> impl IntoView {
    if d.locked.is_some() || !d.level.can_edit() {
        return ().into_any();
    }
    let open = RwSignal::new(false);
    let orphan = RwSignal::new(d.deletion_policy == "orphan");
    let id = d.id.clone();
    let review = Action::new(move |orphan: &bool| review_delete(id.clone(), *orphan));
    let id = d.id.clone();
    let version = d.version;
    let delete = Action::new(move |orphan: &bool| delete_resource(id.clone(), version, *orphan));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(next)) = delete.value().get() {
            navigate(&next, Default::default());
        }
    });
    // A new choice needs a new review.
    Effect::new(move |_| {
        let o = orphan.get();
        if open.get_untracked() {
            review.dispatch(o);
        }
    });
    view! {
        <div class="w-full max-w-xl">
            <Show when=move || !open.get()>
                <div class="flex justify-end">
                    <button type="button" class="rounded-md border border-red-300 bg-white px-4 py-2 text-sm font-medium text-red-700 shadow-sm hover:bg-red-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-red-600"
                        on:click=move |_| { open.set(true); review.dispatch(orphan.get_untracked()); }>"Delete…"</button>
                </div>
            </Show>
            <Show when=move || open.get()>
                <section aria-labelledby="delete-title" class="rounded-lg border border-red-200 bg-white p-4 shadow-sm">
                    <h2 id="delete-title" class="text-base font-semibold text-red-800">"Delete this resource"</h2>
                    <fieldset class="mt-2 space-y-1 text-sm">
                        <legend class="sr-only">"What happens in the clusters"</legend>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="delete-policy" prop:checked=move || !orphan.get() on:change=move |_| orphan.set(false) />
                            "Delete it from the clusters too"
                        </label>
                        <label class="flex items-center gap-2">
                            <input type="radio" name="delete-policy" prop:checked=move || orphan.get() on:change=move |_| orphan.set(true) />
                            "Leave it in the clusters, no longer managed"
                        </label>
                    </fieldset>
                    <div class="mt-3">
                        {move || match review.value().get() {
                            None => view! { <p class="text-sm text-slate-500">"Reviewing…"</p> }.into_any(),
                            Some(Err(e)) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Some(Ok(r)) => view! { <ReviewView review=r /> }.into_any(),
                        }}
                    </div>
                    {move || delete.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
                    <div class="mt-4 flex gap-3">
                        <button type="button" class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600"
                            disabled=move || delete.pending().get() || review.pending().get()
                            on:click=move |_| { delete.dispatch(orphan.get_untracked()); }>
                            {move || if delete.pending().get() { "Deleting…" } else { "Delete" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </section>
            </Show>
        </div>
    }
    .into_any()
}
