//! Rows behind the login sessions (tower-sessions records serialised as JSON).

use crate::{Result, Store, now_ms};

/// A session row as loaded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
}

impl Store {
    /// Inserts a new session; `false` if the id is already taken (the caller picks another).
    #[tracing::instrument(skip_all)]
    pub async fn session_insert(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        tenant_id: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<bool> {
        const SQL: &str = "INSERT INTO sessions (id, data, expires_at, tenant_id, user_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING";
        Ok(self.session_write(SQL, id, data, expires_at, tenant_id, user_id).await? == 1)
    }

    /// Creates or replaces a session.
    #[tracing::instrument(skip_all)]
    pub async fn session_save(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        tenant_id: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO sessions (id, data, expires_at, tenant_id, user_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             tenant_id = excluded.tenant_id, user_id = excluded.user_id, updated_at = excluded.updated_at";
        self.session_write(SQL, id, data, expires_at, tenant_id, user_id).await.map(|_| ())
    }

    /// Runs one of the session upserts above; returns the rows written.
    async fn session_write(
        &self,
        sql: &'static str,
        id: &str,
        data: &str,
        expires_at: i64,
        tenant_id: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<u64> {
        let done = sqlx::query(sql)
            .bind(id)
            .bind(data)
            .bind(expires_at)
            .bind(tenant_id)
            .bind(user_id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The session `id` unless it is missing or expired.
    #[tracing::instrument(skip_all)]
    pub async fn session_load(&self, id: &str) -> Result<Option<StoredSession>> {
        let row = sqlx::query_as::<_, StoredSession>(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    #[tracing::instrument(skip_all)]
    pub async fn session_delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn sessions_delete_expired(&self) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_ms()).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
