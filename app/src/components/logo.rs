use leptos::prelude::*;

/// Flotilla's mark: three hulls in formation.
#[component]
pub fn Logo(#[prop(default = "h-6 w-6")] class: &'static str) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 24 24" fill="none" aria-hidden="true">
            <path d="M3 15h18l-2.5 4h-13L3 15z" fill="currentColor" />
            <path d="M6 10h12l-1.8 3H7.8L6 10z" fill="currentColor" opacity="0.75" />
            <path d="M9 5h6l-1.2 3h-3.6L9 5z" fill="currentColor" opacity="0.5" />
        </svg>
    }
}
