use leptos::prelude::*;

use crate::AppError;

/// The message of `error` that concerns `field`, shown under that input.
#[component]
pub fn FieldError(#[prop(into)] error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.for_field(field));
    view! {
        <Show when=move || message().is_some()>
            <p id=format!("{field}-error") class="mt-1 text-sm text-red-700">
                {message}
            </p>
        </Show>
    }
}
