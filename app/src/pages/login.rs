use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::Login;
use crate::components::styles::{BUTTON_SECONDARY, INPUT};
use crate::components::{FieldError, Logo};

/// What went wrong with a login through an organisation's provider, as the server's
/// redirect names it (`/login?error=…`).
fn login_error_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "unknown-tenant" => "No organisation has that name. Check the spelling, or ask your admin for it.",
        "state" => {
            "The login could not be verified: it was not started in this browser, or it was tampered with. \
             Start again."
        }
        "expired" => "The login took too long. Start again.",
        "provider" => "Your organisation's login service refused the login. Try again, or ask your admin.",
        "token" => {
            "Your organisation's login service sent an answer Flotilla cannot trust. Ask your admin to check \
             the login settings."
        }
        "no-role" => {
            "You are logged in at your organisation, but none of your groups has a role in Flotilla. Ask your \
             admin to give one of your groups a role."
        }
        "disabled" => "Your account is disabled.",
        "unavailable" => "Your organisation's login service cannot be reached. Try again shortly, or ask your admin.",
        _ => return None,
    })
}

/// The login page: an organisation's own login (OpenID Connect, `/t/<tenant>/login`), or a
/// local account (username and password) of the tenant named in `?tenant=` (the default
/// tenant otherwise). With JavaScript the password form is submitted by the wasm app and
/// errors appear in place; without it, both still work as plain forms.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let tenant = move || query.read().get("tenant").filter(|t| !t.is_empty()).unwrap_or_else(|| "default".into());
    let organisation = move || Some(tenant()).filter(|t| t != "default");
    let oidc_error = move || query.read().get("error").and_then(|code| login_error_text(&code));
    let show_password = RwSignal::new(false);
    let pending = login.pending();
    let error = Signal::derive(move || login.value().get().and_then(Result::err));
    let form_error = move || error.get().filter(|e| e.is_form_level()).map(|e| e.to_string());

    view! {
        <Title text="Log in" />
        <main class="flex min-h-full items-center justify-center px-4 py-12">
            <div class="w-full max-w-sm">
                <div class="mb-8 flex items-center gap-2 text-slate-900">
                    <Logo class="h-8 w-8 text-sky-600" />
                    <span class="text-2xl font-semibold tracking-tight">"Flotilla"</span>
                </div>
                <div class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                    <h1 class="text-lg font-semibold">
                        {move || match organisation() {
                            Some(org) => format!("Log in to {org}"),
                            None => "Log in".to_owned(),
                        }}
                    </h1>
                    {move || {
                        oidc_error()
                            .map(|text| {
                                view! {
                                    <p role="alert" class="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
                                        {text}
                                    </p>
                                }
                            })
                    }}
                    <form method="get" action="/t" class="mt-4 space-y-3">
                        <input type="hidden" name="next" value=next />
                        <div>
                            <label for="organisation" class="block text-sm font-medium text-slate-700">
                                "Organisation"
                            </label>
                            <input
                                id="organisation"
                                name="tenant"
                                autocomplete="organization"
                                placeholder="e.g. acme"
                                value=organisation
                                class=INPUT
                            />
                        </div>
                        <button type="submit" class=format!("w-full {BUTTON_SECONDARY}")>
                            "Continue with your organisation's login"
                        </button>
                    </form>
                    <div class="my-5 flex items-center gap-3 text-xs text-slate-500" aria-hidden="true">
                        <span class="h-px flex-1 bg-slate-200"></span>
                        "or with a Flotilla account"
                        <span class="h-px flex-1 bg-slate-200"></span>
                    </div>
                    <ActionForm action=login attr:class="space-y-4" attr:novalidate=true>
                        <input type="hidden" name="tenant" value=tenant />
                        <input type="hidden" name="next" value=next />
                        <div>
                            <label for="username" class="block text-sm font-medium text-slate-700">
                                "Username"
                            </label>
                            <input
                                id="username"
                                name="username"
                                autocomplete="username"
                                class=INPUT
                                aria-describedby="username-error"
                            />
                            <FieldError error field="username" />
                        </div>
                        <div>
                            <label for="password" class="block text-sm font-medium text-slate-700">
                                "Password"
                            </label>
                            <div class="relative">
                                <input
                                    id="password"
                                    name="password"
                                    type=move || if show_password.get() { "text" } else { "password" }
                                    autocomplete="current-password"
                                    class=INPUT
                                    aria-describedby="password-error"
                                />
                                <button
                                    type="button"
                                    class="absolute inset-y-0 right-0 mt-1 px-3 text-xs font-medium text-slate-500 hover:text-slate-800 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-500"
                                    aria-controls="password"
                                    aria-pressed=move || show_password.get().to_string()
                                    on:click=move |_| show_password.update(|shown| *shown = !*shown)
                                >
                                    {move || if show_password.get() { "Hide" } else { "Show" }}
                                </button>
                            </div>
                            <FieldError error field="password" />
                        </div>
                        <Show when=move || form_error().is_some()>
                            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
                                {form_error}
                            </p>
                        </Show>
                        <button
                            type="submit"
                            disabled=pending
                            class="w-full rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 disabled:cursor-wait disabled:opacity-60 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
                        >
                            {move || if pending.get() { "Logging in…" } else { "Log in" }}
                        </button>
                    </ActionForm>
                </div>
                <p class="mt-6 text-xs leading-relaxed text-slate-500">
                    "First start? The admin password was printed once in the server's output, "
                    "unless it was set with " <code>"FLOTILLA_ADMIN_PASSWORD"</code> "."
                </p>
            </div>
        </main>
    }
}
