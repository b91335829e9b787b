//! The store against a real SQLite file: migrations, bootstrap, login, audit, sessions,
//! and the schema's own guarantees.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use flotilla_store::{Error, LoginAttempt, SecretCipher, SecretKey, Store, new_id, now_ms};
use secrecy::{ExposeSecret, SecretString};

fn attempt(username: &str, password: &str) -> LoginAttempt {
    LoginAttempt {
        tenant: "default".into(),
        username: username.into(),
        password: SecretString::from(password.to_owned()),
        source_ip: Some("127.0.0.1".into()),
    }
}

#[tokio::test]
async fn bootstrap_creates_the_admin_once_with_a_generated_password() {
    let (store, _dir) = common::store().await;
    let first = store.bootstrap(None).await.unwrap();
    assert!(first.admin_created);
    let password = first.generated_password.expect("a generated password is returned once");
    assert_eq!(password.expose_secret().len(), 20);

    let second = store.bootstrap(None).await.unwrap();
    assert!(!second.admin_created);
    assert!(second.generated_password.is_none());
    assert_eq!(first.tenant_id, second.tenant_id);

    let user = store.login_local(attempt("admin", password.expose_secret())).await.unwrap();
    assert!(user.is_platform_admin);
    let roles = store.role_names(&user.tenant_id, &user.id).await.unwrap();
    assert_eq!(roles, ["platform_admin", "tenant_admin"]);
}

#[tokio::test]
async fn configured_admin_password_is_used_and_reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = flotilla_testkit::database_url(dir.path()).await;
    let key = SecretKey::parse(&"11".repeat(32)).unwrap();
    let store = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let outcome = store.bootstrap(Some(&SecretString::from("s3cret-pass-long".to_owned()))).await.unwrap();
    assert!(outcome.generated_password.is_none());
    drop(store);

    // Reopen: migrations are not re-applied, the account is still there.
    let store = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    assert!(!store.bootstrap(None).await.unwrap().admin_created);
    store.login_local(attempt("ADMIN", "s3cret-pass-long")).await.expect("usernames are case-insensitive");
}

#[tokio::test]
async fn a_weak_admin_password_is_refused_at_the_first_start() {
    let (store, _dir) = common::store().await;
    let weak = store.bootstrap(Some(&SecretString::from("admin".to_owned()))).await.unwrap_err();
    assert!(weak.to_string().contains("too weak"), "{weak}");
    assert!(store.tenant_by_slug("default").await.unwrap().is_none(), "nothing was created");
}

#[tokio::test]
async fn failed_logins_are_refused_alike_and_audited() {
    let (store, _dir) = common::store().await;
    let tenant_id = store.bootstrap(Some(&SecretString::from("right-password".to_owned()))).await.unwrap().tenant_id;

    let wrong_password = store.login_local(attempt("admin", "wrong")).await.unwrap_err();
    let unknown_user = store.login_local(attempt("nobody", "right-password")).await.unwrap_err();
    assert!(matches!(wrong_password, Error::InvalidCredentials));
    assert!(matches!(unknown_user, Error::InvalidCredentials));
    assert_eq!(wrong_password.to_string(), unknown_user.to_string());

    let mut other_tenant = attempt("admin", "right-password");
    other_tenant.tenant = "no-such-tenant".into();
    assert!(matches!(store.login_local(other_tenant).await, Err(Error::InvalidCredentials)));

    let empty = store.login_local(attempt("admin", "")).await.unwrap_err();
    assert!(empty.to_string().contains("enter your password"), "{empty}");

    store.login_local(attempt("admin", "right-password")).await.unwrap();
    let log = store.audit_log(&tenant_id, 10).await.unwrap();
    let actions: Vec<_> = log.iter().map(|r| (r.action.as_str(), r.actor_name.as_str(), r.outcome.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("login", "admin", "ok"),
            ("login_failed", "nobody", "denied"),
            ("login_failed", "admin", "denied"),
            ("bootstrap.admin_created", "flotilla", "ok"),
        ]
    );
}

#[tokio::test]
async fn sessions_expire_and_ids_do_not_collide() {
    let (store, _dir) = common::store().await;
    let later = now_ms() + 60_000;
    assert!(store.session_insert("s1", "{}", later, None, None).await.unwrap());
    assert!(!store.session_insert("s1", "{\"x\":1}", later, None, None).await.unwrap(), "taken id refused");
    assert_eq!(store.session_load("s1").await.unwrap().unwrap().data, "{}");

    store.session_save("s1", "{\"user\":1}", later, None, None).await.unwrap();
    assert_eq!(store.session_load("s1").await.unwrap().unwrap().data, "{\"user\":1}");

    store.session_save("old", "{}", now_ms() - 1, None, None).await.unwrap();
    assert!(store.session_load("old").await.unwrap().is_none(), "expired sessions are not loaded");
    assert_eq!(store.sessions_delete_expired().await.unwrap(), 1);

    store.session_delete("s1").await.unwrap();
    assert!(store.session_load("s1").await.unwrap().is_none());
}

/// The schema refuses what the design forbids, whatever the application code does.
#[tokio::test]
async fn schema_guards_revisions_audit_and_tenancy() {
    let (store, _dir) = common::store().await;
    let tenant_id = store.bootstrap(None).await.unwrap().tenant_id;
    let pool = store.pool_for_tests();
    let now = now_ms();
    let ws = new_id();
    sqlx::query(
        "INSERT INTO workspaces (id, tenant_id, name, created_at, updated_at) VALUES ($1, $2, 'platform', $3, $3)",
    )
    .bind(&ws)
    .bind(&tenant_id)
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    let res = new_id();
    sqlx::query(
        "INSERT INTO federated_resources (id, tenant_id, workspace_id, api_version, kind, name, current_revision, created_at, updated_at) \
         VALUES ($1, $2, $3, 'v1', 'Namespace', 'team-a', 1, $4, $4)",
    )
    .bind(&res).bind(&tenant_id).bind(&ws).bind(now).execute(pool).await.unwrap();
    sqlx::query(
        "INSERT INTO resource_revisions (tenant_id, resource_id, revision, template, placement, content_hash, author_name, created_at) \
         VALUES ($1, $2, 1, '{}', '{}', 'h1', 'admin', $3)",
    )
    .bind(&tenant_id).bind(&res).bind(now).execute(pool).await.unwrap();

    // Revisions are immutable.
    let err = sqlx::query("UPDATE resource_revisions SET template = '{\"x\":1}'").execute(pool).await.unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    // The audit log is append-only.
    let err = sqlx::query("UPDATE audit_log SET actor_name = 'someone else'").execute(pool).await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    // Two workspace-level resources of the same kind and name cannot coexist (NULL project_id).
    let dup = sqlx::query(
        "INSERT INTO federated_resources (id, tenant_id, workspace_id, api_version, kind, name, current_revision, created_at, updated_at) \
         VALUES ($1, $2, $3, 'v1', 'Namespace', 'team-a', 1, $4, $4)",
    )
    .bind(new_id()).bind(&tenant_id).bind(&ws).bind(now).execute(pool).await;
    assert!(dup.is_err(), "duplicate workspace resource accepted");
    // Foreign keys are enforced: no rows for a tenant that does not exist.
    let orphan = sqlx::query(
        "INSERT INTO workspaces (id, tenant_id, name, created_at, updated_at) VALUES ($1, 'nope', 'x', 0, 0)",
    )
    .bind(new_id())
    .execute(pool)
    .await;
    assert!(orphan.is_err(), "row for a missing tenant accepted");
}

#[tokio::test]
async fn clusters_keep_credentials_encrypted_and_tenants_apart() {
    use flotilla_domain::ResourceName;
    use flotilla_store::NewCluster;

    let (store, _dir) = common::store().await;
    let tenant_id = store.bootstrap(None).await.unwrap().tenant_id;
    let cluster = NewCluster {
        name: ResourceName::parse("name", "prod-eu-1").unwrap(),
        api_server_url: "https://127.0.0.1:6443/clusters/prod-eu-1".into(),
        ca_pem: None,
        token: SecretString::from("sekret-token".to_owned()),
        labels: [("env".to_owned(), "prod".to_owned())].into(),
    };
    let id = store.register_cluster(&tenant_id, "admin", &cluster, false).await.unwrap();

    // Registering the same name again is refused with a message for the name field...
    let dup = store.register_cluster(&tenant_id, "admin", &cluster, false).await.unwrap_err();
    assert!(dup.to_string().contains("already registered"), "{dup}");
    // ...unless replacing, which keeps the id.
    assert_eq!(store.register_cluster(&tenant_id, "admin", &cluster, true).await.unwrap(), id);

    let listed = store.list_clusters(&tenant_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].labels["env"], "prod");
    assert_eq!(listed[0].health, "Unknown");

    // The token is stored encrypted, and decrypts back for the engine.
    let raw: String =
        sqlx::query_scalar("SELECT credentials_enc FROM clusters").fetch_one(store.pool_for_tests()).await.unwrap();
    assert!(!raw.contains("sekret-token") && raw.starts_with("v1:"));
    assert_eq!(store.cluster_token(&tenant_id, &id).await.unwrap().expose_secret(), "sekret-token");

    // Another tenant sees nothing and cannot read the credentials.
    assert!(store.list_clusters("other-tenant").await.unwrap().is_empty());
    assert!(matches!(store.cluster_token("other-tenant", &id).await, Err(Error::NotFound(_))));

    let actions: Vec<String> = store.audit_log(&tenant_id, 5).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions[..2], ["cluster.update", "cluster.register"]);
}
