//! The people of a tenant, as its admin manages them: who they are, how they log in, the
//! roles they hold (from group rules or given locally), and whether they may log in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use flotilla_domain::Role;

use crate::AppError;

/// One role as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub role: Role,
    /// `prod` or `prod/kafka`; empty for the whole tenant.
    pub scope: String,
    /// From the groups of their last login (else given in Flotilla).
    pub from_groups: bool,
}

/// A person of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Logs in through the tenant's provider (else with a password).
    pub oidc: bool,
    pub disabled: bool,
    pub last_login_at: Option<i64>,
    pub roles: Vec<RoleRow>,
    /// Whether the caller may disable them: not themselves, not the platform admin.
    pub can_disable: bool,
}

#[server(endpoint = "people/list")]
pub async fn list_people() -> Result<Vec<PersonRow>, AppError> {
    crate::error::with_status(ssr::list().await)
}

/// Disables a person (their sessions end at once and they cannot log in) or enables them.
#[server(endpoint = "people/set-disabled")]
pub async fn set_person_disabled(id: String, disabled: bool) -> Result<(), AppError> {
    crate::error::with_status(ssr::set_disabled(id, disabled).await)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::auth::ssr::{actor, require_caller};
    use crate::state::app_state;

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
