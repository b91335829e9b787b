//! Tenants as the platform admin manages them: each tenant's OpenID Provider, the rules
//! mapping its groups to roles, and local accounts. Server functions and their types; only
//! the platform admin may call them, but for the group rules, which a tenant's own admin
//! manages too.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use flotilla_domain::Role;

use crate::AppError;

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

/// What "Test configuration" found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub signing_algs: Vec<String>,
    pub notes: Vec<String>,
}

#[server(endpoint = "tenants/list")]
pub async fn list_tenants() -> Result<Vec<TenantRow>, AppError> {
    crate::error::with_status(ssr::list().await)
}

/// Creates a tenant (local accounts only until its provider is set).
#[server(endpoint = "tenants/create")]
pub async fn create_tenant(slug: String, display_name: String) -> Result<TenantRow, AppError> {
    crate::error::with_status(ssr::create(slug, display_name).await)
}

#[server(endpoint = "tenants/get")]
pub async fn get_tenant(id: String) -> Result<TenantPage, AppError> {
    crate::error::with_status(ssr::page(id).await)
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

/// Sets the tenant's provider, if the tenant is still at `version`. An empty client secret
/// keeps the stored one; a public client has none.
#[server(endpoint = "tenants/set-oidc")]
pub async fn set_tenant_oidc(id: String, version: i64, provider: ProviderForm) -> Result<(), AppError> {
    crate::error::with_status(ssr::set_oidc(id, version, Some(provider)).await)
}

/// Removes the tenant's provider: its users can no longer log in, local accounts can.
#[server(endpoint = "tenants/remove-oidc")]
pub async fn remove_tenant_oidc(id: String, version: i64) -> Result<(), AppError> {
    crate::error::with_status(ssr::set_oidc(id, version, None).await)
}

/// Checks the settings as typed (the stored secret when none is typed) against the
/// provider: discovery, what it supports, whether it accepts the client.
#[server(endpoint = "tenants/test-oidc")]
pub async fn test_tenant_oidc(id: String, provider: ProviderForm) -> Result<CheckResult, AppError> {
    crate::error::with_status(ssr::test(id, provider).await)
}

/// The caller's own tenant's group rules (its tenant admin's).
#[server(endpoint = "tenants/own-rules")]
pub async fn own_rules() -> Result<RulesPage, AppError> {
    crate::error::with_status(ssr::own_rules().await)
}

/// Adds the rule: members of `group` hold `role` on `scope_id` (empty for tenant roles).
/// The platform admin, or the tenant's own admin.
#[server(endpoint = "tenants/add-mapping")]
pub async fn add_group_mapping(id: String, group: String, role: String, scope_id: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::add_mapping(id, group, role, scope_id).await)
}

#[server(endpoint = "tenants/remove-mapping")]
pub async fn remove_group_mapping(id: String, mapping_id: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::remove_mapping(id, mapping_id).await)
}

/// Creates a local account with a role on the whole tenant (for tenants without a provider).
#[server(endpoint = "tenants/add-local-user")]
pub async fn add_local_user(id: String, username: String, password: String, role: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::add_local_user(id, username, password, role).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::Role;
    use flotilla_store::{OidcSettingsInput, Store, TenantSummary};
    use secrecy::{ExposeSecret, SecretString};

    use super::*;
    use crate::auth::ssr::{Caller, actor, provider_settings, require_caller};
    use crate::state::app_state;

    /// Only the platform admin manages tenants.
    async fn platform_admin() -> Result<(Caller, Store), AppError> {
        let caller = require_caller().await?;
        if !caller.access.platform_admin {
            return Err(AppError::Forbidden("Only the platform admin manages tenants.".into()));
        }
        Ok((caller, app_state()?.store))
    }

    /// The platform admin, or a tenant admin of tenant `id` itself. Another tenant's admin
    /// is told it does not exist.
    async fn admin_of(id: &str) -> Result<(Caller, Store), AppError> {
        let caller = require_caller().await?;
        if !caller.access.platform_admin {
            if caller.tenant_id != id {
                return Err(AppError::NotFound);
            }
            caller.require_tenant_admin()?;
        }
        Ok((caller, app_state()?.store))
    }

    /// The workspaces and projects of tenant `id` a rule can name, by label.
    async fn scope_choices(store: &Store, id: &str) -> Result<Vec<ScopeChoice>, AppError> {
        let mut scopes = Vec::new();
        let mut projects = store.list_tenant_projects(id).await?;
        for workspace in store.list_workspaces(id).await? {
            for project in projects.remove(&workspace.id).unwrap_or_default() {
                scopes.push(ScopeChoice {
                    id: project.id,
                    label: format!("{}/{}", workspace.name, project.name),
                    is_project: true,
                });
            }
            scopes.push(ScopeChoice { id: workspace.id, label: workspace.name, is_project: false });
        }
        scopes.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(scopes)
    }

    fn mapping_rows(mappings: Vec<flotilla_store::GroupMappingRecord>) -> Vec<MappingRow> {
        mappings
            .into_iter()
            .map(|m| MappingRow { id: m.id, group: m.group, role: m.role, scope: m.scope_name })
            .collect()
    }

    pub async fn own_rules() -> Result<RulesPage, AppError> {
        let caller = require_caller().await?;
        caller.require_tenant_admin()?;
        let store = app_state()?.store;
        let detail = store.tenant_detail(&caller.tenant_id).await?;
        Ok(RulesPage {
            tenant_id: caller.tenant_id.clone(),
            has_provider: detail.oidc.is_some(),
            mappings: mapping_rows(detail.mappings),
            scopes: scope_choices(&store, &caller.tenant_id).await?,
        })
    }

    fn row(t: TenantSummary) -> TenantRow {
        TenantRow {
            id: t.id,
            slug: t.slug,
            display_name: t.display_name,
            issuer: t.oidc_issuer_url,
            users: t.users,
            clusters: t.clusters,
        }
    }

    fn role_of(text: &str) -> Result<Role, AppError> {
        text.parse::<Role>().map_err(|_| AppError::Invalid { field: "role".into(), message: "choose a role".into() })
    }

    /// The form's input as the store takes it: a typed secret replaces the stored one, none
    /// keeps it, "public client" removes it.
    fn settings_input(input: ProviderForm) -> OidcSettingsInput {
        let client_secret = if input.public_client.is_some() {
            Some(SecretString::from(String::new()))
        } else if input.client_secret.is_empty() {
            None
        } else {
            Some(SecretString::from(input.client_secret))
        };
        OidcSettingsInput {
            issuer_url: input.issuer_url,
            client_id: input.client_id,
            client_secret,
            scopes: input.scopes,
            groups_claim: input.groups_claim,
        }
    }

    pub async fn list() -> Result<Vec<TenantRow>, AppError> {
        let (_, store) = platform_admin().await?;
        Ok(store.list_tenants().await?.into_iter().map(row).collect())
    }

    pub async fn create(slug: String, display_name: String) -> Result<TenantRow, AppError> {
        let (caller, store) = platform_admin().await?;
        Ok(row(store.create_tenant(&actor(&caller), &slug, &display_name).await?))
    }

    pub async fn page(id: String) -> Result<TenantPage, AppError> {
        let (_, store) = platform_admin().await?;
        let state = app_state()?;
        let detail = store.tenant_detail(&id).await?;
        let scopes = scope_choices(&store, &id).await?;
        let slug = detail.tenant.slug.clone();
        Ok(TenantPage {
            version: detail.tenant.version,
            tenant: row(detail.tenant),
            oidc: detail.oidc.map(|o| OidcForm {
                issuer_url: o.issuer_url,
                client_id: o.client_id,
                has_client_secret: o.has_client_secret,
                scopes: o.scopes,
                groups_claim: o.groups_claim,
            }),
            mappings: mapping_rows(detail.mappings),
            scopes,
            redirect_uri: state.auth.callback_url(&slug),
            post_logout_uri: state.auth.post_logout_url(&slug),
            login_url: format!("{}/t/{slug}/login", state.auth.public_url),
        })
    }

    pub async fn set_oidc(id: String, version: i64, input: Option<ProviderForm>) -> Result<(), AppError> {
        let (caller, store) = platform_admin().await?;
        Ok(store.set_tenant_oidc(&actor(&caller), &id, input.map(settings_input), version).await?)
    }

    pub async fn test(id: String, input: ProviderForm) -> Result<CheckResult, AppError> {
        let (_, store) = platform_admin().await?;
        let state = app_state()?;
        let tenant = store.tenant_by_id(&id).await?.ok_or(AppError::NotFound)?;
        let typed = settings_input(input);
        let client_secret = match &typed.client_secret {
            Some(s) if s.expose_secret().is_empty() => None,
            Some(s) => Some(s.clone()),
            None => store.tenant_oidc(&id).await?.and_then(|stored| stored.client_secret),
        };
        if typed.issuer_url.trim().is_empty() {
            return Err(AppError::Invalid { field: "issuer_url".into(), message: "enter the issuer URL".into() });
        }
        let settings = provider_settings(&flotilla_store::OidcSettings {
            issuer_url: typed.issuer_url.trim().trim_end_matches('/').to_owned(),
            client_id: typed.client_id.trim().to_owned(),
            client_secret,
            scopes: typed.scopes,
            groups_claim: typed.groups_claim,
        });
        let report = state
            .oidc
            .check(&settings, &state.auth.callback_url(&tenant.slug))
            .await
            .map_err(|e| AppError::Invalid { field: "test".into(), message: e.to_string() })?;
        Ok(CheckResult {
            issuer: report.issuer,
            authorization_endpoint: report.authorization_endpoint,
            token_endpoint: report.token_endpoint,
            end_session_endpoint: report.end_session_endpoint,
            signing_algs: report.signing_algs,
            notes: report.notes,
        })
    }

    pub async fn add_mapping(id: String, group: String, role: String, scope_id: String) -> Result<(), AppError> {
        let (caller, store) = admin_of(&id).await?;
        let role = role_of(&role)?;
        store.add_group_mapping(&actor(&caller), &id, &group, role, scope_id.trim()).await?;
        Ok(())
    }

    pub async fn remove_mapping(id: String, mapping_id: String) -> Result<(), AppError> {
        let (caller, store) = admin_of(&id).await?;
        Ok(store.remove_group_mapping(&actor(&caller), &id, &mapping_id).await?)
    }

    pub async fn add_local_user(id: String, username: String, password: String, role: String) -> Result<(), AppError> {
        let (caller, store) = platform_admin().await?;
        store.tenant_by_id(&id).await?.ok_or(AppError::NotFound)?;
        let role = role_of(&role)?;
        let grant = flotilla_domain::Grant::new(role, "");
        store.create_local_user(&actor(&caller), &id, &username, &SecretString::from(password), &grant).await?;
        Ok(())
    }
}
