//! The people of a tenant and the roles they hold.

use serde::{Deserialize, Serialize};

use super::Role;

/// One role as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub role: Role,
    /// `prod` or `prod/kafka`; empty for the whole tenant.
    pub scope: String,
    /// From the groups of their last login (else given in Flotilla).
    pub from_groups: bool,
}

/// A person of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Logs in through the tenant's provider (else with a password).
    pub oidc: bool,
    /// A service account (API tokens only, no login).
    #[serde(default)]
    pub service: bool,
    pub disabled: bool,
    pub last_login_at: Option<i64>,
    pub roles: Vec<RoleRow>,
    /// Whether the caller may disable them: not themselves, not the platform admin.
    pub can_disable: bool,
}
