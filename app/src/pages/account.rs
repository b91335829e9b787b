pub(crate) mod server_fns;
mod tokens;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::ChangePassword;
use crate::components::styles::{BUTTON_PRIMARY, INPUT};
use crate::components::{AppShell, Field, FormAlert};

/// The caller's own account: changing the password of a local account (one who logs in
/// through their organisation's provider changes it there), and API tokens.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    let pending = change.pending();
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <Title text="Your account" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Your account"</h1>
            <section aria-labelledby="password" class="mt-6 max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <h2 id="password" class="text-base font-semibold">"Change your password"</h2>
                <p class="mt-1 text-xs text-slate-500">
                    "At least 12 characters. Your other sessions end; this one stays."
                </p>
                <ActionForm action=change attr:class="mt-4 grid gap-4" attr:novalidate=true>
                    <Field id="current-password" label="Current password" field="current_password" error>
                        <input id="current-password" name="current_password" type="password" autocomplete="current-password" class=INPUT />
                    </Field>
                    <Field id="new-password" label="New password" field="new_password" error>
                        <input id="new-password" name="new_password" type="password" autocomplete="new-password" class=INPUT />
                    </Field>
                    <div>
                        <button type="submit" disabled=pending class=BUTTON_PRIMARY>
                            {move || if pending.get() { "Changing…" } else { "Change password" }}
                        </button>
                    </div>
                    <FormAlert error />
                    <Show when=done>
                        <p role="status" class="text-sm text-emerald-700" data-testid="password-changed">"Your password is changed."</p>
                    </Show>
                </ActionForm>
            </section>
            <tokens::ApiTokens />
        </AppShell>
    }
}
