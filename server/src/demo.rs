//! The demo fleet: 12 simulated clusters (env prod/staging × region eu/us) served in-process
//! and registered in the default tenant, so a new user sees a fleet at once.

use std::net::SocketAddr;
use std::path::Path;

use flotilla_domain::ResourceName;
use flotilla_simulator::{SimSettings, Simulator};
use flotilla_store::{NewCluster, Store};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start the demo fleet's simulator")]
    Simulator(#[from] flotilla_simulator::Error),
    #[error("could not register a demo cluster")]
    Store(#[from] flotilla_store::Error),
    #[error("demo cluster name: {0}")]
    Name(#[from] flotilla_domain::Error),
}

/// Starts the simulator (its admin API requiring `admin_token`, random when `None`) and
/// (re-)registers its clusters in `tenant_id`: each start gets new tokens and a new CA, so
/// existing demo clusters are updated in place — but never a cluster of the same name that
/// someone registered at another address.
pub async fn start(
    store: &Store,
    tenant_id: &str,
    listen: SocketAddr,
    data_dir: &Path,
    admin_token: Option<String>,
) -> Result<Simulator, DemoError> {
    let specs = flotilla_simulator::config::demo();
    let settings = SimSettings {
        admin_token: admin_token.unwrap_or_else(flotilla_simulator::random_token),
        ..SimSettings::default()
    };
    let simulator = Simulator::start(listen, specs, settings).await?;
    let registered = store.list_clusters(tenant_id).await?;
    for cluster in simulator.fleet().all() {
        let url = simulator.server_url(cluster.name());
        if let Some(other) =
            registered.iter().find(|c| c.name == cluster.name() && !same_demo_endpoint(&c.api_server_url, &url))
        {
            tracing::warn!(
                cluster = %other.name,
                registered_at = %other.api_server_url,
                "a cluster of this demo cluster's name is registered elsewhere: left as it is, the demo one not registered"
            );
            continue;
        }
        let new = NewCluster {
            name: ResourceName::parse("name", cluster.name())?,
            api_server_url: simulator.server_url(cluster.name()),
            ca_pem: simulator.ca_pem().map(str::to_owned),
            token: SecretString::from(cluster.token.clone()),
            labels: cluster.spec.labels.clone(),
        };
        store.register_cluster(tenant_id, "flotilla (demo)", &new, true).await?;
    }
    let kubeconfigs = data_dir.join("demo-kubeconfigs");
    match simulator.write_kubeconfigs(&kubeconfigs) {
        Ok(_) => tracing::info!(
            clusters = simulator.fleet().len(),
            url = %simulator.base_url(),
            kubeconfigs = %kubeconfigs.display(),
            "demo fleet running; try: kubectl --kubeconfig {}/fleet.kubeconfig get ns",
            kubeconfigs.display()
        ),
        Err(e) => tracing::warn!(error = %e, "demo fleet running, but its kubeconfigs could not be written"),
    }
    Ok(simulator)
}

/// Whether a registered cluster's address is the demo simulator's for that cluster: same
/// path on a loopback address (the demo's port may change between starts when not fixed).
fn same_demo_endpoint(registered: &str, demo: &str) -> bool {
    let path = |url: &str| {
        url.split_once("://").and_then(|(_, rest)| rest.split_once('/')).map(|(host, path)| {
            (
                host.starts_with("127.0.0.1:") || host.starts_with("localhost:") || host.starts_with("[::1]:"),
                path.to_owned(),
            )
        })
    };
    match (path(registered), path(demo)) {
        (Some((true, a)), Some((true, b))) => a == b,
        _ => registered == demo,
    }
}
