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

/// Registers the context's cluster under `name` with `labels` (`key=value,…`). The
/// credentials are stored encrypted and never sent back.
#[server(endpoint = "fleet/register")]
pub async fn register_cluster(
    kubeconfig: String,
    context: String,
    name: String,
    labels: String,
) -> Result<ClusterSummary, AppError> {
    crate::error::with_status(register::register_cluster(kubeconfig, context, name, labels).await)
}

#[cfg(feature = "ssr")]
mod register {
    use std::time::Duration;

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
        let contexts = kubeconfig::contexts(&text).map_err(|m| invalid("kubeconfig", m))?;
        Ok(contexts.into_iter().map(|c| ContextChoice { name: c.name, server: c.server, problem: c.problem }).collect())
    }

    pub async fn test_connection(text: String, context: String) -> Result<String, AppError> {
        require_caller().await?.require_tenant_admin()?;
        let access = kubeconfig::access(&text, &context).map_err(|m| invalid("context", m))?;
        kubeconfig::test_connection(&access, TEST_TIMEOUT)
            .await
            .map_err(|why| invalid("context", format!("cannot reach {}: {why}", access.server)))
    }

    pub async fn register_cluster(
        text: String,
        context: String,
        name: String,
        labels: String,
    ) -> Result<ClusterSummary, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let name = ResourceName::parse("name", name.trim())?;
        let labels = parse_labels(&labels)?;
        let access = kubeconfig::access(&text, &context).map_err(|m| invalid("context", m))?;
        let store = app_state()?.store;
        let cluster =
            NewCluster { name, api_server_url: access.server, ca_pem: access.ca_pem, token: access.token, labels };
        let id = store.register_cluster(&user.tenant_id, &user.username, &cluster, false).await?;
        store.list_clusters(&user.tenant_id).await?.into_iter().find(|c| c.id == id).ok_or(AppError::Internal)
    }
}
