//! Apps through the server (#17 points 1, 2, 4): the catalog, an install reviewed and applied
//! from a form generated from the version's parameters, the install healthy in every cluster
//! of its project, and the refusals — bad values by field, a viewer, a foreign project, CRDs
//! from someone short of a tenant admin.

use serde_json::{Value, json};

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, refused, spawn_app_with};
use crate::tenancy::user_with;

/// The id of `app` at `version` in a catalog answer.
fn version_id(catalog: &Value, app: &str, version: &str) -> String {
    let app = catalog.as_array().unwrap().iter().find(|a| a["name"] == app).unwrap();
    let v = app["versions"].as_array().unwrap().iter().find(|v| v["version"] == version).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn setup(app: &TestApp) -> (reqwest::Client, String, String) {
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws = app.json(&admin, "/api/workspaces/create", &[("name", "data"), ("selector", "env=staging")]).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project = app
        .json(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "payments"), ("selector", "")])
        .await;
    (admin, ws, project["id"].as_str().unwrap().to_owned())
}

fn install_body(ws: &str, project: Option<&str>, version_id: &str, name: &str, values: Value) -> Value {
    json!({"workspace_id": ws, "project_id": project, "input": {"version_id": version_id, "name": name, "values": values}})
}

#[tokio::test]
async fn kafka_installs_from_the_catalog_and_becomes_healthy_in_every_cluster_of_its_project() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;

    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let names: Vec<&str> = catalog.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kafka", "podinfo"], "project apps only, by display name");
    let versions: Vec<&str> =
        catalog[0]["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["3.9.0", "3.8.1", "3.8.0", "3.7.1"], "newest first");
    let brokers = catalog[0]["versions"][1]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "brokers");
    assert_eq!(brokers.unwrap()["default"], 3, "the form is generated from the parameters");
    let kafka = version_id(&catalog, "kafka", "3.8.1");

    // Each field's error names it; nothing is written.
    for (values, field) in [
        (json!({"brokers": "0"}), "values.brokers"),
        (json!({"brokers": "three"}), "values.brokers"),
        (json!({"storage": "lots"}), "values.storage"),
        (json!({"memory": "3Gi"}), "values.memory"),
        (json!({"colour": "red"}), "values"),
    ] {
        let body = install_body(&ws, Some(&project), &kafka, "kafka", values.clone());
        let error = refused(app.call_json(&admin, "/api/apps/review-install", &body).await, 422).await;
        assert_eq!(error["Invalid"]["field"], field, "{values}: {error}");
        refused(app.call_json(&admin, "/api/apps/install", &body).await, 422).await;
    }
    let bad_name = install_body(&ws, Some(&project), &kafka, "Kafka!", json!({}));
    let error = refused(app.call_json(&admin, "/api/apps/review-install", &bad_name).await, 422).await;
    assert_eq!(error["Invalid"]["field"], "name");

    // Reviewed: every object, created in each of the project's four clusters.
    let body = install_body(&ws, Some(&project), &kafka, "kafka", json!({"brokers": "3", "storage": "20Gi"}));
    let review = ok(app.call_json(&admin, "/api/apps/review-install", &body).await).await;
    let changes = review["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 5, "one change per object: {review}");
    assert!(changes.iter().all(|c| c["kind"] == "Create" && c["clusters"].as_array().unwrap().len() == 4), "{review}");
    let text = review.to_string();
    assert!(text.contains("apache/kafka:3.8.1") && text.contains("20Gi"), "the diff shows the rendered objects");
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    assert!(view["installs"].as_array().unwrap().is_empty(), "a review saves nothing");

    let id = ok(app.call_json(&admin, "/api/apps/install", &body).await).await;
    let id = id.as_str().unwrap().to_owned();
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    let install = &view["installs"][0];
    assert_eq!((install["id"].as_str(), install["version"].as_str()), (Some(id.as_str()), Some("3.8.1")));
    assert_eq!(install["upgrades"], json!(["3.9.0"]));
    let resources: Vec<String> =
        install["resource_ids"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
    assert_eq!(resources.len(), 5);

    // The engine writes every object to the four staging clusters; the brokers roll out.
    eventually("the install synced and healthy in four clusters", WAIT, || async {
        let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
        let rows = view["resources"].as_array().unwrap();
        resources.iter().all(|id| {
            let r = rows.iter().position(|row| row["id"] == id.as_str()).unwrap();
            let codes = view["codes"][r].as_str().unwrap();
            let synced = codes.len() == 4 && codes.bytes().all(|c| c == b'a' + synced_index());
            let workload = rows[r]["kind"] == "StatefulSet";
            let healthy = view["notes"].as_array().unwrap().iter().filter(|n| n["r"] == r).count() == 4
                && view["notes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|n| n["r"] == r)
                    .all(|n| n["health"] == "Healthy 3/3");
            synced && (!workload || healthy)
        })
    })
    .await;

    let fleet = app.json(&admin, "/api/apps/fleet", &[]).await;
    let kafka_fleet = fleet.as_array().unwrap().iter().find(|a| a["name"] == "kafka").unwrap();
    assert_eq!(kafka_fleet["installs"][0]["clusters"], 4);
    assert_eq!(kafka_fleet["installs"][0]["place"], "data/payments");
    assert_eq!(kafka_fleet["installs"][0]["upgrade"], "3.9.0");

    // The same name again is refused.
    let error = refused(app.call_json(&admin, "/api/apps/install", &body).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("exists"), "{error}");
}

fn synced_index() -> u8 {
    flotilla_domain::StatusCode::ALL.iter().position(|c| c.as_str() == "Synced").unwrap() as u8
}

#[tokio::test]
async fn only_those_allowed_install_and_crds_need_a_tenant_admin() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "")]).await;
    let podinfo = version_id(&catalog, "podinfo", "6.7.1");
    let gateway = version_id(&catalog, "gateway-api", "1.2.0");
    let viewer = user_with(&app, "vera", Role::ProjectViewer, &project).await;
    let editor = user_with(&app, "eddie", Role::ProjectEditor, &project).await;
    let ws_admin = user_with(&app, "wanda", Role::WorkspaceAdmin, &ws).await;

    let body = install_body(&ws, Some(&project), &podinfo, "web", json!({}));
    refused(app.call_json(&viewer, "/api/apps/install", &body).await, 403).await;
    // A project the caller has no role on is not found, as is a version of another tenant.
    let other =
        app.json(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "other"), ("selector", "")]).await;
    let foreign = install_body(&ws, other["id"].as_str(), &podinfo, "web", json!({}));
    refused(app.call_json(&editor, "/api/apps/install", &foreign).await, 404).await;
    let unknown = install_body(&ws, Some(&project), "no-such-version", "web", json!({}));
    refused(app.call_json(&editor, "/api/apps/install", &unknown).await, 404).await;
    ok(app.call_json(&editor, "/api/apps/install", &body).await).await;

    // A project app in a workspace, a workspace app in a project: refused, saying where.
    let misplaced = install_body(&ws, Some(&project), &gateway, "gw", json!({}));
    let error = refused(app.call_json(&admin, "/api/apps/review-install", &misplaced).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("install it in a workspace"), "{error}");

    // CRDs reach every cluster of the workspace: not a workspace admin's.
    let crds = install_body(&ws, None, &gateway, "gateway-api", json!({"className": "internal"}));
    let error = refused(app.call_json(&ws_admin, "/api/apps/review-install", &crds).await, 403).await;
    assert!(error["Forbidden"].as_str().unwrap().contains("needs a tenant admin"), "{error}");
    refused(app.call_json(&ws_admin, "/api/apps/install", &crds).await, 403).await;
    ok(app.call_json(&admin, "/api/apps/install", &crds).await).await;

    // The GatewayClass waits for its CRD, then lands in the workspace's four clusters.
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    eventually("the GatewayClass Synced in four clusters", WAIT, || async {
        let resources = app.store.list_resources(&tenant, &ws, None).await.unwrap();
        let class = resources.iter().find(|r| r.kind == "GatewayClass").unwrap();
        let statuses = app.store.resource_statuses(&tenant, &class.id).await.unwrap();
        statuses.len() == 4 && statuses.iter().all(|s| s.code.as_str() == "Synced")
    })
    .await;

    let fleet = app.json(&viewer, "/api/apps/fleet", &[]).await;
    let podinfo_fleet = fleet.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap();
    assert_eq!(podinfo_fleet["installs"].as_array().unwrap().len(), 1, "the viewer sees the install in their project");
    let gateway_fleet = fleet.as_array().unwrap().iter().find(|a| a["name"] == "gateway-api").unwrap();
    assert!(gateway_fleet["installs"].as_array().unwrap().is_empty(), "but not the workspace's");
}
