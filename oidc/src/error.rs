use openidconnect::{ClaimsVerificationError, DiscoveryError, RequestTokenError, StandardErrorResponse, UserInfoError};

/// What went wrong talking to a provider or checking what it sent, in words a tenant admin
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("{0}")]
    Client(String),
    #[error("issuer URL {0}")]
    InvalidIssuer(String),
    #[error("could not read the discovery document of {issuer}: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("the provider refused the client id or secret{}", suffix(.0))]
    ClientRejected(String),
    #[error("the login's state does not match the one Flotilla sent (a forged or replayed login)")]
    StateMismatch,
    #[error("the provider refused: {error}{}", suffix(.description))]
    ProviderRefused { error: String, description: String },
    #[error("could not redeem the login code at the provider: {0}")]
    TokenExchange(String),
    #[error("the provider sent no ID token")]
    NoIdToken,
    #[error("{0}")]
    IdToken(String),
    /// Signed by a key the provider's published set lacks (or not signed by it at all).
    #[error("the ID token's signature does not verify ({0})")]
    BadSignature(String),
    #[error("could not read the user's details from the provider's userinfo endpoint: {0}")]
    UserInfo(String),
}

fn suffix(description: &str) -> String {
    if description.is_empty() { String::new() } else { format!(" ({description})") }
}

impl OidcError {
    /// A short code for the login page, which explains each in the user's terms.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::StateMismatch => "state",
            OidcError::ProviderRefused { .. } => "provider",
            OidcError::NoIdToken | OidcError::IdToken(_) | OidcError::BadSignature(_) => "token",
            OidcError::Client(_)
            | OidcError::InvalidIssuer(_)
            | OidcError::Discovery { .. }
            | OidcError::Unsupported(_)
            | OidcError::ClientRejected(_)
            | OidcError::TokenExchange(_)
            | OidcError::UserInfo(_) => "unavailable",
        }
    }

    pub(crate) fn discovery<E: std::error::Error + 'static>(issuer: &str, e: DiscoveryError<E>) -> Self {
        let reason = match &e {
            DiscoveryError::Request(inner) => chain(inner),
            DiscoveryError::Response(status, _, _) => format!("it answered HTTP {status}"),
            DiscoveryError::Parse(inner) => format!("it is not a discovery document ({inner})"),
            DiscoveryError::Validation(v) => v.clone(),
            DiscoveryError::UrlParse(inner) => inner.to_string(),
            DiscoveryError::Other(other) => other.clone(),
            _ => chain(&e),
        };
        OidcError::Discovery { issuer: issuer.trim_end_matches('/').to_owned(), reason }
    }

    pub(crate) fn token_exchange<RE: std::error::Error + 'static>(
        e: RequestTokenError<RE, StandardErrorResponse<openidconnect::core::CoreErrorResponseType>>,
    ) -> Self {
        match e {
            RequestTokenError::ServerResponse(response) => OidcError::ProviderRefused {
                error: response.error().as_ref().to_owned(),
                description: response.error_description().cloned().unwrap_or_default(),
            },
            other => OidcError::TokenExchange(chain(&other)),
        }
    }

    pub(crate) fn id_token(e: ClaimsVerificationError) -> Self {
        let message = match &e {
            ClaimsVerificationError::Expired(_) => "the ID token has expired".to_owned(),
            ClaimsVerificationError::InvalidAudience(detail) => {
                format!("the ID token was issued for another client ({detail})")
            }
            ClaimsVerificationError::InvalidIssuer(detail) => {
                format!("the ID token comes from another issuer ({detail})")
            }
            ClaimsVerificationError::InvalidNonce(_) => {
                "the ID token's nonce does not match this login (a replayed token)".to_owned()
            }
            ClaimsVerificationError::SignatureVerification(inner) => return OidcError::BadSignature(inner.to_string()),
            other => format!("the ID token was refused ({other})"),
        };
        OidcError::IdToken(message)
    }
}

impl OidcError {
    pub(crate) fn user_info<RE: std::error::Error + 'static>(e: UserInfoError<RE>) -> Self {
        match e {
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(detail)) => {
                OidcError::IdToken(format!("the provider's user info is about another user ({detail})"))
            }
            UserInfoError::ClaimsVerification(other) => {
                OidcError::IdToken(format!("the provider's user info was refused ({other})"))
            }
            UserInfoError::Response(status, _, _) => OidcError::UserInfo(format!("it answered HTTP {status}")),
            other => OidcError::UserInfo(chain(&other)),
        }
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}
