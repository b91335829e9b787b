//! Cross-site request forgery: a state-changing request (anything but GET, HEAD, OPTIONS)
//! that a browser says comes from another site is refused before it reaches a handler.
//!
//! Browsers send `Origin` with every such request, and `Sec-Fetch-Site` too: either one
//! naming another origin is enough to refuse. Requests with neither come from programs,
//! not browsers, and a browser's session cookie (SameSite=Lax) never reaches them anyway.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) || !cross_site(&request) {
        return next.run(request).await;
    }
    tracing::warn!(
        origin = ?request.headers().get(header::ORIGIN),
        path = request.uri().path(),
        "refused a cross-site request"
    );
    (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
}

/// Whether the browser says the request comes from another origin than the one it is sent to.
fn cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: typed into the address bar or a bookmark; `same-origin`: our own pages.
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return false };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok().and_then(authority_of), host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        // `Origin: null` (sandboxed frames, some redirects) or no Host: not ours.
        _ => true,
    }
}

/// `host[:port]` of an origin such as `https://flotilla.example:8443`.
fn authority_of(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri("/api/workspaces/create");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn another_origin_is_cross_site_our_own_is_not() {
        let host = ("host", "flotilla.example:8443");
        let ours = request(Method::POST, &[host, ("origin", "https://flotilla.example:8443")]);
        assert!(!cross_site(&ours));
        let theirs = request(Method::POST, &[host, ("origin", "https://evil.example")]);
        assert!(cross_site(&theirs));
        let other_port = request(Method::POST, &[host, ("origin", "https://flotilla.example:9000")]);
        assert!(cross_site(&other_port));
        assert!(cross_site(&request(Method::POST, &[host, ("origin", "null")])));
        assert!(cross_site(&request(Method::POST, &[host, ("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&request(Method::POST, &[host, ("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&request(Method::POST, &[host, ("sec-fetch-site", "same-origin")])));
        // Programs (curl, the API tests) send neither header.
        assert!(!cross_site(&request(Method::POST, &[host])));
    }
}
