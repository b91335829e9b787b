//! Simulated member clusters that speak the Kubernetes REST API over real HTTP, for tests,
//! the demo fleet and benchmarks. Depends on nothing of Flotilla's: it stands in for a real
//! kube-apiserver. A shell until the simulator issue fills it.

/// Why the simulator could not do something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not bind the simulator's listener: {0}")]
    Bind(#[source] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
