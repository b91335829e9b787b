//! The engine: loads the model, runs one worker per cluster, and routes each committed
//! change to exactly the workers it affects (no fleet-wide rescan per change).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use flotilla_store::{Change, Store};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::client::Transports;
use crate::cluster_worker::{ClusterWorker, WorkerMsg};
use crate::mailbox;
use crate::model::FleetModel;
use crate::status::{StatusEvent, StatusSink};
use crate::{EngineSettings, Result};

/// The running engine, as the server and tests hold it. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    sink: StatusSink,
    router: Arc<JoinHandle<()>>,
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
        let (purged_tx, purged_rx) = mpsc::unbounded_channel();
        let sink = StatusSink::start(store.clone(), purged_tx);
        let transports = Arc::new(Transports::new(settings.streams_per_connection, settings.request_timeout));
        let mut router = Router {
            store,
            settings: Arc::new(settings),
            model: Arc::new(RwLock::new(FleetModel::default())),
            sink: sink.clone(),
            transports,
            workers: HashMap::new(),
        };
        router.reload().await?;
        let handle = tokio::spawn(router.run(changes, purged_rx));
        Ok(Self { sink, router: Arc::new(handle) })
    }

    /// Status changes as they happen (for the live dashboard).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StatusEvent>> {
        self.sink.subscribe()
    }

    /// Resolves once every status published so far is in the store.
    pub async fn flush(&self) {
        self.sink.flush().await;
    }

    /// Stops routing changes (workers stop when their channels close).
    pub fn shutdown(&self) {
        self.router.abort();
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
    store: Store,
    settings: Arc<EngineSettings>,
    model: Arc<RwLock<FleetModel>>,
    sink: StatusSink,
    transports: Arc<Transports>,
    workers: HashMap<String, WorkerSlot>,
}

impl Router {
    async fn run(mut self, mut changes: broadcast::Receiver<Change>, mut purged: mpsc::UnboundedReceiver<String>) {
        let mut resync = tokio::time::interval(self.settings.resync);
        resync.tick().await;
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) => {
                        if let Err(e) = self.apply(change).await {
                            tracing::error!(error = %e, "could not load a change; reloading everything");
                            let _ = self.reload().await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "change events missed; reloading everything");
                        if let Err(e) = self.reload().await {
                            tracing::error!(error = %e, "reload failed");
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(id) = purged.recv() => {
                    if let Ok(mut m) = self.model.write() {
                        m.set_resource(&id, None);
                    }
                }
                _ = resync.tick() => {
                    if let Err(e) = self.reload().await {
                        tracing::error!(error = %e, "periodic reload failed");
                    }
                }
            }
        }
    }

    /// Loads everything from the store, starts and stops workers to match, wakes all.
    async fn reload(&mut self) -> Result<()> {
        let clusters = self.store.engine_clusters().await?;
        let model = FleetModel::load(
            &clusters,
            self.store.engine_workspaces().await?,
            self.store.engine_projects().await?,
            self.store.engine_resources().await?,
        );
        *self.model.write().map_err(|_| poisoned())? = model;
        let live: BTreeSet<String> = clusters.iter().map(|c| c.id.clone()).collect();
        self.workers.retain(|id, _| live.contains(id));
        for c in clusters {
            match self.workers.get(&c.id) {
                Some(slot) if !slot.handle.is_finished() => {
                    let _ = slot.tx.send(WorkerMsg::Cluster(Box::new(c)));
                }
                _ => self.spawn(c),
            }
        }
        Ok(())
    }

    fn spawn(&mut self, cluster: flotilla_store::EngineCluster) {
        let id = cluster.id.clone();
        let deregistering = cluster.deregistering.is_some();
        let (tx, handle) = ClusterWorker::spawn(
            cluster.clone(),
            self.model.clone(),
            self.store.clone(),
            self.sink.clone(),
            self.settings.clone(),
            self.transports.clone(),
        );
        if deregistering {
            let _ = tx.send(WorkerMsg::Cluster(Box::new(cluster)));
        }
        self.workers.insert(id, WorkerSlot { tx, handle });
    }

    async fn apply(&mut self, change: Change) -> Result<()> {
        match change {
            Change::Resource { id, .. } => {
                let loaded = self.store.engine_resource(&id).await?;
                let affected = self.model.write().map_err(|_| poisoned())?.set_resource(&id, loaded);
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::Resources(vec![id.clone()]));
                }
            }
            Change::Workspace { id, .. } => {
                let loaded = self.store.engine_workspace(&id).await?;
                let affected = self.model.write().map_err(|_| poisoned())?.set_workspace(&id, loaded);
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::All);
                }
            }
            Change::Project { id, .. } => {
                let loaded = self.store.engine_project(&id).await?;
                let affected = self.model.write().map_err(|_| poisoned())?.set_project(&id, loaded);
                for cluster in affected {
                    self.send(&cluster, || WorkerMsg::All);
                }
            }
            Change::Cluster { id, .. } => match self.store.engine_cluster(&id).await? {
                Some(c) => {
                    self.model.write().map_err(|_| poisoned())?.set_cluster(&c);
                    match self.workers.get(&id) {
                        Some(slot) if !slot.handle.is_finished() => {
                            let _ = slot.tx.send(WorkerMsg::Cluster(Box::new(c)));
                        }
                        _ => self.spawn(c),
                    }
                }
                None => {
                    self.model.write().map_err(|_| poisoned())?.remove_cluster(&id);
                    self.workers.remove(&id);
                }
            },
            // People's roles change nothing in the clusters (a project's RoleBindings are
            // resources of their own, announced as such).
            Change::Access { .. } => {}
        }
        Ok(())
    }

    fn send(&self, cluster_id: &str, msg: impl FnOnce() -> WorkerMsg) {
        if let Some(slot) = self.workers.get(cluster_id) {
            let _ = slot.tx.send(msg());
        }
    }
}

fn poisoned() -> crate::Error {
    crate::Error::ClusterConfig { cluster: String::new(), reason: "engine model lock poisoned".into() }
}
