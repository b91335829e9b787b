//! Writes to one member cluster: create, update (adopting or refusing pre-existing
//! objects), delete. Each call is one idempotent step with a timeout; the answer says what
//! the member now holds or why it refused.
//!
//! Requests go through the kube client as raw API calls: the rendered object is sent as
//! the bytes it serializes to (no copy into typed structs), and of the answer only what the
//! engine keeps is read (versions, the resource id annotation, a workload's replica counts).

use std::time::Duration;

use flotilla_domain::{ObjectKey, WorkloadHealth};
use kube::Error as KubeError;
use kube::api::{DeleteParams, DynamicObject, GetParams, PostParams};
use kube::core::{ApiResource, Resource as _};
use serde::Deserialize;
use serde_json::Value;

use crate::client::MemberClient;
use crate::model::Output;

/// What the member accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub generation: Option<i64>,
    pub resource_version: Option<String>,
    pub health: Option<WorkloadHealth>,
}

/// What an apply left in the member.
#[derive(Debug)]
pub(crate) struct Wrote {
    pub accepted: Accepted,
    /// False when an object that already held the content was adopted as it was: nothing
    /// was written, and it does not carry Flotilla's marks yet.
    pub marked: bool,
}

impl From<Accepted> for Wrote {
    fn from(accepted: Accepted) -> Self {
        Self { accepted, marked: true }
    }
}

/// Why a step did not happen.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The cluster did not answer (connection, 503): the cluster is not ready.
    Unreachable(String),
    /// No answer within the request timeout: the write may or may not have happened.
    TimedOut(String),
    /// An object of that name exists and is not ours; adoption is off.
    NotOurs,
    /// The namespace or the type (CRD not yet established) is missing.
    MissingDependency(String),
    /// The member refused (422 invalid, 403 forbidden, 409 conflict, 500 …).
    Refused(String),
}

impl Refusal {
    /// What it says, as a status or health reason.
    pub fn reason(self) -> String {
        match self {
            Self::Unreachable(why) | Self::TimedOut(why) | Self::MissingDependency(why) | Self::Refused(why) => why,
            Self::NotOurs => "refused".into(),
        }
    }
}

pub(crate) type Outcome<T> = Result<T, Refusal>;

/// The parts of a member's object the engine reads (everything else is skipped unparsed).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MemberObject {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: MemberMeta,
    spec: Option<MemberSpec>,
    status: Option<Value>,
    /// Set when the object is a `Status` (a watch's ERROR event).
    pub code: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct MemberMeta {
    generation: Option<i64>,
    pub resource_version: Option<String>,
    annotations: Option<Annotations>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Annotations {
    /// `flotilla_domain::render::RESOURCE_ID_ANNOTATION` (a test checks they agree).
    #[serde(rename = "flotilla.io/resource-id")]
    resource_id: Option<String>,
    /// `flotilla_domain::render::HASH_ANNOTATION`: the rendered content Flotilla wrote.
    #[serde(rename = "flotilla.io/content-hash")]
    content_hash: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberSpec {
    replicas: Option<i64>,
}

impl MemberObject {
    /// The Flotilla resource this object was rendered from, if any.
    pub fn resource_id(&self) -> Option<&str> {
        self.metadata.annotations.as_ref()?.resource_id.as_deref()
    }

    /// The hash of the rendered content Flotilla wrote into this object, as its annotation
    /// says.
    pub fn content_hash(&self) -> Option<u128> {
        crate::tracked::parse_hash(self.metadata.annotations.as_ref()?.content_hash.as_deref()?)
    }

    /// Whether this is Flotilla's object for `resource_id` holding the content hashed
    /// `hash`: what a write of that content would leave, so writing it again changes nothing.
    pub fn holds(&self, resource_id: &str, hash: u128) -> bool {
        self.resource_id() == Some(resource_id) && self.content_hash() == Some(hash)
    }

    pub fn accepted(&self) -> Accepted {
        // Metadata-only objects carry no status: the kind is looked at only when one does.
        let health =
            self.status.as_ref().filter(|_| reports_health(&self.api_version, &self.kind)).and_then(|status| {
                let value = serde_json::json!({
                    "kind": self.kind, "metadata": {"generation": self.metadata.generation},
                    "spec": {"replicas": self.spec.as_ref().and_then(|s| s.replicas)}, "status": status,
                });
                flotilla_domain::status::object_health(&value)
            });
        Accepted {
            generation: self.metadata.generation,
            resource_version: self.metadata.resource_version.clone(),
            health,
        }
    }
}

/// Kinds whose status says how a rollout goes: workloads (health `x/y`) and custom
/// resources (their `Ready` condition).
pub(crate) fn reports_health(api_version: &str, kind: &str) -> bool {
    flotilla_domain::kinds::reports_health(api_version, kind)
}

/// Requests for `ar`'s objects in `namespace` (or cluster-wide).
pub(crate) fn request(ar: &ApiResource, namespace: Option<&str>) -> kube::core::Request {
    kube::core::Request::new(DynamicObject::url_path(ar, namespace))
}

/// Creates or replaces the rendered object. `known` = Flotilla created it before (then a
/// replace is tried first). `adopt` = an existing object not made by Flotilla may be taken
/// over.
pub(crate) async fn apply(
    client: &MemberClient,
    timeout: Duration,
    ar: &ApiResource,
    output: &Output,
    resource_id: &str,
    known: bool,
    adopt: bool,
) -> Outcome<Wrote> {
    let key = &output.key;
    let request = request(ar, key.namespace.as_deref());
    let params = PostParams::default();
    if known {
        let replace = request.replace(&key.name, &params, output.body.clone()).map_err(invalid)?;
        match call::<MemberObject>(client, timeout, replace).await {
            Ok(o) => return Ok(o.accepted().into()),
            Err(Refusal::MissingDependency(_)) => {} // deleted in the member: create it again
            Err(other) => return Err(other),
        }
    }
    let get = request.get(&key.name, &GetParams::default()).map_err(invalid)?;
    if adopt {
        // Read first: an object there already is taken over (as it is, where it matches)
        // without a create the member would refuse.
        match call::<Value>(client, timeout, get.clone()).await {
            Ok(existing) => return take_over(client, timeout, &request, output, resource_id, adopt, &existing).await,
            Err(Refusal::MissingDependency(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let create = request.create(&params, output.body.clone()).map_err(invalid)?;
    match call::<MemberObject>(client, timeout, create).await {
        Ok(o) => Ok(o.accepted().into()),
        Err(Refusal::Refused(why)) if why.starts_with("AlreadyExists") => {
            let existing: Value = call(client, timeout, get).await?;
            take_over(client, timeout, &request, output, resource_id, adopt, &existing).await
        }
        Err(other) => Err(other),
    }
}

/// An object of the resource's name exists in the member (`existing`): Flotilla's from
/// before, taken over (`adopt`), or not ours.
async fn take_over(
    client: &MemberClient,
    timeout: Duration,
    request: &kube::core::Request,
    output: &Output,
    resource_id: &str,
    adopt: bool,
    existing: &Value,
) -> Outcome<Wrote> {
    // Flotilla wrote exactly this before and its status was lost (the hub stopped between
    // the write and storing its outcome): the member holds it already.
    let held = MemberObject::deserialize(existing).map_err(|e| Refusal::Refused(e.to_string()))?;
    if held.holds(resource_id, output.hash) {
        return Ok(held.accepted().into());
    }
    if held.resource_id() != Some(resource_id) && !adopt {
        return Err(Refusal::NotOurs);
    }
    // Adopting an object that already holds the content (federated from this very cluster):
    // taken as it is, no write. Flotilla's marks come with its next write.
    if held.resource_id().is_none() && flotilla_domain::federate::already_holds(existing, &output.object) {
        return Ok(Wrote { accepted: held.accepted(), marked: false });
    }
    let mut desired = output.object.clone();
    retain_member_fields(existing, &mut desired);
    let body = serde_json::to_vec(&desired).map_err(|e| Refusal::Refused(e.to_string()))?;
    let replace = request.replace(&output.key.name, &PostParams::default(), body).map_err(invalid)?;
    call::<MemberObject>(client, timeout, replace).await.map(|o| o.accepted().into())
}

/// Reads the object as the member holds it now (for checks before a write).
pub(crate) async fn current(
    client: &MemberClient,
    timeout: Duration,
    ar: &ApiResource,
    key: &ObjectKey,
) -> Outcome<Option<MemberObject>> {
    let get = request(ar, key.namespace.as_deref()).get(&key.name, &GetParams::default()).map_err(invalid)?;
    match call::<MemberObject>(client, timeout, get).await {
        Ok(o) => Ok(Some(o)),
        Err(Refusal::MissingDependency(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Deletes the object; already gone counts as done.
pub(crate) async fn delete(client: &MemberClient, timeout: Duration, ar: &ApiResource, key: &ObjectKey) -> Outcome<()> {
    let delete =
        request(ar, key.namespace.as_deref()).delete(&key.name, &DeleteParams::background()).map_err(invalid)?;
    match call::<serde::de::IgnoredAny>(client, timeout, delete).await {
        Ok(_) | Err(Refusal::MissingDependency(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Fields the member owns that a replace must carry over (KubeFed's retained fields).
fn retain_member_fields(existing: &Value, desired: &mut Value) {
    if existing.get("kind").and_then(Value::as_str) == Some("Service") {
        for field in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
            if let (Some(v), Some(spec)) =
                (existing.pointer(&format!("/spec/{field}")), desired.get_mut("spec").and_then(|s| s.as_object_mut()))
            {
                spec.entry(field).or_insert_with(|| v.clone());
            }
        }
    }
}

pub(crate) fn invalid(e: kube::core::request::Error) -> Refusal {
    Refusal::Refused(format!("cannot build the request: {e}"))
}

/// Runs one request with a timeout and sorts its failure.
pub(crate) async fn call<T: serde::de::DeserializeOwned>(
    client: &MemberClient,
    timeout: Duration,
    request: http::Request<Vec<u8>>,
) -> Outcome<T> {
    match tokio::time::timeout(timeout, client.request::<T>(request)).await {
        Err(_) => Err(Refusal::TimedOut(format!("no answer within {} s", timeout.as_secs_f32()))),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(e)),
    }
}

/// Sorts a failed member request into what the worker does about it. What the member said
/// is kept as a short excerpt only (it becomes a status that people read and that is stored):
/// the whole of it goes to the debug log.
pub(crate) fn classify(e: KubeError) -> Refusal {
    tracing::debug!(error = %e, "member request failed");
    match e {
        KubeError::Api(s) => {
            let (reason, message) = (excerpt(&s.reason, 64), excerpt(&s.message, MAX_EXCERPT));
            match s.code {
                404 => Refusal::MissingDependency(message),
                409 if s.reason == "AlreadyExists" => Refusal::Refused(format!("AlreadyExists: {message}")),
                502..=504 => Refusal::Unreachable(format!("{} {message}", s.code)),
                429 => Refusal::Refused(format!("throttled: {message}")),
                _ => Refusal::Refused(format!("{reason} ({}): {message}", s.code)),
            }
        }
        KubeError::Auth(e) => Refusal::Refused(excerpt(&format!("credentials refused: {e}"), MAX_EXCERPT)),
        other => match flotilla_outbound::refusal_in(&other) {
            // The hub's outbound policy refused the address: say so, not "cannot connect".
            Some(refused) => Refusal::Unreachable(excerpt(&refused.to_string(), MAX_EXCERPT)),
            None => Refusal::Unreachable(excerpt(&other.to_string(), MAX_EXCERPT)),
        },
    }
}

/// The longest excerpt of a member's words kept in a status.
pub(crate) const MAX_EXCERPT: usize = 300;

/// `text` on one line, without control characters, cut to `max` characters (with `…`).
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(max.saturating_add(1)).collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_member_says_is_kept_short_and_on_one_line() {
        let long = format!("line one\nline two\r\n{}", "x".repeat(5000));
        let kept = excerpt(&long, MAX_EXCERPT);
        assert_eq!(kept.chars().count(), MAX_EXCERPT);
        assert!(kept.starts_with("line one line two") && kept.ends_with('…') && !kept.contains('\n'));
        assert_eq!(excerpt("short", MAX_EXCERPT), "short");
        let status = kube::core::Status { code: 500, reason: "x".repeat(1000), message: long, ..Default::default() };
        let Refusal::Refused(text) = classify(KubeError::Api(Box::new(status))) else { panic!() };
        assert!(text.chars().count() < 400, "{text}");
    }

    #[test]
    fn the_answer_keeps_versions_resource_id_and_workload_health() {
        let deployment = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "generation": 4, "resourceVersion": "77",
                "annotations": {flotilla_domain::render::RESOURCE_ID_ANNOTATION: "r1", "other": "x"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
            "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
        });
        let o: MemberObject = serde_json::from_value(deployment).unwrap();
        assert_eq!(o.resource_id(), Some("r1"), "the serde rename matches RESOURCE_ID_ANNOTATION");
        let a = o.accepted();
        assert_eq!((a.generation, a.resource_version.as_deref()), (Some(4), Some("77")));
        assert_eq!(a.health.map(|h| h.to_string()).as_deref(), Some("Healthy 3/3"));

        let cm: MemberObject =
            serde_json::from_str(r#"{"kind":"ConfigMap","metadata":{"resourceVersion":"9"},"data":{"a":"b"}}"#)
                .unwrap();
        assert_eq!(cm.resource_id(), None);
        assert_eq!(cm.accepted(), Accepted { generation: None, resource_version: Some("9".into()), health: None });
    }
}
