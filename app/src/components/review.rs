use flotilla_domain::review::{ChangeKind, ClusterChange, DiffLine};
use leptos::prelude::*;

use crate::AppError;
use crate::components::ErrorAlert;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY};
use crate::model::Review;

/// The Review button of a form that adds something and, once reviewed, the review with the
/// button that applies exactly the input that was reviewed. `review` answers that input
/// with its review; errors about a field are the form's to show.
#[component]
pub fn ReviewStep<I>(
    review: Action<I, Result<(I, Review), AppError>>,
    /// Dispatches `review` with the form's input now.
    on_review: Callback<()>,
    #[prop(into)] stale: Signal<bool>,
    #[prop(into)] applying: Signal<bool>,
    /// The review's or the apply's error.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    apply_label: &'static str,
    on_apply: Callback<I>,
    /// Also keeps Review disabled (e.g. while the input does not parse).
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView
where
    I: Clone + Send + Sync + 'static,
{
    view! {
        <button type="button" class=format!("{BUTTON_SECONDARY} mt-4")
            disabled=move || review.pending().get() || disabled.get()
            on:click=move |_| on_review.run(())>
            {move || if review.pending().get() { "Reviewing…" } else { "Review" }}
        </button>
        <Show when=move || review.value().with(|r| matches!(r, Some(Err(e)) if e.is_form_level()))>
            <div class="mt-3"><ErrorAlert message=error.get().map(|e| e.to_string()).unwrap_or_default() /></div>
        </Show>
        {move || review.value().get().and_then(Result::ok).map(|(input, r)| view! {
            <ReviewPanel review=r stale applying error apply_label on_apply=move || on_apply.run(input.clone()) />
        })}
    }
}

/// A change reviewed, with the button that applies it. A review of input that has changed
/// since is marked stale and cannot be applied; errors that are not about a field show here.
#[component]
pub fn ReviewPanel(
    review: Review,
    #[prop(into)] stale: Signal<bool>,
    #[prop(into)] applying: Signal<bool>,
    #[prop(into)] error: Signal<Option<AppError>>,
    apply_label: &'static str,
    on_apply: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let form_error = move || error.get().filter(AppError::is_form_level).map(|e| e.to_string());
    view! {
        <div class="mt-4 border-t border-slate-200 pt-4">
            <h3 class="text-sm font-semibold">"Review"</h3>
            <Show when=move || stale.get()>
                <p class="mt-2 text-sm text-amber-800">"The input changed since this review: review it again before applying."</p>
            </Show>
            <div class="mt-2"><ReviewView review /></div>
            <Show when=move || form_error().is_some()>
                <div class="mt-3"><ErrorAlert message=form_error().unwrap_or_default() /></div>
            </Show>
            <button type="button" class=format!("{BUTTON_PRIMARY} mt-4") disabled=move || applying.get() || stale.get()
                on:click=move |_| on_apply()>
                {move || if applying.get() { "Applying…" } else { apply_label }}
            </button>
        </div>
    }
}

/// Names of clusters, shortened past a dozen.
fn cluster_list(clusters: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut text = clusters.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if clusters.len() > SHOWN {
        text.push_str(&format!(" and {} more", clusters.len() - SHOWN));
    }
    text
}

fn verb(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::Create => ("Created in", "text-emerald-800"),
        ChangeKind::Update => ("Changed in", "text-sky-800"),
        ChangeKind::Delete => ("Deleted from", "text-red-800"),
        ChangeKind::Unchanged => ("Unchanged in", "text-slate-600"),
    }
}

/// What a change does, cluster by cluster: one diff per group of clusters that see the same
/// change; unchanged clusters folded away. A change of several objects (an app install) has
/// groups per object; the summary counts each cluster once.
#[component]
pub fn ReviewView(review: Review) -> impl IntoView {
    let count = |kind: ChangeKind| -> usize {
        let clusters: std::collections::BTreeSet<&String> =
            review.changes.iter().filter(|c| c.kind == kind).flat_map(|c| &c.clusters).collect();
        clusters.len()
    };
    let summary = [
        (ChangeKind::Create, "created in"),
        (ChangeKind::Update, "changed in"),
        (ChangeKind::Delete, "deleted from"),
        (ChangeKind::Unchanged, "unchanged in"),
    ]
    .into_iter()
    .filter_map(|(kind, words)| {
        let n = count(kind);
        (n > 0).then(|| format!("{words} {n} cluster{}", if n == 1 { "" } else { "s" }))
    })
    .collect::<Vec<_>>()
    .join(", ");
    let (changed, unchanged): (Vec<ClusterChange>, Vec<ClusterChange>) =
        review.changes.into_iter().partition(|c| c.kind != ChangeKind::Unchanged);
    let unchanged: Vec<String> = unchanged.into_iter().flat_map(|c| c.clusters).collect();
    let nothing = changed.is_empty();
    view! {
        <div class="space-y-4" data-testid="review">
            <p class="text-sm font-medium text-slate-800" data-testid="review-summary">
                {if summary.is_empty() { "This change reaches no cluster.".to_owned() } else { format!("This change: {summary}.") }}
            </p>
            <Show when=move || nothing>
                <p class="text-sm text-slate-600">"Nothing would change in any cluster."</p>
            </Show>
            {changed.into_iter().map(|c| {
                let (words, colour) = verb(c.kind);
                view! {
                    <section class="overflow-hidden rounded-md border border-slate-200" data-testid="review-group" data-kind=format!("{:?}", c.kind)>
                        <h4 class=format!("bg-slate-50 px-3 py-2 text-sm font-medium {colour}")>
                            {format!("{words} {} cluster{}: ", c.clusters.len(), if c.clusters.len() == 1 { "" } else { "s" })}
                            <span class="font-mono font-normal" data-testid="review-clusters">{cluster_list(&c.clusters)}</span>
                        </h4>
                        <DiffView lines=c.diff />
                    </section>
                }
            }).collect_view()}
            {(!unchanged.is_empty()).then(|| view! {
                <details class="rounded-md border border-slate-200 px-3 py-2 text-sm text-slate-600" data-testid="review-unchanged">
                    <summary class="cursor-pointer">{format!("Unchanged in {} cluster{}", unchanged.len(), if unchanged.len() == 1 { "" } else { "s" })}</summary>
                    <p class="mt-2 font-mono text-xs">{unchanged.join(", ")}</p>
                </details>
            })}
        </div>
    }
}

/// A line diff: additions and removals marked by sign and colour, folds as a count.
#[component]
pub fn DiffView(lines: Vec<DiffLine>) -> impl IntoView {
    view! {
        <pre class="overflow-x-auto bg-white py-2 font-mono text-xs leading-5" data-testid="diff">
            {lines.into_iter().map(|line| match line {
                DiffLine::Same { text } => view! { <div class="px-3 text-slate-700">{format!("  {text}")}</div> }.into_any(),
                DiffLine::Added { text } => view! { <div class="bg-emerald-50 px-3 text-emerald-900" data-line="added">{format!("+ {text}")}</div> }.into_any(),
                DiffLine::Removed { text } => view! { <div class="bg-red-50 px-3 text-red-900" data-line="removed">{format!("- {text}")}</div> }.into_any(),
                DiffLine::Fold { count } => view! { <div class="px-3 italic text-slate-500">{format!("⋯ {count} unchanged line{}", if count == 1 { "" } else { "s" })}</div> }.into_any(),
            }).collect_view()}
        </pre>
    }
}
