//! A resource's page: its detail, edits reviewed per cluster before they apply, stale edits
//! refused with who changed it, history with compare and revert, deletion, and Secrets
//! whose values never come back.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, ok, refused, spawn_app_with};

struct Session {
    app: TestApp,
    client: reqwest::Client,
    project_id: String,
}

/// Logged in, with a project on the four staging clusters of the demo fleet.
async fn session() -> Session {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let s = Session { app, client, project_id: String::new() };
    let ws = ok(s.app.call(&s.client, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await)
        .await;
    let project = ok(s
        .app
        .call(
            &s.client,
            "/api/projects/create",
            &[("workspace_id", ws["id"].as_str().unwrap()), ("name", "web"), ("selector", "")],
        )
        .await)
    .await;
    Session { project_id: project["id"].as_str().unwrap().to_owned(), ..s }
}

async fn add_yaml(s: &Session, yaml: &str) -> String {
    let added =
        ok(s.app.call(&s.client, "/api/projects/add-resource", &[("project_id", &s.project_id), ("yaml", yaml)]).await)
            .await;
    added["id"].as_str().unwrap().to_owned()
}

async fn detail(s: &Session, id: &str) -> Value {
    ok(s.app.call(&s.client, "/api/resources/detail", &[("id", id)]).await).await
}

/// A review's groups as (kind, clusters joined by commas).
fn shape(review: &Value) -> Vec<(String, String)> {
    review["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let clusters: Vec<&str> = c["clusters"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
            (c["kind"].as_str().unwrap().to_owned(), clusters.join(","))
        })
        .collect()
}

/// The added and removed lines of a review group.
fn changed_lines(group: &Value) -> Vec<String> {
    group["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["t"] == "added" || l["t"] == "removed")
        .map(|l| format!("{}{}", if l["t"] == "added" { '+' } else { '-' }, l["text"].as_str().unwrap()))
        .collect()
}

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";

#[tokio::test]
async fn an_edit_is_reviewed_per_cluster_then_applied_and_a_stale_one_names_who_changed_it() {
    let s = session().await;
    let id = add_yaml(&s, CONFIGMAP).await;
    let d = detail(&s, &id).await;
    assert_eq!(
        (d["kind"].as_str(), d["revision"].as_i64(), d["version"].as_i64()),
        (Some("ConfigMap"), Some(1), Some(1))
    );
    assert!(d["yaml"].as_str().unwrap().contains("level: info"), "{d}");
    assert_eq!(d["clusters"].as_array().unwrap().len(), 4);
    assert_eq!(d["secret_keys"], Value::Null);
    assert_eq!(d["locked"], Value::Null);

    // level=debug everywhere but staging-us-1, which keeps info through an override; and
    // not placed on staging-eu-2 any more.
    let edit = json!({
        "yaml": CONFIGMAP.replace("info", "debug"),
        "placement": {"clusters": ["staging-eu-1", "staging-us-1", "staging-us-2"]},
        "overrides": [{"cluster": "staging-us-1", "op": "replace", "path": "/data/level", "value": "info"}],
    });
    let review =
        ok(s.app.call_json(&s.client, "/api/resources/review-edit", &json!({"id": id, "edit": edit})).await).await;
    assert_eq!(
        shape(&review),
        [
            ("Update".into(), "staging-eu-1,staging-us-2".into()),
            ("Delete".into(), "staging-eu-2".into()),
            ("Unchanged".into(), "staging-us-1".into()),
        ]
    );
    assert_eq!(changed_lines(&review["changes"][0]), ["-  level: info", "+  level: debug"]);
    // Reviewing saved nothing.
    assert_eq!(detail(&s, &id).await["revision"], 1);

    let applied = ok(s
        .app
        .call_json(&s.client, "/api/resources/apply-edit", &json!({"id": id, "version": 1, "edit": edit}))
        .await)
    .await;
    assert_eq!(applied, 2);
    let d = detail(&s, &id).await;
    assert_eq!((d["revision"].as_i64(), d["version"].as_i64()), (Some(2), Some(2)));
    assert_eq!(d["overrides"][0]["value"], "info");
    assert_eq!(d["placement"]["clusters"].as_array().unwrap().len(), 3);

    // Someone who opened it at version 1 is told who changed it since.
    let stale =
        s.app.call_json(&s.client, "/api/resources/apply-edit", &json!({"id": id, "version": 1, "edit": edit})).await;
    let error = refused(stale, 409).await;
    let message = error["Conflict"].as_str().unwrap();
    assert!(message.contains("changed by admin since you opened it"), "{message}");
    assert_eq!(detail(&s, &id).await["revision"], 2, "nothing was written");
}

#[tokio::test]
async fn bad_edits_name_their_field_and_write_nothing() {
    let s = session().await;
    let id = add_yaml(&s, CONFIGMAP).await;
    let edit = |yaml: &str, placement: Value, overrides: Value| json!({"id": id, "version": 1, "edit": {"yaml": yaml, "placement": placement, "overrides": overrides}});
    let row = |path: &str| json!([{"cluster": "staging-eu-1", "op": "replace", "path": path, "value": "x"}]);
    let cases = [
        (edit("kind: [", json!({}), json!([])), "yaml", "line 1"),
        (edit(&CONFIGMAP.replace("settings", "other"), json!({}), json!([])), "yaml", "cannot change"),
        (edit(CONFIGMAP, json!({"selector": "env in ("}), json!([])), "placement", "selector"),
        (edit(CONFIGMAP, json!({}), row("data/level")), "overrides", "JSON pointer"),
        (edit(CONFIGMAP, json!({}), row("/metadata/name")), "overrides", "identifies the object"),
        (
            edit(CONFIGMAP, json!({}), json!([{"cluster": "", "op": "add", "path": "/data/x", "value": "1"}])),
            "overrides",
            "choose a cluster",
        ),
    ];
    for (body, field, says) in cases {
        for endpoint in ["/api/resources/review-edit", "/api/resources/apply-edit"] {
            let error = refused(s.app.call_json(&s.client, endpoint, &body).await, 422).await;
            assert_eq!(error["Invalid"]["field"], field, "{endpoint} {body}: {error}");
            assert!(error["Invalid"]["message"].as_str().unwrap().contains(says), "{endpoint}: {error}");
        }
    }
    assert_eq!(detail(&s, &id).await["revision"], 1);

    // Unknown resources are not found; the project's namespace is not edited here.
    for endpoint in ["/api/resources/detail", "/api/resources/history"] {
        assert_eq!(s.app.call(&s.client, endpoint, &[("id", "nope")]).await.status(), 404, "{endpoint}");
    }
    let view = ok(s.app.call(&s.client, "/api/projects/view", &[("id", &s.project_id)]).await).await;
    let ns = view["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "Namespace").unwrap();
    let ns_id = ns["id"].as_str().unwrap();
    let d = detail(&s, ns_id).await;
    assert!(d["locked"].as_str().unwrap().contains("project's own namespace"), "{d}");
    let body =
        json!({"id": ns_id, "version": d["version"], "edit": {"yaml": d["yaml"], "placement": {}, "overrides": []}});
    assert_eq!(
        refused(s.app.call_json(&s.client, "/api/resources/apply-edit", &body).await, 422).await["Invalid"]["field"],
        "yaml"
    );
    let delete = s.app.call(&s.client, "/api/resources/review-delete", &[("id", ns_id), ("orphan", "false")]).await;
    assert_eq!(refused(delete, 422).await["Invalid"]["field"], "resource");

    // Without a login, nothing.
    let anonymous = reqwest::Client::new();
    let answer = s.app.call(&anonymous, "/api/resources/detail", &[("id", id.as_str())]).await;
    assert_eq!(answer.status(), 401);
}

#[tokio::test]
async fn history_compares_revisions_and_a_revert_is_reviewed_then_made_a_new_revision() {
    let s = session().await;
    let id = add_yaml(&s, CONFIGMAP).await;
    let edit = json!({"yaml": CONFIGMAP.replace("info", "warn"), "placement": {}, "overrides": []});
    ok(s.app.call_json(&s.client, "/api/resources/apply-edit", &json!({"id": id, "version": 1, "edit": edit})).await)
        .await;

    let history = ok(s.app.call(&s.client, "/api/resources/history", &[("id", &id)]).await).await;
    let revs: Vec<(i64, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap(), r["author"].as_str().unwrap(), r["message"].as_str().unwrap()))
        .collect();
    assert_eq!(revs, [(2, "admin", "updated"), (1, "admin", "created")]);
    assert!(history[0]["at"].as_str().unwrap().ends_with(" UTC"));

    let diff =
        ok(s.app.call(&s.client, "/api/resources/compare", &[("id", &id), ("from", "1"), ("to", "2")]).await).await;
    let lines = changed_lines(&json!({ "diff": diff }));
    assert_eq!(lines, ["-  level: info", "+  level: warn"]);
    let missing = s.app.call(&s.client, "/api/resources/compare", &[("id", &id), ("from", "1"), ("to", "7")]).await;
    assert_eq!(missing.status(), 404);

    let review =
        ok(s.app.call(&s.client, "/api/resources/review-revert", &[("id", &id), ("revision", "1")]).await).await;
    assert_eq!(shape(&review), [("Update".into(), "staging-eu-1,staging-eu-2,staging-us-1,staging-us-2".into())]);
    assert_eq!(changed_lines(&review["changes"][0]), ["-  level: warn", "+  level: info"]);

    let stale =
        s.app.call(&s.client, "/api/resources/revert", &[("id", &id), ("version", "1"), ("revision", "1")]).await;
    assert_eq!(stale.status(), 409);
    let current =
        s.app.call(&s.client, "/api/resources/revert", &[("id", &id), ("version", "2"), ("revision", "2")]).await;
    assert_eq!(refused(current, 422).await["Invalid"]["field"], "revision");
    let reverted =
        ok(s.app.call(&s.client, "/api/resources/revert", &[("id", &id), ("version", "2"), ("revision", "1")]).await)
            .await;
    assert_eq!(reverted, 3);
    let d = detail(&s, &id).await;
    assert!(d["yaml"].as_str().unwrap().contains("level: info"));
    let history = ok(s.app.call(&s.client, "/api/resources/history", &[("id", &id)]).await).await;
    assert_eq!(history[0]["message"], "reverted to 1");

    // Deleting: reviewed first (orphaning changes nothing in the clusters), then done.
    let review =
        ok(s.app.call(&s.client, "/api/resources/review-delete", &[("id", &id), ("orphan", "false")]).await).await;
    assert_eq!(shape(&review), [("Delete".into(), "staging-eu-1,staging-eu-2,staging-us-1,staging-us-2".into())]);
    let review =
        ok(s.app.call(&s.client, "/api/resources/review-delete", &[("id", &id), ("orphan", "true")]).await).await;
    assert_eq!(shape(&review)[0].0, "Unchanged");
    let stale =
        s.app.call(&s.client, "/api/resources/delete", &[("id", &id), ("version", "2"), ("orphan", "false")]).await;
    assert_eq!(stale.status(), 409);
    let next =
        ok(s.app.call(&s.client, "/api/resources/delete", &[("id", &id), ("version", "3"), ("orphan", "false")]).await)
            .await;
    assert_eq!(next, format!("/projects/{}", s.project_id));
    assert_eq!(s.app.call(&s.client, "/api/resources/detail", &[("id", &id)]).await.status(), 404);
}

#[tokio::test]
async fn secret_values_are_write_only_and_reviews_say_only_what_changed() {
    let s = session().await;
    let id = add_yaml(
        &s,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-first\n  user: app\n",
    )
    .await;
    let d = detail(&s, &id).await;
    assert_eq!(d["secret_keys"], json!(["password", "user"]));
    let text = d.to_string();
    assert!(!text.contains("hunter2") && !text.contains("aHVudGVy"), "{text}");

    let yaml = d["yaml"].as_str().unwrap().to_owned();
    let edit = json!({"yaml": yaml, "placement": {}, "overrides": [], "secret_set": {"password": "hunter2-second", "token": "t"}, "secret_remove": ["user"]});
    let review =
        ok(s.app.call_json(&s.client, "/api/resources/review-edit", &json!({"id": id, "edit": edit})).await).await;
    let text = review.to_string();
    assert!(!text.contains("hunter2") && !text.contains("aHVudGVy"), "{text}");
    let lines = changed_lines(&review["changes"][0]);
    assert_eq!(
        lines,
        ["-  password: (hidden)", "-  user: (hidden)", "+  password: (hidden, set again)", "+  token: (hidden, new)"]
    );
    // A guess of the stored value reads the same as any other: the review is no oracle (#16 point 12).
    let guess = json!({"yaml": yaml, "placement": {}, "overrides": [], "secret_set": {"password": "hunter2-first"}});
    let review =
        ok(s.app.call_json(&s.client, "/api/resources/review-edit", &json!({"id": id, "edit": guess})).await).await;
    assert_eq!(changed_lines(&review["changes"][0]), ["-  password: (hidden)", "+  password: (hidden, set again)"]);
    // Values go under Values, never in the YAML.
    let leaky = json!({"yaml": format!("{yaml}data:\n  password: eA==\n"), "placement": {}, "overrides": []});
    let error =
        refused(s.app.call_json(&s.client, "/api/resources/review-edit", &json!({"id": id, "edit": leaky})).await, 422)
            .await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("Values"), "{error}");

    ok(s.app.call_json(&s.client, "/api/resources/apply-edit", &json!({"id": id, "version": 1, "edit": edit})).await)
        .await;
    let d = detail(&s, &id).await;
    assert_eq!(d["secret_keys"], json!(["password", "token"]));
    let compare =
        ok(s.app.call(&s.client, "/api/resources/compare", &[("id", &id), ("from", "1"), ("to", "2")]).await).await;
    assert!(!compare.to_string().contains("hunter2"));
    assert!(compare.to_string().contains("(hidden, changed)"), "{compare}");
}

#[tokio::test]
async fn new_objects_are_reviewed_first_and_cluster_scoped_ones_go_to_the_workspace() {
    let s = session().await;
    let view = ok(s.app.call(&s.client, "/api/projects/view", &[("id", &s.project_id)]).await).await;
    let ws_id = view["workspace_id"].as_str().unwrap().to_owned();

    // A namespaced object in the project: created in its four clusters.
    let form = [("workspace_id", ws_id.as_str()), ("project_id", s.project_id.as_str()), ("yaml", CONFIGMAP)];
    let review = ok(s.app.call(&s.client, "/api/resources/review-new", &form).await).await;
    assert_eq!(shape(&review), [("Create".into(), "staging-eu-1,staging-eu-2,staging-us-1,staging-us-2".into())]);
    assert!(changed_lines(&review["changes"][0]).contains(&"+  namespace: web".to_owned()));
    // A Secret's values stay hidden in the review.
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n";
    let form = [("workspace_id", ws_id.as_str()), ("project_id", s.project_id.as_str()), ("yaml", secret)];
    let review = ok(s.app.call(&s.client, "/api/resources/review-new", &form).await).await;
    assert!(!review.to_string().contains("hunter2") && review.to_string().contains("password: (hidden)"), "{review}");

    // Cluster-scoped objects go to the workspace, namespaced ones are refused there.
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: read-pods}\nrules: []\n";
    let in_project = [("workspace_id", ws_id.as_str()), ("project_id", s.project_id.as_str()), ("yaml", role)];
    let error = refused(s.app.call(&s.client, "/api/resources/review-new", &in_project).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("cluster-scoped"), "{error}");
    let namespaced = refused(
        s.app.call(&s.client, "/api/resources/review-new", &[("workspace_id", &ws_id), ("yaml", CONFIGMAP)]).await,
        422,
    )
    .await;
    assert_eq!(namespaced["Invalid"]["field"], "yaml");
    let review =
        ok(s.app.call(&s.client, "/api/resources/review-new", &[("workspace_id", &ws_id), ("yaml", role)]).await).await;
    assert_eq!(shape(&review)[0].0, "Create");
    assert!(!changed_lines(&review["changes"][0]).iter().any(|l| l.contains("namespace:")));
    let added =
        ok(s.app.call(&s.client, "/api/workspaces/add-resource", &[("workspace_id", &ws_id), ("yaml", role)]).await)
            .await;
    assert_eq!(added["kind"], "ClusterRole");
    let again = refused(
        s.app.call(&s.client, "/api/workspaces/add-resource", &[("workspace_id", &ws_id), ("yaml", role)]).await,
        422,
    )
    .await;
    assert!(again["Invalid"]["message"].as_str().unwrap().contains("already exists"), "{again}");
    let detail = ok(s.app.call(&s.client, "/api/workspaces/detail", &[("id", &ws_id)]).await).await;
    assert_eq!(detail["resources"][0]["name"], "read-pods");
    let missing =
        s.app.call(&s.client, "/api/workspaces/add-resource", &[("workspace_id", "nope"), ("yaml", role)]).await;
    assert_eq!(missing.status(), 404);
    // A project named with a workspace it is not in is not found.
    let other = ok(s.app.call(&s.client, "/api/workspaces/create", &[("name", "other"), ("selector", "")]).await).await;
    let mismatched =
        [("workspace_id", other["id"].as_str().unwrap()), ("project_id", s.project_id.as_str()), ("yaml", CONFIGMAP)];
    assert_eq!(s.app.call(&s.client, "/api/resources/review-new", &mismatched).await.status(), 404);

    // The ConfigMap form is reviewed with the same fields it is added with.
    let form = |name: &str, cluster: &str, data: &str| {
        vec![
            ("project_id", s.project_id.clone()),
            ("name", name.to_owned()),
            ("data", "level=info".to_owned()),
            ("override_cluster", cluster.to_owned()),
            ("override_data", data.to_owned()),
        ]
    };
    let review = ok(s
        .app
        .call(&s.client, "/api/projects/review-configmap", &as_refs(&form("cfg", "staging-us-1", "level=debug")))
        .await)
    .await;
    let shape = shape(&review);
    assert_eq!(shape.len(), 2, "one cluster differs: {shape:?}");
    assert!(shape.contains(&("Create".into(), "staging-us-1".into())));
    let error = refused(
        s.app.call(&s.client, "/api/projects/review-configmap", &as_refs(&form("cfg", "staging-us-1", ""))).await,
        422,
    )
    .await;
    assert_eq!(error["Invalid"]["field"], "override_data");
    let error =
        refused(s.app.call(&s.client, "/api/projects/review-configmap", &as_refs(&form("Bad", "", ""))).await, 422)
            .await;
    assert_eq!(error["Invalid"]["field"], "name");
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// #16 point 12: a Secret pasted from `kubectl get -o yaml` keeps no plaintext copy of its
/// values in `kubectl apply`'s annotation, nor what the cluster wrote (managedFields, uid…).
#[tokio::test]
async fn a_pasted_secret_keeps_no_plaintext_copy_and_no_server_fields() {
    let s = session().await;
    let pasted = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pasted\n  uid: 0b5c\n  resourceVersion: \"42\"\n  \
                  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"password\":\"s3cr3t-plain\"}}'\n  \
                  managedFields:\n  - manager: kubectl\ndata:\n  password: czNjcjN0LXBsYWlu\n";
    let id = add_yaml(&s, pasted).await;
    let d = detail(&s, &id).await;
    let text = d.to_string();
    assert!(!text.contains("s3cr3t") && !text.contains("czNjcjN0"), "{text}");
    for field in ["last-applied-configuration", "managedFields", "resourceVersion", "uid"] {
        assert!(!d["yaml"].as_str().unwrap().contains(field), "{field}: {}", d["yaml"]);
    }
    assert_eq!(d["secret_keys"], json!(["password"]));
}

#[tokio::test]
async fn an_object_that_existed_before_is_left_alone_until_an_admin_adopts_it() {
    let s = session().await;
    // The namespace first, then an object of the same name made in one member by someone else.
    flotilla_testkit::eventually("the project's namespace in staging-eu-1", crate::helpers::WAIT, || async {
        s.app.member_object("staging-eu-1", "/api/v1/namespaces/web").await.map(|_| ())
    })
    .await;
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"owner": "someone else"}});
    let made = s.app.member_create("staging-eu-1", "/api/v1/namespaces/web/configmaps", &theirs).await;
    assert_eq!(made, 201);

    let id = add_yaml(&s, CONFIGMAP).await;
    let exists = flotilla_testkit::eventually("AlreadyExists in staging-eu-1", crate::helpers::WAIT, || async {
        let d = detail(&s, &id).await;
        let codes: Vec<String> =
            d["statuses"].as_array()?.iter().map(|x| x["code"].as_str().unwrap_or_default().to_owned()).collect();
        (codes.iter().filter(|c| *c == "AlreadyExists").count() == 1
            && codes.iter().filter(|c| *c == "Synced").count() == 3)
            .then_some(d)
    })
    .await;
    let theirs_now = s.app.member_object("staging-eu-1", "/api/v1/namespaces/web/configmaps/settings").await.unwrap();
    assert_eq!(theirs_now["data"]["owner"], "someone else", "left alone");

    // A stale version is refused; the current one adopts.
    let version = exists["version"].as_i64().unwrap();
    let stale =
        s.app.call(&s.client, "/api/resources/adopt", &[("id", &id), ("version", &(version - 1).to_string())]).await;
    assert_eq!(stale.status(), 409);
    ok(s.app.call(&s.client, "/api/resources/adopt", &[("id", &id), ("version", &version.to_string())]).await).await;
    flotilla_testkit::eventually("adopted and Synced everywhere", crate::helpers::WAIT, || async {
        let d = detail(&s, &id).await;
        d["statuses"].as_array()?.iter().all(|x| x["code"] == "Synced").then_some(())
    })
    .await;
    let ours = s.app.member_object("staging-eu-1", "/api/v1/namespaces/web/configmaps/settings").await.unwrap();
    assert_eq!(ours["data"], json!({"level": "info"}));
}
