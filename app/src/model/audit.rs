//! The audit log as its page lists it, and what its filter offers.

use serde::{Deserialize, Serialize};

/// One entry as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    /// UTC, to the second.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_name: String,
    /// Where the target's page is, if it has one.
    pub link: Option<String>,
    pub outcome: String,
    /// `key: value` pairs of the entry's detail.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Whether older entries match too (ask with `before` = the last row's id).
    pub more: bool,
}

/// Entries shown at once.
pub const PAGE: usize = 50;

/// What the action filter offers: a kind of target (every action on it) or one action.
pub const ACTIONS: &[&str] = &[
    "bootstrap",
    "login",
    "login_failed",
    "logout",
    "tenant",
    "tenant.create",
    "tenant.oidc_update",
    "role_mapping",
    "role_mapping.add",
    "role_mapping.remove",
    "user",
    "user.create",
    "user.roles_changed",
    "user.password_changed",
    "user.disable",
    "user.enable",
    "cluster",
    "cluster.register",
    "cluster.update",
    "cluster.labels",
    "cluster.deregister",
    "cluster.unjoin",
    "cluster.grant",
    "workspace",
    "workspace.create",
    "workspace.update",
    "workspace.delete",
    "project",
    "project.create",
    "project.delete",
    "project.update",
    "resource",
    "resource.create",
    "resource.update",
    "resource.revert",
    "resource.delete",
    "app",
    "app.install",
    "rollout",
    "rollout.start",
    "rollout.pause",
    "rollout.resume",
    "rollout.approve",
    "rollout.retry",
    "rollout.skip",
    "rollout.abort",
    "rollout.succeeded",
    "rollout.aborted",
];
