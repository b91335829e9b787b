//! API tokens and the REST API: a token acts with its user's roles, at most its access; what
//! the caller may not see is a 404 as in the dashboard; unknown, revoked, expired tokens and
//! those of disabled users are refused; secrets are kept hashed; tokens reach the REST API
//! only, and cannot make tokens.

use flotilla_testkit::eventually;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, spawn_app_with};

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";

impl TestApp {
    /// A REST API call with `token` (`None`: without one), answering status and JSON body.
    pub(crate) async fn api(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let client = reqwest::Client::new();
        let mut request = client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Makes a token as the person logged in on `client`; answers its id and secret.
    pub(crate) async fn token(&self, client: &reqwest::Client, name: &str, access: &str) -> (String, String) {
        let made =
            ok(self.call(client, "/api/tokens/create", &[("name", name), ("access", access), ("days", "30")]).await)
                .await;
        (made["token"]["id"].as_str().unwrap().to_owned(), made["secret"].as_str().unwrap().to_owned())
    }
}

/// Who calls with which token, what they send, and the status expected.
type Case<'a> = (&'a str, &'a str, Method, String, Option<Value>, u16);

#[tokio::test]
async fn a_token_acts_with_its_users_roles_at_most_its_access_and_sees_no_more_than_they_do() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws =
        ok(app.call(&admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project = ok(app
        .call(&admin, "/api/projects/create", &[("workspace_id", ws.as_str()), ("name", "web"), ("selector", "")])
        .await)
    .await;
    let project = project["id"].as_str().unwrap().to_owned();
    let other = ok(app
        .call(&admin, "/api/projects/create", &[("workspace_id", ws.as_str()), ("name", "other"), ("selector", "")])
        .await)
    .await;
    let other = other["id"].as_str().unwrap().to_owned();
    // Pat views project web only.
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let viewer = flotilla_domain::Grant::new(flotilla_domain::Role::ProjectViewer, project.as_str());
    let password = secrecy::SecretString::from("a-long-password-for-pat");
    let system = flotilla_store::Actor::system("test");
    let pat_id = app.store.create_local_user(&system, &tenant.id, "pat", &password, &viewer).await.unwrap().id;
    let pat = app.client();
    assert!(app.login(&pat, "pat", "a-long-password-for-pat").await.status().is_success());

    let (_, view) = app.token(&admin, "read", "view").await;
    let (_, edit) = app.token(&admin, "deploy", "edit").await;
    let (admin_token_id, full) = app.token(&admin, "all", "admin").await;
    let (_, pat_edit) = app.token(&pat, "mine", "edit").await;

    let p = format!("/api/v1/projects/{project}");
    let o = format!("/api/v1/projects/{other}");
    let w = format!("/api/v1/workspaces/{ws}");
    let add = format!("{p}/resources");
    let resource = json!({"yaml": CONFIGMAP});
    let new_ws = |name: &str| Some(json!({"name": name, "selector": ""}));
    let matrix: Vec<Case> = vec![
        ("view", view.as_str(), Method::GET, p.clone(), None, 200),
        ("view", view.as_str(), Method::GET, "/api/v1/clusters".into(), None, 200),
        (
            "edit",
            edit.as_str(),
            Method::POST,
            "/api/v1/clusters".into(),
            Some(json!({"kubeconfig": "x", "context": "x", "name": "x"})),
            403,
        ),
        ("view", view.as_str(), Method::POST, add.clone(), Some(resource.clone()), 403),
        ("view", view.as_str(), Method::POST, "/api/v1/workspaces".into(), new_ws("v"), 403),
        ("edit", edit.as_str(), Method::POST, "/api/v1/workspaces".into(), new_ws("e"), 403),
        ("edit", edit.as_str(), Method::POST, format!("{w}/projects"), Some(json!({"name": "p2"})), 403),
        ("edit", edit.as_str(), Method::POST, add.clone(), Some(resource.clone()), 201),
        ("admin", full.as_str(), Method::POST, "/api/v1/workspaces".into(), new_ws("made-by-token"), 201),
        ("admin", full.as_str(), Method::POST, format!("{w}/projects"), Some(json!({"name": "p3"})), 201),
        // Pat's token: pat's view of web, whatever its access; the rest of the tenant unseen.
        ("pat", pat_edit.as_str(), Method::GET, p.clone(), None, 200),
        (
            "pat",
            pat_edit.as_str(),
            Method::POST,
            add.clone(),
            Some(json!({"yaml": CONFIGMAP.replace("settings", "x")})),
            403,
        ),
        ("pat", pat_edit.as_str(), Method::GET, o.clone(), None, 404),
        ("pat", pat_edit.as_str(), Method::POST, format!("{o}/resources"), Some(resource.clone()), 404),
        (
            "pat",
            pat_edit.as_str(),
            Method::POST,
            format!("{w}/import"),
            Some(json!({"yaml": CONFIGMAP, "dry_run": true})),
            404,
        ),
        ("pat", pat_edit.as_str(), Method::GET, "/api/v1/rollouts/nope".into(), None, 404),
        ("pat", pat_edit.as_str(), Method::GET, "/api/v1/resources/nope".into(), None, 404),
    ];
    for (who, token, method, path, body, status) in matrix {
        let (got, answer) = app.api(Some(token), method.clone(), &path, body).await;
        assert_eq!(got, status, "{who} {method} {path}: {answer}");
        if status >= 400 {
            assert!(answer["code"].is_string() && answer["message"].is_string(), "{answer}");
        }
    }
    // What a token made is its user's, named with the token in the audit log.
    let log = app.store.audit_log(&tenant.id, 100).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == "workspace.create" && e.actor_name == "admin (token all)"),
        "{:?}",
        log.iter().map(|e| (&e.action, &e.actor_name)).collect::<Vec<_>>()
    );
    assert!(log.iter().any(|e| e.action == "token.create" && e.target_name == "deploy"));
    // Lists show what the user sees.
    let (_, listed) = app.api(Some(&pat_edit), Method::GET, "/api/v1/workspaces", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "pat sees ops only through web: {listed}");
    let (_, shown) = app.api(Some(&pat_edit), Method::GET, &w, None).await;
    let projects: Vec<&str> =
        shown["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(projects.contains(&"web"), "{shown}");

    // Refused alike: no token, a made-up one, a revoked one, one of a disabled user.
    let (status, answer) = app.api(None, Method::GET, &p, None).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("unauthenticated")), "{answer}");
    let made_up = format!("flt_{}", "a".repeat(40));
    for bad in [made_up.as_str(), "flt_short", "", &full[..full.len() - 1]] {
        assert_eq!(app.api(Some(bad), Method::GET, &p, None).await.0, 401, "{bad:?}");
    }
    ok(app.call(&admin, "/api/tokens/revoke", &[("id", admin_token_id.as_str())]).await).await;
    assert_eq!(app.api(Some(&full), Method::GET, &p, None).await.0, 401, "revoked");
    assert_eq!(app.api(Some(&edit), Method::GET, &p, None).await.0, 200, "the others still work");
    ok(app.call(&admin, "/api/people/set-disabled", &[("id", pat_id.as_str()), ("disabled", "true")]).await).await;
    assert_eq!(app.api(Some(&pat_edit), Method::GET, &p, None).await.0, 401, "a disabled user's token");
    // Expired: as if thirty days had passed.
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE name = 'deploy'")
        .execute(app.store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(app.api(Some(&edit), Method::GET, &p, None).await.0, 401, "expired");

    // A bad token is refused even beside a valid session cookie.
    let with_cookie = admin.get(app.url(&p)).bearer_auth(&made_up).send().await.unwrap();
    assert_eq!(with_cookie.status(), 401);
    assert!(with_cookie.headers().get("www-authenticate").is_some());
    // The session alone works on the API.
    assert_eq!(admin.get(app.url(&p)).send().await.unwrap().status(), 200);

    // Only hashes are kept.
    let rows: Vec<(String, String, String)> = sqlx::query_as("SELECT secret_sha256, hint, name FROM api_tokens")
        .fetch_all(app.store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    for (hash, hint, _) in &rows {
        assert_eq!(hash.len(), 64, "a SHA-256 in hex");
        assert!(
            ![&view, &edit, &full, &pat_edit].iter().any(|s| s.contains(hash.as_str()) || hash.contains(s.as_str()))
        );
        assert!(hint.starts_with("flt_") && hint.len() == 8, "{hint}");
    }
}

#[tokio::test]
async fn tokens_reach_the_rest_api_only_and_cannot_make_tokens() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let (_, full) = app.token(&admin, "all", "admin").await;
    let fresh = reqwest::Client::new();
    // Server functions read the session only: a token there is no login.
    for (endpoint, form) in [
        ("/api/workspaces/list", vec![]),
        ("/api/workspaces/create", vec![("name", "sneaky"), ("selector", "")]),
        ("/api/tokens/create", vec![("name", "more"), ("access", "admin"), ("days", "1")]),
        ("/api/tokens/list", vec![]),
    ] {
        let response = fresh
            .post(app.url(endpoint))
            .header("Accept", "application/json")
            .bearer_auth(&full)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{endpoint}");
    }
    // Bad requests say what is wrong, and make nothing.
    let (status, answer) = app.api(Some(&full), Method::POST, "/api/v1/workspaces", Some(json!({"nme": "x"}))).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("bad_request")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("unknown field `nme`"), "{answer}");
    let (status, answer) =
        app.api(Some(&full), Method::POST, "/api/v1/workspaces", Some(json!({"name": "Not A Name"}))).await;
    assert_eq!((status, answer["code"].as_str(), answer["field"].as_str()), (422, Some("invalid"), Some("name")));
    let (status, _) = app.api(Some(&full), Method::GET, "/api/v1/projects/x/export?format=helm", None).await;
    assert_eq!(status, 400);
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert!(app.store.list_workspaces(&tenant.id).await.unwrap().is_empty());

    // Token rules: names, lifetimes and access levels are checked; another's token is not found.
    for (form, field) in [
        (vec![("name", ""), ("access", "view"), ("days", "30")], "name"),
        (vec![("name", "x"), ("access", "root"), ("days", "30")], "access"),
        (vec![("name", "x"), ("access", "view"), ("days", "0")], "days"),
        (vec![("name", "x"), ("access", "view"), ("days", "367")], "days"),
    ] {
        let response = app.call(&admin, "/api/tokens/create", &form).await;
        assert_eq!(response.status(), 422, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body.to_string().contains(field), "{body}");
    }
    let pat = app.client();
    let viewer = flotilla_domain::Grant::new(flotilla_domain::Role::TenantAdmin, "");
    let password = secrecy::SecretString::from("a-long-password-for-pat");
    let system = flotilla_store::Actor::system("test");
    app.store.create_local_user(&system, &tenant.id, "pat", &password, &viewer).await.unwrap();
    app.login(&pat, "pat", "a-long-password-for-pat").await;
    let listed = ok(app.call(&pat, "/api/tokens/list", &[]).await).await;
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1, "a tenant admin sees the tenant's tokens: {listed}");
}

#[tokio::test]
async fn a_service_account_holds_a_role_and_tokens_and_cannot_log_in() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws =
        ok(app.call(&admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let bot = ok(app
        .call(
            &admin,
            "/api/tokens/create-service-account",
            &[("name", "deploy-bot"), ("role", "workspace_admin"), ("scope_id", ws.as_str())],
        )
        .await)
    .await;
    let bot = bot["id"].as_str().unwrap().to_owned();
    let made = ok(app
        .call(
            &admin,
            "/api/tokens/create",
            &[("name", "ci"), ("access", "admin"), ("days", "7"), ("service_account", bot.as_str())],
        )
        .await)
    .await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(made["token"]["user"], "deploy-bot");
    assert_eq!(made["token"]["service"], true);

    // It works in its workspace, and only there.
    let (status, project) = app
        .api(Some(&secret), Method::POST, &format!("/api/v1/workspaces/{ws}/projects"), Some(json!({"name": "web"})))
        .await;
    assert_eq!(status, 201, "{project}");
    let project = project["id"].as_str().unwrap().to_owned();
    let (status, added) = app
        .api(
            Some(&secret),
            Method::POST,
            &format!("/api/v1/projects/{project}/resources"),
            Some(json!({"yaml": CONFIGMAP})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let resource = added["id"].as_str().unwrap().to_owned();
    assert_eq!(app.api(Some(&secret), Method::POST, "/api/v1/workspaces", Some(json!({"name": "x"}))).await.0, 403);
    // What it placed lands, and its status is read through the API.
    let status_path = format!("/api/v1/resources/{resource}/status");
    eventually("the ConfigMap is Synced in the four staging clusters", WAIT, || async {
        let (_, statuses) = app.api(Some(&secret), Method::GET, &status_path, None).await;
        let synced = statuses.as_array().is_some_and(|s| s.len() == 4 && s.iter().all(|s| s["code"] == "Synced"));
        synced.then_some(statuses)
    })
    .await;
    let (status, exported) =
        app.api(Some(&secret), Method::GET, &format!("/api/v1/projects/{project}/export?format=kubefed"), None).await;
    assert_eq!(status, 200);
    assert!(exported.as_str().unwrap().contains("kind: FederatedConfigMap"), "{exported}");
    let (status, _) = app.api(Some(&secret), Method::DELETE, &format!("/api/v1/resources/{resource}"), None).await;
    assert_eq!(status, 202);
    assert_eq!(app.api(Some(&secret), Method::GET, &format!("/api/v1/resources/{resource}"), None).await.0, 404);

    // It cannot log in: it has no password.
    let login = app.login(&app.client(), "deploy-bot", "").await;
    assert!(!login.status().is_success());
    let people = ok(app.call(&admin, "/api/people/list", &[]).await).await;
    let row = people.as_array().unwrap().iter().find(|p| p["username"] == "deploy-bot").unwrap().clone();
    assert_eq!(row["service"], true, "{row}");
    // A person's tokens are theirs: a service account only is made tokens for.
    let admin_id = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let admins = app.store.list_people(&admin_id.id).await.unwrap();
    let admin_user = admins.iter().find(|p| p.username == "admin").unwrap();
    let response = app
        .call(
            &admin,
            "/api/tokens/create",
            &[("name", "x"), ("access", "view"), ("days", "7"), ("service_account", admin_user.id.as_str())],
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (status, doc) = app.api(None, Method::GET, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200, "served to anyone: {doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for path in [
        "/api/v1/clusters",
        "/api/v1/types",
        "/api/v1/workspaces",
        "/api/v1/workspaces/{id}",
        "/api/v1/workspaces/{id}/projects",
        "/api/v1/workspaces/{id}/import",
        "/api/v1/workspaces/{id}/federate",
        "/api/v1/workspaces/{id}/import-workspace",
        "/api/v1/workspaces/{id}/export",
        "/api/v1/export",
        "/api/v1/clusters/{id}/deregister",
        "/api/v1/clusters/unjoin",
        "/api/v1/resources/{id}/review",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/status",
        "/api/v1/projects/{id}/resources",
        "/api/v1/projects/{id}/export",
        "/api/v1/resources/{id}",
        "/api/v1/resources/{id}/status",
        "/api/v1/rollouts",
        "/api/v1/rollouts/{id}",
        "/api/v1/rollouts/{id}/{action}",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    assert!(doc["paths"]["/api/v1/resources/{id}"]["put"].is_object(), "PUT a resource");
    assert!(doc["paths"]["/api/v1/workspaces/{id}"]["delete"].is_object(), "DELETE a workspace");
    for schema in
        ["Cluster", "Project", "Resource", "Status", "RolloutDetail", "ApiErrorBody", "ResourceUpdate", "ReviewChange"]
    {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

#[tokio::test]
async fn a_resource_is_changed_through_the_api_after_a_review_by_those_who_may() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws =
        ok(app.call(&admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project = ok(app
        .call(&admin, "/api/projects/create", &[("workspace_id", ws.as_str()), ("name", "web"), ("selector", "")])
        .await)
    .await;
    let project = project["id"].as_str().unwrap().to_owned();
    let (_, view) = app.token(&admin, "read", "view").await;
    let (_, edit) = app.token(&admin, "deploy", "edit").await;
    let (status, made) = app
        .api(
            Some(&edit),
            Method::POST,
            &format!("/api/v1/projects/{project}/resources"),
            Some(json!({"yaml": CONFIGMAP})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let path = format!("/api/v1/resources/{}", made["id"].as_str().unwrap());
    let placed =
        json!({"yaml": CONFIGMAP, "placement": {"clusters": ["staging-eu-1", "staging-us-1"], "selector": null}});
    let (status, now) = app.api(Some(&edit), Method::PUT, &path, Some(placed)).await;
    assert_eq!((status, now["revision"].as_i64()), (200, Some(2)), "{now}");
    let version = now["version"].as_i64().unwrap();
    let debug = CONFIGMAP.replace("info", "debug");

    // The review: the two clusters of its placement change; nothing saved.
    let (status, review) =
        app.api(Some(&view), Method::POST, &format!("{path}/review"), Some(json!({"yaml": debug}))).await;
    assert_eq!(status, 403, "a viewer's token reviews no change: {review}");
    let (status, review) =
        app.api(Some(&edit), Method::POST, &format!("{path}/review"), Some(json!({"yaml": debug}))).await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review[0]["kind"], "Update");
    assert_eq!(review[0]["clusters"], json!(["staging-eu-1", "staging-us-1"]), "the placement is kept: {review}");
    let diff: Vec<&str> = review[0]["diff"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(diff.contains(&"-   level: info") && diff.contains(&"+   level: debug"), "{diff:?}");
    assert_eq!(app.api(Some(&edit), Method::GET, &path, None).await.1["revision"], 2);

    // Refused, nothing saved: a viewer, a stale version, bad YAML, a renamed object, a
    // foreign id, a field the API does not know.
    let cases = [
        (view.as_str(), json!({"yaml": debug}), 403),
        (edit.as_str(), json!({"yaml": debug, "version": version - 1}), 409),
        (edit.as_str(), json!({"yaml": "kind: [oops"}), 422),
        (edit.as_str(), json!({"yaml": debug.replace("settings", "renamed")}), 422),
        (edit.as_str(), json!({"yaml": debug, "owner": "me"}), 400),
    ];
    for (token, body, want) in cases {
        let (status, answer) = app.api(Some(token), Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(status, want, "{body}: {answer}");
    }
    assert_eq!(app.api(Some(&edit), Method::PUT, "/api/v1/resources/nope", Some(json!({"yaml": debug}))).await.0, 404);
    assert_eq!(app.api(Some(&edit), Method::GET, &path, None).await.1["revision"], 2, "nothing was saved");

    // Saved: a new revision, in the members of its placement.
    let (status, now) =
        app.api(Some(&edit), Method::PUT, &path, Some(json!({"yaml": debug, "version": version}))).await;
    assert_eq!((status, now["revision"].as_i64()), (200, Some(3)), "{now}");
    assert_eq!(now["placement"]["clusters"], json!(["staging-eu-1", "staging-us-1"]));
    eventually("the change is in the members", WAIT, || async {
        let cm = app.member_object("staging-us-1", "/api/v1/namespaces/web/configmaps/settings").await;
        cm.is_some_and(|cm| cm["data"]["level"] == "debug")
    })
    .await;
}
