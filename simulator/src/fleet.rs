//! The fleet: every simulated cluster of a process, and the ticker that moves workloads and
//! establishes CRDs.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::cluster::{Cluster, ClusterSpec};
use crate::kinds::{self, ResourceType};
use crate::workloads::{self, WorkloadSettings};

/// How the simulated clusters behave.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// One tick moves each rolling workload by one pod and establishes pending CRDs.
    pub tick: Duration,
    pub workloads: WorkloadSettings,
    /// Serve HTTPS with a generated CA (needed for kubectl to send tokens). On by default.
    pub tls: bool,
    /// Concurrent HTTP/2 streams a connection may carry (SETTINGS_MAX_CONCURRENT_STREAMS).
    /// kube-apiserver allows 100; a simulator serving a thousand clusters on one origin
    /// allows far more by default, so a hub can multiplex them over a few connections.
    pub http2_max_streams: u32,
    /// What the admin API (`/admin/…`: add clusters, inject faults, hand out kubeconfigs)
    /// requires as `Authorization: Bearer …`. Random unless given.
    pub admin_token: String,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(200),
            workloads: WorkloadSettings::default(),
            tls: true,
            http2_max_streams: 100_000,
            admin_token: random_token(),
        }
    }
}

/// Every cluster, by name.
pub struct Fleet {
    clusters: RwLock<BTreeMap<String, Arc<Cluster>>>,
    builtin: Arc<Vec<ResourceType>>,
    pub settings: SimSettings,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet").field("clusters", &self.len()).finish_non_exhaustive()
    }
}

impl Fleet {
    pub fn new(settings: SimSettings) -> Self {
        Self { clusters: RwLock::new(BTreeMap::new()), builtin: Arc::new(kinds::builtin()), settings }
    }

    /// Adds a cluster (replacing one of the same name) with a fresh random token.
    pub fn add(&self, spec: ClusterSpec) -> Arc<Cluster> {
        let token: String = (0..32).map(|_| format!("{:x}", rand::random::<u8>() % 16)).collect();
        let cluster = Arc::new(Cluster::new(spec, token, self.builtin.clone()));
        self.clusters.write().unwrap_or_else(|p| p.into_inner()).insert(cluster.name().to_owned(), cluster.clone());
        cluster
    }

    pub fn remove(&self, name: &str) -> Option<Arc<Cluster>> {
        self.clusters.write().unwrap_or_else(|p| p.into_inner()).remove(name)
    }

    pub fn get(&self, name: &str) -> Option<Arc<Cluster>> {
        self.clusters.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Cluster>> {
        self.clusters.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.clusters.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One tick for every cluster.
    pub fn tick(&self) {
        for cluster in self.all() {
            tick_cluster(&cluster, &self.settings.workloads);
        }
    }

    /// Ticks forever (spawned by the server).
    pub async fn run_ticker(self: Arc<Self>) {
        let mut every = tokio::time::interval(self.settings.tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tick();
        }
    }
}

fn tick_cluster(cluster: &Cluster, settings: &WorkloadSettings) {
    let mut state = cluster.state();
    if !state.pending_crds.is_empty() {
        let crd_type = state.types().find(|t| t.kind == "CustomResourceDefinition").cloned();
        if let Some(crd_type) = crd_type {
            for name in state.pending_crds.clone() {
                state.establish_crd(&crd_type, &name);
            }
        }
    }
    if state.unsettled.is_empty() {
        return;
    }
    let mut rollouts = cluster.rollouts.lock().unwrap_or_else(|p| p.into_inner());
    for key in state.unsettled.clone() {
        let Some((ty, obj)) = state.workload(&key) else {
            state.unsettled.remove(&key);
            rollouts.remove(&key);
            continue;
        };
        let mut start = rollouts.get(&key).copied();
        let (status, settled) = workloads::advance(&ty, &obj, &mut start, settings);
        if obj["status"] != status {
            let mut next = (*obj).clone();
            next["status"] = status;
            state.commit(&ty, key.1.clone(), Some(next), crate::state::EventType::Modified);
        }
        if settled {
            state.unsettled.remove(&key);
            rollouts.remove(&key);
        } else if let Some(s) = start {
            rollouts.insert(key, s);
        }
    }
}

/// 32 random hex digits.
pub fn random_token() -> String {
    (0..32).map(|_| format!("{:x}", rand::random::<u8>() % 16)).collect()
}
