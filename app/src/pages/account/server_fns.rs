//! API tokens, made and revoked from the account page by a person logged in to the
//! dashboard (a token can neither make nor revoke tokens). Anyone makes tokens acting as
//! themselves; a tenant admin also makes service accounts and their tokens, and sees and
//! revokes every token of the tenant.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{NewTokenShown, ServiceAccountChoice, TokensView};

/// The caller's tokens (a tenant admin's: the tenant's), newest first.
#[server(endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<TokensView, AppError> {
    crate::error::with_status(ssr::list().await)
}

/// Makes a token named `name` doing at most `access` (`view`, `edit`, `admin`) of its user's
/// roles for `days` days; the user is the caller, or (a tenant admin's choice) the service
/// account `service_account`. The secret is in the answer, and nowhere afterwards.
#[server(endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    access: String,
    days: u32,
    service_account: Option<String>,
) -> Result<NewTokenShown, AppError> {
    crate::error::with_status(ssr::create(name, access, days, service_account).await)
}

/// Revokes token `id`: the caller's own, or (a tenant admin's) any of the tenant's.
#[server(endpoint = "tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::revoke(id).await)
}

/// Makes a service account `name` holding `role` on `scope_id` (empty for the tenant): a
/// tenant admin's.
#[server(endpoint = "tokens/create-service-account")]
pub async fn create_service_account(
    name: String,
    role: String,
    scope_id: String,
) -> Result<ServiceAccountChoice, AppError> {
    crate::error::with_status(ssr::create_service_account(name, role, scope_id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::{Grant, Level, Role};
    use flotilla_store::{ApiToken, MAX_TOKEN_DAYS, NewToken};
    use secrecy::ExposeSecret;

    use crate::AppError;
    use crate::auth::ssr::require_session_caller;
    use crate::backend::{actor, app_state, scope_choices};
    use crate::model::{NewTokenShown, ServiceAccountChoice, TokenRow, TokensView};

    fn row(t: ApiToken) -> Result<TokenRow, AppError> {
        Ok(TokenRow {
            access: t.access.parse::<Level>()?,
            id: t.id,
            name: t.name,
            hint: t.hint,
            user: t.username,
            service: t.service,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
    }

    pub async fn list() -> Result<TokensView, AppError> {
        let caller = require_session_caller().await?;
        let store = app_state()?.store;
        let admin = caller.access.is_tenant_admin();
        let own = (!admin).then_some(caller.user_id.as_str());
        let tokens =
            store.list_api_tokens(&caller.tenant_id, own).await?.into_iter().map(row).collect::<Result<_, _>>()?;
        let (service_accounts, scopes) = if admin {
            let people = store.list_people(&caller.tenant_id).await?;
            let accounts = people
                .into_iter()
                .filter(|p| p.service && !p.disabled)
                .map(|p| ServiceAccountChoice { id: p.id, name: p.username })
                .collect();
            (accounts, scope_choices(&store, &caller.tenant_id).await?)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(TokensView {
            tokens,
            service_accounts,
            scopes,
            tenant_admin: admin,
            max_days: MAX_TOKEN_DAYS,
            now: flotilla_store::now_ms(),
        })
    }

    pub async fn create(
        name: String,
        access: String,
        days: u32,
        service_account: Option<String>,
    ) -> Result<NewTokenShown, AppError> {
        let caller = require_session_caller().await?;
        let store = app_state()?.store;
        let access = access.parse::<Level>()?;
        let user_id = match service_account.filter(|s| !s.is_empty()) {
            None => caller.user_id.clone(),
            Some(id) => {
                caller.require_tenant_admin()?;
                let people = store.list_people(&caller.tenant_id).await?;
                // Only a service account of this tenant: a person's tokens are their own.
                people.into_iter().find(|p| p.id == id && p.service).ok_or(AppError::NotFound)?.id
            }
        };
        let new = NewToken { tenant_id: &caller.tenant_id, user_id: &user_id, name: &name, access, days };
        let (token, secret) = store.create_api_token(&actor(&caller), &new).await?;
        Ok(NewTokenShown { token: row(token)?, secret: secret.expose_secret().to_owned() })
    }

    pub async fn revoke(id: String) -> Result<(), AppError> {
        let caller = require_session_caller().await?;
        let owner = (!caller.access.is_tenant_admin()).then_some(caller.user_id.as_str());
        Ok(app_state()?.store.revoke_api_token(&actor(&caller), &caller.tenant_id, &id, owner).await?)
    }

    pub async fn create_service_account(
        name: String,
        role: String,
        scope_id: String,
    ) -> Result<ServiceAccountChoice, AppError> {
        let caller = require_session_caller().await?;
        caller.require_tenant_admin()?;
        // The store refuses the platform admin role and a scope of another tenant.
        let role = role.parse::<Role>()?;
        let grant = Grant::new(role, scope_id.trim());
        let store = app_state()?.store;
        let user = store.create_service_account(&actor(&caller), &caller.tenant_id, name.trim(), &grant).await?;
        Ok(ServiceAccountChoice { id: user.id, name: user.username })
    }
}
