//! The Edit tab: YAML, a Secret's values (write-only), placement and per-cluster overrides,
//! each change reviewed per cluster before it applies.

use std::collections::BTreeMap;

use flotilla_domain::{LabelSelector, Placement};
use leptos::prelude::*;

use super::server_fns::{apply_edit, review_edit, roll_out_edit};
use crate::AppError;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{ErrorAlert, FieldError, ReviewView};
use crate::model::{OverrideRow, ResourceDetail, ResourceEdit, Review};
use crate::pages::rollouts::{StrategyFields, StrategyForm};

use super::PageState;

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
pub(super) fn Editor(d: ResourceDetail, page: PageState) -> impl IntoView {
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
    // "Roll out" saves the same edit, moving it across the clusters wave by wave.
    let strategy = RwSignal::new(StrategyForm::default());
    let rolling = RwSignal::new(false);
    let id = d.id.clone();
    let roll_out = Action::new(move |(edit, strategy): &(ResourceEdit, flotilla_domain::rollout::Strategy)| {
        roll_out_edit(id.clone(), version, edit.clone(), strategy.clone())
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(rollout)) = roll_out.value().get() {
            navigate(&format!("/rollouts/{rollout}"), Default::default());
        }
    });
    let strategy_error = move || strategy.with(StrategyForm::strategy).err();
    let error = Signal::derive(move || {
        apply
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| roll_out.value().get().and_then(Result::err))
            .or_else(|| review.value().get().and_then(Result::err))
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
                    <div class="mt-4 flex flex-wrap gap-2">
                        <button type="button" class=BUTTON_PRIMARY
                            disabled=move || apply.pending().get() || stale_review()
                            on:click={
                                let input = input.clone();
                                move |_| { apply.dispatch(input.clone()); }
                            }>
                            {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY data-testid="roll-out-toggle"
                            on:click=move |_| rolling.update(|r| *r = !*r)>
                            "Roll out wave by wave…"
                        </button>
                    </div>
                    <Show when=move || rolling.get()>
                        <div class="mt-4 rounded-lg border border-sky-200 bg-sky-50/40 p-4" data-testid="roll-out">
                            <p class="text-sm text-slate-700">
                                "The new revision moves across this resource's clusters by the strategy: canary first, \
                                 then waves, each cluster healthy before the next; a cluster that fails is rolled back."
                            </p>
                            <div class="mt-3 grid gap-3 md:grid-cols-4"><StrategyFields form=strategy /></div>
                            {move || strategy_error().map(|e| view! { <p class="mt-2 text-sm text-red-700" role="alert">{e}</p> })}
                            <button type="button" class=format!("{BUTTON_PRIMARY} mt-3")
                                disabled=move || roll_out.pending().get() || stale_review() || strategy_error().is_some()
                                on:click={
                                    let input = input.clone();
                                    move |_| {
                                        if let Ok(s) = strategy.with(StrategyForm::strategy) {
                                            roll_out.dispatch((input.clone(), s));
                                        }
                                    }
                                }>
                                "Start the rollout"
                            </button>
                        </div>
                    </Show>
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
