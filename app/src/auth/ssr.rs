//! Server-side helpers for the auth server functions and the server's login guard.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use flotilla_store::{AuditEntry, AuditOutcome};
use secrecy::SecretString;
use tower_sessions::Session;

use crate::AppError;
use crate::auth::SessionUser;
use crate::state::app_state;

/// Session keys.
pub const USER_ID: &str = "user_id";
pub const TENANT_ID: &str = "tenant_id";
pub const USERNAME: &str = "username";

/// The ids a session carries once its user has logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIds {
    pub user_id: String,
    pub tenant_id: String,
    pub username: String,
}

/// The request's session (the server installs the session layer).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session on the request");
        AppError::Internal
    })
}

/// The caller's address, for the audit log.
pub async fn client_ip() -> Option<String> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Who is logged in on `session`, if anyone.
pub async fn session_user_ids(session: &Session) -> Option<SessionIds> {
    let user_id = session.get::<String>(USER_ID).await.ok().flatten()?;
    let tenant_id = session.get::<String>(TENANT_ID).await.ok().flatten()?;
    let username = session.get::<String>(USERNAME).await.ok().flatten().unwrap_or_default();
    Some(SessionIds { user_id, tenant_id, username })
}

/// The logged-in caller, or [`AppError::Unauthenticated`]: the first line of every server
/// function that needs a user.
pub async fn require_user() -> Result<SessionIds, AppError> {
    let session = session().await?;
    session_user_ids(&session).await.ok_or(AppError::Unauthenticated)
}

/// The caller as the author of a change (revisions and the audit log name them).
pub fn actor(user: &SessionIds) -> flotilla_store::Actor {
    flotilla_store::Actor::user(&user.user_id, &user.username)
}

/// Binds `session` to `user` under a new session id (no session fixation).
pub async fn start_session(session: &Session, user: &flotilla_store::User) -> Result<(), AppError> {
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "could not start the session");
        AppError::Internal
    };
    session.cycle_id().await.map_err(fail)?;
    session.insert(USER_ID, &user.id).await.map_err(fail)?;
    session.insert(TENANT_ID, &user.tenant_id).await.map_err(fail)?;
    session.insert(USERNAME, &user.username).await.map_err(fail)?;
    Ok(())
}

/// `next` if it is a path on this site, else `/` (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains("://") => {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn login(tenant: String, username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = app_state()?;
    let session = session().await?;
    let attempt = flotilla_store::LoginAttempt {
        tenant: if tenant.is_empty() { flotilla_domain::TenantSlug::DEFAULT.to_owned() } else { tenant },
        username,
        password: SecretString::from(password),
        source_ip: client_ip().await,
    };
    let user = state.store.login_local(attempt).await?;
    start_session(&session, &user).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

pub async fn logout() -> Result<(), AppError> {
    let state = app_state()?;
    let session = session().await?;
    if let Some(user) = session_user_ids(&session).await {
        let entry = AuditEntry::new(&user.tenant_id, &user.username, "logout", AuditOutcome::Ok)
            .actor_id(&user.user_id)
            .source_ip(client_ip().await);
        state.store.record_audit(&entry).await?;
    }
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "could not end the session");
        AppError::Internal
    })?;
    leptos_axum::redirect("/login");
    Ok(())
}

pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let state = app_state()?;
    let session = session().await?;
    let Some(ids) = session_user_ids(&session).await else {
        return Ok(None);
    };
    let Some(user) = state.store.active_user(&ids.tenant_id, &ids.user_id).await? else {
        return Ok(None);
    };
    let tenant = state.store.tenant_by_id(&user.tenant_id).await?.ok_or(AppError::Unauthenticated)?;
    let roles = state.store.role_names(&user.tenant_id, &user.id).await?;
    Ok(Some(SessionUser { username: user.username, display_name: user.display_name, tenant: tenant.slug, roles }))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next(Some("/workspaces?x=1")), "/workspaces?x=1");
        for outside in ["//evil.example", "https://evil.example/", "/\\evil.example", "evil", ""] {
            assert_eq!(safe_next(Some(outside)), "/", "{outside}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
