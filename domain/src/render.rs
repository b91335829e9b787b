//! Rendering a federated resource for one cluster: the template, its namespace forced to
//! the project's, the cluster's overrides, and Flotilla's labels and annotations (resource
//! id, revision, content hash). Deterministic: the same input gives the same bytes and hash.

use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::kinds::is_cluster_scoped;
use crate::overrides::{self, OverridePatch};
use crate::{Error, Result};

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "flotilla";
pub const RESOURCE_ID_ANNOTATION: &str = "flotilla.io/resource-id";
pub const REVISION_ANNOTATION: &str = "flotilla.io/revision";
pub const HASH_ANNOTATION: &str = "flotilla.io/content-hash";
/// The label selector that finds every object Flotilla manages in a member.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=flotilla";

/// Fields the API server owns; a template may carry them (pasted from `kubectl get -o
/// yaml`), the rendered object never does.
const SERVER_METADATA: [&str; 7] =
    ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp"];

/// Which object in a member cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Checks a template as a user gives it and returns what it names. `project` is the
/// project's namespace for namespaced resources, `None` for a workspace's cluster-scoped
/// resources.
pub fn validate_template(template: &Value, project: Option<&str>) -> Result<ObjectKey> {
    let obj = template.as_object().ok_or_else(|| Error::invalid("template", "the template must be an object"))?;
    let text = |field: &str| obj.get(field).and_then(Value::as_str).filter(|s| !s.is_empty());
    let api_version = text("apiVersion").ok_or_else(|| Error::invalid("template", "`apiVersion` is required"))?;
    let kind = text("kind").ok_or_else(|| Error::invalid("template", "`kind` is required"))?;
    let meta = obj.get("metadata").and_then(Value::as_object);
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("template", "`metadata.name` is required"))?;
    check_object_name(name)?;
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Value::as_str);
    let scoped = is_cluster_scoped(api_version, kind);
    match project {
        Some(project) => {
            if kind == "Namespace" && api_version == "v1" {
                return Err(Error::invalid("template", "a project's namespace is managed by the project itself"));
            }
            if scoped == Some(true) {
                return Err(Error::invalid("template", format!("{kind} is cluster-scoped: add it to the workspace")));
            }
            if let Some(ns) = namespace.filter(|ns| *ns != project) {
                return Err(Error::invalid(
                    "template",
                    format!("`metadata.namespace` is `{ns}` but this project's namespace is `{project}`"),
                ));
            }
            Ok(key(api_version, kind, Some(project), name))
        }
        None => {
            if scoped == Some(false) || namespace.is_some() {
                return Err(Error::invalid("template", format!("{kind} is namespaced: add it to a project")));
            }
            Ok(key(api_version, kind, None, name))
        }
    }
}

fn key(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectKey {
    ObjectKey {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    }
}

/// A DNS subdomain: at most 253 lowercase alphanumerics, `-` and `.`, starting and ending
/// alphanumeric (the rule for most object names; RBAC names allow `:` too).
fn check_object_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b':'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "template",
            format!(
                "`metadata.name` `{name}` must be lowercase letters, digits, `-` or `.`, start and end alphanumeric"
            ),
        ))
    }
}

/// Everything rendering needs for one (resource, cluster).
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    pub resource_id: &'a str,
    pub revision: i64,
    pub template: &'a Value,
    /// The cluster's overrides (empty when it has none).
    pub overrides: &'a [OverridePatch],
    /// The project namespace for namespaced resources; `None` for cluster-scoped ones.
    pub namespace: Option<&'a str>,
}

/// The object to apply to one member, with its content hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub key: ObjectKey,
    pub object: Value,
    pub hash: String,
}

/// Renders a resource for one cluster.
pub fn render(input: &RenderInput<'_>) -> Result<Rendered> {
    let mut object = input.template.clone();
    let obj = object.as_object_mut().ok_or_else(|| Error::invalid("template", "the template must be an object"))?;
    obj.remove("status");
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let meta = meta.as_object_mut().ok_or_else(|| Error::invalid("template", "`metadata` must be an object"))?;
    for field in SERVER_METADATA {
        meta.remove(field);
    }
    match input.namespace {
        Some(ns) => meta.insert("namespace".into(), Value::String(ns.to_owned())),
        None => meta.remove("namespace"),
    };
    overrides::apply(&mut object, input.overrides)?;

    let meta = object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Error::invalid("overrides", "an override removed `metadata`"))?;
    string_map(meta, "labels")?.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    let annotations = string_map(meta, "annotations")?;
    annotations.insert(RESOURCE_ID_ANNOTATION.into(), input.resource_id.into());
    annotations.insert(REVISION_ANNOTATION.into(), input.revision.to_string().into());
    annotations.remove(HASH_ANNOTATION);

    let hash = content_hash(&object);
    if let Some(a) = object.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        a.insert(HASH_ANNOTATION.into(), Value::String(hash.clone()));
    }
    let get = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    let key = ObjectKey {
        api_version: get("/apiVersion"),
        kind: get("/kind"),
        namespace: input.namespace.map(str::to_owned),
        name: get("/metadata/name"),
    };
    Ok(Rendered { key, object, hash })
}

fn string_map<'m>(meta: &'m mut Map<String, Value>, field: &'static str) -> Result<&'m mut Map<String, Value>> {
    let entry = meta.entry(field).or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().ok_or_else(|| Error::invalid("template", format!("`metadata.{field}` must be a map")))
}

/// SHA-256 of the canonical JSON (keys sorted, no spaces), first 128 bits in hex.
pub fn content_hash(value: &Value) -> String {
    let mut bytes = Vec::with_capacity(512);
    canonical_json(value, &mut bytes);
    let digest = Sha256::digest(&bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `value` as JSON with object keys in byte order, whatever order the map keeps.
pub fn canonical_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(k.clone()), out);
                out.push(b':');
                canonical_json(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serialising a scalar cannot fail.
    out.extend_from_slice(serde_json::to_string(value).unwrap_or_default().as_bytes());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn configmap() -> Value {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "whatever", "uid": "u-1", "resourceVersion": "7",
                         "labels": {"team": "payments"}},
            "data": {"mode": "fast", "level": "3"},
            "status": {"ignored": true}
        })
    }

    fn input<'a>(template: &'a Value, overrides: &'a [OverridePatch]) -> RenderInput<'a> {
        RenderInput { resource_id: "r-1", revision: 4, template, overrides, namespace: Some("payments") }
    }

    #[test]
    fn forces_namespace_strips_server_fields_and_marks_ownership() {
        let t = configmap();
        let r = render(&input(&t, &[])).unwrap();
        assert_eq!(r.key.to_string(), "ConfigMap payments/settings");
        let m = &r.object["metadata"];
        assert_eq!(m["namespace"], "payments");
        assert!(m.get("uid").is_none() && m.get("resourceVersion").is_none());
        assert!(r.object.get("status").is_none());
        assert_eq!(m["labels"], json!({"team": "payments", MANAGED_BY_LABEL: MANAGED_BY_VALUE}));
        assert_eq!(m["annotations"][RESOURCE_ID_ANNOTATION], "r-1");
        assert_eq!(m["annotations"][REVISION_ANNOTATION], "4");
        assert_eq!(m["annotations"][HASH_ANNOTATION], r.hash.as_str());
        assert_eq!(r.hash.len(), 32);
    }

    #[test]
    fn deterministic_whatever_the_key_order() {
        let a = configmap();
        let b: Value = serde_json::from_str(
            r#"{"data":{"level":"3","mode":"fast"},"kind":"ConfigMap","apiVersion":"v1",
                "metadata":{"labels":{"team":"payments"},"name":"settings"}}"#,
        )
        .unwrap();
        let (ra, rb) = (render(&input(&a, &[])).unwrap(), render(&input(&b, &[])).unwrap());
        assert_eq!(ra.hash, rb.hash);
        let (mut ba, mut bb) = (Vec::new(), Vec::new());
        canonical_json(&ra.object, &mut ba);
        canonical_json(&rb.object, &mut bb);
        assert_eq!(ba, bb);
    }

    #[test]
    fn hash_changes_with_content_overrides_and_revision() {
        let t = configmap();
        let base = render(&input(&t, &[])).unwrap().hash;
        let patch = [OverridePatch::replace("/data/mode", json!("slow"))];
        let overridden = render(&input(&t, &patch)).unwrap();
        assert_ne!(overridden.hash, base);
        assert_eq!(overridden.object["data"]["mode"], "slow");
        let next = render(&RenderInput { revision: 5, ..input(&t, &[]) }).unwrap().hash;
        assert_ne!(next, base);
        // A stale hash annotation in the template does not feed into the hash.
        let mut stale = t.clone();
        stale["metadata"]["annotations"] = json!({HASH_ANNOTATION: "0000"});
        assert_eq!(render(&input(&stale, &[])).unwrap().hash, base);
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace() {
        let t = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments", "namespace": "x"}});
        let r = render(&RenderInput { namespace: None, ..input(&t, &[]) }).unwrap();
        assert!(r.object["metadata"].get("namespace").is_none());
        assert_eq!(r.key.namespace, None);
    }

    #[test]
    fn an_override_that_fails_is_an_error_not_a_partial_object() {
        let t = configmap();
        let e = render(&input(&t, &[OverridePatch::remove("/data/absent")])).unwrap_err();
        assert_eq!(e.field(), "overrides");
    }

    #[test]
    fn templates_are_checked_for_their_scope() {
        let cm = configmap();
        assert_eq!(validate_template(&cm, Some("whatever")).unwrap().to_string(), "ConfigMap whatever/settings");
        assert!(validate_template(&cm, Some("payments")).unwrap_err().to_string().contains("namespace is `payments`"));
        assert!(validate_template(&cm, None).unwrap_err().to_string().contains("add it to a project"));
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "viewer"}});
        assert!(validate_template(&role, None).is_ok());
        assert!(validate_template(&role, Some("p")).unwrap_err().to_string().contains("add it to the workspace"));
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "p"}});
        assert!(validate_template(&ns, Some("p")).is_err());
        assert!(validate_template(&json!({"kind": "X"}), None).unwrap_err().to_string().contains("apiVersion"));
        let bad_name = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}});
        assert!(validate_template(&bad_name, Some("p")).unwrap_err().to_string().contains("Bad_Name"));
        assert!(validate_template(&json!([1]), None).is_err());
    }
}
