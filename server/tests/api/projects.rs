use serde_json::Value;

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, ok, spawn_app_with};

/// The statuses of `resource_id` in a project view: (cluster name, code, health).
fn statuses_of(view: &Value, resource_id: &str) -> Vec<(String, String, String)> {
    let Some(row) = view["resources"].as_array().unwrap().iter().position(|r| r["id"] == resource_id) else {
        return Vec::new();
    };
    let codes = view["codes"][row].as_str().unwrap();
    codes
        .bytes()
        .enumerate()
        .filter(|(_, ch)| *ch != b'.')
        .map(|(c, ch)| {
            let code = flotilla_domain::StatusCode::ALL[usize::from(ch - b'a')].as_str().to_owned();
            let note = view["notes"].as_array().unwrap().iter().find(|n| n["r"] == row && n["c"] == c);
            let health = note.and_then(|n| n["health"].as_str()).unwrap_or_default().to_owned();
            (view["clusters"][c]["name"].as_str().unwrap().to_owned(), code, health)
        })
        .collect()
}

#[tokio::test]
async fn a_project_gets_a_configmap_with_an_override_and_shows_its_status_per_cluster() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "prod"), ("selector", "env=prod")]).await;
    let ws_id = ws["id"].as_str().unwrap();
    let project = app
        .json(&client, "/api/projects/create", &[("workspace_id", ws_id), ("name", "shop"), ("selector", "region=eu")])
        .await;
    assert_eq!(project["clusters"], 4, "prod ∩ eu");
    let project_id = project["id"].as_str().unwrap();

    let detail = app.json(&client, "/api/workspaces/detail", &[("id", ws_id)]).await;
    assert_eq!(detail["clusters"].as_array().unwrap().len(), 8);
    assert_eq!(detail["projects"][0]["name"], "shop");

    // Bad input names its field and writes nothing.
    for (form, field) in [
        (vec![("name", "cfg"), ("data", "no equals sign")], "data"),
        (vec![("name", "cfg"), ("data", "a=1"), ("override_data", "a=2")], "override_cluster"),
        (vec![("name", "cfg"), ("data", "a=1"), ("override_cluster", "prod-eu-1")], "override_data"),
        (vec![("name", "Bad Name"), ("data", "a=1")], "name"),
    ] {
        let mut form = form;
        form.push(("project_id", project_id));
        let answer = app.call(&client, "/api/projects/add-configmap", &form).await;
        assert_eq!(answer.status(), 422, "{form:?}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["Invalid"]["field"], field, "{form:?}: {error}");
    }

    let added = app
        .json(
            &client,
            "/api/projects/add-configmap",
            &[
                ("project_id", project_id),
                ("name", "cfg"),
                ("data", "greeting=hello\nlevel=info"),
                ("override_cluster", "prod-eu-2"),
                ("override_data", "level=debug"),
            ],
        )
        .await;
    let resource_id = added["id"].as_str().unwrap().to_owned();

    // The engine syncs it to the project's four clusters; the view shows each status.
    let view = eventually("Synced in the project's four clusters", WAIT, || async {
        let view = app.json(&client, "/api/projects/view", &[("id", project_id)]).await;
        let synced = statuses_of(&view, &resource_id).iter().filter(|(_, code, _)| code == "Synced").count();
        (synced == 4).then_some(view)
    })
    .await;
    let names: Vec<&str> = view["clusters"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod-eu-1", "prod-eu-2", "prod-eu-3", "prod-eu-4"]);
    let kinds: Vec<&str> = view["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"ConfigMap") && kinds.contains(&"Namespace"), "{kinds:?}");

    // The statuses alone (what a page reads again when its live stream opens): the same.
    let now = app.json(&client, "/api/projects/statuses", &[("id", project_id)]).await;
    assert_eq!(now["clusters"].as_array().unwrap().len(), 4, "{now}");
    let statuses = &now["statuses"];
    let synced = statuses
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resource_id"] == resource_id.as_str() && s["code"] == "Synced")
        .count();
    assert_eq!(synced, 4, "{statuses}");

    // Another tenant's id, or one that does not exist, is not found.
    let missing = app.call(&client, "/api/projects/view", &[("id", "no-such-project")]).await;
    assert_eq!(missing.status(), 404);
    let missing = app.call(&client, "/api/projects/statuses", &[("id", "no-such-project")]).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn any_object_is_added_as_yaml_and_bad_yaml_says_where() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await;
    let project = app
        .json(
            &client,
            "/api/projects/create",
            &[("workspace_id", ws["id"].as_str().unwrap()), ("name", "web"), ("selector", "")],
        )
        .await;
    let project_id = project["id"].as_str().unwrap();
    let add = |yaml: &'static str| {
        let form = [("project_id", project_id.to_owned()), ("yaml", yaml.to_owned())];
        let (app, client) = (&app, &client);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(client, "/api/projects/add-resource", &form).await
        }
    };

    let cases = [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n", "line 4"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", "apiVersion"),
        ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n", "cluster"),
    ];
    for (yaml, says) in cases {
        let answer = add(yaml).await;
        assert_eq!(answer.status(), 422, "{yaml}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["Invalid"]["field"], "yaml");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(says), "{error}");
    }

    let added: Value = add(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: web, image: 'nginx:1.27'}\n",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!((added["kind"].as_str(), added["name"].as_str()), (Some("Deployment"), Some("web")));
    let id = added["id"].as_str().unwrap().to_owned();

    // Four staging clusters; each reports the rollout's health.
    eventually("Healthy 2/2 in the four staging clusters", WAIT, || async {
        let view = app.json(&client, "/api/projects/view", &[("id", project_id)]).await;
        let healthy = statuses_of(&view, &id)
            .iter()
            .filter(|(_, code, health)| code == "Synced" && health == "Healthy 2/2")
            .count();
        healthy == 4
    })
    .await;
}

#[tokio::test]
async fn secrets_are_added_by_key_with_values_that_never_come_back() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await;
    let project = app
        .json(
            &client,
            "/api/projects/create",
            &[("workspace_id", ws["id"].as_str().unwrap()), ("name", "db"), ("selector", "")],
        )
        .await;
    let project_id = project["id"].as_str().unwrap();
    let post = |endpoint: &'static str, body: Value| {
        let (app, client) = (&app, &client);
        async move { app.call_json(client, endpoint, &body).await }
    };
    let body =
        |name: &str, values: Value| serde_json::json!({"project_id": project_id, "name": name, "values": values});

    for (b, field) in [
        (body("creds", serde_json::json!({})), "values"),
        (body("creds", serde_json::json!({"bad key!": "x"})), "values"),
        (body("Creds", serde_json::json!({"password": "x"})), "name"),
    ] {
        for endpoint in ["/api/projects/review-secret", "/api/projects/add-secret"] {
            let answer = post(endpoint, b.clone()).await;
            assert_eq!(answer.status(), 422, "{endpoint} {b}");
            assert_eq!(answer.json::<Value>().await.unwrap()["Invalid"]["field"], field, "{endpoint} {b}");
        }
    }

    let values = serde_json::json!({"password": "s3cret-plaintext", "user": "app"});
    let review: Value = post("/api/projects/review-secret", body("creds", values.clone())).await.json().await.unwrap();
    let text = review.to_string();
    assert!(!text.contains("s3cret") && text.contains("password: (hidden)"), "{text}");
    assert_eq!(review["changes"][0]["clusters"].as_array().unwrap().len(), 4);

    let added: Value = post("/api/projects/add-secret", body("creds", values.clone())).await.json().await.unwrap();
    assert_eq!(added["kind"], "Secret");
    let again = post("/api/projects/add-secret", body("creds", values)).await;
    assert_eq!(again.status(), 422, "already exists");
    let detail = app.json(&client, "/api/resources/detail", &[("id", added["id"].as_str().unwrap())]).await;
    assert_eq!(detail["secret_keys"], serde_json::json!(["password", "user"]));
    assert!(!detail.to_string().contains("s3cret"));
    let missing =
        post("/api/projects/add-secret", serde_json::json!({"project_id": "nope", "name": "x", "values": {"a": "b"}}))
            .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_project_is_deleted_after_a_review_taking_its_objects_along_or_leaving_them() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "eu"), ("selector", "env=prod,region=eu")]).await;
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    let mut projects = Vec::new();
    for name in ["gone", "kept"] {
        let project = app
            .json(
                &client,
                "/api/projects/create",
                &[("workspace_id", ws_id.as_str()), ("name", name), ("selector", "")],
            )
            .await;
        let id = project["id"].as_str().unwrap().to_owned();
        let form = [
            ("project_id", id.as_str()),
            ("name", "cfg"),
            ("data", "a=1"),
            ("override_cluster", ""),
            ("override_data", ""),
        ];
        app.json(&client, "/api/projects/add-configmap", &form).await;
        projects.push(id);
    }
    let cluster = "prod-eu-1";
    let (gone, kept) = (projects[0].as_str(), projects[1].as_str());
    eventually("both projects Synced in their four clusters", WAIT, || async {
        for project in [gone, kept] {
            let statuses = app.store.project_statuses(&tenant, project).await.unwrap();
            if statuses.len() != 8 || statuses.iter().any(|s| s.code != flotilla_domain::StatusCode::Synced) {
                return false;
            }
        }
        true
    })
    .await;
    assert!(app.member_object(cluster, "/api/v1/namespaces/gone/configmaps/cfg").await.is_some());

    // The review says what goes from each cluster, or that nothing changes there.
    let review = app.json(&client, "/api/projects/review-delete", &[("id", gone), ("orphan", "false")]).await;
    let changes = review["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "every cluster holds the same objects: {review}");
    assert_eq!(changes[0]["kind"], "Delete");
    assert_eq!(changes[0]["clusters"].as_array().unwrap().len(), 4);
    let lines: Vec<&str> = changes[0]["diff"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(lines, ["ConfigMap cfg", "Namespace gone"]);
    let orphaned = app.json(&client, "/api/projects/review-delete", &[("id", kept), ("orphan", "true")]).await;
    assert_eq!(orphaned["changes"][0]["kind"], "Unchanged");

    // Refused: a stale version, someone who is not a workspace admin.
    let stale = app.call(&client, "/api/projects/delete", &[("id", gone), ("version", "0"), ("orphan", "false")]).await;
    assert_eq!(stale.status(), 409);
    let editor = crate::tenancy::user_with(&app, "eddie", flotilla_domain::Role::ProjectAdmin, gone).await;
    let refused =
        app.call(&editor, "/api/projects/delete", &[("id", gone), ("version", "1"), ("orphan", "false")]).await;
    assert_eq!(refused.status(), 403);

    let next = app.json(&client, "/api/projects/delete", &[("id", gone), ("version", "1"), ("orphan", "false")]).await;
    assert_eq!(next, format!("/workspaces/{ws_id}"));
    app.json(&client, "/api/projects/delete", &[("id", kept), ("version", "1"), ("orphan", "true")]).await;
    // Gone from every list and address at once.
    assert_eq!(app.call(&client, "/api/projects/view", &[("id", gone)]).await.status(), 404);
    let detail = app.json(&client, "/api/workspaces/detail", &[("id", ws_id.as_str())]).await;
    assert_eq!(detail["projects"], serde_json::json!([]));
    // In the members: `gone`'s namespace removed, `kept`'s objects left as they were.
    eventually("the deleted project's namespace removed", WAIT, || async {
        app.member_object(cluster, "/api/v1/namespaces/gone").await.is_none()
    })
    .await;
    assert!(app.member_object(cluster, "/api/v1/namespaces/kept/configmaps/cfg").await.is_some());
    // Both rows go with their last resource; then the names are free again.
    eventually("both projects purged", WAIT, || async {
        let left = app.store.list_resources(&tenant, &ws_id, Some(gone)).await.unwrap().len()
            + app.store.list_resources(&tenant, &ws_id, Some(kept)).await.unwrap().len();
        left == 0
    })
    .await;
    let form = [("workspace_id", ws_id.as_str()), ("name", "gone"), ("selector", "")];
    let again = app.call(&client, "/api/projects/create", &form).await;
    assert_eq!(again.status(), 200, "{}", again.text().await.unwrap());
    let audit = app.store.search_audit(&tenant, &Default::default(), 100).await.unwrap();
    assert!(audit.iter().filter(|a| a.action == "project.delete").count() == 2, "audited");
}

#[tokio::test]
async fn a_workspace_is_deleted_with_its_projects_after_a_review_taking_their_objects_along_or_leaving_them() {
    use reqwest::Method;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    // Two workspaces over the same clusters, each with a project and a cluster-scoped object.
    let mut workspaces = Vec::new();
    for (name, namespace, role) in [("gone", "shop", "gone-reader"), ("kept", "blog", "kept-reader")] {
        let ws =
            app.json(&client, "/api/workspaces/create", &[("name", name), ("selector", "env=prod,region=eu")]).await;
        let ws_id = ws["id"].as_str().unwrap().to_owned();
        let project = app
            .json(
                &client,
                "/api/projects/create",
                &[("workspace_id", ws_id.as_str()), ("name", namespace), ("selector", "")],
            )
            .await;
        let project_id = project["id"].as_str().unwrap().to_owned();
        let form = [
            ("project_id", project_id.as_str()),
            ("name", "cfg"),
            ("data", "a=1"),
            ("override_cluster", ""),
            ("override_data", ""),
        ];
        app.json(&client, "/api/projects/add-configmap", &form).await;
        let yaml = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {role}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n"
        );
        ok(app
            .call(&client, "/api/workspaces/add-resource", &[("workspace_id", ws_id.as_str()), ("yaml", &yaml)])
            .await)
        .await;
        workspaces.push((ws_id, project_id));
    }
    let cluster = "prod-eu-1";
    eventually("both workspaces Synced in their four clusters", WAIT, || async {
        for (ws, _) in &workspaces {
            // A ClusterRole, a Namespace and a ConfigMap in each of four clusters.
            if app.store.workspace_holdings(&tenant, ws).await.unwrap().len() != 12 {
                return false;
            }
        }
        app.member_object(cluster, "/api/v1/namespaces/shop/configmaps/cfg").await.is_some()
            && app.member_object(cluster, "/apis/rbac.authorization.k8s.io/v1/clusterroles/kept-reader").await.is_some()
    })
    .await;
    let (gone, gone_project) = (workspaces[0].0.as_str(), workspaces[0].1.as_str());
    let (kept, kept_project) = (workspaces[1].0.as_str(), workspaces[1].1.as_str());

    // The review names what goes from each cluster, its projects' objects included.
    let review = app.json(&client, "/api/workspaces/review-delete", &[("id", gone), ("orphan", "false")]).await;
    let changes = review["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "every cluster holds the same objects: {review}");
    assert_eq!((changes[0]["kind"].as_str(), changes[0]["clusters"].as_array().unwrap().len()), (Some("Delete"), 4));
    let lines: Vec<&str> = changes[0]["diff"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(lines, ["ClusterRole gone-reader", "ConfigMap shop/cfg", "Namespace shop"]);

    // Refused, nothing changed: a token below tenant admin, a workspace admin who is not a
    // tenant admin, a made-up id, a stale version.
    let (_, edit_token) = app.token(&client, "dev", "edit").await;
    let (_, admin_token) = app.token(&client, "ops", "admin").await;
    let path = format!("/api/v1/workspaces/{gone}");
    assert_eq!(app.api(Some(&edit_token), Method::DELETE, &path, None).await.0, 403);
    let ws_admin = crate::tenancy::user_with(&app, "wanda", flotilla_domain::Role::WorkspaceAdmin, gone).await;
    let refused =
        app.call(&ws_admin, "/api/workspaces/delete", &[("id", gone), ("version", "1"), ("orphan", "false")]).await;
    assert_eq!(refused.status(), 403);
    let (status, _) = app.api(Some(&admin_token), Method::DELETE, "/api/v1/workspaces/no-such-id", None).await;
    assert_eq!(status, 404);
    assert_eq!(app.api(Some(&admin_token), Method::DELETE, &format!("{path}?version=0"), None).await.0, 409);
    assert_eq!(app.json(&client, "/api/workspaces/list", &[]).await.as_array().unwrap().len(), 2);

    // Deleted through the API, and the other from the dashboard leaving its objects.
    assert_eq!(app.api(Some(&admin_token), Method::DELETE, &path, None).await.0, 202);
    let version =
        app.json(&client, "/api/workspaces/detail", &[("id", kept)]).await["workspace"]["version"].to_string();
    let next =
        app.json(&client, "/api/workspaces/delete", &[("id", kept), ("version", &version), ("orphan", "true")]).await;
    assert_eq!(next, "/workspaces");
    // Gone from every list and address at once, their projects with them.
    assert_eq!(app.json(&client, "/api/workspaces/list", &[]).await, serde_json::json!([]));
    for (ws, project) in [(gone, gone_project), (kept, kept_project)] {
        assert_eq!(app.call(&client, "/api/workspaces/detail", &[("id", ws)]).await.status(), 404);
        assert_eq!(app.call(&client, "/api/projects/view", &[("id", project)]).await.status(), 404);
    }
    let form = [("workspace_id", gone), ("name", "late"), ("selector", "")];
    assert_eq!(
        app.call(&client, "/api/projects/create", &form).await.status(),
        404,
        "no project in a deleted workspace"
    );
    // In the members: `gone`'s objects removed, `kept`'s left as they were.
    eventually("the deleted workspace's objects removed", WAIT, || async {
        app.member_object(cluster, "/api/v1/namespaces/shop").await.is_none()
            && app.member_object(cluster, "/apis/rbac.authorization.k8s.io/v1/clusterroles/gone-reader").await.is_none()
    })
    .await;
    assert!(app.member_object(cluster, "/api/v1/namespaces/blog/configmaps/cfg").await.is_some());
    assert!(app.member_object(cluster, "/apis/rbac.authorization.k8s.io/v1/clusterroles/kept-reader").await.is_some());
    // The rows go with their last project and resource; then the names are free again.
    eventually("both workspaces purged", WAIT, || async {
        let mut left = 0;
        for (ws, _) in &workspaces {
            left += app.store.workspace_holdings(&tenant, ws).await.unwrap().len();
            left += app.store.list_resources(&tenant, ws, None).await.unwrap().len();
        }
        left == 0
            && app.call(&client, "/api/workspaces/create", &[("name", "gone"), ("selector", "")]).await.status() == 200
    })
    .await;
    let audit = app.store.search_audit(&tenant, &Default::default(), 100).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "workspace.delete").count(), 2, "audited");
}
