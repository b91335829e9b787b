//! Project roles in the clusters, as objects. The groups a tenant's rules give a role on a
//! project (or on its workspace) are bound, in the project's namespace, to Kubernetes'
//! built-in ClusterRoles `admin`, `edit` and `view`: one RoleBinding per level, named
//! `flotilla-project-admins`, `-editors`, `-viewers`. This file says what those bindings are;
//! the store keeps them as the project's resources, and a reconciler keeps them current.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{GroupMapping, Role};

/// One level of access in a project's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessLevel {
    /// The project role that holds it.
    pub project_role: Role,
    /// The workspace role that holds it in each of the workspace's projects.
    pub workspace_role: Role,
    /// The RoleBinding's name.
    pub binding: &'static str,
    /// The built-in ClusterRole it binds to.
    pub cluster_role: &'static str,
}

/// The levels, most powerful first.
pub const ACCESS_LEVELS: [AccessLevel; 3] = [
    AccessLevel {
        project_role: Role::ProjectAdmin,
        workspace_role: Role::WorkspaceAdmin,
        binding: "flotilla-project-admins",
        cluster_role: "admin",
    },
    AccessLevel {
        project_role: Role::ProjectEditor,
        workspace_role: Role::WorkspaceEditor,
        binding: "flotilla-project-editors",
        cluster_role: "edit",
    },
    AccessLevel {
        project_role: Role::ProjectViewer,
        workspace_role: Role::WorkspaceViewer,
        binding: "flotilla-project-viewers",
        cluster_role: "view",
    },
];

/// Whether a project's resource is one of the access bindings (kept by the rules: users
/// change the rules, not the bindings).
pub fn is_access_binding(kind: &str, name: &str) -> bool {
    kind == "RoleBinding" && ACCESS_LEVELS.iter().any(|l| l.binding == name)
}

impl AccessLevel {
    /// The groups `rules` give this level on project `project_id` (directly, or through its
    /// workspace `workspace_id`).
    pub fn groups<'a>(&self, rules: &'a [GroupMapping], project_id: &str, workspace_id: &str) -> BTreeSet<&'a str> {
        rules
            .iter()
            .filter(|m| {
                (m.role == self.project_role && m.scope_id == project_id)
                    || (m.role == self.workspace_role && m.scope_id == workspace_id)
            })
            .map(|m| m.group.as_str())
            .collect()
    }

    /// The RoleBinding giving `groups` this level; `None` when no group holds it (then there
    /// must be no binding).
    pub fn binding_for(&self, groups: &BTreeSet<&str>) -> Option<Value> {
        if groups.is_empty() {
            return None;
        }
        Some(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": { "name": self.binding },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": self.cluster_role },
            "subjects": groups
                .iter()
                .map(|g| json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g }))
                .collect::<Vec<_>>(),
        }))
    }
}

/// What a project's access bindings must be under `rules`: for each level, its binding's name
/// and the binding (`None`: there must be none).
pub fn project_access_bindings(
    rules: &[GroupMapping],
    project_id: &str,
    workspace_id: &str,
) -> Vec<(&'static str, Option<Value>)> {
    ACCESS_LEVELS
        .iter()
        .map(|level| (level.binding, level.binding_for(&level.groups(rules, project_id, workspace_id))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, role: Role, scope: &str) -> GroupMapping {
        GroupMapping { group: group.into(), role, scope_id: scope.into() }
    }

    #[test]
    fn a_binding_names_each_group_once_in_order_and_none_without_groups() {
        let editors = ACCESS_LEVELS[1];
        let groups: BTreeSet<&str> = ["sre", "kafka-team"].into_iter().collect();
        let b = editors.binding_for(&groups).unwrap();
        assert_eq!(b["metadata"]["name"], "flotilla-project-editors");
        assert_eq!(b["roleRef"]["name"], "edit");
        assert_eq!(b["subjects"][0]["name"], "kafka-team");
        assert_eq!(b["subjects"][1]["kind"], "Group");
        assert_eq!(editors.binding_for(&BTreeSet::new()), None);
        assert!(is_access_binding("RoleBinding", "flotilla-project-viewers"));
        assert!(!is_access_binding("RoleBinding", "my-binding"));
        assert!(!is_access_binding("Role", "flotilla-project-viewers"));
    }

    #[test]
    fn workspace_rules_reach_every_project_of_the_workspace() {
        let rules = [
            rule("kafka-team", Role::ProjectEditor, "p1"),
            rule("sre", Role::WorkspaceEditor, "w1"),
            rule("other", Role::ProjectEditor, "p2"),
            rule("viewers", Role::ProjectViewer, "p1"),
        ];
        let editors = ACCESS_LEVELS[1];
        assert_eq!(editors.groups(&rules, "p1", "w1").into_iter().collect::<Vec<_>>(), ["kafka-team", "sre"]);
        assert_eq!(editors.groups(&rules, "p3", "w1").into_iter().collect::<Vec<_>>(), ["sre"]);
        let wanted = project_access_bindings(&rules, "p1", "w1");
        let names: Vec<(&str, bool)> = wanted.iter().map(|(n, b)| (*n, b.is_some())).collect();
        assert_eq!(
            names,
            [
                ("flotilla-project-admins", false),
                ("flotilla-project-editors", true),
                ("flotilla-project-viewers", true)
            ]
        );
    }
}
