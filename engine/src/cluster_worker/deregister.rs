//! Leaving a cluster: with cleanup, every object Flotilla wrote there is deleted (custom
//! resources first, namespaces last, as a plan of removals); without, they stay as they are.
//! Then the cluster and its statuses go from the store.

use flotilla_store::DeletionPolicy;

use super::ClusterWorker;
use crate::plan::{Step, Target, Wanted, plan};

/// A resource to remove whatever its own deletion policy says (the cluster is leaving).
struct Removal {
    order: Option<u8>,
}

impl Wanted for Removal {
    fn target(&self) -> Target<'_> {
        Target::Absent { order: self.order, policy: Some(DeletionPolicy::Delete) }
    }
}

impl ClusterWorker {
    pub(super) async fn deregister(&mut self, cleanup: bool) {
        self.stop_watches();
        if !self.may_write().await {
            // The replica that holds the lease now cleans up.
            return;
        }
        if cleanup {
            if self.client.is_none() {
                self.probe().await;
            }
            let removals: Vec<(String, Removal)> = {
                let model = self.cx.model.read();
                self.tracked
                    .iter()
                    .filter(|(_, t)| t.applied.is_some())
                    .map(|(id, _)| (id.to_string(), Removal { order: model.resource(id).map(|r| r.order) }))
                    .collect()
            };
            for step in plan(removals, &self.tracked, &self.drifted) {
                let done = match step {
                    Step::Delete { id, key } => self.delete(&id, key).await,
                    Step::Forget { id } => {
                        self.forget(&id);
                        true
                    }
                    _ => true,
                };
                if !done {
                    tracing::warn!("cluster unreachable during cleanup; leaving the rest in place");
                    break;
                }
            }
        }
        self.cx.sink.flush().await;
        match self.cx.store.forget_cluster(&self.cluster.id).await {
            Ok(_) => tracing::info!(cleanup, "cluster deregistered"),
            Err(e) => tracing::error!(error = %e, "could not remove the deregistered cluster"),
        }
    }
}
