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
    /// The HTTP client for tenants' OpenID Providers.
    pub oidc: flotilla_oidc::Oidc,
    /// Where the hub may connect: checked when a cluster or provider is saved, and again by
    /// the engine and the OIDC client on every connection.
    pub outbound: std::sync::Arc<flotilla_outbound::OutboundPolicy>,
    pub auth: AuthSettings,
}

/// How logins and sessions behave.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Where browsers reach Flotilla, e.g. `https://flotilla.example.com` (no trailing slash):
    /// providers send users back to `<public_url>/t/<tenant>/callback`.
    pub public_url: String,
    /// A session ends this long after its login, however active it is.
    pub session_max_age: std::time::Duration,
    /// Cookies are marked `Secure` (served over https).
    pub secure_cookies: bool,
}

impl AuthSettings {
    /// The redirect URI to register at tenant `slug`'s provider.
    pub fn callback_url(&self, slug: &str) -> String {
        format!("{}/t/{slug}/callback", self.public_url)
    }

    /// Where tenant `slug`'s provider sends the browser after logging out there (to register
    /// at the provider as a post-logout redirect URI).
    pub fn post_logout_url(&self, slug: &str) -> String {
        format!("{}/login?tenant={slug}", self.public_url)
    }
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function's context");
        AppError::Internal
    })
}
