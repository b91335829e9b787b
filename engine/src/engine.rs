//! The engine: loads the model, runs one worker per cluster, and routes each committed
//! change to exactly the workers it affects (no fleet-wide rescan per change). Stopping it
//! lets each worker finish the write in flight, then stores every status not yet stored, so
//! that the next start knows what the members hold and writes nothing it already wrote.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use flotilla_store::{Change, EngineVersions, HeldLease, Store};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client::Transports;
use crate::cluster_worker::{ClusterWorker, Context, WorkerMsg};
use crate::mailbox;
use crate::metrics::Metrics;
use crate::model::{FleetModel, SharedModel};
use crate::shares::{Shares, cluster_lease, owner, rollout_lease};
use crate::status::{StatusEvent, StatusSink};
use crate::{EngineSettings, Result};

/// The running engine, as the server and tests hold it. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    sink: StatusSink,
    metrics: Arc<Metrics>,
    /// Cancelled to stop the engine.
    stop: CancellationToken,
    /// Cancelled by the router once it has stopped (workers ended, statuses stored).
    stopped: CancellationToken,
    /// How long stopping workers get to finish the writes in flight.
    grace: Duration,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle").finish_non_exhaustive()
    }
}

impl EngineHandle {
    /// Starts the engine on `store`: every registered cluster gets a worker.
    pub async fn start(store: Store, settings: EngineSettings) -> Result<Self> {
        let changes = store.subscribe_changes();
        let metrics = Arc::new(Metrics::default());
        let (purged_tx, purged_rx) = mpsc::unbounded_channel();
        let sink = StatusSink::start(store.clone(), purged_tx, metrics.clone());
        tokio::spawn(crate::status::relay(store.clone(), sink.clone()));
        let transports = Arc::new(
            Transports::new(settings.outbound.clone(), settings.streams_per_connection, settings.request_timeout)
                .for_replica(store.replica()),
        );
        let stop = CancellationToken::new();
        let stopped = CancellationToken::new();
        let grace = settings.request_timeout + Duration::from_secs(1);
        // Several replicas share one PostgreSQL database; one SQLite process works alone.
        let shares = Shares::new(store.backend() == flotilla_store::Backend::Postgres);
        tokio::spawn(crate::rollouts::drive(
            store.clone(),
            sink.clone(),
            shares.clone(),
            settings.rollout_tick,
            stop.clone(),
        ));
        let cx = Context {
            model: SharedModel::default(),
            store,
            sink: sink.clone(),
            settings: Arc::new(settings),
            transports,
            metrics: metrics.clone(),
            stopping: stop.clone(),
            workers: TaskTracker::new(),
            shares,
        };
        if cx.shares.is_shared() {
            tokio::spawn(crate::shares::keep_alive(
                cx.store.clone(),
                cx.shares.clone(),
                cx.settings.leases,
                stop.clone(),
            ));
        }
        let mut router = Router {
            cx,
            workers: HashMap::new(),
            grace,
            known: EngineVersions::default(),
            last_take: tokio::time::Instant::now(),
        };
        router.reload().await?;
        if router.cx.shares.is_shared() {
            // Join the replicas and take this one's share now, not at the first tick.
            let ttl = router.cx.settings.leases.ttl;
            let asked = tokio::time::Instant::now();
            let live = router.cx.store.replica_heartbeat(ttl).await?;
            router.cx.shares.renewed(asked, ttl, live, &[]);
            router.rebalance().await?;
        }
        tokio::spawn(router.run(changes, purged_rx, stopped.clone()));
        Ok(Self { sink, metrics, stop, stopped, grace })
    }

    /// Status changes as they happen (for the live dashboard).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StatusEvent>> {
        self.sink.subscribe()
    }

    /// Resolves once every status published so far is in the store.
    pub async fn flush(&self) {
        self.sink.flush().await;
    }

    /// The engine's metrics (the server registers them for `/metrics`).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Stops the engine: no new work starts; each worker finishes the write it has in flight
    /// (bounded by the request timeout: a worker still writing after it is abandoned, and its
    /// object checked again at the next start); then every status not yet stored is stored.
    /// Resolves when that is done.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        // The router bounds its own wait; this bound is for a router that is stuck.
        if tokio::time::timeout(self.grace + Duration::from_secs(5), self.stopped.cancelled()).await.is_err() {
            tracing::warn!("the engine did not stop in time");
        }
    }
}

struct WorkerSlot {
    tx: mailbox::Sender<WorkerMsg>,
    handle: JoinHandle<()>,
}

impl Drop for WorkerSlot {
    fn drop(&mut self) {
        let _ = self.tx.send(WorkerMsg::Stop);
    }
}

struct Router {
    cx: Context,
    workers: HashMap<String, WorkerSlot>,
    grace: Duration,
    /// The version of every row the model was built from (what the periodic check compares).
    known: EngineVersions,
    /// When leases were last taken (a renewal asked before then may not list them yet).
    last_take: tokio::time::Instant,
}

/// What kind of row a change concerns.
#[derive(Debug, Clone, Copy)]
enum Row {
    Cluster,
    Workspace,
    Project,
    Resource,
}

impl Router {
    async fn run(
        mut self,
        mut changes: broadcast::Receiver<Change>,
        mut purged: mpsc::UnboundedReceiver<String>,
        stopped: CancellationToken,
    ) {
        // Tells `shutdown` the router ended, even if it ended by a panic.
        let _stopped = stopped.drop_guard();
        let mut resync = tokio::time::interval(self.cx.settings.resync);
        resync.tick().await;
        let mut leases = tokio::time::interval(self.cx.settings.leases.tick);
        leases.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shared = self.cx.shares.is_shared();
        let stop = self.cx.stopping.clone();
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = leases.tick(), if shared => {
                    if let Err(e) = self.rebalance().await {
                        tracing::warn!(error = %e, "could not renew or take leases; trying again");
                    }
                }
                change = changes.recv() => match change {
                    Ok(change) => {
                        if let Err(e) = self.apply(change).await {
                            tracing::error!(error = %e, "could not load a change; reloading everything");
                            let _ = self.reload().await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // Most of a flood is what the router ignores (statuses and health of
                        // thousands of clusters, from every replica): the rows' versions say
                        // what it missed. Reloading everything instead took long enough at
                        // ten thousand clusters to miss the next flood too, and the next.
                        tracing::info!(missed = n, "change events missed; reading the rows that changed");
                        if let Err(e) = self.catch_up().await {
                            tracing::warn!(error = %e, "could not read what changed; reloading everything");
                            if let Err(e) = self.reload().await {
                                tracing::error!(error = %e, "reload failed");
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(id) = purged.recv() => {
                    self.known.resources.remove(&id);
                    self.cx.model.write().set_resource(&id, None);
                }
                _ = resync.tick() => {
                    if let Err(e) = self.catch_up().await {
                        tracing::error!(error = %e, "the periodic check failed; reloading everything");
                        let _ = self.reload().await;
                    }
                }
            }
        }
        self.stop_workers().await;
    }

    /// Waits for every worker to end (they saw the stop signal), at most the grace period,
    /// then stores what they published.
    async fn stop_workers(&mut self) {
        self.workers.clear();
        self.cx.workers.close();
        if tokio::time::timeout(self.grace, self.cx.workers.wait()).await.is_err() {
            tracing::warn!(
                grace_s = self.grace.as_secs(),
                "some cluster workers were still writing; they are checked again at the next start"
            );
        }
        self.cx.sink.flush().await;
        if self.cx.shares.is_shared() {
            // The other replicas take this one's clusters over at once, not when leases expire.
            if let Err(e) = self.cx.store.leave_replicas().await {
                tracing::warn!(error = %e, "could not release the leases; they expire by themselves");
            }
        }
        tracing::info!("sync engine stopped; statuses stored");
    }

    /// Works out again, from the replicas alive at the last heartbeat (`shares::keep_alive`
    /// renews the leases apart from this), which clusters and rollouts are this replica's own:
    /// stops the workers whose lease was lost, hands over what is no longer its own (workers
    /// stopped, their statuses stored, then the leases released), and takes what is its own
    /// and free.
    async fn rebalance(&mut self) -> Result<()> {
        let settings = self.cx.settings.leases;
        let store = self.cx.store.clone();
        let live = self.cx.shares.live();
        if live.is_empty() {
            return Ok(()); // no heartbeat yet
        }
        let held = self.cx.shares.held();
        let mut wanted: Vec<String> = self.cx.model.read().cluster_ids().map(cluster_lease).collect();
        wanted.extend(store.active_rollouts().await?.into_iter().map(|(_, id)| rollout_lease(&id)));
        let me = store.replica();
        let mine: BTreeSet<String> = wanted.into_iter().filter(|k| owner(k, &live) == Some(me)).collect();
        let lost: Vec<String> =
            self.workers.keys().map(|id| cluster_lease(id)).filter(|name| !held.contains_key(name)).collect();
        let handed: Vec<HeldLease> = held
            .iter()
            .filter(|(name, _)| !mine.contains(*name))
            .map(|(name, epoch)| HeldLease { name: name.clone(), epoch: *epoch })
            .collect();
        if !lost.is_empty() || !handed.is_empty() {
            let stopping: Vec<&str> =
                lost.iter().map(String::as_str).chain(handed.iter().map(|l| l.name.as_str())).collect();
            self.stop_leased(&stopping).await;
            self.cx.sink.flush().await;
        }
        if !handed.is_empty() {
            // Released first, dropped here once that is done: a release that fails is tried
            // again at the next look (a lease dropped here but still held in the database
            // would be renewed with every heartbeat and never reach its new owner).
            store.release_leases(&handed).await?;
            for lease in &handed {
                self.cx.shares.dropped(&lease.name);
            }
            tracing::info!(leases = handed.len(), "handed over");
        }
        let just_handed: HashSet<&str> = handed.iter().map(|h| h.name.as_str()).collect();
        let orphans: Vec<HeldLease> = self
            .cx
            .shares
            .orphans(self.last_take)
            .into_iter()
            .filter(|o| !just_handed.contains(o.name.as_str()))
            .collect();
        if !orphans.is_empty() {
            tracing::warn!(leases = orphans.len(), "releasing leases held in the database but not worked here");
            store.release_leases(&orphans).await?;
        }
        // Taken in batches: a replica taking over a dead one's thousands of clusters does not
        // spend a round trip on each.
        // Only those not held here at all: a lease held whose time to act lapsed (renewals
        // were slow) comes back with the next renewal, its workers untouched.
        let free: Vec<String> = mine.iter().filter(|name| !held.contains_key(*name)).cloned().collect();
        if !free.is_empty() {
            let asked = tokio::time::Instant::now();
            let taken = store.take_leases(&free, settings.ttl).await;
            // Whatever the answer, a renewal asked before now may not list what was taken.
            let taken = taken.inspect_err(|_| self.last_take = tokio::time::Instant::now())?;
            for lease in &taken {
                self.cx.shares.taken(&lease.name, lease.epoch, asked, settings.ttl);
            }
            self.last_take = tokio::time::Instant::now();
            if !taken.is_empty() {
                tracing::info!(leases = taken.len(), "taken");
            }
        }
        // A cluster whose lease is held here has a worker: started now, also when the lease
        // was taken at an earlier look but the database failed before its worker could be (it
        // would otherwise hold the cluster and never work it).
        let idle: BTreeSet<&str> = mine
            .iter()
            .filter(|name| self.cx.shares.epoch(name).is_some())
            .filter_map(|name| name.strip_prefix("cluster:"))
            .filter(|id| !self.workers.contains_key(*id))
            .collect();
        let mut starting = Vec::with_capacity(idle.len());
        if idle.len() > 16 {
            starting.extend(store.engine_clusters().await?.into_iter().filter(|c| idle.contains(c.id.as_str())));
        } else {
            for id in idle {
                starting.extend(store.engine_cluster(id).await?);
            }
        }
        self.spawn_all(starting).await;
        self.cx.metrics.leases_held(self.cx.shares.held().len());
        Ok(())
    }

    /// Takes lease `name` now if it is this replica's among those alive at the last look and
    /// free (a cluster just registered starts syncing at once, not at the next lease tick).
    async fn take_if_mine(&mut self, name: &str) -> Result<()> {
        if !self.cx.shares.is_shared() || self.cx.shares.epoch(name).is_some() {
            return Ok(());
        }
        let store = &self.cx.store;
        let asked = tokio::time::Instant::now();
        if owner(name, &self.cx.shares.live()) != Some(store.replica()) {
            return Ok(());
        }
        let taken = store.take_lease(name, self.cx.settings.leases.ttl).await;
        if let Ok(Some(epoch)) = &taken {
            self.cx.shares.taken(name, *epoch, asked, self.cx.settings.leases.ttl);
        }
        // Whatever the answer, a renewal asked before now may not list what was taken.
        self.last_take = tokio::time::Instant::now();
        taken?;
        Ok(())
    }

    /// Stops the work under leases `names` (clusters' workers; the rollout driver looks only
    /// at rollouts whose lease it holds) and waits for the workers to end, all at once, at
    /// most the grace period (a worker still writing then is aborted: its writes were fenced
    /// already, the lease no longer being valid here).
    async fn stop_leased(&mut self, names: &[&str]) {
        let mut slots: Vec<(String, WorkerSlot)> = names
            .iter()
            .filter_map(|name| name.strip_prefix("cluster:"))
            .filter_map(|id| self.workers.remove(id).map(|slot| (id.to_owned(), slot)))
            .collect();
        for (_, slot) in &slots {
            let _ = slot.tx.send(WorkerMsg::Stop);
        }
        let ends = futures::future::join_all(slots.iter_mut().map(|(_, slot)| &mut slot.handle));
        if tokio::time::timeout(self.grace, ends).await.is_err() {
            for (id, slot) in &slots {
                if !slot.handle.is_finished() {
                    tracing::warn!(cluster = %id, "the worker did not stop in time; aborted");
                    slot.handle.abort();
                }
            }
        }
    }

    /// Reads every row's version (ids and numbers only: nothing decrypted) and reads again
    /// only the rows that changed without an event reaching the engine. With the change feed
    /// in order, there are none; this is the safety net the resync period promises.
    async fn catch_up(&mut self) -> Result<()> {
        let now = self.cx.store.engine_versions().await?;
        let stale = |known: &HashMap<String, i64>, now: &HashMap<String, i64>| -> Vec<String> {
            let mut ids: Vec<String> =
                now.iter().filter(|(id, v)| known.get(*id) != Some(v)).map(|(id, _)| id.clone()).collect();
            ids.extend(known.keys().filter(|id| !now.contains_key(*id)).cloned());
            ids
        };
        // Clusters, workspaces and projects before resources: a resource's key and placement
        // are worked out from them.
        let rows: Vec<(Row, String)> = [
            (Row::Cluster, stale(&self.known.clusters, &now.clusters)),
            (Row::Workspace, stale(&self.known.workspaces, &now.workspaces)),
            (Row::Project, stale(&self.known.projects, &now.projects)),
            (Row::Resource, stale(&self.known.resources, &now.resources)),
        ]
        .into_iter()
        .flat_map(|(row, ids)| ids.into_iter().map(move |id| (row, id)))
        .collect();
        if rows.is_empty() {
            return Ok(());
        }
        tracing::info!(rows = rows.len(), "the periodic check found changes no event brought; reading them");
        self.cx.metrics.catch_up(rows.len());
        for (row, id) in rows {
            self.refresh(row, id).await?;
        }
        // Rows the engine reads nothing from (a resource without its current revision) are
        // not asked about again.
        self.known = now;
        Ok(())
    }

    /// Loads everything from the store, starts and stops workers to match, wakes all.
    async fn reload(&mut self) -> Result<()> {
        self.cx.metrics.reloaded();
        let store = &self.cx.store;
        let clusters = store.engine_clusters().await?;
        let (workspaces, projects, resources) =
            (store.engine_workspaces().await?, store.engine_projects().await?, store.engine_resources().await?);
        self.known = EngineVersions {
            clusters: clusters.iter().map(|c| (c.id.clone(), c.version)).collect(),
            workspaces: workspaces.iter().map(|w| (w.id.clone(), w.version)).collect(),
            projects: projects.iter().map(|p| (p.id.clone(), p.version)).collect(),
            resources: resources.iter().map(|r| (r.id.clone(), r.version)).collect(),
        };
        let model = FleetModel::load(&clusters, workspaces, projects, resources);
        // Deleted resources the store still has: each goes if no member holds it (its
        // statuses say), e.g. one deleted while placed nowhere before a restart.
        for id in model.deleted_resources() {
            self.cx.sink.unheld(id);
        }
        *self.cx.model.write() = model;
        let live: BTreeSet<String> = clusters.iter().map(|c| c.id.clone()).collect();
        self.workers.retain(|id, _| live.contains(id));
        let mut starting = Vec::new();
        for c in clusters {
            match self.workers.get(&c.id) {
                Some(slot) if !slot.handle.is_finished() => {
                    let _ = slot.tx.send(WorkerMsg::Cluster(Box::new(c)));
                }
                _ => starting.push(c),
            }
        }
        self.spawn_all(starting).await;
        Ok(())
    }

    /// Starts the workers of `clusters` whose leases this replica holds, handing each its
    /// stored statuses read for 500 clusters at a time (at a start or a takeover of thousands
    /// of clusters, one query per cluster was most of the database's work).
    async fn spawn_all(&mut self, clusters: Vec<flotilla_store::EngineCluster>) {
        let mut clusters: Vec<_> =
            clusters.into_iter().filter(|c| self.cx.shares.epoch(&cluster_lease(&c.id)).is_some()).collect();
        while !clusters.is_empty() {
            let batch: Vec<_> = clusters.drain(..clusters.len().min(500)).collect();
            let keys: Vec<(&str, &str)> = batch.iter().map(|c| (c.tenant_id.as_str(), c.id.as_str())).collect();
            let mut statuses = match self.cx.store.clusters_statuses(&keys).await {
                Ok(statuses) => Some(statuses),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the statuses of the clusters starting; each worker reads its own");
                    None
                }
            };
            for cluster in batch {
                let own = statuses.as_mut().map(|s| s.remove(&cluster.id).unwrap_or_default());
                self.spawn_with(cluster, own);
            }
        }
    }

    /// Starts the worker of `cluster`, if this replica holds its lease.
    fn spawn(&mut self, cluster: flotilla_store::EngineCluster) {
        self.spawn_with(cluster, None);
    }

    fn spawn_with(
        &mut self,
        cluster: flotilla_store::EngineCluster,
        statuses: Option<Vec<flotilla_store::StatusRecord>>,
    ) {
        let id = cluster.id.clone();
        let Some(epoch) = self.cx.shares.epoch(&cluster_lease(&id)) else { return };
        let deregistering = cluster.deregistering.is_some();
        let (tx, handle) = ClusterWorker::spawn(cluster.clone(), self.cx.clone(), epoch, statuses);
        if deregistering {
            let _ = tx.send(WorkerMsg::Cluster(Box::new(cluster)));
        }
        self.workers.insert(id, WorkerSlot { tx, handle });
    }

    async fn apply(&mut self, change: Change) -> Result<()> {
        match change {
            Change::Resource { id, .. } => self.refresh(Row::Resource, id).await,
            Change::Workspace { id, .. } => self.refresh(Row::Workspace, id).await,
            Change::Project { id, .. } => self.refresh(Row::Project, id).await,
            Change::Cluster { id, .. } => self.refresh(Row::Cluster, id).await,
            // People's roles change nothing in the clusters (a project's RoleBindings are
            // resources of their own, announced as such).
            Change::Access { .. } => Ok(()),
            // Another replica's statuses: the relay tells the live streams (status.rs).
            Change::Statuses { .. } | Change::ClusterHealth { .. } => Ok(()),
        }
    }

    /// Reads row `id` again and tells the workers it affects.
    async fn refresh(&mut self, row: Row, id: String) -> Result<()> {
        let store = &self.cx.store;
        let known = |map: &mut HashMap<String, i64>, version: Option<i64>| match version {
            Some(v) => map.insert(id.clone(), v),
            None => map.remove(&id),
        };
        match row {
            Row::Resource => {
                let loaded = store.engine_resource(&id).await?;
                known(&mut self.known.resources, loaded.as_ref().map(|r| r.version));
                let deleted = loaded.as_ref().is_some_and(|r| r.deleted);
                let affected = self.cx.model.write().set_resource(&id, loaded);
                if deleted && affected.is_empty() {
                    // Placed on no cluster, before or now: no worker will say it is gone.
                    self.cx.sink.unheld(&id);
                }
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::Resources(vec![id.clone()]));
                }
            }
            Row::Workspace => {
                let loaded = store.engine_workspace(&id).await?;
                known(&mut self.known.workspaces, loaded.as_ref().map(|w| w.version));
                let affected = self.cx.model.write().set_workspace(&id, loaded);
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::All);
                }
            }
            Row::Project => {
                let loaded = store.engine_project(&id).await?;
                known(&mut self.known.projects, loaded.as_ref().map(|p| p.version));
                let affected = self.cx.model.write().set_project(&id, loaded);
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::All);
                }
            }
            Row::Cluster => match store.engine_cluster(&id).await? {
                Some(c) => {
                    known(&mut self.known.clusters, Some(c.version));
                    self.cx.model.write().set_cluster(&c);
                    match self.workers.get(&id) {
                        Some(slot) if !slot.handle.is_finished() => {
                            let _ = slot.tx.send(WorkerMsg::Cluster(Box::new(c)));
                        }
                        _ => {
                            self.take_if_mine(&cluster_lease(&id)).await?;
                            self.spawn(c);
                        }
                    }
                }
                None => {
                    known(&mut self.known.clusters, None);
                    self.cx.model.write().remove_cluster(&id);
                    self.workers.remove(&id);
                }
            },
        }
        Ok(())
    }

    fn send(&self, cluster_id: &str, msg: impl FnOnce() -> WorkerMsg) {
        if let Some(slot) = self.workers.get(cluster_id) {
            let _ = slot.tx.send(msg());
        }
    }
}
