//! What the live stream (`GET /api/events`, server-sent events) tells the browser. Each
//! event is one of these as JSON, named by its kind (`event: status`, …).

use std::collections::HashSet;
use std::hash::Hash;

use leptos::prelude::{SetValue, StoredValue, UpdateValue};
use serde::{Deserialize, Serialize};

use crate::model::StatusView;

/// An event of the live stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A status changed.
    Status(StatusView),
    /// The resource no longer has a status in the cluster (removed, orphaned, unplaced).
    Removed { resource_id: String, cluster_id: String },
    /// A cluster's health changed.
    Cluster { cluster_id: String, health: String, reason: String, server_version: Option<String> },
    /// Something was saved: `what` is `cluster`, `workspace`, `project` or `resource`.
    Changed { what: String, id: String },
    /// Events were missed (the reader fell behind): read the current state again.
    Resync,
    /// The stream has just opened for the first time. What changed between the page's load
    /// and this moment was never on it: a page reads that again (said by the browser side of
    /// the stream, never sent by the server).
    Opened,
}

/// What the live stream has spoken of while a page reads its state again after the stream
/// opened ([`LiveEvent::Opened`]): the stream's word on those is newer than the read's.
pub struct Spoken<K: Send + Sync + 'static>(StoredValue<Option<HashSet<K>>>);

// By hand: a derive would ask `K: Copy`, and the handle is `Copy` whatever it holds.
impl<K: Send + Sync + 'static> Clone for Spoken<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: Send + Sync + 'static> Copy for Spoken<K> {}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Spoken<K> {
    pub fn new() -> Self {
        Self(StoredValue::new(None))
    }

    /// A re-read begins: from now on, what the stream speaks of is remembered.
    pub fn begin(&self) {
        self.0.set_value(Some(HashSet::new()));
    }

    /// The stream spoke of `key`.
    pub fn touch(&self, key: &K) {
        self.0.update_value(|t| {
            if let Some(t) = t {
                t.insert(key.clone());
            }
        });
    }

    /// The re-read is done: what the stream spoke of meanwhile (keep it over the read's).
    /// Empty when the page was left meanwhile.
    pub fn end(&self) -> HashSet<K> {
        self.0.try_update_value(Option::take).flatten().unwrap_or_default()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Default for Spoken<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Removed { .. } => "removed",
            Self::Cluster { .. } => "cluster",
            Self::Changed { .. } => "changed",
            Self::Resync => "resync",
            Self::Opened => "opened",
        }
    }
}

#[cfg(feature = "ssr")]
impl LiveEvent {
    /// The engine's event as the browser sees it (tenant and hashes stay on the server).
    pub fn from_engine(event: &flotilla_engine::StatusEvent) -> Self {
        use flotilla_engine::StatusEvent as E;
        match event {
            E::Resource(r) => Self::from_record(r),
            E::Removed { resource_id, cluster_id, .. } => {
                Self::Removed { resource_id: resource_id.clone(), cluster_id: cluster_id.clone() }
            }
            E::Cluster { cluster_id, health, .. } => Self::Cluster {
                cluster_id: cluster_id.clone(),
                health: health.health.to_owned(),
                reason: health.reason.clone(),
                server_version: health.server_version.clone(),
            },
        }
    }

    /// A saved change of the caller's tenant, or None for another tenant's.
    pub fn from_change(change: &flotilla_store::Change, tenant: &str) -> Option<Self> {
        use flotilla_store::Change as C;
        let (kind, tenant_id, id) = match change {
            C::Cluster { tenant_id, id } => ("cluster", tenant_id, id),
            C::Workspace { tenant_id, id } => ("workspace", tenant_id, id),
            C::Project { tenant_id, id } => ("project", tenant_id, id),
            C::Resource { tenant_id, id } => ("resource", tenant_id, id),
            // Told to the stream itself, which reads the reader's roles again (server side).
            C::Access { .. } => return None,
            // Another replica's statuses: its engine's events, relayed by this one's engine.
            C::Statuses { .. } | C::ClusterHealth { .. } => return None,
        };
        (tenant_id == tenant).then(|| Self::Changed { what: kind.to_owned(), id: id.clone() })
    }

    /// A stored status as the browser sees it.
    pub fn from_record(r: &flotilla_store::StatusRecord) -> Self {
        Self::Status(StatusView::from(r))
    }
}

/// Calls `on_event` for each event of the live stream while the calling component lives
/// (an `EventSource` on `/api/events`, which reconnects by itself). Nothing on the server.
pub fn subscribe(on_event: impl Fn(LiveEvent) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let Ok(source) = web_sys::EventSource::new("/api/events") else { return };
        let on_event = std::rc::Rc::new(on_event);
        let mut listeners = Vec::new();
        for name in ["status", "removed", "cluster", "changed", "resync"] {
            let on_event = on_event.clone();
            let listener = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
                if let Some(event) = message.data().as_string().and_then(|d| serde_json::from_str::<LiveEvent>(&d).ok())
                {
                    on_event(event);
                }
            });
            let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        }
        // Open for the first time: what happened since the page loaded may have been missed;
        // after a reconnect, anything may have been.
        let reopened = std::cell::Cell::new(false);
        let on_open = {
            let on_event = on_event.clone();
            Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
                on_event(if reopened.replace(true) { LiveEvent::Resync } else { LiveEvent::Opened });
            })
        };
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let cleanup = send_wrapper::SendWrapper::new(move || {
            source.close();
            drop((listeners, on_open));
        });
        leptos::prelude::on_cleanup(move || (cleanup.take())());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_event;
}
