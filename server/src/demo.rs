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

/// Starts the simulator and (re-)registers its clusters in `tenant_id`: each start gets new
/// tokens and a new CA, so existing demo clusters are updated in place.
pub async fn start(
    store: &Store,
    tenant_id: &str,
    listen: SocketAddr,
    data_dir: &Path,
) -> Result<Simulator, DemoError> {
    let specs = flotilla_simulator::config::demo();
    let simulator = Simulator::start(listen, specs, SimSettings::default()).await?;
    for cluster in simulator.fleet().all() {
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
