//! Unjoining a cluster the tenant no longer has registered: Flotilla's identity removed from
//! it with an admin kubeconfig (a registered cluster is unjoined when it is deregistered).

use leptos::prelude::*;

use super::FleetNotice;
use super::server_fns::unjoin_cluster;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{Field, FormAlert};
use flotilla_domain::join as identity;

#[component]
pub(super) fn UnjoinPanel(on_close: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    let unjoin = Action::new(move |(text, context): &(String, String)| unjoin_cluster(text.clone(), context.clone()));
    let error = Signal::derive(move || unjoin.value().get().and_then(Result::err));
    let notice = use_context::<FleetNotice>();
    Effect::new(move |_| {
        if let (Some(Ok(server)), Some(notice)) = (unjoin.value().get(), notice) {
            notice.0.set(Some(format!("Flotilla's identity is gone from {server}.")));
            text.set(String::new());
            on_close.run(());
        }
    });
    view! {
        <section aria-labelledby="unjoin-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="unjoin-panel">
            <h2 id="unjoin-heading" class="text-base font-semibold text-slate-900">"Unjoin a cluster"</h2>
            <p class="mt-1 max-w-2xl text-sm text-slate-600">
                {format!(
                    "Removes what joining created in a cluster this tenant no longer has registered: the {} namespace \
                     with Flotilla's service account and its token, the {} and {} roles and their bindings. The \
                     kubeconfig needs admin access; it is used once and never stored. To unjoin a registered cluster, \
                     deregister it.",
                    identity::NAMESPACE, identity::HUB_ROLE, identity::NAMESPACE_ROLE,
                )}
            </p>
            <div class="mt-4 grid gap-4 lg:max-w-2xl">
                <Field id="unjoin-kubeconfig" label="Admin kubeconfig" field="kubeconfig" error>
                    <textarea id="unjoin-kubeconfig" rows="6" spellcheck="false" autocomplete="off"
                        class=format!("{INPUT} font-mono text-xs") aria-describedby="kubeconfig-error"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </Field>
                <Field id="unjoin-context" label="Context" field="context" error>
                    <input id="unjoin-context" class=format!("{INPUT} font-mono") autocomplete="off" spellcheck="false"
                        placeholder="the kubeconfig's current context" aria-describedby="context-error"
                        prop:value=move || context.get() on:input=move |ev| context.set(event_target_value(&ev)) />
                </Field>
                <FormAlert error />
            </div>
            <div class="mt-4 flex gap-3">
                <button type="button" class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600"
                    disabled=move || unjoin.pending().get()
                    on:click=move |_| { unjoin.dispatch((text.get(), context.get())); }>
                    {move || if unjoin.pending().get() { "Unjoining…" } else { "Unjoin" }}
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
            </div>
        </section>
    }
}
