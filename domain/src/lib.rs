//! Flotilla's domain: the types and rules shared by the server, the engine and the browser.
//!
//! Nothing here does I/O, so everything compiles to wasm and is unit-tested in isolation.

pub mod cluster;
pub mod error;
pub mod names;
pub mod role;

pub use cluster::ClusterSummary;
pub use error::{Error, Result};
pub use names::{ResourceName, TenantSlug, Username};
pub use role::{Role, RoleScope};
