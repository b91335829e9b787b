use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::AppShell;

/// The fleet: every cluster of the tenant. Until clusters can be registered it shows the
/// empty state.
#[component]
pub fn FleetPage() -> impl IntoView {
    view! {
        <Title text="Fleet" />
        <AppShell>
            <div class="flex items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Fleet"</h1>
                    <p class="mt-1 text-sm text-slate-600">"The member clusters of this tenant."</p>
                </div>
            </div>
            <section
                aria-labelledby="empty-fleet"
                class="mt-8 rounded-lg border border-dashed border-slate-300 bg-white px-6 py-16 text-center"
            >
                <h2 id="empty-fleet" class="text-base font-semibold text-slate-900">
                    "No clusters registered yet"
                </h2>
                <p class="mx-auto mt-2 max-w-md text-sm text-slate-600">
                    "Registered clusters appear here with their health, Kubernetes version and labels; "
                    "workspaces and projects then select them by label."
                </p>
            </section>
        </AppShell>
    }
}
