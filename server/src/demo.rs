//! The demo fleet: simulated clusters served in-process and registered in the default tenant,
//! so a new user sees a fleet at once. The small fleet is 12 clusters (env prod/staging ×
//! region eu/us); the story fleet adds 36 edge clusters (12 per region, ap among them) and
//! installs Apache Kafka 3.7.1 in three projects of a workspace `streaming`, so that the
//! upgrade story can be played at once: 3.8.1 rolls out wave by wave, and 3.8.0, whose image
//! the demo fleets never let become ready, fails on the canary and is rolled back.

use std::net::SocketAddr;
use std::path::Path;

use flotilla_domain::{Clearance, ResourceName};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator, WorkloadSettings};
use flotilla_store::{Actor, InstallHome, NewCluster, NewInstall, Store};

use crate::config::DemoFleet;

/// Images the demo fleets never let become ready: the simulator's usual `broken`, and Kafka
/// 3.8.0 (the failing upgrade of the story).
const BROKEN_IMAGES: &str = "broken,apache/kafka:3.8.0";
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
    fleet: DemoFleet,
) -> Result<Simulator, DemoError> {
    let mut specs = flotilla_simulator::config::demo();
    let settings = SimSettings {
        admin_token: admin_token.unwrap_or_else(flotilla_simulator::random_token),
        workloads: WorkloadSettings { broken_image_pattern: BROKEN_IMAGES.into(), ..WorkloadSettings::default() },
        ..SimSettings::default()
    };
    if fleet == DemoFleet::Story {
        specs.extend(edge_clusters());
    }
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
    if fleet == DemoFleet::Story {
        install_story(store, tenant_id).await?;
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

/// The story fleet's 36 edge clusters: `edge-<region>-NN`, 12 in each of eu, us and ap.
fn edge_clusters() -> Vec<ClusterSpec> {
    ["eu", "us", "ap"]
        .into_iter()
        .flat_map(|region| {
            (1..=12).map(move |i| {
                ClusterSpec::new(format!("edge-{region}-{i:02}"))
                    .label("env", "prod")
                    .label("region", region)
                    .label("tier", "3")
            })
        })
        .collect()
}

/// Workspace `streaming` with projects orders (eu), payments (us) and analytics (ap), each
/// running Apache Kafka 3.7.1 — unless the workspace exists already (a later start leaves
/// whatever the user made of it).
async fn install_story(store: &Store, tenant_id: &str) -> Result<(), DemoError> {
    if store.list_workspaces(tenant_id).await?.iter().any(|w| w.name == "streaming") {
        return Ok(());
    }
    let actor = Actor::system("flotilla (demo)");
    let kafka = store
        .catalog(tenant_id)
        .await?
        .into_iter()
        .find(|v| v.definition.meta.name == "kafka" && v.definition.meta.version.to_string() == "3.7.1");
    let Some(kafka) = kafka else {
        tracing::warn!("the catalog has no Kafka 3.7.1: the demo installs nothing");
        return Ok(());
    };
    let workspace = store
        .create_workspace(tenant_id, &actor, &ResourceName::parse("name", "streaming")?, "env in (prod, staging)")
        .await?;
    let values = serde_json::Map::new();
    for (project, region) in [("orders", "eu"), ("payments", "us"), ("analytics", "ap")] {
        let name = ResourceName::parse("name", project)?;
        let selector = format!("region={region}");
        let p =
            store.create_project(tenant_id, &actor, Clearance::TenantAdmin, &workspace.id, &name, &selector).await?;
        let home = InstallHome { workspace_id: &workspace.id, project: Some((&p.id, project)) };
        let new = NewInstall { version_id: &kafka.id, name: "kafka", values: &values, rules: &[] };
        store.install_app(tenant_id, &actor, Clearance::TenantAdmin, home, new).await?;
    }
    tracing::info!(
        "demo: Apache Kafka 3.7.1 installed in projects orders, payments and analytics of workspace streaming"
    );
    Ok(())
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
