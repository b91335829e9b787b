//! Project roles in the clusters. The groups a tenant's rules give a role on a project (or on
//! its workspace) are bound, in the project's namespace in every cluster of the project, to
//! Kubernetes' built-in ClusterRoles `admin`, `edit` and `view`: one RoleBinding per level,
//! each a federated resource of the project that the engine keeps true like any other. The
//! bindings follow the rules: created, changed and removed as rules and projects come and go.

use std::collections::BTreeSet;

use flotilla_domain::{GroupMapping, Role};
use serde_json::{Value, json};

use crate::resources::{DeletionPolicy, ResourceHome, ResourceSpec};
use crate::{Actor, Error, Result, Store};

/// Each level of access: the project role, the workspace role that holds it too, the
/// binding's name and the ClusterRole it binds to.
const LEVELS: [(Role, Role, &str, &str); 3] = [
    (Role::ProjectAdmin, Role::WorkspaceAdmin, "flotilla-project-admins", "admin"),
    (Role::ProjectEditor, Role::WorkspaceEditor, "flotilla-project-editors", "edit"),
    (Role::ProjectViewer, Role::WorkspaceViewer, "flotilla-project-viewers", "view"),
];

/// Whether a project's resource is one of the bindings kept by [`Store::sync_project_access`]
/// (users change the rules, not the bindings).
pub fn is_access_binding(kind: &str, name: &str) -> bool {
    kind == "RoleBinding" && LEVELS.iter().any(|(_, _, binding, _)| *binding == name)
}

/// The RoleBinding giving `groups` the ClusterRole `cluster_role` in the project's namespace.
fn binding(name: &str, cluster_role: &str, groups: &BTreeSet<&str>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": { "name": name },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role },
        "subjects": groups
            .iter()
            .map(|g| json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g }))
            .collect::<Vec<_>>(),
    })
}

/// The groups `rules` give `project_role` on the project, or `workspace_role` on its workspace.
fn groups_for<'a>(
    rules: &'a [GroupMapping],
    (project_role, workspace_role): (Role, Role),
    project_id: &str,
    workspace_id: &str,
) -> BTreeSet<&'a str> {
    rules
        .iter()
        .filter(|m| {
            (m.role == project_role && m.scope_id == project_id)
                || (m.role == workspace_role && m.scope_id == workspace_id)
        })
        .map(|m| m.group.as_str())
        .collect()
}

impl Store {
    /// Brings the access bindings of project `project_id` in line with the tenant's group
    /// rules: a binding per level some group holds, none for a level nobody holds. Writes
    /// only what differs, as Flotilla (audited, with revisions like any change). Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn sync_project_access(&self, tenant_id: &str, project_id: &str) -> Result<()> {
        let project = self.get_project(tenant_id, project_id).await?;
        let rules = self.group_mappings(tenant_id).await?;
        let existing = self.list_resources(tenant_id, &project.workspace_id, Some(project_id)).await?;
        let actor = Actor::system("flotilla (group rules)");
        for (project_role, workspace_role, name, cluster_role) in LEVELS {
            let groups = groups_for(&rules, (project_role, workspace_role), &project.id, &project.workspace_id);
            let current = existing.iter().find(|r| !r.deleted && r.kind == "RoleBinding" && r.name == name);
            match (groups.is_empty(), current) {
                (true, None) => {}
                (true, Some(r)) => {
                    self.delete_resource(tenant_id, &actor, &r.id, r.version, DeletionPolicy::Delete).await?;
                }
                (false, None) => {
                    let home = ResourceHome {
                        workspace_id: &project.workspace_id,
                        project: Some((&project.id, &project.name)),
                    };
                    let spec = ResourceSpec::new(binding(name, cluster_role, &groups));
                    self.create_resource(tenant_id, &actor, home, &spec).await?;
                }
                (false, Some(r)) => {
                    let wanted = binding(name, cluster_role, &groups);
                    let stored = self.resource_revision(tenant_id, &r.id, None).await?;
                    if stored.spec.template != wanted {
                        let spec = ResourceSpec { template: wanted, ..stored.spec };
                        self.update_resource(tenant_id, &actor, &r.id, r.version, &spec).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// [`Store::sync_project_access`] for every project of every tenant (at start-up: catches
    /// up with rule changes whose bindings could not be written at the time).
    #[tracing::instrument(skip(self))]
    pub async fn sync_all_access(&self) -> Result<()> {
        let projects: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, id FROM projects ORDER BY tenant_id, id").fetch_all(&self.pool).await?;
        for (tenant_id, project_id) in projects {
            if let Err(e) = self.sync_project_access(&tenant_id, &project_id).await {
                tracing::warn!(error = %e, %project_id, "could not bring a project's access bindings up to date");
            }
        }
        Ok(())
    }

    /// [`Store::sync_project_access`] for every project a rule on `role`/`scope_id` concerns:
    /// the project, or each project of the workspace. Tenant roles concern none.
    pub(crate) async fn sync_access_after_rule(&self, tenant_id: &str, role: Role, scope_id: &str) -> Result<()> {
        let projects = match role.scope() {
            flotilla_domain::RoleScope::Project => vec![scope_id.to_owned()],
            flotilla_domain::RoleScope::Workspace => match self.get_workspace(tenant_id, scope_id).await {
                Ok(_) => self.list_projects(tenant_id, scope_id).await?.into_iter().map(|p| p.id).collect(),
                Err(Error::NotFound(_)) => Vec::new(),
                Err(e) => return Err(e),
            },
            _ => Vec::new(),
        };
        for project in projects {
            match self.sync_project_access(tenant_id, &project).await {
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_names_each_group_once_in_order() {
        let groups: BTreeSet<&str> = ["sre", "kafka-team"].into_iter().collect();
        let b = binding("flotilla-project-editors", "edit", &groups);
        assert_eq!(b["roleRef"]["name"], "edit");
        assert_eq!(b["subjects"][0]["name"], "kafka-team");
        assert_eq!(b["subjects"][1]["kind"], "Group");
        assert!(is_access_binding("RoleBinding", "flotilla-project-viewers"));
        assert!(!is_access_binding("RoleBinding", "my-binding"));
        assert!(!is_access_binding("Role", "flotilla-project-viewers"));
    }

    #[test]
    fn workspace_rules_reach_every_project_of_the_workspace() {
        let rule = |group: &str, role, scope: &str| GroupMapping { group: group.into(), role, scope_id: scope.into() };
        let rules = [
            rule("kafka-team", Role::ProjectEditor, "p1"),
            rule("sre", Role::WorkspaceEditor, "w1"),
            rule("other", Role::ProjectEditor, "p2"),
            rule("viewers", Role::ProjectViewer, "p1"),
        ];
        let editors = groups_for(&rules, (Role::ProjectEditor, Role::WorkspaceEditor), "p1", "w1");
        assert_eq!(editors.into_iter().collect::<Vec<_>>(), ["kafka-team", "sre"]);
        let in_p3 = groups_for(&rules, (Role::ProjectEditor, Role::WorkspaceEditor), "p3", "w1");
        assert_eq!(in_p3.into_iter().collect::<Vec<_>>(), ["sre"]);
        assert!(groups_for(&rules, (Role::ProjectAdmin, Role::WorkspaceAdmin), "p1", "w1").is_empty());
    }
}
