//! The REST API, `/api/v1/…`: JSON for scripts, pipelines and the CLI, described by an
//! OpenAPI document served at `/api/v1/openapi.json` and generated from the handlers.
//!
//! Callers authenticate with an API token (`Authorization: Bearer flt_…`), or with the
//! dashboard's session cookie. Each handler runs the dashboard's own server function for the
//! job, so a token meets exactly the role checks a person meets in the browser (a token's
//! access only narrows them), and what the caller may not see is a 404 here too.

mod schema;
mod v1;

use std::future::Future;

use app::AppError;
use app::auth::ssr::TokenCaller;
use app::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use leptos::prelude::provide_context;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;
use secrecy::SecretString;

pub use schema::ApiErrorBody;
pub use v1::{openapi, router};

/// An error as the API answers it: the status and body of [`ApiErrorBody`].
#[derive(Debug)]
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        ApiError(AppError::BadRequest(message.into()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status_code();
        let (code, field) = match &self.0 {
            AppError::Invalid { field, .. } => ("invalid", Some(field.clone())),
            AppError::BadRequest(_) => ("bad_request", None),
            AppError::InvalidCredentials | AppError::Unauthenticated => ("unauthenticated", None),
            AppError::Forbidden(_) => ("forbidden", None),
            AppError::NotFound => ("not_found", None),
            AppError::Conflict(_) => ("conflict", None),
            AppError::TooManyRequests(_) => ("too_many_requests", None),
            AppError::Internal | AppError::ServerFn(_) => ("internal", None),
        };
        let message = match &self.0 {
            AppError::Unauthenticated => {
                "Send a valid API token (Authorization: Bearer flt_…) or log in to the dashboard.".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ApiErrorBody { code: code.to_owned(), message, field })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"flotilla\""));
        }
        response
    }
}

/// Authenticates a request that carries `Authorization: Bearer …`: an unknown, expired or
/// revoked token (or one of a disabled user) is refused with 401 whatever cookie comes with
/// it; a valid one makes the request act as the token's user, through [`TokenCaller`].
/// Requests without the header go on to the session.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return next.run(request).await;
    };
    let secret = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default();
    let secret = SecretString::from(secret.to_owned());
    match state.store.authenticate_token(&secret).await {
        Ok(Some(principal)) => {
            request.extensions_mut().insert(TokenCaller::of(principal));
            next.run(request).await
        }
        Ok(None) => {
            tracing::info!(path = request.uri().path(), "refused an API token");
            ApiError(AppError::Unauthenticated).into_response()
        }
        Err(e) => ApiError(AppError::from(e)).into_response(),
    }
}

/// Runs `work` (server functions) as the dashboard runs them for a request: with the
/// request's parts (its session, its token) and the state in context.
async fn run<T, Fut>(state: AppState, parts: http::request::Parts, work: impl FnOnce() -> Fut) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let owner = Owner::new();
    owner.with(|| {
        provide_context(parts);
        provide_context(state);
        provide_context(leptos_axum::ResponseOptions::default());
    });
    let result = owner.with(|| ScopedFuture::new(work())).await;
    result.map_err(ApiError)
}

/// The JSON body of `body` as `T`, or a 400 saying what is wrong with it. Its size is bounded
/// before it gets here (the server's body limit).
async fn json<T: serde::de::DeserializeOwned>(body: axum::body::Body) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("the body is not the JSON expected: {e}")))
}
