//! Pages need a logged-in user: anyone else is sent to the login page, with the page they
//! asked for kept in `next`. Server functions and API routes check the session themselves
//! and answer with an error rather than a redirect.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Paths anyone may fetch.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/healthz" | "/readyz" | "/favicon.svg" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path == "/t"
        || path.starts_with("/t/")
}

pub async fn require_login(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_public(path) || app::auth::ssr::session_user_ids(&session).await.is_some() {
        return next.run(request).await;
    }
    let wanted = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let target = if wanted == "/" { "/login".to_owned() } else { format!("/login?next={}", percent_encode(wanted)) };
    Redirect::to(&target).into_response()
}

/// Percent-encodes a query parameter value.
pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_login_assets_health_and_api_are_public() {
        for p in ["/login", "/pkg/flotilla.wasm", "/healthz", "/readyz", "/api/auth/login", "/t/acme/login", "/t"] {
            assert!(is_public(p), "{p}");
        }
        for p in ["/", "/workspaces", "/login/../", "/loginx", "/tenants"] {
            assert!(!is_public(p), "{p}");
        }
    }

    #[test]
    fn next_is_encoded() {
        assert_eq!(percent_encode("/a b?x=1&y=2"), "/a%20b%3Fx%3D1%26y%3D2");
    }
}
