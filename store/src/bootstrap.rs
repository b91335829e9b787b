//! First start: the `default` tenant and its platform admin.

use flotilla_domain::{Grant, Role, TenantSlug};
use secrecy::{ExposeSecret, SecretString};

use crate::{AuditEntry, AuditOutcome, Error, Result, Store, new_id, now_ms, password};

/// The login name of the bootstrap admin.
pub const ADMIN_USERNAME: &str = "admin";

/// What [`Store::bootstrap`] found or made.
#[derive(Debug)]
pub struct BootstrapOutcome {
    pub tenant_id: String,
    pub admin_username: String,
    /// Set only when the admin was created just now with a generated password: the one
    /// time it can be shown.
    pub generated_password: Option<SecretString>,
    pub admin_created: bool,
}

impl Store {
    /// Makes sure the `default` tenant and its admin exist. The admin's password is
    /// `admin_password` when given, else generated; either way it is only set when the
    /// account is created. Idempotent.
    #[tracing::instrument(skip(self, admin_password))]
    pub async fn bootstrap(&self, admin_password: Option<&SecretString>) -> Result<BootstrapOutcome> {
        let now = now_ms();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            sqlx::query(
                "INSERT INTO tenants (id, slug, display_name, created_at, updated_at) \
                 VALUES ($1, $2, 'Default', $3, $3) ON CONFLICT (slug) DO NOTHING",
            )
            .bind(new_id())
            .bind(TenantSlug::DEFAULT)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let tenant_id: String = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
                .bind(TenantSlug::DEFAULT)
                .fetch_one(&mut *tx)
                .await?;

            let existing: Option<String> =
                sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND username = $2")
                    .bind(&tenant_id)
                    .bind(ADMIN_USERNAME)
                    .fetch_optional(&mut *tx)
                    .await?;
            if existing.is_some() {
                tx.commit().await?;
                return Ok(BootstrapOutcome {
                    tenant_id,
                    admin_username: ADMIN_USERNAME.to_owned(),
                    generated_password: None,
                    admin_created: false,
                });
            }

            let (password, generated) = match admin_password {
                Some(p) if !p.expose_secret().is_empty() => {
                    flotilla_domain::check_new_password(p.expose_secret())
                        .map_err(|e| Error::WeakAdminPassword(e.reason().to_owned()))?;
                    (p.clone(), false)
                }
                _ => (SecretString::from(password::generate()), true),
            };
            let to_hash = password.clone();
            let hash = tokio::task::spawn_blocking(move || password::hash(to_hash.expose_secret()))
                .await
                .map_err(|e| Error::PasswordHash(e.to_string()))??;

            let user_id = new_id();
            sqlx::query(
                "INSERT INTO users (id, tenant_id, username, display_name, password_hash, is_platform_admin, created_at) \
                 VALUES ($1, $2, $3, 'Administrator', $4, TRUE, $5)",
            )
            .bind(&user_id)
            .bind(&tenant_id)
            .bind(ADMIN_USERNAME)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for role in [Role::PlatformAdmin, Role::TenantAdmin] {
                crate::users::insert_binding(&mut tx, &tenant_id, &user_id, &Grant::new(role, ""), "local").await?;
            }
            AuditEntry::new(&tenant_id, "flotilla", "bootstrap.admin_created", AuditOutcome::Ok)
                .target("user", &user_id, ADMIN_USERNAME)
                .detail(serde_json::json!({ "password": if generated { "generated" } else { "FLOTILLA_ADMIN_PASSWORD" } }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            tracing::info!(%tenant_id, "created the default tenant's admin account");

            Ok(BootstrapOutcome {
                tenant_id,
                admin_username: ADMIN_USERNAME.to_owned(),
                generated_password: generated.then_some(password),
                admin_created: true,
            })
        })
        .await
    }
}
