pub(crate) mod server_fns;

use leptos::prelude::*;

use crate::AppError;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{ErrorAlert, Field, FieldError};
use server_fns::{ReadKubeconfig, RegisterCluster, TestConnection};

/// A cluster name from a context name: lowercase, dashes for anything else.
fn suggested_name(context: &str) -> String {
    let mut name: String =
        context.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    name = name.trim_matches('-').to_owned();
    name.truncate(63);
    name
}

/// Register a cluster: paste or upload a kubeconfig, pick a context, test the connection
/// (the server's version shows before anything is saved), name and label it.
#[component]
pub fn RegisterClusterPanel(register: ServerAction<RegisterCluster>, on_close: Callback<()>) -> impl IntoView {
    let kubeconfig = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let join = RwSignal::new(true);
    // The last registration's answer belongs to the last panel: this one starts afresh.
    register.clear();
    let read = ServerAction::<ReadKubeconfig>::new();
    let test = ServerAction::<TestConnection>::new();

    // Contexts read: pick the first usable one (the current context comes first).
    Effect::new(move |_| {
        if let Some(Ok(choices)) = read.value().get()
            && let Some(first) = choices.iter().find(|c| c.problem.is_none())
        {
            context.set(first.name.clone());
            name.set(suggested_name(&first.name));
        }
    });
    Effect::new(move |_| {
        if matches!(register.value().get(), Some(Ok(_))) {
            on_close.run(());
        }
    });
    let read_contexts = move || {
        test.clear();
        read.dispatch(ReadKubeconfig { kubeconfig: kubeconfig.get_untracked() });
    };
    let choices = move || read.value().get().and_then(Result::ok).unwrap_or_default();
    let read_error = Signal::derive(move || read.value().get().and_then(Result::err));
    let test_error = Signal::derive(move || test.value().get().and_then(Result::err));
    let register_error = Signal::derive(move || register.value().get().and_then(Result::err));
    let error = Signal::derive(move || register_error.get().or(test_error.get()).or(read_error.get()));
    let form_error = move || register_error.get().filter(AppError::is_form_level).map(|e| e.to_string());

    view! {
        <section aria-labelledby="register-cluster" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="register-cluster" class="text-base font-semibold">"Register a cluster"</h2>
            <div class="mt-4 grid gap-6 lg:grid-cols-2">
                <div>
                    <label for="kubeconfig" class="block text-sm font-medium text-slate-700">"Kubeconfig"</label>
                    <textarea
                        id="kubeconfig"
                        rows="10"
                        spellcheck="false"
                        placeholder="apiVersion: v1\nkind: Config\n…"
                        class=format!("{INPUT} font-mono text-xs")
                        aria-describedby="kubeconfig-hint kubeconfig-error"
                        prop:value=move || kubeconfig.get()
                        on:input=move |ev| kubeconfig.set(event_target_value(&ev))
                        on:change=move |_| read_contexts()
                    ></textarea>
                    <p id="kubeconfig-hint" class="mt-1 text-xs text-slate-500">
                        "Paste it, or choose a file. A bearer token works, and for a join a client certificate too (as kind's and kubeadm's admin kubeconfigs have), with the CA embedded; what Flotilla keeps is stored encrypted and never shown again."
                    </p>
                    <div class="mt-2 flex items-center gap-3">
                        <label class=format!("{BUTTON_SECONDARY} cursor-pointer")>
                            "Choose file…"
                            <input type="file" class="sr-only" accept=".yaml,.yml,.json,.kubeconfig,.config,text/*"
                                on:change=move |ev| upload(ev, kubeconfig, read_contexts) />
                        </label>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| read_contexts()>"Read contexts"</button>
                    </div>
                    <FieldError error field="kubeconfig" />
                </div>
                <div class="space-y-4">
                    <div>
                        <label for="context" class="block text-sm font-medium text-slate-700">"Context"</label>
                        <select
                            id="context"
                            class=INPUT
                            aria-describedby="context-error"
                            disabled=move || choices().is_empty()
                            prop:value=move || context.get()
                            on:change=move |ev| {
                                let picked = event_target_value(&ev);
                                name.set(suggested_name(&picked));
                                context.set(picked);
                                test.clear();
                            }
                        >
                            {move || if choices().is_empty() {
                                view! { <option value="">"Read a kubeconfig first"</option> }.into_any()
                            } else {
                                choices().into_iter().map(|c| {
                                    let label = match &c.problem {
                                        None => format!("{} — {}", c.name, c.server),
                                        Some(p) => format!("{} — cannot be used: {p}", c.name),
                                    };
                                    view! { <option value=c.name.clone() disabled=c.problem.is_some()>{label}</option> }
                                }).collect_view().into_any()
                            }}
                        </select>
                        <FieldError error field="context" />
                        <div class="mt-2 flex items-center gap-3">
                            <button
                                type="button"
                                class=BUTTON_SECONDARY
                                disabled=move || context.get().is_empty() || test.pending().get()
                                on:click=move |_| {
                                    test.dispatch(TestConnection { kubeconfig: kubeconfig.get_untracked(), context: context.get_untracked() });
                                }
                            >
                                {move || if test.pending().get() { "Connecting…" } else { "Test connection" }}
                            </button>
                            <span data-testid="connection-result" aria-live="polite" class="text-sm text-emerald-700">
                                {move || test.value().get().and_then(Result::ok).map(|v| format!("✓ Connected: Kubernetes {v}"))}
                            </span>
                        </div>
                    </div>
                    <Field id="cluster-name" label="Name" field="name" error>
                        <input id="cluster-name" class=INPUT autocomplete="off" aria-describedby="name-error"
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </Field>
                    <Field id="cluster-labels" label="Labels" field="labels" error>
                        <input id="cluster-labels" class=format!("{INPUT} font-mono") autocomplete="off" spellcheck="false"
                            placeholder="env=prod,region=eu" aria-describedby="labels-error"
                            prop:value=move || labels.get() on:input=move |ev| labels.set(event_target_value(&ev)) />
                    </Field>
                    <div class="flex items-start gap-2">
                        <input id="join" type="checkbox" class="mt-1" aria-describedby="join-hint"
                            prop:checked=move || join.get() on:change=move |ev| join.set(event_target_checked(&ev)) />
                        <div>
                            <label for="join" class="text-sm font-medium text-slate-700">"Join: create Flotilla's own identity (recommended)"</label>
                            <p id="join-hint" class="text-xs text-slate-500">
                                "The kubeconfig's credentials are used once, to create a service account with only the permissions Flotilla needs; Flotilla keeps that account's token and forgets the kubeconfig. Unchecked, the kubeconfig's own token is kept."
                            </p>
                        </div>
                    </div>
                    <Show when=move || form_error().is_some()>
                        <ErrorAlert message=form_error().unwrap_or_default() />
                    </Show>
                    <div class="flex gap-3">
                        <button
                            type="button"
                            class=BUTTON_PRIMARY
                            disabled=move || context.get().is_empty() || register.pending().get()
                            on:click=move |_| {
                                register.dispatch(RegisterCluster {
                                    kubeconfig: kubeconfig.get_untracked(),
                                    context: context.get_untracked(),
                                    name: name.get_untracked(),
                                    labels: labels.get_untracked(),
                                    join: join.get_untracked(),
                                });
                            }
                        >
                            {move || match (register.pending().get(), join.get()) {
                                (true, true) => "Joining…",
                                (true, false) => "Registering…",
                                (false, _) => "Register cluster",
                            }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                    </div>
                </div>
            </div>
        </section>
    }
}

/// Reads the chosen file into the kubeconfig field, then its contexts.
#[allow(unused_variables)]
fn upload(ev: leptos::ev::Event, kubeconfig: RwSignal<String>, then: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let Some(file) = crate::components::chosen_file(&ev) else { return };
        leptos::task::spawn_local(async move {
            if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await
                && let Some(text) = text.as_string()
            {
                kubeconfig.set(text);
                then();
            }
        });
    }
}
