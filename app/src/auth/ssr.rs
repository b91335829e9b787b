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
/// When the session ends however active it is (ms since the epoch).
pub const ENDS_AT: &str = "ends_at";
/// The ID token of an OpenID Connect login, sent back to the provider at logout.
pub const ID_TOKEN: &str = "oidc_id_token";

/// The ids a session carries once its user has logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIds {
    pub user_id: String,
    pub tenant_id: String,
    pub username: String,
}

/// A request the server's REST API authenticated with an API token: it acts as the token's
/// user with at most the token's access. The API layer puts it in the request's extensions
/// after checking the `Authorization` header; server functions never read that header
/// themselves, so a token reaches no more than the API routes that call them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCaller {
    pub user: SessionIds,
    pub access: flotilla_domain::Level,
}

impl TokenCaller {
    /// Who `principal` acts as; the audit log names the token beside its user.
    pub fn of(principal: flotilla_store::TokenPrincipal) -> Self {
        TokenCaller {
            user: SessionIds {
                username: format!("{} (token {})", principal.username, principal.token_name),
                user_id: principal.user_id,
                tenant_id: principal.tenant_id,
            },
            access: principal.access,
        }
    }
}

/// The token the API layer authenticated this request with, if it did.
fn token_caller() -> Option<TokenCaller> {
    leptos::prelude::use_context::<http::request::Parts>()?.extensions.get::<TokenCaller>().cloned()
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

/// Who is logged in on `session`, if anyone: nobody once the session's absolute lifetime
/// has passed.
/// When the session ends however active it is (its absolute lifetime), in ms since the epoch.
pub async fn session_ends_at(session: &Session) -> Option<i64> {
    session.get::<i64>(ENDS_AT).await.ok().flatten()
}

pub async fn session_user_ids(session: &Session) -> Option<SessionIds> {
    let ends_at = session.get::<i64>(ENDS_AT).await.ok().flatten()?;
    if flotilla_store::now_ms() >= ends_at {
        return None;
    }
    let user_id = session.get::<String>(USER_ID).await.ok().flatten()?;
    let tenant_id = session.get::<String>(TENANT_ID).await.ok().flatten()?;
    let username = session.get::<String>(USERNAME).await.ok().flatten().unwrap_or_default();
    Some(SessionIds { user_id, tenant_id, username })
}

/// The user logged in with the browser session, or [`AppError::Unauthenticated`] (API
/// tokens do not count here).
pub async fn require_session_user() -> Result<SessionIds, AppError> {
    let session = session().await?;
    session_user_ids(&session).await.ok_or(AppError::Unauthenticated)
}

/// The logged-in caller and what their roles allow (read once per request).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: SessionIds,
    pub access: flotilla_domain::Access,
}

impl std::ops::Deref for Caller {
    type Target = SessionIds;

    fn deref(&self) -> &SessionIds {
        &self.user
    }
}

/// The logged-in caller with their roles, or [`AppError::Unauthenticated`]: the first line
/// of every server function that needs a user.
/// A disabled user's session counts for nothing, whenever they were disabled.
pub async fn require_caller() -> Result<Caller, AppError> {
    let token = token_caller();
    let user = match &token {
        Some(token) => token.user.clone(),
        None => require_session_user().await?,
    };
    let grants =
        app_state()?.store.active_grants(&user.tenant_id, &user.user_id).await?.ok_or(AppError::Unauthenticated)?;
    let access = flotilla_domain::Access::from_grants(&grants);
    let access = match token {
        Some(token) => access.capped(token.access),
        None => access,
    };
    Ok(Caller { access, user })
}

/// [`require_caller`] for what only a person logged in to the dashboard may do.
pub async fn require_session_caller() -> Result<Caller, AppError> {
    if token_caller().is_some() {
        return Err(AppError::Forbidden("API tokens cannot manage tokens; use the dashboard.".into()));
    }
    require_caller().await
}

impl Caller {
    /// Fleet changes, new workspaces, the audit log: the tenant admin's.
    pub fn require_tenant_admin(&self) -> Result<(), AppError> {
        if self.access.is_tenant_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only a tenant admin may do that.".into()))
        }
    }

    /// How far the caller reaches with `level` on a workspace or project, as the policy of
    /// what may reach member clusters weighs it (`flotilla_domain::policy`).
    pub fn clearance(&self, level: flotilla_domain::Level) -> Result<flotilla_domain::Clearance, AppError> {
        flotilla_domain::Clearance::of(level, self.access.is_tenant_admin())
            .ok_or_else(|| AppError::Forbidden("Viewers cannot change anything.".into()))
    }

    /// The caller's level on workspace `workspace_id` (or, with `project_id`, that project of
    /// it), which must be at least `need`. Without any role there the workspace or project is
    /// [`AppError::NotFound`], as another tenant's would be: its existence does not leak.
    pub fn require_level(
        &self,
        workspace_id: &str,
        project_id: Option<&str>,
        need: flotilla_domain::Level,
    ) -> Result<flotilla_domain::Level, AppError> {
        use flotilla_domain::Level;
        let (level, what) = match project_id {
            Some(p) => (self.access.project(p, workspace_id), "project"),
            None => (self.access.workspace(workspace_id), "workspace"),
        };
        let level = level.ok_or(AppError::NotFound)?;
        if level >= need {
            return Ok(level);
        }
        let may = match level {
            Level::View => "only view",
            Level::Edit => "change the resources of",
            Level::Admin => "do anything with",
        };
        Err(AppError::Forbidden(format!("Your role lets you {may} this {what}.")))
    }
}

/// The caller as the author of a change (revisions and the audit log name them).
pub fn actor(user: &SessionIds) -> flotilla_store::Actor {
    flotilla_store::Actor::user(&user.user_id, &user.username)
}

/// Binds `session` to `user` under a new session id (no session fixation), for at most
/// `max_age`. Whatever the session held before (a pending login) is dropped.
pub async fn start_session(
    session: &Session,
    user: &flotilla_store::User,
    max_age: std::time::Duration,
) -> Result<(), AppError> {
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "could not start the session");
        AppError::Internal
    };
    session.clear().await;
    session.cycle_id().await.map_err(fail)?;
    let ends_at = flotilla_store::now_ms().saturating_add(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX));
    session.insert(ENDS_AT, ends_at).await.map_err(fail)?;
    session.insert(USER_ID, &user.id).await.map_err(fail)?;
    session.insert(TENANT_ID, &user.tenant_id).await.map_err(fail)?;
    session.insert(USERNAME, &user.username).await.map_err(fail)?;
    Ok(())
}

/// `next` if it is a path on this site, else `/` (no open redirects; the rule is
/// `flotilla_domain::redirect`).
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(flotilla_domain::redirect::local_path).unwrap_or("/").to_owned()
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
    start_session(&session, &user, state.auth.session_max_age).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    let caller = require_caller().await?;
    let session = session().await?;
    let keep = session.id().map(|id| id.to_string()).unwrap_or_default();
    let store = app_state()?.store;
    let (current, new) = (SecretString::from(current), SecretString::from(new));
    Ok(store.change_password(&caller.tenant_id, &caller.user_id, &current, &new, &keep).await?)
}

/// Ends the session; a user who logged in through their tenant's provider is then sent to
/// the provider's end-session endpoint (when it has one) to log out there too.
pub async fn logout() -> Result<(), AppError> {
    let state = app_state()?;
    let session = session().await?;
    let user = session_user_ids(&session).await;
    let id_token = session.get::<String>(ID_TOKEN).await.ok().flatten();
    if let Some(user) = &user {
        let entry = AuditEntry::new(&user.tenant_id, &user.username, "logout", AuditOutcome::Ok)
            .actor_id(&user.user_id)
            .source_ip(client_ip().await);
        state.store.record_audit(&entry).await?;
    }
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "could not end the session");
        AppError::Internal
    })?;
    let target = match (user, id_token) {
        (Some(user), Some(id_token)) => provider_logout_url(&state, &user.tenant_id, &id_token).await,
        _ => None,
    };
    leptos_axum::redirect(target.as_deref().unwrap_or("/login"));
    Ok(())
}

/// The tenant's provider's end-session URL, bringing the browser back to our login page.
/// `None` when the tenant has no provider, it has no such endpoint, or it cannot be reached
/// (the Flotilla session has ended either way).
async fn provider_logout_url(state: &crate::state::AppState, tenant_id: &str, id_token: &str) -> Option<String> {
    let slug = state.store.tenant_by_id(tenant_id).await.ok().flatten()?.slug;
    let provider = match tenant_provider(state, tenant_id).await {
        Ok(provider) => provider?,
        Err(reason) => {
            tracing::warn!(%reason, "could not reach the provider to log out there");
            return None;
        }
    };
    provider.end_session_url(Some(id_token), &state.auth.post_logout_url(&slug))
}

/// Tenant `tenant_id`'s provider, discovered now; `Ok(None)` when the tenant has none (local
/// accounts only). The error says why it cannot be used.
pub async fn tenant_provider(
    state: &crate::state::AppState,
    tenant_id: &str,
) -> Result<Option<flotilla_oidc::Provider>, String> {
    let Some(settings) = state.store.tenant_oidc(tenant_id).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    state.oidc.discover(&provider_settings(&settings)).await.map(Some).map_err(|e| e.to_string())
}

/// A tenant's stored provider settings as the OIDC client takes them.
pub fn provider_settings(settings: &flotilla_store::OidcSettings) -> flotilla_oidc::ProviderSettings {
    flotilla_oidc::ProviderSettings {
        issuer: settings.issuer_url.clone(),
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
        scopes: settings.scope_list(),
        groups_claim: settings.groups_claim.clone(),
    }
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
    let access = flotilla_domain::Access::from_grants(&state.store.grants(&user.tenant_id, &user.id).await?);
    Ok(Some(SessionUser {
        username: user.username,
        display_name: user.display_name,
        tenant: tenant.slug,
        roles,
        access,
    }))
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
