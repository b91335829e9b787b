//! Tenants as the platform admin manages them, and a tenant's group rules.

use serde::{Deserialize, Serialize};

pub use flotilla_domain::{ProviderCheck, Role};

/// A tenant in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    /// The provider's issuer; `None`: local accounts only.
    pub issuer: Option<String>,
    pub users: i64,
    pub clusters: i64,
}

/// A tenant's provider settings as the form shows them: the secret never, only whether one
/// is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcForm {
    pub issuer_url: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: String,
    pub groups_claim: String,
}

/// One group → role rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub id: String,
    pub group: String,
    pub role: Role,
    /// `prod` or `prod/kafka`; empty for the whole tenant.
    pub scope: String,
}

/// A workspace or project a rule can name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub id: String,
    /// `prod` (a workspace) or `prod/kafka` (a project).
    pub label: String,
    pub is_project: bool,
}

/// A tenant's admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantPage {
    pub tenant: TenantRow,
    /// What an edit of the provider settings must name.
    pub version: i64,
    pub oidc: Option<OidcForm>,
    pub mappings: Vec<MappingRow>,
    pub scopes: Vec<ScopeChoice>,
    /// To register at the provider: where it sends users back, and after logging out.
    pub redirect_uri: String,
    pub post_logout_uri: String,
    pub login_url: String,
}

/// A tenant's group rules, as its own admin manages them (on the People page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesPage {
    pub tenant_id: String,
    /// Whether the tenant logs in through a provider (else the rules do nothing yet).
    pub has_provider: bool,
    pub mappings: Vec<MappingRow>,
    pub scopes: Vec<ScopeChoice>,
}

/// The provider form as submitted (form fields `provider[issuer_url]`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderForm {
    pub issuer_url: String,
    pub client_id: String,
    /// Empty keeps the stored secret.
    #[serde(default)]
    pub client_secret: String,
    /// Set (to anything): a public client, without a secret.
    #[serde(default)]
    pub public_client: Option<String>,
    pub scopes: String,
    pub groups_claim: String,
}
