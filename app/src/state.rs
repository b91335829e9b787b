//! What server functions reach on the server: one state, provided as context.

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::AppError;

/// Shared server state, built once at start-up by the server crate.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: flotilla_store::Store,
    /// The sync engine: its status stream feeds the live dashboard.
    pub engine: flotilla_engine::EngineHandle,
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function's context");
        AppError::Internal
    })
}
