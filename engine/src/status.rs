//! Status out of the engine: every change is published at once on a broadcast stream (the
//! live dashboard), and persisted by one writer task in batches (one transaction for many
//! rows), so a fan-out to a thousand clusters is not a thousand transactions.

use std::collections::HashMap;
use std::sync::Arc;

use flotilla_store::{ClusterHealth, StatusRecord, Store};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use crate::metrics::Metrics;

/// What the engine publishes.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusEvent {
    /// A resource's status in a cluster changed.
    Resource(StatusRecord),
    /// The resource no longer has a status in the cluster (removed, orphaned, unplaced).
    Removed { tenant_id: String, resource_id: String, cluster_id: String },
    /// A cluster's health changed.
    Cluster { tenant_id: String, cluster_id: String, health: ClusterHealth },
}

impl StatusEvent {
    pub fn tenant_id(&self) -> &str {
        match self {
            Self::Resource(r) => &r.tenant_id,
            Self::Removed { tenant_id, .. } | Self::Cluster { tenant_id, .. } => tenant_id,
        }
    }
}

enum Write {
    Upsert(Box<StatusRecord>, Instant),
    Remove {
        resource_id: String,
        cluster_id: String,
        queued: Instant,
    },
    /// A deleted resource its sender does not hold anywhere (a cluster that never held it, or
    /// the router for one placed on no cluster): purged if the store agrees no member does.
    Unheld(String),
    Flush(oneshot::Sender<()>),
}

impl Write {
    /// When a status write was queued (a flush is not one).
    fn queued(&self) -> Option<Instant> {
        match self {
            Self::Upsert(_, queued) | Self::Remove { queued, .. } => Some(*queued),
            Self::Unheld(_) | Self::Flush(_) => None,
        }
    }
}

/// The workers' handle on status output. Cheap to clone.
#[derive(Clone)]
pub(crate) struct StatusSink {
    writes: mpsc::UnboundedSender<Write>,
    events: broadcast::Sender<Arc<StatusEvent>>,
}

/// Events kept for subscribers that are behind. The ring holds the last events alive, so
/// it is bounded well below a fleet's initial sync (21,000 events for 1,000 clusters × 21
/// objects); a subscriber that falls further behind gets `Lagged` and reads the current
/// state from the store instead, as the dashboard does on (re)connect.
const EVENT_BACKLOG: usize = 2048;

/// Largest batch persisted in one transaction.
const BATCH: usize = 2048;

/// The writer collects statuses until none came for `QUIET`, or for `LINGER_MAX` at most.
/// The live stream is not delayed by it; only the store lags the events, by at most
/// `LINGER_MAX` plus one transaction.
const QUIET: std::time::Duration = std::time::Duration::from_millis(10);
const LINGER_MAX: std::time::Duration = std::time::Duration::from_millis(250);

impl StatusSink {
    /// Starts the writer task. `purged` receives the ids of deleted resources the writer
    /// purged from the store (no member holds them any more).
    pub fn start(store: Store, purged: mpsc::UnboundedSender<String>, metrics: Arc<Metrics>) -> Self {
        let (writes, rx) = mpsc::unbounded_channel();
        let events = broadcast::channel(EVENT_BACKLOG).0;
        tokio::spawn(writer(store, rx, purged, metrics));
        Self { writes, events }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StatusEvent>> {
        self.events.subscribe()
    }

    pub fn upsert(&self, record: StatusRecord) {
        let _ = self.events.send(Arc::new(StatusEvent::Resource(record.clone())));
        let _ = self.writes.send(Write::Upsert(Box::new(record), Instant::now()));
    }

    pub fn remove(&self, tenant_id: &str, resource_id: &str, cluster_id: &str) {
        let _ = self.events.send(Arc::new(StatusEvent::Removed {
            tenant_id: tenant_id.to_owned(),
            resource_id: resource_id.to_owned(),
            cluster_id: cluster_id.to_owned(),
        }));
        let _ = self.writes.send(Write::Remove {
            resource_id: resource_id.to_owned(),
            cluster_id: cluster_id.to_owned(),
            queued: Instant::now(),
        });
    }

    /// Deleted resource `resource_id` is not held where the caller looks (no status there to
    /// remove): it is purged once no member holds it, as after the last removal. A resource
    /// deleted before any cluster took it, or placed on none, has no removal to wait for.
    pub fn unheld(&self, resource_id: &str) {
        let _ = self.writes.send(Write::Unheld(resource_id.to_owned()));
    }

    pub fn cluster(&self, tenant_id: &str, cluster_id: &str, health: ClusterHealth) {
        let _ = self.events.send(Arc::new(StatusEvent::Cluster {
            tenant_id: tenant_id.to_owned(),
            cluster_id: cluster_id.to_owned(),
            health,
        }));
    }

    /// Resolves once everything sent before is in the store.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writes.send(Write::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Tells this replica's live streams (and rollout driver) what other replicas' engines
/// stored: statuses and cluster health, read back from the store when the change log says
/// they changed. Runs as long as the store announces changes (on one SQLite process, none of
/// these come).
pub(crate) async fn relay(store: Store, sink: StatusSink) {
    use flotilla_store::Change;
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = store.subscribe_changes();
    loop {
        let events = match changes.recv().await {
            Ok(Change::Statuses { upserted, removed }) => relayed_statuses(&store, &upserted, &removed).await,
            Ok(Change::ClusterHealth { id, .. }) => store.cluster_health(&id).await.map(|found| {
                found
                    .map(|(tenant_id, health)| StatusEvent::Cluster { tenant_id, cluster_id: id, health })
                    .into_iter()
                    .collect()
            }),
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        match events {
            Ok(events) => {
                for event in events {
                    let _ = sink.events.send(Arc::new(event));
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read another replica's statuses"),
        }
    }
}

async fn relayed_statuses(
    store: &Store,
    upserted: &[(String, String)],
    removed: &[(String, String)],
) -> flotilla_store::Result<Vec<StatusEvent>> {
    let mut events: Vec<StatusEvent> =
        store.statuses_of(upserted).await?.into_iter().map(StatusEvent::Resource).collect();
    let mut tenants: HashMap<String, Option<String>> = HashMap::new();
    for (resource_id, cluster_id) in removed {
        if !tenants.contains_key(cluster_id) {
            tenants.insert(cluster_id.clone(), store.cluster_tenant(cluster_id).await?);
        }
        if let Some(Some(tenant_id)) = tenants.get(cluster_id) {
            events.push(StatusEvent::Removed {
                tenant_id: tenant_id.clone(),
                resource_id: resource_id.clone(),
                cluster_id: cluster_id.clone(),
            });
        }
    }
    Ok(events)
}

async fn writer(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Write>,
    purged: mpsc::UnboundedSender<String>,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    // What a failed transaction did not save, kept (last write wins per key, so bounded by
    // the statuses there are) and saved with the next batch: a status is never lost to a
    // busy or unreachable database, and the workers, which publish a status only when it
    // changes, never send it again.
    let mut unsaved = Unsaved::default();
    let mut failures = 0u32;
    loop {
        if unsaved.is_empty() {
            if rx.recv_many(&mut batch, BATCH).await == 0 {
                return; // the engine stopped
            }
        } else {
            // Saving again after a failure: with whatever came meanwhile, without waiting.
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
        }
        // A status seldom comes alone (a change fans out to many clusters): let the burst
        // pass, so it is one transaction instead of one per handful of rows, written while
        // the workers are no longer busy. A flush is not kept waiting.
        let started = Instant::now();
        while batch.len() < BATCH
            && !batch.iter().any(|w| matches!(w, Write::Flush(_)))
            && started.elapsed() < LINGER_MAX
        {
            tokio::time::sleep(QUIET).await;
            let before = batch.len();
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
            if batch.len() == before {
                break; // quiet: the burst is over
            }
        }
        let mut flushes = Vec::new();
        // The channel keeps order: the first write of the batch waited longest.
        let oldest = batch.iter().find_map(Write::queued);
        for w in batch.drain(..) {
            match w {
                Write::Upsert(r, _) => {
                    let key = (r.resource_id.clone(), r.cluster_id.clone());
                    if !unsaved.removals.is_empty() {
                        unsaved.removals.retain(|removed| *removed != key); // placed here again
                    }
                    unsaved.upserts.insert(key, *r);
                }
                Write::Remove { resource_id, cluster_id, .. } => {
                    unsaved.upserts.remove(&(resource_id.clone(), cluster_id.clone()));
                    unsaved.removals.push((resource_id, cluster_id));
                }
                Write::Unheld(resource_id) => unsaved.unheld.push(resource_id),
                Write::Flush(done) => flushes.push(done),
            }
        }
        let Some(released) = unsaved.save(&store, &mut failures).await else {
            // Answered anyway: a flush waits for an attempt, not for the database to return.
            for done in flushes {
                let _ = done.send(());
            }
            if rx.is_closed() && rx.is_empty() {
                return; // the engine stopped, and the database cannot take what is left
            }
            // Tried again after a pause, with whatever comes meanwhile.
            let pause = std::time::Duration::from_millis(100).saturating_mul(1 << failures.min(6));
            tokio::time::sleep(pause.min(std::time::Duration::from_secs(5))).await;
            continue;
        };
        if let Some(oldest) = oldest {
            metrics.persisted(oldest.elapsed());
        }
        for id in released {
            match store.purge_resource(&id).await {
                Ok(true) => {
                    let _ = purged.send(id);
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, resource = %id, "could not purge a deleted resource"),
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Statuses not saved yet: the latest per (resource, cluster), removals, and deleted
/// resources said to be held nowhere.
#[derive(Default)]
struct Unsaved {
    upserts: HashMap<(String, String), StatusRecord>,
    removals: Vec<(String, String)>,
    unheld: Vec<String>,
}

impl Unsaved {
    fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removals.is_empty() && self.unheld.is_empty()
    }

    /// Saves everything in one transaction; on success returns the resources that may now be
    /// held by no member (those a status was removed of, and those said to be unheld), each
    /// once, to be purged if they are deleted and no status is left. (The
    /// store skips rows of resources or clusters deleted meanwhile, so a failure is the
    /// database's: busy, or unreachable. Everything is kept to be saved again.)
    async fn save(&mut self, store: &Store, failures: &mut u32) -> Option<Vec<String>> {
        let records: Vec<StatusRecord> = self.upserts.values().cloned().collect();
        let saved = if records.is_empty() && self.removals.is_empty() {
            Ok(()) // only purges to try
        } else {
            store.save_statuses(&records, &self.removals).await
        };
        match saved {
            Ok(()) => {
                *failures = 0;
                self.upserts.clear();
                let mut released: Vec<String> =
                    std::mem::take(&mut self.removals).into_iter().map(|(r, _)| r).collect();
                released.append(&mut self.unheld);
                released.sort();
                released.dedup();
                Some(released)
            }
            Err(e) => {
                *failures += 1;
                tracing::warn!(
                    error = %e, rows = records.len(), failures = *failures,
                    "could not save statuses; kept to be saved again"
                );
                None
            }
        }
    }
}
