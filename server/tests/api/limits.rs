//! #16 point 13: every request body is bounded by its endpoint, and a manifest by its size,
//! depth and node count; what is refused says what the bound is, and nothing is written.

use crate::helpers::{ADMIN_PASSWORD, ok, refused, spawn_app};

#[tokio::test]
async fn request_bodies_and_manifests_are_bounded_with_a_clear_answer() {
    let app = spawn_app().await;
    let admin = app.client();
    // Anonymous: a login is small. The body is refused before a session or a hash is made.
    let huge = "p".repeat(100 * 1024);
    let login = refused(app.login(&admin, "admin", &huge).await, 413).await;
    assert!(login["BadRequest"].as_str().unwrap().contains("larger than the 64 KiB"), "{login}");

    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let ws = ok(app.call(&admin, "/api/workspaces/create", &[("name", "ops"), ("selector", "")]).await).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project =
        ok(app.call(&admin, "/api/projects/create", &[("workspace_id", &ws), ("name", "web"), ("selector", "")]).await)
            .await;
    let project = project["id"].as_str().unwrap().to_owned();
    let add = |yaml: String| vec![("project_id".to_owned(), project.clone()), ("yaml".to_owned(), yaml)];
    let call = |form: Vec<(String, String)>| {
        let (app, admin) = (&app, &admin);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.call(admin, "/api/projects/add-resource", &form).await
        }
    };
    let cm = |data: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: {data}\n");

    // Larger than any manifest endpoint takes: refused before it is read.
    let answer = refused(call(add(cm(&"x".repeat(7 * 1024 * 1024)))).await, 413).await;
    assert!(answer["BadRequest"].as_str().unwrap().contains("6 MiB"), "{answer}");
    // Within the request bound, but an object larger than a resource may hold.
    let answer = refused(call(add(cm(&"x".repeat(1536 * 1024)))).await, 422).await;
    // (The add form shows template errors at its YAML editor.)
    assert_eq!(answer["Invalid"]["field"], "yaml", "{answer}");
    assert!(answer["Invalid"]["message"].as_str().unwrap().contains("1 MiB"), "{answer}");
    // Nested past the bound.
    let deep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let answer = refused(call(add(deep)).await, 422).await;
    assert_eq!(answer["Invalid"]["field"], "yaml", "{answer}");

    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let held = app.store.list_resources(&tenant, &ws, Some(&project)).await.unwrap();
    assert_eq!(held.len(), 1, "only the project's namespace: nothing was written");
    // A small one still goes in.
    ok(call(add(cm("small"))).await).await;
}
