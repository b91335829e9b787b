use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// An organisation sharing this Flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub oidc_issuer_url: Option<String>,
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        let tenant =
            sqlx::query_as::<_, Tenant>("SELECT id, slug, display_name, oidc_issuer_url FROM tenants WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?;
        Ok(tenant)
    }

    #[tracing::instrument(skip(self))]
    pub async fn tenant_by_id(&self, id: &str) -> Result<Option<Tenant>> {
        let tenant =
            sqlx::query_as::<_, Tenant>("SELECT id, slug, display_name, oidc_issuer_url FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(tenant)
    }
}
