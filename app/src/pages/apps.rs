//! The Apps page: every app of the catalog, where it is installed across the tenant's fleet,
//! which versions run on how many clusters, and what each install can be upgraded to.

mod install_form;
pub(crate) mod server_fns;
mod upload;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::rollouts::UpgradeForm;
use crate::components::styles::BUTTON_SECONDARY;
use crate::components::{Allowed, AppShell, ErrorAlert};
use crate::model::AppFleet;
pub use install_form::InstallApp;
use server_fns::{get_app_fleet, remove_app_version};
use upload::AddVersion;

#[component]
pub fn AppsPage() -> impl IntoView {
    let fleet = Resource::new(|| (), |()| get_app_fleet());
    // `?upgrade=<install id>` (a project's "Upgrade to …" link): that install's upgrade form
    // opens with it chosen.
    let query = use_query_map();
    let asked = Signal::derive(move || query.read().get("upgrade").unwrap_or_default());
    view! {
        <Title text="Apps" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Apps"</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                "The app catalog and every install across your fleet. Install an app from a project's Apps tab \
                 (or a workspace's, for cluster-scoped apps)."
            </p>
            <Allowed allows=flotilla_domain::Access::is_tenant_admin>
                <AddVersion added=Callback::new(move |()| fleet.refetch()) />
            </Allowed>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading apps…"</p> }>
                {move || Suspend::new(async move {
                    match fleet.await {
                        Ok(apps) => view! {
                            <div class="mt-6 space-y-6">
                                {apps.into_iter().map(|app| view! {
                                    <AppCard app asked=asked.get_untracked() changed=Callback::new(move |()| fleet.refetch()) />
                                }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
        </AppShell>
    }
}

#[component]
fn AppCard(app: AppFleet, #[prop(into)] asked: String, changed: Callback<()>) -> impl IntoView {
    let summary = app.summary();
    let latest = app.versions.first().cloned().unwrap_or_default();
    let scope = match app.scope {
        flotilla_domain::catalog::AppScope::Project => "installed in projects",
        flotilla_domain::catalog::AppScope::Workspace => "installed in workspaces (cluster-scoped)",
    };
    let AppFleet { name, display_name, description, versions, choices, installs, .. } = app;
    // The upgrade form, open with these installs chosen (empty: every one with an upgrade).
    let asked = installs.iter().find(|i| i.id == asked && i.upgrade.is_some()).map(|i| vec![i.id.clone()]);
    let upgrading = RwSignal::new(asked);
    let upgradable = installs.iter().any(|i| i.upgrade.is_some());
    let own: Vec<(String, String)> =
        choices.iter().filter(|c| !c.builtin).map(|c| (c.id.clone(), c.version.clone())).collect();
    let form = {
        let (display_name, installs, choices) = (display_name.clone(), installs.clone(), choices);
        move || {
            upgrading.get().map(|preselect| {
                view! {
                    <UpgradeForm display_name=display_name.clone() installs=installs.clone() choices=choices.clone()
                        preselect close=move |()| upgrading.set(None) />
                }
            })
        }
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="app-card" data-app=name.clone()
            aria-labelledby=format!("app-{name}")>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id=format!("app-{name}") class="text-lg font-semibold">{display_name}</h2>
                <span class="text-xs text-slate-500">{format!("{scope} · versions {}", versions.join(", "))}</span>
            </div>
            <p class="mt-1 max-w-4xl text-sm text-slate-600">{description}</p>
            <div class="mt-3 flex flex-wrap items-center justify-between gap-2">
                <p class="text-sm font-medium text-slate-800" data-testid="app-summary">{summary}</p>
                {upgradable.then(|| view! {
                    <button type="button" class=BUTTON_SECONDARY data-testid="upgrade-all"
                        on:click=move |_| upgrading.set(Some(Vec::new()))>
                        "Upgrade installs…"
                    </button>
                })}
            </div>
            {form}
            {(!own.is_empty()).then(|| view! { <OwnVersions versions=own changed /> })}
            {(!installs.is_empty()).then(|| view! {
                <div class="mt-3 overflow-x-auto">
                    <table class="min-w-full divide-y divide-slate-200 text-sm">
                        <thead class="text-left text-xs font-semibold text-slate-600">
                            <tr>
                                <th scope="col" class="py-2 pr-4">"Install"</th>
                                <th scope="col" class="py-2 pr-4">"Where"</th>
                                <th scope="col" class="py-2 pr-4">"Version"</th>
                                <th scope="col" class="py-2 pr-4">"Clusters"</th>
                                <th scope="col" class="py-2">"Upgrade"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {installs.into_iter().map(|i| {
                                let is_latest = i.version == latest;
                                let id = i.id.clone();
                                view! {
                                    <tr data-testid="app-install">
                                        <td class="py-2 pr-4 font-medium">{i.name}</td>
                                        <td class="py-2 pr-4"><a class="text-sky-700 hover:underline" href=i.href>{i.place}</a></td>
                                        <td class="py-2 pr-4 tabular-nums">{i.version}</td>
                                        <td class="py-2 pr-4 tabular-nums">{i.clusters}</td>
                                        <td class="py-2 text-slate-600">
                                            {match i.upgrade {
                                                Some(v) => view! {
                                                    <button type="button" class="text-sky-700 hover:underline" data-testid="upgrade-one"
                                                        on:click=move |_| upgrading.set(Some(vec![id.clone()]))>
                                                        {format!("Upgrade to {v}…")}
                                                    </button>
                                                }.into_any(),
                                                None if is_latest => "latest".into_any(),
                                                None => "no upgrade path".into_any(),
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

/// The versions of an app the tenant added itself, each removable by a tenant admin while no
/// install runs it.
#[component]
fn OwnVersions(versions: Vec<(String, String)>, changed: Callback<()>) -> impl IntoView {
    let remove = Action::new(move |id: &String| {
        let id = id.clone();
        async move { remove_app_version(id).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            changed.run(());
        }
    });
    let error = move || remove.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <div class="mt-3 rounded-md bg-slate-50 px-3 py-2 text-sm" data-testid="own-versions">
            <span class="text-slate-600">"Added by your organisation: "</span>
            {versions.into_iter().map(|(id, version)| view! {
                <span class="mr-3 inline-flex items-center gap-1">
                    <span class="font-medium tabular-nums">{version.clone()}</span>
                    <Allowed allows=flotilla_domain::Access::is_tenant_admin>
                        <button type="button" class="text-xs text-red-700 hover:underline"
                            aria-label=format!("Remove version {version}")
                            disabled=move || remove.pending().get()
                            on:click={
                                let id = id.clone();
                                move |_| { remove.dispatch(id.clone()); }
                            }>
                            "Remove"
                        </button>
                    </Allowed>
                </span>
            }).collect_view()}
            {move || error().map(|message| view! { <div class="mt-2"><ErrorAlert message /></div> })}
        </div>
    }
}
