//! Workspaces: a label selector over a tenant's clusters, home of cluster-scoped resources.

use flotilla_domain::{LabelSelector, ResourceName};
use serde::{Deserialize, Serialize};

use crate::changes::{Actor, Change};
use crate::{AuditEntry, AuditOutcome, Error, Result, Store, new_id, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Canonical text form.
    pub selector: String,
    pub version: i64,
}

impl Store {
    /// Creates a workspace. The selector is checked and stored in canonical form.
    #[tracing::instrument(skip(self, actor))]
    pub async fn create_workspace(
        &self,
        tenant_id: &str,
        actor: &Actor,
        name: &ResourceName,
        selector: &str,
    ) -> Result<Workspace> {
        let selector = LabelSelector::parse(selector)?.to_string();
        let id = new_id();
        let now = now_ms();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            refuse_taken(&mut tx, Selected::Workspace, tenant_id, name, "").await?;
            sqlx::query(
                "INSERT INTO workspaces (id, tenant_id, name, selector, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(name.as_str())
            .bind(&selector)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit(tenant_id, actor, "workspace.create", &id, name.as_str())
                .detail(serde_json::json!({ "selector": selector }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Workspace { tenant_id: tenant_id.to_owned(), id: id.clone() }]).await?;
            Ok(Workspace { id: id.clone(), name: name.to_string(), description: String::new(), selector: selector.clone(), version: 1 })
        })
        .await
    }

    /// Changes a workspace's selector, if nobody changed the workspace since `expected_version`.
    #[tracing::instrument(skip(self, actor))]
    pub async fn set_workspace_selector(
        &self,
        tenant_id: &str,
        actor: &Actor,
        id: &str,
        selector: &str,
        expected_version: i64,
    ) -> Result<Workspace> {
        let selector = LabelSelector::parse(selector)?.to_string();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = find_workspace(&mut *tx, tenant_id, id).await?;
            let change =
                SelectorChange { tenant_id, actor, id, name: &current.name, from: &current.selector, to: &selector };
            change.write(&mut tx, Selected::Workspace, current.version, expected_version).await?;
            self.commit(tx, [Change::Workspace { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(Workspace { selector: selector.clone(), version: current.version + 1, ..current })
        })
        .await
    }

    /// The tenant's workspace `id` (another tenant's is not found).
    #[tracing::instrument(skip(self))]
    pub async fn get_workspace(&self, tenant_id: &str, id: &str) -> Result<Workspace> {
        find_workspace(&self.pool, tenant_id, id).await
    }

    /// Deletes workspace `id` with its projects, if nobody changed it since
    /// `expected_version`: at once gone from every list (its roles and group rules, and its
    /// projects', with it), while the engine removes every resource of it from the members
    /// (`Delete`, namespaces last) or leaves them in place (`Orphan`); the row goes with its
    /// last project and resource. Each resource must be one `clearance` may remove, and none
    /// may be moving in a rollout. Answers how many projects and resources it held.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_workspace(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: flotilla_domain::Clearance,
        id: &str,
        expected_version: i64,
        policy: crate::DeletionPolicy,
    ) -> Result<(usize, usize)> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let workspace = find_workspace(&mut *tx, tenant_id, id).await?;
            if workspace.version != expected_version {
                return Err(Error::Stale { what: "workspace", by: last_actor(&mut tx, tenant_id, id).await? });
            }
            let mut changes = vec![Change::Workspace { tenant_id: tenant_id.to_owned(), id: id.to_owned() }];
            let projects: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM projects WHERE tenant_id = $1 AND workspace_id = $2 AND deleted_at IS NULL",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let mut resources = 0;
            for project in &projects {
                resources += self.remove_project(&mut tx, tenant_id, clearance, project, policy, &mut changes).await?;
            }
            let own: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM federated_resources WHERE tenant_id = $1 AND workspace_id = $2 AND project_id IS NULL \
                 AND deleted_at IS NULL",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let now = now_ms();
            for resource in &own {
                let current = crate::resources::resource_row(&mut tx, tenant_id, resource).await?;
                crate::resources::refuse_if_held(&mut tx, resource).await?;
                self.may_replace(&mut tx, tenant_id, &current, clearance).await?;
                crate::resources::mark_deleted(&mut tx, tenant_id, resource, policy, now).await?;
                changes.push(Change::Resource { tenant_id: tenant_id.to_owned(), id: resource.clone() });
            }
            resources += own.len();
            for statement in [
                "UPDATE workspaces SET deleted_at = $3, updated_at = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2",
                "DELETE FROM role_bindings WHERE tenant_id = $1 AND scope_id = $2",
                "DELETE FROM group_role_mappings WHERE tenant_id = $1 AND scope_id = $2",
            ] {
                sqlx::query(statement).bind(tenant_id).bind(id).bind(now).execute(&mut *tx).await?;
            }
            audit(tenant_id, actor, "workspace.delete", id, &workspace.name)
                .detail(serde_json::json!({ "policy": policy.as_str(), "projects": projects.len(), "resources": resources }))
                .insert(&mut tx)
                .await?;
            // Nothing for the engine to remove: the row goes now.
            forget_deleted_workspace(&mut tx, id).await?;
            self.commit(tx, changes).await?;
            Ok((projects.len(), resources))
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_workspaces(&self, tenant_id: &str) -> Result<Vec<Workspace>> {
        Ok(sqlx::query_as::<_, Workspace>(
            "SELECT id, name, description, selector, version FROM workspaces WHERE tenant_id = $1 AND deleted_at IS NULL \
             ORDER BY name",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Removes deleted workspace `id` if nothing of it is left (no project, no resource, deleted
/// or not); inside the caller's transaction.
pub(crate) async fn forget_deleted_workspace(conn: &mut sqlx::AnyConnection, id: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM workspaces WHERE id = $1 AND deleted_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM projects WHERE workspace_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM federated_resources WHERE workspace_id = $1)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The tenant's workspace `id`, through `db` (the pool, or a transaction).
async fn find_workspace<'e>(db: impl sqlx::AnyExecutor<'e>, tenant_id: &str, id: &str) -> Result<Workspace> {
    sqlx::query_as::<_, Workspace>(
        "SELECT id, name, description, selector, version FROM workspaces WHERE tenant_id = $1 AND id = $2 \
         AND deleted_at IS NULL",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("workspace"))
}

/// Refuses `name` for a new workspace or project of the tenant while one has it, or had it
/// and is still being deleted (`unique` ends the first message).
pub(crate) async fn refuse_taken(
    conn: &mut sqlx::AnyConnection,
    what: Selected,
    tenant_id: &str,
    name: &ResourceName,
    unique: &str,
) -> Result<()> {
    let message = match name_holder(conn, what, tenant_id, name.as_str()).await? {
        None => return Ok(()),
        Some(false) => format!("a {} named {name} exists{unique}", what.what()),
        Some(true) => {
            format!("a {} named {name} is being deleted: its name is free once its objects are gone", what.what())
        }
    };
    Err(flotilla_domain::Error::invalid("name", message).into())
}

/// Whether a workspace or project of the tenant holds `name`: `Some(true)` while it is being
/// deleted, `None` when the name is free.
pub(crate) async fn name_holder(
    conn: &mut sqlx::AnyConnection,
    what: Selected,
    tenant_id: &str,
    name: &str,
) -> Result<Option<bool>> {
    let sql = match what {
        Selected::Workspace => "SELECT deleted_at FROM workspaces WHERE tenant_id = $1 AND name = $2",
        Selected::Project => "SELECT deleted_at FROM projects WHERE tenant_id = $1 AND name = $2",
    };
    let taken: Option<Option<i64>> = sqlx::query_scalar(sql).bind(tenant_id).bind(name).fetch_optional(conn).await?;
    Ok(taken.map(|deleted| deleted.is_some()))
}

/// What a selector belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Selected {
    Workspace,
    Project,
}

impl Selected {
    fn what(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Project => "project",
        }
    }
}

/// A workspace's or project's selector changing from `from` to `to`.
pub(crate) struct SelectorChange<'a> {
    pub tenant_id: &'a str,
    pub actor: &'a Actor,
    pub id: &'a str,
    pub name: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

impl SelectorChange<'_> {
    /// Within `tx`: refuses a stale edit (naming who changed it since), then writes the new
    /// selector, bumps the version and adds the audit row.
    pub(crate) async fn write(
        &self,
        tx: &mut sqlx::AnyConnection,
        selected: Selected,
        version: i64,
        expected_version: i64,
    ) -> Result<()> {
        let what = selected.what();
        if version != expected_version {
            return Err(Error::Stale { what, by: last_actor(&mut *tx, self.tenant_id, self.id).await? });
        }
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {what}s SET selector = $1, updated_at = $2, version = version + 1 \
             WHERE tenant_id = $3 AND id = $4 AND version = $5"
        )))
        .bind(self.to)
        .bind(now_ms())
        .bind(self.tenant_id)
        .bind(self.id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        still_at_version(&mut *tx, done, what, self.tenant_id, self.id).await?;
        audit(self.tenant_id, self.actor, &format!("{what}.update"), self.id, self.name)
            .detail(serde_json::json!({ "selector": { "from": self.from, "to": self.to } }))
            .insert(tx)
            .await?;
        Ok(())
    }
}

pub(crate) fn audit(tenant_id: &str, actor: &Actor, action: &str, id: &str, name: &str) -> AuditEntry {
    let target_kind = action.split('.').next().unwrap_or_default();
    let entry = AuditEntry::new(tenant_id, &actor.name, action, AuditOutcome::Ok).target(target_kind, id, name);
    match &actor.id {
        Some(actor_id) => entry.actor_id(actor_id),
        None => entry,
    }
}

/// Checks what an `UPDATE … WHERE version = $seen` did: no row means someone changed the row
/// since it was read (optimistic concurrency, whatever the isolation level), and the caller's
/// transaction must not go on.
pub(crate) async fn still_at_version(
    conn: &mut sqlx::AnyConnection,
    done: sqlx::any::AnyQueryResult,
    what: &'static str,
    tenant_id: &str,
    id: &str,
) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::Stale { what, by: last_actor(conn, tenant_id, id).await? });
    }
    Ok(())
}

/// Who last changed the target `id` (for "changed by X since you opened it").
pub(crate) async fn last_actor(conn: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<String> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT actor_name FROM audit_log WHERE tenant_id = $1 AND target_id = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(name.unwrap_or_else(|| "someone".to_owned()))
}
