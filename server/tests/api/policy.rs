//! What a role may put into member clusters, as a person meets it through the server (#16
//! points 1–4): refused at review with the reason, refused again at save, nothing written.

use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp, ok, refused, spawn_app_with};
use crate::tenancy::user_with;

/// A workspace over the staging clusters with a project `web`; the tenant admin logged in.
async fn setup(app: &TestApp) -> (reqwest::Client, String, String) {
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws =
        ok(app.call(&admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "env=staging")]).await).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project =
        ok(app.call(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "web"), ("selector", "")]).await)
            .await;
    (admin, ws, project["id"].as_str().unwrap().to_owned())
}

/// The reason of a 403.
async fn forbidden(response: reqwest::Response) -> String {
    let body = refused(response, 403).await;
    body["Forbidden"].as_str().unwrap_or_default().to_owned()
}

/// How many resources the project and workspace hold (a refusal must not change it).
async fn resources(app: &TestApp, ws: &str, project: &str) -> usize {
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let in_ws = app.store.list_resources(&tenant, ws, None).await.unwrap().len();
    in_ws + app.store.list_resources(&tenant, ws, Some(project)).await.unwrap().len()
}

fn rolebinding(role: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: to-{role}\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\n\
         subjects:\n- kind: Group\n  name: devs\n"
    )
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: root\nspec:\n  containers:\n  - name: sh\n    \
     image: busybox\n    securityContext:\n      privileged: true\n";

const QUOTA: &str =
    "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: limits\nspec:\n  hard:\n    pods: \"10\"\n";

#[tokio::test]
async fn a_project_editor_cannot_bind_cluster_admin_run_privileged_pods_or_lift_the_quota() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let editor = user_with(&app, "eddie", Role::ProjectEditor, &project).await;
    let project_admin = user_with(&app, "paula", Role::ProjectAdmin, &project).await;
    let before = resources(&app, &ws, &project).await;
    let review = |yaml: String| vec![("workspace_id", ws.clone()), ("project_id", project.clone()), ("yaml", yaml)];
    let call = |client: &reqwest::Client, endpoint: &'static str, form: Vec<(&'static str, String)>| {
        let form: Vec<(&str, String)> = form;
        let app = &app;
        let client = client.clone();
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(&client, endpoint, &pairs).await
        }
    };

    // cluster-admin inside the namespace: refused at review and at save, with the reason.
    let reason =
        forbidden(call(&editor, "/api/resources/review-new", review(rolebinding("cluster-admin"))).await).await;
    assert!(reason.contains("RoleBinding to the ClusterRole cluster-admin"), "{reason}");
    let add = |yaml: String| vec![("project_id", project.clone()), ("yaml", yaml)];
    forbidden(call(&editor, "/api/projects/add-resource", add(rolebinding("cluster-admin"))).await).await;
    // Not for the tenant admin either, unless they say so on the object.
    forbidden(call(&admin, "/api/projects/add-resource", add(rolebinding("cluster-admin"))).await).await;
    // view and edit are an editor's to bind; admin a project admin's.
    ok(call(&editor, "/api/resources/review-new", review(rolebinding("view"))).await).await;
    let reason = forbidden(call(&editor, "/api/projects/add-resource", add(rolebinding("admin"))).await).await;
    assert!(reason.contains("needs an admin of the workspace or project"), "{reason}");
    ok(call(&project_admin, "/api/projects/add-resource", add(rolebinding("admin"))).await).await;

    // Pods meet the namespace's Pod Security level (baseline unless said otherwise).
    let reason = forbidden(call(&editor, "/api/resources/review-new", review(PRIVILEGED_POD.into())).await).await;
    assert!(reason.contains("privileged") && reason.contains("Pod Security level baseline"), "{reason}");
    assert_eq!(resources(&app, &ws, &project).await, before + 1, "only the project admin's binding was saved");

    // The quota a project admin set is not an editor's to change or remove.
    let quota = ok(call(&project_admin, "/api/projects/add-resource", add(QUOTA.into())).await).await;
    let quota = quota["id"].as_str().unwrap().to_owned();
    let delete = vec![("id", quota.clone()), ("orphan", "false".to_owned())];
    forbidden(call(&editor, "/api/resources/review-delete", delete.clone()).await).await;
    let mut delete_now = delete.clone();
    delete_now.push(("version", "1".into()));
    forbidden(call(&editor, "/api/resources/delete", delete_now.clone()).await).await;
    let edit = serde_json::json!({"id": quota, "version": 1, "edit": {
        "yaml": QUOTA.replace("\"10\"", "\"1000\""), "placement": {"selector": ""}, "overrides": []}});
    let response = app.call_json(&editor, "/api/resources/apply-edit", &edit).await;
    assert_eq!(response.status(), 403, "{}", response.text().await.unwrap());
    ok(call(&project_admin, "/api/resources/review-delete", delete).await).await;

    // The level itself: a project admin tightens it; only a tenant admin opens it up.
    let level = |level: &str, version: &str| {
        vec![("id", project.clone()), ("version", version.to_owned()), ("level", level.to_owned())]
    };
    forbidden(call(&editor, "/api/projects/set-pod-security", level("restricted", "1")).await).await;
    let reason =
        forbidden(call(&project_admin, "/api/projects/set-pod-security", level("privileged", "1")).await).await;
    assert!(reason.contains("only a tenant admin"), "{reason}");
    ok(call(&admin, "/api/projects/set-pod-security", level("privileged", "1")).await).await;
    let view: Value = ok(call(&editor, "/api/projects/view", vec![("id", project.clone())]).await).await;
    assert_eq!(view["pod_security"], "privileged");
    ok(call(&editor, "/api/resources/review-new", review(PRIVILEGED_POD.into())).await).await;

    // Adopting a namespace that existed before hands what is in it to the project: a tenant admin's.
    let adopt = || vec![("id", project.clone())];
    forbidden(call(&editor, "/api/projects/adopt-namespace", adopt()).await).await;
    let reason = forbidden(call(&project_admin, "/api/projects/adopt-namespace", adopt()).await).await;
    assert!(reason.contains("only a tenant admin"), "{reason}");
    ok(call(&admin, "/api/projects/adopt-namespace", adopt()).await).await;
}

#[tokio::test]
async fn a_workspace_admin_cannot_put_rbac_webhooks_or_crds_into_the_members() {
    use flotilla_domain::Role;
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let (admin, ws, project) = setup(&app).await;
    let ws_admin = user_with(&app, "wanda", Role::WorkspaceAdmin, &ws).await;
    let before = resources(&app, &ws, &project).await;
    let crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: me\n\
               roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n\
               subjects:\n- kind: User\n  name: wanda\n";
    let webhook = "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  \
                   name: everything\nwebhooks: []\n";
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b.io\n";
    for yaml in [crb, webhook, crd] {
        let review = [("workspace_id", ws.as_str()), ("project_id", ""), ("yaml", yaml)];
        let reason = forbidden(app.call(&ws_admin, "/api/resources/review-new", &review).await).await;
        assert!(reason.contains("needs a tenant admin") || reason.contains("cluster-admin"), "{reason}");
        let add = [("workspace_id", ws.as_str()), ("yaml", yaml)];
        forbidden(app.call(&ws_admin, "/api/workspaces/add-resource", &add).await).await;
    }
    assert_eq!(resources(&app, &ws, &project).await, before, "nothing was saved");
    // The tenant admin may add the webhook; the binding to cluster-admin only with the annotation.
    ok(app.call(&admin, "/api/workspaces/add-resource", &[("workspace_id", &ws), ("yaml", webhook)]).await).await;
    let reason =
        forbidden(app.call(&admin, "/api/workspaces/add-resource", &[("workspace_id", &ws), ("yaml", crb)]).await)
            .await;
    assert!(reason.contains("flotilla.io/allow-escalation"), "{reason}");
    let allowed =
        crb.replace("  name: me\n", "  name: me\n  annotations:\n    flotilla.io/allow-escalation: \"true\"\n");
    ok(app.call(&admin, "/api/workspaces/add-resource", &[("workspace_id", &ws), ("yaml", &allowed)]).await).await;
    // A project cannot take a namespace of Kubernetes' own.
    let kube = [("workspace_id", ws.as_str()), ("name", "kube-system"), ("selector", "")];
    let body = refused(app.call(&admin, "/api/projects/create", &kube).await, 422).await;
    assert!(body.to_string().contains("namespace of Kubernetes"), "{body}");
}
