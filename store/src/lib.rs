//! Flotilla's store: the database behind everything (SQLite by default), reached only
//! through the repositories here. Every query on tenant-owned data filters by tenant.
//!
//! Also home of the secret helpers: [`SecretCipher`] encrypts credentials and Secret values
//! at rest, [`password`] hashes local passwords.

mod access;
mod apps;
mod audit;
mod bootstrap;
mod change_log;
mod changes;
mod clusters;
mod db;
mod engine_view;
mod error;
mod flag;
mod ids;
mod leases;
mod login;
pub mod password;
mod projects;
mod resources;
mod revisions;
mod rollouts;
mod secret_cipher;
mod sessions;
mod status;
mod tenants;
mod throttle;
mod tokens;
mod types;
mod users;
mod workspaces;

pub use apps::{CatalogSync, CatalogVersion, InstallHome, InstallRecord, NewInstall, render_for};
pub use audit::{AuditEntry, AuditOutcome, AuditQuery, AuditRecord};
pub use bootstrap::BootstrapOutcome;
pub use changes::{Actor, Change};
pub use clusters::NewCluster;
pub use db::{Backend, PoolSettings, Store};
pub use engine_view::{
    EngineCluster, EngineHold, EngineProject, EngineResource, EngineVersions, EngineWorkspace, StableRevision,
};
pub use error::{Error, Result};
pub use flotilla_domain::ClusterSummary;
pub use ids::{new_id, now_ms};
pub use leases::HeldLease;
pub use login::{LoginAttempt, OidcLogin};
pub use projects::{ImportedProject, PROJECT_LABEL, Project};
pub use resources::{
    DeletionPolicy, ProjectScope, ResourceHome, ResourceRecord, ResourceSpec, check_new, check_removal, check_update,
};
pub use revisions::{RevisionRecord, StoredRevision};
pub use rollouts::{
    AppUpgrade, DriverView, GateStatus, RolloutAction, RolloutCluster, RolloutDetail, RolloutEvent, RolloutRecord,
    RolloutResource,
};
pub use secret_cipher::{SecretCipher, SecretKey};
pub use sessions::StoredSession;
pub use status::{ClusterHealth, ShownStatus, StatusRecord};
pub use tenants::{
    GroupMappingRecord, OidcSettings, OidcSettingsInput, OidcSettingsView, Tenant, TenantDetail, TenantSummary,
};
pub use throttle::{LoginThrottle, ThrottleSettings, Throttled};
pub use tokens::{ApiToken, MAX_TOKEN_DAYS, NewToken, TOKEN_PREFIX, TokenPrincipal};
pub use types::{ClusterTypes, FleetTypes};
pub use users::{Person, PersonRole, User};
pub use workspaces::Workspace;
