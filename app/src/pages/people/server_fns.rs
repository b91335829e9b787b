//! The People page's server functions (a tenant admin's): the tenant's people with their
//! roles, disabling and enabling them, and the tenant's own group rules (adding and removing
//! a rule is the tenant page's `add_group_mapping`/`remove_group_mapping`, which a tenant admin
//! may call for their own tenant).

use leptos::prelude::*;

use crate::AppError;
use crate::model::{PersonRow, RulesPage};

/// The people of the caller's tenant.
#[server(endpoint = "people/list")]
pub async fn list_people() -> Result<Vec<PersonRow>, AppError> {
    crate::error::with_status(ssr::list().await)
}

/// Disables a person (their sessions end at once and they cannot log in) or enables them.
#[server(endpoint = "people/set-disabled")]
pub async fn set_person_disabled(id: String, disabled: bool) -> Result<(), AppError> {
    crate::error::with_status(ssr::set_disabled(id, disabled).await)
}

/// The caller's own tenant's group rules (its tenant admin's).
#[server(endpoint = "tenants/own-rules")]
pub async fn own_rules() -> Result<RulesPage, AppError> {
    crate::error::with_status(ssr::own_rules().await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::AppError;
    use crate::backend::{actor, app_state, mapping_rows, require_caller, scope_choices};
    use crate::model::{PersonRow, RoleRow, RulesPage};

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

    pub async fn list() -> Result<Vec<PersonRow>, AppError> {
        let caller = require_caller().await?;
        caller.require_tenant_admin()?;
        let people = app_state()?.store.list_people(&caller.tenant_id).await?;
        Ok(people
            .into_iter()
            .map(|p| PersonRow {
                can_disable: p.id != caller.user_id && !p.is_platform_admin,
                id: p.id,
                username: p.username,
                display_name: p.display_name,
                email: p.email,
                oidc: p.oidc,
                service: p.service,
                disabled: p.disabled,
                last_login_at: p.last_login_at,
                roles: p
                    .roles
                    .into_iter()
                    .map(|r| RoleRow { role: r.role, scope: r.scope, from_groups: r.source == "oidc" })
                    .collect(),
            })
            .collect())
    }

    pub async fn set_disabled(id: String, disabled: bool) -> Result<(), AppError> {
        let caller = require_caller().await?;
        caller.require_tenant_admin()?;
        app_state()?.store.set_user_disabled(&actor(&caller), &caller.tenant_id, &id, disabled).await?;
        Ok(())
    }
}
