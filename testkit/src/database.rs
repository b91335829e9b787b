//! A database for each test: SQLite by default, PostgreSQL when the test command says so.

/// The environment variable naming a PostgreSQL server for the tests (a URL without a
/// database, e.g. `postgres://postgres@127.0.0.1:55432`). Unset: tests run on SQLite.
pub const TEST_POSTGRES_ENV: &str = "FLOTILLA_TEST_POSTGRES";

/// The database URL of a test's data folder `dir`: an SQLite file in it, or — when
/// [`TEST_POSTGRES_ENV`] names a server — a PostgreSQL database of its own, created on first
/// use and remembered in `dir` (so a server restarted on the same folder finds its data). The
/// test command's throwaway server is deleted whole afterwards, so the databases are not
/// dropped one by one.
pub async fn database_url(dir: &std::path::Path) -> String {
    let server = match std::env::var(TEST_POSTGRES_ENV) {
        Ok(server) if !server.is_empty() => server,
        _ => return format!("sqlite://{}/flotilla.db", dir.display()),
    };
    let remembered = dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return url;
    }
    let url = fresh_postgres_database(&server).await;
    std::fs::write(&remembered, &url).expect("remember the test database");
    url
}

/// Creates a database with a unique name on the PostgreSQL server at `server`; returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let server = server.trim_end_matches('/');
    let name = format!("flotilla_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("{TEST_POSTGRES_ENV}={server}: cannot connect: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    let _ = admin.close().await;
    format!("{server}/{name}")
}
