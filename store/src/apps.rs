//! Apps: the catalog (built-in versions, refreshed at start-up, and a tenant's own) and
//! installs. Installing renders an app version with checked values and creates one
//! federated resource per object, the install row, its links and an audit row in one
//! transaction: every object passes the same rules, with the installer's clearance, as if
//! they had added it by hand, and one refusal installs nothing.

use std::collections::BTreeMap;

use flotilla_domain::catalog::{
    AppDefinition, AppScope, InstallObject, InstallTarget, ValueRule, check_install_name, render_install,
};
use flotilla_domain::limits::MAX_TENANT_APP_VERSIONS;
use flotilla_domain::policy::Clearance;
use flotilla_domain::render::content_hash;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::changes::{Actor, Change};
use crate::resources::{DeletionPolicy, ResourceHome, ResourceSpec, mark_deleted, resource_row};
use crate::workspaces::{audit, last_actor};
use crate::{Error, Result, Store, new_id, now_ms};

/// One app version of the catalog a tenant sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersion {
    pub id: String,
    /// Built into Flotilla (`catalog/` in its repository), rather than uploaded by the tenant.
    pub builtin: bool,
    pub definition: AppDefinition,
}

/// What the built-in catalog's refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogSync {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// An installed app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallRecord {
    pub id: String,
    pub workspace_id: String,
    /// `None` for an install in a workspace.
    pub project_id: Option<String>,
    pub name: String,
    pub app_name: String,
    /// The catalog version its resources hold now.
    pub version_id: String,
    /// The values as given (defaults are not stored, so a new version's defaults apply).
    pub values: Map<String, Value>,
    /// Per-cluster values: the first rule naming or selecting a cluster adds its values there.
    pub rules: Vec<ValueRule>,
    /// The federated resources it rendered to.
    pub resource_ids: Vec<String>,
    pub version: i64,
}

/// Where an install goes: a project (`project` set) or a workspace.
pub type InstallHome<'a> = ResourceHome<'a>;

/// What to install: an app version, the install's name and the values given for its
/// parameters (defaults fill the rest).
#[derive(Debug, Clone, Copy)]
pub struct NewInstall<'a> {
    pub version_id: &'a str,
    pub name: &'a str,
    pub values: &'a Map<String, Value>,
    /// Per-cluster values (none: the same values everywhere).
    pub rules: &'a [ValueRule],
}

type VersionRow = (String, Option<String>, String);

fn definition_of(row: VersionRow) -> Result<CatalogVersion> {
    let (id, tenant_id, definition) = row;
    let definition: AppDefinition =
        serde_json::from_str(&definition).map_err(|e| Error::Corrupt(format!("catalog version {id}: {e}")))?;
    Ok(CatalogVersion { id, builtin: tenant_id.is_none(), definition })
}

fn sort_catalog(versions: &mut [CatalogVersion]) {
    versions.sort_by(|a, b| {
        let (a, b) = (&a.definition.meta, &b.definition.meta);
        (&a.name, &a.version).cmp(&(&b.name, &b.version))
    });
}

impl Store {
    /// Makes the built-in catalog rows match `definitions` (the binary's `catalog/`): new
    /// versions are added, changed ones updated, and versions no longer shipped removed
    /// unless an install still runs them or a rollout names them.
    pub async fn sync_builtin_catalog(&self, definitions: &[AppDefinition]) -> Result<CatalogSync> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let rows: Vec<(String, String, String, String)> =
                sqlx::query_as("SELECT id, app_name, version, digest FROM catalog_versions WHERE tenant_id IS NULL")
                    .fetch_all(&mut *tx)
                    .await?;
            let mut stored: BTreeMap<(String, String), (String, String)> =
                rows.into_iter().map(|(id, app, version, digest)| ((app, version), (id, digest))).collect();
            let mut report = CatalogSync::default();
            let now = now_ms();
            for definition in definitions {
                let meta = &definition.meta;
                let json = serde_json::to_value(definition).map_err(|e| Error::Corrupt(e.to_string()))?;
                let digest = content_hash(&json);
                let key = (meta.name.clone(), meta.version.to_string());
                match stored.remove(&key) {
                    Some((_, old)) if old == digest => {}
                    Some((id, _)) => {
                        sqlx::query(
                            "UPDATE catalog_versions SET display_name = $1, app_version = $2, scope = $3, \
                             definition = $4, digest = $5, updated_at = $6 WHERE id = $7",
                        )
                        .bind(&meta.display_name)
                        .bind(&meta.app_version)
                        .bind(scope_str(meta.scope))
                        .bind(json.to_string())
                        .bind(&digest)
                        .bind(now)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                        report.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO catalog_versions (id, tenant_id, app_name, version, display_name, app_version, \
                             scope, definition, digest, created_at, updated_at) \
                             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                        )
                        .bind(new_id())
                        .bind(&meta.name)
                        .bind(meta.version.to_string())
                        .bind(&meta.display_name)
                        .bind(&meta.app_version)
                        .bind(scope_str(meta.scope))
                        .bind(json.to_string())
                        .bind(&digest)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        report.added += 1;
                    }
                }
            }
            for (id, _) in stored.into_values() {
                let removed = sqlx::query(
                    "DELETE FROM catalog_versions WHERE id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM app_installs WHERE version_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM rollout_installs WHERE from_version_id = $1 OR to_version_id = $1)",
                )
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                report.removed += removed.rows_affected() as usize;
            }
            tx.commit().await?;
            Ok(report)
        })
        .await
    }

    /// The catalog tenant `tenant_id` sees: the built-in versions and its own, by app and
    /// version.
    pub async fn catalog(&self, tenant_id: &str) -> Result<Vec<CatalogVersion>> {
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT id, tenant_id, definition FROM catalog_versions WHERE tenant_id IS NULL OR tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut versions = rows.into_iter().map(definition_of).collect::<Result<Vec<_>>>()?;
        sort_catalog(&mut versions);
        Ok(versions)
    }

    /// One app version, if tenant `tenant_id` sees it (another tenant's is not found).
    pub async fn catalog_version(&self, tenant_id: &str, id: &str) -> Result<CatalogVersion> {
        let mut conn = self.pool.acquire().await?;
        catalog_version_in(&mut conn, tenant_id, id).await
    }

    /// Adds an app version of tenant `tenant_id`'s own, uploaded by `actor` (a tenant admin:
    /// the caller checks). Refused when the tenant or the built-in catalog has that version
    /// of the app already, when the app is known with the other scope, or when the tenant
    /// holds [`MAX_TENANT_APP_VERSIONS`] versions. Returns the new version's id.
    #[tracing::instrument(skip(self, actor, definition), fields(app = %definition.meta.name, version = %definition.meta.version))]
    pub async fn add_app_version(&self, tenant_id: &str, actor: &Actor, definition: &AppDefinition) -> Result<String> {
        let meta = &definition.meta;
        let invalid = |reason: String| Error::from(flotilla_domain::Error::invalid("archive", reason));
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let known: Vec<(Option<String>, String, String)> = sqlx::query_as(
                "SELECT tenant_id, version, scope FROM catalog_versions \
                 WHERE app_name = $1 AND (tenant_id IS NULL OR tenant_id = $2)",
            )
            .bind(&meta.name)
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await?;
            let version = meta.version.to_string();
            if let Some((owner, _, _)) = known.iter().find(|(_, v, _)| *v == version) {
                let whose = if owner.is_some() { "Your catalog" } else { "The built-in catalog" };
                return Err(Error::Conflict(format!(
                    "{whose} already has {} {version}: give this one another version in app.yaml",
                    meta.name
                )));
            }
            if let Some((_, _, scope)) = known.iter().find(|(_, _, s)| s != scope_str(meta.scope)) {
                return Err(invalid(format!(
                    "{} is installed in a {scope} in the catalog: a version of it must say `scope: {scope}`",
                    meta.name
                )));
            }
            let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_versions WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await?;
            if held >= MAX_TENANT_APP_VERSIONS {
                return Err(invalid(format!(
                    "your catalog holds {MAX_TENANT_APP_VERSIONS} versions of its own, the most it may: remove unused ones first"
                )));
            }
            let json = serde_json::to_value(definition).map_err(|e| Error::Corrupt(e.to_string()))?;
            let digest = content_hash(&json);
            let id = new_id();
            let now = now_ms();
            sqlx::query(
                "INSERT INTO catalog_versions (id, tenant_id, app_name, version, display_name, app_version, scope, \
                 definition, digest, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(&meta.name)
            .bind(&version)
            .bind(&meta.display_name)
            .bind(&meta.app_version)
            .bind(scope_str(meta.scope))
            .bind(json.to_string())
            .bind(&digest)
            .bind(&actor.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit(tenant_id, actor, "catalog.add", &id, &format!("{} {version}", meta.name))
                .detail(serde_json::json!({ "app": meta.name, "version": version, "digest": digest }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(id)
        })
        .await
    }

    /// Removes tenant `tenant_id`'s own app version `id`. A built-in version is refused, as
    /// is one that an install runs or a rollout names; another tenant's is not found.
    pub async fn remove_app_version(&self, tenant_id: &str, actor: &Actor, id: &str) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let version = catalog_version_in(&mut tx, tenant_id, id).await?;
            let meta = &version.definition.meta;
            let name = format!("{} {}", meta.name, meta.version);
            if version.builtin {
                return Err(flotilla_domain::Error::refused(format!(
                    "{name} is built into Flotilla: only versions your tenant added can be removed"
                ))
                .into());
            }
            let (installs, rollouts): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM app_installs WHERE version_id = $1), \
                 (SELECT COUNT(*) FROM rollout_installs WHERE from_version_id = $1 OR to_version_id = $1)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if installs > 0 {
                let (s, verb, them) = if installs == 1 { ("", "runs", "it") } else { ("s", "run", "them") };
                return Err(Error::Conflict(format!(
                    "{installs} install{s} {verb} {name}: upgrade or remove {them} first"
                )));
            }
            if rollouts > 0 {
                let s = if rollouts == 1 { "" } else { "s" };
                return Err(Error::Conflict(format!(
                    "{name} is part of the history of {rollouts} rollout{s}: it is kept so that they still read"
                )));
            }
            sqlx::query("DELETE FROM catalog_versions WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            audit(tenant_id, actor, "catalog.remove", id, &name)
                .detail(serde_json::json!({ "app": meta.name, "version": meta.version.to_string() }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Installs `new` in `home` (its values checked against the version's parameters), as
    /// `actor` with `clearance` there. Returns the install's id.
    #[tracing::instrument(skip(self, actor, new), fields(version = new.version_id, name = new.name))]
    pub async fn install_app(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        home: InstallHome<'_>,
        new: NewInstall<'_>,
    ) -> Result<String> {
        let NewInstall { version_id, name, values, rules } = new;
        check_install_name(name)?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let version = catalog_version_in(&mut tx, tenant_id, version_id).await?;
            let objects = render_for(&version.definition, home, name, values, rules)?;
            let crate::flag::Flag(taken) = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM app_installs WHERE tenant_id = $1 AND workspace_id = $2 \
                 AND project_id IS NOT DISTINCT FROM $3 AND name = $4)",
            )
            .bind(tenant_id)
            .bind(home.workspace_id)
            .bind(home.project.map(|(id, _)| id))
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if taken {
                return Err(flotilla_domain::Error::invalid("name", format!("an install named {name} exists here")).into());
            }
            let id = new_id();
            let now = now_ms();
            sqlx::query(
                "INSERT INTO app_installs (id, tenant_id, workspace_id, project_id, name, app_name, version_id, \
                 values_json, rules_json, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(home.workspace_id)
            .bind(home.project.map(|(id, _)| id))
            .bind(name)
            .bind(&version.definition.meta.name)
            .bind(&version.id)
            .bind(Value::Object(values.clone()).to_string())
            .bind(serde_json::to_string(rules).map_err(|e| Error::Corrupt(e.to_string()))?)
            .bind(&actor.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let mut resources = Vec::with_capacity(objects.len());
            for object in objects {
                let spec = ResourceSpec::from(object);
                let resource_id = self.insert_resource(&mut tx, tenant_id, actor, clearance, home, &spec).await?;
                sqlx::query("INSERT INTO app_install_resources (tenant_id, install_id, resource_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id)
                    .bind(&id)
                    .bind(&resource_id)
                    .execute(&mut *tx)
                    .await?;
                resources.push(resource_id);
            }
            let meta = &version.definition.meta;
            audit(tenant_id, actor, "app.install", &id, name)
                .detail(serde_json::json!({
                    "app": meta.name, "version": meta.version.to_string(), "resources": resources.len(), "rules": rules.len(),
                }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, resources.into_iter().map(|resource_id| Change::Resource { tenant_id: tenant_id.to_owned(), id: resource_id })).await?;
            Ok(id)
        })
        .await
    }

    /// Uninstalls `id`, if nobody changed it since `expected_version`: its resources are
    /// deleted — the engine removes their objects from the members, or leaves them there
    /// unmanaged for [`DeletionPolicy::Orphan`] — and the install goes, in one transaction
    /// with its audit row. Each resource needs the clearance removing it by hand would (a
    /// workspace app's CRDs a tenant admin's); one refusal uninstalls nothing. Refused while a
    /// rollout moves the install.
    #[tracing::instrument(skip(self, actor))]
    pub async fn uninstall_app(
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
            let install = install_in(&mut tx, tenant_id, id).await?;
            if install.version != expected_version {
                return Err(Error::Stale { what: "install", by: last_actor(&mut tx, tenant_id, id).await? });
            }
            let now = now_ms();
            for resource_id in &install.resource_ids {
                crate::resources::refuse_if_held(&mut tx, resource_id).await?;
                let current = resource_row(&mut tx, tenant_id, resource_id).await?;
                if current.deleted {
                    continue;
                }
                self.may_replace(&mut tx, tenant_id, &current, clearance).await?;
                mark_deleted(&mut tx, tenant_id, resource_id, policy, now).await?;
            }
            sqlx::query("DELETE FROM app_installs WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit(tenant_id, actor, "app.uninstall", id, &install.name)
                .detail(serde_json::json!({
                    "app": install.app_name, "resources": install.resource_ids.len(), "policy": policy.as_str(),
                }))
                .insert(&mut tx)
                .await?;
            self.commit(
                tx,
                install
                    .resource_ids
                    .into_iter()
                    .map(|resource_id| Change::Resource { tenant_id: tenant_id.to_owned(), id: resource_id }),
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// The installs of a tenant, or of one workspace or project, by name.
    pub async fn list_installs(
        &self,
        tenant_id: &str,
        workspace_id: Option<&str>,
        project_id: Option<&str>,
    ) -> Result<Vec<InstallRecord>> {
        let rows: Vec<InstallRow> = sqlx::query_as(
            "SELECT id, workspace_id, project_id, name, app_name, version_id, values_json, rules_json, version \
             FROM app_installs WHERE tenant_id = $1 AND ($2 IS NULL OR workspace_id = $2) AND ($3 IS NULL OR project_id = $3) \
             ORDER BY name, id",
        )
        .bind(tenant_id)
        .bind(workspace_id)
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let links: Vec<(String, String)> = sqlx::query_as(
            "SELECT l.install_id, l.resource_id FROM app_install_resources l \
             JOIN federated_resources r ON r.id = l.resource_id WHERE l.tenant_id = $1 ORDER BY r.kind, r.name",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_install: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (install, resource) in links {
            by_install.entry(install).or_default().push(resource);
        }
        rows.into_iter()
            .map(|row| {
                let resources = by_install.remove(&row.0).unwrap_or_default();
                install_record(row, resources)
            })
            .collect()
    }

    /// One install of tenant `tenant_id`.
    pub async fn get_install(&self, tenant_id: &str, id: &str) -> Result<InstallRecord> {
        let mut conn = self.pool.acquire().await?;
        install_in(&mut conn, tenant_id, id).await
    }
}

/// One install of tenant `tenant_id`, read on `conn` (a transaction's, to change it).
pub(crate) async fn install_in(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<InstallRecord> {
    let row: Option<InstallRow> = sqlx::query_as(
        "SELECT id, workspace_id, project_id, name, app_name, version_id, values_json, rules_json, version \
         FROM app_installs WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(Error::NotFound("install"))?;
    let resources: Vec<String> = sqlx::query_scalar(
        "SELECT l.resource_id FROM app_install_resources l JOIN federated_resources r ON r.id = l.resource_id \
         WHERE l.tenant_id = $1 AND l.install_id = $2 ORDER BY r.kind, r.name",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    install_record(row, resources)
}

type InstallRow = (String, String, Option<String>, String, String, String, String, String, i64);

fn install_record(row: InstallRow, resource_ids: Vec<String>) -> Result<InstallRecord> {
    let (id, workspace_id, project_id, name, app_name, version_id, values, rules, version) = row;
    let values = match serde_json::from_str(&values) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Corrupt(format!("install {id}: values are not a JSON object"))),
    };
    let rules = serde_json::from_str(&rules).map_err(|e| Error::Corrupt(format!("install {id}: rules: {e}")))?;
    Ok(InstallRecord { id, workspace_id, project_id, name, app_name, version_id, values, rules, resource_ids, version })
}

pub(crate) async fn catalog_version_in(conn: &mut AnyConnection, tenant_id: &str, id: &str) -> Result<CatalogVersion> {
    let row: Option<VersionRow> = sqlx::query_as(
        "SELECT id, tenant_id, definition FROM catalog_versions WHERE id = $1 AND (tenant_id IS NULL OR tenant_id = $2)",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(conn)
    .await?;
    definition_of(row.ok_or(Error::NotFound("app version"))?)
}

/// Renders `definition` for an install named `name` in `home`, with `values` checked, and
/// its per-cluster `rules` as overrides of the objects they change.
pub fn render_for(
    definition: &AppDefinition,
    home: InstallHome<'_>,
    name: &str,
    values: &Map<String, Value>,
    rules: &[ValueRule],
) -> Result<Vec<InstallObject>> {
    let meta = &definition.meta;
    let namespace = match (meta.scope, home.project) {
        (AppScope::Project, Some((_, namespace))) => Some(namespace),
        (AppScope::Workspace, None) => None,
        (AppScope::Project, None) => {
            return Err(flotilla_domain::Error::invalid(
                "app",
                format!("{} is installed in a project", meta.display_name),
            )
            .into());
        }
        (AppScope::Workspace, Some(_)) => {
            return Err(flotilla_domain::Error::invalid(
                "app",
                format!("{} holds cluster-scoped objects: install it in a workspace", meta.display_name),
            )
            .into());
        }
    };
    Ok(render_install(definition, &InstallTarget { name, namespace }, values, rules)?)
}

/// An install's object as a resource to save: its template and its rules' overrides.
impl From<InstallObject> for ResourceSpec {
    fn from(object: InstallObject) -> Self {
        let mut spec = ResourceSpec::new(object.object.object);
        spec.overrides = object.overrides;
        spec
    }
}

fn scope_str(scope: AppScope) -> &'static str {
    match scope {
        AppScope::Project => "project",
        AppScope::Workspace => "workspace",
    }
}
