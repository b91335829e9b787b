//! What a change will do, before it is applied: the object each cluster would hold before
//! and after, rendered as YAML and diffed line by line. Clusters whose diff is the same are
//! grouped, so fifty clusters getting one new image read as one diff.
//!
//! Flotilla's own annotations (resource id, revision, hash) are left out: they change with
//! every revision and say nothing about the change.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::overrides::ClusterOverride;
use crate::placement::{ResolvedPlacement, Scope};
use crate::render::{HASH_ANNOTATION, RESOURCE_ID_ANNOTATION, REVISION_ANNOTATION, RenderInput, render};
use crate::{Error, Result};

/// One side of a change: what a resource asks for.
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    pub template: &'a Value,
    pub placement: &'a ResolvedPlacement,
    pub overrides: &'a [ClusterOverride],
}

/// A cluster as the review sees it.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

/// What happens to the object in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// Clusters that see the same change, with its diff (empty when unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterChange {
    pub kind: ChangeKind,
    pub clusters: Vec<String>,
    pub diff: Vec<DiffLine>,
}

/// One line of a diff. `Fold` stands for `count` unchanged lines left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum DiffLine {
    Same { text: String },
    Added { text: String },
    Removed { text: String },
    Fold { count: usize },
}

/// Lines of context kept around each change.
const CONTEXT: usize = 3;

/// The change from `before` (None: the resource does not exist yet) to `after` (None: it is
/// being deleted) in each of `clusters` within `scope`. Clusters the resource is in neither
/// before nor after are left out. Groups come in order: creates, updates, deletes,
/// unchanged; clusters by name within each.
pub fn review(
    before: Option<Desired<'_>>,
    after: Option<Desired<'_>>,
    scope: Scope<'_>,
    namespace: Option<&str>,
    clusters: &[Member<'_>],
) -> Result<Vec<ClusterChange>> {
    let mut groups: BTreeMap<(ChangeKind, Vec<DiffLine>), Vec<String>> = BTreeMap::new();
    for member in clusters {
        let old = shown(before, scope, namespace, member)?;
        let new = shown(after, scope, namespace, member)?;
        let (kind, diff) = match (&old, &new) {
            (None, None) => continue,
            (None, Some(new)) => (ChangeKind::Create, diff_lines("", new)),
            (Some(old), None) => (ChangeKind::Delete, diff_lines(old, "")),
            (Some(old), Some(new)) if old == new => (ChangeKind::Unchanged, Vec::new()),
            (Some(old), Some(new)) => (ChangeKind::Update, diff_lines(old, new)),
        };
        groups.entry((kind, diff)).or_default().push(member.name.to_owned());
    }
    let mut out: Vec<ClusterChange> = groups
        .into_iter()
        .map(|((kind, diff), mut clusters)| {
            clusters.sort();
            ClusterChange { kind, clusters, diff }
        })
        .collect();
    out.sort_by(|a, b| (a.kind, &a.clusters).cmp(&(b.kind, &b.clusters)));
    Ok(out)
}

/// The object as YAML for review in one cluster, or None when it is not placed there.
fn shown(
    side: Option<Desired<'_>>,
    scope: Scope<'_>,
    namespace: Option<&str>,
    m: &Member<'_>,
) -> Result<Option<String>> {
    let Some(d) = side else { return Ok(None) };
    if !scope.places(d.placement, m.name, m.labels) {
        return Ok(None);
    }
    let overrides = crate::overrides::patches_for(d.overrides, m.name, m.labels);
    let rendered =
        render(&RenderInput { resource_id: "", revision: 0, template: d.template, overrides, namespace })?.object;
    Ok(Some(to_yaml(&without_flotilla_annotations(rendered))?))
}

fn without_flotilla_annotations(mut object: Value) -> Value {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
    {
        for key in [RESOURCE_ID_ANNOTATION, REVISION_ANNOTATION, HASH_ANNOTATION] {
            a.remove(key);
        }
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    object
}

/// An object as YAML the way `kubectl get -o yaml` orders it: `apiVersion`, `kind`,
/// `metadata` first, the rest by name.
pub fn to_yaml(object: &Value) -> Result<String> {
    let text = match object.as_object() {
        Some(map) => serde_saphyr::to_string(&KubeOrder(map)),
        None => serde_saphyr::to_string(object),
    };
    text.map_err(|e| Error::invalid("template", format!("cannot be written as YAML: {e}")))
}

struct KubeOrder<'a>(&'a Map<String, Value>);

const FIRST: [&str; 3] = ["apiVersion", "kind", "metadata"];

impl Serialize for KubeOrder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for key in FIRST {
            if let Some(v) = self.0.get(key) {
                map.serialize_entry(key, v)?;
            }
        }
        for (k, v) in self.0.iter().filter(|(k, _)| !FIRST.contains(&k.as_str())) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A line diff of two texts, unchanged stretches beyond [`CONTEXT`] lines folded.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    let mut shown_until = 0usize; // old-side line index up to which lines are accounted for
    for group in diff.grouped_ops(CONTEXT) {
        let Some(first) = group.first() else { continue };
        let start = first.old_range().start;
        if start > shown_until {
            out.push(DiffLine::Fold { count: start - shown_until });
        }
        for op in &group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches('\n').to_owned();
                out.push(match change.tag() {
                    similar::ChangeTag::Equal => DiffLine::Same { text },
                    similar::ChangeTag::Insert => DiffLine::Added { text },
                    similar::ChangeTag::Delete => DiffLine::Removed { text },
                });
            }
            shown_until = op.old_range().end;
        }
    }
    let total = old.lines().count();
    if !out.is_empty() && total > shown_until {
        out.push(DiffLine::Fold { count: total - shown_until });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{LabelSelector, OverridePatch, Placement};

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": data})
    }

    #[test]
    fn yaml_reads_like_kubectl() {
        let text = to_yaml(&cm(json!({"b": "2", "a": "1"}))).unwrap();
        assert_eq!(
            text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n  b: \"2\"\n"
        );
    }

    #[test]
    fn diffs_fold_long_unchanged_stretches() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let diff = diff_lines(&old, &new);
        assert_eq!(diff.first(), Some(&DiffLine::Fold { count: 6 }));
        assert_eq!(diff.last(), Some(&DiffLine::Fold { count: 7 }));
        assert!(diff.contains(&DiffLine::Removed { text: "line 10".into() }));
        assert!(diff.contains(&DiffLine::Added { text: "line ten".into() }));
        assert_eq!(diff.iter().filter(|l| matches!(l, DiffLine::Same { .. })).count(), 6);
        assert!(diff_lines(&old, &old).is_empty());
    }

    #[test]
    fn a_change_is_grouped_by_what_each_cluster_sees() {
        let everything = LabelSelector::everything();
        let scope = Scope { workspace: &everything, project: None };
        let (eu, us, dev) = (labels(&[("region", "eu")]), labels(&[("region", "us")]), labels(&[("env", "dev")]));
        let members = [
            Member { name: "eu-1", labels: &eu },
            Member { name: "eu-2", labels: &eu },
            Member { name: "us-1", labels: &us },
            Member { name: "dev-1", labels: &dev },
        ];
        let everywhere = Placement::everywhere().resolve().unwrap();
        let not_dev = Placement::selector("env!=dev").resolve().unwrap();
        let (old_t, new_t) = (cm(json!({"a": "1"})), cm(json!({"a": "2"})));
        // us-1 keeps a=1 through its override, so it does not change.
        let keep_us = [ClusterOverride {
            cluster: "us-1".into(),
            selector: None,
            patches: vec![OverridePatch::replace("/data/a", json!("1"))],
        }];
        let before = Desired { template: &old_t, placement: &everywhere, overrides: &[] };
        let after = Desired { template: &new_t, placement: &not_dev, overrides: &keep_us };
        let changes = review(Some(before), Some(after), scope, Some("shop"), &members).unwrap();
        let shape: Vec<_> = changes.iter().map(|c| (c.kind, c.clusters.join(","))).collect();
        assert_eq!(
            shape,
            vec![
                (ChangeKind::Update, "eu-1,eu-2".into()),
                (ChangeKind::Delete, "dev-1".into()),
                (ChangeKind::Unchanged, "us-1".into()),
            ]
        );
        assert!(changes[0].diff.contains(&DiffLine::Removed { text: r#"  a: "1""#.into() }));
        assert!(changes[0].diff.contains(&DiffLine::Added { text: r#"  a: "2""#.into() }));
        // Flotilla's annotations are not part of what a user reviews; its label is.
        let deleted: Vec<&str> = changes[1]
            .diff
            .iter()
            .filter_map(|l| match l {
                DiffLine::Removed { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(deleted.contains(&"  namespace: shop"), "{deleted:?}");
        assert!(deleted.iter().any(|l| l.contains("managed-by")));
        assert!(!deleted.iter().any(|l| l.contains("flotilla.io/")), "{deleted:?}");

        // A new resource is a create everywhere it is placed; clusters outside are left out.
        let created = review(None, Some(after), scope, Some("shop"), &members).unwrap();
        let shape: Vec<_> = created.iter().map(|c| (c.kind, c.clusters.join(","))).collect();
        assert_eq!(shape, vec![(ChangeKind::Create, "eu-1,eu-2".into()), (ChangeKind::Create, "us-1".into())]);
        assert!(created[0].diff.iter().all(|l| matches!(l, DiffLine::Added { .. })));
    }
}
