use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// A person who can log in, in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub is_platform_admin: bool,
}

impl Store {
    /// The user `user_id` of tenant `tenant_id`, if it exists and is not disabled.
    #[tracing::instrument(skip(self))]
    pub async fn active_user(&self, tenant_id: &str, user_id: &str) -> Result<Option<User>> {
        let user = sqlx::query_as::<_, User>(
            "SELECT id, tenant_id, username, display_name, email, is_platform_admin \
             FROM users WHERE tenant_id = $1 AND id = $2 AND disabled = FALSE",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }

    /// The names of the roles `user_id` holds, e.g. `["platform_admin", "tenant_admin"]`.
    #[tracing::instrument(skip(self))]
    pub async fn role_names(&self, tenant_id: &str, user_id: &str) -> Result<Vec<String>> {
        let roles = sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT role FROM role_bindings WHERE tenant_id = $1 AND user_id = $2 ORDER BY role",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(roles)
    }
}
