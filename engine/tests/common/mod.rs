//! A fleet for engine tests: simulated clusters over HTTPS, a real SQLite store, a running
//! engine with short timings, and helpers to look into the members.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_domain::{ResourceName, StatusCode};
use flotilla_engine::{EngineHandle, EngineSettings};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator, WorkloadSettings};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec, SecretCipher, SecretKey, StatusRecord, Store};
use kube::api::{Api, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use secrecy::SecretString;

pub struct Fleet {
    pub sim: Simulator,
    pub store: Store,
    pub engine: EngineHandle,
    pub tenant: String,
    pub dir: tempfile::TempDir,
}

pub fn settings() -> EngineSettings {
    EngineSettings {
        resync: Duration::from_secs(600),
        probe: Duration::from_millis(200),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
        request_timeout: Duration::from_secs(3),
        watch: true,
        // Small, so the tests' few clusters exercise both shared and separate connections.
        streams_per_connection: 4,
        // The simulator listens on this machine's loopback address.
        outbound: std::sync::Arc::new(flotilla_outbound::OutboundPolicy {
            loopback: flotilla_outbound::Loopback::Https,
            ..Default::default()
        }),
        rollout_tick: Duration::from_millis(50),
        // On PostgreSQL (the test command's second run) the engine holds leases: short ones
        // here, so that tests of replicas taking over do not wait long.
        leases: flotilla_engine::LeaseSettings { ttl: Duration::from_secs(3), tick: Duration::from_millis(300) },
    }
}

/// Clusters named with labels `key=value,…`; all are registered.
pub async fn fleet(clusters: &[(&str, &str)]) -> Fleet {
    fleet_with(clusters, settings()).await
}

pub async fn fleet_with(clusters: &[(&str, &str)], engine_settings: EngineSettings) -> Fleet {
    let sim_settings = SimSettings {
        tick: Duration::from_millis(20),
        workloads: WorkloadSettings { progress_deadline: Duration::from_secs(2), ..WorkloadSettings::default() },
        ..SimSettings::default()
    };
    let specs = clusters.iter().map(|(name, _)| ClusterSpec::new(*name)).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), specs, sim_settings).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let url = flotilla_testkit::database_url(dir.path()).await;
    let store = Store::connect(&url, SecretCipher::new(&test_key())).await.unwrap();
    let tenant = store.bootstrap(None).await.unwrap().tenant_id;
    let engine = EngineHandle::start(store.clone(), engine_settings).await.unwrap();
    let fleet = Fleet { sim, store, engine, tenant, dir };
    for (name, labels) in clusters {
        fleet.register(name, labels).await;
    }
    fleet
}

/// The secret key of every test fleet (replicas of one fleet must share it).
fn test_key() -> SecretKey {
    SecretKey::parse(&"42".repeat(32)).unwrap()
}

/// Another replica of the fleet's hub: a store of its own on the same database, and an engine.
pub struct Replica {
    pub store: Store,
    pub engine: EngineHandle,
}

pub fn labels(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

pub fn actor() -> Actor {
    Actor::system("tester")
}

impl Fleet {
    /// Starts another replica on the fleet's database, with `settings()`.
    pub async fn replica(&self) -> Replica {
        let url = flotilla_testkit::database_url(self.dir.path()).await;
        let store = Store::connect(&url, SecretCipher::new(&test_key())).await.unwrap();
        let engine = EngineHandle::start(store.clone(), settings()).await.unwrap();
        Replica { store, engine }
    }

    /// Registers simulated cluster `name` (adding it to the simulator if new).
    pub async fn register(&self, name: &str, label_text: &str) -> String {
        let cluster = match self.sim.cluster(name) {
            Some(c) => c,
            None => self.sim.add_cluster(ClusterSpec::new(name)),
        };
        let new = NewCluster {
            name: ResourceName::parse("name", name).unwrap(),
            api_server_url: self.sim.server_url(name),
            ca_pem: self.sim.ca_pem().map(str::to_owned),
            token: SecretString::from(cluster.token.clone()),
            labels: labels(label_text),
        };
        self.store.register_cluster(&self.tenant, "tester", &new, true).await.unwrap()
    }

    pub async fn cluster_id(&self, name: &str) -> String {
        self.store.list_clusters(&self.tenant).await.unwrap().into_iter().find(|c| c.name == name).unwrap().id
    }

    /// The version of cluster `id` (what an edit of it names).
    pub async fn cluster_version(&self, id: &str) -> i64 {
        self.store.list_clusters(&self.tenant).await.unwrap().into_iter().find(|c| c.id == id).unwrap().version
    }

    /// A workspace and a project in it; returns (workspace id, project id).
    pub async fn project(&self, ws_selector: &str, name: &str, selector: &str) -> (String, String) {
        let ws =
            self.store.create_workspace(&self.tenant, &actor(), &rn(&format!("ws-{name}")), ws_selector).await.unwrap();
        let p = self
            .store
            .create_project(
                &self.tenant,
                &actor(),
                flotilla_domain::Clearance::TenantAdmin,
                &ws.id,
                &rn(name),
                selector,
            )
            .await
            .unwrap();
        (ws.id, p.id)
    }

    pub async fn add(&self, ws: &str, project: Option<(&str, &str)>, spec: &ResourceSpec) -> String {
        let home = ResourceHome { workspace_id: ws, project };
        self.store
            .create_resource(&self.tenant, &actor(), flotilla_domain::Clearance::TenantAdmin, home, spec)
            .await
            .unwrap()
    }

    pub async fn update(&self, id: &str, spec: &ResourceSpec) -> i64 {
        let version = self.store.get_resource(&self.tenant, id).await.unwrap().version;
        self.store
            .update_resource(&self.tenant, &actor(), flotilla_domain::Clearance::TenantAdmin, id, version, spec)
            .await
            .unwrap()
    }

    pub async fn status(&self, resource: &str, cluster: &str) -> Option<StatusRecord> {
        self.engine.flush().await;
        let cluster_id = self.cluster_id(cluster).await;
        self.store
            .resource_statuses(&self.tenant, resource)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.cluster_id == cluster_id)
    }

    /// Waits until the resource's status in `cluster` satisfies `check`.
    pub async fn wait_status(
        &self,
        resource: &str,
        cluster: &str,
        what: &str,
        check: impl Fn(Option<&StatusRecord>) -> bool,
    ) -> Option<StatusRecord> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.status(resource, cluster).await;
            if check(s.as_ref()) {
                return s;
            }
            assert!(tokio::time::Instant::now() < deadline, "{cluster}: status never became {what}; last {s:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_code(&self, resource: &str, cluster: &str, code: StatusCode) -> StatusRecord {
        self.wait_status(resource, cluster, code.as_str(), |s| s.is_some_and(|s| s.code == code)).await.unwrap()
    }

    pub async fn wait_synced_rev(&self, resource: &str, cluster: &str, revision: i64) -> StatusRecord {
        self.wait_status(resource, cluster, &format!("Synced at revision {revision}"), |s| {
            s.is_some_and(|s| s.code == StatusCode::Synced && s.applied_revision == Some(revision))
        })
        .await
        .unwrap()
    }

    pub async fn wait_no_status(&self, resource: &str, cluster: &str) {
        self.wait_status(resource, cluster, "absent", |s| s.is_none()).await;
    }

    /// A kube client for the member, as any other client of it would be.
    pub async fn kube(&self, name: &str) -> kube::Client {
        let kubeconfig = Kubeconfig::from_yaml(&self.sim.kubeconfig(name).unwrap()).unwrap();
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
        config.default_retry = false;
        kube::Client::try_from(config).unwrap()
    }

    /// The object in member `cluster`, if it exists.
    pub async fn member_get(
        &self,
        cluster: &str,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<DynamicObject> {
        let (g, v) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let client = self.kube(cluster).await;
        // Addressed by what the member's discovery says (a kind it does not serve has no objects).
        let (ar, _) = kube::discovery::pinned_kind(&client, &GroupVersionKind::gvk(g, v, kind)).await.ok()?;
        let api: Api<DynamicObject> = match ns {
            Some(ns) => Api::namespaced_with(client, ns, &ar),
            None => Api::all_with(client, &ar),
        };
        api.get_opt(name).await.unwrap()
    }

    /// Creates `object` in member `cluster` as its admin would (kubectl create), at `path`
    /// (the collection's URL path).
    pub async fn member_create(&self, cluster: &str, path: &str, object: &serde_json::Value) {
        let request = http::Request::post(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(object).unwrap())
            .unwrap();
        self.kube(cluster).await.request::<serde_json::Value>(request).await.unwrap();
    }

    pub fn writes(&self, cluster: &str) -> u64 {
        self.sim.cluster(cluster).unwrap().counts().writes
    }

    pub async fn member_configmap(&self, cluster: &str, ns: &str, name: &str) -> Option<serde_json::Value> {
        self.member_get(cluster, "v1", "ConfigMap", Some(ns), name).await.map(|o| o.data["data"].clone())
    }
}

pub fn rn(s: &str) -> ResourceName {
    ResourceName::parse("name", s).unwrap()
}

pub fn configmap(name: &str, data: serde_json::Value) -> ResourceSpec {
    ResourceSpec::new(
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
    )
}

/// How long engine tests wait for the engine to get somewhere.
pub const WAIT: Duration = Duration::from_secs(15);
