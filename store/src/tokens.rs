//! API tokens: how scripts, pipelines and the CLI call the REST API. A token acts as its user
//! (a person, or a service account that cannot log in) with at most its access level of the
//! user's roles, until it expires or is revoked. The secret is returned once, when the token
//! is made; the store keeps its SHA-256 only (the secret is 240 random bits, so a fast hash
//! loses nothing), and finds a token by that hash as it is presented.

use flotilla_domain::{Grant, Level};
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{Actor, Error, Result, Store, now_ms};

/// What every secret starts with, so that scanners (and people) recognise a leaked one.
pub const TOKEN_PREFIX: &str = "flt_";
/// Random characters after the prefix (62 symbols each: about 238 bits).
const SECRET_CHARS: usize = 40;
/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 366;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A token's last use is written at most this often (a busy pipeline would otherwise write
/// a row per request).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// A token as lists show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub username: String,
    /// The token belongs to a service account rather than a person.
    #[sqlx(try_from = "crate::flag::Flag")]
    pub service: bool,
    pub name: String,
    /// The secret's first characters.
    pub hint: String,
    /// `view`, `edit` or `admin`.
    pub access: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Who a presented token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub token_id: String,
    pub token_name: String,
    pub tenant_id: String,
    pub user_id: String,
    pub username: String,
    /// The most the token may do with its user's roles.
    pub access: Level,
}

/// A token to make.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub tenant_id: &'a str,
    /// The person or service account it acts as.
    pub user_id: &'a str,
    pub name: &'a str,
    pub access: Level,
    /// Days until it expires, 1 to [`MAX_TOKEN_DAYS`].
    pub days: u32,
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    id: String,
    name: String,
    tenant_id: String,
    user_id: String,
    username: String,
    access: String,
    last_used_at: Option<i64>,
}

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A token's name: what it is for, as its owner will recognise it in a list.
fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(
            flotilla_domain::Error::invalid("name", "Name the token (1 to 64 characters), e.g. ci-deploy.").into()
        );
    }
    Ok(name)
}

/// The tokens of tenant `$1`, as [`ApiToken`]s, followed by `$rest`.
macro_rules! list {
    ($rest:literal) => {
        concat!(
            "SELECT t.id, t.user_id, u.username, CAST(u.is_service AS INTEGER) AS service, t.name, t.hint, ",
            "t.access, t.created_by, t.created_at, t.expires_at, t.last_used_at, t.revoked_at ",
            "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.tenant_id = $1 ",
            $rest
        )
    };
}

impl Store {
    /// Makes a token for `new.user_id` (a user of the tenant, not disabled); returns it with
    /// its secret, which is not kept and cannot be shown again.
    #[tracing::instrument(skip(self, actor), fields(tenant = new.tenant_id))]
    pub async fn create_api_token(&self, actor: &Actor, new: &NewToken<'_>) -> Result<(ApiToken, SecretString)> {
        let name = check_name(new.name)?;
        if new.days == 0 || new.days > MAX_TOKEN_DAYS {
            return Err(flotilla_domain::Error::invalid(
                "days",
                format!("A token lives 1 to {MAX_TOKEN_DAYS} days; make a new one before it expires."),
            )
            .into());
        }
        let random: String = rand::rng().sample_iter(&Alphanumeric).take(SECRET_CHARS).map(char::from).collect();
        let secret = format!("{TOKEN_PREFIX}{random}");
        let hint = secret.chars().take(TOKEN_PREFIX.len() + 4).collect::<String>();
        let id = crate::new_id();
        let now = now_ms();
        let expires_at = now + i64::from(new.days) * DAY_MS;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let username: Option<String> = sqlx::query_scalar(
                "SELECT username FROM users WHERE tenant_id = $1 AND id = $2 AND disabled = FALSE",
            )
            .bind(new.tenant_id)
            .bind(new.user_id)
            .fetch_optional(&mut *tx)
            .await?;
            let username = username.ok_or(Error::NotFound("user"))?;
            sqlx::query(
                "INSERT INTO api_tokens (id, tenant_id, user_id, name, secret_sha256, hint, access, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(new.tenant_id)
            .bind(new.user_id)
            .bind(name)
            .bind(digest(&secret))
            .bind(&hint)
            .bind(new.access.as_str())
            .bind(&actor.name)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            crate::workspaces::audit(new.tenant_id, actor, "token.create", &id, name)
                .detail(serde_json::json!({ "user": username, "access": new.access.as_str(), "expires_at": expires_at }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        let token = self.api_token(new.tenant_id, &id).await?;
        Ok((token, SecretString::from(secret)))
    }

    /// Token `id` of the tenant.
    pub async fn api_token(&self, tenant_id: &str, id: &str) -> Result<ApiToken> {
        sqlx::query_as::<_, ApiToken>(list!("AND t.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("token"))
    }

    /// The tenant's tokens, newest first: of user `user_id` only, or (`None`) all of them.
    /// Revoked and expired ones stay listed for a while, marked, so their owners see what
    /// stopped working.
    #[tracing::instrument(skip(self))]
    pub async fn list_api_tokens(&self, tenant_id: &str, user_id: Option<&str>) -> Result<Vec<ApiToken>> {
        Ok(sqlx::query_as::<_, ApiToken>(list!(
            "AND ($2 = '' OR t.user_id = $2) ORDER BY t.created_at DESC, t.id DESC"
        ))
        .bind(tenant_id)
        .bind(user_id.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes token `id` of the tenant (of user `owner` only, when given): it stops working
    /// at once. Revoking a revoked token changes nothing.
    #[tracing::instrument(skip(self, actor))]
    pub async fn revoke_api_token(&self, actor: &Actor, tenant_id: &str, id: &str, owner: Option<&str>) -> Result<()> {
        let token = self.api_token(tenant_id, id).await?;
        if owner.is_some_and(|o| o != token.user_id) {
            return Err(Error::NotFound("token"));
        }
        if token.revoked_at.is_some() {
            return Ok(());
        }
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            crate::workspaces::audit(tenant_id, actor, "token.revoke", id, &token.name)
                .detail(serde_json::json!({ "user": token.username }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Who `secret` acts as: `None` for a secret that is unknown, revoked or expired, or whose
    /// user is disabled (all alike to the caller).
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_token(&self, secret: &SecretString) -> Result<Option<TokenPrincipal>> {
        let secret = secret.expose_secret();
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() != TOKEN_PREFIX.len() + SECRET_CHARS {
            return Ok(None);
        }
        let now = now_ms();
        let row = sqlx::query_as::<_, PrincipalRow>(
            "SELECT t.id, t.name, t.tenant_id, t.user_id, u.username, t.access, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.secret_sha256 = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled = FALSE",
        )
        .bind(digest(secret))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.last_used_at.is_none_or(|at| now - at >= LAST_USED_GRANULARITY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(&row.id)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        let access = row.access.parse::<Level>()?;
        Ok(Some(TokenPrincipal {
            token_id: row.id,
            token_name: row.name,
            tenant_id: row.tenant_id,
            user_id: row.user_id,
            username: row.username,
            access,
        }))
    }

    /// Makes a service account: a user of the tenant that holds `grant` and tokens, and
    /// cannot log in (no password, no provider identity).
    #[tracing::instrument(skip(self, actor))]
    pub async fn create_service_account(
        &self,
        actor: &Actor,
        tenant_id: &str,
        name: &str,
        grant: &Grant,
    ) -> Result<crate::User> {
        let username = flotilla_domain::Username::parse(name)?;
        let id = crate::new_id();
        let now = now_ms();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let scope = crate::tenants::scope_name(&mut tx, tenant_id, grant.role, &grant.scope_id).await?;
            let inserted = sqlx::query(
                "INSERT INTO users (id, tenant_id, username, display_name, is_service, created_at) \
                 VALUES ($1, $2, $3, $3, TRUE, $4) ON CONFLICT (tenant_id, username) DO NOTHING",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(username.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(
                    flotilla_domain::Error::invalid("name", format!("{username} is taken in this tenant")).into()
                );
            }
            crate::users::insert_binding(&mut tx, tenant_id, &id, grant, "local").await?;
            crate::workspaces::audit(tenant_id, actor, "user.create", &id, username.as_str())
                .detail(serde_json::json!({ "method": "service account", "role": grant.role.as_str(), "scope": scope }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(crate::User {
            id,
            tenant_id: tenant_id.to_owned(),
            username: username.as_str().to_owned(),
            display_name: username.as_str().to_owned(),
            email: None,
            is_platform_admin: false,
        })
    }
}
