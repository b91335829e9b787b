//! The project's own add forms: a ConfigMap from `key=value` lines (with values that differ
//! in one cluster), and a Secret from password fields; each reviewed before it is added.

use leptos::prelude::*;

use super::server_fns::{AddConfigmap, AddSecret, review_configmap, review_secret};
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{Field, FieldError, ReviewStep};

/// A ConfigMap from `key=value` lines, with values that differ in one cluster; reviewed
/// (what it creates in which cluster) before it is added.
#[component]
pub(super) fn AddConfigMap(
    project_id: String,
    add: ServerAction<AddConfigmap>,
    cluster_names: Vec<String>,
) -> impl IntoView {
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
pub(super) fn AddSecretForm(project_id: String, add: ServerAction<AddSecret>) -> impl IntoView {
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
