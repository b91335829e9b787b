//! Federated resources: template, placement and overrides, each change a new immutable
//! revision written in the same transaction as the resource row and its audit entry.
//!
//! A Secret's values never sit in the template column: they are split off and encrypted
//! into `secret_data_enc`, and merged back only for the engine.

use std::collections::BTreeMap;

use crate::flag::Flag;
use flotilla_domain::limits::{MAX_RESOURCES_PER_HOME, REVISIONS_KEPT};
use flotilla_domain::policy::{self, Clearance, PodSecurity};
use flotilla_domain::render::{content_hash, validate_template};
use flotilla_domain::resource::{CheckedResource, check_resource, check_same_object};
use flotilla_domain::{ClusterOverride, Placement};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;

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

/// A project as the rules for its resources see it: its namespace and Pod Security level.
#[derive(Debug, Clone, Copy)]
pub struct ProjectScope<'a> {
    pub namespace: &'a str,
    pub pod_security: PodSecurity,
}

/// Checks a new resource as creating it would (`project`: the project's namespace and level,
/// `None` in a workspace), as someone with `clearance` there, without creating it. The rules
/// are the domain's (`flotilla_domain::resource`, `flotilla_domain::policy`).
pub fn check_new(spec: &ResourceSpec, project: Option<ProjectScope<'_>>, clearance: Clearance) -> Result<()> {
    check(spec, project, clearance).map(|_| ())
}

/// Checks a new revision of `current` as saving it would, without saving: the new content
/// must be the author's to write, and so must the current one (an editor cannot rewrite what
/// only a tenant admin could have written).
pub fn check_update(
    current: &ResourceRecord,
    current_template: &Value,
    spec: &ResourceSpec,
    project: Option<ProjectScope<'_>>,
    clearance: Clearance,
) -> Result<()> {
    let checked = check(spec, project, clearance)?;
    check_same_object(&current.api_version, &current.kind, &current.name, &checked.key)?;
    check_removal(current_template, project, clearance)
}

/// Checks that someone with `clearance` may remove `current_template` (or replace it), as
/// deleting or reverting would, without doing it.
pub fn check_removal(current_template: &Value, project: Option<ProjectScope<'_>>, clearance: Clearance) -> Result<()> {
    Ok(policy::check_removal(current_template, policy_home(project, current_template), clearance)?)
}

/// The policy's home for `template` in `project`: a project's own Namespace is cluster-scoped.
pub(crate) fn policy_home<'a>(project: Option<ProjectScope<'a>>, template: &Value) -> policy::Home<'a> {
    match project {
        Some(p) if !is_namespace(template) => {
            policy::Home { namespace: Some(p.namespace), pod_security: p.pod_security }
        }
        Some(p) => policy::Home { namespace: None, pod_security: p.pod_security },
        None => policy::Home { namespace: None, pod_security: PodSecurity::default() },
    }
}

fn check(spec: &ResourceSpec, project: Option<ProjectScope<'_>>, clearance: Clearance) -> Result<CheckedResource> {
    let checked = check_resource(&spec.template, &spec.placement, &spec.overrides, project.map(|p| p.namespace))?;
    let home = policy_home(project, &spec.template);
    policy::check_with_overrides(&spec.template, &spec.overrides, home, clearance)?;
    Ok(checked)
}

/// The namespace and Pod Security level of project `id`, if it still exists.
pub(crate) async fn project_scope_row(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(String, PodSecurity)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, pod_security FROM projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(name, level)| (name, PodSecurity::parse(&level).unwrap_or_default())))
}

/// Removes the revisions of resource `id` that fall out of the last [`REVISIONS_KEPT`] now
/// that `current` was saved, except the stable revision an active rollout holds clusters at.
pub(crate) async fn prune_revisions(conn: &mut AnyConnection, id: &str, current: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM resource_revisions WHERE resource_id = $1 AND revision <= $2 \
         AND revision NOT IN (SELECT from_revision FROM rollout_resources \
         WHERE resource_id = $1 AND active AND from_revision IS NOT NULL)",
    )
    .bind(id)
    .bind(current - REVISIONS_KEPT)
    .execute(conn)
    .await?;
    Ok(())
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
        clearance: Clearance,
        home: ResourceHome<'_>,
        spec: &ResourceSpec,
    ) -> Result<String> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let id = self.insert_resource(&mut tx, tenant_id, actor, clearance, home, spec).await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: id.clone() }]).await?;
            Ok(id)
        })
        .await
    }

    /// The insert itself, inside the caller's transaction (projects create their namespace
    /// resource with it).
    pub(crate) async fn insert_resource(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        home: ResourceHome<'_>,
        spec: &ResourceSpec,
    ) -> Result<String> {
        let level = match home.project {
            Some((project_id, _)) => project_scope_row(&mut *conn, tenant_id, project_id).await?.map(|(_, l)| l),
            None => None,
        };
        let scope =
            home.project.map(|(_, name)| ProjectScope { namespace: name, pod_security: level.unwrap_or_default() });
        let checked = if home.project.is_some() && is_namespace(&spec.template) {
            // The project's own namespace (created with the project).
            let key = validate_template(&spec.template, None)?;
            policy::check(&spec.template, policy_home(scope, &spec.template), clearance)?;
            CheckedResource { key, template: spec.template.clone(), secret_values: None }
        } else {
            check(spec, scope, clearance)?
        };
        let (Flag(workspace_ok), Flag(project_ok)): (Flag, Flag) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL), \
                    ($3 IS NULL OR EXISTS (SELECT 1 FROM projects WHERE tenant_id = $1 AND id = $3 AND workspace_id = $2 \
                     AND deleted_at IS NULL))",
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
            "SELECT id FROM federated_resources WHERE workspace_id = $1 AND project_id IS NOT DISTINCT FROM $2 \
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
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM federated_resources WHERE tenant_id = $1 AND workspace_id = $2 AND project_id IS NOT DISTINCT FROM $3",
        )
        .bind(tenant_id)
        .bind(home.workspace_id)
        .bind(home.project.map(|(id, _)| id))
        .fetch_one(&mut *conn)
        .await?;
        if held >= MAX_RESOURCES_PER_HOME {
            let home = if home.project.is_some() { "project" } else { "workspace" };
            return Err(flotilla_domain::Error::invalid(
                "template",
                format!(
                    "this {home} holds {held} resources, the most one may hold: remove some, or use another {home}"
                ),
            )
            .into());
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
        let author = Author { actor, clearance };
        self.insert_revision(&mut *conn, tenant_id, author, &id, 1, spec, &checked, "created").await?;
        audit(tenant_id, actor, "resource.create", &id, &key.to_string())
            .detail(serde_json::json!({ "revision": 1 }))
            .insert(&mut *conn)
            .await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_revision(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        author: Author<'_>,
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
             overrides, content_hash, author_id, author_name, message, created_at, clearance) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(revision)
        .bind(to_json(&checked.template)?)
        .bind(secret_enc)
        .bind(placement)
        .bind(overrides)
        .bind(content_hash(&fingerprint))
        .bind(&author.actor.id)
        .bind(&author.actor.name)
        .bind(message)
        .bind(now_ms())
        .bind(author.clearance.as_str())
        .execute(&mut *conn)
        .await?;
        prune_revisions(conn, id, revision).await
    }

    /// Saves a new revision of resource `id`, if nobody changed it since `expected_version`.
    /// A Secret template without `data`/`stringData` keeps the previous values. Returns the
    /// new revision number.
    #[tracing::instrument(skip(self, actor, spec))]
    pub async fn update_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        expected_version: i64,
        spec: &ResourceSpec,
    ) -> Result<i64> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
            let (revision, key) =
                self.replace_in(&mut tx, tenant_id, Author { actor, clearance }, &current, spec, "updated").await?;
            audit(tenant_id, actor, "resource.update", id, &key.to_string())
                .detail(serde_json::json!({ "revision": revision }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(revision)
        })
        .await
    }

    /// Saves `spec` as the next revision of `current` inside the caller's transaction, after
    /// the same checks as an edit (the author's clearance, the same object). Returns the new
    /// revision and the object's key.
    pub(crate) async fn replace_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        author: Author<'_>,
        current: &ResourceRecord,
        spec: &ResourceSpec,
        message: &str,
    ) -> Result<(i64, flotilla_domain::ObjectKey)> {
        let id = current.id.as_str();
        let project = self.may_replace(&mut *conn, tenant_id, current, author.clearance).await?;
        let scope = project.as_ref().map(|(name, level)| ProjectScope { namespace: name, pod_security: *level });
        let mut checked = if current.kind == "Namespace" && current.project_id.is_some() {
            let key = validate_template(&spec.template, None)?;
            // The project's own namespace is cluster-scoped.
            policy::check(&spec.template, policy_home(None, &spec.template), author.clearance)?;
            CheckedResource { key, template: spec.template.clone(), secret_values: None }
        } else {
            check(spec, scope, author.clearance)?
        };
        check_same_object(&current.api_version, &current.kind, &current.name, &checked.key)?;
        if checked.key.kind == "Secret" && checked.secret_values.is_none() {
            checked.secret_values = self.secret_values(&mut *conn, id, current.revision).await?;
        }
        let revision = current.revision + 1;
        self.insert_revision(&mut *conn, tenant_id, author, id, revision, spec, &checked, message).await?;
        let done = sqlx::query(
            "UPDATE federated_resources SET current_revision = $1, deletion_policy = $2, adopt_existing = $3, \
             updated_at = $4, version = version + 1 WHERE tenant_id = $5 AND id = $6 AND version = $7",
        )
        .bind(revision)
        .bind(spec.deletion_policy.as_str())
        .bind(spec.adopt_existing)
        .bind(now_ms())
        .bind(tenant_id)
        .bind(id)
        .bind(current.version)
        .execute(&mut *conn)
        .await?;
        crate::workspaces::still_at_version(&mut *conn, done, "resource", tenant_id, id).await?;
        Ok((revision, checked.key))
    }

    /// Marks resource `id` deleted, if nobody changed it since `expected_version`. The engine
    /// removes it from the members (or leaves the objects there, unmanaged, for
    /// [`DeletionPolicy::Orphan`]) and then purges the row.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_resource(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        expected_version: i64,
        policy: DeletionPolicy,
    ) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
            if current.kind == "Namespace" && current.project_id.is_some() {
                return Err(
                    flotilla_domain::Error::invalid("resource", "a project's namespace goes with the project").into()
                );
            }
            self.may_replace(&mut tx, tenant_id, &current, clearance).await?;
            mark_deleted(&mut tx, tenant_id, id, policy, now_ms()).await?;
            let name = format!("{} {}", current.kind, current.name);
            audit(tenant_id, actor, "resource.delete", id, &name)
                .detail(serde_json::json!({ "policy": policy.as_str() }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(())
        })
        .await
    }

    /// Removes a deleted resource for good, once no member holds it any more (engine).
    #[tracing::instrument(skip(self))]
    pub async fn purge_resource(&self, id: &str) -> Result<bool> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let home: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT workspace_id, project_id FROM federated_resources WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let done = sqlx::query(
                "DELETE FROM federated_resources WHERE id = $1 AND deleted_at IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM propagation_status WHERE resource_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // A deleted project goes with its last resource, a deleted workspace with its
            // last project and resource.
            if let (1, Some((workspace, project))) = (done.rows_affected(), home) {
                if let Some(project) = project {
                    sqlx::query(
                        "DELETE FROM projects WHERE id = $1 AND deleted_at IS NOT NULL \
                         AND NOT EXISTS (SELECT 1 FROM federated_resources WHERE project_id = $1)",
                    )
                    .bind(project)
                    .execute(&mut *tx)
                    .await?;
                }
                crate::workspaces::forget_deleted_workspace(&mut tx, &workspace).await?;
            }
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
        .await
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
             WHERE tenant_id = $1 AND workspace_id = $2 AND project_id IS NOT DISTINCT FROM $3 ORDER BY kind, name",
        )
        .bind(tenant_id)
        .bind(workspace_id)
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ResourceRow::into_record).collect())
    }

    /// A resource's deletion policy and adoption flag.
    pub(crate) async fn resource_policy(&self, conn: &mut AnyConnection, id: &str) -> Result<(DeletionPolicy, bool)> {
        let (policy, Flag(adopt)): (String, Flag) =
            sqlx::query_as("SELECT deletion_policy, CAST(adopt_existing AS INTEGER) AS adopt_existing FROM federated_resources WHERE id = $1")
                .bind(id)
                .fetch_one(conn)
                .await?;
        Ok((DeletionPolicy::parse(&policy), adopt))
    }

    pub(crate) async fn secret_values(
        &self,
        conn: &mut AnyConnection,
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

/// Who saves a revision: the person (for the audit log) and their clearance where the
/// resource lives (kept with the revision; the engine checks the rendered object against it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Author<'a> {
    pub actor: &'a Actor,
    pub clearance: Clearance,
}

impl Store {
    /// Checks that someone with `clearance` may replace or remove what resource `current`
    /// holds now (its current revision), as an edit, a revert or a delete would; answers the
    /// namespace and Pod Security level of its project, if it has one.
    pub(crate) async fn may_replace(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        current: &ResourceRecord,
        clearance: Clearance,
    ) -> Result<Option<(String, PodSecurity)>> {
        let project = match &current.project_id {
            Some(pid) => project_scope_row(&mut *conn, tenant_id, pid).await?,
            None => None,
        };
        let scope = project.as_ref().map(|(name, level)| ProjectScope { namespace: name, pod_security: *level });
        let stored = self.current_template(&mut *conn, &current.id, current.revision).await?;
        check_removal(&stored, scope, clearance)?;
        Ok(project)
    }

    /// Saves `template` as a new revision of project `project_id`'s own namespace resource,
    /// keeping its placement and overrides, inside the caller's transaction. Returns the
    /// namespace resource's id.
    pub(crate) async fn replace_project_namespace(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        author: Author<'_>,
        project_id: &str,
        template: Value,
    ) -> Result<String> {
        let (id, revision): (String, i64) = sqlx::query_as(
            "SELECT id, current_revision FROM federated_resources WHERE tenant_id = $1 AND project_id = $2 \
             AND api_version = 'v1' AND kind = 'Namespace' AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("project namespace"))?;
        let (placement, overrides): (String, String) = sqlx::query_as(
            "SELECT placement, overrides FROM resource_revisions WHERE resource_id = $1 AND revision = $2",
        )
        .bind(&id)
        .bind(revision)
        .fetch_one(&mut *conn)
        .await?;
        let corrupt = |e: serde_json::Error| Error::Corrupt(format!("namespace resource {id}: {e}"));
        let mut spec = ResourceSpec::new(template);
        spec.placement = serde_json::from_str(&placement).map_err(corrupt)?;
        spec.overrides = serde_json::from_str(&overrides).map_err(corrupt)?;
        let key = validate_template(&spec.template, None)?;
        policy::check(&spec.template, policy_home(None, &spec.template), author.clearance)?;
        let checked = CheckedResource { key, template: spec.template.clone(), secret_values: None };
        self.insert_revision(&mut *conn, tenant_id, author, &id, revision + 1, &spec, &checked, "updated").await?;
        sqlx::query(
            "UPDATE federated_resources SET current_revision = $1, updated_at = $2, version = version + 1 \
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(revision + 1)
        .bind(now_ms())
        .bind(tenant_id)
        .bind(&id)
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }

    /// The template of revision `revision` of resource `id` (without a Secret's values).
    pub(crate) async fn current_template(&self, conn: &mut AnyConnection, id: &str, revision: i64) -> Result<Value> {
        let text: String =
            sqlx::query_scalar("SELECT template FROM resource_revisions WHERE resource_id = $1 AND revision = $2")
                .bind(id)
                .bind(revision)
                .fetch_one(&mut *conn)
                .await?;
        serde_json::from_str(&text).map_err(|e| Error::Corrupt(format!("template of {id}: {e}")))
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
    #[sqlx(try_from = "crate::flag::Flag")]
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

/// Refuses to change resource `id` by hand while a rollout moves it: its clusters are split
/// between two revisions, and a third would be written everywhere at once.
pub(crate) async fn refuse_if_held(conn: &mut AnyConnection, id: &str) -> Result<()> {
    let held: Option<String> = sqlx::query_scalar(
        "SELECT o.title FROM rollout_resources h JOIN rollouts o ON o.id = h.rollout_id \
         WHERE h.resource_id = $1 AND h.active",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    match held {
        Some(title) => Err(flotilla_domain::Error::invalid(
            "resource",
            format!(
                "the rollout \u{201c}{title}\u{201d} is moving it across the fleet: wait for it to end, or abort it"
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// Marks resource `id` deleted with `policy`, inside the caller's transaction: the engine
/// then removes (or orphans) its objects and purges the row.
pub(crate) async fn mark_deleted(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    policy: DeletionPolicy,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE federated_resources SET deleted_at = $1, updated_at = $1, deletion_policy = $2, \
         version = version + 1 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(now)
    .bind(policy.as_str())
    .bind(tenant_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resource `id`, to be changed by hand: if it is not deleted, nobody changed it since
/// `expected_version` (else who did, as [`Error::Stale`]) and no rollout is moving it.
pub(crate) async fn live_resource_at(
    conn: &mut AnyConnection,
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
    refuse_if_held(conn, id).await?;
    Ok(current)
}

pub(crate) async fn resource_row(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<ResourceRecord> {
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
