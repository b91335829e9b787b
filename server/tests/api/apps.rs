//! Apps through the server (#17 points 1–4): the catalog, a tenant's own versions uploaded, an install reviewed and applied
//! from a form generated from the version's parameters, the install healthy in every cluster
//! of its project, and the refusals — bad values by field, a viewer, a foreign project, CRDs
//! from someone short of a tenant admin.

use serde_json::{Value, json};

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, podinfo_archive, refused, spawn_app_with};
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
    let gateway_install = ok(app.call_json(&admin, "/api/apps/install", &crds).await).await;
    // Nor is removing them: uninstalling takes what deleting each object by hand would.
    let uninstall = [("install_id", gateway_install.as_str().unwrap()), ("version", "1"), ("orphan", "false")];
    let error = refused(app.call(&ws_admin, "/api/apps/uninstall", &uninstall).await, 403).await;
    assert!(error["Forbidden"].as_str().unwrap().contains("tenant admin"), "{error}");
    let review = [("install_id", gateway_install.as_str().unwrap()), ("orphan", "false")];
    refused(app.call(&ws_admin, "/api/apps/review-uninstall", &review).await, 403).await;

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

fn upload(archive: &str) -> Value {
    json!({ "archive_base64": archive })
}

#[tokio::test]
async fn a_tenant_admin_adds_an_app_version_that_installs_and_upgrades_like_a_built_in_one() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let old = version_id(&catalog, "podinfo", "6.6.3");
    let install = install_body(&ws, Some(&project), &old, "web", json!({}));
    let install_id = ok(app.call_json(&admin, "/api/apps/install", &install).await).await;

    let archive = podinfo_archive("6.7.2", |path, text| {
        if path == "app.yaml" {
            text.replace("changelog: \"podinfo 6.7.1:", "changelog: \"Ours, on 6.7.1:")
        } else {
            text
        }
    });
    // Only a tenant admin adds versions.
    let editor = user_with(&app, "eddie", Role::ProjectEditor, &project).await;
    let ws_admin = user_with(&app, "wanda", Role::WorkspaceAdmin, &ws).await;
    for someone in [&editor, &ws_admin] {
        let error = refused(app.call_json(someone, "/api/apps/upload-version", &upload(&archive)).await, 403).await;
        assert!(error["Forbidden"].as_str().unwrap().contains("tenant admin"), "{error}");
    }
    let added = ok(app.call_json(&admin, "/api/apps/upload-version", &upload(&archive)).await).await;
    assert_eq!(added, "podinfo 6.7.2");

    // It is in the catalog as the tenant's own, and the install may move to it.
    let catalog = app.json(&editor, "/api/apps/catalog", &[("scope", "project")]).await;
    let podinfo = catalog.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap();
    let newest = &podinfo["versions"][0];
    assert_eq!((newest["version"].as_str(), newest["builtin"].as_bool()), (Some("6.7.2"), Some(false)));
    assert!(newest["changelog"].as_str().unwrap().starts_with("Ours"));
    let fleet = app.json(&admin, "/api/apps/fleet", &[]).await;
    let podinfo = fleet.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap();
    assert_eq!(podinfo["installs"][0]["upgrade"], "6.7.2", "the newest upgrade is the tenant's: {podinfo}");
    let own = newest["id"].as_str().unwrap().to_owned();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let log = app.store.audit_log(&tenant, 10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "catalog.add" && e.target_name == "podinfo 6.7.2"));

    // The same version again, a built-in one, and archives that are not app versions: a
    // clear reason each, and nothing added.
    let error = refused(app.call_json(&admin, "/api/apps/upload-version", &upload(&archive)).await, 409).await;
    assert!(error["Conflict"].as_str().unwrap().contains("Your catalog already has podinfo 6.7.2"), "{error}");
    let builtin = podinfo_archive("6.7.1", |_, text| text);
    let error = refused(app.call_json(&admin, "/api/apps/upload-version", &upload(&builtin)).await, 409).await;
    assert!(error["Conflict"].as_str().unwrap().contains("built-in catalog already has podinfo 6.7.1"), "{error}");
    let broken = podinfo_archive("6.7.3", |path, text| {
        if path == "templates/deployment.yaml" { text.replace("{{ install.name }}", "{{ install.name }") } else { text }
    });
    let refusals = [
        (upload(&broken), "templates/deployment.yaml"),
        (upload("bm90IGEgdGFyIGFyY2hpdmU="), "not a tar archive"),
        (upload("%%% not base64"), "not base64"),
        (
            upload(&podinfo_archive("6.7.3", |path, text| {
                if path == "app.yaml" { text.replace("scope: project", "scope: workspace") } else { text }
            })),
            "scope: project",
        ),
    ];
    for (body, reason) in refusals {
        let error = refused(app.call_json(&admin, "/api/apps/upload-version", &body).await, 422).await;
        assert_eq!(error["Invalid"]["field"], "archive", "{error}");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(reason), "{reason}: {error}");
    }
    let huge = upload(&"A".repeat(flotilla_domain::limits::MAX_LARGE_REQUEST_BYTES + 1));
    refused(app.call_json(&admin, "/api/apps/upload-version", &huge).await, 413).await;
    let versions = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let podinfo = versions.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap();
    assert_eq!(podinfo["versions"].as_array().unwrap().len(), 3, "6.7.2 alone was added: {podinfo}");

    // Upgrading to it is a rollout like any other, and it installs like any other.
    let strategy = json!({"soak_seconds": 0, "wave_size": {"unit": "percent", "value": 100}});
    let start = json!({"input": {"install_ids": [install_id], "to_version_id": own, "strategy": strategy}});
    let rollout = ok(app.call_json(&admin, "/api/rollouts/start", &start).await).await;
    eventually("the upgrade to the tenant's version succeeded", WAIT, || async {
        let r = app.json(&admin, "/api/rollouts/get", &[("id", rollout.as_str().unwrap())]).await;
        r["summary"]["state"] == "Succeeded"
    })
    .await;

    // In use, it stays; a built-in version is never removed; another id is not found.
    let error =
        refused(app.call_json(&admin, "/api/apps/remove-version", &json!({"version_id": own})).await, 409).await;
    assert!(error["Conflict"].as_str().unwrap().contains("1 install runs podinfo 6.7.2"), "{error}");
    let error =
        refused(app.call_json(&admin, "/api/apps/remove-version", &json!({"version_id": old})).await, 403).await;
    assert!(error["Forbidden"].as_str().unwrap().contains("built into Flotilla"), "{error}");
    refused(app.call_json(&admin, "/api/apps/remove-version", &json!({"version_id": "nope"})).await, 404).await;
    refused(app.call_json(&editor, "/api/apps/remove-version", &json!({"version_id": own})).await, 403).await;

    // One that nothing uses goes, and leaves the audit log saying so.
    let spare = podinfo_archive("6.7.9", |_, text| text);
    ok(app.call_json(&admin, "/api/apps/upload-version", &upload(&spare)).await).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let spare = version_id(&catalog, "podinfo", "6.7.9");
    ok(app.call_json(&admin, "/api/apps/remove-version", &json!({"version_id": spare})).await).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    assert!(!catalog.to_string().contains("6.7.9"));
    let log = app.store.audit_log(&tenant, 10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "catalog.remove" && e.target_name == "podinfo 6.7.9"));
}

#[tokio::test]
async fn per_cluster_values_reach_the_clusters_they_name_or_select_and_follow_relabelling_and_upgrades() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let (old, new) = (version_id(&catalog, "podinfo", "6.6.3"), version_id(&catalog, "podinfo", "6.7.1"));
    let with_rules = |rules: Value| {
        json!({"workspace_id": ws, "project_id": project,
               "input": {"version_id": old, "name": "web", "values": {"replicas": "2"}, "rules": rules}})
    };
    // Bad rules: a clear reason, naming the rule; nothing is installed.
    for (rules, reason) in [
        (json!([{"selector": "region in (", "values": {"replicas": "3"}}]), "rule 1: selector `region in (`"),
        (json!([{"selector": "region=eu", "values": {"replicas": "lots"}}]), "rule 1: replicas"),
        (json!([{"cluster": "staging-us-2", "values": {"colour": "red"}}]), "rule 1: `colour` is not a parameter"),
        (json!([{"values": {"replicas": "3"}}]), "rule 1: choose a cluster or give a selector"),
        (json!([{"selector": "region=eu", "values": {}}]), "sets no value"),
    ] {
        let body = with_rules(rules.clone());
        let error = refused(app.call_json(&admin, "/api/apps/review-install", &body).await, 422).await;
        assert_eq!(error["Invalid"]["field"], "overrides", "{rules}: {error}");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(reason), "{reason}: {error}");
        refused(app.call_json(&admin, "/api/apps/install", &body).await, 422).await;
    }
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    assert!(view["installs"].as_array().unwrap().is_empty());

    // Three replicas where region=eu, one (and another message) in staging-us-2: the review
    // shows the Deployment three ways, and the members get just that.
    let body = with_rules(json!([
        {"selector": "region=eu", "values": {"replicas": "3"}},
        {"cluster": "staging-us-2", "values": {"replicas": "1", "message": "the quiet one"}},
    ]));
    let review = ok(app.call_json(&admin, "/api/apps/review-install", &body).await).await;
    let deployments: Vec<&Value> = review["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "Create" && c["diff"].to_string().contains("kind: Deployment"))
        .collect();
    assert_eq!(deployments.len(), 3, "three renderings of the Deployment: {review}");
    let eu: Vec<&str> = deployments.iter().find(|c| c["diff"].to_string().contains("replicas: 3")).unwrap()["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(eu, ["staging-eu-1", "staging-eu-2"]);
    ok(app.call_json(&admin, "/api/apps/install", &body).await).await;
    let deployment = "/apis/apps/v1/namespaces/payments/deployments/web";
    let configmap = "/api/v1/namespaces/payments/configmaps/web-ui";
    let replicas = |cluster: &'static str| {
        let app = &app;
        async move { app.member_object(cluster, deployment).await.map(|d| d["spec"]["replicas"].clone()) }
    };
    eventually("every member holds its own replica count", WAIT, || async {
        [
            replicas("staging-eu-1").await,
            replicas("staging-eu-2").await,
            replicas("staging-us-1").await,
            replicas("staging-us-2").await,
        ] == [Some(json!(3)), Some(json!(3)), Some(json!(2)), Some(json!(1))]
    })
    .await;
    let quiet = app.member_object("staging-us-2", configmap).await.unwrap();
    assert!(quiet.to_string().contains("the quiet one"), "{quiet}");
    let loud = app.member_object("staging-us-1", configmap).await.unwrap();
    assert!(!loud.to_string().contains("the quiet one"), "{loud}");

    // A selector follows the labels: staging-us-1 moved to eu takes the eu values.
    let clusters = app.json(&admin, "/api/fleet/clusters", &[]).await;
    let moved = clusters.as_array().unwrap().iter().find(|c| c["name"] == "staging-us-1").unwrap();
    let (id, version) = (moved["id"].as_str().unwrap(), moved["version"].to_string());
    ok(app
        .call(
            &admin,
            "/api/fleet/set-labels",
            &[("id", id), ("version", &version), ("labels", "env=staging,region=eu,tier=2")],
        )
        .await)
    .await;
    eventually("the relabelled cluster takes the eu rule", WAIT, || async {
        replicas("staging-us-1").await == Some(json!(3))
    })
    .await;

    // The project lists the rules with the install; an upgrade keeps them: the new image
    // everywhere, each cluster's count kept.
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    assert_eq!(
        view["installs"][0]["rules"],
        json!(["replicas=3 where region=eu", "message=the quiet one, replicas=1 in staging-us-2"])
    );
    let install = view["installs"][0]["id"].clone();
    let start = json!({"input": {"install_ids": [install], "to_version_id": new, "strategy": {"soak_seconds": 0}}});
    ok(app.call_json(&admin, "/api/rollouts/start", &start).await).await;
    let image_and_replicas = |cluster: &'static str| {
        let app = &app;
        async move {
            app.member_object(cluster, deployment).await.map(|d| {
                (
                    d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned(),
                    d["spec"]["replicas"].clone(),
                )
            })
        }
    };
    eventually("every member on 6.7.1 with its own replica count", WAIT, || async {
        let mut all = Vec::new();
        for c in ["staging-eu-1", "staging-us-1", "staging-us-2"] {
            all.push(image_and_replicas(c).await);
        }
        all == [
            Some(("ghcr.io/stefanprodan/podinfo:6.7.1".to_owned(), json!(3))),
            Some(("ghcr.io/stefanprodan/podinfo:6.7.1".to_owned(), json!(3))),
            Some(("ghcr.io/stefanprodan/podinfo:6.7.1".to_owned(), json!(1))),
        ]
    })
    .await;
}

#[tokio::test]
async fn an_uninstall_is_reviewed_then_removes_every_object_from_the_members_in_one_change() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "")]).await;
    let (old, new) = (version_id(&catalog, "podinfo", "6.6.3"), version_id(&catalog, "podinfo", "6.7.1"));
    let install = ok(app
        .call_json(&admin, "/api/apps/install", &install_body(&ws, Some(&project), &old, "web", json!({})))
        .await)
    .await;
    let install = install.as_str().unwrap().to_owned();
    let deployment = "/apis/apps/v1/namespaces/payments/deployments/web";
    eventually("podinfo in the members", WAIT, || async {
        app.member_object("staging-eu-1", deployment).await.is_some()
    })
    .await;

    // The review: each of the three objects deleted from the four clusters; nothing changes.
    let review = ok(app
        .call(&admin, "/api/apps/review-uninstall", &[("install_id", install.as_str()), ("orphan", "false")])
        .await)
    .await;
    let changes = review["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{review}");
    assert!(changes.iter().all(|c| c["kind"] == "Delete" && c["clusters"].as_array().unwrap().len() == 4), "{review}");
    let kept = ok(app
        .call(&admin, "/api/apps/review-uninstall", &[("install_id", install.as_str()), ("orphan", "true")])
        .await)
    .await;
    assert!(kept["changes"].as_array().unwrap().iter().all(|c| c["kind"] == "Unchanged"), "{kept}");

    // Refusals: a viewer; a stale version; a rollout moving it. Nothing is removed.
    let viewer = user_with(&app, "vera", Role::ProjectViewer, &project).await;
    refused(
        app.call(
            &viewer,
            "/api/apps/uninstall",
            &[("install_id", install.as_str()), ("version", "1"), ("orphan", "false")],
        )
        .await,
        403,
    )
    .await;
    refused(
        app.call(
            &admin,
            "/api/apps/uninstall",
            &[("install_id", install.as_str()), ("version", "7"), ("orphan", "false")],
        )
        .await,
        409,
    )
    .await;
    let slow = json!({"soak_seconds": 600, "wave_size": {"unit": "percent", "value": 100}});
    let start = json!({"input": {"install_ids": [install], "to_version_id": new, "strategy": slow}});
    let rollout = ok(app.call_json(&admin, "/api/rollouts/start", &start).await).await;
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    let version = view["installs"][0]["row_version"].to_string();
    let error = refused(
        app.call(
            &admin,
            "/api/apps/uninstall",
            &[("install_id", install.as_str()), ("version", &version), ("orphan", "false")],
        )
        .await,
        422,
    )
    .await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("is moving it across the fleet"), "{error}");
    ok(app.call(&admin, "/api/rollouts/act", &[("id", rollout.as_str().unwrap()), ("action", "abort")]).await).await;
    eventually("the rollout ended", WAIT, || async {
        let r = app.json(&admin, "/api/rollouts/get", &[("id", rollout.as_str().unwrap())]).await;
        r["summary"]["finished_at"].is_number()
    })
    .await;

    // Uninstalled: gone from the project, the audit log says so, and from every member.
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    let version = view["installs"][0]["row_version"].to_string();
    ok(app
        .call(
            &admin,
            "/api/apps/uninstall",
            &[("install_id", install.as_str()), ("version", &version), ("orphan", "false")],
        )
        .await)
    .await;
    let view = app.json(&admin, "/api/projects/view", &[("id", &project)]).await;
    assert!(view["installs"].as_array().unwrap().is_empty(), "{view}");
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let log = app.store.audit_log(&tenant, 5).await.unwrap();
    assert!(log.iter().any(|e| e.action == "app.uninstall" && e.target_name == "web"));
    eventually("podinfo gone from the members", WAIT, || async {
        for cluster in ["staging-eu-1", "staging-eu-2", "staging-us-1", "staging-us-2"] {
            if app.member_object(cluster, deployment).await.is_some() {
                return false;
            }
        }
        true
    })
    .await;
    refused(
        app.call(&admin, "/api/apps/review-uninstall", &[("install_id", install.as_str()), ("orphan", "false")]).await,
        404,
    )
    .await;
}
