//! Import and export: KubeFed's `types.kubefed.io/v1beta1` documents (`Federated<Kind>` with
//! `template`, `placement` and `overrides`; `FederatedNamespace`) and plain multi-document
//! YAML (`kubectl kustomize`, `helm template`) into a project's resources, and a project's
//! resources out again in either form, deterministically (objects in apply order then by kind
//! and name, keys sorted, no volatile fields), so that a Git repository of exports diffs
//! cleanly and an export imports back into the same resources.
//!
//! KubeFed's placement: `clusters` (names) wins over `clusterSelector`; neither places
//! nowhere; an empty `clusterSelector` places everywhere. Flotilla's is the same with
//! `{"clusters": […]}` and `{"selector": "…"}`, so it maps one to one, as do per-cluster
//! overrides (`clusterName`, `clusterOverrides` of `op`/`path`/`value`). A `FederatedNamespace`
//! is the project itself: its `clusterSelector` becomes the project's selector.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::limits::{MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH, MAX_MANIFEST_NODES, size_text};
use crate::overrides::{ClusterOverride, OverrideOp, OverridePatch};
use crate::placement::Placement;
use crate::selector::{LabelSelector, Operator};
use crate::{Error, Result};

/// KubeFed's API version of its federated types.
pub const KUBEFED_API_VERSION: &str = "types.kubefed.io/v1beta1";
/// The field errors of an import name.
const FIELD: &str = "yaml";
/// The most documents one import reads.
pub const MAX_DOCUMENTS: usize = 1000;
/// An import's text is at most this large (several objects).
pub const MAX_IMPORT_BYTES: usize = 4 * MAX_MANIFEST_BYTES;

/// One resource to create: its template (namespace left out), placement and overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedResource {
    pub template: Value,
    pub placement: Placement,
    pub overrides: Vec<ClusterOverride>,
}

/// What an import would create in a project, and what it cannot take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// The namespace the documents name (all must name the same, or none).
    pub namespace: Option<String>,
    /// A `FederatedNamespace`'s placement, as the project's selector.
    pub project_selector: Option<String>,
    pub resources: Vec<ImportedResource>,
    /// Documents with no equivalent, each with why ("FederatedFoo web: …").
    pub problems: Vec<String>,
}

/// The documents of `text` (`---`-separated; `kind: List` expanded), empty ones skipped.
pub fn read_documents(text: &str) -> Result<Vec<Value>> {
    if text.trim().is_empty() {
        return Err(Error::invalid(FIELD, "paste or upload the YAML to import"));
    }
    if text.len() > MAX_IMPORT_BYTES {
        return Err(Error::invalid(FIELD, format!("the YAML is larger than {}", size_text(MAX_IMPORT_BYTES))));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_MANIFEST_DEPTH,
            max_nodes: MAX_MANIFEST_NODES * 4,
            max_documents: MAX_DOCUMENTS,
            max_total_scalar_bytes: MAX_IMPORT_BYTES,
        },
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| Error::invalid(FIELD, e.to_string().lines().next().unwrap_or("not YAML").to_owned()))?;
    let mut out = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        if doc.get("kind").and_then(Value::as_str) == Some("List") {
            out.extend(doc.get("items").and_then(Value::as_array).cloned().unwrap_or_default());
        } else {
            out.push(doc);
        }
    }
    if out.len() > MAX_DOCUMENTS {
        return Err(Error::invalid(FIELD, format!("more than {MAX_DOCUMENTS} objects: import them in parts")));
    }
    Ok(out)
}

/// The API version of the built-in kinds a KubeFed template may leave it out for.
fn builtin_api_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ConfigMap"
        | "Secret"
        | "Service"
        | "ServiceAccount"
        | "ResourceQuota"
        | "LimitRange"
        | "PersistentVolumeClaim" => "v1",
        "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => "rbac.authorization.k8s.io/v1",
        "StorageClass" => "storage.k8s.io/v1",
        "PriorityClass" => "scheduling.k8s.io/v1",
        "CustomResourceDefinition" => "apiextensions.k8s.io/v1",
        "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
        "PodDisruptionBudget" => "policy/v1",
        "HorizontalPodAutoscaler" => "autoscaling/v2",
        _ => return None,
    })
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Reads `docs` as what to create in a project.
pub fn plan_import(docs: &[Value]) -> ImportPlan {
    let mut plan = ImportPlan::default();
    let mut namespaces = BTreeMap::<String, usize>::new();
    for doc in docs {
        let (api_version, kind, name) = (text(doc, "/apiVersion"), text(doc, "/kind"), text(doc, "/metadata/name"));
        let what = format!("{kind} {name}");
        let namespace = doc.pointer("/metadata/namespace").and_then(Value::as_str);
        let outcome = if api_version == KUBEFED_API_VERSION && kind == "FederatedNamespace" {
            *namespaces.entry(namespace.unwrap_or(name).to_owned()).or_default() += 1;
            federated_namespace(doc).map(|selector| {
                plan.project_selector = selector;
                None
            })
        } else if api_version == KUBEFED_API_VERSION {
            namespace.into_iter().for_each(|ns| *namespaces.entry(ns.to_owned()).or_default() += 1);
            federated(doc, kind, Home::Project).map(Some)
        } else if api_version.starts_with("types.kubefed.io/") || api_version.starts_with("core.kubefed.io/") {
            Err(format!("{api_version} is not read: export it as {KUBEFED_API_VERSION}"))
        } else if api_version == "v1" && kind == "Namespace" {
            // The project's own namespace.
            *namespaces.entry(name.to_owned()).or_default() += 1;
            Ok(None)
        } else {
            namespace.into_iter().for_each(|ns| *namespaces.entry(ns.to_owned()).or_default() += 1);
            plain(doc, Home::Project).map(Some)
        };
        match outcome {
            Ok(Some(resource)) => plan.resources.push(resource),
            Ok(None) => {}
            Err(why) => plan.problems.push(format!("{what}: {why}")),
        }
    }
    match namespaces.len() {
        0 => {}
        1 => plan.namespace = namespaces.into_keys().next(),
        _ => plan.problems.push(format!(
            "the documents name several namespaces ({}): a project is one namespace, import each into its own",
            namespaces.into_keys().collect::<Vec<_>>().join(", ")
        )),
    }
    plan
}

/// What an import into a workspace would create: its own cluster-scoped resources, and a
/// project for each namespace the documents name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceImportPlan {
    /// The cluster-scoped objects (ClusterRoles, CRDs, Namespaces of no project, …).
    pub resources: Vec<ImportedResource>,
    /// By namespace: each one's plan (its `namespace` set).
    pub projects: Vec<ImportPlan>,
    /// Documents with no equivalent, each with why.
    pub problems: Vec<String>,
}

/// Reads `docs` as what to create in a workspace (a workspace or project export, or any
/// multi-namespace YAML): namespaced objects grouped into a project per namespace (each read
/// as [`plan_import`] reads one), cluster-scoped ones kept for the workspace itself. A
/// `Namespace` is a project's when a document names it as its namespace or it carries the
/// `flotilla.io/project` label (as exports write it), else the workspace's.
pub fn plan_workspace_import(docs: &[Value]) -> WorkspaceImportPlan {
    let mut plan = WorkspaceImportPlan::default();
    let namespace_of = |doc: &Value| -> Option<String> {
        let (api_version, kind) = (text(doc, "/apiVersion"), text(doc, "/kind"));
        let ns = doc.pointer("/metadata/namespace").and_then(Value::as_str).filter(|n| !n.is_empty());
        if api_version == KUBEFED_API_VERSION && kind == "FederatedNamespace" {
            return Some(ns.unwrap_or(text(doc, "/metadata/name")).to_owned());
        }
        ns.map(str::to_owned)
    };
    let named: std::collections::BTreeSet<String> = docs.iter().filter_map(namespace_of).collect();
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for doc in docs {
        let (api_version, kind, name) = (text(doc, "/apiVersion"), text(doc, "/kind"), text(doc, "/metadata/name"));
        if api_version == "v1" && kind == "Namespace" {
            let labelled = doc.pointer(&format!("/metadata/labels/{}", PROJECT_LABEL.replace('/', "~1"))).is_some();
            if labelled || named.contains(name) {
                groups.entry(name.to_owned()).or_default().push(doc.clone());
                continue;
            }
        }
        if let Some(ns) = namespace_of(doc) {
            groups.entry(ns).or_default().push(doc.clone());
            continue;
        }
        let outcome = if api_version == KUBEFED_API_VERSION {
            federated(doc, kind, Home::Workspace)
        } else if api_version.starts_with("types.kubefed.io/") || api_version.starts_with("core.kubefed.io/") {
            Err(format!("{api_version} is not read: export it as {KUBEFED_API_VERSION}"))
        } else {
            plain(doc, Home::Workspace)
        };
        match outcome {
            Ok(resource) => plan.resources.push(resource),
            Err(why) => plan.problems.push(format!("{kind} {name}: {why}")),
        }
    }
    for (namespace, docs) in groups {
        let mut project = plan_import(&docs);
        project.namespace = Some(namespace);
        plan.problems.append(&mut project.problems);
        plan.projects.push(project);
    }
    plan
}

/// The label a project's namespace carries with the project's name.
pub const PROJECT_LABEL: &str = "flotilla.io/project";

/// Where an imported object goes: a project (namespaced kinds) or its workspace
/// (cluster-scoped ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Home {
    Project,
    Workspace,
}

impl Home {
    /// Why an object of `api_version`/`kind` cannot live here, if it cannot.
    fn refuses(self, api_version: &str, kind: &str) -> Option<&'static str> {
        match (self, crate::kinds::is_cluster_scoped(api_version, kind)) {
            (Home::Project, Some(true)) => Some("cluster-scoped: it belongs in a workspace, not a project"),
            (Home::Workspace, Some(false) | None) => {
                Some("namespaced (or of a kind Flotilla cannot tell): it needs a metadata.namespace, its project")
            }
            _ => None,
        }
    }
}

/// A plain object: placed everywhere in the project (or workspace), no overrides.
fn plain(doc: &Value, home: Home) -> std::result::Result<ImportedResource, String> {
    if !doc.is_object() || text(doc, "/kind").is_empty() || text(doc, "/apiVersion").is_empty() {
        return Err("not a Kubernetes object (apiVersion and kind are needed)".into());
    }
    if let Some(why) = home.refuses(text(doc, "/apiVersion"), text(doc, "/kind")) {
        return Err(why.into());
    }
    let mut template = doc.clone();
    crate::resource::strip_server_fields(&mut template);
    if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("namespace");
    }
    Ok(ImportedResource { template, placement: Placement::everywhere(), overrides: Vec::new() })
}

/// A `Federated<Kind>`.
fn federated(doc: &Value, federated_kind: &str, home: Home) -> std::result::Result<ImportedResource, String> {
    let Some(kind) = federated_kind.strip_prefix("Federated").filter(|k| !k.is_empty()) else {
        return Err(format!("{federated_kind} is not a federated type (Federated<Kind>)"));
    };
    let spec = doc.get("spec").ok_or("it has no spec")?;
    let mut template = spec.get("template").cloned().unwrap_or_else(|| json!({}));
    let Some(t) = template.as_object_mut() else { return Err("spec.template must be an object".into()) };
    let api_version = match t.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v.to_owned(),
        None => builtin_api_version(kind)
            .ok_or_else(|| {
                format!("the template names no apiVersion, and {kind} is not a kind Flotilla knows: add it")
            })?
            .to_owned(),
    };
    if let Some(why) = home.refuses(&api_version, kind) {
        return Err(why.into());
    }
    t.insert("apiVersion".into(), api_version.into());
    t.insert("kind".into(), kind.into());
    let meta = t.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else { return Err("spec.template.metadata must be an object".into()) };
    meta.insert("name".into(), text(doc, "/metadata/name").into());
    meta.remove("namespace");
    let placement = placement(spec.get("placement"))?;
    let overrides = overrides(spec.get("overrides"))?;
    Ok(ImportedResource { template, placement, overrides })
}

/// A `FederatedNamespace`: the project's selector, if its placement is by label.
fn federated_namespace(doc: &Value) -> std::result::Result<Option<String>, String> {
    let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    if spec.get("overrides").and_then(Value::as_array).is_some_and(|o| !o.is_empty()) {
        return Err("overrides of the namespace itself have no equivalent (the project sets its labels)".into());
    }
    match placement(spec.get("placement"))? {
        Placement { clusters: Some(_), .. } => {
            Err("placed by cluster names: a project selects clusters by label; label those clusters and use a \
             clusterSelector (each resource may still name its clusters)"
                .into())
        }
        Placement { selector, .. } => Ok(selector.filter(|s| !s.is_empty())),
    }
}

/// KubeFed's placement.
fn placement(value: Option<&Value>) -> std::result::Result<Placement, String> {
    let Some(p) = value.filter(|p| !p.is_null()) else { return Ok(Placement::clusters(Vec::<String>::new())) };
    if let Some(clusters) = p.get("clusters").filter(|c| !c.is_null()) {
        let names = clusters.as_array().ok_or("placement.clusters must be a list")?;
        let names: Vec<String> = names.iter().map(|c| text(c, "/name").to_owned()).collect();
        if names.iter().any(String::is_empty) {
            return Err("every placement.clusters entry needs a name".into());
        }
        return Ok(Placement::clusters(names));
    }
    let Some(selector) = p.get("clusterSelector").filter(|s| !s.is_null()) else {
        return Ok(Placement::clusters(Vec::<String>::new()));
    };
    let labels: BTreeMap<String, String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let expressions: Vec<(String, String, Vec<String>)> = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let values = e.get("values").and_then(Value::as_array).into_iter().flatten();
            (
                text(e, "/key").to_owned(),
                text(e, "/operator").to_owned(),
                values.filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            )
        })
        .collect();
    let selector =
        LabelSelector::from_match(&labels, &expressions).map_err(|e| format!("clusterSelector: {}", e.reason()))?;
    if selector.is_everything() {
        return Ok(Placement::everywhere());
    }
    Ok(Placement::selector(selector.to_string()))
}

/// KubeFed's overrides.
fn overrides(value: Option<&Value>) -> std::result::Result<Vec<ClusterOverride>, String> {
    let mut out = Vec::new();
    for o in value.and_then(Value::as_array).into_iter().flatten() {
        let cluster = text(o, "/clusterName");
        if cluster.is_empty() {
            return Err("every override needs a clusterName".into());
        }
        let mut patches = Vec::new();
        for p in o.get("clusterOverrides").and_then(Value::as_array).into_iter().flatten() {
            let op = match p.get("op").and_then(Value::as_str).unwrap_or("replace") {
                "add" => OverrideOp::Add,
                "remove" => OverrideOp::Remove,
                "replace" | "" => OverrideOp::Replace,
                other => return Err(format!("override op `{other}` (KubeFed knows add, remove, replace)")),
            };
            patches.push(OverridePatch { op, path: text(p, "/path").to_owned(), value: p.get("value").cloned() });
        }
        out.push(ClusterOverride { cluster: cluster.to_owned(), selector: None, patches });
    }
    Ok(out)
}

/// A resource to export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedResource<'a> {
    pub template: &'a Value,
    pub placement: &'a Placement,
    pub overrides: &'a [ClusterOverride],
}

/// The project `namespace` (selecting `project_selector` within its workspace) and its
/// resources as plain YAML (`kubefed` false: the objects, namespaced, as `kubectl apply -f`
/// takes them; placement and overrides have no plain form and are left out) or as KubeFed's
/// documents. Deterministic: a `FederatedNamespace` (or `Namespace`, labelled as the
/// project's) first, then the objects in apply order, by kind and name; keys sorted. What
/// has no KubeFed form (overrides by label selector) is answered in the second value.
pub fn export(
    namespace: &str,
    project_selector: &str,
    resources: &[ExportedResource<'_>],
    kubefed: bool,
) -> Result<(String, Vec<String>)> {
    let mut docs = Vec::new();
    let mut left_out = Vec::new();
    if kubefed {
        let selector = LabelSelector::parse(project_selector)?;
        docs.push(json!({
            "apiVersion": KUBEFED_API_VERSION, "kind": "FederatedNamespace",
            "metadata": {"name": namespace, "namespace": namespace},
            "spec": {"placement": {"clusterSelector": cluster_selector(&selector)}},
        }));
    } else {
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {PROJECT_LABEL: namespace}}}));
    }
    let own = resources.iter().filter(|r| text(r.template, "/kind") != "Namespace");
    for r in in_apply_order(own) {
        docs.push(if kubefed {
            federated_doc(r, Some(namespace), &mut left_out)?
        } else {
            plain_doc(r, Some(namespace))
        });
    }
    Ok((to_documents(&docs)?, left_out))
}

/// A project of a workspace to export: its namespace, selector and resources.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedProject<'a> {
    pub namespace: &'a str,
    pub selector: &'a str,
    pub resources: Vec<ExportedResource<'a>>,
}

/// A workspace as YAML: its own cluster-scoped resources (in apply order, by kind and name),
/// then each project (by name) as [`export`] writes it; plain or KubeFed's. Importing it into
/// a workspace ([`plan_workspace_import`]) makes the same resources and projects again.
pub fn export_workspace(
    own: &[ExportedResource<'_>],
    projects: &[ExportedProject<'_>],
    kubefed: bool,
) -> Result<(String, Vec<String>)> {
    let mut left_out = Vec::new();
    let mut docs = Vec::new();
    for r in in_apply_order(own.iter()) {
        if kubefed && text(r.template, "/kind") == "Namespace" {
            left_out.push(format!(
                "Namespace {}: KubeFed federates a namespace only as a FederatedNamespace, which imports as a \
                 project: exported plain",
                text(r.template, "/metadata/name")
            ));
            docs.push(plain_doc(r, None));
            continue;
        }
        docs.push(if kubefed { federated_doc(r, None, &mut left_out)? } else { plain_doc(r, None) });
    }
    let mut out = to_documents(&docs)?;
    let mut sorted: Vec<&ExportedProject<'_>> = projects.iter().collect();
    sorted.sort_by_key(|p| p.namespace);
    for p in sorted {
        let (yaml, mut notes) = export(p.namespace, p.selector, &p.resources, kubefed)?;
        out.push_str(&yaml);
        left_out.append(&mut notes);
    }
    Ok((out, left_out))
}

/// `resources` in apply order, then by kind and name.
fn in_apply_order<'r, 'a: 'r>(
    resources: impl Iterator<Item = &'r ExportedResource<'a>>,
) -> Vec<&'r ExportedResource<'a>> {
    let mut sorted: Vec<&ExportedResource<'_>> = resources.collect();
    sorted.sort_by_key(|r| {
        let (a, k) = (text(r.template, "/apiVersion"), text(r.template, "/kind"));
        (crate::kinds::apply_order(a, k), k.to_owned(), text(r.template, "/metadata/name").to_owned())
    });
    sorted
}

/// The object as `kubectl apply -f` takes it, in `namespace` (if namespaced).
fn plain_doc(r: &ExportedResource<'_>, namespace: Option<&str>) -> Value {
    let mut object = r.template.clone();
    if let (Some(ns), Some(meta)) = (namespace, object.get_mut("metadata").and_then(Value::as_object_mut)) {
        meta.insert("namespace".into(), ns.into());
    }
    object
}

/// The resource as a KubeFed `Federated<Kind>` (in `namespace`, if namespaced); what of it
/// has no KubeFed form is said in `left_out`.
fn federated_doc(r: &ExportedResource<'_>, namespace: Option<&str>, left_out: &mut Vec<String>) -> Result<Value> {
    let (kind, name) = (text(r.template, "/kind"), text(r.template, "/metadata/name"));
    let mut template = r.template.clone();
    if let Some(t) = template.as_object_mut()
        && let Some(meta) = t.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.remove("name");
        meta.remove("namespace");
        if meta.is_empty() {
            t.remove("metadata");
        }
    }
    let placement = match (&r.placement.clusters, &r.placement.selector) {
        (Some(names), _) => json!({"clusters": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}),
        (None, selector) => {
            json!({"clusterSelector": cluster_selector(&LabelSelector::parse(selector.as_deref().unwrap_or(""))?)})
        }
    };
    let mut overrides = Vec::new();
    for o in r.overrides {
        if o.cluster.is_empty() {
            left_out.push(format!(
                "{kind} {name}: an override for clusters selected by `{}` has no KubeFed form (KubeFed names each cluster)",
                o.selector.as_deref().unwrap_or("")
            ));
            continue;
        }
        let patches: Vec<Value> = o
            .patches
            .iter()
            .map(|p| {
                let mut patch = json!({"path": p.path});
                if p.op != OverrideOp::Replace {
                    patch["op"] = json!(match p.op {
                        OverrideOp::Add => "add",
                        OverrideOp::Remove => "remove",
                        OverrideOp::Replace => "replace",
                    });
                }
                if let Some(v) = &p.value {
                    patch["value"] = v.clone();
                }
                patch
            })
            .collect();
        overrides.push(json!({"clusterName": o.cluster, "clusterOverrides": patches}));
    }
    let mut spec = json!({"template": template, "placement": placement});
    if !overrides.is_empty() {
        spec["overrides"] = Value::Array(overrides);
    }
    let mut metadata = json!({"name": name});
    if let Some(ns) = namespace {
        metadata["namespace"] = ns.into();
    }
    Ok(
        json!({"apiVersion": KUBEFED_API_VERSION, "kind": format!("Federated{kind}"), "metadata": metadata, "spec": spec}),
    )
}

/// `docs` as one multi-document YAML text, keys sorted.
fn to_documents(docs: &[Value]) -> Result<String> {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&crate::review::to_yaml(&sorted_keys(doc))?);
    }
    Ok(out)
}

/// A selector in KubeFed's structured form (`{}` for everything).
fn cluster_selector(selector: &LabelSelector) -> Value {
    let mut labels = Map::new();
    let mut expressions = Vec::new();
    for r in selector.requirements() {
        let values: Vec<&str> = r.values().collect();
        if r.operator() == Operator::In && values.len() == 1 {
            labels.insert(r.key().to_owned(), values[0].into());
        } else {
            let mut e = json!({"key": r.key(), "operator": r.operator().as_str()});
            if !values.is_empty() {
                e["values"] = json!(values);
            }
            expressions.push(e);
        }
    }
    let mut out = Map::new();
    if !labels.is_empty() {
        out.insert("matchLabels".into(), Value::Object(labels));
    }
    if !expressions.is_empty() {
        out.insert("matchExpressions".into(), Value::Array(expressions));
    }
    Value::Object(out)
}

/// `value` with every object's keys in byte order.
fn sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted_keys(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written as KubeFed's documentation shows its types.
    const KUBEFED: &str = r#"
apiVersion: types.kubefed.io/v1beta1
kind: FederatedNamespace
metadata:
  name: shop
  namespace: shop
spec:
  placement:
    clusterSelector:
      matchLabels:
        env: prod
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedDeployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      replicas: 3
      selector:
        matchLabels:
          app: web
      template:
        metadata:
          labels:
            app: web
        spec:
          containers:
          - image: nginx:1.27
            name: web
  placement:
    clusters:
    - name: prod-eu-1
    - name: prod-us-1
  overrides:
  - clusterName: prod-us-1
    clusterOverrides:
    - path: "/spec/replicas"
      value: 5
    - path: "/metadata/labels/region"
      op: add
      value: us
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata:
  name: settings
  namespace: shop
spec:
  template:
    data:
      level: info
  placement:
    clusterSelector:
      matchExpressions:
      - key: region
        operator: In
        values: [eu, us]
"#;

    #[test]
    fn kubefed_documents_become_a_projects_resources() {
        let plan = plan_import(&read_documents(KUBEFED).unwrap());
        assert_eq!(plan.problems, Vec::<String>::new());
        assert_eq!(plan.namespace.as_deref(), Some("shop"));
        assert_eq!(plan.project_selector.as_deref(), Some("env=prod"));
        let web = &plan.resources[0];
        assert_eq!(web.template["apiVersion"], "apps/v1");
        assert_eq!(web.template["kind"], "Deployment");
        assert_eq!(web.template["metadata"], json!({"name": "web", "labels": {"app": "web"}}));
        assert_eq!(web.placement, Placement::clusters(["prod-eu-1", "prod-us-1"]));
        assert_eq!(web.overrides[0].cluster, "prod-us-1");
        assert_eq!(web.overrides[0].patches[1].op, OverrideOp::Add);
        let settings = &plan.resources[1];
        assert_eq!(settings.template["apiVersion"], "v1");
        assert_eq!(settings.placement, Placement::selector("region in (eu,us)"));
    }

    #[test]
    fn what_has_no_equivalent_is_named() {
        let docs = read_documents(
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedClusterRole\nmetadata: {name: r}\nspec: {template: {rules: []}}\n\
             ---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedWidget\nmetadata: {name: w, namespace: a}\nspec: {template: {}}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: b}\n\
             ---\napiVersion: core.kubefed.io/v1beta1\nkind: KubeFedCluster\nmetadata: {name: k}\n",
        )
        .unwrap();
        let plan = plan_import(&docs);
        let problems = plan.problems.join("\n");
        assert!(problems.contains("FederatedClusterRole r: cluster-scoped"), "{problems}");
        assert!(problems.contains("FederatedWidget w: the template names no apiVersion"), "{problems}");
        assert!(problems.contains("KubeFedCluster k: core.kubefed.io/v1beta1 is not read"), "{problems}");
        assert!(problems.contains("several namespaces (a, b)"), "{problems}");
        assert!(read_documents("").is_err() && read_documents("a: [").is_err());
    }

    #[test]
    fn no_placement_places_nowhere_and_an_empty_selector_everywhere() {
        assert_eq!(placement(None).unwrap(), Placement::clusters(Vec::<String>::new()));
        assert_eq!(placement(Some(&json!({"clusterSelector": {}}))).unwrap(), Placement::everywhere());
    }

    #[test]
    fn an_export_imports_back_into_the_same_resources_in_either_form() {
        let plan = plan_import(&read_documents(KUBEFED).unwrap());
        let exported: Vec<ExportedResource<'_>> = plan
            .resources
            .iter()
            .map(|r| ExportedResource { template: &r.template, placement: &r.placement, overrides: &r.overrides })
            .collect();
        let (yaml, left_out) = export("shop", "env=prod", &exported, true).unwrap();
        assert!(left_out.is_empty());
        let again = plan_import(&read_documents(&yaml).unwrap());
        assert_eq!((again.namespace.as_deref(), again.project_selector.as_deref()), (Some("shop"), Some("env=prod")));
        let key = |r: &ImportedResource| text(&r.template, "/kind").to_owned();
        let (mut a, mut b) = (plan.resources.clone(), again.resources.clone());
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "{yaml}");
        // Deterministic: the same resources in another order export to the same text.
        let reversed: Vec<_> = exported.iter().rev().cloned().collect();
        assert_eq!(export("shop", "env=prod", &reversed, true).unwrap().0, yaml);

        // Plain YAML keeps the objects (placement and overrides have no plain form).
        let (plain_yaml, _) = export("shop", "", &exported, false).unwrap();
        assert!(plain_yaml.starts_with("---\napiVersion: v1\nkind: Namespace\n"), "{plain_yaml}");
        let plain = plan_import(&read_documents(&plain_yaml).unwrap());
        assert_eq!(plain.namespace.as_deref(), Some("shop"));
        let templates = |rs: &[ImportedResource]| {
            let mut t: Vec<Value> = rs.iter().map(|r| r.template.clone()).collect();
            t.sort_by_key(|v| text(v, "/kind").to_owned());
            t
        };
        assert_eq!(templates(&plain.resources), templates(&plan.resources));
    }

    #[test]
    fn a_workspace_export_imports_back_into_the_same_projects_and_resources() {
        let shop = plan_import(&read_documents(KUBEFED).unwrap());
        let blog = plan_import(
            &read_documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: blog}\n").unwrap(),
        );
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
        let spare = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "spare"}});
        let (eu, everywhere) = (Placement::selector("region=eu"), Placement::everywhere());
        let own = [
            ExportedResource { template: &role, placement: &eu, overrides: &[] },
            ExportedResource { template: &spare, placement: &everywhere, overrides: &[] },
        ];
        fn exported(plan: &ImportPlan) -> Vec<ExportedResource<'_>> {
            plan.resources
                .iter()
                .map(|r| ExportedResource { template: &r.template, placement: &r.placement, overrides: &r.overrides })
                .collect()
        }
        let projects = [
            ExportedProject { namespace: "shop", selector: "env=prod", resources: exported(&shop) },
            ExportedProject { namespace: "blog", selector: "", resources: exported(&blog) },
        ];
        for kubefed in [true, false] {
            let (yaml, notes) = export_workspace(&own, &projects, kubefed).unwrap();
            let again = plan_workspace_import(&read_documents(&yaml).unwrap());
            assert_eq!(again.problems, Vec::<String>::new(), "{yaml}");
            let names: Vec<&str> = again.projects.iter().map(|p| p.namespace.as_deref().unwrap()).collect();
            assert_eq!(names, ["blog", "shop"], "{yaml}");
            let own_again: Vec<&Value> = again.resources.iter().map(|r| &r.template).collect();
            assert_eq!(own_again, [&spare, &role], "the Namespace of no project stays the workspace's: {yaml}");
            assert_eq!(again.projects[1].resources.len(), shop.resources.len());
            if kubefed {
                assert_eq!(notes.len(), 1, "the spare Namespace is exported plain: {notes:?}");
                assert_eq!(again.resources[1].placement, eu, "placement kept");
                assert_eq!(again.projects[1].project_selector.as_deref(), Some("env=prod"));
                let (mut a, mut b) = (shop.resources.clone(), again.projects[1].resources.clone());
                a.sort_by_key(|r| text(&r.template, "/kind").to_owned());
                b.sort_by_key(|r| text(&r.template, "/kind").to_owned());
                assert_eq!(a, b);
            }
            // Deterministic: projects in another order give the same text.
            let reversed = [projects[1].clone(), projects[0].clone()];
            assert_eq!(export_workspace(&own, &reversed, kubefed).unwrap().0, yaml);
        }
        // A namespaced object naming no namespace has no project to go to.
        let bare =
            plan_workspace_import(&read_documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").unwrap());
        assert_eq!(bare.problems.len(), 1, "{:?}", bare.problems);
        assert!(bare.problems[0].starts_with("ConfigMap c: namespaced"), "{:?}", bare.problems);
    }
}
