use leptos::prelude::*;

/// Health as icon, colour and word (never colour alone); the reason on hover and focus.
#[component]
pub fn HealthBadge(health: String, reason: String) -> impl IntoView {
    let (class, icon) = match health.as_str() {
        "Ready" => ("bg-emerald-50 text-emerald-800 ring-emerald-600/20", "●"),
        "Offline" => ("bg-red-50 text-red-800 ring-red-600/20", "✕"),
        _ => ("bg-slate-100 text-slate-700 ring-slate-500/20", "?"),
    };
    let title = if reason.is_empty() { health.clone() } else { format!("{health}: {reason}") };
    view! {
        <span
            tabindex="0"
            title=title
            class=format!("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {class}")
        >
            <span aria-hidden="true">{icon}</span>
            {health}
        </span>
    }
}
