//! Logging in through a tenant's own OpenID Provider.
//!
//! `GET /t/<tenant>/login` sends the browser to the provider with PKCE, `state` and `nonce`,
//! kept in a short-lived cookie sealed with the server's secret key (an anonymous visitor
//! makes the server store nothing); `GET /t/<tenant>/callback` checks what comes back,
//! redeems the code, verifies the ID token, maps the user's groups to roles and starts a new
//! session. A tenant without a provider gets the local login form. Every failure lands on
//! the login page with a short code it explains (`/login?tenant=…&error=…`) and, once the
//! tenant is known, in the tenant's audit log.

use std::net::SocketAddr;

use app::auth::ssr::{ID_TOKEN, safe_next, start_session, tenant_provider};
use app::state::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use flotilla_store::{AuditEntry, AuditOutcome, Tenant};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::require_login::percent_encode;

/// The cookie that carries a login in progress, sealed (encrypted and authenticated).
const PENDING: &str = "flotilla_login";

/// How long a user may take at the provider before the login must start again.
const PENDING_FOR_MS: i64 = 10 * 60 * 1000;

/// A login in progress: which tenant, where to go after, and the secrets to check the
/// provider's answer with.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    tenant_id: String,
    slug: String,
    next: String,
    started_at: i64,
    login: flotilla_oidc::PendingLogin,
}

#[derive(Debug, Deserialize)]
pub struct PickQuery {
    #[serde(default)]
    tenant: String,
    next: Option<String>,
}

/// The login page's "organisation" form: `/t?tenant=acme` → `/t/acme/login`.
pub async fn pick_tenant(Query(q): Query<PickQuery>) -> Response {
    let slug = q.tenant.trim().to_ascii_lowercase();
    if flotilla_domain::TenantSlug::parse(&slug).is_err() {
        return to_login(None, "unknown-tenant");
    }
    let mut target = format!("/t/{slug}/login");
    if let Some(next) = q.next.filter(|n| !n.is_empty()) {
        target.push_str("?next=");
        target.push_str(&percent_encode(&safe_next(Some(&next))));
    }
    Redirect::to(&target).into_response()
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Starts a login at tenant `slug`'s provider.
pub async fn start(State(state): State<AppState>, Path(slug): Path<String>, Query(q): Query<StartQuery>) -> Response {
    let Some(tenant) = find_tenant(&state, &slug).await else {
        return to_login(None, "unknown-tenant");
    };
    let provider = match tenant_provider(&state, &tenant.id).await {
        Ok(Some(provider)) => provider,
        // Local accounts only: the password form, for this tenant.
        Ok(None) => return to_login(Some(&slug), ""),
        Err(reason) => {
            tracing::warn!(%reason, tenant = %slug, "the tenant's provider cannot be used");
            return to_login(Some(&slug), "unavailable");
        }
    };
    let (url, login) = match provider.begin(&state.auth.callback_url(&slug)) {
        Ok(begun) => begun,
        Err(e) => {
            tracing::error!(error = %e, tenant = %slug, "could not start a login");
            return to_login(Some(&slug), "unavailable");
        }
    };
    let pending = Pending {
        tenant_id: tenant.id,
        slug: slug.clone(),
        next: safe_next(q.next.as_deref()),
        started_at: flotilla_store::now_ms(),
        login,
    };
    let sealed = serde_json::to_string(&pending)
        .map_err(|e| e.to_string())
        .and_then(|json| state.store.cipher().seal(PENDING, &json).map_err(|e| e.to_string()));
    let cookie = match sealed {
        Ok(sealed) => pending_cookie(&sealed, PENDING_FOR_MS / 1000, state.auth.secure_cookies),
        Err(e) => {
            tracing::error!(error = %e, "could not seal the login in progress");
            return to_login(Some(&slug), "unavailable");
        }
    };
    let mut response = Redirect::to(&url).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The `Set-Cookie` of a login in progress (`max_age_s` 0: removed). Sent back only to the
/// callbacks, and on the provider's redirect back (a top-level navigation, so `Lax` suffices).
fn pending_cookie(value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{PENDING}={value}; Path=/t/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("flotilla_login=; Path=/t/; Max-Age=0"))
}

/// The login in progress the browser brought back, if it is one this server sealed.
fn pending_of(state: &AppState, headers: &HeaderMap) -> Option<Pending> {
    let sealed = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(PENDING).and_then(|rest| rest.strip_prefix('=')))?;
    let json = state.store.cipher().unseal(PENDING, sealed).ok()?;
    serde_json::from_str(&json).ok()
}

/// The name refused provider logins are counted under (as failed logins of one account).
const CALLBACK: &str = "(provider login)";

/// The longest reason kept in the audit log for a refused provider login.
const MAX_REASON: usize = 300;

/// `text` cut to `max` characters, on one line.
fn cut(text: &str, max: usize) -> String {
    let one_line = text.chars().map(|c| if c.is_control() { ' ' } else { c });
    let mut out: String = one_line.clone().take(max).collect();
    if one_line.count() > max {
        out.push('…');
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sends the browser back here with a code (or an error). The login in progress
/// is used once, whatever happens: its cookie is removed.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let secure = state.auth.secure_cookies;
    let pending = pending_of(&state, &headers);
    let mut response = finish_login(state, session, slug, peer, pending, q).await;
    response.headers_mut().append(header::SET_COOKIE, pending_cookie("", 0, secure));
    response
}

async fn finish_login(
    state: AppState,
    session: Session,
    slug: String,
    peer: SocketAddr,
    pending: Option<Pending>,
    q: CallbackQuery,
) -> Response {
    let source_ip = Some(peer.ip().to_string());
    let Some(tenant) = find_tenant(&state, &slug).await else {
        return to_login(None, "unknown-tenant");
    };
    // Anyone can call this address with any text: a refusal is audited with that text cut
    // short, and an address refused again and again is no longer audited (nor hashed, nor
    // anything): it only counts, as failed password logins do.
    let refuse = |code: &'static str, reason: String| {
        let state = state.clone();
        let tenant_id = tenant.id.clone();
        let source_ip = source_ip.clone();
        let slug = slug.clone();
        async move {
            let reason = cut(&reason, MAX_REASON);
            let throttle = state.store.login_throttle();
            if throttle.check(&slug, CALLBACK, source_ip.as_deref()).is_err() {
                tracing::debug!(tenant = %slug, %reason, "login refused (not audited: refused too often)");
                return to_login(Some(&slug), code);
            }
            throttle.failed(&slug, CALLBACK, source_ip.as_deref());
            tracing::warn!(tenant = %slug, %reason, "login refused");
            let entry = AuditEntry::new(&tenant_id, "(unknown)", "login_failed", AuditOutcome::Denied)
                .detail(serde_json::json!({ "method": "oidc", "reason": reason }))
                .source_ip(source_ip);
            if let Err(e) = state.store.record_audit(&entry).await {
                tracing::error!(error = %e, "could not audit a refused login");
            }
            to_login(Some(&slug), code)
        }
    };

    let Some(pending) = pending.filter(|p| p.tenant_id == tenant.id) else {
        return refuse("state", "no login of this tenant was in progress in this browser".into()).await;
    };
    if flotilla_store::now_ms() - pending.started_at > PENDING_FOR_MS {
        return refuse("expired", "the login took longer than 10 minutes".into()).await;
    }
    if let Some(error) = q.error {
        let description = q.error_description.unwrap_or_default();
        return refuse("provider", format!("the provider answered {error}: {description}")).await;
    }
    let (Some(code), Some(returned_state)) = (q.code, q.state) else {
        return refuse("provider", "the provider sent neither a code nor an error".into()).await;
    };
    let provider = match tenant_provider(&state, &tenant.id).await {
        Ok(Some(provider)) => provider,
        Ok(None) => return refuse("unavailable", "the tenant's provider was removed during the login".into()).await,
        Err(reason) => return refuse("unavailable", reason).await,
    };
    let returned = flotilla_oidc::Returned { code: &code, state: &returned_state, issuer: q.iss.as_deref() };
    let identity = match provider.finish(&pending.login, &returned, &state.auth.callback_url(&slug)).await {
        Ok(identity) => identity,
        Err(e) => return refuse(e.code(), e.to_string()).await,
    };

    let login = flotilla_store::OidcLogin {
        tenant_id: tenant.id.clone(),
        issuer: identity.issuer,
        subject: identity.subject,
        preferred_username: identity.preferred_username,
        email: identity.email,
        name: identity.name,
        groups: identity.groups,
        source_ip,
    };
    // The store audits the outcome itself (login, login_failed, roles changed).
    let user = match state.store.login_oidc(login).await {
        Ok(user) => user,
        Err(flotilla_store::Error::NoRole) => return to_login(Some(&slug), "no-role"),
        Err(flotilla_store::Error::AccountDisabled) => return to_login(Some(&slug), "disabled"),
        Err(e) => {
            tracing::error!(error = %e, "could not record an OIDC login");
            return to_login(Some(&slug), "unavailable");
        }
    };
    if start_session(&session, &user, state.auth.session_max_age).await.is_err()
        || session.insert(ID_TOKEN, &identity.id_token).await.is_err()
    {
        return to_login(Some(&slug), "unavailable");
    }
    Redirect::to(&pending.next).into_response()
}

async fn find_tenant(state: &AppState, slug: &str) -> Option<Tenant> {
    match state.store.tenant_by_slug(slug).await {
        Ok(tenant) => tenant,
        Err(e) => {
            tracing::error!(error = %e, "could not look up a tenant");
            None
        }
    }
}

/// The login page, for `slug`'s tenant, explaining `error` (empty: none).
fn to_login(slug: Option<&str>, error: &str) -> Response {
    let mut target = String::from("/login");
    let mut sep = '?';
    if let Some(slug) = slug {
        target.push_str(&format!("{sep}tenant={}", percent_encode(slug)));
        sep = '&';
    }
    if !error.is_empty() {
        target.push_str(&format!("{sep}error={error}"));
    }
    Redirect::to(&target).into_response()
}

#[cfg(test)]
mod refusal_tests {
    use super::cut;

    #[test]
    fn a_refusal_reason_is_kept_short_and_on_one_line() {
        let long = format!("the provider answered access_denied: {}\n{}", "x".repeat(5000), "Set-Cookie: y");
        let kept = cut(&long, 300);
        assert_eq!(kept.chars().count(), 301, "300 characters and the ellipsis");
        assert!(!kept.contains('\n'));
        assert_eq!(cut("short", 300), "short");
    }
}
