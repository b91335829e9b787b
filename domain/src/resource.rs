//! The rules a federated resource's definition passes before it is stored, whoever saves it
//! (a form, the YAML editor, a revert, the group-rule reconciler): the template names an
//! object that fits its home, the placement and overrides are well-formed and apply to the
//! template, a Secret's values are not overridden per cluster, and a Secret's values are
//! split from its template (the store encrypts them apart).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::limits::{MAX_TEMPLATE_BYTES, size_text};
use crate::render::validate_template;
use crate::{ClusterOverride, Error, ObjectKey, Placement, Result, overrides};

/// A definition that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedResource {
    /// The object it names in members.
    pub key: ObjectKey,
    /// The template, without a Secret's values.
    pub template: Value,
    /// A Secret's values (`data` and `stringData` merged, as base64), `None` for other kinds
    /// or a Secret that carried neither.
    pub secret_values: Option<BTreeMap<String, String>>,
}

/// Checks a definition for its home: `namespace` is the project's namespace for a project's
/// resources, `None` for a workspace's cluster-scoped ones. Errors name the field.
pub fn check_resource(
    template: &Value,
    placement: &Placement,
    overrides: &[ClusterOverride],
    namespace: Option<&str>,
) -> Result<CheckedResource> {
    for (field, what, value) in
        [("template", "object", template), ("overrides", "overrides", &serde_json::json!(overrides))]
    {
        let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
        if size > MAX_TEMPLATE_BYTES {
            return Err(Error::invalid(
                field,
                format!(
                    "the {what} is {} as JSON, more than the {} one resource may hold",
                    size_text(size),
                    size_text(MAX_TEMPLATE_BYTES)
                ),
            ));
        }
    }
    let key = validate_template(template, namespace)?;
    placement.resolve()?;
    let is_secret = key.api_version == "v1" && key.kind == "Secret";
    if is_secret {
        let touches_values = overrides
            .iter()
            .flat_map(|o| &o.patches)
            .any(|p| p.path.starts_with("/data") || p.path.starts_with("/stringData"));
        if touches_values {
            return Err(Error::invalid("overrides", "Secret values cannot be overridden per cluster"));
        }
    }
    overrides::validate(template, overrides)?;
    let mut template = template.clone();
    strip_server_fields(&mut template);
    let secret_values = if is_secret { split_secret_values(&mut template)? } else { None };
    Ok(CheckedResource { key, template, secret_values })
}

/// The annotation `kubectl apply` leaves on an object: the whole object as last applied, a
/// Secret's values included, in plain text.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Removes what a cluster wrote into an object (as `kubectl get -o yaml` shows it) and is not
/// part of what a user asks for: `status`, `managedFields`, the uid, versions and timestamps,
/// owner references (to objects of that cluster), and `kubectl apply`'s copy of the object —
/// which for a Secret holds its values unencrypted, and would be shown to every viewer.
pub fn strip_server_fields(object: &mut Value) {
    let Some(obj) = object.as_object_mut() else { return };
    obj.remove("status");
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    for field in [
        "managedFields",
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "ownerReferences",
    ] {
        meta.remove(field);
    }
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
}

/// An edit keeps the object it is about (`api_version`, `kind`, `name` of the stored one): a
/// new name is a new resource.
pub fn check_same_object(api_version: &str, kind: &str, name: &str, edited: &ObjectKey) -> Result<()> {
    if (edited.api_version.as_str(), edited.kind.as_str(), edited.name.as_str()) == (api_version, kind, name) {
        return Ok(());
    }
    Err(Error::invalid(
        "template",
        format!("apiVersion, kind and name cannot change ({api_version} {kind} {name}): create a new resource instead"),
    ))
}

/// Removes `data` and `stringData` from a Secret template and returns them as one map of
/// base64 values (`None` when the template carried neither).
pub fn split_secret_values(template: &mut Value) -> Result<Option<BTreeMap<String, String>>> {
    let obj = template.as_object_mut().ok_or_else(|| Error::invalid("template", "must be an object"))?;
    let data = obj.remove("data");
    let string_data = obj.remove("stringData");
    if data.is_none() && string_data.is_none() {
        return Ok(None);
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut values = BTreeMap::new();
    if let Some(data) = data.filter(|d| !d.is_null()) {
        let map = data.as_object().ok_or_else(|| Error::invalid("template", "`data` must be a map"))?;
        for (k, v) in map {
            let text = v.as_str().ok_or_else(|| Error::invalid("template", format!("`data.{k}` must be a string")))?;
            b64.decode(text).map_err(|_| Error::invalid("template", format!("`data.{k}` is not valid base64")))?;
            values.insert(k.clone(), text.to_owned());
        }
    }
    if let Some(sd) = string_data.filter(|d| !d.is_null()) {
        let map = sd.as_object().ok_or_else(|| Error::invalid("template", "`stringData` must be a map"))?;
        for (k, v) in map {
            let s =
                v.as_str().ok_or_else(|| Error::invalid("template", format!("`stringData.{k}` must be a string")))?;
            values.insert(k.clone(), b64.encode(s));
        }
    }
    Ok(Some(values))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::OverridePatch;

    fn secret(extra: Value) -> Value {
        let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}});
        s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        s
    }

    #[test]
    fn a_secrets_values_are_split_from_its_template_as_base64() {
        let checked = check_resource(
            &secret(json!({"data": {"a": "eA=="}, "stringData": {"b": "y"}})),
            &Placement::everywhere(),
            &[],
            Some("shop"),
        )
        .unwrap();
        assert_eq!(checked.template.get("data"), None);
        assert_eq!(checked.template.get("stringData"), None);
        let values = checked.secret_values.unwrap();
        assert_eq!((values["a"].as_str(), values["b"].as_str()), ("eA==", "eQ=="));
        assert_eq!(checked.key.namespace.as_deref(), Some("shop"));
        let bad = check_resource(&secret(json!({"data": {"a": "%%"}})), &Placement::everywhere(), &[], Some("shop"));
        assert!(bad.unwrap_err().to_string().contains("not valid base64"));
    }

    #[test]
    fn an_object_or_its_overrides_larger_than_a_resource_may_hold_is_refused() {
        let big = "x".repeat(crate::limits::MAX_TEMPLATE_BYTES);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": big}});
        let e = check_resource(&cm, &Placement::everywhere(), &[], Some("p")).unwrap_err();
        assert_eq!(e.field(), "template");
        assert!(e.to_string().contains("more than the 1 MiB one resource may hold"), "{e}");
        let small = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let many = vec![ClusterOverride {
            cluster: "a".into(),
            selector: None,
            patches: vec![OverridePatch::replace("/data/k", json!(big))],
        }];
        let e = check_resource(&small, &Placement::everywhere(), &many, Some("p")).unwrap_err();
        assert_eq!(e.field(), "overrides");
    }

    #[test]
    fn a_secrets_values_are_not_overridden_per_cluster_and_bad_overrides_name_their_field() {
        let values_override = vec![ClusterOverride {
            cluster: "a".into(),
            selector: None,
            patches: vec![OverridePatch::replace("/data/a", json!("eQ=="))],
        }];
        let e =
            check_resource(&secret(json!({"data": {"a": "eA=="}})), &Placement::everywhere(), &values_override, None);
        // A Secret is namespaced: in a workspace it is refused first, for its home.
        assert_eq!(e.unwrap_err().field(), "template");
        let e = check_resource(
            &secret(json!({"data": {"a": "eA=="}})),
            &Placement::everywhere(),
            &values_override,
            Some("p"),
        );
        assert_eq!(e.unwrap_err().field(), "overrides");
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let e = check_resource(&cm, &Placement::selector("env in ("), &[], Some("p"));
        assert_eq!(e.unwrap_err().field(), "placement");
    }

    #[test]
    fn what_a_cluster_wrote_into_an_object_is_not_kept_and_a_secret_leaves_no_plaintext_copy() {
        let pasted = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "uid": "1", "resourceVersion": "9", "creationTimestamp": "2026-01-01T00:00:00Z",
                         "managedFields": [{"manager": "kubectl"}],
                         "annotations": {LAST_APPLIED: "{\"stringData\":{\"password\":\"hunter2\"}}", "team": "db"}},
            "data": {"password": "aHVudGVyMg=="},
            "status": {},
        });
        let checked = check_resource(&pasted, &Placement::everywhere(), &[], Some("shop")).unwrap();
        assert!(!checked.template.to_string().contains("hunter2"), "{}", checked.template);
        assert_eq!(checked.template["metadata"], json!({"name": "db", "annotations": {"team": "db"}}));
        assert_eq!(checked.template.get("status"), None);
        let mut manifest = configmap_as_kubectl_shows_it();
        strip_server_fields(&mut manifest);
        assert_eq!(manifest["metadata"], json!({"name": "c"}), "an emptied annotations map goes too");
    }

    fn configmap_as_kubectl_shows_it() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "annotations": {LAST_APPLIED: "{}"}, "generation": 3}})
    }

    #[test]
    fn an_edit_keeps_its_object() {
        let key = ObjectKey { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: None, name: "c".into() };
        assert!(check_same_object("v1", "ConfigMap", "c", &key).is_ok());
        let e = check_same_object("v1", "ConfigMap", "other", &key).unwrap_err();
        assert!(e.to_string().contains("create a new resource instead"), "{e}");
    }
}
