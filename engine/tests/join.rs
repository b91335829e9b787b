//! Joining a simulated member with an admin's kubeconfig: Flotilla manages it with only the
//! identity the join created, the member refuses that identity anything outside its grant,
//! drift (Secrets included, watched per namespace) is corrected, the token rotates without
//! an admin, and an unjoin removes it all.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{WAIT, configmap, fleet, labels, rn, settings};
use flotilla_domain::join::{self as identity, JoinGrant};
use flotilla_engine::kubeconfig::{self, ClusterAccess};
use flotilla_engine::{StatusEvent, join};
use flotilla_simulator::ClusterSpec;
use flotilla_store::{NewCluster, ResourceSpec};
use flotilla_testkit::eventually;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use secrecy::ExposeSecret;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(5);
/// The tenant the identity works for.
const OWNER: &str = "tenant-a";

/// A kube client for member `name` authenticating with `token` (as anyone holding it could).
async fn client_as(f: &common::Fleet, name: &str, token: &str) -> kube::Client {
    let admin_token = f.sim.cluster(name).unwrap().token.clone();
    let yaml = f.sim.kubeconfig(name).unwrap().replace(&admin_token, token);
    let mut config =
        kube::Config::from_custom_kubeconfig(Kubeconfig::from_yaml(&yaml).unwrap(), &KubeConfigOptions::default())
            .await
            .unwrap();
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

fn code(result: Result<impl std::fmt::Debug, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn admin_access(f: &common::Fleet, name: &str) -> ClusterAccess {
    let text = f.sim.kubeconfig(name).unwrap();
    let context = kubeconfig::contexts(&text).unwrap().remove(0).name;
    kubeconfig::access(&text, &context).unwrap()
}

fn cm_object(name: &str) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn a_joined_cluster_is_managed_with_only_the_identity_flotilla_created() {
    let f = fleet(&[]).await;
    f.sim.add_cluster(ClusterSpec::new("m"));
    let admin = admin_access(&f, "m");
    let policy = settings().outbound;

    let joined = join::join(&admin, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap();
    let admin_token = f.sim.cluster("m").unwrap().token.clone();
    assert_ne!(joined.token().unwrap().expose_secret(), admin_token, "the admin's token is not what Flotilla keeps");
    let cluster = NewCluster {
        name: rn("m"),
        api_server_url: joined.server.clone(),
        ca_pem: joined.ca_pem.clone(),
        token: joined.token().unwrap().clone(),
        labels: labels(&format!("env=prod,{}={}", identity::IDENTITY_LABEL, identity::SERVICE_ACCOUNT)),
    };
    let cluster_id = f.store.register_cluster(&f.tenant, "tester", &cluster, false).await.unwrap();
    assert_eq!(
        f.store.cluster_token(&f.tenant, &cluster_id).await.unwrap().expose_secret(),
        joined.token().unwrap().expose_secret()
    );

    // A project: its grant binding (written by the access reconciler) opens its namespace to
    // the identity, and everything lands with that identity alone.
    let (ws, project) = f.project("env=prod", "shop", "").await;
    f.store.sync_all_access(Some(&f.tenant)).await.unwrap(); // as the access reconciler does on a new project
    let cm = f.add(&ws, Some((&project, "shop")), &configmap("settings", json!({"level": "info"}))).await;
    let secret = ResourceSpec::new(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                                          "stringData": {"password": "hunter2"}}));
    let secret = f.add(&ws, Some((&project, "shop")), &secret).await;
    f.wait_synced_rev(&cm, "m", 1).await;
    f.wait_synced_rev(&secret, "m", 1).await;
    let binding = f.member_get("m", "rbac.authorization.k8s.io/v1", "RoleBinding", Some("shop"), "flotilla-hub").await;
    assert_eq!(binding.unwrap().data["roleRef"]["name"], identity::NAMESPACE_ROLE);

    // A project made after the join carries its grant binding from its first transaction:
    // nothing in it is ever refused on the way.
    let mut events = f.engine.subscribe();
    let (late_ws, late) = f.project("env=prod", "late", "").await;
    let late_cm = f.add(&late_ws, Some((&late, "late")), &configmap("settings", json!({"a": "1"}))).await;
    f.wait_synced_rev(&late_cm, "m", 1).await;
    while let Ok(event) = events.try_recv() {
        if let StatusEvent::Resource(status) = &*event {
            assert!(!status.code.is_failure(), "refused on the way: {status:?}");
        }
    }

    // What the identity may not do, the member refuses it.
    let hub = client_as(&f, "m", joined.token().unwrap().expose_secret()).await;
    let kube_system: Api<DynamicObject> = Api::namespaced_with(hub.clone(), "kube-system", &ar("v1", "ConfigMap"));
    assert_eq!(code(kube_system.create(&PostParams::default(), &cm_object("planted")).await), 403);
    let all_secrets: Api<DynamicObject> = Api::all_with(hub.clone(), &ar("v1", "Secret"));
    assert_eq!(code(all_secrets.list(&ListParams::default()).await), 403, "no reading every Secret");
    let cluster_roles: Api<DynamicObject> =
        Api::all_with(hub.clone(), &ar("rbac.authorization.k8s.io/v1", "ClusterRole"));
    let role: DynamicObject = serde_json::from_value(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole", "metadata": {"name": "mine"}, "rules": []}))
    .unwrap();
    assert_eq!(code(cluster_roles.create(&PostParams::default(), &role).await), 403);
    // Nor may it bind itself more than its namespace role, even where it may write bindings.
    let admin_roles: Api<DynamicObject> =
        Api::all_with(f.kube("m").await, &ar("rbac.authorization.k8s.io/v1", "ClusterRole"));
    let cluster_admin: DynamicObject = serde_json::from_value(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}))
    .unwrap();
    admin_roles.create(&PostParams::default(), &cluster_admin).await.unwrap();
    let bindings: Api<DynamicObject> =
        Api::namespaced_with(hub.clone(), "shop", &ar("rbac.authorization.k8s.io/v1", "RoleBinding"));
    let to_admin: DynamicObject = serde_json::from_value(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding", "metadata": {"name": "grab"},
        "subjects": [{"kind": "ServiceAccount", "name": identity::SERVICE_ACCOUNT, "namespace": identity::NAMESPACE}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}))
    .unwrap();
    assert_eq!(code(bindings.create(&PostParams::default(), &to_admin).await), 403);

    // Drift, Secrets included, is seen and corrected through the identity's watches.
    let admin_kube = f.kube("m").await;
    let secrets: Api<DynamicObject> = Api::namespaced_with(admin_kube.clone(), "shop", &ar("v1", "Secret"));
    secrets.delete("db", &Default::default()).await.unwrap();
    eventually("the Secret is recreated", WAIT, || async {
        f.member_get("m", "v1", "Secret", Some("shop"), "db").await.is_some()
    })
    .await;

    // A new token, made with the identity's own access; the old one stops working.
    let rotation = join::rotate(&joined, policy.clone(), TIMEOUT).await.unwrap();
    let rotated = rotation.access.clone();
    assert_ne!(rotated.token().unwrap().expose_secret(), joined.token().unwrap().expose_secret());
    hub.apiserver_version().await.expect("the old token works until the rotation finishes");
    rotation.finish(policy.clone(), TIMEOUT).await.unwrap();
    assert_eq!(code(hub.apiserver_version().await), 401, "the old token is gone");
    let fresh = client_as(&f, "m", rotated.token().unwrap().expose_secret()).await;
    fresh.apiserver_version().await.unwrap();

    // Unjoin with the admin's access removes the identity and the grant bindings.
    join::unjoin(&admin, OWNER, policy, TIMEOUT).await.unwrap();
    assert_eq!(code(fresh.apiserver_version().await), 401, "the identity is gone");
    for (api_version, kind, ns, name) in [
        ("v1", "Namespace", None, identity::NAMESPACE),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", None, identity::HUB_ROLE),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", None, identity::NAMESPACE_ROLE),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", None, identity::HUB_ROLE),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", Some("shop"), identity::HUB_GRANT_BINDING),
    ] {
        assert!(f.member_get("m", api_version, kind, ns, name).await.is_none(), "{kind} {name} left behind");
    }
}

#[tokio::test]
async fn joining_again_keeps_the_identity_and_widens_the_grant() {
    let f = fleet(&[]).await;
    f.sim.add_cluster(ClusterSpec::new("m"));
    let admin = admin_access(&f, "m");
    let policy: Arc<_> = settings().outbound;
    let first = join::join(&admin, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap();
    let storage = identity::TypeRef::new("storage.k8s.io", "storageclasses");
    let wider = JoinGrant::standard().with([], [storage]);
    let second = join::join(&admin, OWNER, &wider, policy, TIMEOUT).await.unwrap();
    let hub = client_as(&f, "m", second.token().unwrap().expose_secret()).await;
    let first_client = client_as(&f, "m", first.token().unwrap().expose_secret()).await;
    assert_eq!(code(first_client.apiserver_version().await), 401, "one live token at a time");
    let role =
        f.member_get("m", "rbac.authorization.k8s.io/v1", "ClusterRole", None, identity::HUB_ROLE).await.unwrap();
    assert!(role.data["rules"].to_string().contains("storageclasses"), "{}", role.data["rules"]);
    let namespaces: Api<DynamicObject> = Api::all_with(hub, &ar("v1", "Namespace"));
    namespaces.list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn an_admin_client_certificate_joins_and_unjoins_but_is_never_what_is_kept() {
    let f = fleet(&[]).await;
    f.sim.add_cluster(ClusterSpec::new("k"));
    f.sim.add_cluster(ClusterSpec::new("other"));
    let policy: Arc<_> = settings().outbound;
    // A kind or kubeadm admin kubeconfig: a client certificate in system:masters.
    let admin = kubeconfig::access(&f.sim.certificate_kubeconfig("k").unwrap(), "k").unwrap();
    assert!(matches!(admin.credential, kubeconfig::Credential::Certificate(_)));
    let why = admin.token().unwrap_err();
    assert!(why.contains("client certificate") && why.contains("join"), "{why}");
    assert!(kubeconfig::test_connection(&admin, policy.clone(), TIMEOUT).await.unwrap().starts_with('v'));

    // Refused before anything is written: another cluster's admin certificate, and a user's
    // certificate RBAC grants nothing.
    let other = kubeconfig::access(&f.sim.certificate_kubeconfig("other").unwrap(), "other").unwrap();
    let foreign = ClusterAccess { server: admin.server.clone(), ..other };
    let why = join::join(&foreign, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap_err();
    assert!(why.contains("401") || why.to_lowercase().contains("unauthorized"), "{why}");
    let jane = f.sim.client_certificate("jane", &["devs"]).unwrap();
    let jane = ClusterAccess {
        credential: kubeconfig::Credential::Certificate(kubeconfig::ClientIdentity {
            cert_pem: jane.cert_pem,
            key_pem: jane.key_pem.into(),
        }),
        ..admin.clone()
    };
    let why = join::join(&jane, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap_err();
    assert!(why.contains("403") || why.contains("forbidden"), "{why}");
    assert!(f.member_get("k", "v1", "Namespace", None, identity::NAMESPACE).await.is_none());

    // The admin's certificate joins; what Flotilla keeps is the identity's token.
    let joined = join::join(&admin, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap();
    let token = joined.token().unwrap().expose_secret().to_owned();
    let hub = client_as(&f, "k", &token).await;
    let namespaces: Api<DynamicObject> = Api::all_with(hub.clone(), &ar("v1", "Namespace"));
    namespaces.list(&ListParams::default()).await.unwrap();

    // And it unjoins: the identity is gone, its token with it.
    join::check_unjoin(&admin, OWNER, policy.clone(), TIMEOUT).await.unwrap();
    join::unjoin(&admin, OWNER, policy, TIMEOUT).await.unwrap();
    assert!(
        f.member_get("k", "v1", "ServiceAccount", Some(identity::NAMESPACE), identity::SERVICE_ACCOUNT).await.is_none()
    );
    assert_eq!(code(hub.apiserver_version().await), 401);
}

#[tokio::test]
async fn a_cluster_joined_by_one_tenant_is_not_taken_over_or_unjoined_by_another() {
    let f = fleet(&[]).await;
    f.sim.add_cluster(ClusterSpec::new("m"));
    let admin = admin_access(&f, "m");
    let policy: Arc<_> = settings().outbound;
    let first = join::join(&admin, OWNER, &JoinGrant::standard(), policy.clone(), TIMEOUT).await.unwrap();
    let account =
        f.member_get("m", "v1", "ServiceAccount", Some(identity::NAMESPACE), identity::SERVICE_ACCOUNT).await.unwrap();
    assert_eq!(account.metadata.annotations.unwrap()[identity::OWNER_ANNOTATION], OWNER);

    // Another tenant (or hub): its join, grant and unjoin are refused, and the first
    // tenant's token keeps working.
    let grant = JoinGrant::standard();
    let why = join::join(&admin, "tenant-b", &grant, policy.clone(), TIMEOUT).await.unwrap_err();
    assert!(why.contains("works for another Flotilla tenant or hub"), "{why}");
    let why = join::regrant(&admin, "tenant-b", &grant, policy.clone(), TIMEOUT).await.unwrap_err();
    assert!(why.contains("works for another Flotilla tenant or hub"), "{why}");
    let why = join::check_unjoin(&admin, "tenant-b", policy.clone(), TIMEOUT).await.unwrap_err();
    assert!(why.contains("unjoin it there first"), "{why}");
    assert!(join::unjoin(&admin, "tenant-b", policy.clone(), TIMEOUT).await.is_err());
    let hub = client_as(&f, "m", first.token().unwrap().expose_secret()).await;
    hub.apiserver_version().await.unwrap();

    // Once the first tenant unjoins, the cluster is free for the other.
    join::unjoin(&admin, OWNER, policy.clone(), TIMEOUT).await.unwrap();
    join::join(&admin, "tenant-b", &grant, policy, TIMEOUT).await.unwrap();
}

/// An ApiResource from an apiVersion and a kind.
fn ar(api_version: &str, kind: &str) -> kube::core::ApiResource {
    let (g, v) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(g, v, kind))
}
