//! A Kubernetes object as a user writes it: YAML (or JSON, which is YAML), one object.
//! The same parser runs in the browser (errors while typing) and on the server.

use serde_json::Value;

use crate::limits::{MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH, MAX_MANIFEST_NODES, size_text};
use crate::{Error, Result};

const FIELD: &str = "yaml";

/// Parses one object with `apiVersion`, `kind` and `metadata.name`. Errors say where
/// (line and column) and concern the `yaml` field.
pub fn parse_manifest(text: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Err(Error::invalid(FIELD, "write the object's YAML"));
    }
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(Error::invalid(
            FIELD,
            format!("the YAML is larger than {}: one object is at most that", size_text(MAX_MANIFEST_BYTES)),
        ));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_MANIFEST_DEPTH,
            max_nodes: MAX_MANIFEST_NODES,
            max_documents: 1,
            max_total_scalar_bytes: MAX_MANIFEST_BYTES,
        },
    };
    let value: Value = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| Error::invalid(FIELD, first_line(&e.to_string())))?;
    let Some(object) = value.as_object() else {
        return Err(Error::invalid(FIELD, "the YAML must be one object (a mapping), not a list or a value"));
    };
    let text_at = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    for (key, what) in [("apiVersion", "apiVersion (e.g. v1, apps/v1)"), ("kind", "kind (e.g. ConfigMap)")] {
        if !text_at(object.get(key)) {
            return Err(Error::invalid(FIELD, format!("the object needs {what}")));
        }
    }
    if !text_at(value.pointer("/metadata/name")) {
        return Err(Error::invalid(FIELD, "the object needs metadata.name"));
    }
    // Pasted from `kubectl get -o yaml`: what the cluster wrote is not the user's to keep.
    let mut value = value;
    crate::resource::strip_server_fields(&mut value);
    Ok(value)
}

/// Parser messages can carry a snippet of the input over several lines; the first says it.
fn first_line(message: &str) -> String {
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or(message).trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_with_its_identity_parses() {
        let v = parse_manifest("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n")
            .unwrap();
        assert_eq!(v["spec"]["replicas"], 3);
        assert_eq!(
            parse_manifest(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#).unwrap()["kind"],
            "ConfigMap"
        );
    }

    #[test]
    fn big_deep_or_many_documents_are_refused_before_they_cost_anything() {
        let big =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n# {}\n", "x".repeat(MAX_MANIFEST_BYTES));
        assert!(parse_manifest(&big).unwrap_err().to_string().contains("larger than 2 MiB"));
        let deep = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {}{}\n",
            "[".repeat(200),
            "]".repeat(200)
        );
        let e = parse_manifest(&deep).unwrap_err();
        assert_eq!(e.field(), "yaml", "{e}");
        let nested = (0..100).fold(String::from("a: 1"), |inner, i| format!("k{i}:\n{}", indent(&inner)));
        let e =
            parse_manifest(&format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n{nested}\n")).unwrap_err();
        assert!(e.to_string().to_lowercase().contains("depth"), "{e}");
        // A billion laughs: aliases expanding to more nodes than allowed.
        let mut laughs = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            laughs.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        assert!(parse_manifest(&laughs).is_err(), "alias expansion is bounded");
        let two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\n";
        assert!(parse_manifest(two).is_err(), "one object per manifest");
    }

    fn indent(text: &str) -> String {
        text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = parse_manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n").unwrap_err();
        assert_eq!(e.field(), "yaml");
        assert_eq!(e.to_string(), "yaml: line 4 column 9: unclosed bracket '['");
        assert!(parse_manifest("").unwrap_err().to_string().contains("write"));
        assert!(parse_manifest("- a\n- b\n").unwrap_err().to_string().contains("one object"));
        assert!(
            parse_manifest("kind: ConfigMap\nmetadata: {name: x}\n").unwrap_err().to_string().contains("apiVersion")
        );
        assert!(parse_manifest("apiVersion: v1\nkind: ConfigMap\n").unwrap_err().to_string().contains("metadata.name"));
    }
}
