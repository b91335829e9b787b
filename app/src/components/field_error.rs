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

/// A labelled form control (the children) with its field's error under it.
#[component]
pub fn Field(
    /// The control's id.
    id: &'static str,
    label: &'static str,
    /// The server function argument the control sends (errors are matched by it).
    field: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            {children()}
            <FieldError error field />
        </div>
    }
}

/// An error that concerns the whole page or form.
#[component]
pub fn ErrorAlert(#[prop(into)] message: String) -> impl IntoView {
    view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{message}</p> }
}

/// What of `error` concerns the form as a whole (no field shows it), as an alert.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.get().filter(AppError::is_form_level).map(|e| e.to_string());
    view! {
        <Show when=move || message().is_some()>
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{message}</p>
        </Show>
    }
}
