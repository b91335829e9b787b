//! Watches on the objects Flotilla manages in a member (one per kind, selected by the
//! managed-by label; Secrets one per namespace): changes made behind Flotilla's back (drift)
//! and workload health flow back to the cluster's worker.
//!
//! List, then watch from the list's resourceVersion with bookmarks; resume from the last
//! version seen when the server ends the watch; list again on `410 Gone`. Each list is
//! reported whole, so an object deleted while no watch was open is noticed too.
//!
//! Written against the kube client's raw requests rather than `kube::runtime::watcher`
//! because a fleet holds thousands of these: an idle watch here keeps no read buffer (a
//! partial line is the only thing held between events), a few hundred bytes in all.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flotilla_domain::ObjectKey;
use flotilla_domain::render::MANAGED_SELECTOR;
use http_body_util::BodyExt;
use kube::api::{DynamicObject, ListParams, WatchParams};
use kube::client::Body;
use kube::core::{ApiResource, Resource as _, Status};
use rand::Rng;
use serde::Deserialize;
use tokio::task::JoinHandle;

use crate::client::MemberClient;
use crate::member::{self, Accepted, MemberObject};
use crate::metrics::Metrics;

/// What one watch covers: a kind in every namespace, or — for Secrets — in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct KindKey {
    pub api_version: String,
    pub kind: String,
    /// Set for kinds watched namespace by namespace.
    pub namespace: Option<String>,
}

/// Whether objects of this kind are watched per namespace: Secrets, so that Flotilla's own
/// identity in a joined member needs no right to read every Secret of the cluster (RBAC
/// cannot narrow a cluster-wide watch to Flotilla's label).
fn watched_per_namespace(api_version: &str, kind: &str) -> bool {
    api_version == "v1" && kind == "Secret"
}

impl KindKey {
    pub fn of(key: &ObjectKey) -> Self {
        let namespace = if watched_per_namespace(&key.api_version, &key.kind) { key.namespace.clone() } else { None };
        Self { api_version: key.api_version.clone(), kind: key.kind.clone(), namespace }
    }

    pub fn matches(&self, key: &ObjectKey) -> bool {
        self.api_version == key.api_version
            && self.kind == key.kind
            && (self.namespace.is_none() || self.namespace == key.namespace)
    }
}

/// What a watch saw, by the resource id in the object's annotation.
#[derive(Debug)]
pub(crate) enum MemberEvent {
    Seen {
        resource_id: String,
        versions: Accepted,
    },
    Gone {
        resource_id: String,
    },
    /// A full list of the kind's managed objects: anything tracked of that kind and absent
    /// here is gone.
    Listed {
        kind: KindKey,
        present: Vec<(String, Accepted)>,
    },
    Failed(String),
}

/// Where a watch reports what it saw; false when nobody listens any more (the watch ends).
pub(crate) trait Report: Fn(MemberEvent) -> bool + Send + Sync + 'static {}
impl<F: Fn(MemberEvent) -> bool + Send + Sync + 'static> Report for F {}

/// Watches every managed object of `key`'s kind (in all namespaces for namespaced kinds but
/// Secrets, which are watched in `key`'s namespace), reporting to `report` until it says
/// nobody listens.
pub(crate) fn spawn(
    client: MemberClient,
    key: &ObjectKey,
    ar: ApiResource,
    report: impl Report,
    metrics: Arc<Metrics>,
) -> JoinHandle<()> {
    let kind = KindKey::of(key);
    tokio::spawn(async move {
        let _share = client.stream_share();
        let mut failures = 0u32;
        loop {
            match Box::pin(list_and_watch(&client, &ar, &kind, &report, &mut failures)).await {
                Stop::WorkerGone => return,
                Stop::Relist => metrics.watch_restarted("relist"),
                Stop::Failed(reason) => {
                    metrics.watch_restarted("failed");
                    if failures == 0 && send(&report, MemberEvent::Failed(reason)).is_err() {
                        return;
                    }
                    failures = failures.saturating_add(1);
                    let delay =
                        Duration::from_millis(500 << failures.min(6)).mul_f64(rand::rng().random_range(0.8..1.2));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    })
}

fn send(report: &impl Report, event: MemberEvent) -> Result<(), ()> {
    if report(event) { Ok(()) } else { Err(()) }
}

#[derive(Deserialize)]
struct List {
    metadata: ListMeta,
    items: Vec<MemberObject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    /// One of the kind's objects, or a `Status` for ERROR events.
    object: MemberObject,
}

/// Why a list-and-watch ended.
enum Stop {
    /// The worker has gone: stop watching.
    WorkerGone,
    /// The version watched from is too old (410 Gone): list again at once.
    Relist,
    /// Anything else: list again after a backoff.
    Failed(String),
}

/// Lists, then watches (resuming each time the server ends a watch) until something stops it.
async fn list_and_watch(
    client: &MemberClient,
    ar: &ApiResource,
    kind: &KindKey,
    report: &impl Report,
    failures: &mut u32,
) -> Stop {
    let request = kube::core::Request::new(DynamicObject::url_path(ar, kind.namespace.as_deref()));
    // Only the status of workloads and custom resources is read (their health); of anything
    // else the metadata is all a watch needs, and asking for only that spares both ends
    // encoding and decoding data.
    let metadata_only = !member::reports_health(&kind.api_version, &kind.kind);
    let list_params = ListParams::default().labels(MANAGED_SELECTOR);
    let list = if metadata_only { request.list_metadata(&list_params) } else { request.list(&list_params) };
    let list = match list {
        Ok(list) => list,
        Err(e) => return Stop::Failed(e.to_string()),
    };
    // Requests are boxed so a watch's idle future holds no space for them.
    let List { metadata, items } = match Box::pin(client.request::<List>(list)).await {
        Ok(list) => list,
        Err(e) => return Stop::Failed(format!("list {}: {e}", ar.plural)),
    };
    let present = items.iter().filter_map(|o| Some((o.resource_id()?.to_owned(), o.accepted()))).collect();
    drop(items);
    if send(report, MemberEvent::Listed { kind: kind.clone(), present }).is_err() {
        return Stop::WorkerGone;
    }
    let mut version = metadata.resource_version.unwrap_or_default();
    *failures = 0;
    loop {
        let params = WatchParams::default().labels(MANAGED_SELECTOR).timeout(290);
        let watch =
            if metadata_only { request.watch_metadata(&params, &version) } else { request.watch(&params, &version) };
        let watch = match watch {
            Ok(watch) => watch,
            Err(e) => return Stop::Failed(e.to_string()),
        };
        let response = match Box::pin(client.send(watch)).await {
            Ok(response) => response,
            Err(e) => return Stop::Failed(format!("watch {}: {e}", ar.plural)),
        };
        let code = response.status().as_u16();
        if code == 410 {
            return Stop::Relist;
        }
        if !response.status().is_success() {
            return Stop::Failed(format!("watch {}: {}", ar.plural, error_text(code, response.into_body()).await));
        }
        match stream(response.into_body(), report, &mut version).await {
            None => {} // the server ended the watch: go on from the last version
            Some(Stop::Failed(e)) => return Stop::Failed(format!("watch {}: {e}", ar.plural)),
            Some(stop) => return stop,
        }
    }
}

/// The longest watch event line read: an object is at most 1.5 MiB in etcd, and its event
/// JSON a little more. A member that sends a longer line is not believed.
const MAX_EVENT_LINE: usize = 4 * 1024 * 1024;

/// Reads watch events until the stream ends (`None`) or something stops it.
async fn stream(mut body: Body, report: &impl Report, version: &mut String) -> Option<Stop> {
    // Only a partial line is ever held between frames; most frames hold whole events.
    let mut partial: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers
            },
            Err(e) => return Some(Stop::Failed(e.to_string())),
        };
        let mut rest: Bytes = data;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            let line = rest.split_to(pos + 1);
            let stop = if partial.is_empty() {
                event(&line, report, version)
            } else {
                partial.extend_from_slice(&line);
                let whole = std::mem::take(&mut partial);
                event(&whole, report, version)
            };
            if stop.is_some() {
                return stop;
            }
        }
        if partial.len() + rest.len() > MAX_EVENT_LINE {
            return Some(Stop::Failed(format!("an event longer than {} MiB", MAX_EVENT_LINE / (1024 * 1024))));
        }
        partial.extend_from_slice(&rest);
    }
    None
}

/// Handles one event line.
fn event(line: &[u8], report: &impl Report, version: &mut String) -> Option<Stop> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    let Ok(Line { kind, object }) = serde_json::from_slice::<Line>(line) else {
        return Some(Stop::Failed("the watch sent an event that is not JSON".into()));
    };
    if kind == "ERROR" {
        return Some(match object.code {
            Some(410) => Stop::Relist,
            code => Stop::Failed(format!("the watch ended with an error ({})", code.unwrap_or_default())),
        });
    }
    if let Some(rv) = &object.metadata.resource_version {
        rv.clone_into(version);
    }
    let event = match (kind.as_str(), object.resource_id()) {
        ("ADDED" | "MODIFIED", Some(id)) => {
            MemberEvent::Seen { resource_id: id.to_owned(), versions: object.accepted() }
        }
        ("DELETED", Some(id)) => MemberEvent::Gone { resource_id: id.to_owned() },
        _ => return None, // BOOKMARK, or not one of ours
    };
    send(report, event).err().map(|()| Stop::WorkerGone)
}

/// The API's own words for a failed request.
async fn error_text(code: u16, body: Body) -> String {
    // A `Status` is small; a member answering with more is cut off, not read to the end.
    let bytes = http_body_util::Limited::new(body, 64 * 1024).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    match serde_json::from_slice::<Status>(&bytes) {
        Ok(s) if !s.message.is_empty() => {
            let (reason, message) = (crate::member::excerpt(&s.reason, 64), crate::member::excerpt(&s.message, 300));
            format!("{reason} ({code}): {message}")
        }
        _ => format!("HTTP {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect() -> (impl Report, Arc<std::sync::Mutex<Vec<String>>>) {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = seen.clone();
        let report = move |e: MemberEvent| {
            if let MemberEvent::Seen { resource_id, .. } = e {
                into.lock().unwrap().push(resource_id);
            }
            true
        };
        (report, seen)
    }

    fn added(id: &str, rv: &str) -> String {
        format!(
            "{{\"type\":\"ADDED\",\"object\":{{\"metadata\":{{\"resourceVersion\":\"{rv}\",\"annotations\":{{\"{}\":\"{id}\"}}}}}}}}\n",
            flotilla_domain::render::RESOURCE_ID_ANNOTATION
        )
    }

    #[tokio::test]
    async fn events_are_read_line_by_line_and_a_line_without_end_is_cut_off() {
        let (report, seen) = collect();
        let mut version = String::new();
        let body = Body::from(format!("{}{}", added("r1", "5"), added("r2", "6")).into_bytes());
        assert!(stream(body, &report, &mut version).await.is_none(), "the server ended the watch");
        assert_eq!(*seen.lock().unwrap(), ["r1", "r2"]);
        assert_eq!(version, "6");

        // A member that never ends its line is not read without bound.
        let endless = vec![b'x'; MAX_EVENT_LINE + 1];
        match stream(Body::from(endless), &report, &mut version).await {
            Some(Stop::Failed(why)) => assert!(why.contains("longer than 4 MiB"), "{why}"),
            _ => panic!("an endless line must stop the watch"),
        }
    }
}
