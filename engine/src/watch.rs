//! Watches on the objects Flotilla manages in a member (one per kind, selected by the
//! managed-by label): changes made behind Flotilla's back (drift) and workload health flow
//! back to the cluster's worker.

use flotilla_domain::ObjectKey;
use flotilla_domain::render::{MANAGED_SELECTOR, RESOURCE_ID_ANNOTATION};
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster_worker::WorkerMsg;
use crate::member::{self, Accepted};

/// What a watch saw, by the resource id in the object's annotation.
#[derive(Debug)]
pub(crate) enum MemberEvent {
    Seen { resource_id: String, versions: Accepted },
    Gone { resource_id: String },
    Failed(String),
}

/// Watches every managed object of `key`'s kind (in all namespaces for namespaced kinds).
pub(crate) fn spawn(client: Client, key: &ObjectKey, worker: mpsc::UnboundedSender<WorkerMsg>) -> JoinHandle<()> {
    let ar = member::api_resource(key);
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let config = watcher::Config::default().labels(MANAGED_SELECTOR);
    tokio::spawn(async move {
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    resource_id(&o).map(|resource_id| MemberEvent::Seen { resource_id, versions: member::accepted(&o) })
                }
                Ok(watcher::Event::Delete(o)) => resource_id(&o).map(|resource_id| MemberEvent::Gone { resource_id }),
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(e) => Some(MemberEvent::Failed(e.to_string())),
            };
            if let Some(event) = event
                && worker.send(WorkerMsg::Member(event)).is_err()
            {
                return;
            }
        }
    })
}

fn resource_id(o: &DynamicObject) -> Option<String> {
    o.metadata.annotations.as_ref()?.get(RESOURCE_ID_ANNOTATION).cloned()
}
