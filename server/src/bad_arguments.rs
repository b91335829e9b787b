//! A server function called with arguments that do not decode (a missing field, a number
//! that is text) is the caller's mistake: it answers 400 with what is wrong, not the 500 the
//! server function runtime gives every error it meets before the function runs.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::{SERVER_FN_ERROR_HEADER, ServerFnErrorErr};

use app::AppError;

/// Server function error bodies are a few hundred bytes; more is not one of ours.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn bad_arguments(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::from("server function error"));
    };
    let why = match serde_json::from_slice::<AppError>(&bytes) {
        Ok(AppError::ServerFn(ServerFnErrorErr::Args(why) | ServerFnErrorErr::Deserialization(why))) => why,
        _ => return Response::from_parts(parts, Body::from(bytes)),
    };
    let answer = AppError::BadRequest(why);
    parts.status = StatusCode::BAD_REQUEST;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}
