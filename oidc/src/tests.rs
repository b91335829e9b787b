//! ID tokens signed here with a test key, checked the way a login checks them.

use chrono::{Duration as Span, Utc};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{
    Audience, EndUserUsername, IdTokenClaims, JsonWebKeyId, JsonWebKeySet, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};

use super::*;

fn test_policy() -> Arc<OutboundPolicy> {
    Arc::default()
}

const ISSUER: &str = "https://idp.acme.example";
const CLIENT: &str = "flotilla";
const NONCE: &str = "n-0S6_WzA2Mj";

fn key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

fn signing_key() -> CoreRsaPrivateSigningKey {
    key(include_str!("../tests/fixtures/test-signing-key.pem"))
}

/// The verifier a login to the Acme provider uses: its issuer, our client, its key.
fn verifier() -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(CLIENT.into()),
        ClientSecret::new("s3cret".into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        JsonWebKeySet::new(vec![signing_key().as_verification_key()]),
    )
}

struct Token {
    issuer: &'static str,
    audience: &'static str,
    expires_in: Span,
    nonce: &'static str,
    other: HashMap<String, serde_json::Value>,
    key: CoreRsaPrivateSigningKey,
}

impl Default for Token {
    fn default() -> Self {
        Self {
            issuer: ISSUER,
            audience: CLIENT,
            expires_in: Span::minutes(5),
            nonce: NONCE,
            other: HashMap::from([("groups".to_owned(), serde_json::json!(["platform", "kafka-team"]))]),
            key: signing_key(),
        }
    }
}

impl Token {
    fn sign(self) -> String {
        let now = Utc::now();
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.issuer.into()).unwrap(),
            vec![Audience::new(self.audience.into())],
            now + self.expires_in,
            now - Span::seconds(30),
            StandardClaims::new(SubjectIdentifier::new("248289761001".into()))
                .set_preferred_username(Some(EndUserUsername::new("alice".into()))),
            OtherClaims { claims: self.other },
        )
        .set_nonce(Some(Nonce::new(self.nonce.into())));
        FlotillaIdToken::new(claims, &self.key, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None)
            .unwrap()
            .to_string()
    }
}

fn check(raw: &str) -> Result<Identity, OidcError> {
    verify_id_token(raw, &verifier(), &Nonce::new(NONCE.into()), "groups")
}

#[test]
fn a_good_token_gives_the_user_and_their_groups() {
    let raw = Token::default().sign();
    let who = check(&raw).unwrap();
    assert_eq!(who.subject, "248289761001");
    assert_eq!(who.issuer, ISSUER);
    assert_eq!(who.preferred_username.as_deref(), Some("alice"));
    assert_eq!(who.groups, ["platform", "kafka-team"]);
    assert_eq!(who.id_token, raw);
}

#[test]
fn a_token_for_another_client_is_refused() {
    let err = check(&Token { audience: "someone-else", ..Token::default() }.sign()).unwrap_err();
    assert!(matches!(&err, OidcError::IdToken(m) if m.contains("another client")), "{err}");
    assert_eq!(err.code(), "token");
}

#[test]
fn an_expired_token_is_refused() {
    let err = check(&Token { expires_in: Span::minutes(-10), ..Token::default() }.sign()).unwrap_err();
    assert!(matches!(&err, OidcError::IdToken(m) if m.contains("expired")), "{err}");
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let err = check(&Token { issuer: "https://idp.globex.example", ..Token::default() }.sign()).unwrap_err();
    assert!(matches!(&err, OidcError::IdToken(m) if m.contains("another issuer")), "{err}");
}

#[test]
fn a_token_signed_with_another_key_is_refused() {
    let forged = Token { key: key(include_str!("../tests/fixtures/other-signing-key.pem")), ..Token::default() };
    let err = check(&forged.sign()).unwrap_err();
    assert!(matches!(&err, OidcError::BadSignature(_)), "{err}");
    assert!(err.to_string().contains("signature does not verify"), "{err}");
}

#[test]
fn a_token_from_another_login_is_refused() {
    let err = check(&Token { nonce: "someone-elses-nonce", ..Token::default() }.sign()).unwrap_err();
    assert!(matches!(&err, OidcError::IdToken(m) if m.contains("nonce")), "{err}");
}

#[test]
fn a_tampered_token_is_refused() {
    let raw = Token::default().sign();
    let mut parts: Vec<String> = raw.split('.').map(str::to_owned).collect();
    // Same header and signature, claims re-encoded with more groups.
    parts[1] = parts[1].replacen('e', "f", 1);
    assert!(check(&parts.join(".")).is_err());
    assert!(check("not-a-jwt").is_err());
}

#[test]
fn groups_may_be_one_string_or_missing_but_not_anything_else() {
    let one = Token { other: HashMap::from([("groups".into(), serde_json::json!("admins"))]), ..Token::default() };
    assert_eq!(check(&one.sign()).unwrap().groups, ["admins"]);
    let none = Token { other: HashMap::new(), ..Token::default() };
    assert!(check(&none.sign()).unwrap().groups.is_empty());
    let odd = Token { other: HashMap::from([("groups".into(), serde_json::json!({"a": 1}))]), ..Token::default() };
    let err = check(&odd.sign()).unwrap_err();
    assert!(err.to_string().contains("'groups' claim should list group names, not an object"), "{err}");
    // Another claim name, as the tenant configured it.
    let roles = Token { other: HashMap::from([("roles".into(), serde_json::json!(["ops"]))]), ..Token::default() };
    let who = verify_id_token(&roles.sign(), &verifier(), &Nonce::new(NONCE.into()), "roles").unwrap();
    assert_eq!(who.groups, ["ops"]);
}

/// A provider as discovered, without the network.
fn provider(end_session: bool) -> Provider {
    let mut doc = serde_json::json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/auth"),
        "token_endpoint": format!("{ISSUER}/token"),
        "jwks_uri": format!("{ISSUER}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    });
    if end_session {
        doc["end_session_endpoint"] = serde_json::json!(format!("{ISSUER}/session/end"));
    }
    let mut metadata: Metadata = serde_json::from_value(doc).unwrap();
    metadata = metadata.set_jwks(JsonWebKeySet::new(vec![signing_key().as_verification_key()]));
    Provider {
        metadata,
        settings: ProviderSettings {
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
            client_secret: Some(SecretString::from("s3cret")),
            scopes: vec!["openid".into(), "email".into(), "groups".into()],
            groups_claim: "groups".into(),
        },
        fresh: true,
        oidc: Oidc::new(test_policy()).unwrap(),
    }
}

#[test]
fn begin_asks_for_a_code_with_pkce_state_nonce_and_the_scopes() {
    let (url, pending) = provider(false).begin("https://flotilla.example/t/acme/callback").unwrap();
    assert!(url.starts_with(&format!("{ISSUER}/auth?")), "{url}");
    for part in [
        "response_type=code",
        "client_id=flotilla",
        "code_challenge_method=S256",
        "redirect_uri=https%3A%2F%2Fflotilla.example%2Ft%2Facme%2Fcallback",
        "scope=openid+email+groups",
    ] {
        assert!(url.contains(part), "{part} missing from {url}");
    }
    assert!(url.contains(&format!("state={}", pending.state)));
    assert!(url.contains(&format!("nonce={}", pending.nonce)));
    assert!(!url.contains(&pending.pkce_verifier), "the verifier stays on the server");
    let (_, again) = provider(false).begin("https://flotilla.example/t/acme/callback").unwrap();
    assert_ne!(pending.state, again.state, "state is random per login");
}

#[tokio::test]
async fn a_returned_state_that_differs_is_refused_before_the_provider_is_asked() {
    let p = provider(false);
    let (_, pending) = p.begin("https://flotilla.example/t/acme/callback").unwrap();
    let tampered = format!("{}x", pending.state);
    // The token endpoint is not reachable: had the code been redeemed, the error would differ.
    let returned = Returned { code: "code", state: &tampered, issuer: Some(ISSUER) };
    let err = p.finish(&pending, &returned, "https://flotilla.example/t/acme/callback").await.unwrap_err();
    assert_eq!(err, OidcError::StateMismatch);
    assert_eq!(err.code(), "state");
}

#[tokio::test]
async fn an_answer_naming_another_issuer_is_refused() {
    let p = provider(false);
    let (_, pending) = p.begin("https://flotilla.example/t/acme/callback").unwrap();
    let returned = Returned { code: "code", state: &pending.state, issuer: Some("https://idp.evil.example") };
    let err = p.finish(&pending, &returned, "https://flotilla.example/t/acme/callback").await.unwrap_err();
    assert!(err.to_string().contains("names the issuer https://idp.evil.example"), "{err}");
    assert_eq!(err.code(), "provider");
}

#[test]
fn logout_goes_to_the_end_session_endpoint_when_there_is_one() {
    let hint = Token::default().sign();
    let url = provider(true).end_session_url(Some(&hint), "https://flotilla.example/login").unwrap();
    assert!(url.starts_with(&format!("{ISSUER}/session/end?")), "{url}");
    assert!(url.contains(&format!("id_token_hint={hint}")), "{url}");
    assert!(url.contains("post_logout_redirect_uri=https%3A%2F%2Fflotilla.example%2Flogin"), "{url}");
    assert!(provider(false).end_session_url(Some(&hint), "https://flotilla.example/login").is_none());
}

#[test]
fn secrets_compare_in_full() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
}
