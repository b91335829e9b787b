//! The error every server function returns, typed so the page can place each message next
//! to the field it concerns.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input refused; `field` names the input it concerns.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Invalid username or password.")]
    InvalidCredentials,
    #[error("Your session has ended. Please log in again.")]
    Unauthenticated,
    /// The caller's role does not allow it; the message says what it does allow.
    #[error("{0}")]
    Forbidden(String),
    #[error("Not found.")]
    NotFound,
    /// Too many attempts (failed logins): the message says when to try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// Someone else saved first (optimistic concurrency): the message names them.
    #[error("{0}")]
    Conflict(String),
    /// The request itself is malformed (a missing or mistyped argument): the message says how.
    #[error("The request is malformed: {0}")]
    BadRequest(String),
    #[error("Something went wrong on the server; it has been logged. Please try again.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// The message for `field`, if this error concerns it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// Whether the message belongs to the form as a whole rather than one field.
    pub fn is_form_level(&self) -> bool {
        !matches!(self, AppError::Invalid { .. })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

#[cfg(feature = "ssr")]
impl From<flotilla_domain::Error> for AppError {
    fn from(e: flotilla_domain::Error) -> Self {
        match e {
            flotilla_domain::Error::Invalid { field, reason } => {
                AppError::Invalid { field: field.to_owned(), message: reason }
            }
            // The domain's reasons are clauses ("a RoleBinding to …"); shown alone, a sentence.
            flotilla_domain::Error::Refused { reason } => {
                let mut chars = reason.chars();
                let sentence = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
                AppError::Forbidden(sentence)
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<flotilla_store::Error> for AppError {
    /// Maps store errors to what a user may see; anything internal is logged here, once,
    /// with its source chain, and reaches the browser only as [`AppError::Internal`].
    fn from(e: flotilla_store::Error) -> Self {
        use flotilla_store::Error as E;
        match e {
            E::Domain(d) => d.into(),
            E::InvalidCredentials => AppError::InvalidCredentials,
            E::NotFound(_) => AppError::NotFound,
            stale @ E::Stale { .. } => AppError::Conflict(stale.to_string()),
            E::Conflict(reason) => AppError::Conflict(reason),
            E::Throttled(t) if t.locked => AppError::TooManyRequests(format!(
                "Too many failed logins: logging in to this account (or from this address) is paused for {} more.",
                crate::words::count(t.retry_after.as_secs().div_ceil(60).max(1) as usize, "minute")
            )),
            E::Throttled(t) => AppError::TooManyRequests(format!(
                "Too many failed logins: wait {} before trying again.",
                crate::words::count(t.retry_after.as_secs_f64().ceil().max(1.0) as usize, "second")
            )),
            E::Busy => AppError::TooManyRequests("Many people are logging in right now: try again in a moment.".into()),
            other => {
                tracing::error!(error = &other as &dyn std::error::Error, "server function failed");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Gives a server function's error response the status code of its error. Plain form posts
/// (no JavaScript) are left alone: Leptos answers those with a redirect back to the form.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    use leptos::prelude::use_context;
    if let Err(e) = &result {
        // A page being rendered (GET) takes the status; a form posted without JavaScript
        // (POST accepting HTML) is answered with a redirect back instead.
        let plain_form_post = use_context::<http::request::Parts>()
            .filter(|parts| parts.method == http::Method::POST)
            .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
            .and_then(|accept| accept.to_str().ok().map(|a| a.contains("text/html")))
            .unwrap_or(false);
        if !plain_form_post && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(e.status_code());
        }
    }
    result
}
