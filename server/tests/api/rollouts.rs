//! App upgrades as rollouts through the server (#17 points 5–10): the plan before it
//! starts, the rollout moving to success on the demo fleet, one rollout per install at a
//! time, the list and the audit log; and who may do what — a viewer sees but cannot act or
//! start, a person with no role where it moves things does not find it.

use serde_json::{Value, json};

use flotilla_testkit::eventually;

use crate::helpers::{ADMIN_PASSWORD, WAIT, ok, refused, spawn_app_with};
use crate::tenancy::user_with;

fn version_id(catalog: &Value, app: &str, version: &str) -> String {
    let app = catalog.as_array().unwrap().iter().find(|a| a["name"] == app).unwrap();
    let v = app["versions"].as_array().unwrap().iter().find(|v| v["version"] == version).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_upgrade_is_planned_started_watched_and_guarded() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws = app.json(&admin, "/api/workspaces/create", &[("name", "web"), ("selector", "env=staging")]).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project =
        app.json(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "shop"), ("selector", "")]).await;
    let project = project["id"].as_str().unwrap().to_owned();
    let other =
        app.json(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "other"), ("selector", "")]).await;
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let (old, new) = (version_id(&catalog, "podinfo", "6.6.3"), version_id(&catalog, "podinfo", "6.7.1"));
    let install = json!({"workspace_id": ws, "project_id": project,
                         "input": {"version_id": old, "name": "web", "values": {}}});
    let install = ok(app.call_json(&admin, "/api/apps/install", &install).await).await;
    let install = install.as_str().unwrap().to_owned();

    let viewer = user_with(&app, "vera", Role::ProjectViewer, &project).await;
    let editor = user_with(&app, "eddie", Role::ProjectEditor, &project).await;
    let outsider = user_with(&app, "otto", Role::ProjectEditor, other["id"].as_str().unwrap()).await;

    let strategy = json!({"canary": {"by": "first"}, "wave_size": {"unit": "clusters", "value": 2},
                          "soak_seconds": 0, "progress_deadline_seconds": 60});
    let body = json!({"input": {"install_ids": [install], "to_version_id": new, "strategy": strategy}});
    // The plan: the canary, then waves of two over the project's four clusters.
    let plan = ok(app.call_json(&editor, "/api/rollouts/plan", &body).await).await;
    let sizes: Vec<usize> =
        plan["waves"].as_array().unwrap().iter().map(|w| w["clusters"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [1, 2, 1], "{plan}");
    assert_eq!(plan["waves"][0]["label"], "canary");

    // Refusals: a viewer may not start it; someone without a role there does not find it; a
    // strategy that cannot work says why; nothing is written by any of them.
    refused(app.call_json(&viewer, "/api/rollouts/start", &body).await, 403).await;
    refused(app.call_json(&outsider, "/api/rollouts/start", &body).await, 404).await;
    let bad = json!({"input": {"install_ids": [install], "to_version_id": new,
                                "strategy": {"wave_size": {"unit": "percent", "value": 0}}}});
    let error = refused(app.call_json(&editor, "/api/rollouts/start", &bad).await, 422).await;
    assert_eq!(error["Invalid"]["field"], "strategy", "{error}");
    for ids in [json!([]), json!(vec![install.clone(); 501])] {
        let body = json!({"input": {"install_ids": ids, "to_version_id": new, "strategy": strategy}});
        let error = refused(app.call_json(&editor, "/api/rollouts/plan", &body).await, 422).await;
        assert_eq!(error["Invalid"]["field"], "installs", "{error}");
    }
    let backwards = json!({"input": {"install_ids": [install], "to_version_id": old, "strategy": {}}});
    let error = refused(app.call_json(&editor, "/api/rollouts/start", &backwards).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("upgrades from"), "{error}");
    assert_eq!(ok(app.call(&admin, "/api/rollouts/list", &[]).await).await, json!([]));

    let id = ok(app.call_json(&editor, "/api/rollouts/start", &body).await).await;
    let id = id.as_str().unwrap().to_owned();
    let error = refused(app.call_json(&editor, "/api/rollouts/start", &body).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("already being rolled out"), "{error}");

    // The viewer watches it but cannot act; the outsider finds nothing.
    let seen = ok(app.call(&viewer, "/api/rollouts/get", &[("id", id.as_str())]).await).await;
    assert_eq!(seen["can_act"], false);
    assert_eq!(seen["summary"]["title"], "podinfo 6.6.3 → 6.7.1");
    refused(app.call(&viewer, "/api/rollouts/act", &[("id", id.as_str()), ("action", "pause")]).await, 403).await;
    refused(app.call(&outsider, "/api/rollouts/get", &[("id", id.as_str())]).await, 404).await;
    assert_eq!(ok(app.call(&outsider, "/api/rollouts/list", &[]).await).await, json!([]));
    refused(app.call(&editor, "/api/rollouts/get", &[("id", "no-such-rollout")]).await, 404).await;
    let error =
        refused(app.call(&editor, "/api/rollouts/act", &[("id", id.as_str()), ("action", "explode")]).await, 422).await;
    assert_eq!(error["Invalid"]["field"], "action");

    // It moves to success on its own, every cluster done.
    let done = eventually("the rollout succeeded", WAIT * 3, || async {
        let r = app.json(&editor, "/api/rollouts/get", &[("id", id.as_str())]).await;
        (r["summary"]["state"] == "Succeeded").then_some(r)
    })
    .await;
    let steps: Vec<&Value> =
        done["waves"].as_array().unwrap().iter().flat_map(|w| w["steps"].as_array().unwrap()).collect();
    assert_eq!(steps.len(), 4);
    assert!(steps.iter().all(|s| s["state"] == "Done"), "{done}");
    let error =
        refused(app.call(&editor, "/api/rollouts/act", &[("id", id.as_str()), ("action", "pause")]).await, 422).await;
    assert!(error["Invalid"]["message"].as_str().unwrap().contains("succeeded"), "{error}");

    let list = ok(app.call(&viewer, "/api/rollouts/list", &[]).await).await;
    assert_eq!(list[0]["created_by"], "eddie");
    let fleet = app.json(&admin, "/api/apps/fleet", &[]).await;
    let podinfo = fleet.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap();
    assert_eq!(podinfo["installs"][0]["version"], "6.7.1");
    let audit = ok(app
        .call(&admin, "/api/audit/search", &[("actor", ""), ("action", "rollout"), ("target", ""), ("outcome", "")])
        .await)
    .await;
    let actions: Vec<&str> = audit["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"rollout.start") && actions.contains(&"rollout.succeeded"), "{actions:?}");
}

#[tokio::test]
async fn the_story_demo_has_kafka_in_three_projects_across_48_clusters() {
    let app = spawn_app_with(|args| {
        args.demo = Some(true);
        args.demo_fleet = Some(server::config::DemoFleet::Story);
    })
    .await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let clusters = app.json(&admin, "/api/fleet/clusters", &[]).await;
    assert_eq!(clusters.as_array().unwrap().len(), 48);
    let fleet = app.json(&admin, "/api/apps/fleet", &[]).await;
    let kafka = fleet.as_array().unwrap().iter().find(|a| a["name"] == "kafka").unwrap();
    let mut places: Vec<(&str, u64)> = kafka["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["place"].as_str().unwrap(), i["clusters"].as_u64().unwrap()))
        .collect();
    places.sort_unstable();
    assert_eq!(
        places,
        [("streaming/analytics", 12), ("streaming/orders", 18), ("streaming/payments", 18)],
        "Kafka in three projects, 48 clusters in all"
    );
    assert!(kafka["installs"].as_array().unwrap().iter().all(|i| i["version"] == "3.7.1" && i["upgrade"] == "3.9.0"));

    // All three upgraded in one rollout, region by region: the rollout page names each
    // wave's region as the plan did.
    let installs: Vec<&Value> = kafka["installs"].as_array().unwrap().iter().map(|i| &i["id"]).collect();
    let catalog = app.json(&admin, "/api/apps/catalog", &[("scope", "project")]).await;
    let strategy = json!({"canary": {"by": "none"}, "wave_size": {"unit": "percent", "value": 100},
                          "wave_per": "region", "approval": "between_waves"});
    let body = json!({"input": {"install_ids": installs, "to_version_id": version_id(&catalog, "kafka", "3.8.1"),
                                "strategy": strategy}});
    let plan = ok(app.call_json(&admin, "/api/rollouts/plan", &body).await).await;
    let planned: Vec<&str> = plan["waves"].as_array().unwrap().iter().map(|w| w["label"].as_str().unwrap()).collect();
    assert!(planned.len() >= 3 && planned.iter().all(|l| l.contains(" · region=")), "{planned:?}");
    let id = ok(app.call_json(&admin, "/api/rollouts/start", &body).await).await;
    let seen = app.json(&admin, "/api/rollouts/get", &[("id", id.as_str().unwrap())]).await;
    let shown: Vec<&str> = seen["waves"].as_array().unwrap().iter().map(|w| w["label"].as_str().unwrap()).collect();
    assert_eq!(shown, planned);
}
