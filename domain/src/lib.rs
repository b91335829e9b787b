//! Flotilla's domain: the types and rules shared by the server, the engine and the browser.
//!
//! Nothing here does I/O, so everything compiles to wasm and is unit-tested in isolation.

pub mod access;
pub mod catalog;
pub mod cluster;
pub mod error;
pub mod federate;
pub mod join;
pub mod kinds;
pub mod kubefed;
pub mod limits;
mod manifest;
pub mod names;
pub mod overrides;
pub mod placement;
pub mod policy;
pub mod provider;
pub mod redirect;
pub mod render;
pub mod resource;
pub mod review;
pub mod role;
pub mod rollout;
pub mod selector;
pub mod status;

pub use cluster::ClusterSummary;
pub use error::{Error, Result};
pub use manifest::parse_manifest;
pub use names::{ResourceName, TenantSlug, Username, check_new_password};
pub use overrides::{ClusterOverride, OverrideOp, OverridePatch, ResolvedOverrides, escape_pointer};
pub use placement::{Placement, Reach, ResolvedPlacement, Scope};
pub use policy::{Clearance, PodSecurity};
pub use provider::ProviderCheck;
pub use render::{ObjectKey, RenderInput, Rendered};
pub use role::{Access, Grant, GroupMapping, Level, Role, RoleScope, grants_for_groups};
pub use selector::{LabelSelector, parse_labels};
pub use status::{Health, StatusCode, WorkloadHealth};
