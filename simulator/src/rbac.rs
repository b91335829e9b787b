//! Who is asking and what they may do: the apiserver's service-account tokens and RBAC, as
//! much of them as a least-privilege identity needs to be real.
//!
//! - **Authentication.** The cluster's admin token is `kubernetes-admin` in `system:masters`
//!   (allowed everything, as a kind or kubeadm admin is). Any other bearer token must be the
//!   `token` of a Secret of type `kubernetes.io/service-account-token` whose service account
//!   still exists: the request is then `system:serviceaccount:<namespace>:<name>`. The token
//!   controller fills such a Secret when it is created. Without a token, a client certificate
//!   the simulator's CA signed is the user its subject names (CN, and each O a group), as
//!   kind's and kubeadm's admin kubeconfigs sign in; one in `system:masters` must be one the
//!   cluster issued (a real cluster has a CA of its own, the simulator one for all).
//! - **Authorization.** Roles and ClusterRoles (`apiGroups`, `resources` with subresources,
//!   `verbs`, `resourceNames`, `*`), granted by RoleBindings (in their namespace) and
//!   ClusterRoleBindings (everywhere) to a ServiceAccount, User or Group subject. Discovery
//!   is open to every authenticated user (the `system:discovery` role). A server-side apply
//!   that creates its object needs `create` as well as `patch`.
//! - **Escalation prevention.** Writing a Role or ClusterRole needs every permission it
//!   grants (or `escalate` on it); writing a binding needs every permission of the role it
//!   names (or `bind` on that role), as the apiserver checks.

use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::cluster::Cluster;
use crate::state::ClusterState;

/// The Secret type whose token the token controller fills and authentication accepts.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";
/// The annotation naming the service account such a Secret is a token of.
pub const SERVICE_ACCOUNT_ANNOTATION: &str = "kubernetes.io/service-account.name";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Who sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The cluster's admin token: `system:masters`, allowed everything.
    Admin,
    ServiceAccount {
        namespace: String,
        name: String,
    },
    /// A client certificate's subject.
    User {
        name: String,
        groups: Vec<String>,
    },
}

impl Identity {
    /// The user name RBAC subjects and error messages use.
    pub fn user(&self) -> String {
        match self {
            Identity::Admin => "kubernetes-admin".into(),
            Identity::ServiceAccount { namespace, name } => format!("system:serviceaccount:{namespace}:{name}"),
            Identity::User { name, .. } => name.clone(),
        }
    }

    fn groups(&self) -> Vec<String> {
        match self {
            Identity::Admin => vec!["system:masters".into(), "system:authenticated".into()],
            Identity::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
            Identity::User { groups, .. } => {
                groups.iter().cloned().chain(["system:authenticated".to_owned()]).collect()
            }
        }
    }
}

/// Who `bearer`, else the client certificate `peer` (DER, verified by the TLS listener),
/// is in `cluster`; `None` when nobody. The admin token (every request of the demo fleet
/// and the benches) is told apart without the cluster's state lock.
pub fn authenticate(cluster: &Cluster, bearer: Option<&str>, peer: Option<&[u8]>) -> Option<Identity> {
    let Some(bearer) = bearer.filter(|b| !b.is_empty()) else {
        return peer.and_then(|der| certificate_user(cluster, der));
    };
    if bearer == cluster.token {
        return Some(Identity::Admin);
    }
    let state = cluster.state();
    let encoded = base64::engine::general_purpose::STANDARD.encode(bearer);
    let ((namespace, _), secret) = state.objects_of("", "secrets").find(|(_, secret)| {
        secret["type"] == TOKEN_SECRET_TYPE && secret["data"]["token"].as_str() == Some(encoded.as_str())
    })?;
    let name = secret["metadata"]["annotations"][SERVICE_ACCOUNT_ANNOTATION].as_str()?;
    // A token outlives nothing: its service account must still exist.
    state
        .objects_of("", "serviceaccounts")
        .any(|((ns, sa), _)| ns == namespace && sa == name)
        .then(|| Identity::ServiceAccount { namespace: namespace.clone(), name: name.to_owned() })
}

/// Who a client certificate is in `cluster`: its subject's user and groups. Members of
/// `system:masters` are allowed everything, so only a certificate this cluster issued may
/// claim it (another cluster's admin certificate is not valid here).
fn certificate_user(cluster: &Cluster, der: &[u8]) -> Option<Identity> {
    if cluster.issued_admin_certificate(der) {
        return Some(Identity::Admin);
    }
    let (name, groups) = crate::tls::subject_of(der)?;
    if groups.iter().any(|g| g == "system:masters") {
        return None;
    }
    Some(Identity::User { name, groups })
}

/// The token controller: a new Secret of the token type naming a service account gets a
/// token, and the namespace it is valid in.
pub(crate) fn issue_token(group: &str, plural: &str, namespace: &str, secret: &mut Value) {
    if !(group.is_empty() && plural == "secrets" && secret["type"] == TOKEN_SECRET_TYPE) {
        return;
    }
    if secret["metadata"]["annotations"][SERVICE_ACCOUNT_ANNOTATION].as_str().is_none_or(str::is_empty) {
        return;
    }
    let token = format!("sim-{}-{}", crate::random_token(), crate::random_token());
    let b64 = |s: &str| json!(base64::engine::general_purpose::STANDARD.encode(s));
    if !secret["data"].is_object() {
        secret["data"] = json!({});
    }
    secret["data"]["token"] = b64(&token);
    secret["data"]["namespace"] = b64(namespace);
}

/// One request, as RBAC sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    /// The request's namespace; `None` for cluster-scoped objects and all-namespace lists.
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl Attributes<'_> {
    /// The answer an apiserver gives when this is refused to `who`.
    pub fn forbidden(&self, who: &Identity) -> ApiError {
        let resource = match self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.to_owned(),
        };
        let qualified = if self.group.is_empty() { resource.clone() } else { format!("{resource}.{}", self.group) };
        let named = self.name.map(|n| format!(" \"{n}\"")).unwrap_or_default();
        let scope = match self.namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".into(),
        };
        ApiError::forbidden_message(format!(
            "{qualified}{named} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\"{scope}",
            who.user(),
            self.verb,
            self.group,
        ))
    }
}

/// One PolicyRule of a Role or ClusterRole.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
}

fn has(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

impl Rule {
    fn allows(&self, a: &Attributes<'_>) -> bool {
        let resource_matches = match a.subresource {
            None => has(&self.resources, a.resource),
            Some(sub) => self.resources.iter().any(|r| {
                r == "*"
                    || *r == format!("{}/{sub}", a.resource)
                    || *r == format!("*/{sub}")
                    || *r == format!("{}/*", a.resource)
            }),
        };
        has(&self.verbs, a.verb)
            && has(&self.api_groups, a.group)
            && resource_matches
            && (self.resource_names.is_empty() || a.name.is_some_and(|n| self.resource_names.iter().any(|r| r == n)))
    }

    /// Whether this rule grants all that `other` grants (each of `other`'s atoms: a wildcard
    /// there must be a wildcard here, a rule for all names needs one for all names).
    fn covers(&self, other: &Rule) -> bool {
        let every = |mine: &[String], theirs: &[String]| theirs.iter().all(|t| mine.iter().any(|m| m == "*" || m == t));
        if !other.non_resource_urls.is_empty() {
            return every(&self.verbs, &other.verbs)
                && other.non_resource_urls.iter().all(|u| {
                    self.non_resource_urls
                        .iter()
                        .any(|m| m == u || m == "*" || m.strip_suffix('*').is_some_and(|prefix| u.starts_with(prefix)))
                });
        }
        every(&self.verbs, &other.verbs)
            && every(&self.api_groups, &other.api_groups)
            && every(&self.resources, &other.resources)
            && (self.resource_names.is_empty()
                || (!other.resource_names.is_empty() && every(&self.resource_names, &other.resource_names)))
    }
}

/// Whether `holder`'s rules together grant everything `wanted` grants, split into rules of
/// one verb, group and resource (so that two rules may cover one between them).
fn all_covered(holder: &[Rule], wanted: &[Rule]) -> bool {
    wanted.iter().all(|rule| {
        let one = |v: &String| std::slice::from_ref(v).to_vec();
        if !rule.non_resource_urls.is_empty() {
            return rule.verbs.iter().all(|verb| {
                let atom =
                    Rule { verbs: one(verb), non_resource_urls: rule.non_resource_urls.clone(), ..Rule::default() };
                holder.iter().any(|h| h.covers(&atom))
            });
        }
        rule.verbs.iter().all(|verb| {
            rule.api_groups.iter().all(|group| {
                rule.resources.iter().all(|resource| {
                    let atom = Rule {
                        api_groups: one(group),
                        resources: one(resource),
                        verbs: one(verb),
                        resource_names: rule.resource_names.clone(),
                        non_resource_urls: Vec::new(),
                    };
                    holder.iter().any(|h| h.covers(&atom))
                })
            })
        })
    })
}

fn rules_of(role: &Value) -> Vec<Rule> {
    serde_json::from_value(role["rules"].clone()).unwrap_or_default()
}

/// The rules of the role `role_ref` names, for a binding in `namespace` (`None`: a
/// ClusterRoleBinding, which may name ClusterRoles only); `None` when there is no such role.
fn referenced_rules(state: &ClusterState, role_ref: &Value, namespace: Option<&str>) -> Option<Vec<Rule>> {
    let name = role_ref["name"].as_str().unwrap_or_default();
    let found = match (role_ref["kind"].as_str(), namespace) {
        (Some("ClusterRole"), _) => state.objects_of(RBAC_GROUP, "clusterroles").find(|(k, _)| k.1 == name),
        (Some("Role"), Some(ns)) => state.objects_of(RBAC_GROUP, "roles").find(|(k, _)| k.0 == ns && k.1 == name),
        _ => None,
    };
    found.map(|(_, role)| rules_of(role))
}

fn subject_is(subject: &Value, who: &Identity, groups: &[String]) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("ServiceAccount") => matches!(who, Identity::ServiceAccount { namespace, name: sa }
            if sa == name && subject["namespace"].as_str() == Some(namespace.as_str())),
        Some("User") => who.user() == name,
        Some("Group") => groups.iter().any(|g| g == name),
        _ => false,
    }
}

/// Every rule granted to `who` in `namespace` (cluster-wide grants only when `None`).
fn granted(state: &ClusterState, who: &Identity, namespace: Option<&str>) -> Vec<Rule> {
    let groups = who.groups();
    let bound = |binding: &Arc<Value>| {
        binding["subjects"].as_array().is_some_and(|subjects| subjects.iter().any(|s| subject_is(s, who, &groups)))
    };
    let mut rules = Vec::new();
    for (_, binding) in state.objects_of(RBAC_GROUP, "clusterrolebindings").filter(|(_, b)| bound(b)) {
        rules.extend(referenced_rules(state, &binding["roleRef"], None).into_iter().flatten());
    }
    if let Some(ns) = namespace {
        for (_, binding) in state.objects_of(RBAC_GROUP, "rolebindings").filter(|(k, b)| k.0 == ns && bound(b)) {
            rules.extend(referenced_rules(state, &binding["roleRef"], Some(ns)).into_iter().flatten());
        }
    }
    rules
}

/// Whether `who` may do `attributes`.
pub fn allowed(state: &ClusterState, who: &Identity, attributes: &Attributes<'_>) -> bool {
    match who {
        Identity::Admin => true,
        Identity::ServiceAccount { .. } | Identity::User { .. } => {
            granted(state, who, attributes.namespace).iter().any(|rule| rule.allows(attributes))
        }
    }
}

/// Refuses writing `object` (a Role, ClusterRole or binding, as it would be stored) when it
/// would give more than `who` holds: the apiserver's escalation check.
pub fn check_escalation(
    state: &ClusterState,
    who: &Identity,
    plural: &str,
    namespace: Option<&str>,
    object: &Value,
) -> Result<(), ApiError> {
    let name = object["metadata"]["name"].as_str();
    let refuse = |what: String| {
        ApiError::forbidden_message(format!(
            "{plural}.{RBAC_GROUP} \"{}\" is forbidden: user \"{}\" is attempting to grant RBAC permissions not currently held: {what}",
            name.unwrap_or_default(),
            who.user()
        ))
    };
    let on_rbac =
        |verb, resource, name| Attributes { verb, group: RBAC_GROUP, resource, subresource: None, namespace, name };
    match plural {
        "roles" | "clusterroles" => {
            let may_escalate = allowed(state, who, &on_rbac("escalate", plural, name));
            if may_escalate || all_covered(&granted(state, who, namespace), &rules_of(object)) {
                Ok(())
            } else {
                Err(refuse(object["rules"].to_string()))
            }
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &object["roleRef"];
            let role_plural = if role_ref["kind"] == "ClusterRole" { "clusterroles" } else { "roles" };
            let role_name = role_ref["name"].as_str();
            if allowed(state, who, &on_rbac("bind", role_plural, role_name)) {
                return Ok(());
            }
            // Without `bind`, the role must exist and hold nothing the writer lacks.
            let role_name = role_name.unwrap_or_default();
            let wanted = referenced_rules(state, role_ref, namespace)
                .ok_or_else(|| ApiError::not_found(RBAC_GROUP, role_plural, role_name))?;
            if all_covered(&granted(state, who, namespace), &wanted) {
                Ok(())
            } else {
                Err(refuse(format!("the rules of {} {role_name}", role_ref["kind"])))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: Value) -> Rule {
        serde_json::from_value(value).unwrap_or_default()
    }

    fn asking<'a>(
        verb: &'a str,
        resource: &'a str,
        subresource: Option<&'a str>,
        name: Option<&'a str>,
    ) -> Attributes<'a> {
        Attributes { verb, group: "apps", resource, subresource, namespace: Some("team"), name }
    }

    #[test]
    fn rules_match_subresources_wildcards_and_names() {
        let status = rule(json!({"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["update"]}));
        assert!(status.allows(&asking("update", "deployments", Some("status"), Some("web"))));
        assert!(!status.allows(&asking("update", "deployments", None, Some("web"))), "the object is not its status");
        let any_status = rule(json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["*"]}));
        assert!(any_status.allows(&asking("patch", "statefulsets", Some("status"), None)));
        assert!(!any_status.allows(&asking("patch", "statefulsets", None, None)));
        let named = rule(
            json!({"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"], "verbs": ["get", "create"]}),
        );
        assert!(named.allows(&asking("get", "deployments", None, Some("web"))));
        assert!(!named.allows(&asking("get", "deployments", None, Some("api"))));
        assert!(!named.allows(&asking("create", "deployments", None, None)), "a create names nothing yet");
    }

    #[test]
    fn coverage_needs_every_atom_and_wildcards_for_wildcards() {
        let holder = [
            rule(json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]})),
            rule(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["a"]})),
            rule(json!({"nonResourceURLs": ["/healthz/*"], "verbs": ["get"]})),
        ];
        let wants = |v: Value| all_covered(&holder, &[rule(v)]);
        assert!(wants(json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "get"]})));
        assert!(!wants(json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]})));
        assert!(!wants(json!({"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get"]})));
        assert!(wants(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["a"]})));
        assert!(
            !wants(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})),
            "all names need all names"
        );
        assert!(wants(json!({"nonResourceURLs": ["/healthz/ready"], "verbs": ["get"]})));
        assert!(!wants(json!({"nonResourceURLs": ["/metrics"], "verbs": ["get"]})));
    }
}
