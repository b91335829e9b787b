//! Every request body is bounded: endpoints that take manifests, kubeconfigs or app archives up to
//! [`MAX_LARGE_REQUEST_BYTES`], everything else (logins included) up to [`MAX_REQUEST_BYTES`].
//! A body that says it is larger is refused at once with 413 and what the limit is; one that
//! does not say, and is, stops being read at the limit.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flotilla_domain::limits::{MAX_LARGE_REQUEST_BYTES, MAX_REQUEST_BYTES, size_text};

use app::AppError;

/// Server functions that take a manifest, a kubeconfig, a Secret's values or an app archive.
const LARGE: &[&str] = &[
    "/api/resources/review-new",
    "/api/resources/review-edit",
    "/api/resources/apply-edit",
    "/api/workspaces/add-resource",
    "/api/projects/add-resource",
    "/api/projects/add-configmap",
    "/api/projects/review-configmap",
    "/api/projects/add-secret",
    "/api/projects/review-secret",
    "/api/fleet/read-kubeconfig",
    "/api/fleet/test-connection",
    "/api/fleet/register",
    "/api/apps/upload-version",
];

/// The most `path` may be sent.
pub fn limit_for(path: &str) -> usize {
    if LARGE.contains(&path) { MAX_LARGE_REQUEST_BYTES } else { MAX_REQUEST_BYTES }
}

pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = limit_for(request.uri().path());
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let answer = AppError::BadRequest(format!("the request is larger than the {} this accepts", size_text(limit)));
        let mut response =
            (StatusCode::PAYLOAD_TOO_LARGE, serde_json::to_vec(&answer).unwrap_or_default()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, limited)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_may_be_large_and_everything_else_small() {
        assert_eq!(limit_for("/api/projects/add-resource"), MAX_LARGE_REQUEST_BYTES);
        assert_eq!(limit_for("/api/auth/login"), MAX_REQUEST_BYTES);
        assert_eq!(limit_for("/api/projects/add-resource/x"), MAX_REQUEST_BYTES);
    }
}
