//! Tenants kept apart, roles enforced by the server, tenants managed by the platform admin,
//! OIDC login routes' refusals, and the session's absolute lifetime.

use serde_json::{Value, json};

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, session_cookie, spawn_app, spawn_app_with};

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";
const CLUSTER_ROLE: &str =
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n";

/// Tenant `default` (the demo fleet, a workspace, a project, a ConfigMap) and its admin.
struct TenantA {
    cluster: (String, String),
    workspace: String,
    project: String,
    resource: String,
    /// A person of the tenant (a project viewer).
    person: String,
}

async fn tenant_a(app: &TestApp, admin: &reqwest::Client) -> TenantA {
    let clusters = ok(app.call(admin, "/api/fleet/clusters", &[]).await).await;
    let c = &clusters[0];
    let ws = ok(app.call(admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await).await;
    let workspace = ws["id"].as_str().unwrap().to_owned();
    let project = ok(app
        .call(admin, "/api/projects/create", &[("workspace_id", workspace.as_str()), ("name", "web"), ("selector", "")])
        .await)
    .await;
    let project = project["id"].as_str().unwrap().to_owned();
    let added = ok(app
        .call(admin, "/api/projects/add-resource", &[("project_id", project.as_str()), ("yaml", CONFIGMAP)])
        .await)
    .await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let viewer = flotilla_domain::Grant::new(flotilla_domain::Role::ProjectViewer, project.as_str());
    let password = secrecy::SecretString::from("a-long-password-for-pat");
    let actor = flotilla_store::Actor::system("test");
    let person = app.store.create_local_user(&actor, &tenant.id, "pat", &password, &viewer).await.unwrap().id;
    TenantA {
        person,
        cluster: (c["id"].as_str().unwrap().to_owned(), c["name"].as_str().unwrap().to_owned()),
        workspace,
        project,
        resource: added["id"].as_str().unwrap().to_owned(),
    }
}

/// A second tenant with a local tenant admin, logged in.
pub(crate) async fn tenant_b(app: &TestApp, admin: &reqwest::Client) -> reqwest::Client {
    let globex =
        ok(app.call(admin, "/api/tenants/create", &[("slug", "globex"), ("display_name", "Globex")]).await).await;
    let id = globex["id"].as_str().unwrap();
    ok(app
        .call(
            admin,
            "/api/tenants/add-local-user",
            &[("id", id), ("username", "gadmin"), ("password", "globex-admin-pw"), ("role", "tenant_admin")],
        )
        .await)
    .await;
    let b = app.client();
    assert!(app.login_to(&b, "globex", "gadmin", "globex-admin-pw").await.status().is_success());
    b
}

/// What tenant A's data looks like, to show that nothing changed.
async fn snapshot(app: &TestApp, a: &TenantA) -> Value {
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let resource = app.store.get_resource(&tenant.id, &a.resource).await.unwrap();
    let workspace = app.store.get_workspace(&tenant.id, &a.workspace).await.unwrap();
    let project = app.store.get_project(&tenant.id, &a.project).await.unwrap();
    let clusters = app.store.list_clusters(&tenant.id).await.unwrap();
    let projects = app.store.list_projects(&tenant.id, &a.workspace).await.unwrap();
    let resources = app.store.list_resources(&tenant.id, &a.workspace, None).await.unwrap();
    json!({
        "resource": [resource.version, resource.revision, resource.deleted],
        "workspace": [workspace.version, workspace.selector],
        "project": [project.version, project.selector],
        "clusters": clusters.iter().map(|c| json!([c.id, c.version, c.labels, c.deregistering])).collect::<Vec<_>>(),
        "projects": projects.len(),
        "workspace_resources": resources.len(),
        "audit": app.store.audit_log(&tenant.id, 1000).await.unwrap().len(),
        "people": serde_json::to_value(app.store.list_people(&tenant.id).await.unwrap()).unwrap(),
        "rules": app.store.tenant_detail(&tenant.id).await.unwrap().mappings.len(),
        "installs": app.store.list_installs(&tenant.id, None, None).await.unwrap().len(),
        "catalog": app.store.catalog(&tenant.id).await.unwrap().iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        "rollouts": app.store.list_rollouts(&tenant.id).await.unwrap().iter().map(|r| json!([r.id, r.state.as_str()])).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn every_call_with_another_tenants_ids_is_not_found_and_changes_nothing() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let a = tenant_a(&app, &admin).await;
    let b = tenant_b(&app, &admin).await;
    // An app installed in A's project: B must not see or touch it.
    let catalog = ok(app.call(&b, "/api/apps/catalog", &[("scope", "project")]).await).await;
    let podinfo = &catalog.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap()["versions"];
    let (newest, older) = (podinfo[0]["id"].as_str().unwrap(), podinfo[1]["id"].as_str().unwrap());
    let install = json!({"workspace_id": a.workspace, "project_id": a.project,
                         "input": {"version_id": older, "name": "web", "values": {}}});
    let install_id = ok(app.call_json(&admin, "/api/apps/install", &install).await).await;
    // And an upgrade of it rolling out, paused so that it stays as it is.
    let upgrade = json!({"input": {"install_ids": [install_id], "to_version_id": newest, "strategy": {}}});
    let rollout = ok(app.call_json(&admin, "/api/rollouts/start", &upgrade).await).await;
    let rollout = rollout.as_str().unwrap().to_owned();
    ok(app.call(&admin, "/api/rollouts/act", &[("id", rollout.as_str()), ("action", "pause")]).await).await;
    // And an app version of A's own.
    let archive = json!({"archive_base64": crate::helpers::podinfo_archive("6.7.2", |_, text| text)});
    ok(app.call_json(&admin, "/api/apps/upload-version", &archive).await).await;
    let own = ok(app.call(&admin, "/api/apps/catalog", &[("scope", "project")]).await).await;
    let own = own.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap()["versions"][0]["id"].clone();
    let own = own.as_str().unwrap().to_owned();
    // An API token and a service account of A's.
    let token =
        ok(app.call(&admin, "/api/tokens/create", &[("name", "ci"), ("access", "admin"), ("days", "7")]).await).await;
    let (a_token, a_secret) =
        (token["token"]["id"].as_str().unwrap().to_owned(), token["secret"].as_str().unwrap().to_owned());
    let bot = [("name", "a-bot"), ("role", "project_viewer"), ("scope_id", a.project.as_str())];
    let a_bot = ok(app.call(&admin, "/api/tokens/create-service-account", &bot).await).await;
    let a_bot = a_bot["id"].as_str().unwrap().to_owned();
    let before = snapshot(&app, &a).await;

    let (cluster, cluster_name) = (a.cluster.0.as_str(), a.cluster.1.as_str());
    let tenant_a_id = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let tenant = tenant_a_id.as_str();
    let (ws, project, resource) = (a.workspace.as_str(), a.project.as_str(), a.resource.as_str());
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/api/fleet/set-labels", vec![("id", cluster), ("version", "1"), ("labels", "env=stolen")]),
        ("/api/fleet/rotate-credentials", vec![("id", cluster), ("version", "1")]),
        (
            "/api/fleet/deregister",
            vec![("id", cluster), ("version", "1"), ("cleanup", "true"), ("confirm", cluster_name)],
        ),
        ("/api/workspaces/set-selector", vec![("id", ws), ("version", "1"), ("selector", "")]),
        ("/api/workspaces/detail", vec![("id", ws)]),
        ("/api/workspaces/add-resource", vec![("workspace_id", ws), ("yaml", CLUSTER_ROLE)]),
        ("/api/projects/create", vec![("workspace_id", ws), ("name", "intruder"), ("selector", "")]),
        (
            "/api/workspaces/federate-preview",
            vec![("workspace_id", ws), ("cluster_id", cluster), ("namespace", "shop"), ("selector", "")],
        ),
        (
            "/api/workspaces/federate",
            vec![
                ("workspace_id", ws),
                ("cluster_id", cluster),
                ("namespace", "shop"),
                ("selector", ""),
                ("project_selector", ""),
            ],
        ),
        ("/api/projects/view", vec![("id", project)]),
        ("/api/projects/review-delete", vec![("id", project), ("orphan", "false")]),
        ("/api/projects/export", vec![("id", project), ("kubefed", "true")]),
        ("/api/workspaces/import-review", vec![("workspace_id", ws), ("name", "x"), ("yaml", CLUSTER_ROLE)]),
        ("/api/workspaces/import", vec![("workspace_id", ws), ("name", "x"), ("yaml", CLUSTER_ROLE)]),
        ("/api/projects/delete", vec![("id", project), ("version", "1"), ("orphan", "false")]),
        ("/api/projects/statuses", vec![("id", project)]),
        ("/api/projects/set-selector", vec![("id", project), ("version", "1"), ("selector", "")]),
        ("/api/projects/set-pod-security", vec![("id", project), ("version", "1"), ("level", "restricted")]),
        ("/api/projects/adopt-namespace", vec![("id", project)]),
        ("/api/projects/add-resource", vec![("project_id", project), ("yaml", CONFIGMAP)]),
        (
            "/api/projects/review-configmap",
            vec![
                ("project_id", project),
                ("name", "x"),
                ("data", "a=b"),
                ("override_cluster", ""),
                ("override_data", ""),
            ],
        ),
        (
            "/api/projects/add-configmap",
            vec![
                ("project_id", project),
                ("name", "x"),
                ("data", "a=b"),
                ("override_cluster", ""),
                ("override_data", ""),
            ],
        ),
        ("/api/resources/detail", vec![("id", resource)]),
        ("/api/resources/statuses", vec![("id", resource)]),
        ("/api/resources/history", vec![("id", resource)]),
        ("/api/resources/compare", vec![("id", resource), ("from", "1"), ("to", "1")]),
        ("/api/resources/review-revert", vec![("id", resource), ("revision", "1")]),
        ("/api/resources/revert", vec![("id", resource), ("version", "1"), ("revision", "1")]),
        ("/api/resources/review-delete", vec![("id", resource), ("orphan", "false")]),
        ("/api/resources/delete", vec![("id", resource), ("version", "1"), ("orphan", "false")]),
        ("/api/resources/adopt", vec![("id", resource), ("version", "1")]),
        ("/api/resources/review-new", vec![("workspace_id", ws), ("project_id", project), ("yaml", CONFIGMAP)]),
        ("/api/people/set-disabled", vec![("id", a.person.as_str()), ("disabled", "true")]),
        ("/api/tenants/add-mapping", vec![("id", tenant), ("group", "g"), ("role", "tenant_admin"), ("scope_id", "")]),
        ("/api/tenants/remove-mapping", vec![("id", tenant), ("mapping_id", "any")]),
        ("/api/apps/review-uninstall", vec![("install_id", install_id.as_str().unwrap()), ("orphan", "false")]),
        (
            "/api/apps/uninstall",
            vec![("install_id", install_id.as_str().unwrap()), ("version", "1"), ("orphan", "false")],
        ),
        ("/api/tokens/revoke", vec![("id", a_token.as_str())]),
        (
            "/api/tokens/create",
            vec![("name", "x"), ("access", "view"), ("days", "1"), ("service_account", a_bot.as_str())],
        ),
        ("/api/rollouts/get", vec![("id", rollout.as_str())]),
        ("/api/rollouts/act", vec![("id", rollout.as_str()), ("action", "resume")]),
        ("/api/rollouts/act", vec![("id", rollout.as_str()), ("action", "abort")]),
    ];
    for (endpoint, body) in &forms {
        let response = app.call(&b, endpoint, body).await;
        assert_eq!(response.status(), 404, "{endpoint}: {}", response.text().await.unwrap());
    }
    let edit = json!({"yaml": CONFIGMAP, "placement": {}, "overrides": []});
    let jsons = [
        ("/api/resources/review-edit", json!({"id": resource, "edit": edit})),
        ("/api/resources/apply-edit", json!({"id": resource, "version": 1, "edit": edit})),
        ("/api/resources/roll-out", json!({"id": resource, "version": 1, "edit": edit, "strategy": {}})),
        ("/api/projects/review-secret", json!({"project_id": project, "name": "s", "values": {"k": "v"}})),
        ("/api/projects/add-secret", json!({"project_id": project, "name": "s", "values": {"k": "v"}})),
        ("/api/apps/review-install", install.clone()),
        ("/api/apps/install", install.clone()),
        ("/api/rollouts/plan", upgrade.clone()),
        ("/api/rollouts/start", upgrade.clone()),
        ("/api/apps/remove-version", json!({"version_id": own})),
    ];
    for (endpoint, body) in &jsons {
        let response = app.call_json(&b, endpoint, body).await;
        assert_eq!(response.status(), 404, "{endpoint}: {}", response.text().await.unwrap());
    }
    // A service account of B's cannot hold a role in A's project.
    let bot = [("name", "b-bot"), ("role", "project_admin"), ("scope_id", project)];
    assert_eq!(app.call(&b, "/api/tokens/create-service-account", &bot).await.status(), 422);
    // The REST API, with a token of B's tenant admin: A's ids are not found.
    let b_token =
        ok(app.call(&b, "/api/tokens/create", &[("name", "b"), ("access", "admin"), ("days", "1")]).await).await;
    let b_token = b_token["secret"].as_str().unwrap().to_owned();
    let rest = reqwest::Client::new();
    let named = json!({"name": "intruder"});
    let yaml = json!({"yaml": CONFIGMAP});
    for (method, path, body) in [
        (reqwest::Method::POST, format!("/api/v1/workspaces/{ws}/projects"), named.clone()),
        (reqwest::Method::POST, format!("/api/v1/workspaces/{ws}/import"), yaml.clone()),
        (
            reqwest::Method::POST,
            format!("/api/v1/workspaces/{ws}/federate"),
            json!({"cluster_id": cluster, "namespace": "shop", "dry_run": true}),
        ),
        (reqwest::Method::POST, format!("/api/v1/projects/{project}/resources"), yaml),
        (reqwest::Method::POST, format!("/api/v1/rollouts/{rollout}/skip"), json!({"cluster_id": cluster})),
    ]
    .into_iter()
    .chain(
        [
            (reqwest::Method::GET, format!("/api/v1/workspaces/{ws}")),
            (reqwest::Method::GET, format!("/api/v1/projects/{project}")),
            (reqwest::Method::GET, format!("/api/v1/projects/{project}/status")),
            (reqwest::Method::GET, format!("/api/v1/projects/{project}/export")),
            (reqwest::Method::GET, format!("/api/v1/resources/{resource}")),
            (reqwest::Method::GET, format!("/api/v1/resources/{resource}/status")),
            (reqwest::Method::DELETE, format!("/api/v1/resources/{resource}")),
            (reqwest::Method::DELETE, format!("/api/v1/resources/{resource}?version=1")),
            (reqwest::Method::GET, format!("/api/v1/rollouts/{rollout}")),
            (reqwest::Method::POST, format!("/api/v1/rollouts/{rollout}/abort")),
        ]
        .map(|(method, path)| (method, path, Value::Null)),
    ) {
        let response =
            rest.request(method.clone(), app.url(&path)).bearer_auth(&b_token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}: {}", response.text().await.unwrap());
    }
    for list in ["/api/v1/clusters", "/api/v1/workspaces", "/api/v1/rollouts"] {
        let response = rest.get(app.url(list)).bearer_auth(&b_token).send().await.unwrap();
        assert_eq!(response.json::<Value>().await.unwrap(), json!([]), "{list}");
    }
    let tokens = ok(app.call(&b, "/api/tokens/list", &[]).await).await;
    assert!(!tokens.to_string().contains(&a_token) && !tokens.to_string().contains("a-bot"), "{tokens}");
    // And A's token still works: nothing B did touched it.
    let response =
        rest.get(app.url(&format!("/api/v1/projects/{project}"))).bearer_auth(&a_secret).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Pages too: rendered as not found, with the status to match.
    for page in [format!("/workspaces/{ws}"), format!("/projects/{project}"), format!("/resources/{resource}")] {
        let response = b.get(app.url(&page)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{page}");
        assert!(!response.text().await.unwrap().contains("settings"), "{page} shows nothing of A's");
    }
    // Lists show none of A's.
    assert_eq!(ok(app.call(&b, "/api/fleet/clusters", &[]).await).await, json!([]));
    let types = ok(app.call(&b, "/api/fleet/types", &[]).await).await;
    assert_eq!((&types["clusters"], &types["types"]), (&json!(0), &json!([])), "none of A's clusters' types");
    assert_eq!(ok(app.call(&b, "/api/workspaces/list", &[]).await).await, json!([]));
    let apps = ok(app.call(&b, "/api/apps/fleet", &[]).await).await;
    assert!(apps.as_array().unwrap().iter().all(|a| a["installs"] == json!([])), "none of A's installs: {apps}");
    assert_eq!(ok(app.call(&b, "/api/rollouts/list", &[]).await).await, json!([]), "none of A's rollouts");
    let audit =
        ok(app.call(&b, "/api/audit/search", &[("actor", ""), ("action", ""), ("target", ""), ("outcome", "")]).await)
            .await;
    let actions: Vec<&str> = audit["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token.create", "login", "user.create", "tenant.create"], "B's own log only");
    let people = ok(app.call(&b, "/api/people/list", &[]).await).await;
    let names: Vec<&str> = people.as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["gadmin"], "B's own people only");

    // A's own app version is not in B's catalog, and B cannot install it in a project of B's.
    let catalog = ok(app.call(&b, "/api/apps/catalog", &[("scope", "")]).await).await;
    assert!(!catalog.to_string().contains(&own) && !catalog.to_string().contains("6.7.2"), "{catalog}");
    let b_ws = ok(app.call(&b, "/api/workspaces/create", &[("name", "mine"), ("selector", "")]).await).await;
    let b_ws = b_ws["id"].as_str().unwrap().to_owned();
    let b_project = ok(app
        .call(&b, "/api/projects/create", &[("workspace_id", b_ws.as_str()), ("name", "mine"), ("selector", "")])
        .await)
    .await;
    // A's cluster cannot be read through a workspace of B's.
    let read = [("workspace_id", b_ws.as_str()), ("cluster_id", cluster), ("namespace", "shop"), ("selector", "")];
    assert_eq!(app.call(&b, "/api/workspaces/federate-preview", &read).await.status(), 404);
    let foreign_version = json!({"workspace_id": b_ws, "project_id": b_project["id"],
                                 "input": {"version_id": own, "name": "web", "values": {}}});
    for endpoint in ["/api/apps/review-install", "/api/apps/install"] {
        let response = app.call_json(&b, endpoint, &foreign_version).await;
        assert_eq!(response.status(), 404, "{endpoint}: {}", response.text().await.unwrap());
    }
    assert_eq!(snapshot(&app, &a).await, before, "tenant A is as it was");
}

/// A local account of the default tenant holding `role` on `scope`, logged in.
pub(crate) async fn user_with(app: &TestApp, name: &str, role: flotilla_domain::Role, scope: &str) -> reqwest::Client {
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let admin = flotilla_store::Actor::system("test");
    let password = secrecy::SecretString::from(format!("{name}-password-long"));
    let grant = flotilla_domain::Grant::new(role, scope);
    app.store.create_local_user(&admin, &tenant.id, name, &password, &grant).await.unwrap();
    let client = app.client();
    let response = app.login(&client, name, &format!("{name}-password-long")).await;
    assert!(response.status().is_success());
    client
}

#[tokio::test]
async fn roles_decide_what_a_user_may_do_and_the_server_refuses_the_rest() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let a = tenant_a(&app, &admin).await;
    // A second workspace and project nobody below has a role on.
    let other = ok(app.call(&admin, "/api/workspaces/create", &[("name", "data"), ("selector", "")]).await).await;
    let other_ws = other["id"].as_str().unwrap().to_owned();
    let other_project = ok(app
        .call(&admin, "/api/projects/create", &[("workspace_id", &other_ws), ("name", "db"), ("selector", "")])
        .await)
    .await;
    let other_project = other_project["id"].as_str().unwrap().to_owned();

    let viewer = user_with(&app, "vera", Role::ProjectViewer, &a.project).await;
    let editor = user_with(&app, "eddie", Role::ProjectEditor, &a.project).await;
    let ws_admin = user_with(&app, "wanda", Role::WorkspaceAdmin, &a.workspace).await;
    let status = |r: reqwest::Response| r.status().as_u16();

    // The viewer sees the project, read-only; the editor may change its resources, not its selector.
    let view = ok(app.call(&viewer, "/api/projects/view", &[("id", &a.project)]).await).await;
    assert_eq!(view["level"], "view");
    let cm = [
        ("project_id", a.project.as_str()),
        ("name", "x"),
        ("data", "a=b"),
        ("override_cluster", ""),
        ("override_data", ""),
    ];
    let refused = app.call(&viewer, "/api/projects/add-configmap", &cm).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(body["Forbidden"].as_str().unwrap().contains("only view"), "{body}");
    assert_eq!(
        status(
            app.call(&viewer, "/api/resources/delete", &[("id", &a.resource), ("version", "1"), ("orphan", "false")])
                .await
        ),
        403
    );
    let detail = ok(app.call(&viewer, "/api/resources/detail", &[("id", &a.resource)]).await).await;
    assert_eq!(detail["level"], "view");
    ok(app.call(&viewer, "/api/resources/history", &[("id", &a.resource)]).await).await;

    ok(app.call(&editor, "/api/projects/add-configmap", &cm).await).await;
    assert_eq!(
        status(
            app.call(&editor, "/api/projects/set-selector", &[("id", &a.project), ("version", "1"), ("selector", "")])
                .await
        ),
        403
    );
    // Taking over objects Flotilla did not create is an admin's call.
    assert_eq!(status(app.call(&editor, "/api/resources/adopt", &[("id", &a.resource), ("version", "1")]).await), 403);

    // Neither sees what they have no role on: not found, as another tenant's would be.
    for client in [&viewer, &editor] {
        assert_eq!(status(app.call(client, "/api/projects/view", &[("id", &other_project)]).await), 404);
        assert_eq!(status(app.call(client, "/api/workspaces/detail", &[("id", &other_ws)]).await), 404);
        let listed = ok(app.call(client, "/api/workspaces/list", &[]).await).await;
        let names: Vec<&str> = listed.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["ops"], "only the workspace of their project");
        // Through its project only: no role on the workspace itself, so none of its own resources.
        let ws = ok(app.call(client, "/api/workspaces/detail", &[("id", &a.workspace)]).await).await;
        assert_eq!(ws["level"], Value::Null);
        // Tenant-wide things are the tenant admin's.
        assert_eq!(
            status(app.call(client, "/api/workspaces/create", &[("name", "mine"), ("selector", "")]).await),
            403
        );
        let (cluster, _) = &a.cluster;
        assert_eq!(
            status(
                app.call(client, "/api/fleet/set-labels", &[("id", cluster), ("version", "1"), ("labels", "a=b")])
                    .await
            ),
            403
        );
        assert_eq!(
            status(
                app.call(
                    client,
                    "/api/audit/search",
                    &[("actor", ""), ("action", ""), ("target", ""), ("outcome", "")]
                )
                .await
            ),
            403
        );
        assert_eq!(status(app.call(client, "/api/tenants/list", &[]).await), 403);
        // The fleet itself is visible to everyone of the tenant.
        assert_eq!(ok(app.call(client, "/api/fleet/clusters", &[]).await).await.as_array().unwrap().len(), 12);
    }

    // A workspace admin may change the workspace and make projects in it.
    let ws = ok(app.call(&ws_admin, "/api/workspaces/detail", &[("id", &a.workspace)]).await).await;
    assert_eq!(ws["level"], "admin");
    ok(app
        .call(
            &ws_admin,
            "/api/workspaces/set-selector",
            &[("id", &a.workspace), ("version", "1"), ("selector", "env=staging")],
        )
        .await)
    .await;
    ok(app
        .call(&ws_admin, "/api/projects/create", &[("workspace_id", &a.workspace), ("name", "api"), ("selector", "")])
        .await)
    .await;
    // Cluster-scoped RBAC reaches every selected cluster, shared with other workspaces: a
    // tenant admin's; a namespace is the workspace's.
    let refused = app
        .call(&ws_admin, "/api/workspaces/add-resource", &[("workspace_id", &a.workspace), ("yaml", CLUSTER_ROLE)])
        .await;
    assert_eq!(refused.status(), 403);
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tools\n";
    ok(app
        .call(&ws_admin, "/api/workspaces/add-resource", &[("workspace_id", &a.workspace), ("yaml", namespace)])
        .await)
    .await;
    assert_eq!(status(app.call(&ws_admin, "/api/projects/view", &[("id", &other_project)]).await), 404);

    // The session says what each may do, for the pages to offer only that.
    let me = ok(app.call(&viewer, "/api/auth/me", &[]).await).await;
    assert_eq!(me["access"]["tenant_admin"], false);
    assert_eq!(me["access"]["projects"][&a.project], "view");
}

/// The tenant page's provider form, as posted.
fn provider_form<'a>(id: &'a str, version: &'a str, issuer: &'a str, secret: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("id", id),
        ("version", version),
        ("provider[issuer_url]", issuer),
        ("provider[client_id]", "flotilla"),
        ("provider[client_secret]", secret),
        ("provider[scopes]", "openid email groups"),
        ("provider[groups_claim]", "groups"),
    ]
}

#[tokio::test]
async fn only_the_platform_admin_manages_tenants_and_secrets_never_come_back() {
    let app = spawn_app().await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    let bad = app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Again")]).await;
    assert_eq!(bad.status(), 422);

    let provider = provider_form(id, "1", "https://idp.acme.example", "very-secret-value");
    ok(app.call(&admin, "/api/tenants/set-oidc", &provider).await).await;
    let page = app.call(&admin, "/api/tenants/get", &[("id", id)]).await.text().await.unwrap();
    assert!(!page.contains("very-secret-value"), "the secret is never sent back: {page}");
    let page: Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["oidc"]["has_client_secret"], true);
    assert!(page["redirect_uri"].as_str().unwrap().ends_with("/t/acme/callback"), "{page}");
    // A stale save is refused.
    assert_eq!(app.call(&admin, "/api/tenants/set-oidc", &provider).await.status(), 409);
    // Rules: a bad role or scope names its field.
    let rule =
        |role: &'static str, scope: &'static str| [("id", id), ("group", "ops"), ("role", role), ("scope_id", scope)];
    ok(app.call(&admin, "/api/tenants/add-mapping", &rule("tenant_admin", "")).await).await;
    let refused: Value =
        app.call(&admin, "/api/tenants/add-mapping", &rule("project_viewer", "nope")).await.json().await.unwrap();
    assert_eq!(refused["Invalid"]["field"], "scope");
    let refused: Value = app.call(&admin, "/api/tenants/add-mapping", &rule("owner", "")).await.json().await.unwrap();
    assert_eq!(refused["Invalid"]["field"], "role");

    // "Test configuration" says what is wrong with a provider that cannot be reached.
    // (Another issuer than the saved one: the secret is typed, the stored one goes nowhere else.)
    let mut unreachable = provider_form(id, "", "http://127.0.0.1:9", "typed-secret");
    unreachable.remove(1); // no version: a test saves nothing
    let test = app.call(&admin, "/api/tenants/test-oidc", &unreachable).await;
    assert_eq!(test.status(), 422);
    let body: Value = test.json().await.unwrap();
    let message = body["Invalid"]["message"].as_str().unwrap();
    assert!(message.contains("could not read the discovery document of http://127.0.0.1:9"), "{message}");

    // The tenant's own admin manages its group rules, and nothing else here.
    ok(app
        .call(
            &admin,
            "/api/tenants/add-local-user",
            &[("id", id), ("username", "root"), ("password", "acme-root-password"), ("role", "tenant_admin")],
        )
        .await)
    .await;
    let acme_admin = app.client();
    assert!(app.login_to(&acme_admin, "acme", "root", "acme-root-password").await.status().is_success());
    let provider = provider_form(id, "2", "https://idp.evil.example", "");
    for (endpoint, body) in [
        ("/api/tenants/list", vec![]),
        ("/api/tenants/get", vec![("id", id)]),
        ("/api/tenants/set-oidc", provider),
        (
            "/api/tenants/add-local-user",
            vec![("id", id), ("username", "x"), ("password", "x-password-long"), ("role", "tenant_admin")],
        ),
    ] {
        assert_eq!(app.call(&acme_admin, endpoint, &body).await.status(), 403, "{endpoint}");
    }
    let rules = ok(app.call(&acme_admin, "/api/tenants/own-rules", &[]).await).await;
    assert_eq!((rules["tenant_id"].as_str(), rules["has_provider"].as_bool()), (Some(id), Some(true)));
    assert_eq!(rules["mappings"].as_array().unwrap().len(), 1);
    let leads = [("id", id), ("group", "acme-leads"), ("role", "tenant_admin"), ("scope_id", "")];
    ok(app.call(&acme_admin, "/api/tenants/add-mapping", &leads).await).await;
    let added = ok(app.call(&acme_admin, "/api/tenants/own-rules", &[]).await).await;
    let mappings = added["mappings"].as_array().unwrap();
    let mapping = mappings.iter().find(|m| m["group"] == "acme-leads").unwrap()["id"].as_str().unwrap().to_owned();
    ok(app.call(&acme_admin, "/api/tenants/remove-mapping", &[("id", id), ("mapping_id", &mapping)]).await).await;
    let after = ok(app.call(&acme_admin, "/api/tenants/own-rules", &[]).await).await;
    assert_eq!(after["mappings"], rules["mappings"], "back to the platform admin's one rule");
    // Platform admin is never a group's to give; the default tenant's rules are not Acme's to touch.
    let refused: Value =
        app.call(&acme_admin, "/api/tenants/add-mapping", &rule("platform_admin", "")).await.json().await.unwrap();
    assert_eq!(refused["Invalid"]["field"], "role");
    let default = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let elsewhere = [("id", default.as_str()), ("group", "ops"), ("role", "tenant_admin"), ("scope_id", "")];
    assert_eq!(app.call(&acme_admin, "/api/tenants/add-mapping", &elsewhere).await.status(), 404);
    assert!(app.store.tenant_detail(&default).await.unwrap().mappings.is_empty());

    let actions: Vec<String> = app.store.audit_log(id, 20).await.unwrap().into_iter().rev().map(|r| r.action).collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "tenant.oidc_update",
            "role_mapping.add",
            "user.create",
            "login",
            "role_mapping.add",
            "role_mapping.remove"
        ],
        "every change to the tenant, in the tenant's log"
    );
}

#[tokio::test]
async fn organisation_logins_refuse_what_they_cannot_trust() {
    let app = spawn_app().await;
    let client = app.client();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();

    let unknown = client.get(app.url("/t/nobody/login")).send().await.unwrap();
    assert_eq!(location(&unknown), "/login?error=unknown-tenant");
    // The picker on the login page sends to the tenant's login.
    let picked = client.get(app.url("/t?tenant=Acme&next=/workspaces")).send().await.unwrap();
    assert_eq!(location(&picked), "/t/acme/login?next=/workspaces");
    // A tenant without a provider logs in with passwords.
    let local = client.get(app.url("/t/default/login")).send().await.unwrap();
    assert_eq!(location(&local), "/login?tenant=default");

    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    let dead = provider_form(id, "1", "http://127.0.0.1:9", "s");
    ok(app.call(&admin, "/api/tenants/set-oidc", &dead).await).await;
    let unreachable = client.get(app.url("/t/acme/login")).send().await.unwrap();
    assert_eq!(location(&unreachable), "/login?tenant=acme&error=unavailable");

    // A callback no login of this browser started (a forged or replayed one) is refused.
    let forged = client.get(app.url("/t/acme/callback?code=stolen&state=guessed")).send().await.unwrap();
    assert_eq!(location(&forged), "/login?tenant=acme&error=state");
    let me = ok(app.call(&client, "/api/auth/me", &[]).await).await;
    assert_eq!(me, Value::Null, "not logged in");
    let log = app.store.audit_log(id, 10).await.unwrap();
    let refused = log.iter().find(|r| r.action == "login_failed").expect("the refusal is audited");
    assert!(refused.detail.contains("no login of this tenant was in progress"), "{}", refused.detail);

    // #16 point 11: a flood of forged callbacks cannot fill the audit log.
    for _ in 0..50 {
        let forged = client.get(app.url("/t/acme/callback?code=x&state=y&error_description=zzz")).send().await.unwrap();
        assert_eq!(location(&forged), "/login?tenant=acme&error=state");
    }
    let refusals = app.store.audit_log(id, 1000).await.unwrap().iter().filter(|r| r.action == "login_failed").count();
    assert!(refusals <= 5, "{refusals} refusals audited for 51 forged callbacks");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app().await;
    let client = app.client();
    let login = app.login(&client, "admin", ADMIN_PASSWORD).await;
    let cookie = session_cookie(&login).unwrap();
    let id = cookie.trim_start_matches("flotilla_session=").split(';').next().unwrap().to_owned();
    assert_ne!(ok(app.call(&client, "/api/auth/me", &[]).await).await, Value::Null);

    // The session's end, recorded at login, has passed (its idle expiry has not).
    let stored = app.store.session_load(&id).await.unwrap().expect("the session is stored");
    let mut record: Value = serde_json::from_str(&stored.data).unwrap();
    let ends_at = record["data"]["ends_at"].as_i64().expect("ends_at is recorded at login");
    let lifetime = ends_at - flotilla_store::now_ms();
    assert!((11 * 3600 * 1000..=12 * 3600 * 1000).contains(&lifetime), "12 hours by default: {lifetime}");
    record["data"]["ends_at"] = json!(flotilla_store::now_ms() - 1);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let user_id = record["data"]["user_id"].as_str().map(str::to_owned);
    app.store
        .session_save(&id, &record.to_string(), stored.expires_at, Some(&tenant.id), user_id.as_deref())
        .await
        .unwrap();

    assert_eq!(ok(app.call(&client, "/api/auth/me", &[]).await).await, Value::Null);
    let page = client.get(app.url("/workspaces")).send().await.unwrap();
    assert_eq!(page.status(), 303, "pages send the browser to log in again");
}

#[tokio::test]
async fn a_projects_groups_reach_its_clusters_as_role_bindings_kept_by_the_rules() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let a = tenant_a(&app, &admin).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let rule = [
        ("id", tenant.id.as_str()),
        ("group", "web-team"),
        ("role", "project_editor"),
        ("scope_id", a.project.as_str()),
    ];
    ok(app.call(&admin, "/api/tenants/add-mapping", &rule).await).await;

    // The bindings follow the rules (a reconciler on the change feed).
    let binding = eventually("the project holds the editors' binding", WAIT, || async {
        let view = ok(app.call(&admin, "/api/projects/view", &[("id", &a.project)]).await).await;
        view["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "RoleBinding" && r["name"] == "flotilla-project-editors")
            .cloned()
    })
    .await;
    let id = binding["id"].as_str().unwrap();
    let detail = ok(app.call(&admin, "/api/resources/detail", &[("id", id)]).await).await;
    assert!(detail["yaml"].as_str().unwrap().contains("name: web-team"), "{detail}");
    assert!(detail["locked"].as_str().unwrap().contains("group rules"), "{detail}");
    // The engine writes it to each of the project's clusters like any other resource.
    let synced = eventually("the RoleBinding Synced in every cluster of the project", WAIT, || async {
        let d = ok(app.call(&admin, "/api/resources/detail", &[("id", id)]).await).await;
        let synced = d["statuses"].as_array().unwrap().iter().filter(|s| s["code"] == "Synced").count();
        (synced == d["clusters"].as_array().unwrap().len()).then_some(synced)
    })
    .await;
    assert_eq!(synced, 4, "Synced in the four staging clusters");
    // Kept by the rules: not deleted, edited or reverted by hand.
    let refused = app.call(&admin, "/api/resources/delete", &[("id", id), ("version", "1"), ("orphan", "false")]).await;
    assert_eq!(refused.status(), 422);
    let edit = json!({"yaml": detail["yaml"], "placement": {}, "overrides": []});
    let refused =
        app.call_json(&admin, "/api/resources/apply-edit", &json!({"id": id, "version": 1, "edit": edit})).await;
    assert_eq!(refused.status(), 422);
}

#[tokio::test]
async fn a_disabled_person_is_out_at_once_and_back_in_when_enabled() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let a = tenant_a(&app, &admin).await;
    let vera = user_with(&app, "vera", flotilla_domain::Role::ProjectViewer, &a.project).await;
    let view = [("id", a.project.as_str())];
    ok(app.call(&vera, "/api/projects/view", &view).await).await;

    // Only a tenant admin sees the people, with their roles and where they hold them.
    assert_eq!(app.call(&vera, "/api/people/list", &[]).await.status(), 403);
    let people = ok(app.call(&admin, "/api/people/list", &[]).await).await;
    let find = |people: &Value, name: &str| {
        people.as_array().unwrap().iter().find(|p| p["username"] == name).cloned().unwrap_or_else(|| panic!("{name}"))
    };
    let row = find(&people, "vera");
    assert_eq!(row["roles"], json!([{"role": "project_viewer", "scope": "ops/web", "from_groups": false}]));
    assert_eq!(
        (row["disabled"].clone(), row["can_disable"].clone(), row["oidc"].clone()),
        (json!(false), json!(true), json!(false))
    );
    assert!(row["last_login_at"].is_i64(), "{row}");
    assert_eq!(find(&people, "admin")["can_disable"], false, "not oneself, not the platform admin");

    // Nobody disables themselves or the platform admin.
    let admin_id = find(&people, "admin")["id"].as_str().unwrap().to_owned();
    let refused = app.call(&admin, "/api/people/set-disabled", &[("id", &admin_id), ("disabled", "true")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("your own account"));

    // Disabled: vera's open session counts for nothing, on every route, and she cannot log in.
    let vera_id = row["id"].as_str().unwrap().to_owned();
    ok(app.call(&admin, "/api/people/set-disabled", &[("id", &vera_id), ("disabled", "true")]).await).await;
    assert_eq!(app.call(&vera, "/api/projects/view", &view).await.status(), 401);
    assert_eq!(app.call(&vera, "/api/fleet/clusters", &[]).await.status(), 401);
    assert_eq!(vera.get(app.url("/api/events")).send().await.unwrap().status(), 401);
    assert_eq!(app.login(&app.client(), "vera", "vera-password-long").await.status(), 401);
    let people = ok(app.call(&admin, "/api/people/list", &[]).await).await;
    assert_eq!(find(&people, "vera")["disabled"], true);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let log = app.store.audit_log(&tenant.id, 50).await.unwrap();
    let entry = log.iter().find(|e| e.action == "user.disable").expect("audited");
    assert_eq!((entry.actor_name.as_str(), entry.target_name.as_str()), ("admin", "vera"));
    let detail: Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["sessions_ended"], 1, "{detail}");

    // Enabled again: she logs in as before; doing it twice changes nothing more.
    for _ in 0..2 {
        ok(app.call(&admin, "/api/people/set-disabled", &[("id", &vera_id), ("disabled", "false")]).await).await;
    }
    let log = app.store.audit_log(&tenant.id, 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "user.enable").count(), 1);
    let again = app.client();
    assert!(app.login(&again, "vera", "vera-password-long").await.status().is_success());
    ok(app.call(&again, "/api/projects/view", &view).await).await;
}

/// #16 point 7: "Test configuration" sends the stored client secret only to the issuer it was
/// saved for; testing another issuer needs the secret typed.
#[tokio::test]
async fn the_stored_client_secret_goes_only_to_its_own_issuer() {
    let app = spawn_app().await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    ok(app
        .call(&admin, "/api/tenants/set-oidc", &provider_form(id, "1", "http://127.0.0.1:9/", "stored-secret"))
        .await)
    .await;
    let elsewhere = app.call(&admin, "/api/tenants/test-oidc", &provider_form(id, "2", "http://127.0.0.1:8", "")).await;
    let body: Value = elsewhere.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "client_secret", "{body}");
    // Its own issuer gets it (here: unreachable, so the test itself fails, further on).
    let own = app.call(&admin, "/api/tenants/test-oidc", &provider_form(id, "2", "http://127.0.0.1:9", "")).await;
    let body: Value = own.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "test", "{body}");
}

/// #16 point 11: an anonymous login start stores nothing on the server. What the callback must
/// check (state, nonce, PKCE verifier) travels in a short-lived cookie sealed with the server's
/// key; a forged or altered one is refused like a missing one.
#[tokio::test]
async fn an_anonymous_login_start_stores_nothing_and_its_cookie_is_sealed() {
    // A provider that answers discovery (the login goes no further than its authorize URL).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let doc = json!({
        "issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"), "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"), "response_types_supported": ["code"],
        "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
    });
    let idp = axum::Router::new()
        .route("/.well-known/openid-configuration", axum::routing::get(move || async move { axum::Json(doc) }))
        .route("/jwks", axum::routing::get(|| async { axum::Json(json!({"keys": []})) }));
    tokio::spawn(async move { axum::serve(listener, idp).await.unwrap() });

    let app = spawn_app().await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let acme = ok(app.call(&admin, "/api/tenants/create", &[("slug", "acme"), ("display_name", "Acme")]).await).await;
    let id = acme["id"].as_str().unwrap();
    ok(app.call(&admin, "/api/tenants/set-oidc", &provider_form(id, "1", &issuer, "s")).await).await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(app.store.pool_for_tests())
            .await
            .unwrap()
    };
    let before = sessions().await;

    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..20 {
        let started = browser.get(app.url("/t/acme/login?next=/workspaces")).send().await.unwrap();
        assert!(started.headers()["location"].to_str().unwrap().starts_with(&format!("{issuer}/auth?")));
        assert!(session_cookie(&started).is_none(), "no session is started");
    }
    assert_eq!(sessions().await, before, "twenty anonymous login starts stored nothing");

    let started = browser.get(app.url("/t/acme/login")).send().await.unwrap();
    let cookie =
        crate::helpers::set_cookie(&started, "flotilla_login").expect("the login in progress travels in a cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/t/", "Max-Age=600"] {
        assert!(cookie.contains(part), "{part}: {cookie}");
    }
    let value = cookie.trim_start_matches("flotilla_login=").split(';').next().unwrap().to_owned();
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let state = location.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    assert!(!value.contains(&state), "sealed, not readable");

    // Altered, or from another server (another key): refused as no login in progress. The
    // callback always removes the cookie.
    let location_of = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
    let mut altered = value.clone();
    altered.insert(altered.len() - 4, 'A');
    let callback = app.url(&format!("/t/acme/callback?code=c&state={state}"));
    let answer = browser.get(&callback).header("cookie", format!("flotilla_login={altered}")).send().await.unwrap();
    assert_eq!(location_of(&answer), "/login?tenant=acme&error=state");
    let removed = answer.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("flotilla_login=;") && v.contains("Max-Age=0")
    });
    assert!(removed, "the callback removes the login cookie");
    // The genuine cookie gets past the state check to the provider (whose token endpoint
    // does not exist here): the login fails further on, not for want of a login in progress.
    let answer = browser.get(&callback).header("cookie", format!("flotilla_login={value}")).send().await.unwrap();
    assert_ne!(location_of(&answer), "/login?tenant=acme&error=state");
    assert_eq!(sessions().await, before);
}
