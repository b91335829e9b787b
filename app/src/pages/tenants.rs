pub(crate) mod server_fns;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::styles::{BUTTON_PRIMARY, INPUT};
use crate::components::{AppShell, ErrorAlert, Field, FormAlert};
use crate::model::TenantRow;
use server_fns::{CreateTenant, list_tenants};

/// The platform admin's list of tenants, and a form to add one.
#[component]
pub fn TenantsPage() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let tenants = Resource::new(move || create.version().get(), |_| list_tenants());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let pending = create.pending();

    view! {
        <Title text="Tenants" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Tenants"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "The organisations sharing this Flotilla. Each logs in through its own OpenID Provider and sees only its own fleet."
            </p>
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading tenants…"</p> }>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Ok(rows) => view! { <TenantTable rows /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
            <section aria-labelledby="new-tenant" class="mt-8 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <h2 id="new-tenant" class="text-base font-semibold">"New tenant"</h2>
                <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-3 md:items-start" attr:novalidate=true>
                    <Field id="tenant-slug" label="Short name (in its login address)" field="slug" error>
                        <input id="tenant-slug" name="slug" autocomplete="off" placeholder="acme" class=INPUT />
                    </Field>
                    <Field id="tenant-name" label="Display name" field="display_name" error>
                        <input id="tenant-name" name="display_name" autocomplete="off" placeholder="Acme Corp" class=INPUT />
                    </Field>
                    <div class="md:pt-6">
                        <button type="submit" disabled=pending class=BUTTON_PRIMARY>
                            {move || if pending.get() { "Creating…" } else { "Create tenant" }}
                        </button>
                    </div>
                    // The slug's checks name the field `tenant`.
                    <div class="md:col-span-3">
                        <crate::components::FieldError error field="tenant" />
                        <FormAlert error />
                    </div>
                </ActionForm>
            </section>
        </AppShell>
    }
}

#[component]
fn TenantTable(rows: Vec<TenantRow>) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Tenant"</th>
                        <th scope="col" class="px-4 py-3">"Login"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Users"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Clusters"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|t| { let slug = t.slug.clone(); view! {
                        <tr data-testid="tenant-row" data-tenant=slug>
                            <td class="px-4 py-3">
                                <a href=format!("/tenants/{}", t.id) class="font-medium text-sky-700 hover:underline">{t.display_name}</a>
                                <span class="ml-2 font-mono text-xs text-slate-500">{t.slug}</span>
                            </td>
                            <td class="px-4 py-3 text-slate-700">
                                {match t.issuer {
                                    Some(issuer) => view! { "OpenID Connect: " <span class="font-mono text-xs">{issuer}</span> }.into_any(),
                                    None => view! { "Local accounts only" }.into_any(),
                                }}
                            </td>
                            <td class="px-4 py-3 text-right tabular-nums">{t.users}</td>
                            <td class="px-4 py-3 text-right tabular-nums">{t.clusters}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
