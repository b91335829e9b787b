//! One worker per member cluster: it alone talks to its cluster, so a slow or dead cluster
//! delays nobody else. Level-triggered: whatever woke it, it compares what should be with
//! what it last applied (rendered hash + the member's generation/resourceVersion, KubeFed's
//! method) and writes only what differs. Unchanged → no write.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use flotilla_domain::{ObjectKey, StatusCode, WorkloadHealth};
use flotilla_store::{ClusterHealth, DeletionPolicy, EngineCluster, StatusRecord, Store, now_ms};
use k8s_openapi::apimachinery::pkg::version::Info;
use rand::Rng;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::EngineSettings;
use crate::client::{MemberClient, Transports};
use crate::mailbox;
use crate::member::{self, Accepted, Refusal};
use crate::model::{Desired, FleetModel, Output, parse_hash};
use crate::status::StatusSink;
use crate::watch::{self, KindKey, MemberEvent};

/// What wakes a worker.
#[derive(Debug)]
pub(crate) enum WorkerMsg {
    /// Re-check these resources.
    Resources(Vec<String>),
    /// Re-check everything placed here (labels, workspace or project changed; resync).
    All,
    /// New credentials, labels or a deregistration.
    Cluster(Box<EngineCluster>),
    /// What the member's watches saw.
    Member(Box<MemberEvent>),
    Stop,
}

/// Where one resource stands in this cluster. A fleet holds one per (cluster × object),
/// so it is kept small: the object's name is shared with the model, the hash is binary.
#[derive(Debug, Clone)]
struct Tracked {
    key: Option<Arc<ObjectKey>>,
    /// What the member accepted last: revision and hash rendered, versions it answered.
    applied: Option<Applied>,
    code: StatusCode,
    message: Box<str>,
    health: Option<WorkloadHealth>,
}

impl Tracked {
    fn pending() -> Self {
        Self { key: None, applied: None, code: StatusCode::Pending, message: Box::default(), health: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    revision: i64,
    /// The rendered content hash (128 bits, stored as 32 hex digits).
    hash: u128,
    generation: Option<i64>,
    resource_version: Option<Box<str>>,
}

fn hash_text(hash: u128) -> String {
    format!("{hash:032x}")
}

pub(crate) struct ClusterWorker {
    cluster: EngineCluster,
    model: Arc<RwLock<FleetModel>>,
    store: Store,
    sink: StatusSink,
    settings: Arc<EngineSettings>,
    inbox: mailbox::Receiver<WorkerMsg>,
    self_tx: mailbox::Sender<WorkerMsg>,
    transports: Arc<Transports>,
    client: Option<MemberClient>,
    ready: bool,
    health_published: Option<ClusterHealth>,
    tracked: HashMap<Box<str>, Tracked>,
    pending: BTreeSet<String>,
    check_all: bool,
    /// Resources whose member object changed behind Flotilla's back.
    drifted: HashSet<String>,
    failures: u32,
    retry: BTreeSet<String>,
    retry_at: Option<Instant>,
    next_probe: Instant,
    next_resync: Instant,
    watches: HashMap<KindKey, JoinHandle<()>>,
    /// A digest of the API server URL, CA and token the client was built from.
    credentials: u64,
}

fn credentials(cluster: &EngineCluster) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cluster.api_server_url.hash(&mut h);
    cluster.ca_pem.hash(&mut h);
    secrecy::ExposeSecret::expose_secret(&cluster.token).hash(&mut h);
    h.finish()
}

impl ClusterWorker {
    pub fn spawn(
        cluster: EngineCluster,
        model: Arc<RwLock<FleetModel>>,
        store: Store,
        sink: StatusSink,
        settings: Arc<EngineSettings>,
        transports: Arc<Transports>,
    ) -> (mailbox::Sender<WorkerMsg>, JoinHandle<()>) {
        let (tx, inbox) = mailbox::mailbox();
        let now = Instant::now();
        // Spread resyncs so a thousand clusters do not all resync at once.
        let first_resync = settings.resync.mul_f64(rand::thread_rng().gen_range(0.5..1.0));
        let worker = Self {
            credentials: credentials(&cluster),
            cluster,
            model,
            store,
            sink,
            inbox,
            self_tx: tx.clone(),
            transports,
            client: None,
            ready: false,
            health_published: None,
            tracked: HashMap::new(),
            pending: BTreeSet::new(),
            check_all: true,
            drifted: HashSet::new(),
            failures: 0,
            retry: BTreeSet::new(),
            retry_at: None,
            next_probe: now,
            next_resync: now + first_resync,
            watches: HashMap::new(),
            settings,
        };
        let handle = tokio::spawn(worker.run());
        (tx, handle)
    }

    #[tracing::instrument(skip(self), fields(cluster = %self.cluster.name))]
    async fn run(mut self) {
        // The steps below are boxed: a worker's idle future then holds no space for them
        // (a fleet has a thousand idle workers).
        Box::pin(self.load_tracked()).await;
        loop {
            let wake_at = [Some(self.next_probe), Some(self.next_resync), self.retry_at].into_iter().flatten().min();
            tokio::select! {
                msgs = self.inbox.recv_all() => {
                    for msg in msgs {
                        if !Box::pin(self.handle(msg)).await {
                            self.stop_watches();
                            return;
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))) => {}
            }
            let now = Instant::now();
            if now >= self.next_probe {
                Box::pin(self.probe()).await;
            }
            if now >= self.next_resync {
                self.check_all = true;
                self.next_resync = now + self.settings.resync;
            }
            if self.retry_at.is_some_and(|at| now >= at) {
                self.retry_at = None;
                self.pending.append(&mut self.retry);
            }
            if self.ready && (self.check_all || !self.pending.is_empty()) {
                Box::pin(self.sync()).await;
            }
        }
    }

    /// Takes a message in; false = stop.
    async fn handle(&mut self, msg: WorkerMsg) -> bool {
        match msg {
            WorkerMsg::Resources(ids) => self.pending.extend(ids),
            WorkerMsg::All => self.check_all = true,
            WorkerMsg::Cluster(cluster) => {
                let credentials_changed = credentials(&cluster) != self.credentials;
                self.cluster = *cluster;
                if credentials_changed {
                    self.credentials = credentials(&self.cluster);
                    self.client = None;
                    self.stop_watches();
                    self.next_probe = Instant::now();
                } else if self.client.is_some() {
                    self.forget_credentials();
                }
                if let Some(mode) = self.cluster.deregistering.clone() {
                    self.deregister(mode == "cleanup").await;
                    return false;
                }
                self.check_all = true;
            }
            WorkerMsg::Member(event) => self.member_event(*event),
            WorkerMsg::Stop => return false,
        }
        true
    }

    async fn load_tracked(&mut self) {
        match self.store.cluster_statuses(&self.cluster.id).await {
            Ok(rows) => {
                for r in rows {
                    let applied = match (r.applied_revision, r.applied_hash.as_deref().and_then(parse_hash)) {
                        (Some(revision), Some(hash)) => Some(Applied {
                            revision,
                            hash,
                            generation: r.member_generation,
                            resource_version: r.member_resource_version.map(String::into_boxed_str),
                        }),
                        _ => None,
                    };
                    let key = self.model.read().ok().and_then(|m| m.object_key(&r.resource_id));
                    let t = Tracked { key, applied, code: r.code, message: r.message.into(), health: r.health };
                    self.tracked.insert(r.resource_id.into(), t);
                }
            }
            Err(e) => tracing::error!(error = %e, "could not load statuses; everything will be re-checked"),
        }
    }

    // ── health ────────────────────────────────────────────────────────────────────────

    async fn probe(&mut self) {
        if self.client.is_none() {
            match self.transports.connect(&self.cluster).await {
                Ok(c) => {
                    self.client = Some(c);
                    self.forget_credentials();
                }
                Err(e) => {
                    self.mark_offline(e.to_string()).await;
                    return;
                }
            }
        }
        let Some(client) = self.client() else { return };
        let Ok(version) = http::Request::get("/version").body(Vec::new()) else { return };
        let answer = tokio::time::timeout(self.settings.request_timeout, client.request::<Info>(version)).await;
        match answer {
            Ok(Ok(info)) => {
                let was_ready = self.ready;
                self.ready = true;
                self.failures = 0;
                // Jittered, so a fleet whose workers started together does not probe in
                // one burst every period.
                self.next_probe = Instant::now() + self.settings.probe.mul_f64(rand::thread_rng().gen_range(0.8..1.2));
                self.publish_health(ClusterHealth {
                    health: "Ready",
                    reason: String::new(),
                    server_version: Some(info.git_version),
                })
                .await;
                if !was_ready {
                    self.check_all = true;
                    self.ensure_watches();
                }
            }
            Ok(Err(e)) => {
                self.mark_offline(member::classify(e).reason()).await;
            }
            Err(_) => {
                self.mark_offline(format!("no answer within {} s", self.settings.request_timeout.as_secs())).await
            }
        }
    }

    async fn mark_offline(&mut self, reason: String) {
        self.ready = false;
        let delay = self.backoff();
        self.next_probe = Instant::now() + delay;
        self.publish_health(ClusterHealth { health: "Offline", reason: reason.clone(), server_version: None }).await;
        // Everything placed here waits for the cluster; what it last accepted is kept, so
        // nothing is rewritten when it returns unchanged.
        let placed = self.placed();
        for id in placed {
            self.set_status(&id, StatusCode::ClusterNotReady, format!("cluster offline: {reason}"));
        }
    }

    async fn publish_health(&mut self, health: ClusterHealth) {
        if self.health_published.as_ref() == Some(&health) {
            return;
        }
        if let Err(e) = self.store.set_cluster_health(&self.cluster.id, &health).await {
            tracing::warn!(error = %e, "could not record cluster health");
        }
        self.sink.cluster(&self.cluster.tenant_id, &self.cluster.id, health.clone());
        self.health_published = Some(health);
    }

    /// Exponential backoff with jitter, per cluster.
    fn backoff(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let exp = self.settings.backoff_min.saturating_mul(1 << self.failures.min(16).saturating_sub(1));
        let capped = exp.min(self.settings.backoff_max);
        capped.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }

    fn placed(&self) -> Vec<String> {
        self.model.read().map(|m| m.placed_on(&self.cluster.id)).unwrap_or_default()
    }

    // ── sync ──────────────────────────────────────────────────────────────────────────

    async fn sync(&mut self) {
        let mut ids: BTreeSet<String> = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.check_all) {
            ids.extend(self.placed());
            ids.extend(self.tracked.keys().map(|k| k.to_string()));
        }
        let mut work: Vec<(String, Desired)> = {
            let Ok(model) = self.model.read() else { return };
            ids.into_iter().map(|id| (id.clone(), model.desired(&self.cluster.id, &id))).collect()
        };
        // Creates and updates in apply order (namespaces, CRDs, the rest, custom
        // resources); removals after, in reverse.
        work.sort_by_key(|(_, d)| match d {
            Desired::Present { resource, .. } | Desired::Invalid { resource, .. } => (0, resource.order as i16),
            Desired::Absent { resource } => (1, -(resource.as_ref().map_or(2, |r| r.order) as i16)),
        });
        let mut work = work.into_iter();
        for (id, desired) in work.by_ref() {
            let still_ready = match desired {
                Desired::Present { resource, output } => self.ensure_present(&id, &resource, &output).await,
                Desired::Invalid { message, .. } => {
                    self.set_status(&id, StatusCode::ApplyOverridesFailed, message);
                    true
                }
                Desired::Absent { resource } => {
                    self.ensure_absent(&id, resource.as_deref().map(|r| r.deletion_policy)).await
                }
            };
            if !still_ready {
                break;
            }
        }
        // The cluster went away mid-pass: the rest waits for it.
        self.pending.extend(work.map(|(id, _)| id));
        if !self.retry.is_empty() && self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + self.backoff());
        }
    }

    /// Makes the member hold `output`. Returns false when the cluster stopped answering.
    async fn ensure_present(&mut self, id: &str, resource: &crate::model::ResourceEntry, output: &Output) -> bool {
        let Some(client) = self.client() else { return false };
        let timeout = self.settings.request_timeout;
        let tracked = self.tracked.get(id);
        let applied = tracked.and_then(|t| t.applied.clone());
        let same_render = applied.as_ref().is_some_and(|a| a.hash == output.hash);
        let drifted = self.drifted.remove(id);
        if same_render && !drifted {
            // Up to date: the member accepted exactly this and has not changed it since.
            if tracked.is_some_and(|t| t.code != StatusCode::Synced) {
                self.set_status(id, StatusCode::Synced, String::new());
            }
            return true;
        }
        if same_render && drifted {
            // A watch said it changed; check before writing (the event may predate our write).
            match member::versions(&client, timeout, &output.key).await {
                Ok(Some(now)) if applied.as_ref().is_some_and(|a| same_versions(a, &now)) => return true,
                Ok(_) => {}
                Err(Refusal::Unreachable(why)) => return self.unreachable(id, why).await,
                Err(_) => {}
            }
        }
        let known = applied.is_some();
        let result = member::apply(&client, timeout, output, id, known, resource.adopt_existing).await;
        let failed_code = if known { StatusCode::UpdateFailed } else { StatusCode::CreationFailed };
        match result {
            Ok(accepted) => {
                self.accept(id, resource, output, accepted);
                self.ensure_watch(&output.key);
                true
            }
            Err(Refusal::Unreachable(why)) => self.unreachable(id, why).await,
            Err(Refusal::TimedOut(why)) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                let code = if known { StatusCode::UpdateTimedOut } else { StatusCode::CreationTimedOut };
                self.timed_out(id, code, why)
            }
            Err(Refusal::NotOurs) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                self.set_status(
                    id,
                    StatusCode::AlreadyExists,
                    format!(
                        "{} exists in the cluster and was not created by Flotilla; allow adoption to manage it",
                        output.key
                    ),
                );
                true
            }
            Err(Refusal::MissingDependency(why)) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                self.set_status(
                    id,
                    StatusCode::WaitingForDependency,
                    format!("waiting for its namespace or type: {why}"),
                );
                self.retry.insert(id.to_owned());
                true
            }
            Err(Refusal::Refused(why)) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                self.set_status(id, failed_code, why);
                self.retry.insert(id.to_owned());
                true
            }
        }
    }

    async fn ensure_absent(&mut self, id: &str, policy: Option<DeletionPolicy>) -> bool {
        let Some(tracked) = self.tracked.get(id).cloned() else { return true };
        let ours = tracked.applied.is_some();
        if !ours || policy == Some(DeletionPolicy::Orphan) {
            self.forget(id);
            return true;
        }
        let Some(key) = tracked.key.clone() else {
            self.forget(id);
            return true;
        };
        let Some(client) = self.client() else { return false };
        if tracked.code != StatusCode::WaitingForRemoval {
            self.set_status(id, StatusCode::WaitingForRemoval, format!("removing {key}"));
        }
        match member::delete(&client, self.settings.request_timeout, &key).await {
            Ok(()) => {
                self.forget(id);
                true
            }
            Err(Refusal::Unreachable(why)) => self.unreachable(id, why).await,
            Err(Refusal::TimedOut(why)) => self.timed_out(id, StatusCode::DeletionTimedOut, why),
            Err(Refusal::Refused(why) | Refusal::MissingDependency(why)) => {
                self.set_status(id, StatusCode::DeletionFailed, why);
                self.retry.insert(id.to_owned());
                true
            }
            Err(Refusal::NotOurs) => {
                self.forget(id);
                true
            }
        }
    }

    /// A write had no answer in time. It is retried with backoff, and the cluster is probed
    /// before anything else is written: a cluster that stopped answering altogether goes
    /// Offline; one that is only slow to write keeps its other objects moving. Returns false
    /// (the pass stops here for the probe).
    fn timed_out(&mut self, id: &str, code: StatusCode, why: String) -> bool {
        self.set_status(id, code, why);
        self.retry.insert(id.to_owned());
        self.next_probe = Instant::now();
        false
    }

    async fn unreachable(&mut self, id: &str, why: String) -> bool {
        self.pending.insert(id.to_owned());
        self.mark_offline(why).await;
        false
    }

    fn accept(&mut self, id: &str, resource: &crate::model::ResourceEntry, output: &Output, accepted: Accepted) {
        let (revision, key) = (resource.revision, resource.key.as_ref());
        let t = self.tracked.entry(id.into()).or_insert_with(Tracked::pending);
        set_key(t, key, &output.key);
        t.applied = Some(Applied {
            revision,
            hash: output.hash,
            generation: accepted.generation,
            resource_version: accepted.resource_version.map(String::into_boxed_str),
        });
        t.code = StatusCode::Synced;
        t.message = Box::default();
        t.health = accepted.health.or(t.health);
        let record = self.record(id);
        if let Some(r) = record {
            self.sink.upsert(r);
        }
    }

    fn track_key(&mut self, id: &str, shared: Option<&Arc<ObjectKey>>, key: &ObjectKey) {
        set_key(self.tracked.entry(id.into()).or_insert_with(Tracked::pending), shared, key);
    }

    /// Sets a status (publishing it only when it changed).
    fn set_status(&mut self, id: &str, code: StatusCode, message: String) {
        let t = self.tracked.entry(id.into()).or_insert_with(Tracked::pending);
        if t.code == code && *t.message == *message {
            return;
        }
        t.code = code;
        t.message = message.into();
        if let Some(r) = self.record(id) {
            self.sink.upsert(r);
        }
    }

    fn forget(&mut self, id: &str) {
        self.drifted.remove(id);
        self.retry.remove(id);
        if self.tracked.remove(id).is_some() {
            self.sink.remove(&self.cluster.tenant_id, id, &self.cluster.id);
        }
    }

    fn record(&self, id: &str) -> Option<StatusRecord> {
        let t = self.tracked.get(id)?;
        Some(StatusRecord {
            tenant_id: self.cluster.tenant_id.clone(),
            resource_id: id.to_owned(),
            cluster_id: self.cluster.id.clone(),
            code: t.code,
            message: t.message.to_string(),
            applied_revision: t.applied.as_ref().map(|a| a.revision),
            applied_hash: t.applied.as_ref().map(|a| hash_text(a.hash)),
            member_generation: t.applied.as_ref().and_then(|a| a.generation),
            member_resource_version: t.applied.as_ref().and_then(|a| a.resource_version.as_deref().map(str::to_owned)),
            health: t.health,
            updated_at: now_ms(),
        })
    }

    // ── watches ───────────────────────────────────────────────────────────────────────

    fn ensure_watches(&mut self) {
        let keys: Vec<Arc<ObjectKey>> =
            self.tracked.values().filter(|t| t.applied.is_some()).filter_map(|t| t.key.clone()).collect();
        for key in keys {
            self.ensure_watch(&key);
        }
    }

    fn ensure_watch(&mut self, key: &ObjectKey) {
        if !self.settings.watch {
            return;
        }
        let Some(client) = self.client() else { return };
        let id = KindKey::of(key);
        if self.watches.get(&id).is_some_and(|h| !h.is_finished()) {
            return;
        }
        let handle = watch::spawn(client, key, self.self_tx.clone());
        self.watches.insert(id, handle);
    }

    fn stop_watches(&mut self) {
        for (_, h) in self.watches.drain() {
            h.abort();
        }
    }

    fn member_event(&mut self, event: MemberEvent) {
        match event {
            MemberEvent::Seen { resource_id, versions } => self.seen(resource_id, versions),
            MemberEvent::Gone { resource_id } => self.gone(resource_id),
            MemberEvent::Listed { kind, present } => {
                let listed: HashSet<&str> = present.iter().map(|(id, _)| id.as_str()).collect();
                let missing: Vec<String> = self
                    .tracked
                    .iter()
                    .filter(|(id, t)| {
                        t.applied.is_some()
                            && t.key.as_ref().is_some_and(|k| kind.matches(k))
                            && !listed.contains(&***id)
                    })
                    .map(|(id, _)| id.to_string())
                    .collect();
                for id in missing {
                    self.gone(id);
                }
                for (id, versions) in present {
                    self.seen(id, versions);
                }
            }
            MemberEvent::Failed(reason) => {
                tracing::debug!(%reason, "watch failed; probing");
                self.next_probe = Instant::now();
            }
        }
    }

    /// A watch saw one of our objects: drifted unless it is the version the member
    /// accepted from us; workload health is taken either way.
    fn seen(&mut self, resource_id: String, versions: Accepted) {
        let Some(t) = self.tracked.get_mut(resource_id.as_str()) else { return };
        let Some(applied) = &t.applied else { return };
        if !same_versions(applied, &versions) {
            self.drifted.insert(resource_id.clone());
            self.pending.insert(resource_id);
            return;
        }
        if versions.health.is_some() && versions.health != t.health {
            t.health = versions.health;
            if let Some(r) = self.record(&resource_id) {
                self.sink.upsert(r);
            }
        }
    }

    /// A watch saw one of our objects go (or a list no longer has it).
    fn gone(&mut self, resource_id: String) {
        if self.tracked.get(resource_id.as_str()).is_some_and(|t| t.applied.is_some()) {
            self.drifted.insert(resource_id.clone());
            self.pending.insert(resource_id);
        }
    }

    /// Once connected, the client holds the token and the shared connection the CA: the
    /// worker's copies go (a CA is a kilobyte, a thousand workers would each hold one).
    fn forget_credentials(&mut self) {
        self.cluster.ca_pem = None;
        self.cluster.token = secrecy::SecretString::from(String::new());
    }

    fn client(&self) -> Option<MemberClient> {
        self.client.clone()
    }

    // ── deregistration ────────────────────────────────────────────────────────────────

    async fn deregister(&mut self, cleanup: bool) {
        self.stop_watches();
        if cleanup {
            if self.client.is_none() {
                self.probe().await;
            }
            let mut ids: Vec<(u8, String)> = {
                let model = self.model.read().ok();
                self.tracked
                    .iter()
                    .filter(|(_, t)| t.applied.is_some())
                    .map(|(id, _)| (model.as_ref().and_then(|m| m.resource(id)).map_or(2, |r| r.order), id.to_string()))
                    .collect()
            };
            ids.sort_by_key(|(order, _)| std::cmp::Reverse(*order));
            for (_, id) in ids {
                if !self.ensure_absent(&id, Some(DeletionPolicy::Delete)).await {
                    tracing::warn!("cluster unreachable during cleanup; leaving the rest in place");
                    break;
                }
            }
        }
        self.sink.flush().await;
        match self.store.forget_cluster(&self.cluster.id).await {
            Ok(_) => tracing::info!(cleanup, "cluster deregistered"),
            Err(e) => tracing::error!(error = %e, "could not remove the deregistered cluster"),
        }
    }
}

/// Whether the member's object is still the one Flotilla wrote: same generation where the
/// kind has one (status updates do not count), else same resourceVersion.
fn same_versions(applied: &Applied, now: &Accepted) -> bool {
    match (applied.generation, now.generation) {
        (Some(a), Some(b)) => a == b,
        _ => applied.resource_version.as_deref() == now.resource_version.as_deref(),
    }
}

/// Points `t` at the model's shared copy of the object's name when it is the one rendered.
fn set_key(t: &mut Tracked, shared: Option<&Arc<ObjectKey>>, key: &ObjectKey) {
    if t.key.as_deref() == Some(key) {
        return;
    }
    t.key = Some(match shared {
        Some(shared) if **shared == *key => shared.clone(),
        _ => Arc::new(key.clone()),
    });
}
