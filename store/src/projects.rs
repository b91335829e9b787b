//! Projects: a namespace of the project's name in each cluster the project selects (within
//! its workspace), holding the project's namespaced resources. The namespace itself is a
//! federated resource of the project, created with it, so its status is tracked like any
//! other.

use std::collections::HashMap;

use flotilla_domain::policy::{Clearance, PodSecurity, is_reserved_namespace};
use flotilla_domain::{LabelSelector, ResourceName};
use serde::{Deserialize, Serialize};

use crate::changes::{Actor, Change};
use crate::resources::{Author, ResourceHome, ResourceSpec};
use crate::workspaces::{Selected, SelectorChange, audit};
use crate::{Error, Result, Store, new_id, now_ms};

/// The label every project namespace carries with the project's name.
pub const PROJECT_LABEL: &str = flotilla_domain::kubefed::PROJECT_LABEL;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Project {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: String,
    pub selector: String,
    pub version: i64,
    /// Its namespace's Pod Security Standard, which its pods must meet.
    #[sqlx(try_from = "String")]
    pub pod_security: PodSecurity,
}

/// The columns a [`Project`] is read from.
const COLUMNS: &str = "id, workspace_id, name, description, selector, version, pod_security";

/// What a new project holds besides its namespace.
#[derive(Clone, Copy)]
struct Contents<'a> {
    pod_security: PodSecurity,
    /// Its namespace and resources adopt the objects that exist in the members.
    adopt: bool,
    resources: &'a [ResourceSpec],
}

/// A project to create in a workspace import: its name, selector and resources.
#[derive(Debug, Clone)]
pub struct ImportedProject {
    pub name: ResourceName,
    pub selector: String,
    pub resources: Vec<ResourceSpec>,
}

/// A new project, before it is written.
#[derive(Clone, Copy)]
struct NewProject<'a> {
    workspace_id: &'a str,
    name: &'a ResourceName,
    selector: &'a str,
    contents: Contents<'a>,
}

impl NewProject<'_> {
    /// What can be refused before a transaction starts.
    fn check(&self, clearance: Clearance) -> Result<()> {
        let NewProject { name, selector, contents, .. } = self;
        if contents.pod_security.clearance_to_set() > clearance {
            return Err(flotilla_domain::Error::refused(format!(
                "the Pod Security level {} lets pods reach the node: only {} may choose it",
                contents.pod_security,
                contents.pod_security.clearance_to_set().who()
            ))
            .into());
        }
        if is_reserved_namespace(name.as_str()) {
            return Err(flotilla_domain::Error::invalid(
                "name",
                format!("{name} is a namespace of Kubernetes or Flotilla itself: choose another name"),
            )
            .into());
        }
        LabelSelector::parse(selector)?;
        Ok(())
    }
}

/// Checks that workspace `id` of the tenant exists and is not being deleted.
async fn find_live_workspace(conn: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<()> {
    let workspace: Option<String> =
        sqlx::query_scalar("SELECT id FROM workspaces WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    workspace.map(|_| ()).ok_or(Error::NotFound("workspace"))
}

/// A project's namespace object: named after the project, labelled with it, and carrying the
/// Pod Security Admission labels of its level.
pub(crate) fn namespace_template(name: &str, level: PodSecurity) -> serde_json::Value {
    let mut labels = serde_json::Map::new();
    labels.insert(PROJECT_LABEL.to_owned(), name.into());
    for (k, v) in level.namespace_labels() {
        labels.insert(k.to_owned(), v.into());
    }
    serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name, "labels": labels } })
}

impl Store {
    /// Creates a project in a workspace, with its namespace resource, in one transaction.
    #[tracing::instrument(skip(self, actor))]
    pub async fn create_project(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        workspace_id: &str,
        name: &ResourceName,
        selector: &str,
    ) -> Result<Project> {
        let contents = Contents { pod_security: PodSecurity::default(), adopt: false, resources: &[] };
        self.create_project_with(tenant_id, actor, clearance, workspace_id, name, selector, contents).await
    }

    /// Creates a project holding what runs in a member's namespace of its name (federated
    /// from there: see `flotilla_domain::federate`), in one transaction: its namespace and
    /// `resources` adopt the objects that exist (as they are where they already match, so
    /// nothing is written to that member). Each resource is weighed by the policy at
    /// `clearance`, as if added by hand; one refused refuses all.
    #[tracing::instrument(skip(self, actor, resources))]
    #[allow(clippy::too_many_arguments)]
    pub async fn federate_project(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        workspace_id: &str,
        name: &ResourceName,
        selector: &str,
        pod_security: PodSecurity,
        resources: &[ResourceSpec],
    ) -> Result<Project> {
        let contents = Contents { pod_security, adopt: true, resources };
        self.create_project_with(tenant_id, actor, clearance, workspace_id, name, selector, contents).await
    }

    /// Creates a project holding `resources` (imported from YAML), in one transaction, each
    /// weighed by the policy at `clearance` as if added by hand; one refused refuses all.
    #[tracing::instrument(skip(self, actor, resources))]
    #[allow(clippy::too_many_arguments)]
    pub async fn import_project(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        workspace_id: &str,
        name: &ResourceName,
        selector: &str,
        resources: &[ResourceSpec],
    ) -> Result<Project> {
        let contents = Contents { pod_security: PodSecurity::default(), adopt: false, resources };
        self.create_project_with(tenant_id, actor, clearance, workspace_id, name, selector, contents).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_project_with(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        workspace_id: &str,
        name: &ResourceName,
        selector: &str,
        contents: Contents<'_>,
    ) -> Result<Project> {
        let new = NewProject { workspace_id, name, selector, contents };
        new.check(clearance)?;
        // In a tenant with joined clusters, the namespace comes with the binding that opens
        // it to Flotilla's identity there, in the same transaction, so that nothing written
        // into the new namespace waits for it.
        let joined = self.has_joined_clusters(tenant_id).await?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let (project, changes) = self.insert_project(&mut tx, tenant_id, actor, clearance, &new, joined).await?;
            self.commit(tx, changes).await?;
            Ok(project)
        })
        .await
    }

    /// Creates, in one transaction, a workspace's imported cluster-scoped `resources` and a
    /// project for each of `projects`, each object weighed by the policy at `clearance` as if
    /// added by hand; one refused (or a project name taken) refuses all.
    #[tracing::instrument(skip(self, actor, resources, projects))]
    pub async fn import_into_workspace(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        workspace_id: &str,
        resources: &[ResourceSpec],
        projects: &[ImportedProject],
    ) -> Result<Vec<Project>> {
        let new: Vec<NewProject<'_>> = projects
            .iter()
            .map(|p| NewProject {
                workspace_id,
                name: &p.name,
                selector: &p.selector,
                contents: Contents { pod_security: PodSecurity::default(), adopt: false, resources: &p.resources },
            })
            .collect();
        for project in &new {
            project.check(clearance)?;
        }
        let joined = self.has_joined_clusters(tenant_id).await?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let mut changes = Vec::new();
            let home = ResourceHome { workspace_id, project: None };
            for spec in resources {
                let id = self.insert_resource(&mut tx, tenant_id, actor, clearance, home, spec).await?;
                changes.push(Change::Resource { tenant_id: tenant_id.to_owned(), id });
            }
            let mut made = Vec::new();
            for project in &new {
                let (project, mut more) =
                    self.insert_project(&mut tx, tenant_id, actor, clearance, project, joined).await?;
                changes.append(&mut more);
                made.push(project);
            }
            if made.is_empty() {
                // Cluster-scoped resources only: the workspace must still be there.
                find_live_workspace(&mut tx, tenant_id, workspace_id).await?;
            }
            self.commit(tx, changes).await?;
            Ok(made)
        })
        .await
    }

    /// Writes a new project (checked by [`NewProject::check`]) and its namespace, contents and
    /// (with `joined`) hub grant inside the caller's transaction; answers it and what changed.
    async fn insert_project(
        &self,
        tx: &mut sqlx::AnyConnection,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        new: &NewProject<'_>,
        joined: bool,
    ) -> Result<(Project, Vec<Change>)> {
        let NewProject { workspace_id, name, selector, contents: Contents { pod_security, adopt, resources } } = *new;
        let selector = LabelSelector::parse(selector)?.to_string();
        let id = new_id();
        let now = now_ms();
        find_live_workspace(&mut *tx, tenant_id, workspace_id).await?;
        let unique = " (project names are namespaces, unique in the tenant)";
        crate::workspaces::refuse_taken(&mut *tx, Selected::Project, tenant_id, name, unique).await?;
        sqlx::query(
            "INSERT INTO projects (id, tenant_id, workspace_id, name, selector, pod_security, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(workspace_id)
        .bind(name.as_str())
        .bind(&selector)
        .bind(pod_security.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit(tenant_id, actor, "project.create", &id, name.as_str())
            .detail(match (adopt, resources.len()) {
                (true, n) => serde_json::json!({ "workspace_id": workspace_id, "selector": selector,
                                                 "federated_objects": n, "pod_security": pod_security.as_str() }),
                (false, 0) => serde_json::json!({ "workspace_id": workspace_id, "selector": selector }),
                (false, n) => {
                    serde_json::json!({ "workspace_id": workspace_id, "selector": selector, "imported_objects": n })
                }
            })
            .insert(&mut *tx)
            .await?;
        let namespace = namespace_template(name.as_str(), pod_security);
        let home = ResourceHome { workspace_id, project: Some((&id, name.as_str())) };
        let spec = ResourceSpec { adopt_existing: adopt, ..ResourceSpec::new(namespace) };
        let ns_id = self.insert_resource(&mut *tx, tenant_id, actor, clearance, home, &spec).await?;
        let mut changes = vec![
            Change::Project { tenant_id: tenant_id.to_owned(), id: id.clone() },
            Change::Resource { tenant_id: tenant_id.to_owned(), id: ns_id },
        ];
        for spec in resources {
            let spec = ResourceSpec { adopt_existing: adopt, ..spec.clone() };
            let id = self.insert_resource(&mut *tx, tenant_id, actor, clearance, home, &spec).await?;
            changes.push(Change::Resource { tenant_id: tenant_id.to_owned(), id });
        }
        if joined {
            let (actor, spec) = crate::access::hub_grant();
            let grant_id =
                self.insert_resource(&mut *tx, tenant_id, &actor, Clearance::TenantAdmin, home, &spec).await?;
            changes.push(Change::Resource { tenant_id: tenant_id.to_owned(), id: grant_id });
        }
        let project = Project {
            id,
            workspace_id: workspace_id.to_owned(),
            name: name.to_string(),
            description: String::new(),
            selector,
            version: 1,
            pod_security,
        };
        Ok((project, changes))
    }

    /// Sets the Pod Security level of a project's namespace, if nobody changed the project
    /// since `expected_version`: the project's pods must meet it from now on, and its
    /// namespace in every cluster carries the matching labels. `privileged` only by a tenant
    /// admin.
    #[tracing::instrument(skip(self, actor))]
    pub async fn set_project_pod_security(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        level: PodSecurity,
        expected_version: i64,
    ) -> Result<Project> {
        let need = level.clearance_to_set();
        if clearance < need {
            return Err(flotilla_domain::Error::refused(format!(
                "the Pod Security level {level} lets pods reach the node: only {} may choose it",
                need.who()
            ))
            .into());
        }
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = find_project(&mut *tx, tenant_id, id).await?;
            if current.version != expected_version {
                return Err(Error::Stale {
                    what: "project",
                    by: crate::workspaces::last_actor(&mut tx, tenant_id, id).await?,
                });
            }
            sqlx::query("UPDATE projects SET pod_security = $1, updated_at = $2, version = version + 1 WHERE tenant_id = $3 AND id = $4")
                .bind(level.as_str())
                .bind(now_ms())
                .bind(tenant_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit(tenant_id, actor, "project.update", id, &current.name)
                .detail(serde_json::json!({ "pod_security": level.as_str() }))
                .insert(&mut tx)
                .await?;
            let namespace = namespace_template(&current.name, level);
            let author = Author { actor, clearance };
            let ns_id = self.replace_project_namespace(&mut tx, tenant_id, author, id, namespace).await?;
            self.commit(tx, [Change::Project { tenant_id: tenant_id.to_owned(), id: id.to_owned() }, Change::Resource { tenant_id: tenant_id.to_owned(), id: ns_id }]).await?;
            Ok(Project { pod_security: level, version: current.version + 1, ..current })
        })
        .await
    }

    /// Lets Flotilla take over project `id`'s namespace in the clusters where a namespace of
    /// that name existed before the project (until then nothing of the project is written
    /// there). A tenant admin's decision: whatever else is in that namespace becomes reachable
    /// by the project's roles.
    #[tracing::instrument(skip(self, actor))]
    pub async fn adopt_project_namespace(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
    ) -> Result<()> {
        if clearance < Clearance::TenantAdmin {
            return Err(flotilla_domain::Error::refused(
                "adopting a namespace Flotilla did not create hands what is in it to the project: only a tenant admin may",
            )
            .into());
        }
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let project = find_project(&mut *tx, tenant_id, id).await?;
            let ns_id: String = sqlx::query_scalar(
                "SELECT id FROM federated_resources WHERE tenant_id = $1 AND project_id = $2 AND api_version = 'v1' \
                 AND kind = 'Namespace' AND deleted_at IS NULL",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("project namespace"))?;
            sqlx::query(
                "UPDATE federated_resources SET adopt_existing = TRUE, updated_at = $1, version = version + 1 \
                 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(now_ms())
            .bind(tenant_id)
            .bind(&ns_id)
            .execute(&mut *tx)
            .await?;
            audit(tenant_id, actor, "project.update", id, &project.name)
                .detail(serde_json::json!({ "adopt_namespace": true }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: ns_id }]).await?;
            Ok(())
        })
        .await
    }

    /// Changes a project's selector, if nobody changed the project since `expected_version`.
    #[tracing::instrument(skip(self, actor))]
    pub async fn set_project_selector(
        &self,
        tenant_id: &str,
        actor: &Actor,
        id: &str,
        selector: &str,
        expected_version: i64,
    ) -> Result<Project> {
        let selector = LabelSelector::parse(selector)?.to_string();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = find_project(&mut *tx, tenant_id, id).await?;
            let change =
                SelectorChange { tenant_id, actor, id, name: &current.name, from: &current.selector, to: &selector };
            change.write(&mut tx, Selected::Project, current.version, expected_version).await?;
            self.commit(tx, [Change::Project { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(Project { selector: selector.clone(), version: current.version + 1, ..current })
        })
        .await
    }

    /// The tenant's project `id` (another tenant's is not found).
    #[tracing::instrument(skip(self))]
    pub async fn get_project(&self, tenant_id: &str, id: &str) -> Result<Project> {
        find_project(&self.pool, tenant_id, id).await
    }

    /// Which of `names` the tenant's projects hold, each with whether that project is being
    /// deleted (its name free once its objects are gone).
    pub async fn taken_project_names(&self, tenant_id: &str, names: &[&str]) -> Result<Vec<(String, bool)>> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        for name in names {
            if let Some(deleting) =
                crate::workspaces::name_holder(&mut conn, Selected::Project, tenant_id, name).await?
            {
                out.push(((*name).to_owned(), deleting));
            }
        }
        Ok(out)
    }

    /// Deletes project `id`, if nobody changed it since `expected_version`: at once gone from
    /// every list (its roles and group rules with it), while the engine removes its resources
    /// from the members (`Delete`, namespace last) or leaves them in place (`Orphan`); the row
    /// goes with its last resource. Each resource must be one `clearance` may remove, and none
    /// may be moving in a rollout. Answers how many resources it held.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_project(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        expected_version: i64,
        policy: crate::DeletionPolicy,
    ) -> Result<usize> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let project = find_project(&mut *tx, tenant_id, id).await?;
            if project.version != expected_version {
                return Err(Error::Stale {
                    what: "project",
                    by: crate::workspaces::last_actor(&mut tx, tenant_id, id).await?,
                });
            }
            let mut changes = Vec::new();
            let count = self.remove_project(&mut tx, tenant_id, clearance, id, policy, &mut changes).await?;
            audit(tenant_id, actor, "project.delete", id, &project.name)
                .detail(serde_json::json!({ "policy": policy.as_str(), "resources": count }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, changes).await?;
            Ok(count)
        })
        .await
    }

    /// Marks project `id` and its resources deleted with `policy` inside the caller's
    /// transaction (each resource one `clearance` may remove, none moving in a rollout), and
    /// drops its roles, group rules and app installs; adds what changed to `changes`.
    /// Answers how many resources it held.
    pub(crate) async fn remove_project(
        &self,
        tx: &mut sqlx::AnyConnection,
        tenant_id: &str,
        clearance: Clearance,
        id: &str,
        policy: crate::DeletionPolicy,
        changes: &mut Vec<Change>,
    ) -> Result<usize> {
        let now = now_ms();
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM federated_resources WHERE tenant_id = $1 AND project_id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        changes.push(Change::Project { tenant_id: tenant_id.to_owned(), id: id.to_owned() });
        for resource in &ids {
            let current = crate::resources::resource_row(&mut *tx, tenant_id, resource).await?;
            crate::resources::refuse_if_held(&mut *tx, resource).await?;
            if !(current.kind == "Namespace" && current.api_version == "v1") {
                self.may_replace(&mut *tx, tenant_id, &current, clearance).await?;
            }
            crate::resources::mark_deleted(&mut *tx, tenant_id, resource, policy, now).await?;
            changes.push(Change::Resource { tenant_id: tenant_id.to_owned(), id: resource.clone() });
        }
        for statement in [
            "UPDATE projects SET deleted_at = $3, updated_at = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2",
            "DELETE FROM role_bindings WHERE tenant_id = $1 AND scope_id = $2",
            "DELETE FROM group_role_mappings WHERE tenant_id = $1 AND scope_id = $2",
            "DELETE FROM app_installs WHERE tenant_id = $1 AND project_id = $2",
        ] {
            sqlx::query(statement).bind(tenant_id).bind(id).bind(now).execute(&mut *tx).await?;
        }
        Ok(ids.len())
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_projects(&self, tenant_id: &str, workspace_id: &str) -> Result<Vec<Project>> {
        Ok(sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM projects WHERE tenant_id = $1 AND workspace_id = $2 AND deleted_at IS NULL ORDER BY name"
        )))
        .bind(tenant_id)
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every project of the tenant, by workspace, in one query (for lists over all workspaces).
    pub async fn list_tenant_projects(&self, tenant_id: &str) -> Result<HashMap<String, Vec<Project>>> {
        let rows = sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM projects WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY workspace_id, name"
        )))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_workspace: HashMap<String, Vec<Project>> = HashMap::new();
        for project in rows {
            by_workspace.entry(project.workspace_id.clone()).or_default().push(project);
        }
        Ok(by_workspace)
    }
}

/// The tenant's project `id` (not one being deleted), through `db` (the pool, or a transaction).
async fn find_project<'e>(db: impl sqlx::AnyExecutor<'e>, tenant_id: &str, id: &str) -> Result<Project> {
    sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("project"))
}
