//! Registered member clusters. Credentials are encrypted before they reach the database and
//! are never part of what is listed.

use std::collections::BTreeMap;

use flotilla_domain::{ClusterSummary, ResourceName};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::changes::Change;
use crate::workspaces::{last_actor, still_at_version};
use crate::{AuditEntry, AuditOutcome, Error, Result, SecretCipher, Store, new_id, now_ms};

/// What is needed to register a cluster.
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub name: ResourceName,
    pub api_server_url: String,
    /// PEM of the CA that signs the API server's certificate, if not a public one.
    pub ca_pem: Option<String>,
    pub token: SecretString,
    pub labels: BTreeMap<String, String>,
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    id: String,
    name: String,
    api_server_url: String,
    labels: String,
    health: String,
    health_reason: String,
    server_version: Option<String>,
    version: i64,
    deregistering: Option<String>,
}

impl ClusterRow {
    fn into_summary(self) -> Result<ClusterSummary> {
        let r = self;
        let labels =
            serde_json::from_str(&r.labels).map_err(|e| Error::Corrupt(format!("labels of {}: {e}", r.name)))?;
        Ok(ClusterSummary {
            id: r.id,
            name: r.name,
            api_server_url: r.api_server_url,
            labels,
            health: r.health,
            health_reason: r.health_reason,
            server_version: r.server_version,
            version: r.version,
            deregistering: r.deregistering,
        })
    }
}

/// The credentials as stored (encrypted as a whole).
#[derive(Serialize, Deserialize)]
struct Credentials {
    token: String,
}

impl Store {
    /// Registers `cluster` in `tenant_id`, or — when `replace` and a cluster of that name
    /// exists — updates its endpoint, CA, credentials and labels. Audited in the same
    /// transaction. Returns the cluster's id.
    #[tracing::instrument(skip(self, cluster), fields(name = %cluster.name))]
    pub async fn register_cluster(
        &self,
        tenant_id: &str,
        actor: &str,
        cluster: &NewCluster,
        replace: bool,
    ) -> Result<String> {
        let credentials = serde_json::to_string(&Credentials { token: cluster.token.expose_secret().to_owned() })
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        let credentials_enc = self.cipher.encrypt_str(&credentials)?;
        let labels = serde_json::to_string(&cluster.labels).map_err(|e| Error::Corrupt(e.to_string()))?;
        let now = now_ms();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let existing: Option<String> =
                sqlx::query_scalar("SELECT id FROM clusters WHERE tenant_id = $1 AND name = $2")
                    .bind(tenant_id)
                    .bind(cluster.name.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            let (id, action) = match existing {
                Some(_) if !replace => {
                    return Err(flotilla_domain::Error::invalid(
                        "name",
                        format!("a cluster named {} is already registered", cluster.name),
                    )
                    .into());
                }
                Some(id) => {
                    sqlx::query(
                        "UPDATE clusters SET api_server_url = $1, ca_data = $2, credentials_enc = $3, labels = $4, \
                         updated_at = $5, version = version + 1 WHERE id = $6 AND tenant_id = $7",
                    )
                    .bind(&cluster.api_server_url)
                    .bind(&cluster.ca_pem)
                    .bind(&credentials_enc)
                    .bind(&labels)
                    .bind(now)
                    .bind(&id)
                    .bind(tenant_id)
                    .execute(&mut *tx)
                    .await?;
                    (id, "cluster.update")
                }
                None => {
                    let id = new_id();
                    sqlx::query(
                        "INSERT INTO clusters (id, tenant_id, name, api_server_url, ca_data, credentials_enc, labels, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                    )
                    .bind(&id)
                    .bind(tenant_id)
                    .bind(cluster.name.as_str())
                    .bind(&cluster.api_server_url)
                    .bind(&cluster.ca_pem)
                    .bind(&credentials_enc)
                    .bind(&labels)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    (id, "cluster.register")
                }
            };
            AuditEntry::new(tenant_id, actor, action, AuditOutcome::Ok)
                .target("cluster", &id, cluster.name.as_str())
                .detail(serde_json::json!({ "api_server_url": cluster.api_server_url, "labels": cluster.labels }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Cluster { tenant_id: tenant_id.to_owned(), id: id.clone() }]).await?;
            Ok(id)
        })
        .await
    }

    /// Replaces a cluster's labels (which moves it in or out of workspaces and projects), if
    /// nobody changed the cluster since `expected_version`.
    #[tracing::instrument(skip(self))]
    pub async fn set_cluster_labels(
        &self,
        tenant_id: &str,
        actor: &str,
        id: &str,
        expected_version: i64,
        labels: &BTreeMap<String, String>,
    ) -> Result<()> {
        let json = serde_json::to_string(labels).map_err(|e| Error::Corrupt(e.to_string()))?;
        let detail = serde_json::json!({ "labels": labels });
        let set = ClusterSet { column: "labels", value: &json, action: "cluster.labels", detail };
        self.set_cluster_column(tenant_id, actor, id, expected_version, set).await
    }

    /// Replaces a cluster's bearer token (a rotation), if nobody changed the cluster since
    /// `expected_version`. The engine reconnects with it.
    #[tracing::instrument(skip(self, token))]
    pub async fn set_cluster_token(
        &self,
        tenant_id: &str,
        actor: &str,
        id: &str,
        expected_version: i64,
        token: &SecretString,
    ) -> Result<()> {
        let credentials = serde_json::to_string(&Credentials { token: token.expose_secret().to_owned() })
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        let enc = self.cipher.encrypt_str(&credentials)?;
        let detail = serde_json::json!({ "rotated": true });
        let set = ClusterSet { column: "credentials_enc", value: &enc, action: "cluster.credentials", detail };
        self.set_cluster_column(tenant_id, actor, id, expected_version, set).await
    }

    /// Starts deregistering a cluster (if nobody changed it since `expected_version`): with
    /// `cleanup` the engine first removes Flotilla's objects from it, with `leave` they
    /// stay; then the engine forgets the cluster.
    #[tracing::instrument(skip(self))]
    pub async fn deregister_cluster(
        &self,
        tenant_id: &str,
        actor: &str,
        id: &str,
        expected_version: i64,
        cleanup: bool,
    ) -> Result<()> {
        let mode = if cleanup { "cleanup" } else { "leave" };
        let detail = serde_json::json!({ "mode": mode });
        let set = ClusterSet { column: "deregistering", value: mode, action: "cluster.deregister", detail };
        self.set_cluster_column(tenant_id, actor, id, expected_version, set).await
    }

    /// Sets one column of a tenant's cluster at `expected_version`, audited in the same
    /// transaction, and publishes the change. A cluster being deregistered is not changed.
    async fn set_cluster_column(
        &self,
        tenant_id: &str,
        actor: &str,
        id: &str,
        expected_version: i64,
        set: ClusterSet<'_>,
    ) -> Result<()> {
        let ClusterSet { column, value, action, detail } = set;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current: Option<(String, i64, Option<String>)> =
                sqlx::query_as("SELECT name, version, deregistering FROM clusters WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (name, version, deregistering) = current.ok_or(Error::NotFound("cluster"))?;
            if deregistering.is_some() {
                return Err(flotilla_domain::Error::invalid("cluster", format!("{name} is being deregistered")).into());
            }
            if version != expected_version {
                return Err(Error::Stale { what: "cluster", by: last_actor(&mut tx, tenant_id, id).await? });
            }
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE clusters SET {column} = $1, updated_at = $2, version = version + 1 \
                 WHERE tenant_id = $3 AND id = $4 AND version = $5"
            )))
            .bind(value)
            .bind(now_ms())
            .bind(tenant_id)
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            still_at_version(&mut tx, done, "cluster", tenant_id, id).await?;
            AuditEntry::new(tenant_id, actor, action, AuditOutcome::Ok)
                .target("cluster", id, &name)
                .detail(detail.clone())
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Cluster { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(())
        })
        .await
    }

    /// Deletes a deregistering cluster's row once the engine is done with it.
    #[tracing::instrument(skip(self))]
    pub async fn forget_cluster(&self, id: &str) -> Result<bool> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let tenant_id: Option<String> = sqlx::query_scalar(
                "DELETE FROM clusters WHERE id = $1 AND deregistering IS NOT NULL RETURNING tenant_id",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            // The engine drops the cluster from its model at once (not at the next reload).
            let change = tenant_id.clone().map(|tenant_id| Change::Cluster { tenant_id, id: id.to_owned() });
            self.commit(tx, change).await?;
            Ok(tenant_id.is_some())
        })
        .await
    }

    /// The tenant's clusters, by name.
    #[tracing::instrument(skip(self))]
    pub async fn list_clusters(&self, tenant_id: &str) -> Result<Vec<ClusterSummary>> {
        // One row holding a JSON array: a fleet of thousands is not handed over row by row.
        let sql = self.backend.json_rows(
            "id, name, api_server_url, labels, health, health_reason, server_version, version, deregistering",
            Some("name"),
            "FROM clusters WHERE tenant_id = $1",
        );
        let json: String = sqlx::query_scalar(sql).bind(tenant_id).fetch_one(&self.pool).await?;
        type Row = (String, String, String, String, String, String, Option<String>, i64, Option<String>);
        let rows: Vec<Row> = serde_json::from_str(&json).map_err(|e| Error::Corrupt(format!("clusters: {e}")))?;
        rows.into_iter()
            .map(|r| {
                ClusterRow {
                    id: r.0,
                    name: r.1,
                    api_server_url: r.2,
                    labels: r.3,
                    health: r.4,
                    health_reason: r.5,
                    server_version: r.6,
                    version: r.7,
                    deregistering: r.8,
                }
                .into_summary()
            })
            .collect()
    }

    /// The bearer token of cluster `id` of `tenant_id`, decrypted (for the engine only).
    #[tracing::instrument(skip(self))]
    pub async fn cluster_token(&self, tenant_id: &str, id: &str) -> Result<SecretString> {
        let enc: Option<String> =
            sqlx::query_scalar("SELECT credentials_enc FROM clusters WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let enc = enc.ok_or(Error::NotFound("cluster"))?;
        decrypt_token(&self.cipher, &enc)
    }
}

pub(crate) fn decrypt_token(cipher: &SecretCipher, enc: &str) -> Result<SecretString> {
    let plain = cipher.decrypt_string(enc)?;
    let creds: Credentials =
        serde_json::from_str(plain.expose_secret()).map_err(|e| Error::Corrupt(format!("credentials: {e}")))?;
    Ok(SecretString::from(creds.token))
}

/// One column of a cluster to set, and how the change is audited. `column` is one of
/// ours, never user input.
struct ClusterSet<'a> {
    column: &'static str,
    value: &'a str,
    action: &'static str,
    detail: serde_json::Value,
}
