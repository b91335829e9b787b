//! KubeFed files written in the published format import into a project and land in the
//! members as KubeFed would place them; a project exports (both forms) and imports back into
//! the same resources.

use flotilla_testkit::eventually;
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, WAIT, refused, spawn_app_with};

const KUBEFED: &str = r#"
apiVersion: types.kubefed.io/v1beta1
kind: FederatedNamespace
metadata: {name: shop, namespace: shop}
spec:
  placement:
    clusterSelector:
      matchLabels: {env: prod}
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: settings, namespace: shop}
spec:
  template:
    data: {level: info}
  placement:
    clusters:
    - name: prod-eu-1
    - name: prod-us-1
  overrides:
  - clusterName: prod-us-1
    clusterOverrides:
    - path: /data/level
      value: debug
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: regional, namespace: shop}
spec:
  template:
    data: {a: "1"}
  placement:
    clusterSelector:
      matchExpressions:
      - {key: region, operator: In, values: [eu]}
"#;

#[tokio::test]
async fn kubefed_files_import_land_as_kubefed_places_them_and_export_back() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "all"), ("selector", "")]).await;
    let ws = ws["id"].as_str().unwrap().to_owned();

    // Reviewed first: what has no equivalent refuses the import, naming it.
    let bad = format!(
        "{KUBEFED}---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedClusterRole\nmetadata: {{name: r}}\nspec: {{template: {{rules: []}}}}\n"
    );
    let review = app
        .json(&client, "/api/workspaces/import-review", &[("workspace_id", &ws), ("name", ""), ("yaml", &bad)])
        .await;
    assert!(review["problems"][0].as_str().unwrap().contains("FederatedClusterRole r: cluster-scoped"), "{review}");
    let answer =
        app.call(&client, "/api/workspaces/import", &[("workspace_id", &ws), ("name", ""), ("yaml", &bad)]).await;
    assert!(refused(answer, 422).await.to_string().contains("nothing was imported"));
    assert_eq!(app.json(&client, "/api/workspaces/detail", &[("id", &ws)]).await["projects"], serde_json::json!([]));

    let review = app
        .json(&client, "/api/workspaces/import-review", &[("workspace_id", &ws), ("name", ""), ("yaml", KUBEFED)])
        .await;
    assert_eq!((&review["project"], &review["project_selector"]), (&"shop".into(), &"env=prod".into()));
    assert_eq!(review["resources"].as_array().unwrap().len(), 2);
    let project =
        app.json(&client, "/api/workspaces/import", &[("workspace_id", &ws), ("name", ""), ("yaml", KUBEFED)]).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    assert_eq!(project["clusters"], 8, "the FederatedNamespace's selector: env=prod");

    // In the members as KubeFed places them: by name with the override, and by selector.
    let data = |cluster: &'static str, name: &'static str| {
        let app = &app;
        async move {
            app.member_object(cluster, &format!("/api/v1/namespaces/shop/configmaps/{name}"))
                .await
                .map(|o| o["data"].clone())
        }
    };
    eventually("placed and overridden", WAIT, || async {
        data("prod-eu-1", "settings").await == Some(serde_json::json!({"level": "info"}))
            && data("prod-us-1", "settings").await == Some(serde_json::json!({"level": "debug"}))
            && data("prod-eu-2", "regional").await.is_some()
    })
    .await;
    assert_eq!(data("prod-eu-2", "settings").await, None, "not named in its placement");
    assert_eq!(data("prod-us-2", "regional").await, None, "not selected by region=eu");
    assert_eq!(data("staging-eu-1", "regional").await, None, "outside the namespace's env=prod");

    // Exported (deterministic), and imported back after the project is gone: the same resources.
    let specs = |project: String| {
        let (app, tenant, ws) = (&app, tenant.clone(), ws.clone());
        async move {
            let mut out: Vec<(String, Value, Value)> = Vec::new();
            for r in app.store.list_resources(&tenant, &ws, Some(&project)).await.unwrap() {
                let s = app.store.resource_revision(&tenant, &r.id, None).await.unwrap().spec;
                out.push((format!("{} {}", r.kind, r.name), s.template, serde_json::json!([s.placement, s.overrides])));
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
    };
    let before = specs(project_id.clone()).await;
    let export = app.json(&client, "/api/projects/export", &[("id", &project_id), ("kubefed", "true")]).await;
    let yaml = export["yaml"].as_str().unwrap().to_owned();
    assert_eq!(export["file_name"], "shop-kubefed.yaml");
    let again = app.json(&client, "/api/projects/export", &[("id", &project_id), ("kubefed", "true")]).await;
    assert_eq!(again["yaml"], export["yaml"], "the same project exports to the same text");
    let plain = app.json(&client, "/api/projects/export", &[("id", &project_id), ("kubefed", "false")]).await;
    assert!(plain["yaml"].as_str().unwrap().contains("namespace: shop"));
    assert!(plain["notes"].to_string().contains("no placement or overrides"), "{plain}");

    app.json(&client, "/api/projects/delete", &[("id", &project_id), ("version", "1"), ("orphan", "false")]).await;
    eventually("the project purged", WAIT, || async {
        app.store.list_resources(&tenant, &ws, Some(&project_id)).await.unwrap().is_empty()
    })
    .await;
    let back =
        app.json(&client, "/api/workspaces/import", &[("workspace_id", &ws), ("name", ""), ("yaml", &yaml)]).await;
    let after = specs(back["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(after, before, "export → import reproduces the resources:\n{yaml}");

    // Only a workspace admin imports; a foreign workspace is not found.
    let eddie = crate::tenancy::user_with(&app, "eddie", flotilla_domain::Role::WorkspaceEditor, &ws).await;
    let answer = app
        .call(&eddie, "/api/workspaces/import-review", &[("workspace_id", &ws), ("name", ""), ("yaml", KUBEFED)])
        .await;
    assert_eq!(answer.status(), 403);
    let answer = app
        .call(&client, "/api/workspaces/import-review", &[("workspace_id", "nope"), ("name", ""), ("yaml", KUBEFED)])
        .await;
    assert_eq!(answer.status(), 404);
}

#[tokio::test]
async fn a_workspace_exports_and_imports_back_into_the_same_projects_and_resources() {
    use reqwest::Method;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let (_, admin_token) = app.token(&client, "ops", "admin").await;
    let (_, view_token) = app.token(&client, "reader", "view").await;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "src"), ("selector", "env=prod")]).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    app.json(&client, "/api/workspaces/import", &[("workspace_id", &ws), ("name", ""), ("yaml", KUBEFED)]).await;
    let blog =
        app.json(&client, "/api/projects/create", &[("workspace_id", &ws), ("name", "blog"), ("selector", "")]).await;
    let form = [
        ("project_id", blog["id"].as_str().unwrap()),
        ("name", "cfg"),
        ("data", "a=1"),
        ("override_cluster", ""),
        ("override_data", ""),
    ];
    app.json(&client, "/api/projects/add-configmap", &form).await;
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: blog-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n";
    app.json(&client, "/api/workspaces/add-resource", &[("workspace_id", &ws), ("yaml", role)]).await;

    // What a workspace holds: its own resources and each project's, by name.
    let holdings = |ws: String| {
        let (app, tenant) = (&app, tenant.clone());
        async move {
            let mut out: Vec<(String, Value, Value)> = Vec::new();
            let mut homes = vec![(String::new(), None)];
            for p in app.store.list_projects(&tenant, &ws).await.unwrap() {
                homes.push((format!("{} ({}) ", p.name, p.selector), Some(p.id)));
            }
            for (label, project) in homes {
                for r in app.store.list_resources(&tenant, &ws, project.as_deref()).await.unwrap() {
                    let s = app.store.resource_revision(&tenant, &r.id, None).await.unwrap().spec;
                    let what = format!("{label}{} {}", r.kind, r.name);
                    out.push((what, s.template, serde_json::json!([s.placement, s.overrides])));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
    };
    let before = holdings(ws.clone()).await;
    assert_eq!(
        before.len(),
        6,
        "a ClusterRole; shop's namespace and two ConfigMaps; blog's namespace and one: {before:#?}"
    );

    // Exported through the API: deterministic, and the same file in the tenant's export.
    let path = format!("/api/v1/workspaces/{ws}/export?format=kubefed");
    let (status, yaml) = app.api(Some(&view_token), Method::GET, &path, None).await;
    assert_eq!(status, 200, "a reader exports");
    let yaml = yaml.as_str().unwrap().to_owned();
    assert!(yaml.starts_with("# Flotilla workspace src: the clusters where env=prod\n---\n"), "{yaml}");
    assert_eq!(app.api(Some(&admin_token), Method::GET, &path, None).await.1, Value::String(yaml.clone()));
    assert_eq!(app.api(Some(&view_token), Method::GET, "/api/v1/export", None).await.0, 403, "a tenant admin's");
    let (status, files) = app.api(Some(&admin_token), Method::GET, "/api/v1/export?format=kubefed", None).await;
    assert_eq!(status, 200);
    assert_eq!(files[0]["name"], "src-kubefed.yaml");
    assert_eq!(files[0]["yaml"], Value::String(yaml.clone()));
    assert_eq!(app.api(Some(&admin_token), Method::GET, "/api/v1/export?format=xml", None).await.0, 400);

    // Imported into another workspace: all or nothing (the project names are taken while
    // the first workspace holds them), then after the first is deleted, the same again.
    let dst = app.json(&client, "/api/workspaces/create", &[("name", "dst"), ("selector", "env=prod")]).await;
    let dst = dst["id"].as_str().unwrap().to_owned();
    let import = format!("/api/v1/workspaces/{dst}/import-workspace");
    let dry_run = serde_json::json!({"yaml": yaml, "dry_run": true});
    let (status, review) = app.api(Some(&admin_token), Method::POST, &import, Some(dry_run.clone())).await;
    assert_eq!(status, 200, "{review}");
    let problems = review["problems"].to_string();
    assert!(
        problems.contains("a project named blog exists") && problems.contains("a project named shop exists"),
        "{review}"
    );
    let (status, _) = app.api(Some(&admin_token), Method::POST, &import, Some(serde_json::json!({"yaml": yaml}))).await;
    assert_eq!(status, 422, "shop and blog exist");
    assert!(holdings(dst.clone()).await.is_empty(), "nothing was written");
    let editor = crate::tenancy::user_with(&app, "eddie", flotilla_domain::Role::WorkspaceEditor, &dst).await;
    let answer =
        app.call(&editor, "/api/workspaces/import-workspace", &[("workspace_id", &dst), ("yaml", &yaml)]).await;
    assert_eq!(answer.status(), 403, "a workspace admin's");

    let version = app.json(&client, "/api/workspaces/detail", &[("id", &ws)]).await["workspace"]["version"].to_string();
    app.json(&client, "/api/workspaces/delete", &[("id", &ws), ("version", &version), ("orphan", "true")]).await;
    // The review says the names are taken until the first workspace's objects are gone.
    let review = eventually("the names are free again", WAIT, || async {
        let (status, review) = app.api(Some(&admin_token), Method::POST, &import, Some(dry_run.clone())).await;
        (status == 200 && review["problems"] == serde_json::json!([])).then_some(review)
    })
    .await;
    assert!(holdings(ws.clone()).await.is_empty());
    assert_eq!(review["resources"][0]["name"], "blog-reader");
    let projects: Vec<&str> =
        review["projects"].as_array().unwrap().iter().map(|p| p["project"].as_str().unwrap()).collect();
    assert_eq!(projects, ["blog", "shop"]);
    let (status, made) =
        app.api(Some(&admin_token), Method::POST, &import, Some(serde_json::json!({"yaml": yaml}))).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made.as_array().unwrap().len(), 2);
    assert_eq!(holdings(dst.clone()).await, before, "export → import reproduces the workspace:\n{yaml}");
}
