//! The History tab: revisions with author and time, compare any two, revert to one.

use leptos::prelude::*;

use super::server_fns::{compare_revisions, get_history, revert_resource, review_revert};
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY};
use crate::components::{DiffView, ErrorAlert, ReviewView};
use crate::model::{ResourceDetail, RevisionView};

use super::PageState;

/// Revisions with author and time; compare any two; revert to one (reviewed first).
#[component]
pub(super) fn History(d: ResourceDetail, page: PageState) -> impl IntoView {
    let id = d.id.clone();
    let current = d.revision;
    let version = d.version;
    let revisions = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_history,
    );
    let from = RwSignal::new((current - 1).max(1));
    let to = RwSignal::new(current);
    let compare = {
        let id = id.clone();
        Action::new(move |&(a, b): &(i64, i64)| {
            let id = id.clone();
            async move { compare_revisions(id, a, b).await.map(|lines| (a, b, lines)) }
        })
    };
    let revert_review = {
        let id = id.clone();
        Action::new(move |&rev: &i64| {
            let id = id.clone();
            async move { review_revert(id, rev).await.map(|r| (rev, r)) }
        })
    };
    let revert = {
        let id = id.clone();
        Action::new(move |rev: &i64| revert_resource(id.clone(), version, *rev))
    };
    Effect::new(move |_| {
        if let Some(Ok(rev)) = revert.value().get() {
            page.applied(format!("Reverted as revision {rev}: its rollout shows below."));
        }
    });
    // The project's own namespace cannot be reverted; a viewer may not revert anything.
    let locked = d.locked.is_some() || !d.level.can_edit();

    view! {
        <div class="grid gap-6 xl:grid-cols-2">
            <section aria-labelledby="revisions" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <h2 id="revisions" class="text-base font-semibold">"Revisions"</h2>
                <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match revisions.await {
                            Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                            Ok(rows) => view! {
                                <table class="mt-3 min-w-full text-sm" data-testid="revisions">
                                    <thead class="text-left text-xs font-semibold text-slate-600">
                                        <tr>
                                            <th scope="col" class="py-2 pr-3">"Revision"</th>
                                            <th scope="col" class="py-2 pr-3">"By"</th>
                                            <th scope="col" class="py-2 pr-3">"When"</th>
                                            <th scope="col" class="py-2 pr-3">"From"</th>
                                            <th scope="col" class="py-2 pr-3">"To"</th>
                                            <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {rows.into_iter().map(|r: RevisionView| {
                                            let rev = r.revision;
                                            view! {
                                                <tr data-testid="revision" data-revision=rev>
                                                    <td class="py-2 pr-3">
                                                        <span class="font-medium">{rev}</span>
                                                        <span class="ml-2 text-xs text-slate-500">{r.message.clone()}</span>
                                                        {(rev == current).then(|| view! { <span class="ml-2 rounded bg-sky-50 px-1.5 text-xs text-sky-800">"current"</span> })}
                                                    </td>
                                                    <td class="py-2 pr-3">{r.author.clone()}</td>
                                                    <td class="py-2 pr-3 text-xs text-slate-600">{r.at.clone()}</td>
                                                    <td class="py-2 pr-3">
                                                        <input type="radio" name="compare-from" aria-label=format!("Compare from revision {rev}")
                                                            prop:checked=move || from.get() == rev on:change=move |_| from.set(rev) />
                                                    </td>
                                                    <td class="py-2 pr-3">
                                                        <input type="radio" name="compare-to" aria-label=format!("Compare to revision {rev}")
                                                            prop:checked=move || to.get() == rev on:change=move |_| to.set(rev) />
                                                    </td>
                                                    <td class="py-2 text-right">
                                                        {(rev != current && !locked).then(|| view! {
                                                            <button type="button" class=BUTTON_SECONDARY
                                                                on:click=move |_| { revert.value().set(None); revert_review.dispatch(rev); }>
                                                                {format!("Revert to {rev}")}
                                                            </button>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <button type="button" class=format!("{BUTTON_SECONDARY} mt-4")
                                    disabled=move || from.get() == to.get()
                                    on:click=move |_| { compare.dispatch((from.get(), to.get())); }>
                                    {move || format!("Compare {} → {}", from.get(), to.get())}
                                </button>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <div class="space-y-6">
                {move || compare.value().get().map(|result| match result {
                    Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                    Ok((a, b, lines)) => {
                        view! {
                            <section aria-labelledby="comparison" class="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
                                <h2 id="comparison" class="bg-slate-50 px-4 py-2 text-sm font-semibold">{format!("Revision {a} → {b}")}</h2>
                                {if lines.is_empty() {
                                    view! { <p class="px-4 py-3 text-sm text-slate-600">"The two revisions are the same."</p> }.into_any()
                                } else {
                                    view! { <DiffView lines /> }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                })}
                {move || revert_review.value().get().map(|result| match result {
                    Err(e) => view! { <ErrorAlert message=e.to_string() /> }.into_any(),
                    Ok((rev, review)) => {
                        view! {
                            <section aria-labelledby="revert-review" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                                <h2 id="revert-review" class="text-base font-semibold">{format!("Revert to revision {rev}")}</h2>
                                <p class="mt-1 text-xs text-slate-500">"Reverting makes a new revision equal to that one."</p>
                                <div class="mt-3"><ReviewView review /></div>
                                {move || revert.value().get().and_then(Result::err).map(|e| view! { <div class="mt-3"><ErrorAlert message=e.to_string() /></div> })}
                                <button type="button" class=format!("{BUTTON_PRIMARY} mt-4") disabled=move || revert.pending().get()
                                    on:click=move |_| { revert.dispatch(rev); }>
                                    {move || if revert.pending().get() { "Reverting…".to_owned() } else { format!("Apply revert to {rev}") }}
                                </button>
                            </section>
                        }.into_any()
                    }
                })}
            </div>
        </div>
    }
}
