//! The sync engine: renders each federated resource for every cluster its placement selects,
//! and per-cluster workers make the member clusters match (see DESIGN.md, "Flow of data").
//!
//! This crate is a shell until the engine issue fills it; its error type is the contract
//! the server already builds against.

/// Why the engine could not do something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] flotilla_store::Error),
    #[error("invalid input: {0}")]
    Domain(#[from] flotilla_domain::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
