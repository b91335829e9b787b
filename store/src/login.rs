//! Local (password) login. OIDC login lives with the tenants' provider settings.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use flotilla_domain::{Grant, Username};
use secrecy::{ExposeSecret, SecretString};

use crate::{AuditEntry, AuditOutcome, Error, Result, Store, User, new_id, now_ms, password};

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

/// How long a login waits for a turn to hash before it is told the server is busy.
const HASHING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone, sqlx::FromRow)]
struct Candidate {
    id: String,
    tenant_id: String,
    username: String,
    display_name: String,
    email: Option<String>,
    #[sqlx(try_from = "crate::flag::Flag")]
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
        // Refused at once while slowed or locked: no hash, no write.
        let address = attempt.source_ip.as_deref();
        self.throttle.check(&attempt.tenant, username.as_str(), address).map_err(Error::Throttled)?;
        let _turn = self.throttle.hashing_turn(HASHING_PATIENCE).await.ok_or(Error::Busy)?;
        let Some(tenant) = self.tenant_by_slug(&attempt.tenant).await? else {
            verify_blocking(attempt.password.clone(), None).await?;
            self.throttle.failed(&attempt.tenant, username.as_str(), address);
            return Err(Error::InvalidCredentials);
        };
        let candidate = sqlx::query_as::<_, Candidate>(
            "SELECT id, tenant_id, username, display_name, email, CAST(is_platform_admin AS INTEGER) AS is_platform_admin, password_hash \
             FROM users WHERE tenant_id = $1 AND username = $2 AND disabled = FALSE",
        )
        .bind(&tenant.id)
        .bind(username.as_str())
        .fetch_optional(&self.pool)
        .await?;

        let hash = candidate.as_ref().and_then(|c| c.password_hash.clone());
        let matches = verify_blocking(attempt.password.clone(), hash).await?;

        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let user = match candidate.clone() {
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
            match &user {
                Some(_) => self.throttle.succeeded(&attempt.tenant, username.as_str()),
                None => self.throttle.failed(&attempt.tenant, username.as_str(), address),
            }
            user.ok_or(Error::InvalidCredentials)
        })
        .await
    }
}

/// A user the tenant's provider vouched for (a verified ID token).
#[derive(Debug, Clone)]
pub struct OidcLogin {
    pub tenant_id: String,
    /// The provider's issuer: a user is its issuer and subject together (the same subject at
    /// another provider is someone else).
    pub issuer: String,
    pub subject: String,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub groups: Vec<String>,
    pub source_ip: Option<String>,
}

impl Store {
    /// Logs in a user the tenant's provider vouched for: their account is found by subject
    /// (or created), and their roles are replaced by what the tenant's group rules give their
    /// groups now. A user whose groups give no role is refused ([`Error::NoRole`]). The login,
    /// a refusal and any change of roles are audited, all in one transaction.
    #[tracing::instrument(skip(self, login), fields(tenant = %login.tenant_id, subject = %login.subject))]
    pub async fn login_oidc(&self, login: OidcLogin) -> Result<User> {
        let mappings = self.group_mappings(&login.tenant_id).await?;
        let grants = flotilla_domain::grants_for_groups(&login.groups, &mappings);
        let shown_name =
            login.preferred_username.clone().or_else(|| login.email.clone()).unwrap_or_else(|| login.subject.clone());
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let refuse = |reason: &str| {
                AuditEntry::new(&login.tenant_id, &shown_name, "login_failed", AuditOutcome::Denied)
                    .detail(serde_json::json!({ "method": "oidc", "reason": reason, "groups": &login.groups }))
                    .source_ip(login.source_ip.clone())
            };
            if grants.is_empty() {
                refuse("no role for these groups").insert(&mut tx).await?;
                tx.commit().await?;
                return Err(Error::NoRole);
            }

            let identity = format!("{}#{}", login.issuer.trim_end_matches('/'), login.subject);
            let existing = sqlx::query_as::<_, (String, String, crate::flag::Flag)>(
                "SELECT id, username, CAST(disabled AS INTEGER) AS disabled FROM users WHERE tenant_id = $1 AND oidc_subject = $2",
            )
            .bind(&login.tenant_id)
            .bind(&identity)
            .fetch_optional(&mut *tx)
            .await?;
            let display_name = login.name.clone().unwrap_or_else(|| shown_name.clone());
            let now = now_ms();
            let (user_id, username) = match existing {
                Some((_, _, crate::flag::Flag(true))) => {
                    refuse("account disabled").insert(&mut tx).await?;
                    tx.commit().await?;
                    return Err(Error::AccountDisabled);
                }
                Some((id, username, crate::flag::Flag(false))) => {
                    sqlx::query("UPDATE users SET display_name = $1, email = $2, last_login_at = $3 WHERE id = $4")
                        .bind(&display_name)
                        .bind(&login.email)
                        .bind(now)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    (id, username)
                }
                None => {
                    let username = free_username(&mut tx, &login).await?;
                    let id = new_id();
                    sqlx::query(
                        "INSERT INTO users (id, tenant_id, username, display_name, email, oidc_subject, created_at, last_login_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    )
                    .bind(&id)
                    .bind(&login.tenant_id)
                    .bind(&username)
                    .bind(&display_name)
                    .bind(&login.email)
                    .bind(&identity)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    (id, username)
                }
            };

            store_groups(&mut tx, &login.tenant_id, &user_id, &login.groups).await?;
            let changer = RoleChanger {
                name: &username,
                id: Some(&user_id),
                reason: "oidc groups",
                source_ip: login.source_ip.clone(),
            };
            let roles_changed =
                replace_group_grants(&mut tx, &login.tenant_id, &user_id, &username, &grants, &changer).await?;
            AuditEntry::new(&login.tenant_id, &username, "login", AuditOutcome::Ok)
                .actor_id(&user_id)
                .detail(serde_json::json!({ "method": "oidc", "groups": &login.groups }))
                .source_ip(login.source_ip.clone())
                .insert(&mut tx)
                .await?;
            // The user's streams opened in other sessions follow their new roles.
            let access = crate::Change::Access { tenant_id: login.tenant_id.clone(), user_id: Some(user_id.clone()) };
            self.commit(tx, roles_changed.then_some(access)).await?;
            Ok(User {
                id: user_id,
                tenant_id: login.tenant_id.clone(),
                username,
                display_name,
                email: login.email.clone(),
                is_platform_admin: false,
            })
        })
        .await
    }
}

/// A login name for a new OIDC user: their preferred username, else their email, else one
/// made from their subject; with a suffix when a local account already has it.
async fn free_username(conn: &mut sqlx::AnyConnection, login: &OidcLogin) -> Result<String> {
    let from_subject: String = login
        .subject
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        .take(48)
        .collect();
    let candidates = [login.preferred_username.as_deref(), login.email.as_deref(), Some(from_subject.as_str())];
    let base = candidates
        .into_iter()
        .flatten()
        .find_map(|c| Username::parse(c).ok())
        .map(|u| u.as_str().to_owned())
        .unwrap_or_else(|| "user".to_owned());
    for n in 0..100 {
        let name = if n == 0 { base.clone() } else { format!("{}-{n}", base.chars().take(60).collect::<String>()) };
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND username = $2")
            .bind(&login.tenant_id)
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            return Ok(name);
        }
    }
    Ok(format!("user-{}", new_id()))
}

/// Who or what changed a user's group-given roles, for the `user.roles_changed` audit row.
pub(crate) struct RoleChanger<'a> {
    pub name: &'a str,
    pub id: Option<&'a str>,
    /// Why: "oidc groups" (a login) or "group rules" (an admin changed the rules).
    pub reason: &'a str,
    pub source_ip: Option<String>,
}

/// Records the groups the provider named for the user at this login (replacing the last
/// login's), so that later rule changes can recompute their roles.
async fn store_groups(conn: &mut sqlx::AnyConnection, tenant_id: &str, user_id: &str, groups: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_groups WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let unique: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
    for group in unique {
        sqlx::query("INSERT INTO user_groups (tenant_id, user_id, group_name) VALUES ($1, $2, $3)")
            .bind(tenant_id)
            .bind(user_id)
            .bind(group)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces the user's group-given (`oidc`) role bindings with `grants`. When they differ, the
/// change is audited as `user.roles_changed` with what was added and removed. Returns whether
/// anything changed.
pub(crate) async fn replace_group_grants(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    username: &str,
    grants: &BTreeSet<Grant>,
    by: &RoleChanger<'_>,
) -> Result<bool> {
    let held: BTreeSet<Grant> = sqlx::query_as::<_, (String, String)>(
        "SELECT role, scope_id FROM role_bindings WHERE tenant_id = $1 AND user_id = $2 AND source = 'oidc'",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .filter_map(|(role, scope)| role.parse().ok().map(|role| Grant::new(role, scope)))
    .collect();
    if &held == grants {
        return Ok(false);
    }
    sqlx::query("DELETE FROM role_bindings WHERE tenant_id = $1 AND user_id = $2 AND source = 'oidc'")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for grant in grants {
        crate::users::insert_binding(&mut *conn, tenant_id, user_id, grant, "oidc").await?;
    }
    let describe = |set: Vec<&Grant>| -> Vec<String> {
        set.into_iter()
            .map(|g| if g.scope_id.is_empty() { g.role.to_string() } else { format!("{} on {}", g.role, g.scope_id) })
            .collect()
    };
    let entry = AuditEntry::new(tenant_id, by.name, "user.roles_changed", AuditOutcome::Ok)
        .target("user", user_id, username)
        .detail(serde_json::json!({
            "source": by.reason,
            "added": describe(grants.difference(&held).collect()),
            "removed": describe(held.difference(grants).collect()),
        }))
        .source_ip(by.source_ip.clone());
    match by.id {
        Some(id) => entry.actor_id(id),
        None => entry,
    }
    .insert(&mut *conn)
    .await?;
    Ok(true)
}
