//! What checking a tenant's OpenID Provider found: the OIDC crate finds it, the tenant page
//! shows it.

use serde::{Deserialize, Serialize};

/// The provider's answer to discovery, and what else was checked about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderCheck {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub signing_algs: Vec<String>,
    /// What else was checked or is worth knowing, one sentence each.
    pub notes: Vec<String>,
}
