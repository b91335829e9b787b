//! Project roles in the clusters, kept as the project's resources. What the bindings are is
//! `flotilla_domain::access`; this file writes them (only what differs, as Flotilla, with
//! revisions and audit rows like any change), and runs the reconciler that keeps them true:
//! driven by the change feed, a rule added or removed brings the tenant's projects up to
//! date, a project saved (created) its own, a lagging feed everything, and so does the
//! reconciler's start. Beside them, in a tenant with joined clusters, each project holds the
//! binding that opens its namespace to Flotilla's own identity there
//! (`flotilla_domain::join`), placed on the joined clusters; a join gives it to every project
//! before its cluster is registered ([`Store::open_projects_to_identity`]).

use flotilla_domain::access::project_access_bindings;
use flotilla_domain::join;
use flotilla_domain::{Clearance, Placement};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::resources::{DeletionPolicy, ResourceHome, ResourceSpec};
use crate::{Actor, Change, Error, Result, Store};

impl Store {
    /// Brings the access bindings of project `project_id` in line with the tenant's group
    /// rules: a binding per level some group holds, none for a level nobody holds. Writes
    /// only what differs. Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn sync_project_access(&self, tenant_id: &str, project_id: &str) -> Result<()> {
        let joined = self.has_joined_clusters(tenant_id).await?;
        self.sync_project_bindings(tenant_id, project_id, joined).await
    }

    /// The same, told whether the tenant has joined clusters (whose projects hold the grant
    /// binding of Flotilla's identity).
    async fn sync_project_bindings(&self, tenant_id: &str, project_id: &str, joined: bool) -> Result<()> {
        let project = self.get_project(tenant_id, project_id).await?;
        let rules = self.group_mappings(tenant_id).await?;
        let existing = self.list_resources(tenant_id, &project.workspace_id, Some(project_id)).await?;
        let actor = Actor::system("flotilla (group rules)");
        // The reconciler writes what the tenant's admins decided, with their reach.
        let clearance = Clearance::TenantAdmin;
        let mut wanted_bindings: Vec<(&str, Option<Value>, Placement, &Actor)> =
            project_access_bindings(&rules, &project.id, &project.workspace_id)
                .into_iter()
                .map(|(name, wanted)| (name, wanted, Placement::everywhere(), &actor))
                .collect();
        // Flotilla's own identity in joined clusters needs the project's namespace opened.
        let (grant_actor, grant) = hub_grant();
        wanted_bindings.push((
            join::HUB_GRANT_BINDING,
            joined.then_some(grant.template),
            grant.placement,
            &grant_actor,
        ));
        for (name, wanted, placement, actor) in wanted_bindings {
            let current = existing.iter().find(|r| !r.deleted && r.kind == "RoleBinding" && r.name == name);
            match (wanted, current) {
                (None, None) => {}
                (None, Some(r)) => {
                    self.delete_resource(tenant_id, actor, clearance, &r.id, r.version, DeletionPolicy::Delete).await?;
                }
                (Some(wanted), None) => {
                    let home = ResourceHome {
                        workspace_id: &project.workspace_id,
                        project: Some((&project.id, &project.name)),
                    };
                    let spec = ResourceSpec { placement, ..ResourceSpec::new(wanted) };
                    self.create_resource(tenant_id, actor, clearance, home, &spec).await?;
                }
                (Some(wanted), Some(r)) => {
                    let stored = self.resource_revision(tenant_id, &r.id, None).await?;
                    if stored.spec.template != wanted || stored.spec.placement != placement {
                        let spec = ResourceSpec { template: wanted, placement, ..stored.spec };
                        self.update_resource(tenant_id, actor, clearance, &r.id, r.version, &spec).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a cluster of `tenant_id` is joined (carries Flotilla's identity label).
    pub(crate) async fn has_joined_clusters(&self, tenant_id: &str) -> Result<bool> {
        let pattern = format!("%\"{}\"%", join::IDENTITY_LABEL);
        let labels: Vec<String> =
            sqlx::query_scalar("SELECT labels FROM clusters WHERE tenant_id = $1 AND labels LIKE $2")
                .bind(tenant_id)
                .bind(&pattern)
                .fetch_all(&self.pool)
                .await?;
        Ok(labels.iter().any(|text| {
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(text).is_ok_and(|l| join::is_joined(&l))
        }))
    }

    /// [`Store::sync_project_access`] for every project of `tenant_id`, or of every tenant.
    #[tracing::instrument(skip(self))]
    pub async fn sync_all_access(&self, tenant_id: Option<&str>) -> Result<()> {
        self.sync_projects(tenant_id, None).await
    }

    /// Gives every project of `tenant_id` the grant binding of Flotilla's identity, before a
    /// joined cluster is registered (so that its first writes find their namespaces open).
    #[tracing::instrument(skip(self))]
    pub async fn open_projects_to_identity(&self, tenant_id: &str) -> Result<()> {
        self.sync_projects(Some(tenant_id), Some(true)).await
    }

    /// Every project's bindings (of `tenant_id`, or of all tenants); `joined` overrides whether
    /// the tenant has joined clusters.
    async fn sync_projects(&self, tenant_id: Option<&str>, joined: Option<bool>) -> Result<()> {
        let projects: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, id FROM projects WHERE ($1 IS NULL OR tenant_id = $1) AND deleted_at IS NULL ORDER BY tenant_id, id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut first_error = None;
        let mut tenant_joined: Option<(String, bool)> = None;
        for (tenant_id, project_id) in projects {
            let joined = match (joined, &tenant_joined) {
                (Some(j), _) => j,
                (None, Some((t, j))) if *t == tenant_id => *j,
                (None, _) => {
                    let j = self.has_joined_clusters(&tenant_id).await?;
                    tenant_joined = Some((tenant_id.clone(), j));
                    j
                }
            };
            match self.sync_project_bindings(&tenant_id, &project_id, joined).await {
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, %project_id, "could not bring a project's access bindings up to date");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Starts the reconciler that keeps every project's access bindings true to the group
    /// rules (see the file's comment). One per process.
    pub fn spawn_access_reconciler(&self) -> JoinHandle<()> {
        let store = self.clone();
        let mut changes = self.subscribe_changes();
        tokio::spawn(async move {
            // Everything once, so that what changed while no reconciler ran is caught up.
            let mut everything = true;
            loop {
                if std::mem::take(&mut everything) && store.sync_all_access(None).await.is_err() {
                    // Tried again with the next change or lag; the bindings that could be
                    // written were.
                    tracing::warn!("access bindings not all up to date yet");
                }
                let result = match changes.recv().await {
                    Ok(Change::Access { tenant_id, user_id: None }) => store.sync_all_access(Some(&tenant_id)).await,
                    Ok(Change::Project { tenant_id, id }) => match store.sync_project_access(&tenant_id, &id).await {
                        Err(Error::NotFound(_)) => Ok(()),
                        other => other,
                    },
                    Ok(_) => Ok(()),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "the access reconciler missed changes; checking every project");
                        everything = true;
                        Ok(())
                    }
                    Err(RecvError::Closed) => return,
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "access bindings could not follow a change; retrying everything");
                    everything = true;
                }
            }
        })
    }
}

/// Who writes a project's grant binding for Flotilla's joined identity (with a tenant
/// admin's clearance, as the access bindings), and the resource: the binding, placed on the
/// joined clusters.
pub(crate) fn hub_grant() -> (Actor, ResourceSpec) {
    let placement = Placement { clusters: None, selector: Some(join::hub_grant_selector()) };
    let spec = ResourceSpec { placement, ..ResourceSpec::new(join::hub_grant_binding()) };
    (Actor::system("flotilla (joined clusters)"), spec)
}
