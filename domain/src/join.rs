//! Flotilla's own identity in a member cluster, as a join creates it (what `kubefedctl
//! join` does, with least privilege instead of cluster-admin): the objects an admin's
//! access applies once, the permissions they grant, and the binding that opens each project
//! namespace to the identity.
//!
//! The identity is the ServiceAccount `flotilla-system/flotilla-hub`. It holds:
//!
//! - **Cluster-wide** (ClusterRole `flotilla:hub`): Namespaces (a project is a namespace in
//!   each of its clusters); reading the managed kinds (its watches select Flotilla's own
//!   objects by label, a filter RBAC cannot express; Secrets excepted, watched per
//!   namespace); creating the grant binding in a new project namespace (`bind` on
//!   `flotilla:namespace` only); and the cluster-scoped kinds a tenant chose to let its
//!   workspaces manage.
//! - **In each project namespace** (RoleBinding `flotilla-hub` to ClusterRole
//!   `flotilla:namespace`, kept by Flotilla as one of the project's resources): every verb on
//!   the managed kinds, `bind` and `escalate` on the project's Roles, and `bind` on the
//!   ClusterRoles `admin`, `edit` and `view` for the project's access bindings. What goes
//!   into those is weighed by Flotilla's policy (`crate::policy`) before it is written.
//! - **In `flotilla-system`** (Role `flotilla:credentials`): its own token Secrets, so the
//!   hub can rotate its credentials without an admin.
//!
//! Never: nodes, pods, exec, impersonation, other cluster-scoped kinds, or writes into a
//! namespace that is not a project's.

use serde_json::{Value, json};

/// The namespace the identity lives in.
pub const NAMESPACE: &str = "flotilla-system";
/// The identity's ServiceAccount.
pub const SERVICE_ACCOUNT: &str = "flotilla-hub";
/// The ClusterRole of its cluster-wide permissions, and the name of their binding.
pub const HUB_ROLE: &str = "flotilla:hub";
/// The ClusterRole bound in each project namespace.
pub const NAMESPACE_ROLE: &str = "flotilla:namespace";
/// The Role (and binding) in [`NAMESPACE`] for rotating its own token.
pub const CREDENTIALS_ROLE: &str = "flotilla:credentials";
/// The prefix of its token Secrets' names (a rotation adds a new one, then removes the old).
pub const TOKEN_SECRET_PREFIX: &str = "flotilla-hub-token-";
/// The binding in each project namespace that opens it to the identity.
pub const HUB_GRANT_BINDING: &str = "flotilla-hub";
/// The label Flotilla sets on a joined cluster (value [`SERVICE_ACCOUNT`]): the project
/// grant binding is placed on the clusters carrying it.
pub const IDENTITY_LABEL: &str = "flotilla.io/identity";
/// Marks every object a join creates, so that an unjoin finds them all.
pub const JOIN_LABEL: &str = "flotilla.io/join";
/// On the identity's ServiceAccount: the tenant (of one hub) it works for. A member has one
/// identity; another tenant, or another hub, joining the same cluster would take it over
/// (and rotate the first one's token away), so joins and unjoins by anyone else are refused.
pub const OWNER_ANNOTATION: &str = "flotilla.io/owner";

const RBAC: &str = "rbac.authorization.k8s.io";
const ALL_VERBS: [&str; 8] = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

/// A type as RBAC names it: API group and plural resource name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeRef {
    pub group: String,
    pub resource: String,
}

impl TypeRef {
    pub fn new(group: &str, resource: &str) -> Self {
        Self { group: group.to_owned(), resource: resource.to_owned() }
    }
}

/// The namespaced kinds every project may hold (the built-in kinds Flotilla's policy
/// weighs), which a join grants unless told otherwise.
pub const STANDARD_NAMESPACED: [(&str, &str); 18] = [
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    (RBAC, "roles"),
    (RBAC, "rolebindings"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("policy", "poddisruptionbudgets"),
    ("autoscaling", "horizontalpodautoscalers"),
];

/// What a join lets Flotilla manage in a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGrant {
    /// Kinds Flotilla writes in project namespaces (and reads cluster-wide, but Secrets).
    pub namespaced: Vec<TypeRef>,
    /// Cluster-scoped kinds besides Namespaces that workspaces may write.
    pub cluster: Vec<TypeRef>,
}

impl Default for JoinGrant {
    fn default() -> Self {
        Self::standard()
    }
}

impl JoinGrant {
    /// The standard kinds in projects; no cluster-scoped kind but Namespaces.
    pub fn standard() -> Self {
        Self { namespaced: STANDARD_NAMESPACED.iter().map(|(g, r)| TypeRef::new(g, r)).collect(), cluster: Vec::new() }
    }

    /// With `namespaced` and `cluster` kinds added (custom resources a tenant's apps use,
    /// cluster-scoped kinds its workspaces hold), each once, in a stable order.
    pub fn with(
        mut self,
        namespaced: impl IntoIterator<Item = TypeRef>,
        cluster: impl IntoIterator<Item = TypeRef>,
    ) -> Self {
        self.namespaced.extend(namespaced);
        self.cluster.extend(cluster.into_iter().filter(|t| !(t.group.is_empty() && t.resource == "namespaces")));
        for list in [&mut self.namespaced, &mut self.cluster] {
            list.sort();
            list.dedup();
        }
        self
    }

    /// Whether the grant lets workspaces write cluster RBAC, admission or CRDs: as much
    /// as cluster-admin, since any of them can grant the rest.
    pub fn equals_cluster_admin(&self) -> bool {
        self.cluster.iter().any(|t| {
            matches!(
                (t.group.as_str(), t.resource.as_str()),
                (RBAC, "clusterroles" | "clusterrolebindings")
                    | ("admissionregistration.k8s.io", _)
                    | ("apiextensions.k8s.io", "customresourcedefinitions")
                    | (_, "*")
            )
        })
    }
}

/// RBAC rules giving `verbs` on `types`, one rule per API group (groups sorted).
fn rules(types: &[TypeRef], verbs: &[&str], skip: impl Fn(&TypeRef) -> bool) -> Vec<Value> {
    let mut by_group: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for t in types.iter().filter(|t| !skip(t)) {
        by_group.entry(&t.group).or_default().push(&t.resource);
    }
    by_group
        .into_iter()
        .map(|(group, resources)| json!({"apiGroups": [group], "resources": resources, "verbs": verbs}))
        .collect()
}

fn metadata(name: &str, namespace: Option<&str>) -> Value {
    let mut meta = json!({"name": name, "labels": {JOIN_LABEL: SERVICE_ACCOUNT}});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    meta
}

fn subject() -> Value {
    json!([{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}])
}

fn is_secrets(t: &TypeRef) -> bool {
    t.group.is_empty() && t.resource == "secrets"
}

/// The ClusterRole of the identity's cluster-wide permissions.
pub fn hub_role(grant: &JoinGrant) -> Value {
    let mut all = vec![json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ALL_VERBS[..7]})];
    all.extend(rules(&grant.namespaced, &READ_VERBS, is_secrets));
    all.push(
        json!({"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["get", "create", "patch", "update"]}),
    );
    all.push(json!({"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": [NAMESPACE_ROLE]}));
    all.extend(rules(&grant.cluster, &ALL_VERBS, |_| false));
    // Writing ClusterRoles and their bindings is escalation by nature: Kubernetes lets it only
    // with `escalate` and `bind` (the grant says it equals cluster-admin).
    if grant
        .cluster
        .iter()
        .any(|t| t.group == RBAC && matches!(t.resource.as_str(), "clusterroles" | "clusterrolebindings"))
    {
        all.push(json!({"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]}));
    }
    json!({"apiVersion": format!("{RBAC}/v1"), "kind": "ClusterRole", "metadata": metadata(HUB_ROLE, None), "rules": all})
}

/// The ClusterRole bound in each project namespace.
pub fn namespace_role(grant: &JoinGrant) -> Value {
    let mut all = rules(&grant.namespaced, &ALL_VERBS, |_| false);
    all.push(json!({"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["bind", "escalate"]}));
    all.push(json!({"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"],
                    "resourceNames": ["admin", "edit", "view"]}));
    json!({"apiVersion": format!("{RBAC}/v1"), "kind": "ClusterRole", "metadata": metadata(NAMESPACE_ROLE, None), "rules": all})
}

/// Everything a join applies for `owner` (marked on the ServiceAccount,
/// [`OWNER_ANNOTATION`]), in the order to apply it (an unjoin deletes in reverse), but the
/// token Secrets, which are made one at a time ([`token_secret_object`]) and go with the
/// namespace.
pub fn identity_objects(grant: &JoinGrant, owner: &str) -> Vec<Value> {
    let rbac = format!("{RBAC}/v1");
    let role_ref = |kind: &str, name: &str| json!({"apiGroup": RBAC, "kind": kind, "name": name});
    let mut account = metadata(SERVICE_ACCOUNT, Some(NAMESPACE));
    account["annotations"] = json!({OWNER_ANNOTATION: owner});
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(NAMESPACE, None)}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account}),
        hub_role(grant),
        namespace_role(grant),
        json!({"apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": metadata(HUB_ROLE, None),
               "subjects": subject(), "roleRef": role_ref("ClusterRole", HUB_ROLE)}),
        json!({"apiVersion": rbac, "kind": "Role", "metadata": metadata(CREDENTIALS_ROLE, Some(NAMESPACE)),
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create", "delete"]}]}),
        json!({"apiVersion": rbac, "kind": "RoleBinding", "metadata": metadata(CREDENTIALS_ROLE, Some(NAMESPACE)),
               "subjects": subject(), "roleRef": role_ref("Role", CREDENTIALS_ROLE)}),
    ]
}

/// A token Secret of the identity named `name` (the member's token controller fills it).
pub fn token_secret_object(name: &str) -> Value {
    let mut meta = metadata(name, Some(NAMESPACE));
    meta["annotations"] = json!({"kubernetes.io/service-account.name": SERVICE_ACCOUNT});
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": meta})
}

/// The binding that opens a project namespace to the identity: a resource of every project
/// of a tenant with joined clusters, placed on the clusters labelled [`IDENTITY_LABEL`].
pub fn hub_grant_binding() -> Value {
    json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "RoleBinding",
        "metadata": {"name": HUB_GRANT_BINDING, "annotations": {crate::policy::ALLOW_ESCALATION: "true"}},
        "subjects": subject(),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": NAMESPACE_ROLE},
    })
}

/// Whether a cluster with `labels` is joined: it carries [`IDENTITY_LABEL`].
pub fn is_joined(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get(IDENTITY_LABEL).map(String::as_str) == Some(SERVICE_ACCOUNT)
}

/// The placement selector of [`hub_grant_binding`].
pub fn hub_grant_selector() -> String {
    format!("{IDENTITY_LABEL}={SERVICE_ACCOUNT}")
}

/// Whether a project's object is the grant binding (applied right after its namespace, as
/// everything else in the namespace needs it).
pub fn is_hub_grant(kind: &str, name: &str) -> bool {
    kind == "RoleBinding" && name == HUB_GRANT_BINDING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_grant_reads_widely_but_writes_only_through_project_bindings() {
        let grant = JoinGrant::standard();
        let hub = hub_role(&grant);
        let rules = hub["rules"].as_array().unwrap();
        // Namespaces in full; managed kinds read only; secrets not even read cluster-wide.
        assert_eq!(rules[0]["resources"], json!(["namespaces"]));
        let core_read =
            rules.iter().find(|r| r["apiGroups"] == json!([""]) && r["verbs"] == json!(READ_VERBS)).unwrap();
        assert!(core_read["resources"].as_array().unwrap().contains(&json!("configmaps")));
        assert!(!core_read["resources"].as_array().unwrap().contains(&json!("secrets")));
        let writes_beyond_namespaces_and_bindings = rules.iter().any(|r| {
            r["verbs"].as_array().unwrap().contains(&json!("create"))
                && r["resources"] != json!(["namespaces"])
                && r["resources"] != json!(["rolebindings"])
        });
        assert!(!writes_beyond_namespaces_and_bindings, "{hub:#}");
        let bind = rules.iter().find(|r| r["verbs"] == json!(["bind"])).unwrap();
        assert_eq!(bind["resourceNames"], json!([NAMESPACE_ROLE]));
        assert!(!grant.equals_cluster_admin());
        assert!(!hub.to_string().contains("\"*\""), "no wildcard anywhere");
    }

    #[test]
    fn extra_kinds_are_added_once_and_cluster_rbac_is_named_for_what_it_is() {
        let grant = JoinGrant::standard().with(
            [TypeRef::new("kafka.strimzi.io", "kafkas"), TypeRef::new("", "configmaps")],
            [TypeRef::new("", "namespaces"), TypeRef::new("storage.k8s.io", "storageclasses")],
        );
        assert_eq!(grant.namespaced.iter().filter(|t| t.resource == "configmaps").count(), 1);
        assert!(grant.namespaced.contains(&TypeRef::new("kafka.strimzi.io", "kafkas")));
        assert_eq!(grant.cluster, [TypeRef::new("storage.k8s.io", "storageclasses")]);
        assert!(!grant.equals_cluster_admin());
        let ns_role = namespace_role(&grant);
        assert!(ns_role["rules"].as_array().unwrap().iter().any(|r| r["apiGroups"] == json!(["kafka.strimzi.io"])));
        let escalates =
            |hub: &Value| hub["rules"].as_array().unwrap().iter().any(|r| r["verbs"] == json!(["bind", "escalate"]));
        assert!(!escalates(&hub_role(&grant)), "only with cluster RBAC");
        let rbac = grant.with([], [TypeRef::new(RBAC, "clusterrolebindings")]);
        assert!(rbac.equals_cluster_admin());
        assert!(escalates(&hub_role(&rbac)), "ClusterRoles are written only with escalate and bind");
    }

    #[test]
    fn every_join_object_is_labelled_and_the_token_secret_names_its_account() {
        let mut objects = identity_objects(&JoinGrant::standard(), "tenant-1");
        assert_eq!(objects[0]["kind"], "Namespace");
        assert_eq!(objects[1]["metadata"]["annotations"][OWNER_ANNOTATION], "tenant-1", "the account names its owner");
        objects.push(token_secret_object("flotilla-hub-token-abcde"));
        for o in &objects {
            assert_eq!(o["metadata"]["labels"][JOIN_LABEL], SERVICE_ACCOUNT, "{o}");
        }
        let secret = &objects[objects.len() - 1];
        assert_eq!(secret["type"], "kubernetes.io/service-account-token");
        assert_eq!(secret["metadata"]["annotations"]["kubernetes.io/service-account.name"], SERVICE_ACCOUNT);
        assert!(is_hub_grant("RoleBinding", hub_grant_binding()["metadata"]["name"].as_str().unwrap()));
    }
}
