//! The register form's server functions: read a kubeconfig, test a context, register it.

use leptos::prelude::*;

use crate::AppError;
use crate::model::{ClusterSummary, ContextChoice};

/// The contexts of a pasted or uploaded kubeconfig, the current one first.
#[server(endpoint = "fleet/read-kubeconfig")]
pub async fn read_kubeconfig(kubeconfig: String) -> Result<Vec<ContextChoice>, AppError> {
    crate::error::with_status(register::read_kubeconfig(kubeconfig).await)
}

/// Connects to the context's API server as the engine would; answers its version.
#[server(endpoint = "fleet/test-connection")]
pub async fn test_connection(kubeconfig: String, context: String) -> Result<String, AppError> {
    crate::error::with_status(register::test_connection(kubeconfig, context).await)
}

/// Registers the context's cluster under `name` with `labels` (`key=value,…`). With
/// `join`, the context's credentials are used once to create Flotilla's own least-privilege
/// identity in the cluster, and that identity's token is what is kept; otherwise the
/// context's own token is. Credentials are stored encrypted and never sent back.
#[server(endpoint = "fleet/register")]
pub async fn register_cluster(
    kubeconfig: String,
    context: String,
    name: String,
    labels: String,
    #[server(default)] join: bool,
) -> Result<ClusterSummary, AppError> {
    crate::error::with_status(register::register_cluster(kubeconfig, context, name, labels, join).await)
}

#[cfg(feature = "ssr")]
mod register {
    use std::time::Duration;

    use flotilla_domain::join::{self as identity, JoinGrant};
    use flotilla_domain::{ResourceName, parse_labels};
    use flotilla_engine::kubeconfig;
    use flotilla_store::NewCluster;

    use crate::AppError;
    use crate::backend::{app_state, require_caller};
    use crate::model::{ClusterSummary, ContextChoice};

    const TEST_TIMEOUT: Duration = Duration::from_secs(8);

    fn invalid(field: &str, message: String) -> AppError {
        AppError::Invalid { field: field.to_owned(), message }
    }

    pub async fn read_kubeconfig(text: String) -> Result<Vec<ContextChoice>, AppError> {
        require_caller().await?.require_tenant_admin()?;
        let policy = app_state()?.outbound;
        let contexts = kubeconfig::contexts(&text).map_err(|m| invalid("kubeconfig", m))?;
        Ok(contexts
            .into_iter()
            .map(|c| {
                let problem = c.problem.or_else(|| crate::backend::server_url(&policy, &c.server).err());
                ContextChoice { name: c.name, server: c.server, problem }
            })
            .collect())
    }

    pub async fn test_connection(text: String, context: String) -> Result<String, AppError> {
        require_caller().await?.require_tenant_admin()?;
        let policy = app_state()?.outbound;
        let access = crate::backend::checked_access(&policy, &text, &context)?;
        kubeconfig::test_connection(&access, policy, TEST_TIMEOUT)
            .await
            .map_err(|why| invalid("context", format!("cannot reach {}: {why}", access.server)))
    }

    pub async fn register_cluster(
        text: String,
        context: String,
        name: String,
        labels: String,
        join: bool,
    ) -> Result<ClusterSummary, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let name = ResourceName::parse("name", name.trim())?;
        let mut labels = parse_labels(&labels)?;
        let state = app_state()?;
        let mut access = crate::backend::checked_access(&state.outbound, &text, &context)?;
        let store = state.store;
        if store.list_clusters(&user.tenant_id).await?.iter().any(|c| c.name == name.as_str()) {
            // Said before anything is created in the member.
            return Err(invalid("name", format!("a cluster named {name} is already registered")));
        }
        if join {
            let grant = JoinGrant::standard();
            access =
                flotilla_engine::join::join(&access, &user.tenant_id, &grant, state.outbound.clone(), TEST_TIMEOUT)
                    .await
                    .map_err(|why| invalid("context", format!("could not join {}: {why}", access.server)))?;
            labels.insert(identity::IDENTITY_LABEL.to_owned(), identity::SERVICE_ACCOUNT.to_owned());
            // Every project opens its namespace to the identity before the cluster's first writes.
            store.open_projects_to_identity(&user.tenant_id).await?;
        } else if labels.contains_key(identity::IDENTITY_LABEL) {
            return Err(invalid(
                "labels",
                format!("{} is set by a join, not by hand: check “Join”, or leave it out", identity::IDENTITY_LABEL),
            ));
        }
        let token = access.token().map_err(|why| invalid("context", why))?.clone();
        let cluster = NewCluster { name, api_server_url: access.server, ca_pem: access.ca_pem, token, labels };
        let id = store.register_cluster(&user.tenant_id, &user.username, &cluster, false).await?;
        store.list_clusters(&user.tenant_id).await?.into_iter().find(|c| c.id == id).ok_or(AppError::Internal)
    }
}
