//! Change events: after a write commits, the store says what changed, so the engine wakes
//! only the clusters it affects and live streams show it. In one process this is a broadcast
//! channel. On PostgreSQL, where several replicas share the database, each transaction also
//! writes its changes to the `change_log` table (so a crash right after the commit loses
//! nothing), and every replica follows that log ([`crate::change_log`]) and announces the
//! other replicas' changes on its own channel.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// What a committed write changed. The receiver reloads the entity by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Cluster {
        tenant_id: String,
        id: String,
    },
    Workspace {
        tenant_id: String,
        id: String,
    },
    Project {
        tenant_id: String,
        id: String,
    },
    Resource {
        tenant_id: String,
        id: String,
    },
    /// Who may do what changed: a user's roles or standing (disabled, enabled), or, with no
    /// `user_id`, possibly anyone's in the tenant (its group rules changed).
    Access {
        tenant_id: String,
        user_id: Option<String>,
    },
    /// Statuses (resource id, cluster id) another replica's engine stored or removed. Heard
    /// only from the change log: the replica that stored them published them live already.
    Statuses {
        upserted: Vec<(String, String)>,
        removed: Vec<(String, String)>,
    },
    /// The health of a cluster another replica's engine probed (from the change log only).
    ClusterHealth {
        tenant_id: String,
        id: String,
    },
}

/// How many events a slow subscriber may fall behind before it is told it lagged (and must
/// then find out from the rows themselves what it missed).
pub(crate) const CHANGE_BUFFER: usize = 16_384;

#[derive(Debug, Clone)]
pub(crate) struct ChangeFeed(broadcast::Sender<Change>);

impl ChangeFeed {
    pub(crate) fn new() -> Self {
        Self(broadcast::channel(CHANGE_BUFFER).0)
    }

    /// Publishes a committed change. Nobody listening is fine (e.g. tools, tests).
    pub(crate) fn publish(&self, change: Change) {
        let _ = self.0.send(change);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}

/// Who makes a change: a user, or Flotilla itself (`id` None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn user(id: &str, name: &str) -> Self {
        Self { id: Some(id.to_owned()), name: name.to_owned() }
    }

    pub fn system(name: &str) -> Self {
        Self { id: None, name: name.to_owned() }
    }
}
