//! Propagation status per (resource, cluster) and cluster health, as the engine records
//! them. Written in batches (one transaction per batch) by the engine's status writer.

use std::collections::HashMap;

use flotilla_domain::{Health, StatusCode, WorkloadHealth};
use serde::{Deserialize, Serialize};

use crate::changes::Change;
use crate::{Error, Result, Store, now_ms};

/// What the engine knows about one resource in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    pub tenant_id: String,
    pub resource_id: String,
    pub cluster_id: String,
    pub code: StatusCode,
    pub message: String,
    /// The revision and rendered hash the member last accepted.
    pub applied_revision: Option<i64>,
    pub applied_hash: Option<String>,
    /// The member's `metadata.generation` / `resourceVersion` after that write.
    pub member_generation: Option<i64>,
    pub member_resource_version: Option<String>,
    pub health: Option<WorkloadHealth>,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    tenant_id: String,
    resource_id: String,
    cluster_id: String,
    code: String,
    message: String,
    applied_revision: Option<i64>,
    applied_hash: Option<String>,
    member_generation: Option<i64>,
    member_resource_version: Option<String>,
    health: Option<String>,
    health_ready: Option<i32>,
    health_updated: Option<i32>,
    health_desired: Option<i32>,
    updated_at: i64,
}

impl StatusRow {
    fn into_record(self) -> Result<StatusRecord> {
        let code = StatusCode::parse(&self.code).ok_or_else(|| Error::Corrupt(format!("status code {}", self.code)))?;
        let health = match self.health.as_deref().map(Health::parse) {
            Some(Some(health)) => Some(WorkloadHealth {
                health,
                desired: self.health_desired.unwrap_or(0),
                updated: self.health_updated.unwrap_or(0),
                ready: self.health_ready.unwrap_or(0),
            }),
            Some(None) => return Err(Error::Corrupt(format!("health {:?}", self.health))),
            None => None,
        };
        Ok(StatusRecord {
            tenant_id: self.tenant_id,
            resource_id: self.resource_id,
            cluster_id: self.cluster_id,
            code,
            message: self.message,
            applied_revision: self.applied_revision,
            applied_hash: self.applied_hash,
            member_generation: self.member_generation,
            member_resource_version: self.member_resource_version,
            health,
            updated_at: self.updated_at,
        })
    }
}

/// Clusters asked about in one statement by [`Store::clusters_statuses`] (two parameters each,
/// well under SQLite's and PostgreSQL's limits).
const CLUSTERS_PER_STATEMENT: usize = 500;

const COLUMNS: &str = "tenant_id, resource_id, cluster_id, code, message, applied_revision, applied_hash, \
     member_generation, member_resource_version, health, health_ready, health_updated, health_desired, updated_at";

/// A status as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownStatus {
    pub resource_id: String,
    pub cluster_id: String,
    pub code: StatusCode,
    pub message: String,
    pub health: Option<WorkloadHealth>,
}

/// Rows per upsert statement, largest first. At 14 parameters a row, the largest stays well
/// under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const STATUS_STATEMENT_ROWS: [usize; 3] = [128, 16, 1];

/// The statement upserting `rows` statuses (skipping those whose resource or cluster is gone),
/// with numbered parameters, `COLUMNS` per row in order.
fn upsert_sql(rows: usize) -> String {
    let per_row = COLUMNS.split(',').count();
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=per_row).map(|c| format!("${}", r * per_row + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "WITH v ({COLUMNS}) AS (VALUES {}) INSERT INTO propagation_status ({COLUMNS}) SELECT {COLUMNS} FROM v \
         WHERE EXISTS (SELECT 1 FROM federated_resources f WHERE f.id = v.resource_id) \
           AND EXISTS (SELECT 1 FROM clusters c WHERE c.id = v.cluster_id) \
         ON CONFLICT (resource_id, cluster_id) DO UPDATE SET code = excluded.code, \
           message = excluded.message, applied_revision = excluded.applied_revision, \
           applied_hash = excluded.applied_hash, member_generation = excluded.member_generation, \
           member_resource_version = excluded.member_resource_version, health = excluded.health, \
           health_ready = excluded.health_ready, health_updated = excluded.health_updated, \
           health_desired = excluded.health_desired, updated_at = excluded.updated_at",
        values.join(", ")
    )
}

/// Cluster health as probed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterHealth {
    /// `Ready` or `Offline`.
    pub health: &'static str,
    pub reason: String,
    pub server_version: Option<String>,
}

impl Store {
    /// Upserts `records` and removes `removed` (resource id, cluster id) in one transaction.
    /// Rows whose resource or cluster is gone by now are skipped, not errors.
    #[tracing::instrument(skip_all, fields(upserts = records.len(), removals = removed.len()))]
    pub async fn save_statuses(&self, records: &[StatusRecord], removed: &[(String, String)]) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            // Many rows per statement: one round trip to the database per chunk, not per row.
            // Chunks come in a few fixed sizes, so each statement is parsed once and cached.
            let mut rest = records;
            while !rest.is_empty() {
                let rows = STATUS_STATEMENT_ROWS.iter().copied().find(|&n| n <= rest.len()).unwrap_or(1);
                let (chunk, tail) = rest.split_at(rows);
                rest = tail;
                let mut query = sqlx::query(sqlx::AssertSqlSafe(upsert_sql(chunk.len())));
                for r in chunk {
                    query = query
                        .bind(&r.tenant_id)
                        .bind(&r.resource_id)
                        .bind(&r.cluster_id)
                        .bind(r.code.as_str())
                        .bind(&r.message)
                        .bind(r.applied_revision)
                        .bind(&r.applied_hash)
                        .bind(r.member_generation)
                        .bind(&r.member_resource_version)
                        .bind(r.health.map(|h| h.health.as_str()))
                        .bind(r.health.map(|h| h.ready))
                        .bind(r.health.map(|h| h.updated))
                        .bind(r.health.map(|h| h.desired))
                        .bind(r.updated_at);
                }
                query.execute(&mut *tx).await?;
            }
            for (resource_id, cluster_id) in removed {
                sqlx::query("DELETE FROM propagation_status WHERE resource_id = $1 AND cluster_id = $2")
                    .bind(resource_id)
                    .bind(cluster_id)
                    .execute(&mut *tx)
                    .await?;
            }
            // The other replicas' live streams hear of them through the change log.
            let changed = Change::Statuses {
                upserted: records.iter().map(|r| (r.resource_id.clone(), r.cluster_id.clone())).collect(),
                removed: removed.to_vec(),
            };
            let changed = if records.is_empty() && removed.is_empty() { Vec::new() } else { vec![changed] };
            self.commit_for_others(tx, &changed).await
        })
        .await
    }

    /// Every status recorded for a cluster (the engine reloads these at start, so a restart
    /// does not rewrite what the members already hold).
    pub async fn cluster_statuses(&self, tenant_id: &str, cluster_id: &str) -> Result<Vec<StatusRecord>> {
        let mut by_cluster = self.clusters_statuses(&[(tenant_id, cluster_id)]).await?;
        Ok(by_cluster.remove(cluster_id).unwrap_or_default())
    }

    /// [`Store::cluster_statuses`] of many clusters (tenant, cluster), by cluster id; one
    /// statement per 500 clusters (a replica taking over thousands of clusters, or starting
    /// with them, does not spend a round trip on each).
    pub async fn clusters_statuses(&self, clusters: &[(&str, &str)]) -> Result<HashMap<String, Vec<StatusRecord>>> {
        // By tenant and cluster, as the index is (by cluster alone PostgreSQL walks the whole
        // index: 10 times slower at 10,000 clusters).
        let mut by_cluster: HashMap<String, Vec<StatusRecord>> = HashMap::new();
        for record in self.statuses_by_pairs("tenant_id", clusters, CLUSTERS_PER_STATEMENT).await? {
            by_cluster.entry(record.cluster_id.clone()).or_default().push(record);
        }
        Ok(by_cluster)
    }

    /// The statuses whose (`first`, cluster_id) is one of `pairs`, asked `per_statement`
    /// pairs at a time.
    async fn statuses_by_pairs(
        &self,
        first: &'static str,
        pairs: &[(&str, &str)],
        per_statement: usize,
    ) -> Result<Vec<StatusRecord>> {
        let mut out = Vec::new();
        for chunk in pairs.chunks(per_statement) {
            let wanted: Vec<String> = (0..chunk.len())
                .map(|i| format!("({first} = ${} AND cluster_id = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!("SELECT {COLUMNS} FROM propagation_status WHERE {}", wanted.join(" OR "));
            let mut query = sqlx::query_as::<_, StatusRow>(sqlx::AssertSqlSafe(sql));
            for (key, cluster_id) in chunk {
                query = query.bind(*key).bind(*cluster_id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(row.into_record()?);
            }
        }
        Ok(out)
    }

    /// Every status of a project's resources, for the tenant, as a page shows them. A project
    /// with a thousand clusters has thousands: the database hands them over as one JSON array
    /// (one row) rather than row by row.
    #[tracing::instrument(skip(self))]
    pub async fn project_statuses(&self, tenant_id: &str, project_id: &str) -> Result<Vec<ShownStatus>> {
        let json: String = sqlx::query_scalar(self.backend.json_rows(
            "s.resource_id, s.cluster_id, s.code, s.message, s.health, s.health_ready, s.health_updated, \
             s.health_desired",
            None,
            "FROM propagation_status s JOIN federated_resources f ON f.id = s.resource_id \
             WHERE f.tenant_id = $1 AND f.project_id = $2 AND s.tenant_id = $1",
        ))
        .bind(tenant_id)
        .bind(project_id)
        .fetch_one(&self.pool)
        .await?;
        type Row = (String, String, String, String, Option<String>, Option<i32>, Option<i32>, Option<i32>);
        let rows: Vec<Row> = serde_json::from_str(&json).map_err(|e| Error::Corrupt(format!("statuses: {e}")))?;
        rows.into_iter()
            .map(|(resource_id, cluster_id, code, message, health, ready, updated, desired)| {
                let code = StatusCode::parse(&code).ok_or_else(|| Error::Corrupt(format!("status code {code}")))?;
                let health = match health.as_deref().map(Health::parse) {
                    Some(Some(health)) => Some(WorkloadHealth {
                        health,
                        desired: desired.unwrap_or(0),
                        updated: updated.unwrap_or(0),
                        ready: ready.unwrap_or(0),
                    }),
                    Some(None) => return Err(Error::Corrupt(format!("health {health:?}"))),
                    None => None,
                };
                Ok(ShownStatus { resource_id, cluster_id, code, message, health })
            })
            .collect()
    }

    /// Which clusters hold which resources of a workspace (its projects' included), as
    /// (resource id, cluster id) pairs by their statuses.
    #[tracing::instrument(skip(self))]
    pub async fn workspace_holdings(&self, tenant_id: &str, workspace_id: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT s.resource_id, s.cluster_id FROM propagation_status s \
             JOIN federated_resources f ON f.id = s.resource_id \
             WHERE f.tenant_id = $1 AND f.workspace_id = $2 AND s.tenant_id = $1 AND f.deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A resource's status in every cluster, for the tenant.
    pub async fn resource_statuses(&self, tenant_id: &str, resource_id: &str) -> Result<Vec<StatusRecord>> {
        let rows = sqlx::query_as::<_, StatusRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM propagation_status WHERE tenant_id = $1 AND resource_id = $2"
        )))
        .bind(tenant_id)
        .bind(resource_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StatusRow::into_record).collect()
    }

    /// Records a probe of cluster `id`.
    #[tracing::instrument(skip(self))]
    pub async fn set_cluster_health(&self, id: &str, health: &ClusterHealth) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let tenant_id: Option<String> = sqlx::query_scalar(
                "UPDATE clusters SET health = $1, health_reason = $2, server_version = COALESCE($3, server_version), \
                 last_probe_at = $4 WHERE id = $5 RETURNING tenant_id",
            )
            .bind(health.health)
            .bind(&health.reason)
            .bind(&health.server_version)
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let changed: Vec<Change> =
                tenant_id.map(|tenant_id| Change::ClusterHealth { tenant_id, id: id.to_owned() }).into_iter().collect();
            self.commit_for_others(tx, &changed).await
        })
        .await
    }

    /// The statuses stored for these (resource id, cluster id) pairs (those that exist).
    pub async fn statuses_of(&self, keys: &[(String, String)]) -> Result<Vec<StatusRecord>> {
        let pairs: Vec<(&str, &str)> = keys.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
        self.statuses_by_pairs("resource_id", &pairs, 256).await
    }

    /// A cluster's tenant and last recorded health.
    pub async fn cluster_health(&self, id: &str) -> Result<Option<(String, ClusterHealth)>> {
        let row: Option<(String, String, String, Option<String>)> =
            sqlx::query_as("SELECT tenant_id, health, health_reason, server_version FROM clusters WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((tenant_id, health, reason, server_version)) = row else { return Ok(None) };
        let health = match health.as_str() {
            "Ready" => "Ready",
            "Offline" => "Offline",
            _ => "Unknown",
        };
        Ok(Some((tenant_id, ClusterHealth { health, reason, server_version })))
    }

    /// The tenant of cluster `id`, if it is still registered.
    pub async fn cluster_tenant(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT tenant_id FROM clusters WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
