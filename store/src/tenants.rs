//! Tenants: the organisations sharing this Flotilla, each with its own OpenID Provider and
//! its rules mapping the provider's groups to roles. Managed by the platform admin; every
//! change is audited in the tenant it concerns.

use flotilla_domain::{GroupMapping, Role, RoleScope, TenantSlug};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::changes::{Actor, Change};
use crate::login::{RoleChanger, replace_group_grants};
use crate::workspaces::audit;
use crate::{Error, Result, Store, new_id, now_ms};

/// An organisation sharing this Flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub oidc_issuer_url: Option<String>,
}

/// A tenant as the platform admin's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TenantSummary {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub oidc_issuer_url: Option<String>,
    pub users: i64,
    pub clusters: i64,
    pub version: i64,
}

/// A tenant's OpenID Provider settings as the admin pages show them: never the secret, only
/// whether one is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSettingsView {
    pub issuer_url: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: String,
    pub groups_claim: String,
}

/// A tenant's OpenID Provider settings with the secret decrypted, for logging in.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// Space-separated, as stored.
    pub scopes: String,
    pub groups_claim: String,
}

impl OidcSettings {
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes.split_whitespace().map(str::to_owned).collect()
    }
}

/// New provider settings. `client_secret: None` keeps the stored secret; `Some("")` removes it
/// (a public client).
#[derive(Debug, Clone)]
pub struct OidcSettingsInput {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub scopes: String,
    pub groups_claim: String,
}

/// One group → role rule, with the name of what it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMappingRecord {
    pub id: String,
    pub group: String,
    pub role: Role,
    pub scope_id: String,
    /// The workspace or project name (`workspace/project` for a project); empty for the tenant.
    pub scope_name: String,
}

/// A tenant with its settings and rules, for its admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDetail {
    pub tenant: TenantSummary,
    pub oidc: Option<OidcSettingsView>,
    pub mappings: Vec<GroupMappingRecord>,
}

#[derive(sqlx::FromRow)]
struct OidcRow {
    oidc_issuer_url: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret_enc: Option<String>,
    oidc_scopes: String,
    oidc_groups_claim: String,
    version: i64,
}

/// The tenant summary query, ending with `$tail` (a literal: the SQL stays static).
macro_rules! summary_sql {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.slug, t.display_name, t.oidc_issuer_url, t.version, ",
            "(SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id) AS users, ",
            "(SELECT COUNT(*) FROM clusters c WHERE c.tenant_id = t.id) AS clusters ",
            "FROM tenants t ",
            $tail
        )
    };
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

    /// Every tenant, by slug (the platform admin's list).
    #[tracing::instrument(skip(self))]
    pub async fn list_tenants(&self) -> Result<Vec<TenantSummary>> {
        Ok(sqlx::query_as::<_, TenantSummary>(summary_sql!("ORDER BY t.slug")).fetch_all(&self.pool).await?)
    }

    /// A tenant with its provider settings (secret withheld) and group rules.
    #[tracing::instrument(skip(self))]
    pub async fn tenant_detail(&self, id: &str) -> Result<TenantDetail> {
        let tenant = sqlx::query_as::<_, TenantSummary>(summary_sql!("WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let row = oidc_row(&self.pool, id).await?;
        let oidc = match (row.oidc_issuer_url, row.oidc_client_id) {
            (Some(issuer_url), Some(client_id)) => Some(OidcSettingsView {
                issuer_url,
                client_id,
                has_client_secret: row.oidc_client_secret_enc.is_some(),
                scopes: row.oidc_scopes,
                groups_claim: row.oidc_groups_claim,
            }),
            _ => None,
        };
        let mappings = self.group_mapping_records(id).await?;
        Ok(TenantDetail { tenant, oidc, mappings })
    }

    /// Creates a tenant, with local accounts only until its provider is configured.
    #[tracing::instrument(skip(self, actor))]
    pub async fn create_tenant(&self, actor: &Actor, slug: &str, display_name: &str) -> Result<TenantSummary> {
        let slug = TenantSlug::parse(slug.trim())?;
        let display_name = display_name.trim();
        if display_name.is_empty() {
            return Err(flotilla_domain::Error::invalid("display_name", "enter a name people will recognise").into());
        }
        if display_name.chars().count() > 100 {
            return Err(flotilla_domain::Error::invalid("display_name", "at most 100 characters").into());
        }
        let id = new_id();
        let now = now_ms();
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let inserted = sqlx::query(
                "INSERT INTO tenants (id, slug, display_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (slug) DO NOTHING",
            )
            .bind(&id)
            .bind(slug.as_str())
            .bind(display_name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(flotilla_domain::Error::invalid("slug", format!("a tenant named {slug} exists")).into());
            }
            audit(&id, actor, "tenant.create", &id, slug.as_str())
                .detail(serde_json::json!({ "display_name": display_name }))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
            Ok(TenantSummary {
                id: id.clone(),
                slug: slug.to_string(),
                display_name: display_name.to_owned(),
                oidc_issuer_url: None,
                users: 0,
                clusters: 0,
                version: 1,
            })
        })
        .await
    }

    /// Sets (or with `None` removes) a tenant's OpenID Provider, if the tenant is still at
    /// `expected_version`. The client secret is encrypted; it is kept when the input carries none.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn set_tenant_oidc(
        &self,
        actor: &Actor,
        tenant_id: &str,
        input: Option<OidcSettingsInput>,
        expected_version: i64,
    ) -> Result<()> {
        let checked = input.map(check_oidc_input).transpose()?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = oidc_row(&mut *tx, tenant_id).await?;
            if current.version != expected_version {
                let by = crate::workspaces::last_actor(&mut tx, tenant_id, tenant_id).await?;
                return Err(Error::Stale { what: "tenant", by });
            }
            let (issuer, client_id, secret_enc, scopes, claim, detail) = match checked.clone() {
                Some(input) => {
                    let secret_enc = match &input.client_secret {
                        None => current.oidc_client_secret_enc.clone(),
                        Some(s) if s.expose_secret().is_empty() => None,
                        Some(s) => Some(self.cipher.encrypt_str(s.expose_secret())?),
                    };
                    let detail = serde_json::json!({
                        "issuer_url": input.issuer_url,
                        "client_id": input.client_id,
                        "client_secret": match &input.client_secret {
                            None => "kept",
                            Some(s) if s.expose_secret().is_empty() => "removed",
                            Some(_) => "set",
                        },
                        "scopes": input.scopes,
                        "groups_claim": input.groups_claim,
                    });
                    (
                        Some(input.issuer_url),
                        Some(input.client_id),
                        secret_enc,
                        input.scopes,
                        input.groups_claim,
                        detail,
                    )
                }
                None => (
                    None,
                    None,
                    None,
                    current.oidc_scopes.clone(),
                    current.oidc_groups_claim.clone(),
                    serde_json::json!({ "issuer_url": null }),
                ),
            };
            sqlx::query(
                "UPDATE tenants SET oidc_issuer_url = $1, oidc_client_id = $2, oidc_client_secret_enc = $3, \
                 oidc_scopes = $4, oidc_groups_claim = $5, updated_at = $6, version = version + 1 WHERE id = $7",
            )
            .bind(&issuer)
            .bind(&client_id)
            .bind(&secret_enc)
            .bind(&scopes)
            .bind(&claim)
            .bind(now_ms())
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            let slug: String = sqlx::query_scalar("SELECT slug FROM tenants WHERE id = $1")
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await?;
            audit(tenant_id, actor, "tenant.oidc_update", tenant_id, &slug).detail(detail).insert(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The tenant's provider with its secret, for a login; `None` for local accounts only.
    #[tracing::instrument(skip(self))]
    pub async fn tenant_oidc(&self, tenant_id: &str) -> Result<Option<OidcSettings>> {
        let row = oidc_row(&self.pool, tenant_id).await?;
        let (Some(issuer_url), Some(client_id)) = (row.oidc_issuer_url, row.oidc_client_id) else {
            return Ok(None);
        };
        let client_secret = row.oidc_client_secret_enc.map(|enc| self.cipher.decrypt_string(&enc)).transpose()?;
        Ok(Some(OidcSettings {
            issuer_url,
            client_id,
            client_secret,
            scopes: row.oidc_scopes,
            groups_claim: row.oidc_groups_claim,
        }))
    }

    /// The tenant's group rules, for a login.
    #[tracing::instrument(skip(self))]
    pub async fn group_mappings(&self, tenant_id: &str) -> Result<Vec<GroupMapping>> {
        Ok(self
            .group_mapping_records(tenant_id)
            .await?
            .into_iter()
            .map(|r| GroupMapping { group: r.group, role: r.role, scope_id: r.scope_id })
            .collect())
    }

    async fn group_mapping_records(&self, tenant_id: &str) -> Result<Vec<GroupMappingRecord>> {
        let rows = sqlx::query_as::<_, (String, String, String, String, String)>(
            "SELECT m.id, m.group_name, m.role, m.scope_id, \
             COALESCE(w.name, pw.name || '/' || p.name, '') \
             FROM group_role_mappings m \
             LEFT JOIN workspaces w ON w.id = m.scope_id AND w.tenant_id = m.tenant_id \
             LEFT JOIN projects p ON p.id = m.scope_id AND p.tenant_id = m.tenant_id \
             LEFT JOIN workspaces pw ON pw.id = p.workspace_id \
             WHERE m.tenant_id = $1 ORDER BY m.group_name, m.role, m.scope_id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, group, role, scope_id, scope_name)| {
                let role =
                    role.parse().map_err(|_| Error::Corrupt(format!("unknown role '{role}' in a group rule")))?;
                Ok(GroupMappingRecord { id, group, role, scope_id, scope_name })
            })
            .collect()
    }

    /// Adds the rule "members of `group` hold `role` on `scope_id`". A tenant role takes no
    /// scope; a workspace or project role names one of the tenant's. Users whose last login
    /// named the group hold the role at once.
    #[tracing::instrument(skip(self, actor))]
    pub async fn add_group_mapping(
        &self,
        actor: &Actor,
        tenant_id: &str,
        group: &str,
        role: Role,
        scope_id: &str,
    ) -> Result<GroupMappingRecord> {
        let group = group.trim();
        if group.is_empty() {
            return Err(
                flotilla_domain::Error::invalid("group", "enter the group's name as the provider sends it").into()
            );
        }
        if group.chars().count() > 256 {
            return Err(flotilla_domain::Error::invalid("group", "at most 256 characters").into());
        }
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let scope_name = scope_name(&mut tx, tenant_id, role, scope_id).await?;
            let id = new_id();
            let inserted = sqlx::query(
                "INSERT INTO group_role_mappings (id, tenant_id, group_name, role, scope_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, group_name, role, scope_id) DO NOTHING",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(group)
            .bind(role.as_str())
            .bind(scope_id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(flotilla_domain::Error::invalid("group", format!("{group} already has this role")).into());
            }
            audit(tenant_id, actor, "role_mapping.add", &id, group)
                .detail(serde_json::json!({ "group": group, "role": role.as_str(), "scope": scope_name }))
                .insert(&mut tx)
                .await?;
            regrant_by_groups(&mut tx, tenant_id, actor).await?;
            self.commit(tx, [Change::Access { tenant_id: tenant_id.to_owned(), user_id: None }]).await?;
            Ok(GroupMappingRecord { id, group: group.to_owned(), role, scope_id: scope_id.to_owned(), scope_name })
        })
        .await
    }

    /// Removes a group rule; the roles it gave are taken from the users at once.
    #[tracing::instrument(skip(self, actor))]
    pub async fn remove_group_mapping(&self, actor: &Actor, tenant_id: &str, id: &str) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let row = sqlx::query_as::<_, (String, String, String)>(
                "SELECT group_name, role, scope_id FROM group_role_mappings WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("group rule"))?;
            sqlx::query("DELETE FROM group_role_mappings WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit(tenant_id, actor, "role_mapping.remove", id, &row.0)
                .detail(serde_json::json!({ "group": row.0, "role": row.1, "scope_id": row.2 }))
                .insert(&mut tx)
                .await?;
            regrant_by_groups(&mut tx, tenant_id, actor).await?;
            self.commit(tx, [Change::Access { tenant_id: tenant_id.to_owned(), user_id: None }]).await?;
            Ok(())
        })
        .await
    }
}

/// After the tenant's group rules changed (in `conn`'s transaction): every OIDC user whose
/// groups are known holds exactly what the rules now give those groups, each change audited
/// with `actor`. Users who last logged in before groups were kept are left until their next
/// login.
async fn regrant_by_groups(conn: &mut sqlx::AnyConnection, tenant_id: &str, actor: &Actor) -> Result<()> {
    let mappings: Vec<GroupMapping> = sqlx::query_as::<_, (String, String, String)>(
        "SELECT group_name, role, scope_id FROM group_role_mappings WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .filter_map(|(group, role, scope_id)| role.parse().ok().map(|role| GroupMapping { group, role, scope_id }))
    .collect();
    let rows = sqlx::query_as::<_, (String, String, String)>(
        "SELECT u.id, u.username, g.group_name FROM user_groups g JOIN users u ON u.id = g.user_id \
         WHERE g.tenant_id = $1 AND u.tenant_id = $1 ORDER BY u.id",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut users: Vec<(String, String, Vec<String>)> = Vec::new();
    for (id, username, group) in rows {
        match users.last_mut() {
            Some((last, _, groups)) if *last == id => groups.push(group),
            _ => users.push((id, username, vec![group])),
        }
    }
    let changer = RoleChanger { name: &actor.name, id: actor.id.as_deref(), reason: "group rules", source_ip: None };
    for (user_id, username, groups) in users {
        let grants = flotilla_domain::grants_for_groups(&groups, &mappings);
        replace_group_grants(&mut *conn, tenant_id, &user_id, &username, &grants, &changer).await?;
    }
    Ok(())
}

/// The name of what a role on `scope_id` applies to (`prod`, `prod/kafka`, or empty for the
/// tenant), checking that it is one of the tenant's and fits the role.
pub(crate) async fn scope_name(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    role: Role,
    scope_id: &str,
) -> Result<String> {
    let name = match role.scope() {
        RoleScope::Platform => {
            return Err(flotilla_domain::Error::invalid("role", "platform admin is not granted here").into());
        }
        RoleScope::Tenant => {
            if !scope_id.is_empty() {
                return Err(
                    flotilla_domain::Error::invalid("scope", "a tenant role applies to the whole tenant").into()
                );
            }
            Some(String::new())
        }
        RoleScope::Workspace => {
            sqlx::query_scalar::<_, String>("SELECT name FROM workspaces WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(scope_id)
                .fetch_optional(&mut *conn)
                .await?
        }
        RoleScope::Project => {
            sqlx::query_scalar::<_, String>(
                "SELECT w.name || '/' || p.name FROM projects p JOIN workspaces w ON w.id = p.workspace_id \
                 WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL",
            )
            .bind(tenant_id)
            .bind(scope_id)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    name.ok_or_else(|| {
        let what = if role.scope() == RoleScope::Workspace { "workspaces" } else { "projects" };
        flotilla_domain::Error::invalid("scope", format!("choose one of the tenant's {what}")).into()
    })
}

async fn oidc_row<'e>(db: impl sqlx::AnyExecutor<'e>, tenant_id: &str) -> Result<OidcRow> {
    sqlx::query_as::<_, OidcRow>(
        "SELECT oidc_issuer_url, oidc_client_id, oidc_client_secret_enc, oidc_scopes, oidc_groups_claim, version \
         FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("tenant"))
}

/// Checks and normalises provider settings; each problem names its field.
fn check_oidc_input(input: OidcSettingsInput) -> Result<OidcSettingsInput> {
    let invalid = |field, reason: &str| -> Error { flotilla_domain::Error::invalid(field, reason.to_owned()).into() };
    if input.issuer_url.trim().is_empty() {
        return Err(invalid("issuer_url", "enter the provider's issuer URL"));
    }
    // A URL the hub calls; whether this hub may call it is its outbound policy's question,
    // asked by the server before saving and on every call.
    let issuer_url = flotilla_outbound::parse_target(&input.issuer_url)
        .map(|url| flotilla_outbound::normalized(&url))
        .map_err(|e| invalid("issuer_url", &e.to_string()))?;
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() {
        return Err(invalid("client_id", "enter the client id registered at the provider"));
    }
    let scopes: Vec<&str> = input.scopes.split_whitespace().collect();
    if let Some(bad) = scopes.iter().find(|s| !s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')) {
        return Err(invalid("scopes", &format!("'{bad}' is not a valid scope")));
    }
    let mut scopes_text = String::from("openid");
    for scope in scopes.into_iter().filter(|s| *s != "openid") {
        scopes_text.push(' ');
        scopes_text.push_str(scope);
    }
    let groups_claim = input.groups_claim.trim().to_owned();
    if groups_claim.is_empty() || groups_claim.contains(char::is_whitespace) {
        return Err(invalid("groups_claim", "enter the name of the ID token claim that lists groups, e.g. groups"));
    }
    Ok(OidcSettingsInput {
        issuer_url,
        client_id,
        client_secret: input.client_secret,
        scopes: scopes_text,
        groups_claim,
    })
}
