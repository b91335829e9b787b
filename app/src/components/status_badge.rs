use leptos::prelude::*;

use crate::model::StatusView;

/// How a propagation code reads: its category (for summaries), icon and colours. Never
/// colour alone.
pub fn look(code: &str) -> (&'static str, &'static str, &'static str) {
    match code {
        "Synced" => ("Synced", "✓", "bg-emerald-50 text-emerald-800 ring-emerald-600/20"),
        "ClusterNotReady" => ("Offline", "⚠", "bg-slate-100 text-slate-700 ring-slate-500/30"),
        "Pending" | "WaitingForRemoval" | "WaitingForDependency" => {
            ("Progressing", "◷", "bg-sky-50 text-sky-800 ring-sky-600/20")
        }
        _ => ("Failed", "✕", "bg-red-50 text-red-800 ring-red-600/20"),
    }
}

/// A status as code, icon and text (never colour alone), the message on hover and focus; a
/// workload's health on a line of its own under it. Neither line wraps (a narrow matrix
/// column would otherwise break `Healthy 3/3` apart).
#[component]
pub fn StatusBadge(s: StatusView) -> impl IntoView {
    let (_, icon, class) = look(&s.code);
    let title = if s.message.is_empty() { s.code.clone() } else { format!("{}: {}", s.code, s.message) };
    view! {
        <span tabindex="0" title=title data-code=s.code.clone() class="inline-flex flex-col items-start gap-0.5 whitespace-nowrap">
            <span class=format!("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {class}")>
                <span aria-hidden="true">{icon}</span>
                {s.code.clone()}
            </span>
            {s.health.clone().map(|h| view! { <span class="px-2 text-xs text-slate-700" data-testid="health">{h}</span> })}
        </span>
    }
}
