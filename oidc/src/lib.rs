//! Flotilla as an OpenID Connect relying party, one provider per tenant.
//!
//! [`Oidc::discover`] reads a provider's discovery document; [`Provider::begin`] starts the
//! authorization code flow (PKCE S256, `state`, `nonce`) and returns what the session must
//! keep; [`Provider::finish`] checks the returned `state`, redeems the code and verifies the
//! ID token (signature, issuer, audience, expiry, nonce) into an [`Identity`].
//! [`Oidc::check`] is the tenant admin's "test configuration".
//!
//! Discovery documents (with their signing keys) are kept for [`DISCOVERY_TTL`]; an ID token
//! signed by a key the kept set lacks makes a login read them afresh once (key rotation).
//! Groups come from the ID token's groups claim or, when the token has none, from the
//! userinfo endpoint (providers that follow the spec to the letter put scope claims only
//! there).

mod error;
mod http;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flotilla_domain::ProviderCheck;
use flotilla_outbound::OutboundPolicy;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreGrantType,
    CoreIdTokenVerifier, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    IdToken, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, Scope, SubjectIdentifier, TokenResponse, UserInfoClaims,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use error::OidcError;
pub use http::MAX_ANSWER;

/// How long any one request to a provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a provider's discovery document and signing keys are used before being read
/// again. A login start, its callback and a logout within this time cost no discovery request.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// A tenant's provider, as its admin configured it.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client (PKCE only).
    pub client_secret: Option<SecretString>,
    /// Scopes to ask for besides `openid`, which is always asked for.
    pub scopes: Vec<String>,
    /// The ID token claim that lists the user's groups, e.g. `groups` or `roles`.
    pub groups_claim: String,
}

/// What a provider's discovery document says, beyond the core fields: RP-initiated logout
/// and the PKCE methods it supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<EndSessionUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Every claim of the ID token beyond the standard ones, so the groups claim can be any name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type FlotillaIdToken =
    IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// The HTTP client used to talk to providers (the hub's outbound policy decides where it may
/// go; no redirects followed, so a provider URL cannot lead the server elsewhere; a timeout on
/// every request; answers read up to [`MAX_ANSWER`]) and the discovery documents read lately,
/// by issuer.
#[derive(Debug, Clone)]
pub struct Oidc {
    http: http::ProviderHttp,
    discovered: Arc<Mutex<HashMap<String, (Instant, Metadata)>>>,
}

impl Oidc {
    /// A relying party that calls only what `policy` allows.
    pub fn new(policy: Arc<OutboundPolicy>) -> Result<Self, OidcError> {
        let http = http::ProviderHttp::new(policy, REQUEST_TIMEOUT).map_err(|e| OidcError::Client(e.to_string()))?;
        Ok(Self { http, discovered: Arc::default() })
    }

    /// The provider of `settings.issuer`: its discovery document and signing keys, as read
    /// within the last [`DISCOVERY_TTL`] or read now.
    #[tracing::instrument(skip_all, fields(issuer = %settings.issuer))]
    pub async fn discover(&self, settings: &ProviderSettings) -> Result<Provider, OidcError> {
        let issuer = self.issuer_url(&settings.issuer)?;
        let kept = self
            .discovered
            .lock()
            .expect("discovery cache")
            .get(issuer.as_str())
            .and_then(|(at, metadata)| (at.elapsed() < DISCOVERY_TTL).then(|| metadata.clone()));
        let (metadata, fresh) = match kept {
            Some(metadata) => (metadata, false),
            None => (self.read_discovery(&issuer).await?, true),
        };
        Ok(Provider { metadata, fresh, settings: settings.clone(), oidc: self.clone() })
    }

    /// `issuer` as a URL the hub may call (the outbound policy's check before resolving; the
    /// addresses are checked when connecting).
    fn issuer_url(&self, issuer: &str) -> Result<IssuerUrl, OidcError> {
        let url = flotilla_outbound::parse_target(issuer).map_err(|e| OidcError::InvalidIssuer(e.to_string()))?;
        self.http.check(&url).map_err(|e| OidcError::InvalidIssuer(e.to_string()))?;
        IssuerUrl::new(issuer.trim().to_owned()).map_err(|e| OidcError::InvalidIssuer(format!("not a URL: {e}")))
    }

    /// Reads the discovery document of `issuer` and its signing keys now, and keeps them.
    async fn read_discovery(&self, issuer: &IssuerUrl) -> Result<Metadata, OidcError> {
        let metadata = Metadata::discover_async(issuer.clone(), &self.http)
            .await
            .map_err(|e| OidcError::discovery(issuer.as_str(), e))?;
        self.discovered
            .lock()
            .expect("discovery cache")
            .insert(issuer.as_str().to_owned(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// The tenant admin's "test configuration": discovery, what the provider supports, and
    /// whether it accepts the client's id and secret. Fails with the first thing that is
    /// wrong; otherwise returns what was checked.
    pub async fn check(&self, settings: &ProviderSettings, redirect_uri: &str) -> Result<ProviderCheck, OidcError> {
        // Always read afresh: the admin is checking what the provider says now.
        let issuer = self.issuer_url(&settings.issuer)?;
        let metadata = self.read_discovery(&issuer).await?;
        let provider = Provider { metadata, fresh: true, settings: settings.clone(), oidc: self.clone() };
        let meta = &provider.metadata;
        let mut report = ProviderCheck {
            issuer: meta.issuer().to_string(),
            authorization_endpoint: meta.authorization_endpoint().to_string(),
            token_endpoint: meta.token_endpoint().map(|u| u.to_string()),
            end_session_endpoint: meta.additional_metadata().end_session_endpoint.as_ref().map(|u| u.to_string()),
            signing_algs: meta
                .id_token_signing_alg_values_supported()
                .iter()
                .map(|alg| {
                    serde_json::to_value(alg).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                })
                .collect(),
            notes: Vec::new(),
        };
        if report.token_endpoint.is_none() {
            return Err(OidcError::Unsupported("the provider has no token endpoint".into()));
        }
        if !meta.response_types_supported().iter().any(|t| t.as_slice() == [CoreResponseType::Code]) {
            return Err(OidcError::Unsupported("the provider does not offer the authorization code flow".into()));
        }
        match &meta.additional_metadata().code_challenge_methods_supported {
            Some(methods) if !methods.iter().any(|m| m == "S256") => {
                return Err(OidcError::Unsupported(format!(
                    "the provider does not support PKCE with S256 (it lists {})",
                    methods.join(", ")
                )));
            }
            Some(_) => report.notes.push("PKCE S256 supported".into()),
            None => {
                report.notes.push("the provider does not say whether it supports PKCE; Flotilla sends it anyway".into())
            }
        }
        if let Some(scopes) = meta.scopes_supported() {
            let missing: Vec<&str> = settings
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| !scopes.iter().any(|supported| supported.as_str() == *s))
                .collect();
            if !missing.is_empty() {
                report.notes.push(format!("the provider does not list the scopes {}", missing.join(", ")));
            }
        }
        provider.check_client(redirect_uri).await?;
        report.notes.push("the provider accepts the client id and secret".into());
        if let Some(userinfo) = meta.userinfo_endpoint() {
            report.notes.push(format!(
                "when an ID token has no '{}' claim, the groups are read from {}",
                settings.groups_claim,
                userinfo.as_str()
            ));
        }
        if report.end_session_endpoint.is_none() {
            report.notes.push("no end-session endpoint: logging out ends the Flotilla session only".into());
        }
        Ok(report)
    }
}

/// A discovered provider, ready to log users in.
#[derive(Debug, Clone)]
pub struct Provider {
    metadata: Metadata,
    /// Whether `metadata` was read for this provider rather than kept from earlier.
    fresh: bool,
    settings: ProviderSettings,
    oidc: Oidc,
}

/// What the session keeps between sending the browser to the provider and its return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What the provider sent the browser back with.
#[derive(Debug, Clone, Copy)]
pub struct Returned<'a> {
    pub code: &'a str,
    pub state: &'a str,
    /// The authorization response's `iss` (RFC 9207), if the provider sends one.
    pub issuer: Option<&'a str>,
}

/// A user the provider vouched for, from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `iss` as verified.
    pub issuer: String,
    pub subject: String,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub groups: Vec<String>,
    /// The ID token as received, kept for `id_token_hint` at logout.
    pub id_token: String,
}

/// A client of one provider, as built from its discovery document.
type ProviderClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Provider {
    fn client(&self, redirect_uri: &str) -> Result<ProviderClient, OidcError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Client(format!("redirect URI '{redirect_uri}': {e}")))?;
        let secret = self.settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authorization URL to send the browser to, and what to keep until it
    /// comes back to `redirect_uri`.
    pub fn begin(&self, redirect_uri: &str) -> Result<(String, PendingLogin), OidcError> {
        let client = self.client(redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), pending))
    }

    /// Completes a login: the `state` the browser brought back must be the one sent, and the
    /// `iss` beside it (RFC 9207), when the provider sends one, this provider's; the code is
    /// redeemed with the PKCE verifier and the ID token verified.
    #[tracing::instrument(skip_all, fields(issuer = %self.settings.issuer))]
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        returned: &Returned<'_>,
        redirect_uri: &str,
    ) -> Result<Identity, OidcError> {
        if !constant_time_eq(pending.state.as_bytes(), returned.state.as_bytes()) {
            return Err(OidcError::StateMismatch);
        }
        if let Some(iss) = returned.issuer
            && iss.trim_end_matches('/') != self.metadata.issuer().as_str().trim_end_matches('/')
        {
            return Err(OidcError::ProviderRefused {
                error: "issuer_mismatch".into(),
                description: format!("the answer names the issuer {iss}, not {}", self.metadata.issuer().as_str()),
            });
        }
        let code = returned.code;
        let client = self.client(redirect_uri)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unsupported(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        let response = request.request_async(&self.oidc.http).await.map_err(OidcError::token_exchange)?;
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?.to_string();
        let nonce = Nonce::new(pending.nonce.clone());
        let groups_claim = &self.settings.groups_claim;
        let verified = verify_id_token_claims(&id_token, &client.id_token_verifier(), &nonce, groups_claim);
        let (mut identity, groups_in_token) = match verified {
            // Signed with a key the kept set lacks: the provider may have rotated its keys.
            Err(OidcError::BadSignature(_)) if !self.fresh => {
                tracing::info!("ID token signature does not verify with the kept keys; reading them again");
                let issuer = self.metadata.issuer().clone();
                let again = Provider {
                    metadata: self.oidc.read_discovery(&issuer).await?,
                    fresh: true,
                    settings: self.settings.clone(),
                    oidc: self.oidc.clone(),
                };
                let client = again.client(redirect_uri)?;
                verify_id_token_claims(&id_token, &client.id_token_verifier(), &nonce, groups_claim)?
            }
            other => other?,
        };
        if !groups_in_token {
            self.read_user_info(&client, response.access_token(), &mut identity).await?;
        }
        Ok(identity)
    }

    /// Fills in from the userinfo endpoint, if the provider has one, what the ID token left
    /// out: the groups, and any of username, email and name. The answer must be about the
    /// user the ID token names.
    async fn read_user_info(
        &self,
        client: &ProviderClient,
        access_token: &openidconnect::AccessToken,
        identity: &mut Identity,
    ) -> Result<(), OidcError> {
        let Ok(request) =
            client.user_info(access_token.clone(), Some(SubjectIdentifier::new(identity.subject.clone())))
        else {
            return Ok(()); // No userinfo endpoint: the ID token is all there is.
        };
        let claims: UserInfoClaims<OtherClaims, CoreGenderClaim> =
            request.request_async(&self.oidc.http).await.map_err(OidcError::user_info)?;
        if let Some(groups) = read_groups(&claims.additional_claims().claims, &self.settings.groups_claim)? {
            identity.groups = groups;
        }
        identity.preferred_username =
            identity.preferred_username.take().or_else(|| claims.preferred_username().map(|u| u.to_string()));
        identity.email = identity.email.take().or_else(|| claims.email().map(|e| e.to_string()));
        identity.name = identity.name.take().or_else(|| claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()));
        Ok(())
    }

    /// Redeems a code that cannot be valid: a provider that knows the client answers
    /// `invalid_grant`, one that does not (or a wrong secret) `invalid_client`.
    async fn check_client(&self, redirect_uri: &str) -> Result<(), OidcError> {
        let client = self.client(redirect_uri)?;
        let request = client
            .exchange_code(AuthorizationCode::new("flotilla-configuration-test".into()))
            .map_err(|e| OidcError::Unsupported(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new("flotilla-configuration-test-verifier-0123456789".into()));
        match request.request_async(&self.oidc.http).await.map_err(OidcError::token_exchange) {
            Ok(_) => Ok(()),
            Err(OidcError::ProviderRefused { error, .. }) if error == "invalid_grant" => Ok(()),
            Err(OidcError::ProviderRefused { error, description }) if error == "invalid_client" => {
                Err(OidcError::ClientRejected(description))
            }
            Err(other) => Err(other),
        }
    }

    /// Where to send the browser to end its session at the provider too, if the provider
    /// has an end-session endpoint.
    pub fn end_session_url(&self, id_token_hint: Option<&str>, post_logout_redirect: &str) -> Option<String> {
        let endpoint = self.metadata.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Some(hint) = id_token_hint.and_then(|raw| raw.parse::<FlotillaIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        if let Ok(url) = PostLogoutRedirectUrl::new(post_logout_redirect.to_owned()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url().to_string())
    }
}

/// Verifies `raw` with `verifier` (signature, issuer, audience, expiry) and `nonce`, and reads
/// the user's identity and groups (from `groups_claim`: a list of strings, or one string).
pub fn verify_id_token(
    raw: &str,
    verifier: &CoreIdTokenVerifier,
    nonce: &Nonce,
    groups_claim: &str,
) -> Result<Identity, OidcError> {
    verify_id_token_claims(raw, verifier, nonce, groups_claim).map(|(identity, _)| identity)
}

/// [`verify_id_token`], and whether the token has the groups claim at all.
fn verify_id_token_claims(
    raw: &str,
    verifier: &CoreIdTokenVerifier,
    nonce: &Nonce,
    groups_claim: &str,
) -> Result<(Identity, bool), OidcError> {
    let token: FlotillaIdToken =
        raw.parse().map_err(|e| OidcError::IdToken(format!("the ID token is not a valid JWT: {e}")))?;
    let claims = token.claims(verifier, nonce).map_err(OidcError::id_token)?;
    let groups = read_groups(&claims.additional_claims().claims, groups_claim)?;
    let groups_in_token = groups.is_some();
    let identity = Identity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        email: claims.email().map(|e| e.to_string()),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        groups: groups.unwrap_or_default(),
        id_token: raw.to_owned(),
    };
    Ok((identity, groups_in_token))
}

/// The group names in `groups_claim` of `claims` (a list of strings, or one string); `None`
/// when there is no such claim.
fn read_groups(
    claims: &HashMap<String, serde_json::Value>,
    groups_claim: &str,
) -> Result<Option<Vec<String>>, OidcError> {
    match claims.get(groups_claim) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(one)) => Ok(Some(vec![one.clone()])),
        Some(serde_json::Value::Array(items)) => {
            Ok(Some(items.iter().filter_map(|v| v.as_str()).map(str::to_owned).collect()))
        }
        Some(other) => Err(OidcError::IdToken(format!(
            "the '{groups_claim}' claim should list group names, not {}",
            json_kind(other)
        ))),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Compares secrets without an early exit that would tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
