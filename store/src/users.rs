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

impl Store {
    /// Every role `user_id` holds, with its scope, from local grants and their last login's groups.
    #[tracing::instrument(skip(self))]
    pub async fn grants(&self, tenant_id: &str, user_id: &str) -> Result<Vec<flotilla_domain::Grant>> {
        let rows = sqlx::query_as::<_, (String, String)>(
            "SELECT DISTINCT role, scope_id FROM role_bindings WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(role, scope_id)| {
                let role = role.parse().map_err(|_| crate::Error::Corrupt(format!("unknown role '{role}'")))?;
                Ok(flotilla_domain::Grant::new(role, scope_id))
            })
            .collect()
    }
}

impl Store {
    /// Creates a local (password) account in `tenant_id` holding `grant`, for tenants without
    /// a provider (or a break-glass admin). Audited in the tenant.
    #[tracing::instrument(skip(self, actor, password))]
    pub async fn create_local_user(
        &self,
        actor: &crate::Actor,
        tenant_id: &str,
        username: &str,
        password: &secrecy::SecretString,
        grant: &flotilla_domain::Grant,
    ) -> Result<User> {
        use secrecy::ExposeSecret;
        let username = flotilla_domain::Username::parse(username)?;
        if password.expose_secret().chars().count() < 12 {
            return Err(flotilla_domain::Error::invalid("password", "at least 12 characters").into());
        }
        let to_hash = password.clone();
        let hash = tokio::task::spawn_blocking(move || crate::password::hash(to_hash.expose_secret()))
            .await
            .map_err(|e| crate::Error::PasswordHash(e.to_string()))??;
        let id = crate::new_id();
        let now = crate::now_ms();
        let mut tx = self.write_tx().await?;
        let scope = crate::tenants::scope_name(&mut tx, tenant_id, grant.role, &grant.scope_id).await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, tenant_id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT (tenant_id, username) DO NOTHING",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(username.as_str())
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(
                flotilla_domain::Error::invalid("username", format!("{username} is taken in this tenant")).into()
            );
        }
        insert_binding(&mut tx, tenant_id, &id, grant, "local").await?;
        crate::workspaces::audit(tenant_id, actor, "user.create", &id, username.as_str())
            .detail(serde_json::json!({ "method": "password", "role": grant.role.as_str(), "scope": scope }))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(User {
            id,
            tenant_id: tenant_id.to_owned(),
            username: username.as_str().to_owned(),
            display_name: username.as_str().to_owned(),
            email: None,
            is_platform_admin: false,
        })
    }
}

/// Gives `user_id` the role `grant`, from `source` (`local`, or `oidc` for a login's groups).
/// Holding it already is fine.
pub(crate) async fn insert_binding(
    conn: &mut sqlx::SqliteConnection,
    tenant_id: &str,
    user_id: &str,
    grant: &flotilla_domain::Grant,
    source: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO role_bindings (id, tenant_id, user_id, role, scope_id, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, role, scope_id) DO NOTHING",
    )
    .bind(crate::new_id())
    .bind(tenant_id)
    .bind(user_id)
    .bind(grant.role.as_str())
    .bind(&grant.scope_id)
    .bind(source)
    .bind(crate::now_ms())
    .execute(conn)
    .await?;
    Ok(())
}
