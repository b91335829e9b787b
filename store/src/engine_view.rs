//! What the engine reads: every tenant's clusters (with decrypted credentials), workspaces,
//! projects and live resources at their current revision (Secret values merged back), and
//! each one's version alone ([`EngineVersions`], for the engine's periodic catch-up).
//! Nothing here is for the web layer.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use flotilla_domain::{Clearance, ClusterOverride, Placement, PodSecurity};
use secrecy::SecretString;
use serde_json::Value;

use crate::resources::DeletionPolicy;
use crate::{Error, Result, Store};

/// A cluster as the engine connects to it.
#[derive(Clone)]
pub struct EngineCluster {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub api_server_url: String,
    pub ca_pem: Option<String>,
    pub token: SecretString,
    /// `Some("cleanup" | "leave")` while being deregistered.
    pub deregistering: Option<String>,
    /// Bumped by every change the engine cares about (as is each type's below).
    pub version: i64,
}

impl std::fmt::Debug for EngineCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineCluster").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EngineWorkspace {
    pub id: String,
    pub tenant_id: String,
    pub selector: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EngineProject {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub name: String,
    pub selector: String,
    /// What its pods must meet (the engine checks each rendered pod template against it).
    #[sqlx(try_from = "String")]
    pub pod_security: PodSecurity,
    pub version: i64,
}

/// A resource at its current revision.
#[derive(Debug, Clone)]
pub struct EngineResource {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub project_id: Option<String>,
    pub revision: i64,
    /// The template with Secret values merged back.
    pub template: Value,
    pub placement: Placement,
    pub overrides: Vec<ClusterOverride>,
    pub deletion_policy: DeletionPolicy,
    pub adopt_existing: bool,
    pub deleted: bool,
    /// What the revision's author was cleared to write (`flotilla_domain::policy`).
    pub clearance: Clearance,
    /// Set while a rollout moves it: clusters not released render the stable revision.
    pub hold: Option<EngineHold>,
    pub version: i64,
}

/// A resource held by a rollout.
#[derive(Debug, Clone)]
pub struct EngineHold {
    pub rollout_id: String,
    /// The revision every cluster not released holds; `None`: the resource is new in the
    /// rollout, and absent there.
    pub stable: Option<StableRevision>,
    /// The clusters (ids) that render the current revision.
    pub released: BTreeSet<String>,
}

/// The stable revision of a held resource, ready to render (its placement is the current
/// revision's).
#[derive(Debug, Clone)]
pub struct StableRevision {
    pub revision: i64,
    pub template: Value,
    pub overrides: Vec<ClusterOverride>,
    pub clearance: Clearance,
}

/// Every row the engine reads, by id, with its version: what the engine's periodic catch-up
/// compares with what it holds, reading ids and numbers only (nothing decrypted or parsed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineVersions {
    pub clusters: HashMap<String, i64>,
    pub workspaces: HashMap<String, i64>,
    pub projects: HashMap<String, i64>,
    pub resources: HashMap<String, i64>,
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    id: String,
    tenant_id: String,
    name: String,
    labels: String,
    api_server_url: String,
    ca_data: Option<String>,
    credentials_enc: String,
    deregistering: Option<String>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: String,
    tenant_id: String,
    workspace_id: String,
    project_id: Option<String>,
    current_revision: i64,
    deletion_policy: String,
    #[sqlx(try_from = "crate::flag::Flag")]
    adopt_existing: bool,
    #[sqlx(try_from = "crate::flag::Flag")]
    deleted: bool,
    template: String,
    secret_data_enc: Option<String>,
    placement: String,
    overrides: String,
    clearance: String,
    version: i64,
}

const CLUSTER_SQL: &str = "SELECT id, tenant_id, name, labels, api_server_url, ca_data, credentials_enc, deregistering, \
     version FROM clusters";
const RESOURCE_SQL: &str = "SELECT r.id, r.tenant_id, r.workspace_id, r.project_id, r.current_revision, \
     r.deletion_policy, CAST(r.adopt_existing AS INTEGER) AS adopt_existing, r.deleted_at IS NOT NULL AS deleted, v.template, v.secret_data_enc, \
     v.placement, v.overrides, v.clearance, r.version FROM federated_resources r \
     JOIN resource_revisions v ON v.resource_id = r.id AND v.revision = r.current_revision";

impl Store {
    pub async fn engine_clusters(&self) -> Result<Vec<EngineCluster>> {
        let rows = sqlx::query_as::<_, ClusterRow>(CLUSTER_SQL).fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| self.engine_cluster_from(r)).collect()
    }

    /// `None` when the cluster is gone.
    pub async fn engine_cluster(&self, id: &str) -> Result<Option<EngineCluster>> {
        let row = sqlx::query_as::<_, ClusterRow>(sqlx::AssertSqlSafe(format!("{CLUSTER_SQL} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.engine_cluster_from(r)).transpose()
    }

    fn engine_cluster_from(&self, r: ClusterRow) -> Result<EngineCluster> {
        let labels =
            serde_json::from_str(&r.labels).map_err(|e| Error::Corrupt(format!("labels of {}: {e}", r.name)))?;
        let token = crate::clusters::decrypt_token(&self.cipher, &r.credentials_enc)?;
        Ok(EngineCluster {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            labels,
            api_server_url: r.api_server_url,
            ca_pem: r.ca_data,
            token,
            deregistering: r.deregistering,
            version: r.version,
        })
    }

    /// The version of every row the engine reads (see [`EngineVersions`]).
    pub async fn engine_versions(&self) -> Result<EngineVersions> {
        let read = |table: &'static str| async move {
            let rows: Vec<(String, i64)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, version FROM {table}")))
                    .fetch_all(&self.pool)
                    .await?;
            Ok::<_, Error>(rows.into_iter().collect::<HashMap<_, _>>())
        };
        Ok(EngineVersions {
            clusters: read("clusters").await?,
            workspaces: read("workspaces").await?,
            projects: read("projects").await?,
            // A resource is the engine's while its current revision row exists.
            resources: read("federated_resources").await?,
        })
    }

    pub async fn engine_workspaces(&self) -> Result<Vec<EngineWorkspace>> {
        Ok(sqlx::query_as("SELECT id, tenant_id, selector, version FROM workspaces").fetch_all(&self.pool).await?)
    }

    pub async fn engine_workspace(&self, id: &str) -> Result<Option<EngineWorkspace>> {
        Ok(sqlx::query_as("SELECT id, tenant_id, selector, version FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn engine_projects(&self) -> Result<Vec<EngineProject>> {
        Ok(sqlx::query_as("SELECT id, tenant_id, workspace_id, name, selector, pod_security, version FROM projects")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn engine_project(&self, id: &str) -> Result<Option<EngineProject>> {
        Ok(sqlx::query_as(
            "SELECT id, tenant_id, workspace_id, name, selector, pod_security, version FROM projects WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn engine_resources(&self) -> Result<Vec<EngineResource>> {
        let rows = sqlx::query_as::<_, ResourceRow>(RESOURCE_SQL).fetch_all(&self.pool).await?;
        let mut holds = self.holds(None).await?;
        let mut resources: Vec<EngineResource> =
            rows.into_iter().map(|r| self.engine_resource_from(r)).collect::<Result<_>>()?;
        for r in &mut resources {
            if let Some(hold) = holds.remove(&r.id) {
                r.hold = Some(self.engine_hold(&r.id, hold).await?);
            }
        }
        Ok(resources)
    }

    async fn engine_hold(&self, resource_id: &str, hold: crate::rollouts::HoldRow) -> Result<EngineHold> {
        let stable = match hold.from_revision {
            Some(revision) => {
                let row: Option<(String, Option<String>, String, String)> = sqlx::query_as(
                    "SELECT template, secret_data_enc, overrides, clearance FROM resource_revisions \
                     WHERE resource_id = $1 AND revision = $2",
                )
                .bind(resource_id)
                .bind(revision)
                .fetch_optional(&self.pool)
                .await?;
                let (template, secret, overrides, clearance) = row.ok_or_else(|| {
                    Error::Corrupt(format!("the stable revision {revision} of resource {resource_id} is gone"))
                })?;
                let corrupt =
                    |what: &str, e: serde_json::Error| Error::Corrupt(format!("{what} of resource {resource_id}: {e}"));
                Some(StableRevision {
                    revision,
                    template: self.template_with_values(&template, secret.as_deref(), resource_id)?,
                    overrides: serde_json::from_str(&overrides).map_err(|e| corrupt("overrides", e))?,
                    clearance: Clearance::parse(&clearance),
                })
            }
            None => None,
        };
        Ok(EngineHold { rollout_id: hold.rollout_id, stable, released: hold.released })
    }

    /// A stored template with a Secret's values decrypted and merged back.
    fn template_with_values(&self, template: &str, secret_data_enc: Option<&str>, id: &str) -> Result<Value> {
        let corrupt = |what: &str, e: serde_json::Error| Error::Corrupt(format!("{what} of resource {id}: {e}"));
        let mut template: Value = serde_json::from_str(template).map_err(|e| corrupt("template", e))?;
        if let Some(enc) = secret_data_enc {
            let plain = self.cipher.decrypt_string(enc)?;
            let values: Value =
                serde_json::from_str(secrecy::ExposeSecret::expose_secret(&plain)).map_err(|e| corrupt("values", e))?;
            if let Some(obj) = template.as_object_mut() {
                obj.insert("data".into(), values);
            }
        }
        Ok(template)
    }

    /// `None` when the resource is gone (purged or its project/workspace deleted).
    pub async fn engine_resource(&self, id: &str) -> Result<Option<EngineResource>> {
        let row = sqlx::query_as::<_, ResourceRow>(sqlx::AssertSqlSafe(format!("{RESOURCE_SQL} WHERE r.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut resource) = row.map(|r| self.engine_resource_from(r)).transpose()? else { return Ok(None) };
        if let Some(hold) = self.holds(Some(id)).await?.remove(id) {
            resource.hold = Some(self.engine_hold(id, hold).await?);
        }
        Ok(Some(resource))
    }

    fn engine_resource_from(&self, r: ResourceRow) -> Result<EngineResource> {
        let corrupt = |what: &str, e: serde_json::Error| Error::Corrupt(format!("{what} of resource {}: {e}", r.id));
        let template = self.template_with_values(&r.template, r.secret_data_enc.as_deref(), &r.id)?;
        Ok(EngineResource {
            placement: serde_json::from_str(&r.placement).map_err(|e| corrupt("placement", e))?,
            overrides: serde_json::from_str(&r.overrides).map_err(|e| corrupt("overrides", e))?,
            id: r.id,
            tenant_id: r.tenant_id,
            workspace_id: r.workspace_id,
            project_id: r.project_id,
            revision: r.current_revision,
            template,
            deletion_policy: DeletionPolicy::parse(&r.deletion_policy),
            adopt_existing: r.adopt_existing,
            deleted: r.deleted,
            clearance: Clearance::parse(&r.clearance),
            hold: None,
            version: r.version,
        })
    }
}
