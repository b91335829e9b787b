//! The resource types a simulated cluster serves: the built-in kinds and, per cluster, the
//! custom resources its Established CRDs define.

use serde_json::{Value, json};

/// What kind of workload a type is, for the rollout simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Deployment,
    StatefulSet,
    DaemonSet,
}

/// One servable resource type (a row of an APIResourceList).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Served with a `/status` subresource: status is ignored on the main endpoint.
    pub status_subresource: bool,
    /// Objects carry `metadata.generation`, bumped when anything but metadata/status changes.
    pub has_generation: bool,
    pub workload: Option<Workload>,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The (group, plural) pair objects are stored under.
    pub fn key(&self) -> TypeKey {
        TypeKey { group: self.group.clone(), plural: self.plural.clone() }
    }

    /// Its entry in an APIResourceList.
    pub fn discovery_entry(&self) -> Value {
        let mut verbs = vec!["create", "delete", "get", "list", "patch", "update", "watch"];
        if self.plural != "namespaces" {
            verbs.push("deletecollection");
        }
        let mut entry = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        });
        if !self.short_names.is_empty() {
            entry["shortNames"] = json!(self.short_names);
        }
        entry
    }
}

/// Where a type's objects live in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeKey {
    pub group: String,
    pub plural: String,
}

#[allow(clippy::too_many_arguments)]
fn t(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    status_subresource: bool,
    has_generation: bool,
    workload: Option<Workload>,
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        status_subresource,
        has_generation,
        workload,
    }
}

/// The kinds every simulated cluster serves.
pub fn builtin() -> Vec<ResourceType> {
    use Workload::*;
    vec![
        t("", "v1", "Namespace", "namespaces", false, &["ns"], true, false, None),
        t("", "v1", "ConfigMap", "configmaps", true, &["cm"], false, false, None),
        t("", "v1", "Secret", "secrets", true, &[], false, false, None),
        t("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], false, false, None),
        t("", "v1", "Service", "services", true, &["svc"], true, false, None),
        t("", "v1", "ResourceQuota", "resourcequotas", true, &["quota"], true, false, None),
        t("", "v1", "LimitRange", "limitranges", true, &["limits"], false, false, None),
        t("apps", "v1", "Deployment", "deployments", true, &["deploy"], true, true, Some(Deployment)),
        t("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], true, true, Some(StatefulSet)),
        t("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], true, true, Some(DaemonSet)),
        t("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[], false, false, None),
        t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[], false, false, None),
        t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[], false, false, None),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            &[],
            false,
            false,
            None,
        ),
        t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &["netpol"], false, true, None),
        t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["pdb"], true, true, None),
        t(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
            true,
            true,
            None,
        ),
    ]
}

/// The types an Established CRD object defines (one per served version).
pub fn from_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let plural = names["plural"].as_str().unwrap_or_default();
    let singular = names["singular"].as_str().map(str::to_owned).unwrap_or_else(|| kind.to_ascii_lowercase());
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| Some((v["name"].as_str()?, v)))
        .map(|(version, v)| ResourceType {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            singular: singular.clone(),
            namespaced,
            short_names: short_names.clone(),
            // `subresources: {status: {}}`: status written through `/status` only, as a
            // controller does; writes of the object keep it.
            status_subresource: v.pointer("/subresources/status").is_some_and(Value::is_object),
            has_generation: true,
            workload: None,
        })
        .collect()
}
