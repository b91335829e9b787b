//! The audit log page's server function: filters, paging, refusals.

use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, spawn_app};

#[tokio::test]
async fn the_audit_log_is_filtered_paged_and_needs_a_login() {
    let app = spawn_app().await;
    let client = app.client();
    let search = |form: Vec<(&'static str, String)>| {
        let (app, client) = (&app, &client);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(client, "/api/audit/search", &form).await
        }
    };
    let filters = |actor: &str, action: &str, target: &str, outcome: &str| {
        vec![
            ("actor", actor.to_owned()),
            ("action", action.to_owned()),
            ("target", target.to_owned()),
            ("outcome", outcome.to_owned()),
        ]
    };
    assert_eq!(search(filters("", "", "", "")).await.status(), 401);

    app.login(&client, "admin", "wrong password").await;
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    for name in ["alpha", "beta"] {
        let answer = app.call(&client, "/api/workspaces/create", &[("name", name), ("selector", "")]).await;
        assert!(answer.status().is_success());
    }

    let page: Value = search(filters("", "", "", "")).await.json().await.unwrap();
    let actions: Vec<&str> = page["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["workspace.create", "workspace.create", "login", "login_failed", "bootstrap.admin_created"],
        "newest first"
    );
    assert_eq!(page["more"], false);
    let beta = &page["rows"][0];
    assert_eq!((beta["actor"].as_str(), beta["target_name"].as_str()), (Some("admin"), Some("beta")));
    assert!(beta["link"].as_str().unwrap().starts_with("/workspaces/"));
    assert!(beta["at"].as_str().unwrap().ends_with("UTC"));

    let page: Value = search(filters("", "workspace", "alp", "")).await.json().await.unwrap();
    assert_eq!(page["rows"].as_array().unwrap().len(), 1);
    assert_eq!(page["rows"][0]["target_name"], "alpha");
    let page: Value = search(filters("", "", "", "denied")).await.json().await.unwrap();
    assert_eq!(page["rows"][0]["action"], "login_failed");

    // Older than the newest: the rest.
    let mut older = filters("", "", "", "");
    older.push(("before", beta["id"].as_str().unwrap().to_owned()));
    let page: Value = search(older).await.json().await.unwrap();
    assert_eq!(page["rows"].as_array().unwrap().len(), 4);

    let bad = search(filters("", "", "", "maybe")).await;
    assert_eq!(bad.status(), 422);
    let error: Value = bad.json().await.unwrap();
    assert_eq!(error["Invalid"]["field"], "outcome");
}
