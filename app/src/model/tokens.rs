//! API tokens as the account page shows them (never their secrets, but once).

use serde::{Deserialize, Serialize};

use super::ScopeChoice;

/// A token in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    /// The secret's first characters, to match a token found in a script with its row.
    pub hint: String,
    /// The most it may do with its user's roles.
    pub access: flotilla_domain::Level,
    /// Whose roles it acts with.
    pub user: String,
    /// It acts as a service account (else as a person).
    pub service: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    /// Whether it still works at `now`.
    pub fn active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A service account a tenant admin may make tokens for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountChoice {
    pub id: String,
    pub name: String,
}

/// The caller's tokens (a tenant admin's: every token of the tenant) and what they may make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenRow>,
    /// Empty unless the caller is a tenant admin.
    pub service_accounts: Vec<ServiceAccountChoice>,
    /// Where a new service account's role may apply (a tenant admin's).
    pub scopes: Vec<ScopeChoice>,
    pub tenant_admin: bool,
    pub max_days: u32,
    /// The server's clock when read.
    pub now: i64,
}

/// A token just made: its secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTokenShown {
    pub token: TokenRow,
    pub secret: String,
}
