//! Drift and health: the worker keeps one watch per kind it wrote (see `watch.rs`) and takes
//! what they report. An object that is no longer the version the member accepted from
//! Flotilla, or that is gone, is marked drifted and re-checked at the next pass; a workload's
//! health is taken either way.

use std::collections::HashSet;
use std::sync::Arc;

use flotilla_domain::ObjectKey;
use tokio::time::Instant;

use super::{ClusterWorker, WorkerMsg};
use crate::member::Accepted;
use crate::watch::{self, KindKey, MemberEvent};

impl ClusterWorker {
    /// Watches every kind the member holds objects of (after a restart or reconnection).
    pub(super) fn ensure_watches(&mut self) {
        let keys: Vec<Arc<ObjectKey>> =
            self.tracked.values().filter(|t| t.applied.is_some()).filter_map(|t| t.key.clone()).collect();
        for key in keys {
            self.ensure_watch(&key);
        }
    }

    /// How many watches this cluster is to hold: one per kind placed on it or held there
    /// (reserved on the connection it joins).
    pub(super) fn expected_watches(&self) -> usize {
        if !self.cx.settings.watch {
            return 0;
        }
        let model = self.cx.model.read();
        let mut kinds: HashSet<KindKey> =
            self.tracked.values().filter_map(|t| t.key.as_deref()).map(KindKey::of).collect();
        for id in model.placed_on(&self.cluster.id) {
            if let Some(key) = model.object_key(&id) {
                kinds.insert(KindKey::of(&key));
            }
        }
        kinds.len()
    }

    pub(super) fn ensure_watch(&mut self, key: &ObjectKey) {
        if !self.cx.settings.watch {
            return;
        }
        let Some(client) = self.client() else { return };
        // Kinds the member does not serve have nothing to watch.
        let Some(ar) = self.types.known(key) else { return };
        let id = KindKey::of(key);
        if self.watches.get(&id).is_some_and(|h| !h.is_finished()) {
            return;
        }
        let inbox = self.self_tx.clone();
        let report = move |event| inbox.send(WorkerMsg::Member(Box::new(event))).is_ok();
        let handle = watch::spawn(client, key, ar, report, self.cx.metrics.clone());
        self.watches.insert(id, handle);
    }

    pub(super) fn stop_watches(&mut self) {
        for (_, h) in self.watches.drain() {
            h.abort();
        }
    }

    pub(super) fn member_event(&mut self, event: MemberEvent) {
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
    /// accepted from us (which confirms what the store said); workload health is taken
    /// either way.
    fn seen(&mut self, resource_id: String, versions: Accepted) {
        let Some(t) = self.tracked.get_mut(resource_id.as_str()) else { return };
        let Some(applied) = &t.applied else { return };
        if !applied.still_holds(&versions) {
            self.drifted.insert(resource_id.clone());
            self.pending.insert(resource_id);
            return;
        }
        // The member holds what the store said it does (the first list after a start says so).
        t.unconfirmed = false;
        if versions.health.is_some() && versions.health != t.health {
            t.health = versions.health;
            self.publish(&resource_id);
        }
    }

    /// A watch saw one of our objects go (or a list no longer has it).
    fn gone(&mut self, resource_id: String) {
        if self.tracked.get(resource_id.as_str()).is_some_and(|t| t.applied.is_some()) {
            self.drifted.insert(resource_id.clone());
            self.pending.insert(resource_id);
        }
    }
}
