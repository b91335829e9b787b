//! The fleet page's server functions: the tenant's clusters with what reaches them, their
//! labels, deregistering.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ClusterSummary, Deregistered, FleetRow, Granted};

/// The clusters of the caller's tenant.
#[server(endpoint = "fleet/clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
    crate::error::with_status(ssr::list_clusters().await)
}

/// Every cluster of the caller's tenant with the workspaces and projects placed on it.
#[server(endpoint = "fleet/overview")]
pub async fn fleet_overview() -> Result<Vec<FleetRow>, AppError> {
    crate::error::with_status(ssr::overview().await)
}

/// Replaces a cluster's labels (`key=value,…`), if it is still at `version`. Moves it into
/// or out of workspaces and projects; the engine follows.
#[server(endpoint = "fleet/set-labels")]
pub async fn set_cluster_labels(id: String, version: i64, labels: String) -> Result<FleetRow, AppError> {
    crate::error::with_status(ssr::set_labels(id, version, labels).await)
}

/// Deregisters a cluster, if it is still at `version`. `confirm` must repeat its name.
/// With `cleanup`, Flotilla first removes its objects from the cluster; otherwise they stay.
/// With `unjoin`, given an admin kubeconfig (`admin_kubeconfig`, and its `admin_context` or
/// the current one) for a joined cluster, Flotilla's identity is removed from it too, once the engine is done
/// with the cluster: the credential is checked before anything starts, used once, never kept.
#[server(endpoint = "fleet/deregister")]
pub async fn deregister_cluster(
    id: String,
    version: i64,
    cleanup: bool,
    confirm: String,
    #[server(default)] unjoin: bool,
    #[server(default)] admin_kubeconfig: String,
    #[server(default)] admin_context: String,
) -> Result<Deregistered, AppError> {
    let admin = unjoin.then_some((admin_kubeconfig, admin_context));
    crate::error::with_status(ssr::deregister(id, version, cleanup, confirm, admin).await)
}

/// Updates a joined cluster's grant to the kinds the tenant's resources use (custom kinds in
/// projects, the cluster-scoped kinds its workspaces hold, as the cluster serves them), with
/// an admin kubeconfig context used once: the identity's roles are applied again and its
/// token renewed, if the cluster is still at `version`.
#[server(endpoint = "fleet/update-grant")]
pub async fn update_grant(
    id: String,
    version: i64,
    admin_kubeconfig: String,
    #[server(default)] admin_context: String,
) -> Result<Granted, AppError> {
    crate::error::with_status(ssr::update_grant(id, version, (admin_kubeconfig, admin_context)).await)
}

/// Removes Flotilla's identity (`flotilla-system/flotilla-hub`, its token and its grant)
/// from the cluster an admin kubeconfig context reaches, a cluster this tenant no longer
/// has registered (a registered one is unjoined by deregistering it). Answers its API
/// server. Idempotent: a cluster without the identity is left as it is.
#[server(endpoint = "fleet/unjoin")]
pub async fn unjoin_cluster(kubeconfig: String, #[server(default)] context: String) -> Result<String, AppError> {
    crate::error::with_status(ssr::unjoin(kubeconfig, context).await)
}

/// Gives a joined cluster's Flotilla identity a new token (made with its own access) and
/// removes the old one, if the cluster is still at `version`.
#[server(endpoint = "fleet/rotate-credentials")]
pub async fn rotate_credentials(id: String, version: i64) -> Result<FleetRow, AppError> {
    crate::error::with_status(ssr::rotate(id, version).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::time::Duration;

    use flotilla_domain::join as identity;
    use flotilla_domain::parse_labels;
    use flotilla_engine::kubeconfig::ClusterAccess;
    use flotilla_store::{AuditEntry, AuditOutcome, Store};

    use crate::AppError;
    use crate::backend::{SessionIds, app_state, matching, require_caller};
    use crate::model::{ClusterSummary, Deregistered, FleetRow, Granted, IdentityFate};

    /// How long each request of a rotation may take.
    const ROTATE_TIMEOUT: Duration = Duration::from_secs(8);

    pub async fn list_clusters() -> Result<Vec<ClusterSummary>, AppError> {
        let user = require_caller().await?;
        Ok(app_state()?.store.list_clusters(&user.tenant_id).await?)
    }

    /// The tenant's clusters, each with how many workspaces and projects select it.
    async fn rows(store: &Store, user: &SessionIds) -> Result<Vec<FleetRow>, AppError> {
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let mut counts = std::collections::HashMap::<String, (usize, usize)>::new();
        let mut projects = store.list_tenant_projects(&user.tenant_id).await?;
        for workspace in store.list_workspaces(&user.tenant_id).await? {
            for c in matching(&clusters, &workspace.selector, None) {
                counts.entry(c.id.clone()).or_default().0 += 1;
            }
            for project in projects.remove(&workspace.id).unwrap_or_default() {
                for c in matching(&clusters, &workspace.selector, Some(&project.selector)) {
                    counts.entry(c.id.clone()).or_default().1 += 1;
                }
            }
        }
        Ok(clusters
            .into_iter()
            .map(|cluster| {
                let (workspaces, projects) = counts.get(&cluster.id).copied().unwrap_or_default();
                FleetRow { cluster, workspaces, projects }
            })
            .collect())
    }

    pub async fn overview() -> Result<Vec<FleetRow>, AppError> {
        let user = require_caller().await?;
        rows(&app_state()?.store, &user).await
    }

    pub async fn set_labels(id: String, version: i64, labels: String) -> Result<FleetRow, AppError> {
        let (user, state, cluster) = admin_and_cluster(&id).await?;
        let labels = parse_labels(&labels)?;
        // A join sets Flotilla's identity label and an unjoin removes it: by hand, it would
        // place the grant bindings where there is no identity, or none where there is one.
        let (now, wanted) = (cluster.labels.get(identity::IDENTITY_LABEL), labels.get(identity::IDENTITY_LABEL));
        if now != wanted {
            let message = match now {
                Some(value) => format!(
                    "keep {}={value}: a join set it, and unjoining the cluster removes it",
                    identity::IDENTITY_LABEL
                ),
                None => format!(
                    "{} is set by a join, not by hand: register the cluster with “Join” to give it Flotilla's identity",
                    identity::IDENTITY_LABEL
                ),
            };
            return Err(AppError::Invalid { field: "labels".into(), message });
        }
        let store = state.store;
        store.set_cluster_labels(&user.tenant_id, &user.username, &id, version, &labels).await?;
        rows(&store, &user).await?.into_iter().find(|r| r.cluster.id == id).ok_or(AppError::NotFound)
    }

    pub async fn rotate(id: String, version: i64) -> Result<FleetRow, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let state = app_state()?;
        let store = state.store;
        // A foreign or unknown id is not found, whatever it is elsewhere.
        let cluster =
            store.engine_cluster(&id).await?.filter(|c| c.tenant_id == user.tenant_id).ok_or(AppError::NotFound)?;
        if !identity::is_joined(&cluster.labels) {
            return Err(AppError::Invalid {
                field: "cluster".into(),
                message: format!(
                    "{} was registered with a token of its own, not joined: Flotilla has no identity there to rotate \
                     (register it again with “Join” to give it one)",
                    cluster.name
                ),
            });
        }
        // Said before a token is made in the member (the store would refuse it after).
        unchanged(&cluster.name, cluster.version, version)?;
        let current = ClusterAccess::with_token(cluster.api_server_url, cluster.ca_pem, cluster.token);
        let failed =
            |why: String| AppError::Invalid { field: "cluster".into(), message: format!("could not rotate: {why}") };
        let rotation =
            flotilla_engine::join::rotate(&current, state.outbound.clone(), ROTATE_TIMEOUT).await.map_err(failed)?;
        store.set_cluster_token(&user.tenant_id, &user.username, &id, version, &rotation.token).await?;
        // Stored: the old token may go (the engine reconnects with the new one).
        rotation.finish(state.outbound.clone(), ROTATE_TIMEOUT).await.map_err(failed)?;
        rows(&store, &user).await?.into_iter().find(|r| r.cluster.id == id).ok_or(AppError::NotFound)
    }

    /// The caller (who must be a tenant admin), the app's state, and the tenant's cluster `id`
    /// (a foreign or unknown id is not found).
    async fn admin_and_cluster(
        id: &str,
    ) -> Result<(crate::backend::Caller, crate::state::AppState, ClusterSummary), AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let state = app_state()?;
        let clusters = state.store.list_clusters(&user.tenant_id).await?;
        let cluster = clusters.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
        Ok((user, state, cluster))
    }

    /// Refuses (409) a change to cluster `name` made from version `seen` when it is at
    /// `current` now, before anything is done in the member.
    fn unchanged(name: &str, current: i64, seen: i64) -> Result<(), AppError> {
        if current == seen {
            return Ok(());
        }
        Err(AppError::Conflict(format!("{name} was changed since you opened it: reload the fleet")))
    }

    /// How long a deregistration with unjoin waits for the engine to finish with the cluster.
    const DEREGISTER_WAIT: Duration = Duration::from_secs(60);

    /// An admin kubeconfig's access to `cluster`, checked (changing nothing) to reach it and
    /// to be allowed to read what an unjoin removes (what only an admin may).
    async fn admin_access(
        state: &crate::state::AppState,
        user: &crate::backend::Caller,
        cluster: &ClusterSummary,
        (text, context): (String, String),
    ) -> Result<ClusterAccess, AppError> {
        let invalid = |field: &str, message: String| AppError::Invalid { field: field.to_owned(), message };
        if !identity::is_joined(&cluster.labels) {
            return Err(invalid(
                "admin_kubeconfig",
                format!(
                    "{} was registered with a token of its own, not joined: Flotilla has no identity there",
                    cluster.name
                ),
            ));
        }
        if text.trim().is_empty() {
            return Err(invalid("admin_kubeconfig", "paste a kubeconfig with admin access to the cluster".into()));
        }
        let admin = crate::backend::checked_access(&state.outbound, &text, &context).map_err(|e| match e {
            AppError::Invalid { field, message } if field == "kubeconfig" => invalid("admin_kubeconfig", message),
            AppError::Invalid { message, .. } => invalid("admin_context", message),
            other => other,
        })?;
        if admin.server != cluster.api_server_url {
            return Err(invalid(
                "admin_context",
                format!("this context reaches {}, not {} ({})", admin.server, cluster.name, cluster.api_server_url),
            ));
        }
        flotilla_engine::join::check_unjoin(&admin, &user.tenant_id, state.outbound.clone(), ROTATE_TIMEOUT)
            .await
            .map_err(|why| {
                invalid("admin_context", format!("this context cannot manage Flotilla's identity: {why}"))
            })?;
        Ok(admin)
    }

    fn unjoin_audit(user: &crate::backend::Caller, server: &str, outcome: Result<(), &str>) -> AuditEntry {
        let (result, detail) = match outcome {
            Ok(()) => (AuditOutcome::Ok, serde_json::json!({ "server": server })),
            Err(why) => (AuditOutcome::Failed, serde_json::json!({ "server": server, "reason": why })),
        };
        AuditEntry::new(&user.tenant_id, &user.username, "cluster.unjoin", result)
            .actor_id(&user.user_id)
            .target("cluster", "", server)
            .detail(detail)
    }

    /// Removes the identity with `admin`, audited whatever happens.
    async fn unjoin_with(
        state: &crate::state::AppState,
        user: &crate::backend::Caller,
        admin: &ClusterAccess,
    ) -> Result<(), String> {
        let done = flotilla_engine::join::unjoin(admin, &user.tenant_id, state.outbound.clone(), ROTATE_TIMEOUT).await;
        let entry = unjoin_audit(user, &admin.server, done.as_ref().map(|_| ()).map_err(String::as_str));
        if let Err(e) = state.store.record_audit(&entry).await {
            tracing::error!(error = %e, "could not audit an unjoin");
        }
        done
    }

    pub async fn deregister(
        id: String,
        version: i64,
        cleanup: bool,
        confirm: String,
        admin: Option<(String, String)>,
    ) -> Result<Deregistered, AppError> {
        let (user, state, cluster) = admin_and_cluster(&id).await?;
        let store = state.store.clone();
        if confirm.trim() != cluster.name {
            return Err(AppError::Invalid {
                field: "confirm".into(),
                message: format!("type the cluster's name, {}, to confirm", cluster.name),
            });
        }
        let admin = match admin {
            Some((text, _)) if text.trim().is_empty() => {
                return Err(AppError::Invalid {
                    field: "admin_kubeconfig".into(),
                    message:
                        "paste a kubeconfig with admin access to the cluster to remove Flotilla's identity from it"
                            .into(),
                });
            }
            // Checked before the deregistration starts: a credential that cannot unjoin
            // changes nothing.
            Some(given) => Some(admin_access(&state, &user, &cluster, given).await?),
            None => None,
        };
        store.deregister_cluster(&user.tenant_id, &user.username, &id, version, cleanup).await?;
        let identity = match admin {
            None if identity::is_joined(&cluster.labels) => IdentityFate::Left,
            None => IdentityFate::None,
            Some(admin) => {
                // The engine cleans up with the identity: it goes only once the engine is done.
                if gone(&store, &id, DEREGISTER_WAIT).await? {
                    match unjoin_with(&state, &user, &admin).await {
                        Ok(()) => IdentityFate::Removed,
                        Err(why) => IdentityFate::NotRemoved(why),
                    }
                } else {
                    IdentityFate::NotRemoved(format!(
                        "Flotilla was still removing its objects after {} s",
                        DEREGISTER_WAIT.as_secs()
                    ))
                }
            }
        };
        Ok(Deregistered { name: cluster.name, identity })
    }

    /// Whether the engine has forgotten cluster `id` within `wait`.
    async fn gone(store: &Store, id: &str, wait: Duration) -> Result<bool, AppError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if store.engine_cluster(id).await?.is_none() {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn unjoin(text: String, context: String) -> Result<String, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let state = app_state()?;
        let admin = crate::backend::checked_access(&state.outbound, &text, &context)?;
        if let Some(c) =
            state.store.list_clusters(&user.tenant_id).await?.iter().find(|c| c.api_server_url == admin.server)
        {
            let message = if c.deregistering.is_some() {
                format!("{} is still being deregistered: unjoin it once it has gone from the fleet", c.name)
            } else {
                format!(
                    "{} is registered with this API server: deregister it, giving the admin kubeconfig there",
                    c.name
                )
            };
            return Err(AppError::Invalid { field: "context".into(), message });
        }
        flotilla_engine::join::check_unjoin(&admin, &user.tenant_id, state.outbound.clone(), ROTATE_TIMEOUT)
            .await
            .map_err(|why| AppError::Invalid {
                field: "context".into(),
                message: format!("cannot remove Flotilla's identity with this context: {why}"),
            })?;
        unjoin_with(&state, &user, &admin).await.map_err(|why| AppError::Invalid {
            field: "context".into(),
            message: format!("could not remove Flotilla's identity: {why}"),
        })?;
        Ok(admin.server)
    }

    pub async fn update_grant(id: String, version: i64, admin: (String, String)) -> Result<Granted, AppError> {
        use flotilla_domain::join::{JoinGrant, STANDARD_NAMESPACED, TypeRef};
        let (user, state, cluster) = admin_and_cluster(&id).await?;
        let store = state.store.clone();
        unchanged(&cluster.name, cluster.version, version)?;
        let admin = admin_access(&state, &user, &cluster, admin).await?;
        let served = store.cluster_types(&user.tenant_id, &id).await?.ok_or_else(|| AppError::Invalid {
            field: "cluster".into(),
            message: format!("Flotilla has not read which kinds {} serves yet: wait until it is Ready", cluster.name),
        })?;
        let by_kind: std::collections::HashMap<(&str, &str), &flotilla_domain::kinds::ServedType> =
            served.iter().map(|t| ((t.api_version.as_str(), t.kind.as_str()), t)).collect();
        // Every kind the tenant's live resources use that the cluster serves.
        let (mut namespaced, mut cluster_kinds) = (Vec::new(), Vec::new());
        for workspace in store.list_workspaces(&user.tenant_id).await? {
            let mut homes = vec![None];
            homes.extend(store.list_projects(&user.tenant_id, &workspace.id).await?.into_iter().map(|p| Some(p.id)));
            for home in homes {
                for r in store.list_resources(&user.tenant_id, &workspace.id, home.as_deref()).await? {
                    if let (false, Some(t)) = (r.deleted, by_kind.get(&(r.api_version.as_str(), r.kind.as_str()))) {
                        let kind = TypeRef::new(t.group(), &t.plural);
                        if t.namespaced {
                            namespaced.push(kind);
                        } else {
                            cluster_kinds.push(kind);
                        }
                    }
                }
            }
        }
        let grant = JoinGrant::standard().with(namespaced, cluster_kinds);
        let failed = |why: String| AppError::Invalid {
            field: "admin_context".into(),
            message: format!("could not update the grant: {why}"),
        };
        let rotation =
            flotilla_engine::join::regrant(&admin, &user.tenant_id, &grant, state.outbound.clone(), ROTATE_TIMEOUT)
                .await
                .map_err(failed)?;
        store.set_cluster_token(&user.tenant_id, &user.username, &id, version, &rotation.token).await?;
        // Stored: the old token may go (the engine reconnects with the new one, and re-checks
        // every resource there).
        rotation.finish(state.outbound.clone(), ROTATE_TIMEOUT).await.map_err(failed)?;
        let standard: Vec<TypeRef> = STANDARD_NAMESPACED.iter().map(|(g, r)| TypeRef::new(g, r)).collect();
        let text =
            |t: &TypeRef| if t.group.is_empty() { t.resource.clone() } else { format!("{}/{}", t.group, t.resource) };
        let granted = Granted {
            name: cluster.name.clone(),
            namespaced: grant.namespaced.iter().filter(|t| !standard.contains(t)).map(text).collect(),
            cluster: grant.cluster.iter().map(text).collect(),
            equals_cluster_admin: grant.equals_cluster_admin(),
        };
        let entry = AuditEntry::new(&user.tenant_id, &user.username, "cluster.grant", AuditOutcome::Ok)
            .actor_id(&user.user_id)
            .target("cluster", &id, &cluster.name)
            .detail(serde_json::json!({ "namespaced": granted.namespaced, "cluster": granted.cluster }));
        store.record_audit(&entry).await?;
        Ok(granted)
    }
}
