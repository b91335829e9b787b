//! What each member serves (its discovery, read by the engine), for the fleet's Types page.
//! Clusters serving the same set share one stored copy of it (`type_sets`, by digest).

use std::collections::HashMap;

use flotilla_domain::kinds::ServedType;

use crate::{Error, Result, Store, now_ms};

/// A cluster and the digest of the set of types it serves (`None`: not read yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTypes {
    pub cluster_id: String,
    pub cluster_name: String,
    pub digest: Option<String>,
}

/// The types a tenant's clusters serve: each cluster's set by digest.
#[derive(Debug, Clone, Default)]
pub struct FleetTypes {
    pub clusters: Vec<ClusterTypes>,
    pub sets: HashMap<String, Vec<ServedType>>,
}

impl Store {
    /// Records that cluster `id` serves `types` (sorted; `digest` their content hash). A
    /// set no cluster serves any more is removed.
    pub async fn set_cluster_types(&self, id: &str, digest: &str, types: &[ServedType]) -> Result<()> {
        let json = serde_json::to_string(types).map_err(|e| Error::Corrupt(format!("types: {e}")))?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let before: Option<Option<String>> = sqlx::query_scalar("SELECT served_types FROM clusters WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(before) = before else { return Ok(()) };
            if before.as_deref() == Some(digest) {
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO type_sets (digest, types, created_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest)
            .bind(&json)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE clusters SET served_types = $1, types_read_at = $2 WHERE id = $3")
                .bind(digest)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if let Some(old) = before {
                sqlx::query(
                    "DELETE FROM type_sets WHERE digest = $1 \
                     AND NOT EXISTS (SELECT 1 FROM clusters WHERE served_types = $1)",
                )
                .bind(old)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// What cluster `id` of `tenant_id` served when last read (`None`: unknown cluster or
    /// not read yet).
    pub async fn cluster_types(&self, tenant_id: &str, id: &str) -> Result<Option<Vec<ServedType>>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT s.types FROM clusters c JOIN type_sets s ON s.digest = c.served_types \
             WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| Error::Corrupt(format!("types of cluster {id}: {e}"))))
            .transpose()
    }

    /// The types the clusters of `tenant_id` serve, clusters by name.
    pub async fn fleet_types(&self, tenant_id: &str) -> Result<FleetTypes> {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, served_types FROM clusters WHERE tenant_id = $1 ORDER BY name")
                .bind(tenant_id)
                .fetch_all(&self.pool)
                .await?;
        let sets: Vec<(String, String)> = sqlx::query_as(
            "SELECT digest, types FROM type_sets WHERE digest IN \
             (SELECT served_types FROM clusters WHERE tenant_id = $1)",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let sets = sets
            .into_iter()
            .map(|(digest, json)| {
                let types =
                    serde_json::from_str(&json).map_err(|e| Error::Corrupt(format!("type set {digest}: {e}")))?;
                Ok((digest, types))
            })
            .collect::<Result<_>>()?;
        let clusters = rows
            .into_iter()
            .map(|(cluster_id, cluster_name, digest)| ClusterTypes { cluster_id, cluster_name, digest })
            .collect();
        Ok(FleetTypes { clusters, sets })
    }
}
