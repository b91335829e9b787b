//! What Flotilla knows about Kubernetes kinds without asking a cluster (scope, apply order,
//! whether a kind is a workload with health), and what a cluster says it serves
//! ([`ServedType`], from its discovery).

use serde::{Deserialize, Serialize};

/// A type a member cluster serves, as its discovery lists it: the kind at one API version,
/// its plural resource name (the URL path segment) and scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedType {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ServedType {
    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The version within the group.
    pub fn version(&self) -> &str {
        self.api_version.rsplit_once('/').map_or(self.api_version.as_str(), |(_, v)| v)
    }
}

/// Whether a kind is cluster-scoped; `None` for kinds Flotilla does not know (custom
/// resources), whose scope comes from where the resource lives (workspace or project).
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> Option<bool> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let cluster_scoped = matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume")
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("storage.k8s.io", "StorageClass" | "CSIDriver")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("networking.k8s.io", "IngressClass")
            | ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration")
            | ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding")
    );
    let namespaced = matches!(
        (group, kind),
        (
            "",
            "ConfigMap"
                | "Secret"
                | "Service"
                | "ServiceAccount"
                | "ResourceQuota"
                | "LimitRange"
                | "PersistentVolumeClaim"
                | "Pod"
                | "Endpoints"
        ) | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
            | ("batch", "Job" | "CronJob")
            | ("rbac.authorization.k8s.io", "Role" | "RoleBinding")
            | ("networking.k8s.io", "Ingress" | "NetworkPolicy")
            | ("policy", "PodDisruptionBudget")
            | ("autoscaling", "HorizontalPodAutoscaler")
    );
    if cluster_scoped {
        Some(true)
    } else if namespaced {
        Some(false)
    } else {
        None
    }
}

/// Apply order: Namespaces, then CRDs, then the built-in kinds, then custom resources
/// (whose definitions must exist first). Deletion goes in reverse.
pub fn apply_order(api_version: &str, kind: &str) -> u8 {
    match kind {
        "Namespace" if api_version == "v1" => 0,
        "CustomResourceDefinition" => 1,
        _ if is_cluster_scoped(api_version, kind).is_some() => 2,
        _ => 3,
    }
}

/// Workloads whose rollout health Flotilla reports (`x/y` updated and ready).
pub fn is_workload(api_version: &str, kind: &str) -> bool {
    api_version == "apps/v1" && matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
}

/// Kinds whose status Flotilla reads for health: workloads, and custom resources (by their
/// `Ready` condition, where they have one; see [`crate::status::object_health`]).
pub fn reports_health(api_version: &str, kind: &str) -> bool {
    is_workload(api_version, kind) || is_cluster_scoped(api_version, kind).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_known_and_unknown_kinds() {
        assert_eq!(is_cluster_scoped("v1", "Namespace"), Some(true));
        assert_eq!(is_cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole"), Some(true));
        assert_eq!(is_cluster_scoped("v1", "ConfigMap"), Some(false));
        assert_eq!(is_cluster_scoped("apps/v1", "Deployment"), Some(false));
        assert_eq!(is_cluster_scoped("example.com/v1", "Widget"), None);
    }

    #[test]
    fn namespaces_then_crds_then_builtins_then_custom_resources() {
        let mut kinds = [
            ("example.com/v1", "Widget"),
            ("v1", "ConfigMap"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("v1", "Namespace"),
        ];
        kinds.sort_by_key(|(a, k)| apply_order(a, k));
        assert_eq!(
            kinds.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
            ["Namespace", "CustomResourceDefinition", "ConfigMap", "Widget"]
        );
    }
}
