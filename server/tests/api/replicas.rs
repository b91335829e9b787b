//! Two hub replicas (two servers) over one PostgreSQL database, as a load balancer would put
//! them in front of people: a session started on one works on the other, and the live stream
//! on one shows what is done through the other and the statuses the other's engine reports.
//! Run when the test command gives them PostgreSQL (FLOTILLA_TEST_POSTGRES).

use std::collections::BTreeSet;
use std::time::Duration;

use flotilla_domain::{Clearance, ResourceName};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec};
use secrecy::SecretString;
use serde_json::json;

use crate::events::read_until;
use crate::helpers::{ADMIN_PASSWORD, ok, session_cookie, set_cookie, spawn_app_in, spawn_app_with};

fn on_postgres() -> bool {
    let shared = std::env::var(flotilla_testkit::TEST_POSTGRES_ENV).is_ok_and(|v| !v.is_empty());
    if !shared {
        eprintln!("skipped: replicas share a PostgreSQL database ({} is not set)", flotilla_testkit::TEST_POSTGRES_ENV);
    }
    shared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_on_one_replica_works_on_the_other_whose_live_stream_shows_what_the_first_did() {
    if !on_postgres() {
        return;
    }
    // Replicas share the database and the secret key (cluster credentials, sealed logins).
    let key = SecretString::from("5a".repeat(32));
    let a = spawn_app_with(|args| args.secret_key = Some(key.clone())).await;
    let url = flotilla_testkit::database_url(a.data_dir.path()).await;
    let b = spawn_app_in(tempfile::tempdir().unwrap(), |args| {
        args.secret_key = Some(key.clone());
        args.database_url = Some(url.clone());
    })
    .await;

    // Rendezvous hashing: with 16 clusters the chance that one replica gets none is 2^-15
    // (with 8 it was 1 in 128).
    let names: Vec<String> = (0..16).map(|i| format!("r{i:02}")).collect();
    let specs = names.iter().map(|n| ClusterSpec::new(n.as_str())).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), specs, SimSettings::default()).await.unwrap();
    let tenant = a.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let rn = |s: &str| ResourceName::parse("name", s).unwrap();
    let mut cluster_ids = BTreeSet::new();
    for name in &names {
        let cluster = NewCluster {
            name: rn(name),
            api_server_url: sim.server_url(name),
            ca_pem: sim.ca_pem().map(str::to_owned),
            token: SecretString::from(sim.cluster(name).unwrap().token.clone()),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
        };
        cluster_ids.insert(a.store.register_cluster(&tenant, "test", &cluster, false).await.unwrap());
    }
    // Both replicas work some of the clusters.
    flotilla_testkit::eventually("the clusters shared by both replicas", Duration::from_secs(10), || async {
        let holders: BTreeSet<String> = a
            .store
            .leases()
            .await
            .unwrap()
            .into_iter()
            .filter(|(name, _, _, expires)| name.starts_with("cluster:") && *expires > flotilla_store::now_ms())
            .filter_map(|(_, holder, _, _)| holder)
            .collect();
        holders.len() == 2
    })
    .await;

    // Logged in through A; the same cookie opens B's live stream.
    let client = a.client();
    assert_eq!(a.login(&client, "admin", ADMIN_PASSWORD).await.status(), 200);
    let mut stream = client.get(b.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200, "the session made on A is good on B");

    // Made through A: B's stream hears of it, and of its status in every cluster, from
    // both engines.
    let actor = Actor::system("test");
    let ws = a.store.create_workspace(&tenant, &actor, &rn("prod"), "env=prod").await.unwrap();
    let project =
        a.store.create_project(&tenant, &actor, Clearance::TenantAdmin, &ws.id, &rn("shop"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let cm = ResourceSpec::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}));
    let id = a.store.create_resource(&tenant, &actor, Clearance::TenantAdmin, home, &cm).await.unwrap();
    let mut announced = false;
    let mut synced = BTreeSet::new();
    let mut seen = Vec::new();
    read_until(
        &mut stream,
        |name, event| {
            announced |= name == "changed" && event["what"] == "resource" && event["id"] == id.as_str();
            if name == "status" && event["resource_id"] == id.as_str() && event["code"] == "Synced" {
                synced.insert(event["cluster_id"].as_str().unwrap().to_owned());
            }
            announced && synced == cluster_ids
        },
        &mut seen,
    )
    .await;
    let _ = b.stop().await;
    let _ = a.stop().await;
}

/// A test OpenID Provider on loopback: discovery, its key set, and a token endpoint that
/// answers any code with an ID token signed for `nonce` (set by the test once it has read the
/// authorization URL the hub sent the browser to), naming user alice of group `ops`.
struct TestProvider {
    issuer: String,
    nonce: std::sync::Arc<std::sync::Mutex<String>>,
    redeemed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TestProvider {
    async fn start() -> Self {
        use openidconnect::core::CoreRsaPrivateSigningKey;
        use openidconnect::core::{CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm};
        use openidconnect::{
            Audience, EndUserUsername, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, JsonWebKeySet, Nonce,
            PrivateSigningKey, StandardClaims, SubjectIdentifier,
        };

        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        struct Groups {
            groups: Vec<String>,
        }
        impl openidconnect::AdditionalClaims for Groups {}

        let key = || {
            CoreRsaPrivateSigningKey::from_pem(
                include_str!("../../../oidc/tests/fixtures/test-signing-key.pem"),
                Some(JsonWebKeyId::new("k1".into())),
            )
            .unwrap()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let nonce = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let redeemed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let discovery = json!({
            "issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let keys = serde_json::to_value(JsonWebKeySet::new(vec![key().as_verification_key()])).unwrap();
        let token = {
            let (issuer, nonce, redeemed) = (issuer.clone(), nonce.clone(), redeemed.clone());
            move || {
                let (issuer, nonce, redeemed) = (issuer.clone(), nonce.clone(), redeemed.clone());
                async move {
                    redeemed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let now = chrono::Utc::now();
                    let claims = IdTokenClaims::new(
                        IssuerUrl::new(issuer).unwrap(),
                        vec![Audience::new("flotilla".into())],
                        now + chrono::Duration::minutes(5),
                        now - chrono::Duration::seconds(30),
                        StandardClaims::new(SubjectIdentifier::new("alice-0001".into()))
                            .set_preferred_username(Some(EndUserUsername::new("alice".into()))),
                        Groups { groups: vec!["ops".into()] },
                    )
                    .set_nonce(Some(Nonce::new(nonce.lock().unwrap().clone())));
                    let id_token = IdToken::<
                        Groups,
                        CoreGenderClaim,
                        CoreJweContentEncryptionAlgorithm,
                        CoreJwsSigningAlgorithm,
                    >::new(
                        claims, &key(), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None
                    )
                    .unwrap();
                    axum::Json(json!({
                        "access_token": "at", "token_type": "Bearer", "expires_in": 300,
                        "id_token": id_token.to_string(),
                    }))
                }
            }
        };
        let idp = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route("/jwks", axum::routing::get(move || async move { axum::Json(keys) }))
            .route("/token", axum::routing::post(token));
        tokio::spawn(async move { axum::serve(listener, idp).await.unwrap() });
        Self { issuer, nonce, redeemed }
    }
}

/// #18 point 6: a login through the tenant's OpenID Provider that starts on replica A (which
/// seals what the callback must check into a cookie) returns to replica B, which finishes it;
/// the session made on B then works on A.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oidc_login_started_on_one_replica_finishes_on_the_other() {
    if !on_postgres() {
        return;
    }
    let provider = TestProvider::start().await;
    // Behind one load balancer both replicas have the same public address and key.
    let key = SecretString::from("6b".repeat(32));
    let public = "http://flotilla.test";
    let a = spawn_app_with(|args| {
        args.secret_key = Some(key.clone());
        args.public_url = Some(public.into());
    })
    .await;
    let url = flotilla_testkit::database_url(a.data_dir.path()).await;
    let b = spawn_app_in(tempfile::tempdir().unwrap(), |args| {
        args.secret_key = Some(key.clone());
        args.database_url = Some(url.clone());
        args.public_url = Some(public.into());
    })
    .await;

    let admin = a.client();
    a.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(a.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    let form = [
        ("id", id),
        ("version", "1"),
        ("provider[issuer_url]", provider.issuer.as_str()),
        ("provider[client_id]", "flotilla"),
        ("provider[client_secret]", "s3cret"),
        ("provider[scopes]", "openid groups"),
        ("provider[groups_claim]", "groups"),
    ];
    ok(a.call(&admin, "/api/tenants/set-oidc", &form).await).await;
    let rule = [("id", id), ("group", "ops"), ("role", "tenant_admin"), ("scope_id", "")];
    ok(a.call(&admin, "/api/tenants/add-mapping", &rule).await).await;

    // The browser starts on A, which sends it to the provider.
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let started = browser.get(a.url("/t/acme/login?next=/workspaces")).send().await.unwrap();
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/auth?", provider.issuer)), "{location}");
    let param = |name: &str| {
        reqwest::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    assert_eq!(param("redirect_uri"), format!("{public}/t/acme/callback"));
    *provider.nonce.lock().unwrap() = param("nonce");
    let pending = set_cookie(&started, "flotilla_login")
        .expect("the login in progress travels in a cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // The provider sends it back to the public address; the load balancer picks B.
    let callback = b.url(&format!("/t/acme/callback?code=the-code&state={}", param("state")));
    let finished = browser.get(&callback).header("cookie", &pending).send().await.unwrap();
    let landed = finished.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(landed, "/workspaces", "B finished the login A started");
    assert_eq!(provider.redeemed.load(std::sync::atomic::Ordering::SeqCst), 1, "B redeemed the code");
    let session = session_cookie(&finished).expect("B started a session");
    let session = session.split(';').next().unwrap().to_owned();

    // The session works on both replicas: alice, Acme's admin.
    for replica in [&a, &b] {
        let me = browser.get(replica.url("/api/events")).header("cookie", &session).send().await.unwrap();
        assert_eq!(me.status(), 200, "the session opens the live stream on {}", replica.url(""));
    }
    let users = sqlx::query_scalar::<_, String>("SELECT username FROM users WHERE tenant_id = $1")
        .bind(id)
        .fetch_all(a.store.pool_for_tests())
        .await
        .unwrap();
    assert!(users.iter().any(|u| u == "alice"), "{users:?}");
    let _ = b.stop().await;
    let _ = a.stop().await;
}
