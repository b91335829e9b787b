//! The sync engine: renders each federated resource for every cluster its placement selects,
//! and per-cluster workers make the member clusters match (see DESIGN.md, "Flow of data").
//!
//! - [`EngineHandle::start`] loads the model from the store and runs one worker per cluster.
//! - Store change events wake only the workers of the clusters a change affects.
//! - Workers write only what differs from what the member last accepted, watch what they
//!   wrote for drift and workload health, and publish status ([`StatusEvent`]).

mod client;
mod cluster_worker;
mod engine;
mod error;
pub mod kubeconfig;
mod mailbox;
mod member;
mod model;
mod settings;
mod status;
mod watch;

pub use engine::EngineHandle;
pub use error::{Error, Result};
pub use settings::EngineSettings;
pub use status::StatusEvent;
