/// Why the engine could not do something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] flotilla_store::Error),
    #[error("invalid input: {0}")]
    Domain(#[from] flotilla_domain::Error),
    #[error("cluster {cluster}: {reason}")]
    ClusterConfig { cluster: String, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
