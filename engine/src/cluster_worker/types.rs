//! What the member serves ([`crate::discovery`]): read when the cluster becomes ready, at
//! every resync, after Flotilla wrote a CustomResourceDefinition there, and again when an
//! object's kind is missing from it (at most every [`REDISCOVER_AFTER`]: a CRD someone else
//! installs is picked up at the next write). The store keeps each cluster's types for the
//! fleet's Types page.

use std::sync::Arc;
use std::time::Duration;

use flotilla_domain::ObjectKey;
use kube::core::ApiResource;
use tokio::time::Instant;

use super::ClusterWorker;
use crate::discovery::{self, Discovered, Lookup};
use crate::member::Refusal;

/// The shortest time between two discoveries prompted by a missing kind.
const REDISCOVER_AFTER: Duration = Duration::from_secs(5);

/// How an object's kind is addressed in this member, or why it cannot be.
#[derive(Debug)]
pub(super) enum Resolved {
    Served(ApiResource),
    /// The member does not serve the kind (or serves it at the other scope).
    NotServed(String),
    /// Discovery did not say (it failed, or the group version did not answer).
    Unknown(String),
    /// The member stopped answering.
    Unreachable(String),
}

/// What the worker knows of the member's types.
#[derive(Debug, Default)]
pub(super) struct Types {
    served: Option<Arc<Discovered>>,
    read_at: Option<Instant>,
    /// Read again before the next lookup (resync; a CRD was written).
    stale: bool,
    /// What discovery failed with last, if it did.
    failed: Option<String>,
    /// The digest of the types last stored for the cluster.
    stored: Option<String>,
}

impl Types {
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// How a kind is addressed, from what was read last (no request).
    pub fn known(&self, key: &ObjectKey) -> Option<ApiResource> {
        match self.served.as_deref()?.lookup(&key.api_version, &key.kind) {
            Lookup::Served(t) => Some(discovery::api_resource(t)),
            _ => None,
        }
    }
}

impl ClusterWorker {
    /// Reads the member's discovery and stores what it serves when that changed.
    pub(super) async fn discover(&mut self) -> Result<(), Refusal> {
        let Some(client) = self.client() else { return Err(Refusal::Unreachable("not connected".into())) };
        let found = discovery::discover(&client, self.cx.settings.request_timeout).await;
        self.types.read_at = Some(Instant::now());
        self.types.stale = false;
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                let why = match &e {
                    Refusal::Unreachable(why) | Refusal::TimedOut(why) | Refusal::Refused(why) => why.clone(),
                    Refusal::MissingDependency(why) => format!("discovery is not served: {why}"),
                    Refusal::NotOurs => "refused".to_owned(),
                };
                self.types.failed = Some(why);
                return Err(e);
            }
        };
        self.types.failed = None;
        let sorted = found.sorted();
        let digest = flotilla_domain::render::content_hash(&serde_json::json!(sorted));
        if self.types.stored.as_deref() != Some(digest.as_str()) && !found.is_empty() {
            match self.cx.store.set_cluster_types(&self.cluster.id, &digest, &sorted).await {
                Ok(()) => self.types.stored = Some(digest),
                Err(e) => tracing::warn!(error = %e, "could not record the cluster's types"),
            }
        }
        self.types.served = Some(Arc::new(found));
        Ok(())
    }

    /// How `key`'s kind is addressed in the member, discovering again first when what was
    /// read is stale, or lacks the kind and is older than [`REDISCOVER_AFTER`]. The scope
    /// must agree with the object's: a namespace for namespaced kinds, none otherwise.
    pub(super) async fn resolve(&mut self, key: &ObjectKey) -> Resolved {
        let old = self.types.read_at.is_none_or(|at| at.elapsed() >= REDISCOVER_AFTER);
        let missing = self
            .types
            .served
            .as_deref()
            .is_none_or(|d| !matches!(d.lookup(&key.api_version, &key.kind), Lookup::Served(_)));
        if self.types.stale || (missing && old) {
            match self.discover().await {
                Err(Refusal::Unreachable(why) | Refusal::TimedOut(why)) if self.types.served.is_none() => {
                    return Resolved::Unreachable(why);
                }
                _ => {}
            }
        }
        let Some(served) = self.types.served.clone() else {
            let why = self.types.failed.clone().unwrap_or_else(|| "not read yet".into());
            return Resolved::Unknown(format!("the cluster's discovery failed: {why}"));
        };
        match served.lookup(&key.api_version, &key.kind) {
            Lookup::Served(t) if t.namespaced != key.namespace.is_some() => Resolved::NotServed(if t.namespaced {
                format!("{} {} is namespaced in this cluster: it belongs in a project", t.api_version, t.kind)
            } else {
                format!("{} {} is cluster-scoped in this cluster: it belongs in a workspace", t.api_version, t.kind)
            }),
            Lookup::Served(t) => Resolved::Served(discovery::api_resource(t)),
            Lookup::Unknown => {
                Resolved::Unknown(format!("the cluster did not describe {} in its discovery", key.api_version))
            }
            Lookup::NotServed { other_versions } if other_versions.is_empty() => Resolved::NotServed(format!(
                "this cluster does not serve {} {} (is its API or CRD installed?)",
                key.api_version, key.kind
            )),
            Lookup::NotServed { other_versions } => Resolved::NotServed(format!(
                "this cluster does not serve {} {}; it serves {}",
                key.api_version,
                key.kind,
                other_versions.join(", ")
            )),
        }
    }
}
