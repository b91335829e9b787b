//! The account page's API tokens: make one (its secret shown once), see when each was last
//! used, revoke it; a tenant admin also makes service accounts and their tokens.

use leptos::prelude::*;

use super::server_fns::{CreateServiceAccount, CreateToken, RevokeToken, list_tokens};
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{ErrorAlert, Field, FormAlert, RolePicker};
use crate::model::{TokenRow, TokensView};
use crate::time::utc;

#[component]
pub fn ApiTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let make_account = ServerAction::<CreateServiceAccount>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get(), make_account.version().get()),
        |_| list_tokens(),
    );
    view! {
        <section aria-labelledby="tokens" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="tokens" class="text-base font-semibold">"API tokens"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "For scripts, pipelines and the CLI: send "<code class="font-mono text-xs">"Authorization: Bearer <token>"</code>
                " to "<a class="text-sky-700 underline" href="/api/v1/openapi.json">"the REST API"</a>
                ". A token acts with its user's roles, doing at most what its access allows, until it expires or is revoked."
            </p>
            <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                {move || tokens.get().map(|r| match r {
                    Ok(view) => view! { <TokensBody view create revoke make_account /> }.into_any(),
                    Err(e) => view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokensBody(
    view: TokensView,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
    make_account: ServerAction<CreateServiceAccount>,
) -> impl IntoView {
    let TokensView { tokens, service_accounts, scopes, tenant_admin, max_days, now } = view;
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let shown = move || create.value().get().and_then(Result::ok);
    let accounts = service_accounts.clone();
    // Made: the name empties for the next token (a refused one keeps what was typed).
    let name_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(input) = name_input.get()
        {
            input.set_value("");
        }
    });
    view! {
        <Show when=move || shown().is_some()>
            {move || shown().map(|made| view! {
                <div role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-4 text-sm" data-testid="new-token">
                    <p class="font-medium text-emerald-900">
                        {format!("Token {} made. Copy it now: it is not shown again.", made.token.name)}
                    </p>
                    <input readonly aria-label="The new token" class=format!("{INPUT} font-mono") value=made.secret
                        on:focus=|ev| select_all(&ev) />
                </div>
            })}
        </Show>
        <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-5 md:items-start" attr:novalidate=true>
            <Field id="token-name" label="Name" field="name" error>
                <input id="token-name" node_ref=name_input name="name" autocomplete="off" spellcheck="false" placeholder="ci-deploy" class=format!("{INPUT} font-mono") />
            </Field>
            <Field id="token-access" label="Access" field="access" error>
                <select id="token-access" name="access" class=INPUT>
                    <option value="view">"view: read only"</option>
                    <option value="edit">"edit: change resources"</option>
                    <option value="admin">"admin: all its roles allow"</option>
                </select>
            </Field>
            <Field id="token-days" label="Expires in (days)" field="days" error>
                <input id="token-days" name="days" type="number" min="1" max=max_days value="90" class=INPUT />
            </Field>
            {if tenant_admin && !accounts.is_empty() {
                view! {
                    <Field id="token-for" label="Acts as" field="service_account" error>
                        <select id="token-for" name="service_account" class=INPUT>
                            <option value="">"you"</option>
                            {accounts.into_iter().map(|a| view! { <option value=a.id>{format!("service account {}", a.name)}</option> }).collect_view()}
                        </select>
                    </Field>
                }.into_any()
            } else {
                ().into_any()
            }}
            <div class="md:pt-6">
                <button type="submit" class=BUTTON_PRIMARY disabled=create.pending()>"Make token"</button>
            </div>
            <div class="md:col-span-5"><FormAlert error /></div>
        </ActionForm>
        <FormAlert error=revoke_error />
        {if tokens.is_empty() {
            view! { <p class="mt-4 text-sm text-slate-600">"No tokens yet."</p> }.into_any()
        } else {
            view! { <TokenTable tokens now revoke /> }.into_any()
        }}
        {tenant_admin.then(|| view! { <ServiceAccountForm scopes make_account /> })}
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenRow>, now: i64, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <div class="mt-4 overflow-x-auto">
            <table class="min-w-full divide-y divide-slate-200 text-sm" aria-label="API tokens">
                <thead class="text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="py-2 pr-3">"Token"</th>
                        <th scope="col" class="py-2 pr-3">"Acts as"</th>
                        <th scope="col" class="py-2 pr-3">"Access"</th>
                        <th scope="col" class="py-2 pr-3">"Expires"</th>
                        <th scope="col" class="py-2 pr-3">"Last used"</th>
                        <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {tokens.into_iter().map(|t| {
                        let active = t.active(now);
                        let state = match (t.revoked_at, active) {
                            (Some(at), _) => format!("revoked {}", utc(at)),
                            (None, false) => format!("expired {}", utc(t.expires_at)),
                            (None, true) => utc(t.expires_at),
                        };
                        let (id, label, row_name) = (t.id.clone(), format!("Revoke {}", t.name), t.name.clone());
                        view! {
                            <tr data-testid="token" data-name=row_name class=if active { "" } else { "text-slate-400" }>
                                <td class="py-2 pr-3">
                                    <div class="font-medium">{t.name}</div>
                                    <div class="font-mono text-xs text-slate-500">{format!("{}…", t.hint)}</div>
                                </td>
                                <td class="py-2 pr-3">{if t.service { format!("service account {}", t.user) } else { t.user }}</td>
                                <td class="py-2 pr-3">{t.access.as_str()}</td>
                                <td class="py-2 pr-3">{state}</td>
                                <td class="py-2 pr-3">{t.last_used_at.map(utc).unwrap_or_else(|| "never".into())}</td>
                                <td class="py-2 text-right">
                                    {active.then(|| view! {
                                        <button type="button" class=BUTTON_SECONDARY aria-label=label
                                            on:click=move |_| { revoke.dispatch(RevokeToken { id: id.clone() }); }>
                                            "Revoke"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A tenant admin's: a service account holding one role, for tokens that outlive a person's
/// job (more roles are given on the People page's rules, or by adding it again elsewhere).
#[component]
fn ServiceAccountForm(
    scopes: Vec<crate::model::ScopeChoice>,
    make_account: ServerAction<CreateServiceAccount>,
) -> impl IntoView {
    let error = Signal::derive(move || make_account.value().get().and_then(Result::err));
    view! {
        <div class="mt-6 border-t border-slate-200 pt-4">
            <h3 class="text-sm font-semibold">"New service account"</h3>
            <p class="mt-1 text-sm text-slate-600">
                "A user of the tenant that cannot log in: it holds a role and tokens, and the audit log names it."
            </p>
            <ActionForm action=make_account attr:class="mt-3 grid gap-4 md:grid-cols-4 md:items-start" attr:novalidate=true>
                <Field id="account-name" label="Name" field="name" error>
                    <input id="account-name" name="name" autocomplete="off" spellcheck="false" placeholder="deploy-bot" class=format!("{INPUT} font-mono") />
                </Field>
                <RolePicker prefix="account" scopes error />
                <div class="md:pt-6">
                    <button type="submit" class=BUTTON_SECONDARY disabled=make_account.pending()>"Make service account"</button>
                </div>
                <div class="md:col-span-4"><FormAlert error /></div>
            </ActionForm>
        </div>
    }
}

/// Selects the whole of the focused input, for copying.
fn select_all(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
