//! The tenants page's server functions (the platform admin's): every tenant, and creating one.

use leptos::prelude::*;

use crate::AppError;
use crate::model::TenantRow;

/// Every tenant, by slug.
#[server(endpoint = "tenants/list")]
pub async fn list_tenants() -> Result<Vec<TenantRow>, AppError> {
    crate::error::with_status(ssr::list().await)
}

/// Creates a tenant (local accounts only until its provider is set).
#[server(endpoint = "tenants/create")]
pub async fn create_tenant(slug: String, display_name: String) -> Result<TenantRow, AppError> {
    crate::error::with_status(ssr::create(slug, display_name).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::AppError;
    use crate::backend::{actor, platform_admin, tenant_row};
    use crate::model::TenantRow;

    pub async fn list() -> Result<Vec<TenantRow>, AppError> {
        let (_, store) = platform_admin().await?;
        Ok(store.list_tenants().await?.into_iter().map(tenant_row).collect())
    }

    pub async fn create(slug: String, display_name: String) -> Result<TenantRow, AppError> {
        let (caller, store) = platform_admin().await?;
        Ok(tenant_row(store.create_tenant(&actor(&caller), &slug, &display_name).await?))
    }
}
