use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::Login;
use crate::components::styles::INPUT;
use crate::components::{FieldError, Logo};

/// Local login (username and password). With JavaScript the form is submitted by the wasm
/// app and errors appear in place; without it, it still works as a plain form post.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
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
                    <h1 class="text-lg font-semibold">"Log in"</h1>
                    <ActionForm action=login attr:class="mt-4 space-y-4" attr:novalidate=true>
                        <input type="hidden" name="tenant" value="default" />
                        <input type="hidden" name="next" value=next />
                        <div>
                            <label for="username" class="block text-sm font-medium text-slate-700">
                                "Username"
                            </label>
                            <input
                                id="username"
                                name="username"
                                autocomplete="username"
                                autofocus=true
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
