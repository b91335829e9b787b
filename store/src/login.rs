//! Local (password) login. OIDC login lives with the tenants' provider settings.

use std::sync::OnceLock;

use flotilla_domain::Username;
use secrecy::{ExposeSecret, SecretString};

use crate::{AuditEntry, AuditOutcome, Error, Result, Store, User, now_ms, password};

/// A login form as submitted.
#[derive(Debug)]
pub struct LoginAttempt {
    pub tenant: String,
    pub username: String,
    pub password: SecretString,
    pub source_ip: Option<String>,
}

/// Verified against when the account does not exist, so that "no such user" takes as long
/// as "wrong password" and response times don't reveal which accounts exist.
fn dummy_hash() -> Result<String> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = password::hash("flotilla-no-such-user")?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

/// Checks `password` against `hash` (or the dummy hash) off the async runtime.
async fn verify_blocking(password: SecretString, hash: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let hash = match hash {
            Some(h) => h,
            None => dummy_hash()?,
        };
        password::verify(password.expose_secret(), &hash)
    })
    .await
    .map_err(|e| Error::PasswordHash(e.to_string()))?
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: String,
    tenant_id: String,
    username: String,
    display_name: String,
    email: Option<String>,
    is_platform_admin: bool,
    password_hash: Option<String>,
}

impl Store {
    /// Checks a local login. Success and failure are both audited (in the tenant, when the
    /// tenant exists); every failure is the same [`Error::InvalidCredentials`].
    #[tracing::instrument(skip(self, attempt), fields(tenant = %attempt.tenant, username = %attempt.username))]
    pub async fn login_local(&self, attempt: LoginAttempt) -> Result<User> {
        let username = Username::parse(&attempt.username)?;
        if attempt.password.expose_secret().is_empty() {
            return Err(flotilla_domain::Error::invalid("password", "enter your password").into());
        }
        let Some(tenant) = self.tenant_by_slug(&attempt.tenant).await? else {
            verify_blocking(attempt.password.clone(), None).await?;
            return Err(Error::InvalidCredentials);
        };
        let candidate = sqlx::query_as::<_, Candidate>(
            "SELECT id, tenant_id, username, display_name, email, is_platform_admin, password_hash \
             FROM users WHERE tenant_id = $1 AND username = $2 AND disabled = FALSE",
        )
        .bind(&tenant.id)
        .bind(username.as_str())
        .fetch_optional(&self.pool)
        .await?;

        let hash = candidate.as_ref().and_then(|c| c.password_hash.clone());
        let matches = verify_blocking(attempt.password.clone(), hash).await?;

        let mut tx = self.write_tx().await?;
        let user = match candidate {
            Some(c) if matches && c.password_hash.is_some() => {
                sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2 AND tenant_id = $3")
                    .bind(now_ms())
                    .bind(&c.id)
                    .bind(&tenant.id)
                    .execute(&mut *tx)
                    .await?;
                AuditEntry::new(&tenant.id, &c.username, "login", AuditOutcome::Ok)
                    .actor_id(&c.id)
                    .detail(serde_json::json!({ "method": "password" }))
                    .source_ip(attempt.source_ip.clone())
                    .insert(&mut tx)
                    .await?;
                Some(User {
                    id: c.id,
                    tenant_id: c.tenant_id,
                    username: c.username,
                    display_name: c.display_name,
                    email: c.email,
                    is_platform_admin: c.is_platform_admin,
                })
            }
            other => {
                AuditEntry::new(&tenant.id, username.as_str(), "login_failed", AuditOutcome::Denied)
                    .detail(serde_json::json!({
                        "method": "password",
                        "reason": if other.is_some() { "wrong password" } else { "unknown user" },
                    }))
                    .source_ip(attempt.source_ip.clone())
                    .insert(&mut tx)
                    .await?;
                None
            }
        };
        tx.commit().await?;
        user.ok_or(Error::InvalidCredentials)
    }
}
