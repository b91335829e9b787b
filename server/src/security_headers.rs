//! Response headers every answer carries: no MIME sniffing, no referrer beyond this site, no
//! framing by other sites, HSTS when the site is served over HTTPS (secure cookies), and a
//! Content-Security-Policy — the page's own, with its nonce, set while rendering
//! (`app::page_policy`), else one that allows nothing (JSON, events, files).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

/// Whether the site is served over HTTPS (then browsers are told to keep to it).
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

/// What a response that is not a page may do: nothing, and not be framed.
const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'";

pub async fn security_headers(State(Https(https)): State<Https>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(NOTHING));
    }
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
