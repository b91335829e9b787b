//! Whole logins against a small OpenID Provider served here over HTTP: where the groups come
//! from (ID token or userinfo), and when the discovery document and keys are read again.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration as Span, Utc};
use flotilla_oidc::{Identity, MAX_ANSWER, Oidc, OidcError, ProviderSettings, Returned};
use flotilla_outbound::{Loopback, OutboundPolicy};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, JsonWebKeySet, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const REDIRECT: &str = "https://flotilla.example/t/acme/callback";
const SUBJECT: &str = "acme|alice";
const ACCESS_TOKEN: &str = "access-token-for-alice";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    claims: HashMap<String, Value>,
}
impl AdditionalClaims for Extra {}

fn key(id: &str) -> CoreRsaPrivateSigningKey {
    let pem = match id {
        "k1" => include_str!("fixtures/test-signing-key.pem"),
        _ => include_str!("fixtures/other-signing-key.pem"),
    };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(id.into()))).unwrap()
}

/// What the provider does, changed by the tests between logins.
struct Idp {
    issuer: String,
    /// The key its ID tokens are signed with, and the one its JWKS publishes.
    signs_with: Mutex<&'static str>,
    publishes: Mutex<&'static str>,
    /// The groups claim of its ID tokens (`None`: no such claim).
    token_groups: Mutex<Option<Value>>,
    /// What its userinfo endpoint answers.
    userinfo: Mutex<Value>,
    /// The nonce of the login in progress (a real provider keeps it with the code).
    nonce: Mutex<String>,
    discovery_reads: AtomicUsize,
    userinfo_reads: AtomicUsize,
    /// Where its discovery document says the token endpoint is (`None`: its own).
    token_endpoint: Mutex<Option<String>>,
    /// Bytes of padding in its discovery document.
    padding: AtomicUsize,
}

/// The provider listens on this machine's loopback address, over plain http.
fn test_policy() -> Arc<OutboundPolicy> {
    Arc::new(OutboundPolicy { loopback: Loopback::Http, ..Default::default() })
}

async fn discovery(State(idp): State<Arc<Idp>>) -> Json<Value> {
    idp.discovery_reads.fetch_add(1, Ordering::SeqCst);
    let i = &idp.issuer;
    let token_endpoint = idp.token_endpoint.lock().unwrap().clone().unwrap_or(format!("{i}/token"));
    Json(json!({
        "issuer": i,
        "padding": "x".repeat(idp.padding.load(Ordering::SeqCst)),
        "authorization_endpoint": format!("{i}/auth"),
        "token_endpoint": token_endpoint,
        "userinfo_endpoint": format!("{i}/me"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(idp): State<Arc<Idp>>) -> Json<Value> {
    let published = key(*idp.publishes.lock().unwrap());
    Json(serde_json::to_value(JsonWebKeySet::new(vec![published.as_verification_key()])).unwrap())
}

async fn token(State(idp): State<Arc<Idp>>) -> Json<Value> {
    let now = Utc::now();
    let mut extra = HashMap::new();
    if let Some(groups) = idp.token_groups.lock().unwrap().clone() {
        extra.insert("groups".to_owned(), groups);
    }
    let claims = IdTokenClaims::new(
        IssuerUrl::new(idp.issuer.clone()).unwrap(),
        vec![Audience::new("flotilla".into())],
        now + Span::minutes(5),
        now,
        StandardClaims::new(SubjectIdentifier::new(SUBJECT.into())),
        Extra { claims: extra },
    )
    .set_nonce(Some(Nonce::new(idp.nonce.lock().unwrap().clone())));
    let signer = key(*idp.signs_with.lock().unwrap());
    let id_token = IdToken::<Extra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>::new(
        claims,
        &signer,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap();
    Json(json!({
        "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300, "id_token": id_token.to_string(),
    }))
}

async fn userinfo(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    idp.userinfo_reads.fetch_add(1, Ordering::SeqCst);
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(idp.userinfo.lock().unwrap().clone()).into_response()
}

async fn start_idp() -> Arc<Idp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp = Arc::new(Idp {
        issuer: format!("http://{}", listener.local_addr().unwrap()),
        signs_with: Mutex::new("k1"),
        publishes: Mutex::new("k1"),
        token_groups: Mutex::new(Some(json!(["acme-platform"]))),
        userinfo: Mutex::new(json!({"sub": SUBJECT, "groups": ["from-userinfo"], "email": "alice@acme.example"})),
        nonce: Mutex::default(),
        discovery_reads: AtomicUsize::new(0),
        userinfo_reads: AtomicUsize::new(0),
        token_endpoint: Mutex::default(),
        padding: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/me", get(userinfo))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    idp
}

fn settings(idp: &Idp) -> ProviderSettings {
    ProviderSettings {
        issuer: idp.issuer.clone(),
        client_id: "flotilla".into(),
        client_secret: Some(SecretString::from("acme-client-secret")),
        scopes: vec!["openid".into(), "groups".into()],
        groups_claim: "groups".into(),
    }
}

/// A login as the server does one: discover, begin, (the user signs in at the provider,
/// which issues a code for this login's nonce), finish.
async fn log_in(oidc: &Oidc, idp: &Idp) -> Result<Identity, OidcError> {
    let provider = oidc.discover(&settings(idp)).await?;
    let (_, pending) = provider.begin(REDIRECT)?;
    *idp.nonce.lock().unwrap() = pending.nonce.clone();
    let returned = Returned { code: "code", state: &pending.state, issuer: Some(&idp.issuer) };
    provider.finish(&pending, &returned, REDIRECT).await
}

#[tokio::test]
async fn groups_in_the_id_token_are_used_without_asking_userinfo() {
    let idp = start_idp().await;
    let who = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap();
    assert_eq!(who.subject, SUBJECT);
    assert_eq!(who.groups, ["acme-platform"]);
    assert_eq!(idp.userinfo_reads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_a_groups_claim_in_the_id_token_the_groups_come_from_userinfo() {
    let idp = start_idp().await;
    *idp.token_groups.lock().unwrap() = None;
    let who = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap();
    assert_eq!(who.groups, ["from-userinfo"]);
    assert_eq!(who.email.as_deref(), Some("alice@acme.example"), "what the ID token lacks is filled in");
    assert_eq!(idp.userinfo_reads.load(Ordering::SeqCst), 1);

    // An empty list in the ID token is an answer: userinfo is not asked.
    *idp.token_groups.lock().unwrap() = Some(json!([]));
    assert!(log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap().groups.is_empty());
    assert_eq!(idp.userinfo_reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn userinfo_about_another_user_or_of_the_wrong_shape_is_refused() {
    let idp = start_idp().await;
    *idp.token_groups.lock().unwrap() = None;
    *idp.userinfo.lock().unwrap() = json!({"sub": "acme|mallory", "groups": ["acme-platform"]});
    let err = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap_err();
    assert!(err.to_string().contains("user info is about another user"), "{err}");
    assert_eq!(err.code(), "token");

    *idp.userinfo.lock().unwrap() = json!({"sub": SUBJECT, "groups": {"acme-platform": true}});
    let err = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap_err();
    assert!(err.to_string().contains("'groups' claim should list group names, not an object"), "{err}");
}

#[tokio::test]
async fn discovery_is_kept_between_steps_and_read_afresh_by_the_configuration_test() {
    let idp = start_idp().await;
    let oidc = Oidc::new(test_policy()).unwrap();
    log_in(&oidc, &idp).await.unwrap();
    log_in(&oidc, &idp).await.unwrap();
    assert!(oidc.discover(&settings(&idp)).await.unwrap().end_session_url(None, REDIRECT).is_none());
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 1, "two logins and a logout, one discovery");

    let report = oidc.check(&settings(&idp), REDIRECT).await.unwrap();
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 2, "the admin's test asks the provider now");
    assert!(report.notes.iter().any(|n| n.contains(&format!("read from {}/me", idp.issuer))), "{:?}", report.notes);
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_once_and_an_unknown_one_refused() {
    let idp = start_idp().await;
    let oidc = Oidc::new(test_policy()).unwrap();
    log_in(&oidc, &idp).await.unwrap();
    // The provider rotates to a new key: the kept set lacks it, so the keys are read again.
    *idp.signs_with.lock().unwrap() = "k2";
    *idp.publishes.lock().unwrap() = "k2";
    assert_eq!(log_in(&oidc, &idp).await.unwrap().groups, ["acme-platform"]);
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 2);
    log_in(&oidc, &idp).await.unwrap();
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 2, "the new keys are kept");

    // A token signed with a key the provider does not publish: refused after one fresh read.
    *idp.signs_with.lock().unwrap() = "k1";
    let err = log_in(&oidc, &idp).await.unwrap_err();
    assert!(matches!(err, OidcError::BadSignature(_)), "{err}");
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_outbound_policy_decides_which_providers_and_endpoints_are_called() {
    let idp = start_idp().await;
    // A hub that does not allow its own machine (the default) does not call this provider,
    // and one that allows only https there does not call it over plain http.
    for loopback in [Loopback::Deny, Loopback::Https] {
        let oidc = Oidc::new(Arc::new(OutboundPolicy { loopback, ..Default::default() })).unwrap();
        let err = log_in(&oidc, &idp).await.unwrap_err();
        assert!(matches!(err, OidcError::InvalidIssuer(_)) && err.to_string().contains("loopback"), "{err}");
    }
    assert_eq!(idp.discovery_reads.load(Ordering::SeqCst), 0, "nothing was sent");

    // An endpoint the discovery document names is judged like the issuer: a provider cannot
    // make the hub send a login code (with its client secret) to the cloud's metadata service.
    *idp.token_endpoint.lock().unwrap() = Some("http://169.254.169.254/latest/meta-data".into());
    let err = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap_err();
    assert!(err.to_string().contains("cloud metadata service"), "{err}");
    *idp.token_endpoint.lock().unwrap() = None;
    let policy =
        OutboundPolicy { loopback: Loopback::Http, deny: vec!["127.0.0.0/8".parse().unwrap()], ..Default::default() };
    let err = log_in(&Oidc::new(Arc::new(policy)).unwrap(), &idp).await.unwrap_err();
    assert!(err.to_string().contains("a network this hub refuses"), "{err}");

    // A provider's answer is read up to a bound.
    idp.padding.store(MAX_ANSWER + 1, Ordering::SeqCst);
    let err = log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    idp.padding.store(0, Ordering::SeqCst);
    log_in(&Oidc::new(test_policy()).unwrap(), &idp).await.unwrap();
}
