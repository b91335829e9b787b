pub(crate) mod server_fns;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, ErrorAlert, Field, FormAlert, RolePicker};
use crate::model::{MappingRow, ProviderCheck, ProviderForm, Role, ScopeChoice, TenantPage as Page};
use server_fns::{
    AddGroupMapping, AddLocalUser, RemoveGroupMapping, RemoveTenantOidc, SetTenantOidc, TestTenantOidc, get_tenant,
};

/// The actions of the tenant page; a successful one reloads the page's data.
#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SetTenantOidc>,
    remove: ServerAction<RemoveTenantOidc>,
    add_rule: ServerAction<AddGroupMapping>,
    remove_rule: ServerAction<RemoveGroupMapping>,
    add_user: ServerAction<AddLocalUser>,
}

/// One tenant: its OpenID Provider (with a test), its group → role rules and local accounts.
#[component]
pub fn TenantPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions {
        save: ServerAction::new(),
        remove: ServerAction::new(),
        add_rule: ServerAction::new(),
        remove_rule: ServerAction::new(),
        add_user: ServerAction::new(),
    };
    // Reload after a success only: a refused form keeps what was typed.
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        let ok = [
            matches!(actions.save.value().get(), Some(Ok(()))),
            matches!(actions.remove.value().get(), Some(Ok(()))),
            matches!(actions.add_rule.value().get(), Some(Ok(()))),
            matches!(actions.remove_rule.value().get(), Some(Ok(()))),
            matches!(actions.add_user.value().get(), Some(Ok(()))),
        ];
        if ok.into_iter().any(|ok| ok) {
            reload.update(|n| *n += 1);
        }
    });
    let page = Resource::new(move || (id(), reload.get()), |(id, _)| get_tenant(id));

    view! {
        <Title text="Tenant" />
        <AppShell>
            <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
                <a href="/tenants" class="hover:text-slate-800 hover:underline">"Tenants"</a>
                " /"
            </nav>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <Tenant p actions /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
        </AppShell>
    }
}

#[component]
fn Tenant(p: Page, actions: Actions) -> impl IntoView {
    let Page { tenant, version, oidc, mappings, scopes, redirect_uri, post_logout_uri, login_url } = p;
    let id = tenant.id.clone();
    view! {
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">{tenant.display_name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            <span class="font-mono">{tenant.slug.clone()}</span>
            {format!(" · {} users · {} clusters · users log in at ", tenant.users, tenant.clusters)}
            <a class="font-mono text-sky-700 underline" href=login_url.clone()>{login_url.clone()}</a>
        </p>
        <Provider id=id.clone() version oidc redirect_uri post_logout_uri actions />
        <Rules id=id.clone() mappings scopes add=actions.add_rule remove=actions.remove_rule />
        <LocalUsers id actions />
    }
}

/// The tenant's OpenID Provider: edited, tested against the provider, removed.
#[component]
fn Provider(
    id: String,
    version: i64,
    oidc: Option<crate::model::OidcForm>,
    redirect_uri: String,
    post_logout_uri: String,
    actions: Actions,
) -> impl IntoView {
    let has_provider = oidc.is_some();
    let has_secret = oidc.as_ref().is_some_and(|o| o.has_client_secret);
    let field = |f: fn(&crate::model::OidcForm) -> String, default: &str| {
        RwSignal::new(oidc.as_ref().map(f).unwrap_or_else(|| default.to_owned()))
    };
    let issuer = field(|o| o.issuer_url.clone(), "");
    let client_id = field(|o| o.client_id.clone(), "");
    let scopes = field(|o| o.scopes.clone(), "openid email profile groups");
    let groups_claim = field(|o| o.groups_claim.clone(), "groups");
    let secret = RwSignal::new(String::new());
    let public_client = RwSignal::new(has_provider && !has_secret);
    let test = ServerAction::<TestTenantOidc>::new();
    let save = actions.save;
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let (test_id, remove_id) = (id.clone(), id.clone());
    let run_test = move |_| {
        let provider = ProviderForm {
            issuer_url: issuer.get_untracked(),
            client_id: client_id.get_untracked(),
            client_secret: secret.get_untracked(),
            public_client: public_client.get_untracked().then(|| "on".to_owned()),
            scopes: scopes.get_untracked(),
            groups_claim: groups_claim.get_untracked(),
        };
        test.dispatch(TestTenantOidc { id: test_id.clone(), provider });
    };
    let remove = actions.remove;

    view! {
        <section aria-labelledby="provider" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="provider" class="text-base font-semibold">"OpenID Provider"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {if has_provider {
                    "Users of this tenant log in through this provider; their groups give them roles (below)."
                } else {
                    "None yet: only local accounts can log in. Register Flotilla as a client at the provider, then enter it here."
                }}
            </p>
            <dl class="mt-3 grid gap-1 text-sm sm:grid-cols-[max-content_1fr] sm:gap-x-4">
                <dt class="text-slate-600">"Redirect URI to register"</dt>
                <dd class="font-mono text-xs break-all" data-testid="redirect-uri">{redirect_uri}</dd>
                <dt class="text-slate-600">"Post-logout redirect URI"</dt>
                <dd class="font-mono text-xs break-all">{post_logout_uri}</dd>
            </dl>
            <ActionForm action=save attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:novalidate=true>
                <input type="hidden" name="id" value=id.clone() />
                <input type="hidden" name="version" value=version />
                <Field id="issuer-url" label="Issuer URL" field="issuer_url" error>
                    <input id="issuer-url" name="provider[issuer_url]" autocomplete="off" spellcheck="false" placeholder="https://login.example.com/realms/acme"
                        class=format!("{INPUT} font-mono") prop:value=move || issuer.get() on:input=move |ev| issuer.set(event_target_value(&ev)) />
                </Field>
                <Field id="client-id" label="Client id" field="client_id" error>
                    <input id="client-id" name="provider[client_id]" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                        prop:value=move || client_id.get() on:input=move |ev| client_id.set(event_target_value(&ev)) />
                </Field>
                <div>
                    <Field id="client-secret" label="Client secret" field="client_secret" error>
                        <input id="client-secret" name="provider[client_secret]" type="password" autocomplete="new-password"
                            placeholder=if has_secret { "stored (type to replace)" } else { "" }
                            disabled=move || public_client.get()
                            class=INPUT prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev)) />
                    </Field>
                    <label class="mt-2 flex items-center gap-2 text-sm text-slate-700">
                        <input type="checkbox" name="provider[public_client]" value="on" prop:checked=move || public_client.get()
                            on:change=move |ev| public_client.set(event_target_checked(&ev)) />
                        "Public client (no secret; PKCE only)"
                    </label>
                </div>
                <Field id="scopes" label="Scopes" field="scopes" error>
                    <input id="scopes" name="provider[scopes]" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                        prop:value=move || scopes.get() on:input=move |ev| scopes.set(event_target_value(&ev)) />
                </Field>
                <Field id="groups-claim" label="Claim listing the user's groups" field="groups_claim" error>
                    <input id="groups-claim" name="provider[groups_claim]" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                        prop:value=move || groups_claim.get() on:input=move |ev| groups_claim.set(event_target_value(&ev)) />
                </Field>
                <div class="flex flex-wrap items-start gap-3 md:col-span-2">
                    <button type="submit" class=BUTTON_PRIMARY disabled=save.pending()>
                        {move || if save.pending().get() { "Saving…" } else { "Save provider" }}
                    </button>
                    <button type="button" class=BUTTON_SECONDARY disabled=test.pending() on:click=run_test>
                        {move || if test.pending().get() { "Testing…" } else { "Test configuration" }}
                    </button>
                    {has_provider.then(|| view! {
                        <button type="button" class=BUTTON_SECONDARY disabled=remove.pending()
                            on:click=move |_| { remove.dispatch(RemoveTenantOidc { id: remove_id.clone(), version }); }>
                            "Remove provider"
                        </button>
                    })}
                </div>
                <div class="md:col-span-2 space-y-2">
                    <Show when=saved>
                        <p role="status" class="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">"Saved."</p>
                    </Show>
                    <FormAlert error />
                </div>
            </ActionForm>
            <div aria-live="polite" data-testid="test-result">
                {move || test.value().get().map(|result| match result {
                    Ok(check) => view! { <CheckReport check /> }.into_any(),
                    Err(e) => view! {
                        <p role="alert" class="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
                            <strong>"The configuration does not work: "</strong>{e.to_string()}
                        </p>
                    }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn CheckReport(check: ProviderCheck) -> impl IntoView {
    view! {
        <div role="status" class="mt-4 rounded-md bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
            <p class="font-semibold">"The provider answers and accepts this client."</p>
            <dl class="mt-2 grid gap-1 sm:grid-cols-[max-content_1fr] sm:gap-x-4">
                <dt>"Issuer"</dt><dd class="font-mono text-xs break-all">{check.issuer}</dd>
                <dt>"Authorization"</dt><dd class="font-mono text-xs break-all">{check.authorization_endpoint}</dd>
                <dt>"Token"</dt><dd class="font-mono text-xs break-all">{check.token_endpoint.unwrap_or_default()}</dd>
                <dt>"End session"</dt><dd class="font-mono text-xs break-all">{check.end_session_endpoint.unwrap_or_else(|| "none".into())}</dd>
                <dt>"Signing"</dt><dd class="font-mono text-xs">{check.signing_algs.join(", ")}</dd>
            </dl>
            <ul class="mt-2 list-disc pl-5">
                {check.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ul>
        </div>
    }
}

/// The roles each group of the provider gives, at the tenant, a workspace or a project.
/// (Also on the People page, for the tenant's own admin.)
#[component]
pub(crate) fn Rules(
    id: String,
    mappings: Vec<MappingRow>,
    scopes: Vec<ScopeChoice>,
    add: ServerAction<AddGroupMapping>,
    remove: ServerAction<RemoveGroupMapping>,
) -> impl IntoView {
    let group = RwSignal::new(String::new());
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let remove_error = Signal::derive(move || remove.value().get().and_then(Result::err));
    // Added: the form empties for the next rule (a refused one keeps what was typed).
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(()))) {
            group.set(String::new());
        }
    });
    let remove_id = id.clone();
    view! {
        <section aria-labelledby="rules" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="rules" class="text-base font-semibold">"Groups and roles"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A user's roles are those their groups are given here: read from the provider at each login, and changed at once for everyone when a rule is added or removed. A user none of whose groups has a role cannot log in."
            </p>
            <FormAlert error=remove_error />
            {if mappings.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600">"No rules yet."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-3 min-w-full divide-y divide-slate-200 text-sm" aria-label="Group rules">
                        <thead class="text-left text-xs font-semibold text-slate-600">
                            <tr>
                                <th scope="col" class="py-2 pr-3">"Group"</th>
                                <th scope="col" class="py-2 pr-3">"Role"</th>
                                <th scope="col" class="py-2 pr-3">"On"</th>
                                <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {mappings.into_iter().map(|m| {
                                let (tenant_id, rule_id, group) = (remove_id.clone(), m.id.clone(), m.group.clone());
                                let data_group = m.group.clone();
                                view! {
                                    <tr data-testid="rule" data-group=data_group>
                                        <td class="py-2 pr-3 font-mono">{m.group}</td>
                                        <td class="py-2 pr-3">{m.role.label()}</td>
                                        <td class="py-2 pr-3">{if m.scope.is_empty() { "the whole tenant".to_owned() } else { m.scope }}</td>
                                        <td class="py-2 text-right">
                                            <button type="button" class=BUTTON_SECONDARY aria-label=format!("Remove the rule for {group}")
                                                on:click=move |_| { remove.dispatch(RemoveGroupMapping { id: tenant_id.clone(), mapping_id: rule_id.clone() }); }>
                                                "Remove"
                                            </button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <ActionForm action=add attr:class="mt-4 grid gap-4 md:grid-cols-4 md:items-start" attr:novalidate=true>
                <input type="hidden" name="id" value=id />
                <Field id="rule-group" label="Group (as the provider names it)" field="group" error>
                    <input id="rule-group" name="group" autocomplete="off" spellcheck="false" class=format!("{INPUT} font-mono")
                        prop:value=move || group.get() on:input=move |ev| group.set(event_target_value(&ev)) />
                </Field>
                <RolePicker prefix="rule" scopes error />
                <div class="md:pt-6">
                    <button type="submit" class=BUTTON_PRIMARY disabled=add.pending()>"Add rule"</button>
                </div>
                <div class="md:col-span-4">
                    <FormAlert error />
                </div>
            </ActionForm>
        </section>
    }
}

/// A local (password) account with the tenant admin role: for tenants without a provider.
#[component]
fn LocalUsers(id: String, actions: Actions) -> impl IntoView {
    let add = actions.add_user;
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    // Created: the password is not left in the form.
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(()))) {
            username.set(String::new());
            password.set(String::new());
        }
    });
    view! {
        <section aria-labelledby="local-users" class="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="local-users" class="text-base font-semibold">"Local admin account"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "For a tenant without a provider, or as a way in when the provider is down. It logs in with a password on Flotilla's login page."
            </p>
            <ActionForm action=add attr:class="mt-4 grid gap-4 md:grid-cols-3 md:items-start" attr:novalidate=true>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="role" value=Role::TenantAdmin.as_str() />
                <Field id="local-username" label="Username" field="username" error>
                    <input id="local-username" name="username" autocomplete="off" class=INPUT
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev)) />
                </Field>
                <Field id="local-password" label="Password (12 characters or more)" field="password" error>
                    <input id="local-password" name="password" type="password" autocomplete="new-password" class=INPUT
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </Field>
                <div class="md:pt-6">
                    <button type="submit" class=BUTTON_PRIMARY disabled=add.pending()>"Add tenant admin"</button>
                </div>
                <div class="md:col-span-3">
                    <Show when=move || matches!(add.value().get(), Some(Ok(())))>
                        <p role="status" class="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">"Account created."</p>
                    </Show>
                    <FormAlert error />
                </div>
            </ActionForm>
        </section>
    }
}
