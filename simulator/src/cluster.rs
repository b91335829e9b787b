//! A simulated cluster: identity, labels, state, faults and request counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};

use crate::kinds::{ResourceType, TypeKey};
use crate::state::{ClusterState, ObjectKey};
use crate::workloads::RolloutStart;

/// Namespaces every new cluster starts with.
pub const INITIAL_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// What a cluster is: its name, labels and reported version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Reported by `/version`, e.g. `v1.32.4`.
    #[serde(default = "default_version")]
    pub version: String,
}

pub fn default_version() -> String {
    "v1.32.4".into()
}

impl ClusterSpec {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), labels: BTreeMap::new(), version: default_version() }
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}

/// Faults injected into one cluster at run time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Every request answers 503 ServiceUnavailable (per-port clusters refuse connections).
    pub offline: bool,
    /// Added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Added to writes (POST, PUT, PATCH, DELETE) only, in milliseconds: a cluster that
    /// answers probes and reads but is slow to write (an overloaded etcd, a webhook).
    pub write_latency_ms: u64,
    /// Share of requests (0.0–1.0) answered 500 InternalError.
    pub error_rate: f64,
    /// Kinds (e.g. `Secret`) or plurals (`secrets`) answered 403 Forbidden.
    pub forbidden_kinds: Vec<String>,
    /// Open watch streams stop delivering events (until the stall is lifted, when they close).
    pub stall_watches: bool,
}

/// Requests a cluster has answered, by kind of request.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    /// POST, PUT, PATCH and DELETE on objects, whether or not they changed anything.
    pub writes: AtomicU64,
    pub watches: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub requests: u64,
    pub writes: u64,
    pub watches: u64,
}

/// One write that changed a cluster's objects, as the cluster's write log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteRecord {
    /// `create`, `update`, `patch` or `delete`.
    pub verb: String,
    /// The type's plural, e.g. `deployments`.
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object's `flotilla.io/revision` annotation after the write (before it, for a
    /// delete): which of Flotilla's revisions the write put there.
    pub revision: Option<String>,
    /// The writer's User-Agent (Flotilla names its replica there).
    #[serde(default)]
    pub user_agent: Option<String>,
}

pub struct Cluster {
    pub spec: ClusterSpec,
    pub token: String,
    state: Mutex<ClusterState>,
    faults: RwLock<Faults>,
    /// Bumped each time watches stall or resume, so streams notice.
    pub(crate) stall_epoch: AtomicU64,
    pub counters: Counters,
    pub(crate) rollouts: Mutex<HashMap<(TypeKey, ObjectKey), RolloutStart>>,
    /// Every write that changed an object, once [`Cluster::record_writes`] is called.
    write_log: Mutex<Option<Vec<WriteRecord>>>,
    /// The admin client certificates (DER) issued for this cluster.
    admin_certificates: RwLock<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl Cluster {
    pub(crate) fn new(spec: ClusterSpec, token: String, builtin: Arc<Vec<ResourceType>>) -> Self {
        Self {
            state: Mutex::new(ClusterState::new(builtin, &INITIAL_NAMESPACES)),
            spec,
            token,
            faults: RwLock::new(Faults::default()),
            stall_epoch: AtomicU64::new(0),
            counters: Counters::default(),
            rollouts: Mutex::new(HashMap::new()),
            write_log: Mutex::new(None),
            admin_certificates: RwLock::new(Vec::new()),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Records `der` as an admin client certificate of this cluster (`system:masters`).
    pub(crate) fn issue_admin_certificate(&self, der: Vec<u8>) {
        self.admin_certificates.write().unwrap_or_else(|p| p.into_inner()).push(der);
    }

    /// Whether `der` is an admin client certificate this cluster issued.
    pub(crate) fn issued_admin_certificate(&self, der: &[u8]) -> bool {
        self.admin_certificates.read().unwrap_or_else(|p| p.into_inner()).iter().any(|c| c == der)
    }

    /// The cluster's objects. Held only briefly, never across an await.
    pub fn state(&self) -> MutexGuard<'_, ClusterState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn faults(&self) -> Faults {
        self.faults.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        let mut current = self.faults.write().unwrap_or_else(|p| p.into_inner());
        if current.stall_watches != faults.stall_watches {
            self.stall_epoch.fetch_add(1, Ordering::SeqCst);
        }
        *current = faults;
    }

    /// From now on, keeps a record of every write that changes an object (for tests that
    /// check what a member was sent; off by default, a fleet of a thousand would grow it).
    pub fn record_writes(&self) {
        self.write_log.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Vec::new);
    }

    /// The writes recorded since [`Cluster::record_writes`], oldest first.
    pub fn write_log(&self) -> Vec<WriteRecord> {
        self.write_log.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default()
    }

    /// Adds a write to the log, if one is kept.
    pub(crate) fn log_write(&self, verb: &str, plural: &str, object: &serde_json::Value, user_agent: Option<&str>) {
        let mut log = self.write_log.lock().unwrap_or_else(|p| p.into_inner());
        let Some(log) = log.as_mut() else { return };
        let text = |pointer: &str| object.pointer(pointer).and_then(serde_json::Value::as_str).map(str::to_owned);
        log.push(WriteRecord {
            verb: verb.to_owned(),
            plural: plural.to_owned(),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name").unwrap_or_default(),
            revision: text("/metadata/annotations/flotilla.io~1revision"),
            user_agent: user_agent.map(str::to_owned),
        });
    }

    pub fn counts(&self) -> RequestCounts {
        RequestCounts {
            requests: self.counters.requests.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
            watches: self.counters.watches.load(Ordering::Relaxed),
        }
    }
}

/// Direct access for seeding tests and benchmarks: what another client of the cluster would
/// have done, without HTTP.
impl Cluster {
    /// Creates `object` as a POST would (same validation and semantics).
    pub fn create_object(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        object: serde_json::Value,
    ) -> Result<Arc<serde_json::Value>, crate::ApiError> {
        self.with_type(api_version, plural, |state, ty| state.create(ty, namespace, object).map(|w| w.object))
    }

    /// Replaces `object` as a PUT would (a stale resourceVersion conflicts).
    pub fn update_object(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        object: serde_json::Value,
    ) -> Result<Arc<serde_json::Value>, crate::ApiError> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        self.with_type(api_version, plural, |state, ty| {
            state.update(ty, namespace, &name, object, false).map(|w| w.object)
        })
    }

    pub fn get_object(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<serde_json::Value>, crate::ApiError> {
        self.with_type(api_version, plural, |state, ty| state.get(ty, namespace.unwrap_or(""), name))
    }

    pub fn object_count(&self) -> usize {
        self.state().object_count()
    }

    /// Runs `f` on the state with the type served at `api_version`/`plural` (404 if none).
    fn with_type<T>(
        &self,
        api_version: &str,
        plural: &str,
        f: impl FnOnce(&mut ClusterState, &ResourceType) -> Result<T, crate::ApiError>,
    ) -> Result<T, crate::ApiError> {
        let mut state = self.state();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let ty = state
            .find_type(group, version, plural)
            .ok_or_else(|| crate::ApiError::no_route(&format!("{api_version}/{plural}")))?;
        f(&mut state, &ty)
    }
}
