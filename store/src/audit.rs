//! The audit log: who did what, when, to what, and how it ended. Append-only (a trigger
//! refuses updates). Writes that change state record their row in the same transaction.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::{Result, Store, new_id, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Ok,
    Denied,
    Failed,
}

impl AuditOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
        }
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub tenant_id: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_name: String,
    pub outcome: AuditOutcome,
    pub detail: serde_json::Value,
    pub source_ip: Option<String>,
}

impl AuditEntry {
    pub fn new(tenant_id: &str, actor_name: &str, action: &str, outcome: AuditOutcome) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            actor_id: None,
            actor_name: actor_name.to_owned(),
            action: action.to_owned(),
            target_kind: String::new(),
            target_id: String::new(),
            target_name: String::new(),
            outcome,
            detail: serde_json::Value::Object(Default::default()),
            source_ip: None,
        }
    }

    pub fn actor_id(mut self, id: &str) -> Self {
        self.actor_id = Some(id.to_owned());
        self
    }

    pub fn target(mut self, kind: &str, id: &str, name: &str) -> Self {
        self.target_kind = kind.to_owned();
        self.target_id = id.to_owned();
        self.target_name = name.to_owned();
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn source_ip(mut self, ip: Option<String>) -> Self {
        self.source_ip = ip;
        self
    }

    /// Writes the row on `conn` (inside the caller's transaction).
    pub(crate) async fn insert(&self, conn: &mut AnyConnection) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, at, actor_id, actor_name, action, target_kind, \
             target_id, target_name, outcome, detail, source_ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new_id())
        .bind(&self.tenant_id)
        .bind(now_ms())
        .bind(&self.actor_id)
        .bind(&self.actor_name)
        .bind(&self.action)
        .bind(&self.target_kind)
        .bind(&self.target_id)
        .bind(&self.target_name)
        .bind(self.outcome.as_str())
        .bind(self.detail.to_string())
        .bind(&self.source_ip)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// What the audit log page filters by; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Who (actor name, exact, case-insensitive).
    pub actor: String,
    /// What: an action (`resource.update`) or every action of a kind (`resource`).
    pub action: String,
    /// Part of the target's name, case-insensitive.
    pub target: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// Only entries older than this id (the last one of the previous page).
    pub before: Option<String>,
}

/// An audit row as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: String,
    pub at: i64,
    pub actor_name: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_name: String,
    pub outcome: String,
    pub detail: String,
}

impl Store {
    /// Records one entry on its own (for events that change nothing else).
    #[tracing::instrument(skip(self, entry), fields(action = %entry.action))]
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        entry.insert(&mut conn).await
    }

    /// The newest `limit` entries of a tenant, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn audit_log(&self, tenant_id: &str, limit: i64) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query_as::<_, AuditRecord>(
            "SELECT id, at, actor_name, action, target_kind, target_id, target_name, outcome, detail \
             FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Up to `limit` entries matching `query`, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn search_audit(&self, tenant_id: &str, query: &AuditQuery, limit: i64) -> Result<Vec<AuditRecord>> {
        let like = |text: &str| {
            let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        };
        let action = query.action.trim();
        let rows = sqlx::query_as::<_, AuditRecord>(
            "SELECT id, at, actor_name, action, target_kind, target_id, target_name, outcome, detail FROM audit_log \
             WHERE tenant_id = $1 \
             AND ($2 = '' OR lower(actor_name) = lower($2)) \
             AND ($3 = '' OR action = $3 OR action LIKE $3 || '.%') \
             AND ($4 = '%%' OR lower(target_name) LIKE $4 ESCAPE '\\') \
             AND ($5 = '' OR outcome = $5) \
             AND ($6 IS NULL OR id < $6) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(tenant_id)
        .bind(query.actor.trim())
        .bind(action)
        .bind(like(&query.target))
        .bind(query.outcome.trim())
        .bind(&query.before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
