//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge (merge
//! patch plus merging of named list items such as containers), and server-side apply
//! (approximated as a strategic merge of the applied configuration).

use serde_json::Value;

use crate::api_error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    StrategicMerge,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/json-patch+json" => Ok(Self::Json),
            "application/strategic-merge-patch+json" => Ok(Self::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }
}

/// Applies `patch` (already parsed JSON) of `kind` to `target`.
pub fn apply(kind: PatchKind, target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let mut out = target.clone();
    match kind {
        PatchKind::Merge => json_patch::merge(&mut out, patch),
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut out, &ops).map_err(|e| {
                ApiError::invalid("", "", vec![("patch".into(), format!("the JSON patch could not be applied: {e}"))])
            })?;
        }
        PatchKind::StrategicMerge | PatchKind::Apply => strategic_merge(&mut out, patch),
    }
    Ok(out)
}

/// Merge patch, except that lists whose items all carry a `name` (containers, ports, env,
/// volumes…) are merged item by item on that key, as Kubernetes' strategic merge does.
fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, pv) in p {
                if pv.is_null() {
                    t.remove(k);
                } else if let Some(tv) = t.get_mut(k) {
                    strategic_merge(tv, pv);
                } else {
                    let mut fresh = Value::Null;
                    strategic_merge(&mut fresh, pv);
                    t.insert(k.clone(), fresh);
                }
            }
        }
        (Value::Array(t), Value::Array(p)) if named_items(t) && named_items(p) => {
            for item in p {
                let name = &item["name"];
                match t.iter_mut().find(|x| &x["name"] == name) {
                    Some(existing) => strategic_merge(existing, item),
                    None => t.push(item.clone()),
                }
            }
        }
        (t, p) => {
            // A new object is built from the patch with its nulls removed, as merge patch does.
            let mut v = Value::Null;
            json_patch::merge(&mut v, p);
            *t = v;
        }
    }
}

fn named_items(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|i| i.get("name").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_replaces_lists_and_removes_nulls() {
        let t = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        let out = apply(PatchKind::Merge, &t, &json!({"b": {"c": null, "e": 4}, "l": [3]})).unwrap();
        assert_eq!(out, json!({"a": 1, "b": {"d": 3, "e": 4}, "l": [3]}));
    }

    #[test]
    fn json_patch_and_its_failures() {
        let t = json!({"spec": {"replicas": 1}});
        let out =
            apply(PatchKind::Json, &t, &json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])).unwrap();
        assert_eq!(out["spec"]["replicas"], 3);
        let err = apply(PatchKind::Json, &t, &json!([{"op": "remove", "path": "/spec/nope"}])).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(apply(PatchKind::Json, &t, &json!({"op": "x"})).unwrap_err().code, 400);
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let t = json!({"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]}, {"name": "side", "image": "s:1"}]});
        let out =
            apply(PatchKind::StrategicMerge, &t, &json!({"containers": [{"name": "app", "image": "a:2"}]})).unwrap();
        assert_eq!(out["containers"][0]["image"], "a:2");
        assert_eq!(out["containers"][0]["ports"][0]["containerPort"], 80);
        assert_eq!(out["containers"][1]["name"], "side");
    }

    #[test]
    fn content_types() {
        assert_eq!(PatchKind::from_content_type("application/apply-patch+yaml").unwrap(), PatchKind::Apply);
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json; charset=utf-8").unwrap(),
            PatchKind::Merge
        );
        assert_eq!(PatchKind::from_content_type("text/plain").unwrap_err().code, 415);
    }
}
