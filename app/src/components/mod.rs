mod app_shell;
mod field_error;
mod health_badge;
mod logo;
mod removal;
mod review;
mod role_picker;
mod selector_editor;
mod status_badge;
pub mod styles;

pub use app_shell::{Allowed, AppShell};
pub use field_error::{ErrorAlert, Field, FieldError, FormAlert};
pub use health_badge::HealthBadge;
pub use logo::Logo;
pub use removal::RemovalPanel;
pub use review::{DiffView, ReviewStep, ReviewView};
pub use role_picker::RolePicker;
pub use selector_editor::EditSelector;
pub use status_badge::{StatusBadge, look};

/// The file chosen in the `<input type="file">` an event came from, if any.
#[cfg(feature = "hydrate")]
pub(crate) fn chosen_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
}
