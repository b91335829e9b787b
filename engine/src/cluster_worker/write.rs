//! A sync pass: the worker plans ([`crate::plan`]) and executes the steps against its member,
//! recording each outcome as the resource's status. A cluster that stops answering ends the
//! pass (the rest waits for it); refusals are retried with backoff; a write with no answer
//! in time has the cluster probed before anything else is written.

use std::sync::Arc;

use flotilla_domain::{ObjectKey, StatusCode};
use tokio::time::Instant;

use super::ClusterWorker;
use super::types::Resolved;
use crate::member::{self, Accepted, Refusal, Wrote};
use crate::metrics::{Verb, WriteResult};
use crate::model::{Desired, Output, ResourceEntry};
use crate::plan::{Step, plan};
use crate::tracked::{Applied, Tracked};

impl ClusterWorker {
    pub(super) async fn sync(&mut self) {
        if !self.may_write().await {
            return;
        }
        let started = Instant::now();
        let mut ids = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.check_all) {
            ids.extend(self.placed());
            ids.extend(self.tracked.keys().map(|k| k.to_string()));
        }
        let work: Vec<(String, Desired)> = {
            let model = self.cx.model.read();
            ids.into_iter().map(|id| (id.clone(), model.desired(&self.cluster.id, &id))).collect()
        };
        // A deleted resource this cluster never held has nothing to remove here; said so, it
        // is purged once no other cluster holds it either (deleted before any cluster took it).
        for (id, desired) in &work {
            if let Desired::Absent { resource: Some(r) } = desired
                && r.deleted
                && !self.tracked.contains_key(id.as_str())
            {
                self.cx.sink.unheld(id);
            }
        }
        let mut steps = plan(work, &self.tracked, &self.drifted).into_iter();
        let lease = crate::shares::cluster_lease(&self.cluster.id);
        for step in steps.by_ref() {
            if !self.cx.shares.still_valid(&lease, self.lease_epoch) {
                // The lease ran out here (renewals stalled, or it was lost): another replica
                // may hold it soon. Not one more write.
                self.pending.insert(step.id().to_owned());
                break;
            }
            if !self.execute(step).await {
                break;
            }
            if self.cx.stopping.is_cancelled() {
                break;
            }
        }
        // The cluster went away mid-pass, or the engine is stopping: the rest waits.
        self.pending.extend(steps.map(|s| s.id().to_owned()));
        if !self.retry.is_empty() && self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + self.backoff());
        }
        self.cx.metrics.reconciled(started.elapsed());
    }

    /// How long a write may wait for its answer: the engine's request timeout, cut short so
    /// that nothing is in flight when the cluster's lease may pass to another replica.
    fn write_timeout(&self) -> std::time::Duration {
        let lease = crate::shares::cluster_lease(&self.cluster.id);
        self.cx.shares.write_timeout(&lease, self.lease_epoch, self.cx.settings.request_timeout)
    }

    /// Takes one step. Returns false when the cluster stopped answering.
    pub(super) async fn execute(&mut self, step: Step<Desired>) -> bool {
        match step {
            Step::MarkSynced { id } => {
                self.set_status(&id, StatusCode::Synced, String::new());
                true
            }
            Step::Apply { id, desired, create, verify_first } => {
                self.drifted.remove(&id);
                match desired {
                    Desired::Present { resource, output } => {
                        self.apply(&id, &resource, &output, create, verify_first).await
                    }
                    // The plan applies only what is present (its Target::Present).
                    other => {
                        tracing::error!(resource = %id, ?other, "the plan asked to apply what is not present; skipped");
                        true
                    }
                }
            }
            Step::Invalid { id, code, message } => {
                self.set_status(&id, code, message);
                true
            }
            Step::Delete { id, key } => self.delete(&id, key).await,
            Step::Forget { id } => {
                self.forget(&id);
                true
            }
        }
    }

    /// Why a project's object must not be written here, if so: the member has not accepted
    /// the project's namespace from Flotilla (it existed before and is not Flotilla's, or it
    /// is not there yet). Nothing is ever written into a namespace Flotilla does not own.
    fn foreign_namespace(&self, resource: &ResourceEntry) -> Option<String> {
        let project = resource.project_id.as_deref().filter(|_| !resource.is_project_namespace())?;
        let namespace = resource.key.as_ref().and_then(|k| k.namespace.clone()).unwrap_or_default();
        let ns_resource = self.cx.model.read().project_namespace(project).map(str::to_owned);
        let ours = ns_resource.and_then(|ns| self.tracked.get(ns.as_str())).is_some_and(|t| t.applied.is_some());
        (!ours).then(|| {
            format!(
                "the namespace {namespace} is not Flotilla's in this cluster (it existed before, or is not created \
                 yet): nothing is written into it until it is (a tenant admin may adopt it)"
            )
        })
    }

    async fn apply(
        &mut self,
        id: &str,
        resource: &ResourceEntry,
        output: &Output,
        create: bool,
        verify_first: bool,
    ) -> bool {
        if let Some(why) = self.foreign_namespace(resource) {
            self.track_key(id, resource.key.as_ref(), &output.key);
            self.set_status(id, StatusCode::WaitingForDependency, why);
            self.retry.insert(id.to_owned());
            return true;
        }
        let Some(client) = self.client() else { return false };
        let ar = match self.resolve(&output.key).await {
            Resolved::Served(ar) => ar,
            Resolved::Unreachable(why) => return self.unreachable(id, why).await,
            Resolved::NotServed(why) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                self.set_status(id, StatusCode::TypeNotServed, why);
                self.retry.insert(id.to_owned());
                return true;
            }
            Resolved::Unknown(why) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                self.set_status(id, StatusCode::WaitingForDependency, why);
                self.retry.insert(id.to_owned());
                return true;
            }
        };
        if verify_first {
            match member::current(&client, self.write_timeout(), &ar, &output.key).await {
                Ok(Some(now)) if now.holds(id, output.hash) => {
                    let versions = now.accepted();
                    let applied = self.tracked.get(id).and_then(|t| t.applied.as_ref());
                    match applied.filter(|a| a.hash == output.hash) {
                        // What it accepted from us, unchanged: the watch saw our own write.
                        Some(a) if a.still_holds(&versions) => {
                            self.confirmed(id);
                            return true;
                        }
                        // Edited behind our back (our annotations kept): written again below.
                        Some(_) => {}
                        // Written before a hard stop whose outcome the store missed.
                        None => {
                            self.accept(id, resource, output, versions);
                            return true;
                        }
                    }
                }
                // Adopted as it was (it held the content; Flotilla's marks not written yet)
                // and unchanged since: nothing to write.
                Ok(Some(now)) if now.resource_id().is_none() && self.adopted_unchanged(id, output.hash, &now) => {
                    return true;
                }
                Ok(_) => {}
                Err(Refusal::Unreachable(why)) => return self.unreachable(id, why).await,
                Err(_) => {}
            }
        }
        let verb = if create { Verb::Create } else { Verb::Update };
        let result =
            member::apply(&client, self.write_timeout(), &ar, output, id, !create, resource.adopt_existing).await;
        self.cx.metrics.wrote(verb, WriteResult::of(&result));
        match result {
            Ok(Wrote { accepted, marked }) => {
                self.accept(id, resource, output, accepted);
                self.defines_types(&output.key);
                self.ensure_watch(&output.key);
                if !marked && let Some(t) = self.tracked.get_mut(id) {
                    // Adopted as it was: the watches (which select Flotilla's marks) do not
                    // see it, so each resync reads it back instead.
                    t.unconfirmed = true;
                }
                true
            }
            Err(Refusal::Unreachable(why)) => self.unreachable(id, why).await,
            Err(Refusal::TimedOut(why)) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                // The write may have landed: the retry reads the member's copy first.
                if let Some(t) = self.tracked.get_mut(id) {
                    t.unconfirmed = true;
                }
                let code = if create { StatusCode::CreationTimedOut } else { StatusCode::UpdateTimedOut };
                self.timed_out(id, code, why)
            }
            Err(Refusal::NotOurs) => {
                self.track_key(id, resource.key.as_ref(), &output.key);
                let why = format!(
                    "{} exists in the cluster and was not created by Flotilla; allow adoption to manage it",
                    output.key
                );
                self.set_status(id, StatusCode::AlreadyExists, why);
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
                let code = if create { StatusCode::CreationFailed } else { StatusCode::UpdateFailed };
                self.set_status(id, code, why);
                self.retry.insert(id.to_owned());
                true
            }
        }
    }

    pub(super) async fn delete(&mut self, id: &str, key: Arc<ObjectKey>) -> bool {
        let Some(client) = self.client() else { return false };
        if self.tracked.get(id).is_some_and(|t| t.code != StatusCode::WaitingForRemoval) {
            self.set_status(id, StatusCode::WaitingForRemoval, format!("removing {key}"));
        }
        let ar = match self.resolve(&key).await {
            Resolved::Served(ar) => ar,
            // Its type is gone from the member (a CRD removed), and its objects with it.
            Resolved::NotServed(_) => {
                self.forget(id);
                return true;
            }
            Resolved::Unreachable(why) => return self.unreachable(id, why).await,
            Resolved::Unknown(why) => {
                self.set_status(id, StatusCode::DeletionFailed, why);
                self.retry.insert(id.to_owned());
                return true;
            }
        };
        let result = member::delete(&client, self.write_timeout(), &ar, &key).await;
        self.cx.metrics.wrote(Verb::Delete, WriteResult::of(&result));
        match result {
            Ok(()) | Err(Refusal::NotOurs) => {
                self.defines_types(&key);
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

    /// The member accepted `output`: remember what it answered, and say Synced.
    fn accept(&mut self, id: &str, resource: &ResourceEntry, output: &Output, accepted: Accepted) {
        let t = self.tracked.entry(id.into()).or_insert_with(Tracked::pending);
        t.set_key(resource.key.as_ref(), &output.key);
        t.applied = Some(Applied {
            revision: output.revision,
            hash: output.hash,
            generation: accepted.generation,
            resource_version: accepted.resource_version.map(String::into_boxed_str),
        });
        t.code = StatusCode::Synced;
        t.message = Box::default();
        t.health = accepted.health.or(t.health);
        t.unconfirmed = false;
        self.publish(id);
    }

    /// After a write of `key`: a CustomResourceDefinition changes what the member serves.
    fn defines_types(&mut self, key: &ObjectKey) {
        if key.kind == "CustomResourceDefinition" && key.api_version.starts_with("apiextensions.k8s.io/") {
            self.types.mark_stale();
        }
    }

    /// Whether `id` was adopted as it was (no write, so no marks) with the content hashed
    /// `hash`, and `now` is still the version the member had then.
    fn adopted_unchanged(&self, id: &str, hash: u128, now: &member::MemberObject) -> bool {
        let applied = self.tracked.get(id).and_then(|t| t.applied.as_ref());
        applied.is_some_and(|a| a.hash == hash && a.still_holds(&now.accepted()))
    }

    /// The member confirmed what the store said it holds.
    fn confirmed(&mut self, id: &str) {
        if let Some(t) = self.tracked.get_mut(id) {
            t.unconfirmed = false;
        }
    }

    fn track_key(&mut self, id: &str, shared: Option<&Arc<ObjectKey>>, key: &ObjectKey) {
        self.tracked.entry(id.into()).or_insert_with(Tracked::pending).set_key(shared, key);
    }
}
