//! The fleet: clusters as the fleet page lists them, and the register form's choices.

use serde::{Deserialize, Serialize};

pub use flotilla_domain::ClusterSummary;

/// A cluster as the fleet page lists it: with how many workspaces and projects reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRow {
    pub cluster: ClusterSummary,
    pub workspaces: usize,
    pub projects: usize,
}

/// A kubeconfig context as the register form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextChoice {
    pub name: String,
    pub server: String,
    /// Why it cannot be used, if it cannot (shown, and the option disabled).
    pub problem: Option<String>,
}
