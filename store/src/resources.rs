//! Federated resources: template, placement and overrides, each change a new immutable
//! revision written in the same transaction as the resource row and its audit entry.
//!
//! A Secret's values never sit in the template column: they are split off and encrypted
//! into `secret_data_enc`, and merged back only for the engine.

use std::collections::BTreeMap;

use flotilla_domain::render::{content_hash, validate_template};
use flotilla_domain::resource::{CheckedResource, check_resource, check_same_object};
use flotilla_domain::{ClusterOverride, Placement};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::SqliteConnection;

use crate::changes::{Actor, Change};
use crate::workspaces::{audit, last_actor};
use crate::{Error, Result, Store, new_id, now_ms};

/// What happens in the members when the resource is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPolicy {
    /// Flotilla deletes the objects it created.
    #[default]
    Delete,
    /// The objects stay in the members, no longer managed.
    Orphan,
}

impl DeletionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Orphan => "orphan",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "orphan" { Self::Orphan } else { Self::Delete }
    }
}

/// A resource as a user edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceSpec {
    pub template: Value,
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub overrides: Vec<ClusterOverride>,
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Take over an object of the same name that exists in a member before Flotilla.
    #[serde(default)]
    pub adopt_existing: bool,
}

impl ResourceSpec {
    pub fn new(template: Value) -> Self {
        Self {
            template,
            placement: Placement::everywhere(),
            overrides: Vec::new(),
            deletion_policy: DeletionPolicy::Delete,
            adopt_existing: false,
        }
    }
}

/// A resource as listed (no Secret values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub id: String,
    pub workspace_id: String,
    pub project_id: Option<String>,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    pub version: i64,
    pub deleted: bool,
}

/// Where a new resource lives.
#[derive(Debug, Clone, Copy)]
pub struct ResourceHome<'a> {
    pub workspace_id: &'a str,
    /// `(project id, project name)` for namespaced resources.
    pub project: Option<(&'a str, &'a str)>,
}

/// Checks a new resource as creating it would (`project`: the project's namespace), without
/// creating it. The rules are the domain's (`flotilla_domain::resource`).
pub fn check_new(spec: &ResourceSpec, project: Option<&str>) -> Result<()> {
    check(spec, project).map(|_| ())
}

/// Checks a new revision of `current` as saving it would (`project`: the project's
/// namespace), without saving.
pub fn check_update(current: &ResourceRecord, spec: &ResourceSpec, project: Option<&str>) -> Result<()> {
    let checked = check(spec, project)?;
    Ok(check_same_object(&current.api_version, &current.kind, &current.name, &checked.key)?)
}

fn check(spec: &ResourceSpec, project: Option<&str>) -> Result<CheckedResource> {
    Ok(check_resource(&spec.template, &spec.placement, &spec.overrides, project)?)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Corrupt(e.to_string()))
}

impl Store {
    /// Creates a federated resource with revision 1. Returns its id.
    #[tracing::instrument(skip(self, actor, spec))]
    pub async fn create_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        home: ResourceHome<'_>,
        spec: &ResourceSpec,
    ) -> Result<String> {
        let mut tx = self.write_tx().await?;
        let id = self.insert_resource(&mut tx, tenant_id, actor, home, spec).await?;
        tx.commit().await?;
        self.changes.publish(Change::Resource { tenant_id: tenant_id.to_owned(), id: id.clone() });
        Ok(id)
    }

    /// The insert itself, inside the caller's transaction (projects create their namespace
    /// resource with it).
    pub(crate) async fn insert_resource(
        &self,
        conn: &mut SqliteConnection,
        tenant_id: &str,
        actor: &Actor,
        home: ResourceHome<'_>,
        spec: &ResourceSpec,
    ) -> Result<String> {
        let checked = if home.project.is_some() && is_namespace(&spec.template) {
            // The project's own namespace (created with the project).
            let key = validate_template(&spec.template, None)?;
            CheckedResource { key, template: spec.template.clone(), secret_values: None }
        } else {
            check(spec, home.project.map(|(_, name)| name))?
        };
        let (workspace_ok, project_ok): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2), \
                    ($3 IS NULL OR EXISTS (SELECT 1 FROM projects WHERE tenant_id = $1 AND id = $3 AND workspace_id = $2))",
        )
        .bind(tenant_id)
        .bind(home.workspace_id)
        .bind(home.project.map(|(id, _)| id))
        .fetch_one(&mut *conn)
        .await?;
        if !workspace_ok {
            return Err(Error::NotFound("workspace"));
        }
        if !project_ok {
            return Err(Error::NotFound("project"));
        }
        let key = &checked.key;
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT id FROM federated_resources WHERE workspace_id = $1 AND project_id IS $2 \
             AND api_version = $3 AND kind = $4 AND name = $5",
        )
        .bind(home.workspace_id)
        .bind(home.project.map(|(id, _)| id))
        .bind(&key.api_version)
        .bind(&key.kind)
        .bind(&key.name)
        .fetch_optional(&mut *conn)
        .await?;
        if taken.is_some() {
            return Err(flotilla_domain::Error::invalid("template", format!("{key} already exists here")).into());
        }
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO federated_resources (id, tenant_id, workspace_id, project_id, api_version, kind, name, \
             current_revision, deletion_policy, adopt_existing, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(home.workspace_id)
        .bind(home.project.map(|(id, _)| id))
        .bind(&key.api_version)
        .bind(&key.kind)
        .bind(&key.name)
        .bind(spec.deletion_policy.as_str())
        .bind(spec.adopt_existing)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        self.insert_revision(&mut *conn, tenant_id, actor, &id, 1, spec, &checked, "created").await?;
        audit(tenant_id, actor, "resource.create", &id, &key.to_string())
            .detail(serde_json::json!({ "revision": 1 }))
            .insert(&mut *conn)
            .await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_revision(
        &self,
        conn: &mut SqliteConnection,
        tenant_id: &str,
        actor: &Actor,
        id: &str,
        revision: i64,
        spec: &ResourceSpec,
        checked: &CheckedResource,
        message: &str,
    ) -> Result<()> {
        let secret_enc = match &checked.secret_values {
            Some(values) => Some(self.cipher.encrypt_str(&to_json(values)?)?),
            None => None,
        };
        let placement = to_json(&spec.placement)?;
        let overrides = to_json(&spec.overrides)?;
        let fingerprint = serde_json::json!({
            "template": checked.template, "placement": spec.placement, "overrides": spec.overrides,
            "values": checked.secret_values, "deletion": spec.deletion_policy, "adopt": spec.adopt_existing,
        });
        sqlx::query(
            "INSERT INTO resource_revisions (tenant_id, resource_id, revision, template, secret_data_enc, placement, \
             overrides, content_hash, author_id, author_name, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(revision)
        .bind(to_json(&checked.template)?)
        .bind(secret_enc)
        .bind(placement)
        .bind(overrides)
        .bind(content_hash(&fingerprint))
        .bind(&actor.id)
        .bind(&actor.name)
        .bind(message)
        .bind(now_ms())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Saves a new revision of resource `id`, if nobody changed it since `expected_version`.
    /// A Secret template without `data`/`stringData` keeps the previous values. Returns the
    /// new revision number.
    #[tracing::instrument(skip(self, actor, spec))]
    pub async fn update_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        spec: &ResourceSpec,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let current = live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
        let project_name: Option<String> = match &current.project_id {
            Some(pid) => {
                sqlx::query_scalar("SELECT name FROM projects WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(pid)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        let mut checked = if current.kind == "Namespace" && current.project_id.is_some() {
            let key = validate_template(&spec.template, None)?;
            CheckedResource { key, template: spec.template.clone(), secret_values: None }
        } else {
            check(spec, project_name.as_deref())?
        };
        check_same_object(&current.api_version, &current.kind, &current.name, &checked.key)?;
        let key = &checked.key;
        if key.kind == "Secret" && checked.secret_values.is_none() {
            checked.secret_values = self.secret_values(&mut tx, id, current.revision).await?;
        }
        let revision = current.revision + 1;
        self.insert_revision(&mut tx, tenant_id, actor, id, revision, spec, &checked, "updated").await?;
        sqlx::query(
            "UPDATE federated_resources SET current_revision = $1, deletion_policy = $2, adopt_existing = $3, \
             updated_at = $4, version = version + 1 WHERE tenant_id = $5 AND id = $6",
        )
        .bind(revision)
        .bind(spec.deletion_policy.as_str())
        .bind(spec.adopt_existing)
        .bind(now_ms())
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit(tenant_id, actor, "resource.update", id, &key.to_string())
            .detail(serde_json::json!({ "revision": revision }))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        self.changes.publish(Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() });
        Ok(revision)
    }

    /// Marks resource `id` deleted, if nobody changed it since `expected_version`. The engine
    /// removes it from the members (or leaves the objects there, unmanaged, for
    /// [`DeletionPolicy::Orphan`]) and then purges the row.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        policy: DeletionPolicy,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let current = live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
        if current.kind == "Namespace" && current.project_id.is_some() {
            return Err(
                flotilla_domain::Error::invalid("resource", "a project's namespace goes with the project").into()
            );
        }
        sqlx::query(
            "UPDATE federated_resources SET deleted_at = $1, updated_at = $1, deletion_policy = $2, \
             version = version + 1 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(now_ms())
        .bind(policy.as_str())
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let name = format!("{} {}", current.kind, current.name);
        audit(tenant_id, actor, "resource.delete", id, &name)
            .detail(serde_json::json!({ "policy": policy.as_str() }))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        self.changes.publish(Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() });
        Ok(())
    }

    /// Removes a deleted resource for good, once no member holds it any more (engine).
    #[tracing::instrument(skip(self))]
    pub async fn purge_resource(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM federated_resources WHERE id = $1 AND deleted_at IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM propagation_status WHERE resource_id = $1)",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One resource of the tenant (deleted ones included until purged).
    pub async fn get_resource(&self, tenant_id: &str, id: &str) -> Result<ResourceRecord> {
        let mut conn = self.pool.acquire().await?;
        resource_row(&mut conn, tenant_id, id).await
    }

    /// The resources of a workspace (`project_id` None: its cluster-scoped ones) or project.
    pub async fn list_resources(
        &self,
        tenant_id: &str,
        workspace_id: &str,
        project_id: Option<&str>,
    ) -> Result<Vec<ResourceRecord>> {
        let rows = sqlx::query_as::<_, ResourceRow>(
            "SELECT id, workspace_id, project_id, api_version, kind, name, current_revision, version, \
             deleted_at IS NOT NULL AS deleted FROM federated_resources \
             WHERE tenant_id = $1 AND workspace_id = $2 AND project_id IS $3 ORDER BY kind, name",
        )
        .bind(tenant_id)
        .bind(workspace_id)
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ResourceRow::into_record).collect())
    }

    /// A resource's deletion policy and adoption flag.
    pub(crate) async fn resource_policy(
        &self,
        conn: &mut SqliteConnection,
        id: &str,
    ) -> Result<(DeletionPolicy, bool)> {
        let (policy, adopt): (String, bool) =
            sqlx::query_as("SELECT deletion_policy, adopt_existing FROM federated_resources WHERE id = $1")
                .bind(id)
                .fetch_one(conn)
                .await?;
        Ok((DeletionPolicy::parse(&policy), adopt))
    }

    pub(crate) async fn secret_values(
        &self,
        conn: &mut SqliteConnection,
        id: &str,
        revision: i64,
    ) -> Result<Option<BTreeMap<String, String>>> {
        let enc: Option<Option<String>> = sqlx::query_scalar(
            "SELECT secret_data_enc FROM resource_revisions WHERE resource_id = $1 AND revision = $2",
        )
        .bind(id)
        .bind(revision)
        .fetch_optional(conn)
        .await?;
        match enc.flatten() {
            Some(enc) => {
                let plain = self.cipher.decrypt_string(&enc)?;
                let values = serde_json::from_str(plain.expose_secret())
                    .map_err(|e| Error::Corrupt(format!("secret values of {id}: {e}")))?;
                Ok(Some(values))
            }
            None => Ok(None),
        }
    }
}

fn is_namespace(template: &Value) -> bool {
    template.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && template.get("kind").and_then(Value::as_str) == Some("Namespace")
}

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: String,
    workspace_id: String,
    project_id: Option<String>,
    api_version: String,
    kind: String,
    name: String,
    current_revision: i64,
    version: i64,
    deleted: bool,
}

impl ResourceRow {
    fn into_record(self) -> ResourceRecord {
        ResourceRecord {
            id: self.id,
            workspace_id: self.workspace_id,
            project_id: self.project_id,
            api_version: self.api_version,
            kind: self.kind,
            name: self.name,
            revision: self.current_revision,
            version: self.version,
            deleted: self.deleted,
        }
    }
}

/// Resource `id`, if it is not deleted and nobody changed it since `expected_version`
/// (else who did, as [`Error::Stale`]).
pub(crate) async fn live_resource_at(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    id: &str,
    expected_version: i64,
) -> Result<ResourceRecord> {
    let current = resource_row(&mut *conn, tenant_id, id).await?;
    if current.deleted {
        return Err(Error::NotFound("resource"));
    }
    if current.version != expected_version {
        return Err(Error::Stale { what: "resource", by: last_actor(conn, tenant_id, id).await? });
    }
    Ok(current)
}

pub(crate) async fn resource_row(conn: &mut SqliteConnection, tenant_id: &str, id: &str) -> Result<ResourceRecord> {
    let row = sqlx::query_as::<_, ResourceRow>(
        "SELECT id, workspace_id, project_id, api_version, kind, name, current_revision, version, \
         deleted_at IS NOT NULL AS deleted FROM federated_resources WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("resource"))?;
    Ok(row.into_record())
}
