//! Service-account tokens and RBAC through the real kube-rs client: an identity with narrow
//! bindings gets exactly what they allow, 403 for the rest, and cannot grant itself more.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::{client, client_with_token, code, start};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn object<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

async fn create<T>(api: &Api<T>, value: Value) -> Result<T, kube::Error>
where
    T: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), &object(value)).await
}

/// Makes service account `name` in `ns` (with the admin client) and returns its token, as
/// the token controller filled it into a `kubernetes.io/service-account-token` Secret.
async fn service_account_token(admin: &Client, ns: &str, name: &str) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), ns);
    create(&accounts, json!({"metadata": {"name": name}})).await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), ns);
    let secret = create(
        &secrets,
        json!({"metadata": {"name": format!("{name}-token"),
                "annotations": {"kubernetes.io/service-account.name": name}},
               "type": "kubernetes.io/service-account-token"}),
    )
    .await
    .unwrap();
    let data = secret.data.unwrap();
    assert_eq!(data["namespace"].0, ns.as_bytes(), "the token secret names its namespace");
    String::from_utf8(data["token"].0.clone()).unwrap()
}

async fn namespace(admin: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    create(&namespaces, json!({"metadata": {"name": name}})).await.unwrap();
}

async fn bind_role(admin: &Client, ns: &str, name: &str, rules: Value, subject: Value) {
    create(&Api::<Role>::namespaced(admin.clone(), ns), json!({"metadata": {"name": name}, "rules": rules}))
        .await
        .unwrap();
    create(
        &Api::<RoleBinding>::namespaced(admin.clone(), ns),
        json!({"metadata": {"name": name}, "subjects": [subject],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}}),
    )
    .await
    .unwrap();
}

fn bot() -> Value {
    json!({"kind": "ServiceAccount", "name": "bot", "namespace": "team"})
}

fn cm(name: &str) -> Value {
    json!({"metadata": {"name": name}, "data": {"k": "v"}})
}

#[tokio::test]
async fn a_service_account_may_do_what_its_bindings_allow_and_nothing_else() {
    let sim = start().await;
    let admin = client(&sim, "a").await;
    namespace(&admin, "team").await;
    let token = service_account_token(&admin, "team", "bot").await;
    let bot_client = client_with_token(&sim, "a", &token).await;

    // Discovery is open to every authenticated user; objects are not, until bound.
    bot_client.apiserver_version().await.unwrap();
    bot_client.list_api_groups().await.unwrap();
    let team_cms: Api<ConfigMap> = Api::namespaced(bot_client.clone(), "team");
    let refused = team_cms.list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(status) = refused else { panic!("expected a 403") };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "configmaps is forbidden: User \"system:serviceaccount:team:bot\" cannot list resource \"configmaps\" \
         in API group \"\" in the namespace \"team\""
    );

    // A Role bound in `team` opens ConfigMaps there, and nowhere else.
    bind_role(
        &admin,
        "team",
        "cm-writer",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]),
        bot(),
    )
    .await;
    create(&team_cms, cm("settings")).await.unwrap();
    assert_eq!(team_cms.list(&ListParams::default()).await.unwrap().items.len(), 1);
    let default_cms: Api<ConfigMap> = Api::namespaced(bot_client.clone(), "default");
    assert_eq!(code(create(&default_cms, cm("settings")).await.unwrap_err()), 403);
    let all_cms: Api<ConfigMap> = Api::all(bot_client.clone());
    assert_eq!(code(all_cms.list(&ListParams::default()).await.unwrap_err()), 403, "a Role is not cluster-wide");
    let team_secrets: Api<Secret> = Api::namespaced(bot_client.clone(), "team");
    assert_eq!(code(team_secrets.list(&ListParams::default()).await.unwrap_err()), 403);
    let namespaces: Api<Namespace> = Api::all(bot_client.clone());
    assert_eq!(code(namespaces.list(&ListParams::default()).await.unwrap_err()), 403);

    // A ClusterRole bound to the account's group reaches the cluster scope.
    create(
        &Api::<ClusterRole>::all(admin.clone()),
        json!({"metadata": {"name": "ns-reader"},
               "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}]}),
    )
    .await
    .unwrap();
    create(
        &Api::<ClusterRoleBinding>::all(admin.clone()),
        json!({"metadata": {"name": "ns-reader"},
               "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team"}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ns-reader"}}),
    )
    .await
    .unwrap();
    assert!(namespaces.list(&ListParams::default()).await.unwrap().items.len() >= 5);
    assert_eq!(code(namespaces.delete("team", &DeleteParams::default()).await.unwrap_err()), 403);

    // resourceNames narrow a rule to the objects it names.
    for name in ["mine", "theirs"] {
        create(&Api::<Secret>::namespaced(admin.clone(), "team"), json!({"metadata": {"name": name}})).await.unwrap();
    }
    bind_role(
        &admin,
        "team",
        "one-secret",
        json!([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["mine"], "verbs": ["get"]}]),
        bot(),
    )
    .await;
    team_secrets.get("mine").await.unwrap();
    assert_eq!(code(team_secrets.get("theirs").await.unwrap_err()), 403);
    assert_eq!(code(team_secrets.list(&ListParams::default()).await.unwrap_err()), 403);

    // A server-side apply that would create its object needs `create` as well as `patch`.
    bind_role(
        &admin,
        "team",
        "svc-patcher",
        json!([{"apiGroups": [""], "resources": ["services"], "verbs": ["patch", "get"]}]),
        bot(),
    )
    .await;
    let services: Api<Service> = Api::namespaced(bot_client.clone(), "team");
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                     "spec": {"ports": [{"port": 80}]}});
    let apply = PatchParams::apply("bot");
    let refused = services.patch("web", &apply, &Patch::Apply(&svc)).await.unwrap_err();
    let kube::Error::Api(status) = refused else { panic!("expected a 403") };
    assert!(status.message.contains("cannot create resource \"services\""), "{}", status.message);
    create(&Api::<Service>::namespaced(admin.clone(), "team"), svc.clone()).await.unwrap();
    services.patch("web", &apply, &Patch::Apply(&svc)).await.unwrap();

    // The token dies with its service account; a made-up token is nobody.
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "team");
    accounts.delete("bot", &DeleteParams::default()).await.unwrap();
    assert_eq!(code(team_cms.list(&ListParams::default()).await.unwrap_err()), 401);
    let stranger = client_with_token(&sim, "a", "sim-made-up").await;
    assert_eq!(code(stranger.apiserver_version().await.unwrap_err()), 401);
    // The same token means nothing in another cluster.
    let token_in_b = client_with_token(&sim, "b", &token).await;
    assert_eq!(code(token_in_b.apiserver_version().await.unwrap_err()), 401);
}

#[tokio::test]
async fn roles_and_bindings_cannot_grant_more_than_their_writer_holds() {
    let sim = start().await;
    let admin = client(&sim, "a").await;
    namespace(&admin, "team").await;
    let token = service_account_token(&admin, "team", "bot").await;
    let bot_client = client_with_token(&sim, "a", &token).await;
    bind_role(
        &admin,
        "team",
        "rbac-writer",
        json!([
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "patch", "update"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}
        ]),
        bot(),
    )
    .await;
    create(
        &Api::<ClusterRole>::all(admin.clone()),
        json!({"metadata": {"name": "admin"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
    )
    .await
    .unwrap();
    let roles: Api<Role> = Api::namespaced(bot_client.clone(), "team");
    let bindings: Api<RoleBinding> = Api::namespaced(bot_client.clone(), "team");

    // A Role within what the writer holds is fine; one beyond it is refused, by create,
    // update or patch alike.
    let readers = json!({"metadata": {"name": "cm-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]});
    create(&roles, readers).await.unwrap();
    let secrets_rule = json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]);
    let err = create(&roles, json!({"metadata": {"name": "secret-reader"}, "rules": secrets_rule})).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("expected a 403") };
    assert_eq!(status.code, 403);
    assert!(status.message.contains("attempting to grant RBAC permissions not currently held"), "{}", status.message);
    let merge = Patch::Merge(json!({"rules": secrets_rule}));
    assert_eq!(code(roles.patch("cm-reader", &PatchParams::default(), &merge).await.unwrap_err()), 403);
    let wildcard = json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]);
    let err = roles.patch("cm-reader", &PatchParams::default(), &Patch::Merge(json!({"rules": wildcard}))).await;
    assert_eq!(code(err.unwrap_err()), 403, "a wildcard needs a wildcard");

    // `escalate` lets a writer create Roles beyond its own grants.
    bind_role(
        &admin,
        "team",
        "escalator",
        json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]}]),
        bot(),
    )
    .await;
    create(&roles, json!({"metadata": {"name": "secret-reader-2"}, "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}))
        .await
        .unwrap();

    // Binding a role whose rules the writer does not hold needs `bind` on that role.
    let admin_binding = json!({"metadata": {"name": "bot-admin"}, "subjects": [bot()],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}});
    assert_eq!(code(create(&bindings, admin_binding.clone()).await.unwrap_err()), 403);
    let own_binding = json!({"metadata": {"name": "bot-cm-reader"}, "subjects": [bot()],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"}});
    create(&bindings, own_binding).await.unwrap();
    bind_role(
        &admin,
        "team",
        "binder",
        json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "resourceNames": ["admin"], "verbs": ["bind"]}]),
        bot(),
    )
    .await;
    create(&bindings, admin_binding.clone()).await.unwrap();
    // ... in the namespace it holds `bind` in, not another.
    namespace(&admin, "other").await;
    bind_role(
        &admin,
        "other",
        "rbac-writer",
        json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]}]),
        bot(),
    )
    .await;
    let other_bindings: Api<RoleBinding> = Api::namespaced(bot_client.clone(), "other");
    assert_eq!(code(create(&other_bindings, admin_binding).await.unwrap_err()), 403);
}
