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
    #[sqlx(try_from = "crate::flag::Flag")]
    pub is_platform_admin: bool,
}

impl Store {
    /// The user `user_id` of tenant `tenant_id`, if it exists and is not disabled.
    #[tracing::instrument(skip(self))]
    pub async fn active_user(&self, tenant_id: &str, user_id: &str) -> Result<Option<User>> {
        let user = sqlx::query_as::<_, User>(
            "SELECT id, tenant_id, username, display_name, email, CAST(is_platform_admin AS INTEGER) AS is_platform_admin \
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
        flotilla_domain::check_new_password(password.expose_secret())?;
        let to_hash = password.clone();
        let hash = tokio::task::spawn_blocking(move || crate::password::hash(to_hash.expose_secret()))
            .await
            .map_err(|e| crate::Error::PasswordHash(e.to_string()))??;
        let id = crate::new_id();
        let now = crate::now_ms();
        self.retrying(|| async {
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
                id: id.clone(),
                tenant_id: tenant_id.to_owned(),
                username: username.as_str().to_owned(),
                display_name: username.as_str().to_owned(),
                email: None,
                is_platform_admin: false,
            })
        })
        .await
    }
}

/// Gives `user_id` the role `grant`, from `source` (`local`, or `oidc` for a login's groups).
/// Holding it already is fine.
pub(crate) async fn insert_binding(
    conn: &mut sqlx::AnyConnection,
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

/// A user of a tenant as its admin sees them: how they log in, their roles, when they last
/// did, whether they may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Logs in through the tenant's provider (else with a password).
    pub oidc: bool,
    /// A service account: holds roles and API tokens, cannot log in.
    pub service: bool,
    pub is_platform_admin: bool,
    pub disabled: bool,
    pub last_login_at: Option<i64>,
    pub roles: Vec<PersonRole>,
}

/// A user with one of their roles (or none), as [`Store::list_people`] reads them.
#[derive(sqlx::FromRow)]
struct PersonRoleRow {
    id: String,
    username: String,
    display_name: String,
    email: Option<String>,
    #[sqlx(try_from = "crate::flag::Flag")]
    oidc: bool,
    #[sqlx(try_from = "crate::flag::Flag")]
    service: bool,
    #[sqlx(try_from = "crate::flag::Flag")]
    is_platform_admin: bool,
    #[sqlx(try_from = "crate::flag::Flag")]
    disabled: bool,
    last_login_at: Option<i64>,
    role: Option<String>,
    source: Option<String>,
    scope: Option<String>,
}

/// One role a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRole {
    pub role: flotilla_domain::Role,
    /// The workspace's name, or `workspace/project`; empty for a tenant-wide role.
    pub scope: String,
    /// `local` (given in Flotilla) or `oidc` (from the groups of their last login).
    pub source: String,
}

impl Store {
    /// The roles of `user_id` of `tenant_id`, or `None` if there is no such user or they are
    /// disabled: read on every request, so disabling takes effect at once.
    #[tracing::instrument(skip(self))]
    pub async fn active_grants(&self, tenant_id: &str, user_id: &str) -> Result<Option<Vec<flotilla_domain::Grant>>> {
        let rows = sqlx::query_as::<_, (crate::flag::Flag, Option<String>, Option<String>)>(
            "SELECT CAST(u.disabled AS INTEGER) AS disabled, rb.role, rb.scope_id FROM users u \
             LEFT JOIN role_bindings rb ON rb.tenant_id = u.tenant_id AND rb.user_id = u.id \
             WHERE u.tenant_id = $1 AND u.id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.first().is_none_or(|(disabled, _, _)| disabled.0) {
            return Ok(None);
        }
        let mut grants = Vec::new();
        for (_, role, scope_id) in rows {
            let (Some(role), Some(scope_id)) = (role, scope_id) else { continue };
            let role = role.parse().map_err(|_| crate::Error::Corrupt(format!("unknown role '{role}'")))?;
            let grant = flotilla_domain::Grant::new(role, scope_id);
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        Ok(Some(grants))
    }

    /// Everyone in `tenant_id`, by username, with their roles.
    #[tracing::instrument(skip(self))]
    pub async fn list_people(&self, tenant_id: &str) -> Result<Vec<Person>> {
        let rows = sqlx::query_as::<_, PersonRoleRow>(
            "SELECT u.id, u.username, u.display_name, u.email, u.oidc_subject IS NOT NULL AS oidc, CAST(u.is_service AS INTEGER) AS service, \
                    CAST(u.is_platform_admin AS INTEGER) AS is_platform_admin, CAST(u.disabled AS INTEGER) AS disabled, u.last_login_at, rb.role, rb.source, \
                    COALESCE(w.name, pw.name || '/' || p.name, '') AS scope \
             FROM users u \
             LEFT JOIN role_bindings rb ON rb.tenant_id = u.tenant_id AND rb.user_id = u.id \
             LEFT JOIN workspaces w ON w.tenant_id = u.tenant_id AND w.id = rb.scope_id \
             LEFT JOIN projects p ON p.tenant_id = u.tenant_id AND p.id = rb.scope_id \
             LEFT JOIN workspaces pw ON pw.id = p.workspace_id \
             WHERE u.tenant_id = $1 ORDER BY u.username, u.id, rb.role, scope",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut people: Vec<Person> = Vec::new();
        for row in rows {
            if people.last().is_none_or(|p| p.id != row.id) {
                people.push(Person {
                    id: row.id,
                    username: row.username,
                    display_name: row.display_name,
                    email: row.email,
                    oidc: row.oidc,
                    service: row.service,
                    is_platform_admin: row.is_platform_admin,
                    disabled: row.disabled,
                    last_login_at: row.last_login_at,
                    roles: Vec::new(),
                });
            }
            let (role, source, scope) = (row.role, row.source, row.scope);
            if let (Some(role), Some(source), Some(person)) = (role, source, people.last_mut()) {
                let role = role.parse().map_err(|_| crate::Error::Corrupt(format!("unknown role '{role}'")))?;
                person.roles.push(PersonRole { role, scope: scope.unwrap_or_default(), source });
            }
        }
        Ok(people)
    }

    /// Disables `user_id` of `tenant_id` (their sessions end, they cannot log in) or enables
    /// them again. Not the actor themselves, nor the platform admin. Audited when it changes
    /// anything; returns whether it did.
    #[tracing::instrument(skip(self, actor))]
    pub async fn set_user_disabled(
        &self,
        actor: &crate::Actor,
        tenant_id: &str,
        user_id: &str,
        disabled: bool,
    ) -> Result<bool> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let (username, crate::flag::Flag(is_platform_admin), crate::flag::Flag(was)): (String, crate::flag::Flag, crate::flag::Flag) =
                sqlx::query_as(
                    "SELECT username, CAST(is_platform_admin AS INTEGER) AS is_platform_admin, CAST(disabled AS INTEGER) AS disabled FROM users \
                     WHERE tenant_id = $1 AND id = $2",
                )
                    .bind(tenant_id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(crate::Error::NotFound("user"))?;
            if disabled && actor.id.as_deref() == Some(user_id) {
                return Err(flotilla_domain::Error::invalid("user", "you cannot disable your own account").into());
            }
            if disabled && is_platform_admin {
                return Err(flotilla_domain::Error::invalid("user", "the platform admin cannot be disabled").into());
            }
            if was == disabled {
                return Ok(false);
            }
            sqlx::query("UPDATE users SET disabled = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(user_id)
                .bind(disabled)
                .execute(&mut *tx)
                .await?;
            let mut ended = 0;
            if disabled {
                ended = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            let action = if disabled { "user.disable" } else { "user.enable" };
            crate::workspaces::audit(tenant_id, actor, action, user_id, &username)
                .detail(serde_json::json!({ "sessions_ended": ended }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [crate::Change::Access { tenant_id: tenant_id.to_owned(), user_id: Some(user_id.to_owned()) }])
                .await?;
            Ok(true)
        })
        .await
    }
}

impl Store {
    /// Changes the password of local account `user_id`, if `current` is its password now. The
    /// new one must pass the domain's rule; every other session of the account ends (whoever
    /// got in with the old password is out), `keep_session` (the caller's) stays. Wrong
    /// current passwords count as failed logins.
    #[tracing::instrument(skip(self, current, new, keep_session))]
    pub async fn change_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        current: &secrecy::SecretString,
        new: &secrecy::SecretString,
        keep_session: &str,
    ) -> Result<()> {
        use secrecy::ExposeSecret;
        let invalid =
            |field: &'static str, why: &str| -> crate::Error { flotilla_domain::Error::invalid(field, why).into() };
        let row: Option<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT u.username, u.password_hash, t.slug FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.tenant_id = $1 AND u.id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let (username, hash, slug) = row.ok_or(crate::Error::NotFound("user"))?;
        let Some(hash) = hash else {
            return Err(invalid(
                "current_password",
                "you log in through your organisation's provider: change your password there",
            ));
        };
        self.throttle.check(&slug, &username, None).map_err(crate::Error::Throttled)?;
        let _turn = self.throttle.hashing_turn(std::time::Duration::from_secs(10)).await.ok_or(crate::Error::Busy)?;
        let given = current.clone();
        let matches = tokio::task::spawn_blocking(move || crate::password::verify(given.expose_secret(), &hash))
            .await
            .map_err(|e| crate::Error::PasswordHash(e.to_string()))??;
        if !matches {
            self.throttle.failed(&slug, &username, None);
            return Err(invalid("current_password", "this is not your current password"));
        }
        flotilla_domain::check_new_password(new.expose_secret()).map_err(|e| invalid("new_password", e.reason()))?;
        if new.expose_secret() == current.expose_secret() {
            return Err(invalid("new_password", "choose a password other than the current one"));
        }
        let to_hash = new.clone();
        let new_hash = tokio::task::spawn_blocking(move || crate::password::hash(to_hash.expose_secret()))
            .await
            .map_err(|e| crate::Error::PasswordHash(e.to_string()))??;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(&new_hash)
                .bind(tenant_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id != $2")
                .bind(user_id)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            crate::AuditEntry::new(tenant_id, &username, "user.password_changed", crate::AuditOutcome::Ok)
                .actor_id(user_id)
                .target("user", user_id, &username)
                .detail(serde_json::json!({ "other_sessions_ended": ended }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            self.throttle.succeeded(&slug, &username);
            Ok(())
        })
        .await
    }
}
