//! Roles a user holds, and what they allow. Granted locally or mapped from OIDC groups.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    Platform,
    Tenant,
    Workspace,
    Project,
}

/// A role, named as it is stored (`role_bindings.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages tenants; the bootstrap admin.
    PlatformAdmin,
    TenantAdmin,
    WorkspaceAdmin,
    WorkspaceEditor,
    WorkspaceViewer,
    ProjectAdmin,
    ProjectEditor,
    ProjectViewer,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::PlatformAdmin,
        Role::TenantAdmin,
        Role::WorkspaceAdmin,
        Role::WorkspaceEditor,
        Role::WorkspaceViewer,
        Role::ProjectAdmin,
        Role::ProjectEditor,
        Role::ProjectViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::WorkspaceAdmin => "workspace_admin",
            Role::WorkspaceEditor => "workspace_editor",
            Role::WorkspaceViewer => "workspace_viewer",
            Role::ProjectAdmin => "project_admin",
            Role::ProjectEditor => "project_editor",
            Role::ProjectViewer => "project_viewer",
        }
    }

    pub fn scope(self) -> RoleScope {
        match self {
            Role::PlatformAdmin => RoleScope::Platform,
            Role::TenantAdmin => RoleScope::Tenant,
            Role::WorkspaceAdmin | Role::WorkspaceEditor | Role::WorkspaceViewer => RoleScope::Workspace,
            Role::ProjectAdmin | Role::ProjectEditor | Role::ProjectViewer => RoleScope::Project,
        }
    }

    /// The role as pages name it: "Tenant admin".
    pub fn label(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "Platform admin",
            Role::TenantAdmin => "Tenant admin",
            Role::WorkspaceAdmin => "Workspace admin",
            Role::WorkspaceEditor => "Workspace editor",
            Role::WorkspaceViewer => "Workspace viewer",
            Role::ProjectAdmin => "Project admin",
            Role::ProjectEditor => "Project editor",
            Role::ProjectViewer => "Project viewer",
        }
    }

    /// Whether the role may change what it is scoped to (viewers may not).
    pub fn can_write(self) -> bool {
        !matches!(self, Role::WorkspaceViewer | Role::ProjectViewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::invalid("role", format!("unknown role '{s}'")))
    }
}

/// A role held on a scope: the tenant (`scope_id` empty), a workspace or a project (its id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    #[serde(default)]
    pub scope_id: String,
}

impl Grant {
    pub fn new(role: Role, scope_id: impl Into<String>) -> Self {
        Self { role, scope_id: scope_id.into() }
    }
}

/// A tenant admin's rule: members of `group` (as the provider names it) hold `role` on `scope_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMapping {
    pub group: String,
    pub role: Role,
    pub scope_id: String,
}

/// The roles a user with `groups` holds under `mappings`: every mapping whose group is one of
/// theirs, compared exactly (providers' group names are case-sensitive). Platform admin is
/// never granted by a group: it stays a local account's.
pub fn grants_for_groups(groups: &[String], mappings: &[GroupMapping]) -> BTreeSet<Grant> {
    mappings
        .iter()
        .filter(|m| m.role != Role::PlatformAdmin && groups.contains(&m.group))
        .map(|m| Grant::new(m.role, m.scope_id.clone()))
        .collect()
}

/// How much a user may do with a workspace or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// See it and its rollout.
    View,
    /// Also add, change and delete its resources.
    Edit,
    /// Also change its selector, and (for a workspace) create projects in it.
    Admin,
}

impl Level {
    fn of(role: Role) -> Level {
        match role {
            Role::PlatformAdmin | Role::TenantAdmin | Role::WorkspaceAdmin | Role::ProjectAdmin => Level::Admin,
            Role::WorkspaceEditor | Role::ProjectEditor => Level::Edit,
            Role::WorkspaceViewer | Role::ProjectViewer => Level::View,
        }
    }

    pub fn can_edit(self) -> bool {
        self >= Level::Edit
    }

    pub fn is_admin(self) -> bool {
        self == Level::Admin
    }

    pub const ALL: [Level; 3] = [Level::View, Level::Edit, Level::Admin];

    /// As stored and sent: `view`, `edit`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::View => "view",
            Level::Edit => "edit",
            Level::Admin => "admin",
        }
    }
}

impl FromStr for Level {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| Error::invalid("access", format!("'{s}' is not an access level: use view, edit or admin")))
    }
}

/// What a user may do in their tenant, from their grants. A tenant admin may do everything;
/// a workspace role also holds in every project of the workspace; the higher of two levels
/// wins. Pure, so the browser hides exactly what the server refuses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub platform_admin: bool,
    pub tenant_admin: bool,
    pub workspaces: BTreeMap<String, Level>,
    pub projects: BTreeMap<String, Level>,
    /// The most any of these roles may do here: an API token's access (`None`: all they
    /// allow). A token of `view` sees what its user sees and changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Level>,
}

impl Access {
    pub fn from_grants<'a>(grants: impl IntoIterator<Item = &'a Grant>) -> Self {
        let mut access = Access::default();
        for grant in grants {
            let level = Level::of(grant.role);
            let raise = |map: &mut BTreeMap<String, Level>| {
                let entry = map.entry(grant.scope_id.clone()).or_insert(level);
                *entry = (*entry).max(level);
            };
            match grant.role.scope() {
                RoleScope::Platform => access.platform_admin = true,
                RoleScope::Tenant => access.tenant_admin = true,
                RoleScope::Workspace => raise(&mut access.workspaces),
                RoleScope::Project => raise(&mut access.projects),
            }
        }
        access
    }

    /// These roles, doing at most `cap` (an API token's access): they still see all they see.
    pub fn capped(self, cap: Level) -> Self {
        Access { cap: Some(self.cap.map_or(cap, |c| c.min(cap))), ..self }
    }

    fn limit(&self, level: Level) -> Level {
        self.cap.map_or(level, |cap| level.min(cap))
    }

    /// Registering, relabelling and deregistering clusters, creating workspaces, reading the
    /// audit log.
    pub fn is_tenant_admin(&self) -> bool {
        self.tenant_admin && self.limit(Level::Admin) == Level::Admin
    }

    /// Managing tenants (never through a token of less than admin).
    pub fn is_platform_admin(&self) -> bool {
        self.platform_admin && self.limit(Level::Admin) == Level::Admin
    }

    /// The user's level on the workspace itself (its selector, its cluster-scoped resources).
    pub fn workspace(&self, workspace_id: &str) -> Option<Level> {
        let level = if self.tenant_admin { Some(Level::Admin) } else { self.workspaces.get(workspace_id).copied() };
        level.map(|l| self.limit(l))
    }

    /// The user's level on a project of `workspace_id`.
    pub fn project(&self, project_id: &str, workspace_id: &str) -> Option<Level> {
        let own = self.projects.get(project_id).copied().map(|l| self.limit(l));
        match (self.workspace(workspace_id), own) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the workspace shows up for the user at all: a role on it, or on one of its
    /// projects (whose page is reached through it).
    pub fn sees_workspace<'a>(&self, workspace_id: &str, project_ids: impl IntoIterator<Item = &'a str>) -> bool {
        self.workspace(workspace_id).is_some() || project_ids.into_iter().any(|p| self.projects.contains_key(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_stored_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("owner".parse::<Role>().unwrap_err().to_string().contains("unknown role 'owner'"));
    }

    #[test]
    fn viewers_cannot_write() {
        assert!(!Role::ProjectViewer.can_write());
        assert!(!Role::WorkspaceViewer.can_write());
        assert!(Role::ProjectEditor.can_write());
        assert_eq!(Role::ProjectEditor.scope(), RoleScope::Project);
    }

    fn mapping(group: &str, role: Role, scope: &str) -> GroupMapping {
        GroupMapping { group: group.into(), role, scope_id: scope.into() }
    }

    #[test]
    fn groups_map_to_the_roles_of_every_matching_rule() {
        let rules = [
            mapping("platform", Role::TenantAdmin, ""),
            mapping("kafka-team", Role::ProjectEditor, "p-kafka"),
            mapping("kafka-team", Role::WorkspaceViewer, "w-prod"),
            mapping("auditors", Role::WorkspaceViewer, "w-prod"),
            // Never from a group, whatever a rule says.
            mapping("root", Role::PlatformAdmin, ""),
        ];
        let grants = grants_for_groups(&["kafka-team".into(), "auditors".into(), "root".into()], &rules);
        assert_eq!(
            grants.into_iter().collect::<Vec<_>>(),
            [Grant::new(Role::WorkspaceViewer, "w-prod"), Grant::new(Role::ProjectEditor, "p-kafka")],
            "sorted, without duplicates, without platform admin"
        );
        // Group names are compared exactly.
        assert!(grants_for_groups(&["Platform".into()], &rules).is_empty());
        assert!(grants_for_groups(&[], &rules).is_empty());
        assert_eq!(grants_for_groups(&["platform".into()], &rules).len(), 1);
    }

    #[test]
    fn a_capped_access_sees_the_same_and_does_at_most_its_cap() {
        let grants = [
            Grant::new(Role::TenantAdmin, ""),
            Grant::new(Role::PlatformAdmin, ""),
            Grant::new(Role::ProjectAdmin, "p-kafka"),
        ];
        let full = Access::from_grants(&grants);
        let view = full.clone().capped(Level::View);
        assert!(full.is_tenant_admin() && full.is_platform_admin());
        assert!(!view.is_tenant_admin() && !view.is_platform_admin());
        assert_eq!(view.workspace("w-any"), Some(Level::View), "still sees every workspace");
        assert_eq!(view.project("p-kafka", "w-prod"), Some(Level::View));
        let edit = Access::from_grants(&[Grant::new(Role::ProjectAdmin, "p-kafka")]).capped(Level::Edit);
        assert_eq!(edit.project("p-kafka", "w-prod"), Some(Level::Edit));
        assert_eq!(edit.workspace("w-prod"), None, "a cap never adds");
        assert_eq!(edit.clone().capped(Level::Admin).cap, Some(Level::Edit), "caps only narrow");
        assert_eq!(full.clone().capped(Level::Admin), Access { cap: Some(Level::Admin), ..full });
        assert_eq!("edit".parse::<Level>().unwrap(), Level::Edit);
        assert!("root".parse::<Level>().unwrap_err().to_string().contains("view, edit or admin"));
    }

    #[test]
    fn workspace_roles_reach_its_projects_and_the_higher_level_wins() {
        let grants = [
            Grant::new(Role::WorkspaceViewer, "w-prod"),
            Grant::new(Role::ProjectEditor, "p-kafka"),
            Grant::new(Role::WorkspaceEditor, "w-dev"),
            Grant::new(Role::ProjectViewer, "p-dev-app"),
        ];
        let access = Access::from_grants(&grants);
        assert!(!access.is_tenant_admin());
        assert_eq!(access.workspace("w-prod"), Some(Level::View));
        assert_eq!(access.project("p-kafka", "w-prod"), Some(Level::Edit), "project role above the workspace's");
        assert_eq!(access.project("p-other", "w-prod"), Some(Level::View), "workspace role reaches every project");
        assert_eq!(access.project("p-dev-app", "w-dev"), Some(Level::Edit), "workspace editor beats project viewer");
        assert_eq!(access.workspace("w-staging"), None);
        assert_eq!(access.project("p-x", "w-staging"), None);
        assert!(access.sees_workspace("w-prod", []));
        assert!(!access.sees_workspace("w-staging", ["p-x"]));
        let project_only = Access::from_grants(&[Grant::new(Role::ProjectViewer, "p-x")]);
        assert!(project_only.sees_workspace("w-staging", ["p-y", "p-x"]), "seen through its project");
        assert_eq!(project_only.workspace("w-staging"), None, "but not a role on it");
    }

    #[test]
    fn a_tenant_admin_may_do_everything_and_viewers_nothing_but_look() {
        let admin = Access::from_grants(&[Grant::new(Role::TenantAdmin, "")]);
        assert_eq!(admin.workspace("any"), Some(Level::Admin));
        assert_eq!(admin.project("any", "other"), Some(Level::Admin));
        assert!(!admin.platform_admin);
        assert!(!Level::View.can_edit());
        assert!(Level::Edit.can_edit() && !Level::Edit.is_admin());
        assert!(Level::Admin.can_edit() && Level::Admin.is_admin());
    }
}
