//! Tenants, their providers and group rules, and logins through a provider.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::time::Duration;

use flotilla_domain::{Grant, ResourceName, Role};
use flotilla_store::{Actor, Error, OidcLogin, OidcSettingsInput, Store};
use flotilla_testkit::eventually;
use secrecy::{ExposeSecret, SecretString};

/// The bootstrap admin (revisions name their author, a real user).
async fn platform_admin_of(store: &Store) -> Actor {
    let attempt = flotilla_store::LoginAttempt {
        tenant: "default".into(),
        username: "admin".into(),
        password: SecretString::from("pw-long-enough-1"),
        source_ip: None,
    };
    let admin = store.login_local(attempt).await.unwrap();
    Actor::user(&admin.id, &admin.username)
}

fn platform_admin() -> Actor {
    Actor::user("u-admin", "admin")
}

fn provider(secret: Option<&str>) -> OidcSettingsInput {
    OidcSettingsInput {
        issuer_url: "https://idp.acme.example/".into(),
        client_id: "flotilla".into(),
        client_secret: secret.map(|s| SecretString::from(s.to_owned())),
        scopes: "email openid groups".into(),
        groups_claim: "groups".into(),
    }
}

fn login(tenant_id: &str, subject: &str, username: &str, groups: &[&str]) -> OidcLogin {
    OidcLogin {
        tenant_id: tenant_id.into(),
        issuer: "https://idp.acme.example".into(),
        subject: subject.into(),
        preferred_username: Some(username.into()),
        email: Some(format!("{username}@acme.example")),
        name: Some(format!("{username} Example")),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        source_ip: Some("10.0.0.7".into()),
    }
}

fn field(err: &Error) -> &'static str {
    match err {
        Error::Domain(flotilla_domain::Error::Invalid { field, .. }) => field,
        other => panic!("not a field error: {other:?}"),
    }
}

async fn actions(store: &Store, tenant_id: &str) -> Vec<(String, String)> {
    let mut log = store.audit_log(tenant_id, 100).await.unwrap();
    log.reverse();
    log.into_iter().map(|r| (r.action, r.outcome)).collect()
}

#[tokio::test]
async fn tenants_are_created_with_unique_valid_slugs_and_audited() {
    let (store, _dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let acme = store.create_tenant(&platform_admin(), "acme", " Acme Corp ").await.unwrap();
    assert_eq!((acme.slug.as_str(), acme.display_name.as_str()), ("acme", "Acme Corp"));
    assert_eq!(field(&store.create_tenant(&platform_admin(), "acme", "Again").await.unwrap_err()), "slug");
    assert_eq!(field(&store.create_tenant(&platform_admin(), "Acme!", "x").await.unwrap_err()), "tenant");
    assert_eq!(field(&store.create_tenant(&platform_admin(), "globex", "  ").await.unwrap_err()), "display_name");

    let slugs: Vec<String> = store.list_tenants().await.unwrap().into_iter().map(|t| t.slug).collect();
    assert_eq!(slugs, ["acme", "default"]);
    assert_eq!(actions(&store, &acme.id).await, [("tenant.create".to_owned(), "ok".to_owned())]);
}

#[tokio::test]
async fn a_providers_secret_is_encrypted_kept_or_replaced_and_never_shown() {
    let (store, dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let acme = store.create_tenant(&platform_admin(), "acme", "Acme").await.unwrap();
    assert!(store.tenant_oidc(&acme.id).await.unwrap().is_none(), "local accounts only at first");

    store.set_tenant_oidc(&platform_admin(), &acme.id, Some(provider(Some("top-s3cret"))), 1).await.unwrap();
    let settings = store.tenant_oidc(&acme.id).await.unwrap().unwrap();
    assert_eq!(settings.issuer_url, "https://idp.acme.example", "trailing slash dropped");
    assert_eq!(settings.scopes, "openid email groups", "openid first, once");
    assert_eq!(settings.client_secret.unwrap().expose_secret(), "top-s3cret");
    let stored: String = sqlx::query_scalar("SELECT oidc_client_secret_enc FROM tenants WHERE id = $1")
        .bind(&acme.id)
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    assert!(!stored.contains("top-s3cret"), "the secret is not stored in plain text");
    if store.backend() == flotilla_store::Backend::Sqlite {
        let raw = std::fs::read(dir.path().join("flotilla.db")).unwrap();
        assert!(!raw.windows(10).any(|w| w == b"top-s3cret"), "nowhere in the database file");
    }

    let detail = store.tenant_detail(&acme.id).await.unwrap();
    let shown = detail.oidc.unwrap();
    assert!(shown.has_client_secret);
    assert!(!format!("{:?}", store.tenant_detail(&acme.id).await.unwrap()).contains("top-s3cret"));

    // No secret in the input keeps the stored one; an empty one removes it.
    store.set_tenant_oidc(&platform_admin(), &acme.id, Some(provider(None)), 2).await.unwrap();
    assert!(store.tenant_oidc(&acme.id).await.unwrap().unwrap().client_secret.is_some());
    // A stale edit is refused and names who saved.
    let stale = store.set_tenant_oidc(&Actor::user("u2", "carol"), &acme.id, Some(provider(Some(""))), 2).await;
    assert!(matches!(stale, Err(Error::Stale { ref by, .. }) if by == "admin"), "{stale:?}");
    store.set_tenant_oidc(&platform_admin(), &acme.id, Some(provider(Some(""))), 3).await.unwrap();
    assert!(store.tenant_oidc(&acme.id).await.unwrap().unwrap().client_secret.is_none());

    store.set_tenant_oidc(&platform_admin(), &acme.id, None, 4).await.unwrap();
    assert!(store.tenant_oidc(&acme.id).await.unwrap().is_none());
    let log = store.audit_log(&acme.id, 10).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.action == "tenant.oidc_update").count(), 4);
    assert!(log.iter().all(|r| !r.detail.contains("top-s3cret")), "the audit log names no secret");
    assert!(log.iter().any(|r| r.detail.contains(r#""client_secret":"set""#)));
}

#[tokio::test]
async fn bad_provider_settings_name_their_field_and_change_nothing() {
    let (store, _dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let acme = store.create_tenant(&platform_admin(), "acme", "Acme").await.unwrap();
    let cases = [
        (OidcSettingsInput { issuer_url: "".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { issuer_url: "idp.example".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { issuer_url: "ftp://idp.example".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { issuer_url: "https://u:p@idp.example".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { issuer_url: "https://idp.example?x=1".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { issuer_url: "https://idp.example/#x".into(), ..provider(None) }, "issuer_url"),
        (OidcSettingsInput { client_id: " ".into(), ..provider(None) }, "client_id"),
        (OidcSettingsInput { scopes: "openid \"x\"".into(), ..provider(None) }, "scopes"),
        (OidcSettingsInput { groups_claim: "my groups".into(), ..provider(None) }, "groups_claim"),
    ];
    for (input, expected) in cases {
        let err = store.set_tenant_oidc(&platform_admin(), &acme.id, Some(input), 1).await.unwrap_err();
        assert_eq!(field(&err), expected);
    }
    assert!(store.tenant_oidc(&acme.id).await.unwrap().is_none());
    assert_eq!(store.tenant_detail(&acme.id).await.unwrap().tenant.version, 1);
    // Whether this hub may call the provider (https, addresses) is the server's outbound
    // policy's question (server/tests/api/tenancy.rs); the store takes any http(s) URL.
    let local = OidcSettingsInput { issuer_url: "http://127.0.0.1:4011".into(), ..provider(None) };
    store.set_tenant_oidc(&platform_admin(), &acme.id, Some(local), 1).await.unwrap();
    let local = OidcSettingsInput { issuer_url: "http://localhost/realms/acme".into(), ..provider(None) };
    store.set_tenant_oidc(&platform_admin(), &acme.id, Some(local), 2).await.unwrap();
}

#[tokio::test]
async fn group_rules_name_a_scope_of_their_own_tenant() {
    let (store, _dir, default) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let admin = platform_admin_of(&store).await;
    let acme = store.create_tenant(&admin, "acme", "Acme").await.unwrap();
    let prod =
        store.create_workspace(&acme.id, &admin, &ResourceName::parse("name", "prod").unwrap(), "").await.unwrap();
    let kafka = store
        .create_project(
            &acme.id,
            &admin,
            flotilla_domain::Clearance::TenantAdmin,
            &prod.id,
            &ResourceName::parse("name", "kafka").unwrap(),
            "",
        )
        .await
        .unwrap();
    let elsewhere =
        store.create_workspace(&default, &admin, &ResourceName::parse("name", "prod").unwrap(), "").await.unwrap();

    store.add_group_mapping(&admin, &acme.id, "platform", Role::TenantAdmin, "").await.unwrap();
    store.add_group_mapping(&admin, &acme.id, "sre", Role::WorkspaceEditor, &prod.id).await.unwrap();
    let rule = store.add_group_mapping(&admin, &acme.id, "kafka-team", Role::ProjectViewer, &kafka.id).await.unwrap();
    assert_eq!(rule.scope_name, "prod/kafka");

    let refused = [
        store.add_group_mapping(&admin, &acme.id, "sre", Role::WorkspaceEditor, &prod.id).await,
        store.add_group_mapping(&admin, &acme.id, "x", Role::WorkspaceViewer, &elsewhere.id).await,
        store.add_group_mapping(&admin, &acme.id, "x", Role::ProjectViewer, &prod.id).await,
        store.add_group_mapping(&admin, &acme.id, "x", Role::TenantAdmin, &prod.id).await,
        store.add_group_mapping(&admin, &acme.id, "x", Role::PlatformAdmin, "").await,
        store.add_group_mapping(&admin, &acme.id, " ", Role::TenantAdmin, "").await,
    ];
    let fields: Vec<&str> = refused.iter().map(|r| field(r.as_ref().unwrap_err())).collect();
    assert_eq!(fields, ["group", "scope", "scope", "scope", "role", "group"]);

    let detail = store.tenant_detail(&acme.id).await.unwrap();
    let rules: Vec<(&str, Role, &str)> =
        detail.mappings.iter().map(|m| (m.group.as_str(), m.role, m.scope_name.as_str())).collect();
    assert_eq!(
        rules,
        [
            ("kafka-team", Role::ProjectViewer, "prod/kafka"),
            ("platform", Role::TenantAdmin, ""),
            ("sre", Role::WorkspaceEditor, "prod")
        ]
    );
    // Another tenant's rule cannot be removed through this one.
    assert!(matches!(store.remove_group_mapping(&admin, &default, &rule.id).await, Err(Error::NotFound(_))));
    store.remove_group_mapping(&admin, &acme.id, &rule.id).await.unwrap();
    assert_eq!(store.group_mappings(&acme.id).await.unwrap().len(), 2);
    let adds = actions(&store, &acme.id).await.into_iter().filter(|(a, _)| a.starts_with("role_mapping.")).count();
    assert_eq!(adds, 4, "three rules added, one removed");
}

#[tokio::test]
async fn a_provider_login_creates_the_user_and_refreshes_their_roles_each_time() {
    let (store, _dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let admin = platform_admin_of(&store).await;
    let acme = store.create_tenant(&admin, "acme", "Acme").await.unwrap();
    let prod =
        store.create_workspace(&acme.id, &admin, &ResourceName::parse("name", "prod").unwrap(), "").await.unwrap();
    store.add_group_mapping(&admin, &acme.id, "sre", Role::WorkspaceEditor, &prod.id).await.unwrap();
    store.add_group_mapping(&admin, &acme.id, "platform", Role::TenantAdmin, "").await.unwrap();

    // No group with a role: refused, audited, no account made.
    let refused = store.login_oidc(login(&acme.id, "sub-1", "alice", &["interns"])).await.unwrap_err();
    assert!(matches!(refused, Error::NoRole));
    assert!(store.list_tenants().await.unwrap().iter().all(|t| t.users == 0 || t.slug != "acme"));

    let alice = store.login_oidc(login(&acme.id, "sub-1", "Alice", &["sre", "interns"])).await.unwrap();
    assert_eq!((alice.username.as_str(), alice.display_name.as_str()), ("alice", "Alice Example"));
    assert_eq!(store.grants(&acme.id, &alice.id).await.unwrap(), [Grant::new(Role::WorkspaceEditor, prod.id.clone())]);

    // Same groups: same roles, no role change recorded. New groups: roles replaced.
    store.login_oidc(login(&acme.id, "sub-1", "alice", &["sre"])).await.unwrap();
    let again = store.login_oidc(login(&acme.id, "sub-1", "alice", &["platform"])).await.unwrap();
    assert_eq!(again.id, alice.id, "found by subject");
    assert_eq!(store.grants(&acme.id, &alice.id).await.unwrap(), [Grant::new(Role::TenantAdmin, "")]);

    let log = actions(&store, &acme.id).await;
    let logins: Vec<&str> = log
        .iter()
        .filter(|(a, _)| a.starts_with("login") || a == "user.roles_changed")
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(
        logins,
        ["login_failed", "user.roles_changed", "login", "login", "user.roles_changed", "login"],
        "a refused login, then roles recorded only when they change"
    );
    let changed = store.audit_log(&acme.id, 10).await.unwrap();
    let last_change = changed.iter().find(|r| r.action == "user.roles_changed").unwrap();
    assert!(last_change.detail.contains("tenant_admin") && last_change.detail.contains("workspace_editor"));

    // Another person the provider also calls alice: their own account, with a suffix.
    let namesake = store.login_oidc(login(&acme.id, "sub-2", "alice", &["sre"])).await.unwrap();
    assert_eq!(namesake.username, "alice-1");
    // The same subject at another provider is someone else.
    let elsewhere = store
        .login_oidc(OidcLogin {
            issuer: "https://idp.other.example".into(),
            ..login(&acme.id, "sub-1", "al", &["sre"])
        })
        .await
        .unwrap();
    assert_ne!(elsewhere.id, alice.id);
    // Another tenant's user with the same subject is another account.
    let globex = store.create_tenant(&admin, "globex", "Globex").await.unwrap();
    store.add_group_mapping(&admin, &globex.id, "sre", Role::TenantAdmin, "").await.unwrap();
    let twin = store.login_oidc(login(&globex.id, "sub-1", "alice", &["sre"])).await.unwrap();
    assert_ne!(twin.id, alice.id);
    assert!(store.grants(&acme.id, &twin.id).await.unwrap().is_empty(), "no roles across tenants");
}

#[tokio::test]
async fn a_change_of_the_group_rules_changes_the_roles_of_those_logged_in_at_once() {
    let (store, _dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let admin = platform_admin_of(&store).await;
    let acme = store.create_tenant(&admin, "acme", "Acme").await.unwrap();
    let globex = store.create_tenant(&admin, "globex", "Globex").await.unwrap();
    let prod =
        store.create_workspace(&acme.id, &admin, &ResourceName::parse("name", "prod").unwrap(), "").await.unwrap();
    let sre = store.add_group_mapping(&admin, &acme.id, "sre", Role::WorkspaceEditor, &prod.id).await.unwrap();
    store.add_group_mapping(&admin, &globex.id, "sre", Role::TenantAdmin, "").await.unwrap();
    let alice = store.login_oidc(login(&acme.id, "sub-a", "alice", &["sre", "oncall", "sre"])).await.unwrap();
    let bob = store.login_oidc(login(&acme.id, "sub-b", "bob", &["sre"])).await.unwrap();
    let twin = store.login_oidc(login(&globex.id, "sub-a", "alice", &["sre"])).await.unwrap();
    let editor = Grant::new(Role::WorkspaceEditor, prod.id.clone());
    let tenant_admin = Grant::new(Role::TenantAdmin, "");

    // A rule for a group nobody has: nobody's roles change.
    store.add_group_mapping(&admin, &acme.id, "auditors", Role::TenantAdmin, "").await.unwrap();
    assert!(rule_changes(&store, &acme.id).await.is_empty());

    // A new rule for a group Alice's provider named: she holds it at once; Bob does not.
    store.add_group_mapping(&admin, &acme.id, "oncall", Role::TenantAdmin, "").await.unwrap();
    assert_eq!(store.grants(&acme.id, &alice.id).await.unwrap(), [tenant_admin.clone(), editor.clone()]);
    assert_eq!(store.grants(&acme.id, &bob.id).await.unwrap(), [editor]);

    // The sre rule removed: both lose what it gave, at once; Globex's sre are untouched.
    store.remove_group_mapping(&admin, &acme.id, &sre.id).await.unwrap();
    assert_eq!(store.grants(&acme.id, &alice.id).await.unwrap(), std::slice::from_ref(&tenant_admin));
    assert!(store.grants(&acme.id, &bob.id).await.unwrap().is_empty(), "bob has no role left");
    assert_eq!(store.grants(&globex.id, &twin.id).await.unwrap(), [tenant_admin]);

    // Each change is audited with the admin who changed the rules and the user it touched.
    let mut seen = rule_changes(&store, &acme.id).await;
    seen.sort();
    let pair = |user: &str| ("admin".to_owned(), user.to_owned());
    assert_eq!(seen, [pair("alice"), pair("alice"), pair("bob")]);
    assert!(rule_changes(&store, &globex.id).await.is_empty());

    // Bob's next login with the same groups is refused: no rule gives sre a role any more.
    assert!(matches!(store.login_oidc(login(&acme.id, "sub-b", "bob", &["sre"])).await, Err(Error::NoRole)));
}

/// The role changes a change of the group rules made: (who changed the rules, whose roles).
async fn rule_changes(store: &Store, tenant_id: &str) -> Vec<(String, String)> {
    let log = store.audit_log(tenant_id, 100).await.unwrap();
    log.into_iter()
        .filter(|r| r.action == "user.roles_changed" && r.detail.contains("group rules"))
        .map(|r| (r.actor_name, r.target_name))
        .collect()
}

/// The project's access bindings as (name, ClusterRole, groups), live ones only.
async fn bindings(
    store: &Store,
    tenant_id: &str,
    workspace_id: &str,
    project_id: &str,
) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for r in store.list_resources(tenant_id, workspace_id, Some(project_id)).await.unwrap() {
        if r.deleted || r.kind != "RoleBinding" {
            continue;
        }
        let t = store.resource_revision(tenant_id, &r.id, None).await.unwrap().spec.template;
        let groups = t["subjects"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
        out.push((r.name, t["roleRef"]["name"].as_str().unwrap().to_owned(), groups));
    }
    out.sort();
    out
}

#[tokio::test]
async fn groups_with_project_roles_get_role_bindings_in_the_project_that_follow_the_rules() {
    let (store, _dir, _) = common::bootstrapped(Some("pw-long-enough-1")).await;
    let admin = platform_admin_of(&store).await;
    let acme = store.create_tenant(&admin, "acme", "Acme").await.unwrap();
    let t = acme.id.as_str();
    let prod = store.create_workspace(t, &admin, &ResourceName::parse("name", "prod").unwrap(), "").await.unwrap();
    let kafka = store
        .create_project(
            t,
            &admin,
            flotilla_domain::Clearance::TenantAdmin,
            &prod.id,
            &ResourceName::parse("name", "kafka").unwrap(),
            "",
        )
        .await
        .unwrap();
    let s = |v: &[&str]| v.iter().map(|g| g.to_string()).collect::<Vec<_>>();
    // A rule saved before the reconciler runs is caught up when it starts.
    store.add_group_mapping(&admin, t, "platform", Role::TenantAdmin, "").await.unwrap();
    let viewers = store.add_group_mapping(&admin, t, "auditors", Role::ProjectViewer, &kafka.id).await.unwrap();
    let reconciler = store.spawn_access_reconciler();
    let wait = |project: &str, want: Vec<(String, String, Vec<String>)>| {
        let (store, project) = (&store, project.to_owned());
        let (workspace, what) = (prod.id.clone(), format!("{project}'s bindings: {want:?}"));
        async move {
            eventually(&what, Duration::from_secs(10), || async {
                bindings(store, t, &workspace, &project).await == want
            })
            .await;
        }
    };
    // Tenant roles bind nothing in namespaces.
    wait(&kafka.id, vec![("flotilla-project-viewers".into(), "view".into(), s(&["auditors"]))]).await;

    // Rules added: the bindings follow.
    store.add_group_mapping(&admin, t, "kafka-team", Role::ProjectEditor, &kafka.id).await.unwrap();
    store.add_group_mapping(&admin, t, "sre", Role::WorkspaceEditor, &prod.id).await.unwrap();
    let both = vec![
        ("flotilla-project-editors".into(), "edit".into(), s(&["kafka-team", "sre"])),
        ("flotilla-project-viewers".into(), "view".into(), s(&["auditors"])),
    ];
    wait(&kafka.id, both).await;
    // A project made later gets the workspace's groups.
    let web = store
        .create_project(
            t,
            &admin,
            flotilla_domain::Clearance::TenantAdmin,
            &prod.id,
            &ResourceName::parse("name", "web").unwrap(),
            "",
        )
        .await
        .unwrap();
    wait(&web.id, vec![("flotilla-project-editors".into(), "edit".into(), s(&["sre"]))]).await;

    // A rule removed: its group leaves the binding; the last group gone, the binding goes.
    store.remove_group_mapping(&admin, t, &viewers.id).await.unwrap();
    wait(&kafka.id, vec![("flotilla-project-editors".into(), "edit".into(), s(&["kafka-team", "sre"]))]).await;
    // Written as Flotilla, with a revision each time (the engine applies them like any change).
    let log = store.audit_log(t, 100).await.unwrap();
    assert!(log.iter().any(|r| r.actor_name == "flotilla (group rules)" && r.action == "resource.delete"));
    // Doing it again changes nothing.
    reconciler.abort();
    let before = store.audit_log(t, 1000).await.unwrap().len();
    store.sync_all_access(None).await.unwrap();
    assert_eq!(store.audit_log(t, 1000).await.unwrap().len(), before, "idempotent");
}
