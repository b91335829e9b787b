//! Who is logged in: local login, logout and the current user, as server functions.
//! Their bodies live in [`ssr`]; each answers errors with the matching HTTP status.

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The logged-in user as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub username: String,
    pub display_name: String,
    pub tenant: String,
    pub roles: Vec<String>,
    /// What the roles allow, so pages offer only that (the server checks every call anyway).
    pub access: flotilla_domain::Access,
}

/// Checks a local username and password; on success starts a session (new session id) and
/// sends the browser to `next` (a path on this site) or the fleet page.
#[server(endpoint = "auth/login")]
pub async fn login(tenant: String, username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    crate::error::with_status(ssr::login(tenant, username, password, next).await)
}

/// Ends the session and sends the browser to the login page.
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::error::with_status(ssr::logout().await)
}

/// Changes the caller's password (a local account's), if `current_password` is theirs; their
/// other sessions end.
#[server(endpoint = "auth/change-password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::change_password(current_password, new_password).await)
}

/// The logged-in user, or `None`.
#[server(endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    crate::error::with_status(ssr::current_user().await)
}
