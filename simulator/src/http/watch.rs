//! Watch streams: newline-delimited `{"type":…,"object":…}` events over a chunked response,
//! from a resourceVersion (410 Gone as an ERROR event when it is too old) or, without one,
//! starting with the current objects as ADDED events.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::api_error::{ApiError, ApiResult};
use crate::cluster::Cluster;
use crate::kinds::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::state::Event;

/// How long a watch without `timeoutSeconds` stays open.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Filter {
    ty: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    /// The client asked for `PartialObjectMetadata`.
    metadata_only: bool,
}

impl Filter {
    fn matches(&self, event: &Event) -> bool {
        event.key == self.ty.key()
            && self.namespace.as_ref().is_none_or(|ns| ns == &event.namespace)
            && self.name.as_ref().is_none_or(|n| event.object["metadata"]["name"].as_str() == Some(n))
            && self.labels.matches(event.object["metadata"]["labels"].as_object())
            && self.fields.matches(&event.object)
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    crate::state::watch_line(kind, object)
}

fn object_line(kind: &str, object: &Value, metadata_only: bool) -> Bytes {
    if metadata_only { line(kind, &crate::state::metadata_view(object)) } else { line(kind, object) }
}

pub(crate) fn watch(
    cluster: Arc<Cluster>,
    ty: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    query: &HashMap<String, String>,
    metadata_only: bool,
) -> ApiResult<Response> {
    let labels = LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let mut fields = FieldSelector::parse(query.get("fieldSelector").map(String::as_str).unwrap_or(""))?;
    if let Some(n) = &name {
        fields = FieldSelector::parse(&format!("metadata.name={n}"))?;
    }
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let since = query.get("resourceVersion").filter(|rv| !rv.is_empty() && rv.as_str() != "0");
    let bookmarks = query.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let filter = Filter { ty, namespace, name, labels, fields, metadata_only };

    // Backlog and subscription under one lock, so no event falls between them.
    let (backlog, rx, current_rv) = {
        let mut state = cluster.state();
        let backlog: Result<Vec<Bytes>, ApiError> = match since {
            Some(rv) => {
                let rv: u64 =
                    rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?;
                state
                    .events_since(rv)
                    .map(|events| events.iter().filter(|e| filter.matches(e)).map(|e| e.line(metadata_only)).collect())
            }
            None => Ok(state
                .list(&filter.ty, filter.namespace.as_deref(), &filter.labels, &filter.fields)
                .iter()
                .map(|o| object_line("ADDED", o, metadata_only))
                .collect()),
        };
        (backlog, state.subscribe(), state.resource_version())
    };

    let (tx, body_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let epoch = cluster.stall_epoch.load(Ordering::SeqCst);
    tokio::spawn(async move {
        if cluster.faults().stall_watches {
            // A stalled stream delivers nothing at all, not even its backlog.
            pump(cluster, filter, rx, tx, timeout, epoch).await;
            return;
        }
        let gone = match backlog {
            Ok(lines) => {
                for l in lines {
                    if tx.send(Ok(l)).await.is_err() {
                        return;
                    }
                }
                None
            }
            Err(e) => Some(e),
        };
        if let Some(e) = gone {
            let _ = tx.send(Ok(line("ERROR", &e.to_status()))).await;
            return;
        }
        if bookmarks {
            let (kind, api_version) = if filter.metadata_only {
                ("PartialObjectMetadata".to_owned(), "meta.k8s.io/v1".to_owned())
            } else {
                (filter.ty.kind.clone(), filter.ty.api_version())
            };
            let bookmark = json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": current_rv.to_string()}});
            let _ = tx.send(Ok(line("BOOKMARK", &bookmark))).await;
        }
        pump(cluster, filter, rx, tx, timeout, epoch).await;
    });

    let body = Body::from_stream(ReceiverStream::new(body_rx));
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], body).into_response())
}

async fn pump(
    cluster: Arc<Cluster>,
    filter: Filter,
    mut rx: broadcast::Receiver<Arc<Event>>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    timeout: Duration,
    epoch: u64,
) {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = &mut deadline => return,
            () = tx.closed() => return,
            _ = poll.tick() => {
                // A stall lifted (or imposed) since this stream began: close it, so the client
                // watches again from its last resourceVersion and catches up from history.
                if cluster.stall_epoch.load(Ordering::SeqCst) != epoch && !cluster.faults().stall_watches {
                    return;
                }
            }
            received = rx.recv() => match received {
                Ok(event) => {
                    if cluster.faults().stall_watches || !filter.matches(&event) {
                        continue;
                    }
                    if tx.send(Ok(event.line(filter.metadata_only))).await.is_err() {
                        return;
                    }
                }
                // Too slow a reader, or the cluster is gone: end; the client re-watches.
                Err(_) => return,
            },
        }
    }
}
