//! Per-cluster overrides: JSON-patch operations (`add`, `remove`, `replace`; `replace` when
//! no op is given) applied to the template for one cluster, KubeFed-style.
//!
//! Overrides are checked against the template when saved ([`validate`]), so a path that
//! cannot apply is refused before anything is stored.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Error, LabelSelector, Result};

/// One operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverrideOp {
    Add,
    Remove,
    #[default]
    Replace,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverridePatch {
    #[serde(default)]
    pub op: OverrideOp,
    /// A JSON pointer into the object, e.g. `/spec/replicas`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl OverridePatch {
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        Self { op: OverrideOp::Replace, path: path.into(), value: Some(value) }
    }

    pub fn add(path: impl Into<String>, value: Value) -> Self {
        Self { op: OverrideOp::Add, path: path.into(), value: Some(value) }
    }

    pub fn remove(path: impl Into<String>) -> Self {
        Self { op: OverrideOp::Remove, path: path.into(), value: None }
    }

    /// Shorthand: the replica count of a workload.
    pub fn replicas(count: u32) -> Self {
        Self::replace("/spec/replicas", json!(count))
    }

    /// Shorthand: a label on the object (added or replaced).
    pub fn label(key: &str, value: &str) -> Self {
        Self::add(format!("/metadata/labels/{}", escape_pointer(key)), json!(value))
    }

    /// Shorthand: the image of the container named `container` in a workload's pod
    /// template. Errors when the template has no such container.
    pub fn image(template: &Value, container: &str, image: &str) -> Result<Self> {
        let containers = template
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid("overrides", "image override: the template has no pod containers"))?;
        let index = containers
            .iter()
            .position(|c| c.get("name").and_then(Value::as_str) == Some(container))
            .ok_or_else(|| Error::invalid("overrides", format!("image override: no container named `{container}`")))?;
        Ok(Self::replace(format!("/spec/template/spec/containers/{index}/image"), json!(image)))
    }
}

/// The patches for one cluster, by name (`cluster`), or for every cluster whose labels match
/// a selector (`selector`, `cluster` empty: an app install's per-selector values, which
/// follow clusters that join or are relabelled later). A cluster takes the patches of the
/// first entry that names or selects it, and none of the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterOverride {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    pub patches: Vec<OverridePatch>,
}

impl ClusterOverride {
    /// The patches for the cluster named `cluster`.
    pub fn for_cluster(cluster: impl Into<String>, patches: Vec<OverridePatch>) -> Self {
        Self { cluster: cluster.into(), selector: None, patches }
    }

    /// The patches for the clusters `selector` matches.
    pub fn for_selector(selector: impl Into<String>, patches: Vec<OverridePatch>) -> Self {
        Self { cluster: String::new(), selector: Some(selector.into()), patches }
    }

    /// Whom it is for, in words: `cluster prod-eu-1`, `clusters where tier=1`.
    pub fn target(&self) -> String {
        match &self.selector {
            Some(selector) => format!("clusters where {selector}"),
            None => format!("cluster {}", self.cluster),
        }
    }
}

/// Overrides ready to answer "which patches does this cluster take?", selectors parsed once
/// and names looked up by hash (a resource may carry an entry for each of thousands).
#[derive(Debug, Clone, Default)]
pub struct ResolvedOverrides {
    by_name: HashMap<String, usize>,
    selectors: Vec<(usize, LabelSelector)>,
    patches: Vec<Vec<OverridePatch>>,
}

impl ResolvedOverrides {
    /// Errors when a selector does not parse (saved overrides were checked by [`validate`]).
    pub fn resolve(overrides: Vec<ClusterOverride>) -> Result<Self> {
        let mut out = Self::default();
        for (i, o) in overrides.into_iter().enumerate() {
            match &o.selector {
                Some(text) => out.selectors.push((i, parse_selector(text)?)),
                None => {
                    out.by_name.entry(o.cluster).or_insert(i);
                }
            }
            out.patches.push(o.patches);
        }
        Ok(out)
    }

    /// The patches of the first entry naming or selecting the cluster `name` with `labels`.
    pub fn for_cluster(&self, name: &str, labels: &BTreeMap<String, String>) -> &[OverridePatch] {
        let named = self.by_name.get(name).copied();
        let selected = self
            .selectors
            .iter()
            .take_while(|(i, _)| named.is_none_or(|n| *i < n))
            .find(|(_, selector)| selector.matches(labels))
            .map(|(i, _)| *i);
        selected.or(named).and_then(|i| self.patches.get(i)).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The patches `overrides` give the cluster `name` with `labels` (see [`ClusterOverride`]).
pub fn patches_for<'a>(
    overrides: &'a [ClusterOverride],
    name: &str,
    labels: &BTreeMap<String, String>,
) -> &'a [OverridePatch] {
    overrides
        .iter()
        .find(|o| match &o.selector {
            Some(text) => LabelSelector::parse(text).is_ok_and(|s| s.matches(labels)),
            None => o.cluster == name,
        })
        .map(|o| o.patches.as_slice())
        .unwrap_or_default()
}

fn parse_selector(text: &str) -> Result<LabelSelector> {
    if text.trim().is_empty() {
        return Err(Error::invalid("overrides", "a selector override needs a selector (`tier=1`)"));
    }
    LabelSelector::parse(text).map_err(|e| Error::invalid("overrides", format!("selector `{text}`: {}", e.reason())))
}

/// The patches that turn `from` into `to`, smallest first: members of maps added, removed or
/// recursed into; lists of the same length compared item by item, others replaced whole.
pub fn diff(from: &Value, to: &Value) -> Vec<OverridePatch> {
    let mut out = Vec::new();
    diff_at(from, to, &mut String::new(), &mut out);
    out
}

fn diff_at(from: &Value, to: &Value, path: &mut String, out: &mut Vec<OverridePatch>) {
    let len = path.len();
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, old) in a {
                path.push('/');
                path.push_str(&escape_pointer(key));
                match b.get(key) {
                    Some(new) => diff_at(old, new, path, out),
                    None => out.push(OverridePatch::remove(path.clone())),
                }
                path.truncate(len);
            }
            for (key, new) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(OverridePatch::add(format!("{path}/{}", escape_pointer(key)), new.clone()));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (old, new)) in a.iter().zip(b).enumerate() {
                path.push_str(&format!("/{i}"));
                diff_at(old, new, path, out);
                path.truncate(len);
            }
        }
        _ if from == to => {}
        _ => out.push(OverridePatch::replace(path.clone(), to.clone())),
    }
}

/// The value an override row's text stands for, typed like what it overrides: a string
/// where the template holds a string, or under maps of strings (`/data`, labels,
/// annotations); otherwise the text read as YAML (`3` is a number, `{a: 1}` a map), and
/// the text itself where it is not YAML.
pub fn value_from_text(template: &Value, path: &str, text: &str) -> Value {
    let text = text.trim();
    let string_map = ["/data/", "/stringData/", "/metadata/labels/", "/metadata/annotations/"];
    if template.pointer(path).is_some_and(Value::is_string) || string_map.iter().any(|p| path.starts_with(p)) {
        return Value::String(text.to_owned());
    }
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// An override value as an editor shows it: strings as they are, anything else as JSON.
pub fn value_to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Paths an override may not touch: they are the object's identity, or Flotilla's.
fn is_protected(path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    ["/apiVersion", "/kind", "/metadata/name", "/metadata/namespace", "/status"].into_iter().any(under)
        || path.starts_with("/metadata/annotations/flotilla.io~1")
}

/// Applies `patches` to `object` in order. The error says which patch failed and why.
pub fn apply(object: &mut Value, patches: &[OverridePatch]) -> Result<()> {
    for (i, p) in patches.iter().enumerate() {
        apply_one(object, p)
            .map_err(|why| Error::invalid("overrides", format!("patch {} ({}): {why}", i + 1, describe(p))))?;
    }
    Ok(())
}

fn apply_one(object: &mut Value, p: &OverridePatch) -> std::result::Result<(), String> {
    if !p.path.starts_with('/') {
        return Err("the path must be a JSON pointer starting with `/`".into());
    }
    if is_protected(&p.path) {
        return Err("this path identifies the object and cannot be overridden".into());
    }
    let op = match (p.op, &p.value) {
        (OverrideOp::Remove, None) => json!({"op": "remove", "path": p.path}),
        (OverrideOp::Remove, Some(_)) => return Err("`remove` takes no value".into()),
        (_, None) => return Err("a value is required".into()),
        (OverrideOp::Add, Some(v)) => json!({"op": "add", "path": p.path, "value": v}),
        (OverrideOp::Replace, Some(v)) => json!({"op": "replace", "path": p.path, "value": v}),
    };
    let op: json_patch::PatchOperation = serde_json::from_value(op).map_err(|e| format!("invalid path: {e}"))?;
    json_patch::patch(object, &[op]).map_err(|e| match e.kind {
        json_patch::PatchErrorKind::InvalidPointer => "the path does not exist in the template".to_owned(),
        other => other.to_string(),
    })
}

fn describe(p: &OverridePatch) -> String {
    let op = match p.op {
        OverrideOp::Add => "add",
        OverrideOp::Remove => "remove",
        OverrideOp::Replace => "replace",
    };
    format!("{op} {}", p.path)
}

/// Checks every entry of `overrides` against `template`: each names a well-formed cluster
/// (not repeated) or holds a selector that parses, and its patches apply.
pub fn validate(template: &Value, overrides: &[ClusterOverride]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for o in overrides {
        match &o.selector {
            Some(text) if o.cluster.is_empty() => {
                parse_selector(text)?;
            }
            Some(_) => {
                return Err(Error::invalid(
                    "overrides",
                    format!("cluster `{}`: a cluster or a selector, not both", o.cluster),
                ));
            }
            None => {
                crate::ResourceName::parse("overrides", &o.cluster)
                    .map_err(|_| Error::invalid("overrides", format!("`{}` is not a cluster name", o.cluster)))?;
                if !seen.insert(o.cluster.as_str()) {
                    return Err(Error::invalid("overrides", format!("cluster `{}` is listed twice", o.cluster)));
                }
            }
        }
        let mut copy = template.clone();
        let who = match &o.selector {
            Some(selector) => format!("clusters where {selector}"),
            None => format!("cluster `{}`", o.cluster),
        };
        apply(&mut copy, &o.patches).map_err(|e| Error::invalid("overrides", format!("{who}, {}", e.reason())))?;
    }
    Ok(())
}

/// A JSON pointer segment for `segment` (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "sidecar", "image": "envoy:1"}, {"name": "web", "image": "nginx:1.25"}
            ]}}}
        })
    }

    #[test]
    fn replace_add_remove_in_order() {
        let mut d = deployment();
        apply(
            &mut d,
            &[
                OverridePatch::replicas(5),
                OverridePatch::label("topology.kubernetes.io/zone", "eu-1"),
                OverridePatch::remove("/metadata/labels/app"),
                OverridePatch::image(&deployment(), "web", "nginx:1.27").unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(d["spec"]["replicas"], 5);
        assert_eq!(d["metadata"]["labels"], json!({"topology.kubernetes.io/zone": "eu-1"}));
        assert_eq!(d["spec"]["template"]["spec"]["containers"][1]["image"], "nginx:1.27");
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "envoy:1");
    }

    #[test]
    fn op_defaults_to_replace() {
        let p: OverridePatch = serde_json::from_str(r#"{"path":"/spec/replicas","value":3}"#).unwrap();
        assert_eq!(p.op, OverrideOp::Replace);
    }

    #[test]
    fn paths_that_cannot_apply_are_refused_with_a_reason() {
        let t = deployment();
        let bad = |patches: Vec<OverridePatch>| {
            validate(&t, &[ClusterOverride::for_cluster("prod-eu-1", patches)]).unwrap_err().to_string()
        };
        assert_eq!(
            bad(vec![OverridePatch::replace("/spec/replicaz", json!(1))]),
            "overrides: cluster `prod-eu-1`, patch 1 (replace /spec/replicaz): the path does not exist in the template"
        );
        assert!(
            bad(vec![OverridePatch::replicas(1), OverridePatch::remove("/spec/nope")])
                .contains("patch 2 (remove /spec/nope)")
        );
        assert!(bad(vec![OverridePatch::replace("spec/replicas", json!(1))]).contains("JSON pointer"));
        assert!(bad(vec![OverridePatch::replace("/metadata/name", json!("x"))]).contains("identifies the object"));
        assert!(bad(vec![OverridePatch::replace("/kind", json!("Pod"))]).contains("identifies the object"));
        assert!(
            bad(vec![OverridePatch { op: OverrideOp::Add, path: "/spec/x".into(), value: None }])
                .contains("value is required")
        );
        assert!(OverridePatch::image(&t, "db", "x").unwrap_err().to_string().contains("no container named `db`"));
    }

    #[test]
    fn cluster_names_are_checked_and_unique() {
        let t = deployment();
        let o = |c: &str| ClusterOverride::for_cluster(c, vec![OverridePatch::replicas(1)]);
        assert!(validate(&t, &[o("a"), o("b")]).is_ok());
        assert!(validate(&t, &[o("a"), o("a")]).unwrap_err().to_string().contains("listed twice"));
        assert!(validate(&t, &[o("Bad Name")]).unwrap_err().to_string().contains("not a cluster name"));
    }

    #[test]
    fn a_cluster_takes_the_first_entry_that_names_or_selects_it() {
        let o = |target: &str, n: u32| match target.strip_prefix("where ") {
            Some(selector) => ClusterOverride::for_selector(selector, vec![OverridePatch::replicas(n)]),
            None => ClusterOverride::for_cluster(target, vec![OverridePatch::replicas(n)]),
        };
        let list = vec![o("where tier=1", 5), o("eu-2", 7), o("where region=eu", 3)];
        validate(&deployment(), &list).unwrap();
        let resolved = ResolvedOverrides::resolve(list.clone()).unwrap();
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        for (name, l, want) in [
            ("eu-1", labels(&[("tier", "1"), ("region", "eu")]), Some(5)),
            ("eu-2", labels(&[("tier", "1"), ("region", "eu")]), Some(5)),
            ("eu-2", labels(&[("region", "eu")]), Some(7)),
            ("eu-3", labels(&[("region", "eu")]), Some(3)),
            ("us-1", labels(&[("tier", "2")]), None),
        ] {
            let got = resolved.for_cluster(name, &l);
            assert_eq!(got.first().and_then(|p| p.value.clone()), want.map(|n| json!(n)), "{name} {l:?}");
            assert_eq!(patches_for(&list, name, &l), got, "both readings agree");
        }
        let both = ClusterOverride { cluster: "a".into(), selector: Some("x=1".into()), patches: vec![] };
        assert!(validate(&deployment(), &[both]).unwrap_err().to_string().contains("not both"));
        let bad = ClusterOverride::for_selector("tier in (", vec![]);
        assert!(validate(&deployment(), &[bad]).unwrap_err().to_string().contains("selector `tier in (`"));
    }

    #[test]
    fn a_diff_applied_turns_one_object_into_the_other() {
        let from = json!({"spec": {"replicas": 3, "drop": 1, "list": [1, 2], "same": [{"a": 1}, {"b": 2}],
                                   "env": [{"name": "A", "value": "1"}]}});
        let to = json!({"spec": {"replicas": 5, "list": [1, 2, 3], "same": [{"a": 1}, {"b": 3}], "new/key": "x",
                                 "env": [{"name": "A", "value": "2"}]}});
        let patches = diff(&from, &to);
        let mut applied = from.clone();
        apply(&mut applied, &patches).unwrap();
        assert_eq!(applied, to);
        let paths: Vec<&str> = patches.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/spec/drop", "/spec/env/0/value", "/spec/list", "/spec/replicas", "/spec/same/1/b", "/spec/new~1key"]
        );
        assert!(diff(&from, &from).is_empty());
    }

    #[test]
    fn row_text_is_typed_like_what_it_overrides() {
        let deploy = json!({"spec": {"replicas": 2, "image": "nginx"}, "data": {"n": "1"}});
        assert_eq!(value_from_text(&deploy, "/spec/replicas", "3"), json!(3));
        assert_eq!(value_from_text(&deploy, "/spec/image", "3"), json!("3"));
        assert_eq!(value_from_text(&deploy, "/data/new", "42"), json!("42"));
        assert_eq!(value_from_text(&deploy, "/metadata/labels/tier", "true"), json!("true"));
        assert_eq!(value_from_text(&deploy, "/spec/paused", "true"), json!(true));
        assert_eq!(value_from_text(&deploy, "/spec/x", "{a: 1}"), json!({"a": 1}));
        assert_eq!(value_from_text(&deploy, "/spec/x", "a: [b"), json!("a: [b"));
        for v in [json!(3), json!("3"), json!({"a": 1}), json!(true)] {
            let text = value_to_text(&v);
            let path = if v.is_string() { "/data/k" } else { "/spec/k" };
            assert_eq!(value_from_text(&deploy, path, &text), v, "{text}");
        }
    }
}
