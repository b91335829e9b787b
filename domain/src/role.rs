//! Roles a user holds, and what they allow. Granted locally or mapped from OIDC groups.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}
