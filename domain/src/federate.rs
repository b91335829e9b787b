//! Turning what already runs in a member's namespace into a project's federated resources
//! (what `kubefedctl federate --contents` does): which objects are taken, what of each is
//! kept as the template, and when an existing object already holds what Flotilla would
//! write (then it is adopted as it is, with no write).
//!
//! Taken: the namespaced kinds a project holds (the standard kinds of
//! [`crate::join::STANDARD_NAMESPACED`]), as the member serves them. Left out: what the
//! cluster or a controller made (objects with an owner, the `default` ServiceAccount, the
//! `kube-root-ca.crt` ConfigMap, service-account token Secrets, Flotilla's own objects).
//! Stripped: status, server-set metadata (uid, resourceVersion, generation, timestamps,
//! managed fields, owners, finalizers, the namespace), annotations tools write about the
//! object rather than into it (`kubectl.kubernetes.io/last-applied-configuration`,
//! `deployment.kubernetes.io/revision`, volume binding annotations), and fields the member
//! allocates (a Service's cluster IPs, a bound claim's volume name, a Job's generated
//! selector and labels).

use serde_json::{Map, Value};

use crate::kinds::ServedType;
use crate::render::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// What happens to one object of the namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Federated with this template.
    Take(Value),
    /// Left where it is, for this reason.
    Skip(String),
}

/// Annotations written about an object by tools and controllers.
fn is_tool_annotation(key: &str) -> bool {
    key == "deployment.kubernetes.io/revision"
        || key.starts_with("pv.kubernetes.io/")
        || key.starts_with("volume.kubernetes.io/")
        || key.starts_with("volume.beta.kubernetes.io/")
        || key.starts_with("flotilla.io/")
}

/// Labels a Job's controller adds to the Job and its pod template.
const JOB_LABELS: [&str; 4] =
    ["controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"];

/// Whether to federate `object` (as the member holds it), and its template if so.
pub fn verdict(object: &Value) -> Verdict {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    if object.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|o| !o.is_empty()) {
        return Verdict::Skip("made by a controller (it has an owner)".into());
    }
    if object.pointer(&format!("/metadata/labels/{}", MANAGED_BY_LABEL.replace('/', "~1"))).and_then(Value::as_str)
        == Some(MANAGED_BY_VALUE)
    {
        return Verdict::Skip("already Flotilla's".into());
    }
    match (kind, name) {
        ("ServiceAccount", "default") => return Verdict::Skip("every namespace has it".into()),
        ("ConfigMap", "kube-root-ca.crt") => return Verdict::Skip("published by the cluster".into()),
        ("Secret", _) if text("/type") == "kubernetes.io/service-account-token" => {
            return Verdict::Skip("a service account token, made by the cluster".into());
        }
        _ => {}
    }
    Verdict::Take(template(object))
}

/// `object` without what the server set.
pub fn template(object: &Value) -> Value {
    let mut t = object.clone();
    crate::resource::strip_server_fields(&mut t);
    let Some(map) = t.as_object_mut() else { return t };
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        // The project sets the namespace; finalizers belong to the member's controllers.
        meta.remove("namespace");
        meta.remove("finalizers");
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.retain(|k, _| !is_tool_annotation(k));
        }
        drop_if_empty(meta, "annotations");
        drop_if_empty(meta, "labels");
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("").to_owned();
    let job = kind == "Job" && t.pointer("/spec/manualSelector").and_then(Value::as_bool) != Some(true);
    if let Some(spec) = t.get_mut("spec").and_then(Value::as_object_mut) {
        let allocated: &[&str] = match kind.as_str() {
            "Service" => &["clusterIP", "clusterIPs", "healthCheckNodePort"],
            "PersistentVolumeClaim" => &["volumeName"],
            _ if job => &["selector"],
            _ => &[],
        };
        for field in allocated {
            spec.remove(*field);
        }
    }
    if job {
        for labels in ["/metadata/labels", "/spec/template/metadata/labels"] {
            if let Some(labels) = t.pointer_mut(labels).and_then(Value::as_object_mut) {
                labels.retain(|k, _| !JOB_LABELS.contains(&k.as_str()));
            }
        }
    }
    t
}

fn drop_if_empty(meta: &mut Map<String, Value>, field: &str) {
    if meta.get(field).and_then(Value::as_object).is_some_and(Map::is_empty) {
        meta.remove(field);
    }
}

/// Whether `existing` (a member's object) already holds all of `desired` (what Flotilla
/// renders), Flotilla's own marks aside (its managed-by label, `flotilla.io/` labels and
/// annotations): then adopting it needs no write. Fields the member added (defaults, status,
/// server metadata) do not count; a field of `desired` missing or different does.
pub fn already_holds(existing: &Value, desired: &Value) -> bool {
    let (Some(existing), Some(desired)) = (existing.as_object(), desired.as_object()) else { return false };
    desired.iter().all(|(k, d)| match k.as_str() {
        "metadata" => metadata_holds(existing.get("metadata"), d),
        "status" => true,
        _ => existing.get(k).is_some_and(|e| contains(e, d)),
    })
}

fn metadata_holds(existing: Option<&Value>, desired: &Value) -> bool {
    let field = |v: Option<&Value>, f: &str| v.and_then(|m| m.get(f)).cloned().unwrap_or(Value::Null);
    let ours = |k: &str| k == MANAGED_BY_LABEL || k.starts_with("flotilla.io/");
    ["name", "namespace"].iter().all(|f| field(existing, f) == field(Some(desired), f))
        && ["labels", "annotations"].iter().all(|f| {
            let existing = field(existing, f);
            let desired = field(Some(desired), f);
            desired.as_object().into_iter().flatten().filter(|(k, _)| !ours(k)).all(|(k, v)| existing.get(k) == Some(v))
        })
}

/// `have` holds every field of `want` (objects: a subset, recursively; lists: the same
/// length, item by item; anything else: equal).
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, wv)| match h.get(k) {
            Some(hv) => contains(hv, wv),
            None => wv.is_null(),
        }),
        (Value::Array(h), Value::Array(w)) => h.len() == w.len() && h.iter().zip(w).all(|(h, w)| contains(h, w)),
        (Value::Number(h), Value::Number(w)) => h.as_f64() == w.as_f64(),
        _ => have == want,
    }
}

/// Of the versions a member serves a kind at (`group`, `plural`), the one to read: stable
/// before beta before alpha, the highest number first (`v2` before `v1`).
pub fn preferred<'a>(types: &'a [ServedType], group: &str, plural: &str) -> Option<&'a ServedType> {
    types.iter().filter(|t| t.group() == group && t.plural == plural).max_by_key(|t| version_rank(t.version()))
}

/// Kubernetes' ordering of versions: GA, then beta, then alpha, each by number.
fn version_rank(version: &str) -> (u8, u32, u32) {
    let Some(rest) = version.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let minor = |t: &str| t.parse().unwrap_or(0);
    match tail {
        "" => (3, major, 0),
        t if t.starts_with("beta") => (2, major, minor(&t[4..])),
        t if t.starts_with("alpha") => (1, major, minor(&t[5..])),
        _ => (0, major, 0),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_fields_go_and_what_the_author_wrote_stays() {
        let live = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}],
                         "labels": {"app": "web"},
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"]},
            "status": {"loadBalancer": {}}
        });
        let Verdict::Take(t) = verdict(&live) else { panic!() };
        assert_eq!(
            t,
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"team": "a"}},
                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        );
        // What was kept is held by the live object: adopting it needs no write.
        let mut rendered = t.clone();
        rendered["metadata"]["namespace"] = json!("shop");
        rendered["metadata"]["labels"][MANAGED_BY_LABEL] = json!(MANAGED_BY_VALUE);
        rendered["metadata"]["annotations"]["flotilla.io/resource-id"] = json!("r1");
        assert!(already_holds(&live, &rendered));
        rendered["spec"]["ports"][0]["port"] = json!(8080);
        assert!(!already_holds(&live, &rendered), "a changed port is a change");
    }

    #[test]
    fn what_the_cluster_or_a_controller_made_is_left() {
        let skip = |o: Value| matches!(verdict(&o), Verdict::Skip(_));
        assert!(skip(json!({"kind": "ServiceAccount", "metadata": {"name": "default"}})));
        assert!(skip(json!({"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}})));
        assert!(skip(
            json!({"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {"name": "t"}})
        ));
        assert!(skip(json!({"kind": "Deployment", "metadata": {"name": "d", "ownerReferences": [{"kind": "X"}]}})));
        assert!(skip(
            json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}}})
        ));
        assert!(!skip(json!({"kind": "ServiceAccount", "metadata": {"name": "builder"}})));
    }

    #[test]
    fn a_jobs_generated_selector_and_labels_go() {
        let job = json!({"kind": "Job", "metadata": {"name": "j", "labels": {"job-name": "j", "team": "a"}},
            "spec": {"selector": {"matchLabels": {"controller-uid": "x"}},
                     "template": {"metadata": {"labels": {"controller-uid": "x", "job-name": "j", "app": "j"}}}}});
        let t = template(&job);
        assert_eq!(t["spec"], json!({"template": {"metadata": {"labels": {"app": "j"}}}}));
        assert_eq!(t["metadata"]["labels"], json!({"team": "a"}));
    }

    #[test]
    fn defaults_the_member_added_do_not_count_but_missing_fields_do() {
        let live = json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"a": "1"}},
                          "data": {"k": "v"}, "immutable": false});
        assert!(already_holds(
            &live,
            &json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "v"}})
        ));
        assert!(!already_holds(
            &live,
            &json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"b": "2"}}})
        ));
        assert!(!already_holds(
            &live,
            &json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "w"}})
        ));
        assert!(!already_holds(&live, &json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}})));
    }

    #[test]
    fn the_preferred_version_is_the_most_stable_and_newest() {
        let t = |v: &str| ServedType {
            api_version: format!("autoscaling/{v}"),
            kind: "HorizontalPodAutoscaler".into(),
            plural: "horizontalpodautoscalers".into(),
            namespaced: true,
        };
        let types = [t("v2beta2"), t("v1"), t("v2"), t("v3alpha1")];
        assert_eq!(preferred(&types, "autoscaling", "horizontalpodautoscalers").unwrap().api_version, "autoscaling/v2");
        assert_eq!(preferred(&types, "apps", "deployments"), None);
    }
}
