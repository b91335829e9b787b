//! One simulated cluster's objects, with the semantics of a real API server:
//! uid, a cluster-wide increasing resourceVersion, generation bumped only by spec changes,
//! AlreadyExists / Conflict / NotFound, namespace cascade, CRDs that define new types once
//! Established, and an event history that watches resume from (410 Gone when too old).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::api_error::{ApiError, ApiResult};
use crate::kinds::{self, ResourceType, TypeKey};
use crate::patch::{self, PatchKind};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::validate;

/// Watch events kept per cluster for resuming watches; older ones answer 410 Gone.
const HISTORY_LIMIT: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change, as watches see it.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub key: TypeKey,
    pub namespace: String,
    pub kind: EventType,
    pub object: Arc<Value>,
    /// The watch lines (whole object, metadata only), each encoded once for every watcher
    /// (as kube-apiserver's watch cache does).
    encoded: std::sync::OnceLock<bytes::Bytes>,
    encoded_metadata: std::sync::OnceLock<bytes::Bytes>,
}

impl Event {
    /// `{"type":…,"object":…}` and a newline, as a watch stream carries it; with
    /// `metadata_only`, the object as a `PartialObjectMetadata`.
    pub fn line(&self, metadata_only: bool) -> bytes::Bytes {
        if metadata_only {
            self.encoded_metadata.get_or_init(|| watch_line(self.kind.as_str(), &metadata_view(&self.object))).clone()
        } else {
            self.encoded.get_or_init(|| watch_line(self.kind.as_str(), &self.object)).clone()
        }
    }
}

/// One watch event line.
pub fn watch_line(kind: &str, object: &Value) -> bytes::Bytes {
    let mut line = format!("{{\"type\":\"{kind}\",\"object\":");
    line.push_str(&object.to_string());
    line.push_str("}\n");
    line.into()
}

/// An object as a `PartialObjectMetadata` (what clients asking for metadata only get:
/// kind, apiVersion and the object's whole `metadata`).
pub fn metadata_view(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]})
}

/// (namespace, name); namespace is "" for cluster-scoped objects.
pub type ObjectKey = (String, String);

/// What a write did.
#[derive(Debug, Clone)]
pub struct Written {
    pub object: Arc<Value>,
    pub created: bool,
}

pub struct ClusterState {
    rv: u64,
    builtin: Arc<Vec<ResourceType>>,
    custom: Vec<ResourceType>,
    objects: HashMap<TypeKey, BTreeMap<ObjectKey, Arc<Value>>>,
    history: VecDeque<Arc<Event>>,
    /// Events with a resourceVersion above this are all still in `history`.
    history_floor: u64,
    watchers: Option<broadcast::Sender<Arc<Event>>>,
    /// Workloads whose status has not caught up with their spec yet.
    pub(crate) unsettled: BTreeSet<(TypeKey, ObjectKey)>,
    /// CRDs created but not yet Established.
    pub(crate) pending_crds: BTreeSet<String>,
}

/// Now, as Kubernetes writes timestamps (RFC 3339, whole seconds, UTC).
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

fn labels_of(obj: &Value) -> Option<&serde_json::Map<String, Value>> {
    obj["metadata"]["labels"].as_object()
}

/// A write that names a resourceVersion must name the current one (optimistic concurrency).
fn check_resource_version(ty: &ResourceType, name: &str, current: &Value, sent: &Value) -> ApiResult<()> {
    match sent["metadata"]["resourceVersion"].as_str() {
        Some(rv) if rv != current["metadata"]["resourceVersion"].as_str().unwrap_or("") => {
            Err(ApiError::conflict(&ty.group, &ty.plural, name))
        }
        _ => Ok(()),
    }
}

/// The object without metadata and status: what `generation` tracks.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

impl ClusterState {
    pub fn new(builtin: Arc<Vec<ResourceType>>, namespaces: &[&str]) -> Self {
        let mut state = Self {
            rv: 0,
            builtin,
            custom: Vec::new(),
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_floor: 0,
            watchers: None,
            unsettled: BTreeSet::new(),
            pending_crds: BTreeSet::new(),
        };
        let ns_type = state.builtin.iter().find(|t| t.kind == "Namespace").cloned();
        if let Some(ns_type) = ns_type {
            for ns in namespaces {
                let _ = state.create(&ns_type, None, json!({ "metadata": { "name": ns } }));
            }
        }
        // Nobody can have watched the initial objects.
        state.history.clear();
        state.history_floor = state.rv;
        state
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Every servable type: built-in, then custom.
    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.builtin.iter().chain(self.custom.iter())
    }

    pub fn find_type(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types().find(|t| t.group == group && t.version == version && t.plural == plural).cloned()
    }

    pub fn object_count(&self) -> usize {
        self.objects.values().map(BTreeMap::len).sum()
    }

    /// Every stored object of the type stored under (`group`, `plural`), by (namespace, name).
    pub(crate) fn objects_of<'a>(
        &'a self,
        group: &str,
        plural: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        self.objects.get(&TypeKey { group: group.to_owned(), plural: plural.to_owned() }).into_iter().flatten()
    }

    /// A receiver of every future event (created on first use).
    pub fn subscribe(&mut self) -> broadcast::Receiver<Arc<Event>> {
        self.watchers.get_or_insert_with(|| broadcast::channel(1024).0).subscribe()
    }

    /// Events after `since` still held, or Gone if some may be missing.
    pub fn events_since(&self, since: u64) -> ApiResult<Vec<Arc<Event>>> {
        if since < self.history_floor {
            return Err(ApiError::gone(format!("too old resource version: {since} ({})", self.history_floor + 1)));
        }
        Ok(self.history.iter().filter(|e| e.rv > since).cloned().collect())
    }

    pub fn get(&self, ty: &ResourceType, ns: &str, name: &str) -> ApiResult<Arc<Value>> {
        self.objects
            .get(&ty.key())
            .and_then(|m| m.get(&(ns.to_owned(), name.to_owned())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(&ty.group, &ty.plural, name))
    }

    /// Objects of `ty` (in `ns` when given) matching the selectors, ordered by namespace and name.
    pub fn list(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Arc<Value>> {
        let Some(objects) = self.objects.get(&ty.key()) else {
            return Vec::new();
        };
        objects
            .iter()
            .filter(|((o_ns, _), _)| ns.is_none_or(|n| n == o_ns))
            .filter(|(_, o)| labels.matches(labels_of(o)) && fields.matches(o))
            .map(|(_, o)| o.clone())
            .collect()
    }

    fn require_namespace(&self, ty: &ResourceType, ns: &str) -> ApiResult<()> {
        if !ty.namespaced {
            return Ok(());
        }
        let exists = self
            .objects
            .get(&TypeKey { group: String::new(), plural: "namespaces".into() })
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_owned())));
        if exists { Ok(()) } else { Err(ApiError::not_found("", "namespaces", ns)) }
    }

    fn terminating(&self, ns: &str) -> bool {
        self.objects
            .get(&TypeKey { group: String::new(), plural: "namespaces".into() })
            .and_then(|m| m.get(&(String::new(), ns.to_owned())))
            .is_some_and(|n| n["status"]["phase"] == "Terminating")
    }

    /// POST: creates `obj`. `ns` is the request path's namespace.
    pub fn create(&mut self, ty: &ResourceType, ns: Option<&str>, mut obj: Value) -> ApiResult<Written> {
        if let Some(prefix) = obj["metadata"]["generateName"].as_str().filter(|_| obj["metadata"]["name"].is_null()) {
            let suffix: String = (0..5).map(|_| (b'a' + rand::random::<u8>() % 26) as char).collect();
            obj["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
        }
        validate::prepare(ty, ns, &mut obj)?;
        let ns = if ty.namespaced { ns.unwrap_or("").to_owned() } else { String::new() };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        self.require_namespace(ty, &ns)?;
        crate::rbac::issue_token(&ty.group, &ty.plural, &ns, &mut obj);
        if ty.namespaced && self.terminating(&ns) {
            return Err(ApiError {
                code: 403,
                reason: "Forbidden",
                message: format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    ty.plural
                ),
                details: None,
            });
        }
        if self.get(ty, &ns, &name).is_ok() {
            return Err(ApiError::already_exists(&ty.group, &ty.plural, &name));
        }
        {
            let meta =
                obj["metadata"].as_object_mut().ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
            meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
            meta.remove("resourceVersion");
            meta.remove("deletionTimestamp");
            if ty.has_generation {
                meta.insert("generation".into(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        if ty.status_subresource
            && ty.kind != "Namespace"
            && let Some(m) = obj.as_object_mut()
        {
            m.remove("status");
        }
        let object = self.commit(ty, (ns, name), Some(obj), EventType::Added);
        Ok(Written { object, created: true })
    }

    /// PUT: replaces the object. With `status_only`, only its status changes (the `/status`
    /// subresource); otherwise status is kept for types that have that subresource.
    pub fn update(
        &mut self,
        ty: &ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
        status_only: bool,
    ) -> ApiResult<Written> {
        let ns_key = if ty.namespaced { ns.unwrap_or("").to_owned() } else { String::new() };
        let current = self.get(ty, &ns_key, name)?;
        if obj.is_object() && obj["metadata"]["name"].is_null() {
            obj["metadata"]["name"] = json!(name);
        }
        if obj["metadata"]["name"].as_str() != Some(name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        check_resource_version(ty, name, &current, &obj)?;
        self.replace(ty, ns_key, name, &current, obj, status_only)
    }

    /// PATCH: applies `patch` of `kind`. Server-side apply creates the object when missing.
    pub fn patch(
        &mut self,
        ty: &ResourceType,
        ns: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch_body: &Value,
        status_only: bool,
    ) -> ApiResult<Written> {
        let ns_key = if ty.namespaced { ns.unwrap_or("").to_owned() } else { String::new() };
        let current = match self.get(ty, &ns_key, name) {
            Ok(c) => c,
            Err(_) if kind == PatchKind::Apply && !status_only => {
                let mut obj = patch_body.clone();
                if obj.is_object() && obj["metadata"]["name"].is_null() {
                    obj["metadata"]["name"] = json!(name);
                }
                return self.create(ty, ns, obj);
            }
            Err(e) => return Err(e),
        };
        let patched = patch::apply(kind, &current, patch_body)?;
        check_resource_version(ty, name, &current, patch_body)?;
        self.replace(ty, ns_key, name, &current, patched, status_only)
    }

    fn replace(
        &mut self,
        ty: &ResourceType,
        ns: String,
        name: &str,
        current: &Value,
        mut obj: Value,
        status_only: bool,
    ) -> ApiResult<Written> {
        if status_only {
            let status = obj.get("status").cloned();
            obj = current.clone();
            match status {
                Some(s) => obj["status"] = s,
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        } else {
            validate::prepare(ty, if ty.namespaced { Some(&ns) } else { None }, &mut obj)?;
            if ty.status_subresource {
                match current.get("status") {
                    Some(s) => obj["status"] = s.clone(),
                    None => {
                        if let Some(m) = obj.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            if matches!(ty.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") && obj["roleRef"] != current["roleRef"]
            {
                return Err(ApiError::invalid(
                    &ty.kind,
                    name,
                    vec![("roleRef".into(), "Invalid value: cannot change roleRef".into())],
                ));
            }
        }
        // Fields the server owns.
        let meta =
            obj["metadata"].as_object_mut().ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "namespace"] {
            match current["metadata"].get(field) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        meta.remove("resourceVersion");
        if ty.has_generation {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            let bumped = if spec_part(&obj) != spec_part(current) { generation + 1 } else { generation };
            obj["metadata"]["generation"] = json!(bumped);
        } else if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("generation");
        }
        // A write that changes nothing is not a change: same resourceVersion, no event.
        if same_but_resource_version(current, &obj) {
            return Ok(Written { object: Arc::new(current.clone()), created: false });
        }
        let object = self.commit(ty, (ns, name.to_owned()), Some(obj), EventType::Modified);
        Ok(Written { object, created: false })
    }

    /// DELETE: removes the object (a namespace takes its contents with it; a CRD its custom
    /// resources). Returns the object as it was, with a deletionTimestamp.
    pub fn delete(&mut self, ty: &ResourceType, ns: Option<&str>, name: &str) -> ApiResult<Arc<Value>> {
        let ns_key = if ty.namespaced { ns.unwrap_or("").to_owned() } else { String::new() };
        let current = self.get(ty, &ns_key, name)?;
        if ty.kind == "Namespace" && ty.group.is_empty() {
            let contained: Vec<(ResourceType, ObjectKey)> = self
                .types()
                .filter(|t| t.namespaced)
                .flat_map(|t| {
                    self.objects
                        .get(&t.key())
                        .into_iter()
                        .flat_map(|m| m.keys())
                        .filter(|(o_ns, _)| o_ns == name)
                        .map(|k| (t.clone(), k.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            let mut seen = BTreeSet::new();
            for (t, key) in contained {
                if seen.insert((t.key(), key.clone())) {
                    self.commit(&t, key, None, EventType::Deleted);
                }
            }
        }
        if ty.kind == "CustomResourceDefinition" {
            self.pending_crds.remove(name);
            let defined = kinds::from_crd(&current);
            if let Some(first) = defined.first() {
                let key = first.key();
                let keys: Vec<ObjectKey> =
                    self.objects.get(&key).map(|m| m.keys().cloned().collect()).unwrap_or_default();
                for k in keys {
                    self.commit(first, k, None, EventType::Deleted);
                }
                self.objects.remove(&key);
                self.custom.retain(|t| t.key() != key);
            }
        }
        let mut gone = (*current).clone();
        gone["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        self.commit(ty, (ns_key, name.to_owned()), Some(gone.clone()), EventType::Deleted);
        Ok(Arc::new(gone))
    }

    /// Marks a pending CRD Established and starts serving its types.
    pub(crate) fn establish_crd(&mut self, crd_type: &ResourceType, name: &str) {
        self.pending_crds.remove(name);
        let Ok(current) = self.get(crd_type, "", name) else { return };
        let mut obj = (*current).clone();
        let now = now_rfc3339();
        obj["status"] = json!({
            "acceptedNames": obj["spec"]["names"].clone(),
            "storedVersions": obj["spec"]["versions"].as_array().map(|vs| vs.iter()
                .filter(|v| v["storage"].as_bool() == Some(true)).map(|v| v["name"].clone()).collect::<Vec<_>>()).unwrap_or_default(),
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
            ],
        });
        for t in kinds::from_crd(&obj) {
            if !self.custom.iter().any(|c| c.group == t.group && c.version == t.version && c.plural == t.plural) {
                self.custom.push(t);
            }
        }
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        self.commit(crd_type, (String::new(), name.to_owned()), Some(obj), EventType::Modified);
    }

    /// Stores (or removes, for `None` with Deleted) the object under a new resourceVersion,
    /// records the event and tells the watchers.
    pub(crate) fn commit(
        &mut self,
        ty: &ResourceType,
        key: ObjectKey,
        obj: Option<Value>,
        kind: EventType,
    ) -> Arc<Value> {
        self.rv += 1;
        let rv = self.rv;
        let stored = match (kind, obj) {
            (EventType::Deleted, obj) => {
                let removed = self.objects.get_mut(&ty.key()).and_then(|m| m.remove(&key));
                self.unsettled.remove(&(ty.key(), key.clone()));
                let mut last = obj.or_else(|| removed.map(|r| (*r).clone())).unwrap_or(Value::Null);
                if last.is_object() {
                    last["metadata"]["resourceVersion"] = json!(rv.to_string());
                }
                Arc::new(last)
            }
            (_, Some(mut obj)) => {
                obj["metadata"]["resourceVersion"] = json!(rv.to_string());
                let obj = Arc::new(obj);
                self.objects.entry(ty.key()).or_default().insert(key.clone(), obj.clone());
                if ty.workload.is_some() {
                    let settled = obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
                        && crate::workloads::is_settled(ty, &obj);
                    if !settled {
                        self.unsettled.insert((ty.key(), key.clone()));
                    }
                }
                if ty.kind == "CustomResourceDefinition" && kind == EventType::Added {
                    self.pending_crds.insert(key.1.clone());
                }
                obj
            }
            (_, None) => Arc::new(Value::Null),
        };
        let event = Arc::new(Event {
            rv,
            key: ty.key(),
            namespace: key.0,
            kind,
            object: stored.clone(),
            encoded: std::sync::OnceLock::new(),
            encoded_metadata: std::sync::OnceLock::new(),
        });
        self.history.push_back(event.clone());
        while self.history.len() > HISTORY_LIMIT {
            if let Some(old) = self.history.pop_front() {
                self.history_floor = old.rv;
            }
        }
        if let Some(tx) = &self.watchers {
            // No receivers is fine: nobody is watching.
            let _ = tx.send(event);
        }
        stored
    }

    /// The stored object for an unsettled-workload key, with its type.
    pub(crate) fn workload(&self, key: &(TypeKey, ObjectKey)) -> Option<(ResourceType, Arc<Value>)> {
        let ty = self.types().find(|t| t.key() == key.0)?.clone();
        let obj = self.objects.get(&key.0)?.get(&key.1)?.clone();
        Some((ty, obj))
    }
}

/// Whether `stored` and `written` are the same object apart from `stored`'s
/// `metadata.resourceVersion` (`written` has none by now).
fn same_but_resource_version(stored: &Value, written: &Value) -> bool {
    let (Some(a), Some(b)) = (stored.as_object(), written.as_object()) else { return stored == written };
    let same_metadata = || {
        let (Some(ma), Some(mb)) =
            (a.get("metadata").and_then(Value::as_object), b.get("metadata").and_then(Value::as_object))
        else {
            return false;
        };
        ma.len() == mb.len() + usize::from(ma.contains_key("resourceVersion"))
            && ma.iter().filter(|(k, _)| *k != "resourceVersion").all(|(k, v)| mb.get(k) == Some(v))
    };
    a.len() == b.len() && a.iter().all(|(k, v)| if k == "metadata" { same_metadata() } else { b.get(k) == Some(v) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ClusterState {
        ClusterState::new(Arc::new(kinds::builtin()), &["default", "kube-system"])
    }

    fn ty(s: &ClusterState, kind: &str) -> ResourceType {
        s.types().find(|t| t.kind == kind).unwrap().clone()
    }

    fn cm(name: &str, value: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"app": "x"}}, "data": {"k": value}})
    }

    #[test]
    fn resource_versions_increase_and_noop_writes_change_nothing() {
        let mut s = state();
        let t = ty(&s, "ConfigMap");
        let a = s.create(&t, Some("default"), cm("a", "1")).unwrap().object;
        let rv1: u64 = a["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        assert!(a["metadata"]["uid"].is_string());
        assert!(a["metadata"].get("generation").is_none(), "ConfigMaps have no generation");

        let same = s.update(&t, Some("default"), "a", cm("a", "1"), false).unwrap().object;
        assert_eq!(same["metadata"]["resourceVersion"], a["metadata"]["resourceVersion"]);

        let b = s.update(&t, Some("default"), "a", cm("a", "2"), false).unwrap().object;
        let rv2: u64 = b["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        assert!(rv2 > rv1);
        assert_eq!(b["metadata"]["uid"], a["metadata"]["uid"]);
    }

    #[test]
    fn conflicts_and_existence() {
        let mut s = state();
        let t = ty(&s, "ConfigMap");
        s.create(&t, Some("default"), cm("a", "1")).unwrap();
        assert_eq!(s.create(&t, Some("default"), cm("a", "1")).unwrap_err().reason, "AlreadyExists");
        let mut stale = cm("a", "2");
        stale["metadata"]["resourceVersion"] = json!("1");
        assert_eq!(s.update(&t, Some("default"), "a", stale, false).unwrap_err().reason, "Conflict");
        assert_eq!(s.update(&t, Some("default"), "b", cm("b", "1"), false).unwrap_err().code, 404);
        let missing_ns = s.create(&t, Some("nope"), cm("a", "1")).unwrap_err();
        assert_eq!((missing_ns.code, missing_ns.message.as_str()), (404, "namespaces \"nope\" not found"));
    }

    #[test]
    fn generation_moves_only_with_spec() {
        let mut s = state();
        let t = ty(&s, "NetworkPolicy");
        let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        s.create(&t, Some("default"), np.clone()).unwrap();
        let mut relabelled = np.clone();
        relabelled["metadata"]["labels"] = json!({"a": "b"});
        let o = s.update(&t, Some("default"), "deny", relabelled.clone(), false).unwrap().object;
        assert_eq!(o["metadata"]["generation"], 1);
        relabelled["spec"]["policyTypes"] = json!(["Ingress"]);
        let o = s.update(&t, Some("default"), "deny", relabelled, false).unwrap().object;
        assert_eq!(o["metadata"]["generation"], 2);
    }

    #[test]
    fn deleting_a_namespace_deletes_its_contents() {
        let mut s = state();
        let ns = ty(&s, "Namespace");
        let t = ty(&s, "ConfigMap");
        s.create(&ns, None, json!({"metadata": {"name": "team"}})).unwrap();
        s.create(&t, Some("team"), cm("a", "1")).unwrap();
        s.create(&t, Some("default"), cm("a", "1")).unwrap();
        s.delete(&ns, None, "team").unwrap();
        assert_eq!(s.get(&t, "team", "a").unwrap_err().code, 404);
        assert!(s.get(&t, "default", "a").is_ok());
        assert_eq!(s.get(&ns, "", "team").unwrap_err().code, 404);
    }

    #[test]
    fn watch_history_resumes_or_is_gone() {
        let mut s = state();
        let t = ty(&s, "ConfigMap");
        let start = s.resource_version();
        s.create(&t, Some("default"), cm("a", "1")).unwrap();
        s.update(&t, Some("default"), "a", cm("a", "2"), false).unwrap();
        let events = s.events_since(start).unwrap();
        assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventType::Added, EventType::Modified]);
        for i in 0..HISTORY_LIMIT + 5 {
            s.update(&t, Some("default"), "a", cm("a", &i.to_string()), false).unwrap();
        }
        assert_eq!(s.events_since(start).unwrap_err().code, 410);
    }

    #[test]
    fn crds_serve_their_kind_once_established() {
        let mut s = state();
        let crd_t = ty(&s, "CustomResourceDefinition");
        let crd = json!({"metadata": {"name": "widgets.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        s.create(&crd_t, None, crd).unwrap();
        assert!(s.find_type("example.com", "v1", "widgets").is_none(), "not before Established");
        s.establish_crd(&crd_t, "widgets.example.com");
        let w = s.find_type("example.com", "v1", "widgets").expect("served");
        s.create(&w, Some("default"), json!({"metadata": {"name": "w1"}, "spec": {"size": 1}})).unwrap();
        let crd_now = s.get(&crd_t, "", "widgets.example.com").unwrap();
        assert_eq!(crd_now["status"]["conditions"][1]["type"], "Established");
        s.delete(&crd_t, None, "widgets.example.com").unwrap();
        assert!(s.find_type("example.com", "v1", "widgets").is_none());
    }
}
