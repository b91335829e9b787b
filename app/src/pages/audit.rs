pub(crate) mod server_fns;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY, INPUT};
use crate::components::{AppShell, ErrorAlert};
use crate::model::{ACTIONS, AuditPage, AuditRow};
use server_fns::search_audit;

/// The audit log: who did what to which object and how it ended, newest first. The filters
/// live in the address (a link to a filtered log can be shared); older entries load on
/// request.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read().get(key).unwrap_or_default();
    let filters = move || (get("actor"), get("action"), get("target"), get("outcome"));
    let page =
        Resource::new(filters, |(actor, action, target, outcome)| search_audit(actor, action, target, outcome, None));
    let any_filter = move || {
        let (a, b, c, d) = filters();
        [a, b, c, d].iter().any(|f| !f.is_empty())
    };

    view! {
        <Title text="Audit log" />
        <AppShell>
            <h1 class="text-2xl font-semibold tracking-tight">"Audit log"</h1>
            <p class="mt-1 text-sm text-slate-600">"Every change and login in this tenant: who, what, when, and how it ended."</p>
            <Form method="GET" action="/audit" attr:class="mt-6 grid gap-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:grid-cols-2 lg:grid-cols-5" attr:aria-label="Filter the audit log">
                <div>
                    <label for="audit-actor" class="block text-sm font-medium text-slate-700">"Who"</label>
                    <input id="audit-actor" name="actor" autocomplete="off" placeholder="username" class=INPUT prop:value=move || get("actor") />
                </div>
                <div>
                    <label for="audit-action" class="block text-sm font-medium text-slate-700">"What"</label>
                    <select id="audit-action" name="action" class=INPUT>
                        <option value="" selected=move || get("action").is_empty()>"Anything"</option>
                        {ACTIONS.iter().copied().map(|a| {
                            // A kind (every action on it) is followed by its actions.
                            let kind = ACTIONS.iter().any(|b| b.strip_prefix(a).is_some_and(|rest| rest.starts_with('.')));
                            let label = if kind { format!("{a} (all)") } else { a.to_owned() };
                            view! { <option value=a selected=move || get("action") == a>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="audit-target" class="block text-sm font-medium text-slate-700">"Target"</label>
                    <input id="audit-target" name="target" type="search" autocomplete="off" placeholder="name contains" class=INPUT prop:value=move || get("target") />
                </div>
                <div>
                    <label for="audit-outcome" class="block text-sm font-medium text-slate-700">"Outcome"</label>
                    <select id="audit-outcome" name="outcome" class=INPUT>
                        {[("", "Any"), ("ok", "ok"), ("denied", "denied"), ("failed", "failed")].into_iter().map(|(v, label)| view! {
                            <option value=v selected=move || get("outcome") == v>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="flex items-end gap-2">
                    <button type="submit" class=BUTTON_PRIMARY>"Filter"</button>
                    <Show when=any_filter>
                        <a href="/audit" class=BUTTON_SECONDARY>"Clear"</a>
                    </Show>
                </div>
            </Form>
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading the log…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) if p.rows.is_empty() => view! {
                            <p class="mt-6 rounded-md border border-dashed border-slate-300 p-6 text-sm text-slate-600">
                                "No entries match. Loosen the filters, or Clear them."
                            </p>
                        }.into_any(),
                        Ok(p) => view! { <AuditTable first=p filters=filters() /> }.into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorAlert message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </AppShell>
    }
}

#[component]
fn AuditTable(first: AuditPage, filters: (String, String, String, String)) -> impl IntoView {
    let rows = RwSignal::new(first.rows);
    let more = RwSignal::new(first.more);
    let older = Action::new(move |before: &String| {
        let (actor, action, target, outcome) = filters.clone();
        search_audit(actor, action, target, outcome, Some(before.clone()))
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = older.value().get() {
            rows.update(|r| r.extend(page.rows));
            more.set(page.more);
        }
    });
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="audit-log">
                <thead class="bg-slate-50 text-left text-xs font-semibold text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"When"</th>
                        <th scope="col" class="px-4 py-3">"Who"</th>
                        <th scope="col" class="px-4 py-3">"What"</th>
                        <th scope="col" class="px-4 py-3">"Target"</th>
                        <th scope="col" class="px-4 py-3">"Outcome"</th>
                        <th scope="col" class="px-4 py-3">"Detail"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    <For each=move || rows.get() key=|r| r.id.clone() let:r>
                        <Entry r />
                    </For>
                </tbody>
            </table>
        </div>
        {move || older.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
        <Show when=move || more.get()>
            <button type="button" class=format!("{BUTTON_SECONDARY} mt-4") disabled=move || older.pending().get()
                on:click=move |_| {
                    if let Some(last) = rows.with(|r| r.last().map(|r| r.id.clone())) {
                        older.dispatch(last);
                    }
                }>
                {move || if older.pending().get() { "Loading…" } else { "Show older entries" }}
            </button>
        </Show>
    }
}

#[component]
fn Entry(r: AuditRow) -> impl IntoView {
    let outcome_class = match r.outcome.as_str() {
        "ok" => "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
        "denied" => "bg-amber-50 text-amber-800 ring-amber-600/20",
        _ => "bg-red-50 text-red-800 ring-red-600/20",
    };
    let target =
        if r.target_kind.is_empty() { r.target_name.clone() } else { format!("{} {}", r.target_kind, r.target_name) };
    view! {
        <tr data-testid="audit-row">
            <td class="whitespace-nowrap px-4 py-2 text-xs text-slate-600">{r.at}</td>
            <td class="px-4 py-2">{r.actor}</td>
            <td class="px-4 py-2 font-mono text-xs">{r.action}</td>
            <td class="px-4 py-2">
                {match r.link {
                    Some(href) => view! { <a href=href class="text-sky-700 hover:underline">{target}</a> }.into_any(),
                    None => view! { <span>{target}</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-2">
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {outcome_class}")>{r.outcome}</span>
            </td>
            <td class="px-4 py-2 font-mono text-xs text-slate-600">{r.detail}</td>
        </tr>
    }
}
