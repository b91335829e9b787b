//! The sync engine: renders each federated resource for every cluster its placement selects,
//! and per-cluster workers make the member clusters match.
//!
//! - [`EngineHandle::start`] loads the model from the store and runs one worker per cluster.
//! - Store change events wake only the workers of the clusters a change affects.
//! - Workers plan each pass with a pure function ([`plan`](crate::plan)): what should be
//!   there, against what the member accepted last and what its watches saw; they write only
//!   what differs, watch what they wrote for drift and workload health, and publish status
//!   ([`StatusEvent`]).
//! - Stopping ([`EngineHandle::shutdown`]) lets writes in flight end and stores every status.
//!
//! `ARCHITECTURE.md` at the repository's root follows one change through these files.

mod client;
mod cluster_worker;
mod discovery;
mod engine;
mod error;
pub mod federate;
pub mod join;
pub mod kubeconfig;
mod locks;
mod mailbox;
mod member;
mod metrics;
mod model;
mod plan;
mod rollouts;
mod settings;
mod shares;
mod status;
mod tracked;
mod watch;

pub use engine::EngineHandle;
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use settings::EngineSettings;
pub use shares::LeaseSettings;
pub use status::StatusEvent;
