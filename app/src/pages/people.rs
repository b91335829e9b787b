pub(crate) mod server_fns;

use leptos::prelude::*;
use leptos_meta::Title;

use super::tenant::Rules;
use super::tenant::server_fns::{AddGroupMapping, RemoveGroupMapping};
use crate::components::styles::BUTTON_SECONDARY;
use crate::components::{AppShell, ErrorAlert};
use crate::model::PersonRow;
use server_fns::{SetPersonDisabled, list_people, own_rules};

/// The tenant admin's list of the tenant's people, with their roles, and disabling.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let toggle = ServerAction::<SetPersonDisabled>::new();
    let people = Resource::new(move || toggle.version().get(), |_| list_people());
    let error = move || toggle.value().get().and_then(Result::err);
    let (add_rule, remove_rule) = (ServerAction::<AddGroupMapping>::new(), ServerAction::<RemoveGroupMapping>::new());
    // After a rule changes, the rules; a refused one keeps the form as typed.
    let rules_changed = RwSignal::new(0u32);
    Effect::new(move |_| {
        // Both read every time, so that both stay tracked (`||` would skip the second).
        let (added, removed) = (add_rule.value().get(), remove_rule.value().get());
        if matches!(added, Some(Ok(()))) || matches!(removed, Some(Ok(()))) {
            rules_changed.update(|n| *n += 1);
        }
    });
    let rules = Resource::new(move || rules_changed.get(), |_| own_rules());

    view! {
        <Title text="People" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"People"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Everyone who has logged in to this tenant, or has a local account. Roles from the provider's groups are refreshed at each login; "
                "a disabled person's sessions end at once and they cannot log in until enabled again."
            </p>
            {move || error().map(|e| view! { <div class="mt-4"><ErrorAlert message=e.to_string() /></div> })}
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading people…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(rows) => view! { <PeopleTable rows toggle /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(r) if r.has_provider => view! {
                            <Rules id=r.tenant_id mappings=r.mappings scopes=r.scopes add=add_rule remove=remove_rule />
                        }.into_any(),
                        Ok(_) => view! {
                            <p class="mt-6 text-sm text-slate-600">
                                "This tenant logs in with local accounts. Once the platform admin gives it an OpenID Provider, its groups can be given roles here."
                            </p>
                        }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Transition>
        </AppShell>
    }
}

#[component]
fn PeopleTable(rows: Vec<PersonRow>, toggle: ServerAction<SetPersonDisabled>) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" aria-label="People">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Person"</th>
                        <th scope="col" class="px-4 py-3">"Logs in with"</th>
                        <th scope="col" class="px-4 py-3">"Roles"</th>
                        <th scope="col" class="px-4 py-3">"Last login"</th>
                        <th scope="col" class="px-4 py-3">"Status"</th>
                        <th scope="col" class="px-4 py-3"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|p| person_row(p, toggle)).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn person_row(p: PersonRow, toggle: ServerAction<SetPersonDisabled>) -> impl IntoView {
    let PersonRow { id, username, display_name, email, oidc, service, disabled, last_login_at, roles, can_disable } = p;
    let (action, verb) = if disabled { (false, "Enable") } else { (true, "Disable") };
    let (label, row_name) = (format!("{verb} {username}"), username.clone());
    view! {
        <tr data-testid="person" data-username=row_name>
            <td class="px-4 py-3">
                <div class="font-medium text-slate-900">{display_name}</div>
                <div class="font-mono text-xs text-slate-500">{username}</div>
                {email.map(|e| view! { <div class="text-xs text-slate-500">{e}</div> })}
            </td>
            <td class="px-4 py-3 text-slate-700">{match (service, oidc) {
                (true, _) => "API tokens (a service account)",
                (false, true) => "the tenant's provider",
                (false, false) => "a password",
            }}</td>
            <td class="px-4 py-3 text-slate-700">
                {if roles.is_empty() {
                    view! { <span class="text-slate-500">"none"</span> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-0.5">
                            {roles.into_iter().map(|r| view! {
                                <li>
                                    {r.role.label()}
                                    {(!r.scope.is_empty()).then(|| view! { " on " <span class="font-mono text-xs">{r.scope}</span> })}
                                    {r.from_groups.then(|| view! { " " <span class="text-xs text-slate-500" title="From the groups of their last login">"(groups)"</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
            <td class="px-4 py-3 tabular-nums text-slate-700">
                {last_login_at.map(crate::time::utc).unwrap_or_else(|| "never".to_owned())}
            </td>
            <td class="px-4 py-3" data-testid="person-status">
                {if disabled {
                    view! { <span class="rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-800 ring-1 ring-inset ring-red-200">"Disabled"</span> }.into_any()
                } else {
                    view! { <span class="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-inset ring-emerald-200">"Active"</span> }.into_any()
                }}
            </td>
            <td class="px-4 py-3 text-right">
                {(can_disable || disabled).then(|| view! {
                    <button type="button" class=BUTTON_SECONDARY aria-label=label disabled=toggle.pending()
                        on:click=move |_| { toggle.dispatch(SetPersonDisabled { id: id.clone(), disabled: action }); }>
                        {verb}
                    </button>
                })}
            </td>
        </tr>
    }
}
