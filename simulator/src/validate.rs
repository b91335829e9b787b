//! Validation and defaulting of objects before they are stored: what kube-apiserver would
//! refuse with 422 Invalid (or 400 BadRequest), this refuses too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use crate::api_error::{ApiError, ApiResult};
use crate::kinds::{ResourceType, Workload};

type Causes = Vec<(String, String)>;

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Label values: at most 63 of `[A-Za-z0-9_.-]`, starting and ending alphanumeric (or empty).
fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

fn is_config_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 253 && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Checks `obj` for `ty`, and fills in what the API server fills in. `namespace` is the
/// namespace of the request path (namespaced types only).
pub fn prepare(ty: &ResourceType, namespace: Option<&str>, obj: &mut Value) -> ApiResult<()> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    };
    let expected_av = ty.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(av) if av != expected_av => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({expected_av})"
            )));
        }
        _ => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if k != ty.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                ty.kind
            )));
        }
        _ => {}
    }
    map.insert("apiVersion".into(), json!(expected_av));
    map.insert("kind".into(), json!(ty.kind));
    let metadata = map.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = metadata.as_object_mut() else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    if ty.namespaced {
        match (meta.get("namespace").and_then(Value::as_str), namespace) {
            (Some(in_body), Some(in_path)) if in_body != in_path => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (_, Some(in_path)) => {
                meta.insert("namespace".into(), json!(in_path));
            }
            _ => {}
        }
    } else {
        meta.remove("namespace");
    }

    let name = meta.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
    let mut causes: Causes = Vec::new();
    check_metadata(ty, &name, meta, &mut causes);
    check_kind(ty, &name, map, &mut causes);
    if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(&ty.kind, &name, causes)) }
}

fn check_metadata(ty: &ResourceType, name: &str, meta: &Map<String, Value>, causes: &mut Causes) {
    if name.is_empty() {
        causes.push(("metadata.name".into(), "Required value: name or generateName is required".into()));
    } else {
        let ok = match ty.kind.as_str() {
            "Namespace" => is_dns_label(name),
            "Service" => is_dns_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()),
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
                !name.contains('/') && !name.contains('%') && name != "." && name != ".."
            }
            _ => is_dns_subdomain(name),
        };
        if !ok {
            causes.push((
                "metadata.name".into(),
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 name must consist of lower case alphanumeric \
                     characters, '-' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
    }
    for field in ["labels", "annotations"] {
        match meta.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let Some(v) = v.as_str() else {
                        causes.push((
                            format!("metadata.{field}"),
                            format!("Invalid value: values must be strings ({k})"),
                        ));
                        continue;
                    };
                    if !is_label_key(k) {
                        causes.push((format!("metadata.{field}"), format!("Invalid value: \"{k}\": invalid key")));
                    } else if field == "labels" && !is_label_value(v) {
                        causes.push((
                            "metadata.labels".into(),
                            format!("Invalid value: \"{v}\": a valid label must be 63 characters or less, alphanumeric, '-', '_' or '.'"),
                        ));
                    }
                }
            }
            Some(_) => causes.push((format!("metadata.{field}"), "Invalid value: must be an object".into())),
        }
    }
}

fn check_kind(ty: &ResourceType, name: &str, obj: &mut Map<String, Value>, causes: &mut Causes) {
    match ty.kind.as_str() {
        "ConfigMap" => check_configmap(obj, causes),
        "Secret" => check_secret(obj, causes),
        "Namespace" => {
            obj.insert("status".into(), json!({ "phase": "Active" }));
            obj.entry("spec").or_insert_with(|| json!({ "finalizers": ["kubernetes"] }));
        }
        "Service" => check_service(obj, causes),
        "ResourceQuota" if !obj.get("spec").and_then(|s| s.get("hard")).is_none_or(Value::is_object) => {
            causes.push(("spec.hard".into(), "Invalid value: must be a map of resource quantities".into()));
        }
        "LimitRange" if !obj["spec"]["limits"].is_array() => {
            causes.push(("spec.limits".into(), "Required value".into()));
        }
        "Role" | "ClusterRole" => check_rules(obj, causes),
        "RoleBinding" | "ClusterRoleBinding" => check_binding(obj, causes),
        "NetworkPolicy" if !obj["spec"]["podSelector"].is_object() => {
            causes.push(("spec.podSelector".into(), "Required value".into()));
        }
        "CustomResourceDefinition" => check_crd(name, obj, causes),
        _ => {}
    }
    if let Some(w) = ty.workload {
        check_workload(w, obj, causes);
    }
}

fn check_configmap(obj: &Map<String, Value>, causes: &mut Causes) {
    if let Some(data) = obj.get("data").filter(|d| !d.is_null()) {
        match data.as_object() {
            Some(m) => {
                for (k, v) in m {
                    if !is_config_key(k) {
                        causes.push((format!("data[{k}]"), "Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'".into()));
                    } else if !v.is_string() {
                        causes.push((format!("data[{k}]"), "Invalid value: must be a string".into()));
                    }
                }
            }
            None => causes.push(("data".into(), "Invalid value: must be a map of strings".into())),
        }
    }
    if let Some(Value::Object(m)) = obj.get("binaryData") {
        for (k, v) in m {
            if v.as_str().is_none_or(|s| B64.decode(s).is_err()) {
                causes.push((format!("binaryData[{k}]"), "Invalid value: must be base64".into()));
            }
        }
    }
}

fn check_secret(obj: &mut Map<String, Value>, causes: &mut Causes) {
    let mut data = match obj.remove("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            causes.push(("data".into(), "Invalid value: must be a map of base64 strings".into()));
            Map::new()
        }
    };
    for (k, v) in &data {
        if !is_config_key(k) {
            causes.push((format!("data[{k}]"), "Invalid value: invalid key".into()));
        } else if v.as_str().is_none_or(|s| B64.decode(s).is_err()) {
            causes.push((format!("data[{k}]"), "Invalid value: must be base64-encoded".into()));
        }
    }
    if let Some(string_data) = obj.remove("stringData") {
        match string_data {
            Value::Object(m) => {
                for (k, v) in m {
                    match v.as_str() {
                        Some(s) if is_config_key(&k) => {
                            data.insert(k, json!(B64.encode(s)));
                        }
                        _ => causes.push((
                            format!("stringData[{k}]"),
                            "Invalid value: must be a string with a valid key".into(),
                        )),
                    }
                }
            }
            Value::Null => {}
            _ => causes.push(("stringData".into(), "Invalid value: must be a map of strings".into())),
        }
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    obj.entry("type").or_insert_with(|| json!("Opaque"));
}

fn check_service(obj: &mut Map<String, Value>, causes: &mut Causes) {
    let spec = obj.entry("spec").or_insert_with(|| json!({}));
    let Some(spec) = spec.as_object_mut() else {
        causes.push(("spec".into(), "Invalid value: must be an object".into()));
        return;
    };
    let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
    match spec.get("ports").and_then(Value::as_array) {
        Some(ports) if !ports.is_empty() => {
            for (i, p) in ports.iter().enumerate() {
                if !p["port"].as_u64().is_some_and(|n| (1..=65535).contains(&n)) {
                    causes.push((
                        format!("spec.ports[{i}].port"),
                        "Invalid value: must be between 1 and 65535, inclusive".into(),
                    ));
                }
            }
        }
        _ if external => {}
        _ => causes.push(("spec.ports".into(), "Required value".into())),
    }
    spec.entry("type").or_insert_with(|| json!("ClusterIP"));
    if !external && !spec.contains_key("clusterIP") {
        let ip = format!("10.96.{}.{}", rand::random::<u8>(), rand::random::<u8>().max(1));
        spec.insert("clusterIP".into(), json!(ip));
    }
}

fn check_rules(obj: &Map<String, Value>, causes: &mut Causes) {
    if let Some(rules) = obj.get("rules").filter(|r| !r.is_null()) {
        let Some(rules) = rules.as_array() else {
            causes.push(("rules".into(), "Invalid value: must be a list".into()));
            return;
        };
        for (i, r) in rules.iter().enumerate() {
            if r["verbs"].as_array().is_none_or(Vec::is_empty) {
                causes.push((
                    format!("rules[{i}].verbs"),
                    "Required value: verbs must contain at least one value".into(),
                ));
            }
        }
    }
}

fn check_binding(obj: &Map<String, Value>, causes: &mut Causes) {
    let role_ref = obj.get("roleRef").cloned().unwrap_or(Value::Null);
    match role_ref["kind"].as_str() {
        Some("Role" | "ClusterRole") => {}
        _ => causes
            .push(("roleRef.kind".into(), "Unsupported value: supported values: \"Role\", \"ClusterRole\"".into())),
    }
    if role_ref["name"].as_str().is_none_or(str::is_empty) {
        causes.push(("roleRef.name".into(), "Required value".into()));
    }
    if role_ref["apiGroup"].as_str() != Some("rbac.authorization.k8s.io") {
        causes.push((
            "roleRef.apiGroup".into(),
            "Unsupported value: supported values: \"rbac.authorization.k8s.io\"".into(),
        ));
    }
}

fn check_crd(name: &str, obj: &mut Map<String, Value>, causes: &mut Causes) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let group = spec["group"].as_str().unwrap_or("");
    let plural = spec["names"]["plural"].as_str().unwrap_or("");
    if group.is_empty() || !group.contains('.') {
        causes.push(("spec.group".into(), "Invalid value: should be a domain with at least one dot".into()));
    }
    if plural.is_empty() {
        causes.push(("spec.names.plural".into(), "Required value".into()));
    }
    if spec["names"]["kind"].as_str().is_none_or(str::is_empty) {
        causes.push(("spec.names.kind".into(), "Required value".into()));
    }
    if name != format!("{plural}.{group}") {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    if !matches!(spec["scope"].as_str(), Some("Namespaced" | "Cluster")) {
        causes.push(("spec.scope".into(), "Unsupported value: supported values: \"Cluster\", \"Namespaced\"".into()));
    }
    match spec["versions"].as_array() {
        Some(v) if !v.is_empty() => {
            if v.iter().filter(|x| x["storage"].as_bool() == Some(true)).count() != 1 {
                causes.push((
                    "spec.versions".into(),
                    "Invalid value: must have exactly one version marked as storage version".into(),
                ));
            }
        }
        _ => causes.push(("spec.versions".into(), "Required value: must have at least one version".into())),
    }
}

fn check_workload(kind: Workload, obj: &mut Map<String, Value>, causes: &mut Causes) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        causes.push(("spec".into(), "Required value".into()));
        return;
    };
    if kind != Workload::DaemonSet {
        match spec.get("replicas") {
            None | Some(Value::Null) => {
                spec.insert("replicas".into(), json!(1));
            }
            Some(r) if r.as_u64().is_none() => {
                causes.push(("spec.replicas".into(), "Invalid value: must be greater than or equal to 0".into()));
            }
            _ => {}
        }
    }
    let selector = spec.get("selector").and_then(|s| s.get("matchLabels")).and_then(Value::as_object).cloned();
    let template_labels = spec["template"]["metadata"]["labels"].as_object().cloned().unwrap_or_default();
    match selector {
        None if spec.get("selector").and_then(|s| s.get("matchExpressions")).is_none() => {
            causes.push(("spec.selector".into(), "Required value".into()));
        }
        Some(sel) if !sel.iter().all(|(k, v)| template_labels.get(k) == Some(v)) => causes.push((
            "spec.template.metadata.labels".into(),
            "Invalid value: `selector` does not match template `labels`".into(),
        )),
        _ => {}
    }
    match spec["template"]["spec"]["containers"].as_array() {
        Some(cs) if !cs.is_empty() => {
            for (i, c) in cs.iter().enumerate() {
                if c["name"].as_str().is_none_or(|n| !is_dns_label(n)) {
                    causes.push((format!("spec.template.spec.containers[{i}].name"), "Required value".into()));
                }
                if c["image"].as_str().is_none_or(str::is_empty) {
                    causes.push((format!("spec.template.spec.containers[{i}].image"), "Required value".into()));
                }
            }
        }
        _ => causes.push(("spec.template.spec.containers".into(), "Required value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::builtin;

    fn ty(kind: &str) -> ResourceType {
        builtin().into_iter().find(|t| t.kind == kind).unwrap()
    }

    fn deployment(labels: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}}})
    }

    #[test]
    fn fills_in_type_namespace_and_defaults() {
        let mut d = deployment(json!({"app": "web"}));
        prepare(&ty("Deployment"), Some("team"), &mut d).unwrap();
        assert_eq!(d["apiVersion"], "apps/v1");
        assert_eq!(d["metadata"]["namespace"], "team");
        assert_eq!(d["spec"]["replicas"], 1);
    }

    #[test]
    fn refuses_what_the_api_server_refuses() {
        let mut d = deployment(json!({"app": "other"}));
        let e = prepare(&ty("Deployment"), Some("team"), &mut d).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert!(e.message.contains("selector` does not match"), "{}", e.message);

        let mut cm = json!({"metadata": {"name": "Bad_Name"}, "data": {"k": 1}});
        let e = prepare(&ty("ConfigMap"), Some("x"), &mut cm).unwrap_err();
        assert!(e.message.contains("metadata.name") && e.message.contains("data[k]"), "{}", e.message);

        let mut s = json!({"metadata": {"name": "s"}, "data": {"k": "not base64!"}});
        assert_eq!(prepare(&ty("Secret"), Some("x"), &mut s).unwrap_err().code, 422);

        let mut wrong = json!({"apiVersion": "v2", "metadata": {"name": "x"}});
        assert_eq!(prepare(&ty("ConfigMap"), Some("x"), &mut wrong).unwrap_err().code, 400);
        let mut other_ns = json!({"metadata": {"name": "x", "namespace": "a"}});
        assert_eq!(prepare(&ty("ConfigMap"), Some("b"), &mut other_ns).unwrap_err().code, 400);
        assert_eq!(prepare(&ty("ConfigMap"), Some("b"), &mut json!([1])).unwrap_err().code, 400);

        let mut bad_label = json!({"metadata": {"name": "x", "labels": {"a": "has space"}}});
        assert_eq!(prepare(&ty("ConfigMap"), Some("b"), &mut bad_label).unwrap_err().code, 422);
    }

    #[test]
    fn secrets_fold_string_data_into_base64_data() {
        let mut s = json!({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}});
        prepare(&ty("Secret"), Some("x"), &mut s).unwrap();
        assert_eq!(s["data"]["password"], B64.encode("hunter2"));
        assert!(s.get("stringData").is_none());
        assert_eq!(s["type"], "Opaque");
    }

    #[test]
    fn crd_names_must_agree() {
        let mut crd = json!({"metadata": {"name": "widgets.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        prepare(&ty("CustomResourceDefinition"), None, &mut crd).unwrap();
        crd["metadata"]["name"] = json!("gadgets.example.com");
        assert_eq!(prepare(&ty("CustomResourceDefinition"), None, &mut crd).unwrap_err().code, 422);
    }
}
