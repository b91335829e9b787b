use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_without_login() {
    let app = spawn_app().await;
    let client = app.client();
    let live = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.text().await.unwrap(), "ok");
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readyz_reports_a_database_that_cannot_answer() {
    let app = spawn_app().await;
    app.store.close_for_tests().await;
    let ready = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "database unavailable");
}

#[tokio::test]
async fn the_data_dir_gets_a_private_key_and_the_database() {
    let app = spawn_app().await;
    let key = app.data_dir.path().join("secret.key");
    assert!(key.exists(), "secret key generated");
    if app.store.backend() == flotilla_store::Backend::Sqlite {
        assert!(app.data_dir.path().join("flotilla.db").exists(), "database created");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
