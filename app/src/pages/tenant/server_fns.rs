//! The tenant page's server functions (the platform admin's): the tenant's OpenID Provider
//! (set, test, remove), its group rules (which the tenant's own admin also manages, from the
//! People page) and local accounts.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ProviderCheck, ProviderForm, TenantPage};

/// A tenant with its provider settings (never the client secret), rules and login addresses.
#[server(endpoint = "tenants/get")]
pub async fn get_tenant(id: String) -> Result<TenantPage, AppError> {
    crate::error::with_status(ssr::page(id).await)
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
pub async fn test_tenant_oidc(id: String, provider: ProviderForm) -> Result<ProviderCheck, AppError> {
    crate::error::with_status(ssr::test(id, provider).await)
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
    use flotilla_store::OidcSettingsInput;
    use secrecy::{ExposeSecret, SecretString};

    use crate::AppError;
    use crate::auth::ssr::provider_settings;
    use crate::backend::{actor, admin_of, app_state, mapping_rows, platform_admin, scope_choices, tenant_row};
    use crate::model::{OidcForm, ProviderCheck, ProviderForm, TenantPage};

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

    pub async fn page(id: String) -> Result<TenantPage, AppError> {
        let (_, store) = platform_admin().await?;
        let state = app_state()?;
        let detail = store.tenant_detail(&id).await?;
        let scopes = scope_choices(&store, &id).await?;
        let slug = detail.tenant.slug.clone();
        Ok(TenantPage {
            version: detail.tenant.version,
            tenant: tenant_row(detail.tenant),
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
        if let Some(form) = &input
            && !form.issuer_url.trim().is_empty()
        {
            // The hub's outbound policy, as far as it can be told before the name resolves
            // (every call to the provider is checked again, address by address).
            let url = flotilla_outbound::parse_target(&form.issuer_url)
                .map_err(|e| AppError::Invalid { field: "issuer_url".into(), message: e.to_string() })?;
            app_state()?
                .outbound
                .check_url(&url)
                .map_err(|e| AppError::Invalid { field: "issuer_url".into(), message: e.to_string() })?;
        }
        Ok(store.set_tenant_oidc(&actor(&caller), &id, input.map(settings_input), version).await?)
    }

    pub async fn test(id: String, input: ProviderForm) -> Result<ProviderCheck, AppError> {
        let (_, store) = platform_admin().await?;
        let state = app_state()?;
        let tenant = store.tenant_by_id(&id).await?.ok_or(AppError::NotFound)?;
        let typed = settings_input(input);
        if typed.issuer_url.trim().is_empty() {
            return Err(AppError::Invalid { field: "issuer_url".into(), message: "enter the issuer URL".into() });
        }
        let issuer = typed.issuer_url.trim().trim_end_matches('/');
        let client_secret = match &typed.client_secret {
            Some(s) if s.expose_secret().is_empty() => None,
            Some(s) => Some(s.clone()),
            // The stored secret goes only to the issuer it was saved for, never to one typed
            // into the form.
            None => match store.tenant_oidc(&id).await? {
                Some(stored) if stored.issuer_url.trim_end_matches('/') == issuer => stored.client_secret,
                Some(stored) if stored.client_secret.is_some() => {
                    return Err(AppError::Invalid {
                        field: "client_secret".into(),
                        message: "type the client secret to test another issuer: the stored one goes only to the \
                                  issuer it was saved for"
                            .into(),
                    });
                }
                _ => None,
            },
        };
        let settings = provider_settings(&flotilla_store::OidcSettings {
            issuer_url: issuer.to_owned(),
            client_id: typed.client_id.trim().to_owned(),
            client_secret,
            scopes: typed.scopes,
            groups_claim: typed.groups_claim,
        });
        state
            .oidc
            .check(&settings, &state.auth.callback_url(&tenant.slug))
            .await
            .map_err(|e| AppError::Invalid { field: "test".into(), message: e.to_string() })
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
