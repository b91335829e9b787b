use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use serde_json::Value;

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, spawn_app};

fn field(error: &Value) -> &str {
    error["Invalid"]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_cluster_is_registered_from_a_kubeconfig_after_a_test_connection() {
    let app = spawn_app().await;
    let client = app.client();
    assert_eq!(app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", "x")]).await.status(), 401);
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim =
        Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("edge-1")], SimSettings::default())
            .await
            .unwrap();
    let kubeconfig = sim.kubeconfig("edge-1").unwrap();

    let contexts: Value =
        app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", &kubeconfig)]).await.json().await.unwrap();
    assert_eq!(contexts[0]["name"], "edge-1");
    assert_eq!(contexts[0]["server"], sim.server_url("edge-1"));
    assert!(contexts[0]["problem"].is_null());
    assert!(!contexts.to_string().contains(&sim.fleet().get("edge-1").unwrap().token), "no token goes back");

    let version =
        app.call(&client, "/api/fleet/test-connection", &[("kubeconfig", &kubeconfig), ("context", "edge-1")]).await;
    assert_eq!(version.status(), 200);
    assert!(version.json::<String>().await.unwrap().starts_with('v'));

    // Refusals name their field; nothing is registered.
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("not a kubeconfig: [", "edge-1", "edge-1", "", "context"),
        (&kubeconfig, "nope", "edge-1", "", "context"),
        (&kubeconfig, "edge-1", "Edge 1", "", "name"),
        (&kubeconfig, "edge-1", "edge-1", "env", "labels"),
        (&kubeconfig, "edge-1", "edge-1", "env=prod,env=dev", "labels"),
    ];
    for (text, context, name, labels, want) in cases {
        let answer = app
            .call(
                &client,
                "/api/fleet/register",
                &[("kubeconfig", text), ("context", context), ("name", name), ("labels", labels)],
            )
            .await;
        assert_eq!(answer.status(), 422, "{want}");
        assert_eq!(field(&answer.json().await.unwrap()), want);
    }
    let bad = app.call(&client, "/api/fleet/read-kubeconfig", &[("kubeconfig", "")]).await;
    assert_eq!(field(&bad.json().await.unwrap()), "kubeconfig");
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    assert!(app.store.list_clusters(&tenant).await.unwrap().is_empty());

    let registered: Value = app
        .call(
            &client,
            "/api/fleet/register",
            &[
                ("kubeconfig", &kubeconfig),
                ("context", "edge-1"),
                ("name", "edge-1"),
                ("labels", "env=prod, region=eu"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(registered["name"], "edge-1");
    assert_eq!(registered["labels"], serde_json::json!({"env": "prod", "region": "eu"}));
    assert!(!registered.to_string().contains("token"));

    // The engine takes it up: Ready with the server's version.
    eventually("the new cluster Ready with its version", WAIT, || async {
        let clusters = app.store.list_clusters(&tenant).await.unwrap();
        clusters.len() == 1 && clusters[0].health == "Ready" && clusters[0].server_version.is_some()
    })
    .await;
    let again = app
        .call(
            &client,
            "/api/fleet/register",
            &[("kubeconfig", &kubeconfig), ("context", "edge-1"), ("name", "edge-1"), ("labels", "")],
        )
        .await;
    assert_eq!(field(&again.json().await.unwrap()), "name", "the name is taken");
}

/// Adds ConfigMap `name` to project `project_id` and waits until it is `Synced` in its one cluster.
async fn add_configmap_and_wait_synced(
    app: &crate::helpers::TestApp,
    client: &reqwest::Client,
    project_id: &str,
    name: &str,
    what: &str,
    clusters: usize,
) {
    let form =
        [("project_id", project_id), ("name", name), ("data", "a=1"), ("override_cluster", ""), ("override_data", "")];
    let added = app.json(client, "/api/projects/add-configmap", &form).await;
    let resource_id = added["id"].as_str().unwrap().to_owned();
    eventually(what, WAIT, || async {
        let view = app.json(client, "/api/projects/statuses", &[("id", project_id)]).await;
        (codes(&view, &resource_id) == vec!["Synced"; clusters]).then_some(())
    })
    .await;
}

/// The status codes of `resource_id` in a project's statuses.
fn codes(view: &Value, resource_id: &str) -> Vec<String> {
    view["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["resource_id"] == resource_id)
        .map(|s| s["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_joined_cluster_is_managed_with_flotillas_own_identity_which_rotates() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim = Simulator::start(
        "127.0.0.1:0".parse().unwrap(),
        vec![ClusterSpec::new("edge-1"), ClusterSpec::new("edge-2")],
        SimSettings::default(),
    )
    .await
    .unwrap();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    // A project exists before the cluster joins: its namespace must be open to the identity
    // from the cluster's first write on.
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "env=edge")]).await;
    let ws_id = ws["id"].as_str().unwrap();
    let project =
        app.json(&client, "/api/projects/create", &[("workspace_id", ws_id), ("name", "shop"), ("selector", "")]).await;
    let project_id = project["id"].as_str().unwrap().to_owned();

    // An admin kubeconfig as kind and kubeadm write them: a client certificate. It joins;
    // registered as it is, it is refused (Flotilla keeps tokens only).
    let kubeconfig = sim.certificate_kubeconfig("edge-1").unwrap();
    let form = [
        ("kubeconfig", kubeconfig.as_str()),
        ("context", "edge-1"),
        ("name", "edge-1"),
        ("labels", "env=edge"),
        ("join", "false"),
    ];
    let refused = app.call(&client, "/api/fleet/register", &form).await;
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(field(&body), "context");
    assert!(body.to_string().contains("join the cluster with it"), "{body}");
    assert!(app.store.list_clusters(&tenant).await.unwrap().is_empty(), "nothing registered");
    let form = [
        ("kubeconfig", kubeconfig.as_str()),
        ("context", "edge-1"),
        ("name", "edge-1"),
        ("labels", "env=edge"),
        ("join", "true"),
    ];
    let registered = app.json(&client, "/api/fleet/register", &form).await;
    assert_eq!(registered["labels"]["flotilla.io/identity"], "flotilla-hub", "{registered}");
    let cluster_id = registered["id"].as_str().unwrap().to_owned();
    let kept = app.store.cluster_token(&tenant, &cluster_id).await.unwrap();
    assert!(secrecy::ExposeSecret::expose_secret(&kept).starts_with("sim-"), "the identity's token is kept");
    // The identity label stays as the join set it.
    let version = registered["version"].as_i64().unwrap().to_string();
    let dropped = app
        .call(&client, "/api/fleet/set-labels", &[("id", &cluster_id), ("version", &version), ("labels", "env=edge")])
        .await;
    assert_eq!(dropped.status(), 422);
    assert!(dropped.text().await.unwrap().contains("keep flotilla.io/identity=flotilla-hub"));

    add_configmap_and_wait_synced(&app, &client, &project_id, "cfg", "Synced through the joined identity", 1).await;

    // Rotation: a new token is kept, the old one no longer opens the member, and the
    // engine carries on with the new one.
    let current = app.store.list_clusters(&tenant).await.unwrap()[0].version;
    let stale = app
        .call(&client, "/api/fleet/rotate-credentials", &[("id", &cluster_id), ("version", &(current - 1).to_string())])
        .await;
    assert_eq!(stale.status(), 409, "a stale version is refused before anything is made");
    let version = current.to_string();
    let rotated =
        app.call(&client, "/api/fleet/rotate-credentials", &[("id", &cluster_id), ("version", &version)]).await;
    assert_eq!(rotated.status(), 200, "{}", rotated.text().await.unwrap());
    let new = app.store.cluster_token(&tenant, &cluster_id).await.unwrap();
    assert_ne!(secrecy::ExposeSecret::expose_secret(&new), secrecy::ExposeSecret::expose_secret(&kept));
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().unwrap().as_bytes()).unwrap();
    let old_answer = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap()
        .get(format!("{}/version", sim.server_url("edge-1")))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&kept))
        .send()
        .await
        .unwrap();
    assert_eq!(old_answer.status(), 401, "the old token is removed from the member");
    add_configmap_and_wait_synced(&app, &client, &project_id, "cfg2", "a later change Synced with the new token", 1)
        .await;

    // A cluster registered with its own token has no identity to rotate; an unknown id
    // is not found.
    let kubeconfig = sim.kubeconfig("edge-2").unwrap();
    let faked = [
        ("kubeconfig", kubeconfig.as_str()),
        ("context", "edge-2"),
        ("name", "edge-2"),
        ("labels", "flotilla.io/identity=flotilla-hub"),
    ];
    let refused = app.call(&client, "/api/fleet/register", &faked).await;
    assert_eq!(refused.status(), 422, "the identity label comes with a join only");
    assert_eq!(field(&refused.json().await.unwrap()), "labels");
    let form = [("kubeconfig", kubeconfig.as_str()), ("context", "edge-2"), ("name", "edge-2"), ("labels", "")];
    let plain = app.json(&client, "/api/fleet/register", &form).await;
    let plain_id = plain["id"].as_str().unwrap();
    let refused = app.call(&client, "/api/fleet/rotate-credentials", &[("id", plain_id), ("version", "1")]).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(field(&refused.json().await.unwrap()), "cluster");
    let missing =
        app.call(&client, "/api/fleet/rotate-credentials", &[("id", "no-such-cluster"), ("version", "1")]).await;
    assert_eq!(missing.status(), 404);

    // Another tenant holding the same admin kubeconfig cannot take the identity over (its
    // token would rotate this tenant's away) nor remove it.
    let b = crate::tenancy::tenant_b(&app, &client).await;
    let edge_1 = sim.certificate_kubeconfig("edge-1").unwrap();
    let form =
        [("kubeconfig", edge_1.as_str()), ("context", "edge-1"), ("name", "edge-1"), ("labels", ""), ("join", "true")];
    let taken = app.call(&b, "/api/fleet/register", &form).await;
    assert_eq!(taken.status(), 422);
    let body: serde_json::Value = taken.json().await.unwrap();
    assert!(body.to_string().contains("works for another Flotilla tenant or hub"), "{body}");
    let unjoin = app.call(&b, "/api/fleet/unjoin", &[("kubeconfig", edge_1.as_str()), ("context", "")]).await;
    assert_eq!(unjoin.status(), 422);
    add_configmap_and_wait_synced(&app, &client, &project_id, "cfg3", "the first tenant's identity still works", 1)
        .await;
}

/// The HTTP status of `GET /version` on the simulated member `url` with `token`.
async fn member_status(sim: &Simulator, url: &str, token: &str) -> u16 {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    client.get(format!("{url}/version")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deregistering_a_joined_cluster_with_an_admin_kubeconfig_removes_flotillas_identity_from_it() {
    use reqwest::Method;
    use serde_json::json;
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim = Simulator::start(
        "127.0.0.1:0".parse().unwrap(),
        vec![ClusterSpec::new("edge-1"), ClusterSpec::new("edge-2")],
        SimSettings::default(),
    )
    .await
    .unwrap();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "env=edge")]).await;
    let project = app
        .json(
            &client,
            "/api/projects/create",
            &[("workspace_id", ws["id"].as_str().unwrap()), ("name", "shop"), ("selector", "")],
        )
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for name in ["edge-1", "edge-2"] {
        let kubeconfig = sim.kubeconfig(name).unwrap();
        let form = [
            ("kubeconfig", kubeconfig.as_str()),
            ("context", ""),
            ("name", name),
            ("labels", "env=edge"),
            ("join", "true"),
        ];
        let registered = app.json(&client, "/api/fleet/register", &form).await;
        ids.push(registered["id"].as_str().unwrap().to_owned());
    }
    add_configmap_and_wait_synced(&app, &client, &project_id, "cfg", "Synced in both joined clusters", 2).await;
    let kept =
        secrecy::ExposeSecret::expose_secret(&app.store.cluster_token(&tenant, &ids[0]).await.unwrap()).to_owned();
    let (_, admin_token) = app.token(&client, "ops", "admin").await;
    let (_, edit_token) = app.token(&client, "dev", "edit").await;
    let edge_1 = sim.kubeconfig("edge-1").unwrap();
    let deregister = format!("/api/v1/clusters/{}/deregister", ids[0]);

    // Refused, nothing changed: a token capped below tenant admin; a foreign id; unjoin
    // without a kubeconfig; another cluster's kubeconfig; a credential the member refuses.
    let body = json!({"unjoin": {"kubeconfig": edge_1}});
    assert_eq!(app.api(Some(&edit_token), Method::POST, &deregister, Some(body.clone())).await.0, 403);
    let (status, _) =
        app.api(Some(&admin_token), Method::POST, "/api/v1/clusters/no-such-id/deregister", Some(body)).await;
    assert_eq!(status, 404);
    let form =
        [("id", ids[0].as_str()), ("version", "1"), ("cleanup", "true"), ("confirm", "edge-1"), ("unjoin", "true")];
    let refused = app.call(&client, "/api/fleet/deregister", &form).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(field(&refused.json().await.unwrap()), "admin_kubeconfig");
    let wrong = json!({"unjoin": {"kubeconfig": sim.kubeconfig("edge-2").unwrap()}});
    let (status, answer) = app.api(Some(&admin_token), Method::POST, &deregister, Some(wrong)).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("admin_context")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("not edge-1"), "{answer}");
    let admin_token_of_sim = sim.cluster("edge-1").unwrap().token.clone();
    let forged = json!({"unjoin": {"kubeconfig": edge_1.replace(&admin_token_of_sim, "not-a-token")}});
    let (status, answer) = app.api(Some(&admin_token), Method::POST, &deregister, Some(forged)).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("admin_context")), "{answer}");
    let listed = app.store.list_clusters(&tenant).await.unwrap();
    assert!(listed.iter().all(|c| c.deregistering.is_none()), "nothing started");
    assert_eq!(member_status(&sim, &sim.server_url("edge-1"), &kept).await, 200);
    // A registered cluster is not unjoined behind the fleet's back.
    let standalone = app.call(&client, "/api/fleet/unjoin", &[("kubeconfig", edge_1.as_str()), ("context", "")]).await;
    assert_eq!(standalone.status(), 422);
    let unjoin = json!({"kubeconfig": edge_1});
    assert_eq!(app.api(Some(&edit_token), Method::POST, "/api/v1/clusters/unjoin", Some(unjoin)).await.0, 403);

    // Deregistered with cleanup and unjoin: the objects go, then the identity.
    let body = json!({"cleanup": true, "unjoin": {"kubeconfig": edge_1}});
    let (status, done) = app.api(Some(&admin_token), Method::POST, &deregister, Some(body)).await;
    assert_eq!((status, done["identity"].as_str()), (200, Some("removed")), "{done}");
    let member = sim.cluster("edge-1").unwrap();
    assert!(member.get_object("v1", "configmaps", Some("shop"), "cfg").is_err(), "the objects were removed");
    assert!(
        member.get_object("v1", "namespaces", None, "flotilla-system").is_err(),
        "the identity's namespace is gone"
    );
    for role in ["flotilla:hub", "flotilla:namespace"] {
        assert!(member.get_object("rbac.authorization.k8s.io/v1", "clusterroles", None, role).is_err(), "{role} left");
    }
    assert_eq!(member_status(&sim, &sim.server_url("edge-1"), &kept).await, 401, "its token no longer works");
    assert!(app.store.list_clusters(&tenant).await.unwrap().iter().all(|c| c.id != ids[0]));

    // Deregistered leaving everything, then unjoined on its own: the objects stay.
    let version = app.store.list_clusters(&tenant).await.unwrap().iter().find(|c| c.id == ids[1]).unwrap().version;
    let form =
        [("id", ids[1].as_str()), ("version", &version.to_string()), ("cleanup", "false"), ("confirm", "edge-2")];
    let left = app.json(&client, "/api/fleet/deregister", &form).await;
    assert_eq!(left["identity"]["state"], "left", "{left}");
    eventually("edge-2 is gone from the fleet", WAIT, || async {
        app.store.list_clusters(&tenant).await.unwrap().is_empty().then_some(())
    })
    .await;
    let edge_2 = sim.kubeconfig("edge-2").unwrap();
    let (status, done) =
        app.api(Some(&admin_token), Method::POST, "/api/v1/clusters/unjoin", Some(json!({"kubeconfig": edge_2}))).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["api_server"], sim.server_url("edge-2"));
    let member = sim.cluster("edge-2").unwrap();
    assert!(member.get_object("v1", "configmaps", Some("shop"), "cfg").is_ok(), "left in place");
    assert!(member.get_object("v1", "namespaces", None, "flotilla-system").is_err());
    // Audited, with who and where.
    let audit = app.store.audit_log(&tenant, 50).await.unwrap();
    let unjoins: Vec<_> = audit.iter().filter(|e| e.action == "cluster.unjoin" && e.outcome == "ok").collect();
    assert_eq!(unjoins.len(), 2, "{unjoins:?}");
    assert!(unjoins.iter().all(|e| e.actor_name.contains("admin")), "{unjoins:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_clusters_grant_is_widened_to_what_the_tenants_workspaces_hold() {
    use reqwest::Method;
    use serde_json::json;
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim =
        Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("edge-1")], SimSettings::default())
            .await
            .unwrap();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let kubeconfig = sim.kubeconfig("edge-1").unwrap();
    let form = [
        ("kubeconfig", kubeconfig.as_str()),
        ("context", ""),
        ("name", "edge-1"),
        ("labels", "env=edge"),
        ("join", "true"),
    ];
    let id = app.json(&client, "/api/fleet/register", &form).await["id"].as_str().unwrap().to_owned();
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "env=edge")]).await;
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n";
    let added = app
        .json(&client, "/api/workspaces/add-resource", &[("workspace_id", ws["id"].as_str().unwrap()), ("yaml", role)])
        .await;
    let resource = added["id"].as_str().unwrap().to_owned();
    let member = sim.cluster("edge-1").unwrap();
    let code = || async {
        let statuses = app.store.resource_statuses(&tenant, &resource).await.unwrap();
        statuses.first().map(|s| s.code.as_str().to_owned())
    };
    // The standard grant has no cluster-scoped kinds: the member refuses the ClusterRole.
    eventually("the member refuses the ClusterRole", WAIT, || async {
        code().await.filter(|c| c != "Synced" && c != "Pending").map(|_| ())
    })
    .await;
    assert!(member.get_object("rbac.authorization.k8s.io/v1", "clusterroles", None, "reader").is_err());
    eventually("the cluster's kinds are read", WAIT, || async {
        app.store.cluster_types(&tenant, &id).await.unwrap().map(|_| ())
    })
    .await;

    // Refused, nothing changed: a token below tenant admin, no kubeconfig, a stale version.
    let (_, admin_token) = app.token(&client, "ops", "admin").await;
    let (_, edit_token) = app.token(&client, "dev", "edit").await;
    let path = format!("/api/v1/clusters/{id}/grant");
    let body = json!({"kubeconfig": kubeconfig});
    assert_eq!(app.api(Some(&edit_token), Method::POST, &path, Some(body.clone())).await.0, 403);
    let (status, answer) = app.api(Some(&admin_token), Method::POST, &path, Some(json!({"kubeconfig": ""}))).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("admin_kubeconfig")), "{answer}");
    let stale = json!({"kubeconfig": kubeconfig, "version": 0});
    assert_eq!(app.api(Some(&admin_token), Method::POST, &path, Some(stale)).await.0, 409);
    let kept = app.store.cluster_token(&tenant, &id).await.unwrap();

    // Widened: ClusterRoles granted (as much as cluster-admin, and said so), a new token, and
    // the engine writes the ClusterRole with it.
    let (status, granted) = app.api(Some(&admin_token), Method::POST, &path, Some(body)).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["cluster"], json!(["rbac.authorization.k8s.io/clusterroles"]), "{granted}");
    assert_eq!(granted["equals_cluster_admin"], true);
    let message = granted["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "edge-1's grant is updated: beyond the standard kinds, rbac.authorization.k8s.io/clusterroles."
        ) && message.contains("as much as cluster-admin"),
        "{message}"
    );
    let now = app.store.cluster_token(&tenant, &id).await.unwrap();
    assert_ne!(secrecy::ExposeSecret::expose_secret(&now), secrecy::ExposeSecret::expose_secret(&kept));
    eventually("the ClusterRole is written", WAIT, || async {
        (code().await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    assert!(member.get_object("rbac.authorization.k8s.io/v1", "clusterroles", None, "reader").is_ok());
    let audit = app.store.audit_log(&tenant, 50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "cluster.grant" && e.target_name == "edge-1"), "audited");
}
