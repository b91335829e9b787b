//! Writes to one member cluster: create, update (adopting or refusing pre-existing
//! objects), delete. Each call is one idempotent step with a timeout; the answer says what
//! the member now holds or why it refused.

use std::time::Duration;

use flotilla_domain::render::RESOURCE_ID_ANNOTATION;
use flotilla_domain::{ObjectKey, WorkloadHealth};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Error as KubeError};

/// What the member accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub generation: Option<i64>,
    pub resource_version: Option<String>,
    pub health: Option<WorkloadHealth>,
}

/// Why a step did not happen.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The cluster did not answer (connection, timeout, 503): the cluster is not ready.
    Unreachable(String),
    /// An object of that name exists and is not ours; adoption is off.
    NotOurs,
    /// The namespace or the type (CRD not yet established) is missing.
    MissingDependency(String),
    /// The member refused (422 invalid, 403 forbidden, 409 conflict, 500 …).
    Refused(String),
}

pub(crate) type Outcome<T> = Result<T, Refusal>;

pub(crate) fn api_resource(key: &ObjectKey) -> ApiResource {
    let (group, version) = match key.api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", key.api_version.as_str()),
    };
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &key.kind))
}

pub(crate) fn api(client: &Client, key: &ObjectKey) -> Api<DynamicObject> {
    let ar = api_resource(key);
    match &key.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// Creates or replaces the rendered object. `known` = Flotilla created it before (then a
/// replace is tried first). `adopt` = an existing object not made by Flotilla may be taken
/// over.
pub(crate) async fn apply(
    client: &Client,
    timeout: Duration,
    key: &ObjectKey,
    object: &serde_json::Value,
    resource_id: &str,
    known: bool,
    adopt: bool,
) -> Outcome<Accepted> {
    let api = api(client, key);
    let obj: DynamicObject = serde_json::from_value(object.clone())
        .map_err(|e| Refusal::Refused(format!("not a Kubernetes object: {e}")))?;
    if known {
        match call(timeout, api.replace(&key.name, &PostParams::default(), &obj)).await {
            Ok(o) => return Ok(accepted(&o)),
            Err(Refusal::MissingDependency(_)) => {} // deleted in the member: create it again
            Err(other) => return Err(other),
        }
    }
    match call(timeout, api.create(&PostParams::default(), &obj)).await {
        Ok(o) => Ok(accepted(&o)),
        Err(Refusal::Refused(why)) if why.starts_with("AlreadyExists") => {
            let existing = call(timeout, api.get(&key.name)).await?;
            let ours = existing.metadata.annotations.as_ref().and_then(|a| a.get(RESOURCE_ID_ANNOTATION))
                == Some(&resource_id.to_owned());
            if !ours && !adopt {
                return Err(Refusal::NotOurs);
            }
            let mut obj = obj;
            retain_member_fields(&existing, &mut obj);
            call(timeout, api.replace(&key.name, &PostParams::default(), &obj)).await.map(|o| accepted(&o))
        }
        Err(other) => Err(other),
    }
}

/// Reads the object's current versions (for drift checks).
pub(crate) async fn versions(client: &Client, timeout: Duration, key: &ObjectKey) -> Outcome<Option<Accepted>> {
    match call(timeout, api(client, key).get(&key.name)).await {
        Ok(o) => Ok(Some(accepted(&o))),
        Err(Refusal::MissingDependency(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Deletes the object; already gone counts as done.
pub(crate) async fn delete(client: &Client, timeout: Duration, key: &ObjectKey) -> Outcome<()> {
    let params = DeleteParams::background();
    match call(timeout, api(client, key).delete(&key.name, &params)).await {
        Ok(_) | Err(Refusal::MissingDependency(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Fields the member owns that a replace must carry over (KubeFed's retained fields).
fn retain_member_fields(existing: &DynamicObject, desired: &mut DynamicObject) {
    if existing.types.as_ref().is_some_and(|t| t.kind == "Service") {
        for field in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
            if let (Some(v), Some(spec)) = (
                existing.data.pointer(&format!("/spec/{field}")),
                desired.data.get_mut("spec").and_then(|s| s.as_object_mut()),
            ) {
                spec.entry(field).or_insert_with(|| v.clone());
            }
        }
    }
}

pub(crate) fn accepted(o: &DynamicObject) -> Accepted {
    let health = o.types.as_ref().and_then(|t| {
        let value = serde_json::json!({
            "kind": t.kind, "metadata": {"generation": o.metadata.generation},
            "spec": o.data.get("spec"), "status": o.data.get("status"),
        });
        flotilla_domain::status::workload_health(&value)
    });
    Accepted { generation: o.metadata.generation, resource_version: o.metadata.resource_version.clone(), health }
}

/// Runs one request with a timeout and sorts its failure.
async fn call<T>(timeout: Duration, fut: impl Future<Output = Result<T, KubeError>>) -> Outcome<T> {
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Err(Refusal::Unreachable(format!("no answer within {} s", timeout.as_secs_f32()))),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(e)),
    }
}

pub(crate) fn classify(e: KubeError) -> Refusal {
    match e {
        KubeError::Api(s) => match s.code {
            404 => Refusal::MissingDependency(s.message),
            409 if s.reason == "AlreadyExists" => Refusal::Refused(format!("AlreadyExists: {}", s.message)),
            502..=504 => Refusal::Unreachable(format!("{} {}", s.code, s.message)),
            429 => Refusal::Refused(format!("throttled: {}", s.message)),
            _ => Refusal::Refused(format!("{} ({}): {}", s.reason, s.code, s.message)),
        },
        KubeError::Auth(e) => Refusal::Refused(format!("credentials refused: {e}")),
        other => Refusal::Unreachable(other.to_string()),
    }
}
