//! Flotilla's store: the database behind everything (SQLite by default), reached only
//! through the repositories here. Every query on tenant-owned data filters by tenant.
//!
//! Also home of the secret helpers: [`SecretCipher`] encrypts credentials and Secret values
//! at rest, [`password`] hashes local passwords.

mod audit;
mod bootstrap;
mod clusters;
mod db;
mod error;
mod ids;
mod login;
pub mod password;
mod secret_cipher;
mod sessions;
mod tenants;
mod users;

pub use audit::{AuditEntry, AuditOutcome, AuditRecord};
pub use bootstrap::BootstrapOutcome;
pub use clusters::NewCluster;
pub use db::Store;
pub use error::{Error, Result};
pub use flotilla_domain::ClusterSummary;
pub use ids::{new_id, now_ms};
pub use login::LoginAttempt;
pub use secret_cipher::{SecretCipher, SecretKey};
pub use sessions::StoredSession;
pub use tenants::Tenant;
pub use users::User;
