//! A resource's history: its revisions as a user reads them, one revision's whole spec (with
//! a Secret's values, for the server only), and reverting to one (a new revision equal to it).

use std::collections::BTreeMap;

use flotilla_domain::policy::{self, Clearance};
use flotilla_domain::{ClusterOverride, Placement};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::changes::{Actor, Change};
use crate::resources::{ProjectScope, ResourceRecord, ResourceSpec, live_resource_at, policy_home, resource_row};
use crate::workspaces::audit;
use crate::{Error, Result, Store, now_ms};

/// One revision as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RevisionRecord {
    pub revision: i64,
    pub author_name: String,
    /// `created`, `updated` or `reverted to N`.
    pub message: String,
    pub reverted_from: Option<i64>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// One revision's spec. A Secret's template carries no values: they are in
/// `secret_values` (base64, decrypted), which must never leave the server.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRevision {
    pub record: ResourceRecord,
    pub revision: i64,
    pub spec: ResourceSpec,
    pub secret_values: Option<BTreeMap<String, String>>,
}

#[derive(sqlx::FromRow)]
struct SpecRow {
    template: String,
    secret_data_enc: Option<String>,
    placement: String,
    overrides: String,
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

impl Store {
    /// The revisions of resource `id`, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_revisions(&self, tenant_id: &str, id: &str) -> Result<Vec<RevisionRecord>> {
        let mut conn = self.pool.acquire().await?;
        resource_row(&mut conn, tenant_id, id).await?;
        let rows = sqlx::query_as::<_, RevisionRecord>(
            "SELECT revision, author_name, message, reverted_from, created_at FROM resource_revisions \
             WHERE tenant_id = $1 AND resource_id = $2 ORDER BY revision DESC",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows)
    }

    /// Revision `revision` of resource `id` (`None`: the current one). Deletion policy and
    /// adoption are the resource's current ones (revisions do not keep them).
    #[tracing::instrument(skip(self))]
    pub async fn resource_revision(&self, tenant_id: &str, id: &str, revision: Option<i64>) -> Result<StoredRevision> {
        let mut conn = self.pool.acquire().await?;
        let record = resource_row(&mut conn, tenant_id, id).await?;
        let revision = revision.unwrap_or(record.revision);
        let row = sqlx::query_as::<_, SpecRow>(
            "SELECT template, secret_data_enc, placement, overrides FROM resource_revisions \
             WHERE tenant_id = $1 AND resource_id = $2 AND revision = $3",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(revision)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("revision"))?;
        let (deletion_policy, adopt_existing) = self.resource_policy(&mut conn, id).await?;
        let secret_values = match &row.secret_data_enc {
            Some(enc) => {
                use secrecy::ExposeSecret;
                let plain = self.cipher.decrypt_string(enc)?;
                Some(from_json::<BTreeMap<String, String>>("secret values", plain.expose_secret())?)
            }
            None => None,
        };
        let spec = ResourceSpec {
            template: from_json::<Value>("template", &row.template)?,
            placement: from_json::<Placement>("placement", &row.placement)?,
            overrides: from_json::<Vec<ClusterOverride>>("overrides", &row.overrides)?,
            deletion_policy,
            adopt_existing,
        };
        Ok(StoredRevision { record, revision, spec, secret_values })
    }

    /// Makes a new revision equal to revision `to` of resource `id` (Secret values included),
    /// if nobody changed the resource since `expected_version`. Returns the new revision.
    #[tracing::instrument(skip(self, actor))]
    pub async fn revert_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        expected_version: i64,
        to: i64,
    ) -> Result<i64> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
            if to == current.revision {
                return Err(flotilla_domain::Error::invalid("revision", format!("revision {to} is the current one")).into());
            }
            // Both what is there now and what it returns to must be the reverter's to write.
            let project = self.may_replace(&mut tx, tenant_id, &current, clearance).await?;
            let scope = project.as_ref().map(|(name, level)| ProjectScope { namespace: name, pod_security: *level });
            let target: Option<(String, String)> = sqlx::query_as(
                "SELECT template, overrides FROM resource_revisions WHERE tenant_id = $1 AND resource_id = $2 AND revision = $3",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(to)
            .fetch_optional(&mut *tx)
            .await?;
            let (template, overrides) = target.ok_or(Error::NotFound("revision"))?;
            let template: Value = from_json("template", &template)?;
            let overrides: Vec<ClusterOverride> = from_json("overrides", &overrides)?;
            policy::check_with_overrides(&template, &overrides, policy_home(scope, &template), clearance)?;
            let revision = current.revision + 1;
            let copied = sqlx::query(
                "INSERT INTO resource_revisions (tenant_id, resource_id, revision, template, secret_data_enc, placement, \
                 overrides, content_hash, author_id, author_name, message, reverted_from, created_at, clearance) \
                 SELECT tenant_id, resource_id, $1, template, secret_data_enc, placement, overrides, content_hash, \
                 $2, $3, $4, revision, $5, $9 FROM resource_revisions \
                 WHERE tenant_id = $6 AND resource_id = $7 AND revision = $8",
            )
            .bind(revision)
            .bind(&actor.id)
            .bind(&actor.name)
            .bind(format!("reverted to {to}"))
            .bind(now_ms())
            .bind(tenant_id)
            .bind(id)
            .bind(to)
            .bind(clearance.as_str())
            .execute(&mut *tx)
            .await?;
            if copied.rows_affected() != 1 {
                return Err(Error::NotFound("revision"));
            }
            crate::resources::prune_revisions(&mut tx, id, revision).await?;
            sqlx::query(
                "UPDATE federated_resources SET current_revision = $1, updated_at = $2, version = version + 1 \
                 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(revision)
            .bind(now_ms())
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit(tenant_id, actor, "resource.revert", id, &format!("{} {}", current.kind, current.name))
                .detail(serde_json::json!({ "revision": revision, "reverted_to": to }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(revision)
        })
        .await
    }
}
