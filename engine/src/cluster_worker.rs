//! One worker per member cluster: it alone talks to its cluster, so a slow or dead cluster
//! delays nobody else. Level-triggered: whatever woke it, it plans a pass ([`crate::plan`]:
//! what should be there against what the member accepted last and what its watches saw) and
//! executes the steps; unchanged → no step, no write.
//!
//! The worker's concerns each have a file: `probe.rs` (is the cluster there, its health),
//! `write.rs` (executing a plan against the member), `drift.rs` (watches and what they
//! report), `deregister.rs` (leaving a cluster, cleaning up or not).

mod deregister;
mod drift;
mod probe;
mod types;
mod write;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use flotilla_domain::StatusCode;
use flotilla_store::{ClusterHealth, EngineCluster, StatusRecord, Store, now_ms};
use rand::Rng;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::EngineSettings;
use crate::client::{MemberClient, Transports};
use crate::mailbox;
use crate::metrics::Metrics;
use crate::model::SharedModel;
use crate::status::StatusSink;
use crate::tracked::{Applied, Tracked, parse_hash};
use crate::watch::{KindKey, MemberEvent};

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

impl crate::mailbox::Coalesce for WorkerMsg {
    /// A worker busy with a slow member while changes pour in merges them at this many.
    const LIMIT: usize = 1024;

    /// Changes to resources become one "check everything"; of the cluster's settings only the
    /// latest counts; of what watches saw, the latest about each resource (or listed kind);
    /// a stop stays last.
    fn coalesce(queue: Vec<Self>) -> Vec<Self> {
        let mut cluster = None;
        let mut all = false;
        let mut stop = false;
        let mut seen: Vec<(String, Box<MemberEvent>)> = Vec::new();
        for msg in queue {
            match msg {
                WorkerMsg::Resources(_) | WorkerMsg::All => all = true,
                WorkerMsg::Cluster(c) => cluster = Some(c),
                WorkerMsg::Stop => stop = true,
                WorkerMsg::Member(event) => {
                    let key = match event.as_ref() {
                        MemberEvent::Seen { resource_id, .. } | MemberEvent::Gone { resource_id } => {
                            format!("r:{resource_id}")
                        }
                        MemberEvent::Listed { kind, .. } => format!("k:{kind:?}"),
                        MemberEvent::Failed(_) => "failed".to_owned(),
                    };
                    seen.retain(|(k, _)| *k != key);
                    seen.push((key, event));
                }
            }
        }
        let mut out: Vec<Self> = cluster.map(WorkerMsg::Cluster).into_iter().collect();
        out.extend(seen.into_iter().map(|(_, event)| WorkerMsg::Member(event)));
        if all {
            out.push(WorkerMsg::All);
        }
        if stop {
            out.push(WorkerMsg::Stop);
        }
        out
    }
}

/// What every worker shares: the model, the store, where statuses go, connections, settings,
/// metrics, and the engine's stop signal.
#[derive(Clone)]
pub(crate) struct Context {
    pub model: SharedModel,
    pub store: Store,
    pub sink: StatusSink,
    pub settings: Arc<EngineSettings>,
    pub transports: Arc<Transports>,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the engine stops: a worker finishes the write in flight and ends.
    pub stopping: CancellationToken,
    /// The workers' tasks, so that stopping can wait for them.
    pub workers: TaskTracker,
    /// The leases this replica holds (on PostgreSQL, shared with other replicas).
    pub shares: crate::shares::Shares,
}

pub(crate) struct ClusterWorker {
    cluster: EngineCluster,
    cx: Context,
    inbox: mailbox::Receiver<WorkerMsg>,
    self_tx: mailbox::Sender<WorkerMsg>,
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
    /// How many waiting resources this worker last counted in the metrics.
    reported_pending: usize,
    /// The epoch of the cluster's lease this worker works under (0 when not shared).
    lease_epoch: i64,
    /// What the member serves, from its discovery.
    types: types::Types,
}

impl Drop for ClusterWorker {
    fn drop(&mut self) {
        // Its cluster and waiting work leave the fleet-wide figures with it.
        self.cx.metrics.cluster_health_changed(self.health_published.as_ref().map(|h| h.health), None);
        self.cx.metrics.pending_changed(self.reported_pending, 0);
    }
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
    /// Starts the worker; `statuses` are the cluster's stored statuses when the caller read
    /// them already (for many clusters at once), `None` to have the worker read them.
    pub fn spawn(
        cluster: EngineCluster,
        cx: Context,
        lease_epoch: i64,
        statuses: Option<Vec<StatusRecord>>,
    ) -> (mailbox::Sender<WorkerMsg>, JoinHandle<()>) {
        let (tx, inbox) = mailbox::mailbox();
        let now = Instant::now();
        // Spread resyncs so a thousand clusters do not all resync at once.
        let first_resync = cx.settings.resync.mul_f64(rand::rng().random_range(0.5..1.0));
        let worker = Self {
            credentials: credentials(&cluster),
            cluster,
            cx,
            inbox,
            self_tx: tx.clone(),
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
            reported_pending: 0,
            lease_epoch,
            types: types::Types::default(),
        };
        let handle = worker.cx.workers.clone().spawn(worker.run(statuses));
        (tx, handle)
    }

    #[tracing::instrument(skip(self, statuses), fields(cluster = %self.cluster.name))]
    async fn run(mut self, statuses: Option<Vec<StatusRecord>>) {
        // The steps below are boxed: a worker's idle future then holds no space for them
        // (a fleet has a thousand idle workers).
        Box::pin(self.load_tracked(statuses)).await;
        let stopping = self.cx.stopping.clone();
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
                () = stopping.cancelled() => {}
                _ = tokio::time::sleep_until(wake_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))) => {}
            }
            if stopping.is_cancelled() {
                self.stop_watches();
                return;
            }
            let now = Instant::now();
            if now >= self.next_probe {
                Box::pin(self.probe()).await;
            }
            if now >= self.next_resync {
                self.check_all = true;
                self.types.mark_stale();
                // What no watch confirmed (objects adopted as they were carry no marks for the
                // watches to select) is read back.
                let unconfirmed = self.tracked.iter().filter(|(_, t)| t.unconfirmed && t.applied.is_some());
                let ids: Vec<String> = unconfirmed.map(|(id, _)| id.to_string()).collect();
                self.drifted.extend(ids);
                self.next_resync = now + self.cx.settings.resync;
            }
            if self.retry_at.is_some_and(|at| now >= at) {
                self.retry_at = None;
                self.pending.append(&mut self.retry);
            }
            if self.ready && (self.check_all || !self.pending.is_empty()) {
                Box::pin(self.sync()).await;
            }
            self.report_pending();
        }
    }

    /// Brings the fleet-wide count of waiting resources up to date with this worker's.
    fn report_pending(&mut self) {
        let now = self.pending.len() + self.retry.len();
        self.cx.metrics.pending_changed(self.reported_pending, now);
        self.reported_pending = now;
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

    /// What the member accepted before a restart, from the statuses the store kept (`given`,
    /// or read now).
    async fn load_tracked(&mut self, given: Option<Vec<StatusRecord>>) {
        let statuses = match given {
            Some(rows) => Ok(rows),
            None => self.cx.store.cluster_statuses(&self.cluster.tenant_id, &self.cluster.id).await,
        };
        match statuses {
            Ok(rows) => {
                let model = self.cx.model.read();
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
                    let key = model.object_key(&r.resource_id);
                    let t = Tracked {
                        key,
                        applied,
                        code: r.code,
                        message: r.message.into(),
                        health: r.health,
                        unconfirmed: true,
                    };
                    self.tracked.insert(r.resource_id.into(), t);
                }
            }
            Err(e) => tracing::error!(error = %e, "could not load statuses; everything will be re-checked"),
        }
    }

    /// The fence, before a batch of writes: does this replica still hold the cluster's lease
    /// at the epoch the worker started with? (Always, on one process.)
    async fn may_write(&self) -> bool {
        let name = crate::shares::cluster_lease(&self.cluster.id);
        let held = self.cx.shares.fence(&self.cx.store, &name, self.lease_epoch).await;
        if !held {
            tracing::warn!(lease = %name, epoch = self.lease_epoch, "lease no longer held: not writing");
        }
        held
    }

    /// The ids of the resources placed on this cluster.
    fn placed(&self) -> Vec<String> {
        self.cx.model.read().placed_on(&self.cluster.id)
    }

    /// Sets a status (publishing it only when it changed).
    fn set_status(&mut self, id: &str, code: StatusCode, message: String) {
        let t = self.tracked.entry(id.into()).or_insert_with(Tracked::pending);
        if t.code == code && *t.message == *message {
            return;
        }
        t.code = code;
        t.message = message.into();
        self.publish(id);
    }

    /// Sends the resource's status out (live, and to the store).
    fn publish(&self, id: &str) {
        if let Some(r) = self.record(id) {
            self.cx.sink.upsert(r);
        }
    }

    /// Stops tracking a resource here; its status goes.
    fn forget(&mut self, id: &str) {
        self.drifted.remove(id);
        self.retry.remove(id);
        if self.tracked.remove(id).is_some() {
            self.cx.sink.remove(&self.cluster.tenant_id, id, &self.cluster.id);
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
            applied_hash: t.applied.as_ref().map(Applied::hash_text),
            member_generation: t.applied.as_ref().and_then(|a| a.generation),
            member_resource_version: t.applied.as_ref().and_then(|a| a.resource_version.as_deref().map(str::to_owned)),
            health: t.health,
            updated_at: now_ms(),
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::Coalesce;

    #[test]
    fn a_flood_of_messages_merges_into_what_it_means() {
        let seen = |id: &str, rv: &str| {
            let versions =
                crate::member::Accepted { generation: None, resource_version: Some(rv.into()), health: None };
            WorkerMsg::Member(Box::new(MemberEvent::Seen { resource_id: id.into(), versions }))
        };
        let mut queue: Vec<WorkerMsg> = (0..1000).map(|i| WorkerMsg::Resources(vec![format!("r{i}")])).collect();
        queue.push(seen("r1", "1"));
        queue.push(seen("r2", "1"));
        queue.push(seen("r1", "2"));
        queue.push(WorkerMsg::Stop);
        let merged = WorkerMsg::coalesce(queue);
        let shown: Vec<String> = merged
            .iter()
            .map(|m| match m {
                WorkerMsg::Member(e) => match e.as_ref() {
                    MemberEvent::Seen { resource_id, versions } => {
                        format!("{resource_id}@{}", versions.resource_version.as_deref().unwrap_or_default())
                    }
                    other => format!("{other:?}"),
                },
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shown, ["r2@1", "r1@2", "All", "Stop"]);
    }
}
