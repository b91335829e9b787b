//! What a role may put into member clusters. Flotilla writes into members with a powerful
//! credential on behalf of people with narrower roles, so every object is weighed here before
//! it is saved (the store), reviewed (the pages) and written (the engine, on the object as
//! rendered for each cluster): the [`Clearance`] it needs, or why no one may write it.
//!
//! The rules emulate what Kubernetes itself would refuse the person (its RBAC escalation
//! check and Pod Security Admission), at the granularity of Flotilla's roles:
//!
//! - **A workspace's cluster-scoped objects** reach every selected cluster, shared with other
//!   workspaces: a Namespace needs an editor; every other cluster-scoped kind (RBAC,
//!   admission webhooks and policies, CRDs, APIServices, PriorityClasses, StorageClasses,
//!   PersistentVolumes, custom resources…) needs a tenant admin.
//! - **A project's objects** stay in its namespace: an editor may add them, but the objects
//!   that fence the namespace (ResourceQuota, LimitRange, NetworkPolicy) need a project admin,
//!   and a RoleBinding may bind only the project's own Roles or the ClusterRoles `view` and
//!   `edit` (an editor) or `admin` (a project admin).
//! - **Escalation** — a binding to `cluster-admin` or to any other ClusterRole in a project, a
//!   role granting `*`, `escalate`, `bind` or `impersonate`, a ClusterRole that aggregates
//!   into others — is refused to everyone unless a tenant admin says so on the object with
//!   the annotation [`ALLOW_ESCALATION`].
//! - **Pods** of a project must pass its namespace's Pod Security level ([`PodSecurity`]);
//!   the namespace carries the matching Pod Security Admission labels, so the member enforces
//!   it too.
//! - **Namespaces Flotilla does not own** ([`is_reserved_namespace`]) are never written to.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ClusterOverride, Error, Level, Result};

/// The annotation by which a tenant admin allows an object that escalates privileges.
pub const ALLOW_ESCALATION: &str = "flotilla.io/allow-escalation";

/// How far the person saving an object reaches in its home, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clearance {
    /// An editor of the workspace or project.
    Edit,
    /// An admin of the workspace or project.
    Admin,
    /// A tenant admin (and Flotilla's own reconcilers).
    TenantAdmin,
}

impl Clearance {
    /// The clearance of someone holding `level` on the home (`tenant_admin`: on the whole
    /// tenant); `None` for a viewer, who saves nothing.
    pub fn of(level: Level, tenant_admin: bool) -> Option<Self> {
        match (tenant_admin, level) {
            (true, _) => Some(Self::TenantAdmin),
            (false, Level::Admin) => Some(Self::Admin),
            (false, Level::Edit) => Some(Self::Edit),
            (false, Level::View) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Admin => "admin",
            Self::TenantAdmin => "tenant_admin",
        }
    }

    /// The stored text; anything else reads as the weakest clearance (revisions saved before
    /// clearances were recorded are trusted no further than an editor).
    pub fn parse(s: &str) -> Self {
        match s {
            "tenant_admin" => Self::TenantAdmin,
            "admin" => Self::Admin,
            _ => Self::Edit,
        }
    }

    /// Who holds it, for messages: "a tenant admin".
    pub fn who(self) -> &'static str {
        match self {
            Self::Edit => "an editor",
            Self::Admin => "an admin of the workspace or project",
            Self::TenantAdmin => "a tenant admin",
        }
    }
}

/// A project namespace's Pod Security Standard (Kubernetes' Pod Security Admission levels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodSecurity {
    /// Hardened: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault
    /// seccomp, a short list of volume types.
    Restricted,
    /// The default: no privileged containers, host namespaces, hostPath volumes, host ports
    /// or added capabilities beyond the default set.
    #[default]
    Baseline,
    /// Anything goes; only a tenant admin may choose it.
    Privileged,
}

impl PodSecurity {
    pub const ALL: [PodSecurity; 3] = [Self::Restricted, Self::Baseline, Self::Privileged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::Baseline => "baseline",
            Self::Privileged => "privileged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Who may set a project to this level.
    pub fn clearance_to_set(self) -> Clearance {
        match self {
            Self::Privileged => Clearance::TenantAdmin,
            _ => Clearance::Admin,
        }
    }

    /// The labels a namespace carries so that the member's Pod Security Admission enforces
    /// (and warns and audits at) this level.
    pub fn namespace_labels(self) -> [(&'static str, &'static str); 4] {
        [
            ("pod-security.kubernetes.io/enforce", self.as_str()),
            ("pod-security.kubernetes.io/enforce-version", "latest"),
            ("pod-security.kubernetes.io/warn", self.as_str()),
            ("pod-security.kubernetes.io/audit", self.as_str()),
        ]
    }
}

impl TryFrom<String> for PodSecurity {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s).ok_or_else(|| {
            Error::invalid(
                "pod_security",
                format!("`{s}` is not a Pod Security level (restricted, baseline, privileged)"),
            )
        })
    }
}

impl fmt::Display for PodSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Namespaces Flotilla never writes into and no project may be named: Kubernetes' own
/// (`default` and the `kube-` prefix) and Flotilla's (`flotilla-system`).
pub fn is_reserved_namespace(name: &str) -> bool {
    name == "default" || name.starts_with("kube-") || name == "flotilla-system"
}

/// Where an object goes, as the policy weighs it.
#[derive(Debug, Clone, Copy)]
pub struct Home<'a> {
    /// The project's namespace; `None` for a workspace's cluster-scoped objects.
    pub namespace: Option<&'a str>,
    /// The project namespace's Pod Security level (ignored for a workspace).
    pub pod_security: PodSecurity,
}

/// What adding or changing `object` in `home` needs: the least clearance that may, or why no
/// one may (the error is [`Error::Refused`]).
pub fn required(object: &Value, home: Home<'_>) -> Result<Clearance> {
    let kind = text(object, "/kind");
    let group = text(object, "/apiVersion").rsplit_once('/').map_or("", |(g, _)| g);
    let name = text(object, "/metadata/name");
    let escalation = escalation(group, kind, object, home);
    if let Some(why) = &escalation
        && !allows_escalation(object)
    {
        return Err(Error::refused(format!(
            "{why}: refused, since it would give more than the role that saves it; a tenant admin may allow it \
             with the annotation {ALLOW_ESCALATION}: \"true\""
        )));
    }
    let need = match home.namespace {
        None => match (group, kind) {
            ("", "Namespace") => {
                if is_reserved_namespace(name) {
                    return Err(Error::refused(format!(
                        "the namespace {name} is not Flotilla's: Flotilla never writes into it"
                    )));
                }
                let privileged = object.pointer("/metadata/labels").and_then(Value::as_object).is_some_and(|l| {
                    l.iter().any(|(k, v)| k.starts_with("pod-security.kubernetes.io/") && v == "privileged")
                });
                if privileged { Clearance::TenantAdmin } else { Clearance::Edit }
            }
            _ => Clearance::TenantAdmin,
        },
        Some(_) => match (group, kind) {
            ("", "ResourceQuota" | "LimitRange") | ("networking.k8s.io", "NetworkPolicy") => Clearance::Admin,
            ("rbac.authorization.k8s.io", "RoleBinding") if role_ref(object) == ("ClusterRole", "admin") => {
                Clearance::Admin
            }
            _ => Clearance::Edit,
        },
    };
    if let Some(ns) = home.namespace {
        check_pods(group, kind, object, ns, home.pod_security)?;
    }
    // An escalation a tenant admin allowed stays theirs to change.
    Ok(if escalation.is_some() { Clearance::TenantAdmin } else { need })
}

/// What removing `object` from `home` needs: as much as adding it would, but an object that
/// would now be refused (a stricter Pod Security level, an escalation) may be removed by a
/// tenant admin, and a workload by its editors.
pub fn required_to_remove(object: &Value, home: Home<'_>) -> Clearance {
    let relaxed = Home { pod_security: PodSecurity::Privileged, ..home };
    required(object, relaxed).unwrap_or(Clearance::TenantAdmin)
}

/// Checks that `clearance` may add or change `object` in `home`; the error says why not.
pub fn check(object: &Value, home: Home<'_>, clearance: Clearance) -> Result<()> {
    let need = required(object, home)?;
    if clearance >= need {
        return Ok(());
    }
    Err(Error::refused(format!(
        "{} {} needs {}: {}",
        article(text(object, "/kind")),
        text(object, "/kind"),
        need.who(),
        reason_for(object, home)
    )))
}

/// Checks `template` and what each cluster's `overrides` make of it (an override could turn
/// a harmless binding into one to `cluster-admin` in one cluster).
pub fn check_with_overrides(
    template: &Value,
    overrides: &[ClusterOverride],
    home: Home<'_>,
    clearance: Clearance,
) -> Result<()> {
    check(template, home, clearance)?;
    for o in overrides {
        let mut variant = template.clone();
        crate::overrides::apply(&mut variant, &o.patches)?;
        check(&variant, home, clearance).map_err(|e| Error::refused(format!("in {}, {}", o.target(), e.reason())))?;
    }
    Ok(())
}

/// Checks that `clearance` may remove `object` from `home`.
pub fn check_removal(object: &Value, home: Home<'_>, clearance: Clearance) -> Result<()> {
    let need = required_to_remove(object, home);
    if clearance >= need {
        return Ok(());
    }
    Err(Error::refused(format!("changing or removing this {} needs {}", text(object, "/kind"), need.who())))
}

/// Why an object needs more than an editor, in words.
fn reason_for(object: &Value, home: Home<'_>) -> &'static str {
    let kind = text(object, "/kind");
    match (home.namespace, kind) {
        (None, _) => {
            "a workspace's cluster-scoped objects reach every cluster it selects, shared with other workspaces"
        }
        (Some(_), "RoleBinding") => "binding the ClusterRole admin gives a project admin's rights",
        (Some(_), _) => "it fences the project's namespace (quota, limits, network policy)",
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn allows_escalation(object: &Value) -> bool {
    object.pointer("/metadata/annotations").and_then(|a| a.get(ALLOW_ESCALATION)).and_then(Value::as_str)
        == Some("true")
}

/// `(roleRef.kind, roleRef.name)` of a binding.
fn role_ref(object: &Value) -> (&str, &str) {
    (text(object, "/roleRef/kind"), text(object, "/roleRef/name"))
}

/// Why `object` would give more than its home's roles, if it would.
fn escalation(group: &str, kind: &str, object: &Value, home: Home<'_>) -> Option<String> {
    if group != "rbac.authorization.k8s.io" {
        return None;
    }
    match kind {
        "ClusterRoleBinding" => {
            let (_, name) = role_ref(object);
            (name == "cluster-admin").then(|| "a ClusterRoleBinding to cluster-admin".to_owned())
        }
        "RoleBinding" if home.namespace.is_some() => match role_ref(object) {
            ("Role", _) | ("ClusterRole", "view" | "edit" | "admin") => None,
            (_, name) => Some(format!(
                "a RoleBinding to the ClusterRole {name} (a project binds only its own Roles, or view, edit or admin)"
            )),
        },
        "ClusterRole" => {
            if object.get("aggregationRule").is_some_and(|a| !a.is_null()) {
                return Some("a ClusterRole that aggregates other roles' rules".to_owned());
            }
            let aggregates_into = object
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .and_then(|l| l.keys().find(|k| k.starts_with("rbac.authorization.k8s.io/aggregate-to-")));
            if let Some(label) = aggregates_into {
                return Some(format!("a ClusterRole that adds its rules to other roles ({label})"));
            }
            escalating_rule(object).map(|what| format!("a ClusterRole granting {what}"))
        }
        "Role" => escalating_rule(object).map(|what| format!("a Role granting {what}")),
        _ => None,
    }
}

/// The first rule of a role that grants what lets its holder escalate: any verb or resource
/// (`*`), or `escalate`, `bind`, `impersonate`.
fn escalating_rule(object: &Value) -> Option<String> {
    let rules = object.get("rules").and_then(Value::as_array)?;
    for rule in rules {
        let list = |field: &str| -> Vec<&str> {
            rule.get(field)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        if let Some(verb) = list("verbs").into_iter().find(|v| matches!(*v, "*" | "escalate" | "bind" | "impersonate"))
        {
            return Some(if verb == "*" { "every verb (*)".to_owned() } else { format!("the verb {verb}") });
        }
        if list("resources").contains(&"*") || list("nonResourceURLs").contains(&"*") {
            return Some("every resource (*)".to_owned());
        }
    }
    None
}

/// Where a kind keeps its pod template's spec.
fn pod_spec<'a>(group: &str, kind: &str, object: &'a Value) -> Option<&'a Value> {
    let pointer = match (group, kind) {
        ("", "Pod") => "/spec",
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    object.pointer(pointer)
}

/// Capabilities the baseline level lets a container add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls the baseline level allows (Kubernetes' "safe" set).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Volume types the restricted level allows.
const RESTRICTED_VOLUMES: &[&str] =
    &["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/// Refuses a pod template that the namespace's Pod Security level forbids, naming the first
/// thing it forbids (as the member's admission would, but before anything is written).
fn check_pods(group: &str, kind: &str, object: &Value, namespace: &str, level: PodSecurity) -> Result<()> {
    if level == PodSecurity::Privileged {
        return Ok(());
    }
    let Some(spec) = pod_spec(group, kind, object) else { return Ok(()) };
    let violation = baseline_violation(spec).or_else(|| match level {
        PodSecurity::Restricted => restricted_violation(spec),
        _ => None,
    });
    match violation {
        None => Ok(()),
        Some(what) => Err(Error::refused(format!(
            "{what}: the project's namespace {namespace} enforces the Pod Security level {level}"
        ))),
    }
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .filter_map(|f| spec.get(f).and_then(Value::as_array))
        .flatten()
}

fn container_name(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("?")
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

fn baseline_violation(spec: &Value) -> Option<String> {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if truthy(spec.get(field)) {
            return Some(format!("{field} shares the node's namespaces"));
        }
    }
    for v in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        if v.get("hostPath").is_some() {
            return Some(format!("the volume {} mounts a path of the node (hostPath)", text(v, "/name")));
        }
    }
    for sysctl in spec.pointer("/securityContext/sysctls").and_then(Value::as_array).into_iter().flatten() {
        let name = text(sysctl, "/name");
        if !SAFE_SYSCTLS.contains(&name) {
            return Some(format!("the sysctl {name} is not one of the safe set"));
        }
    }
    if let Some(why) = security_context_violation(spec.get("securityContext"), "the pod") {
        return Some(why);
    }
    for c in containers(spec) {
        let name = container_name(c);
        let sc = c.get("securityContext");
        if truthy(sc.and_then(|s| s.get("privileged"))) {
            return Some(format!("the container {name} is privileged"));
        }
        let added = sc.and_then(|s| s.pointer("/capabilities/add")).and_then(Value::as_array);
        if let Some(cap) =
            added.into_iter().flatten().filter_map(Value::as_str).find(|c| !BASELINE_CAPABILITIES.contains(c))
        {
            return Some(format!("the container {name} adds the capability {cap}"));
        }
        if sc.and_then(|s| s.get("procMount")).and_then(Value::as_str).is_some_and(|m| m != "Default") {
            return Some(format!("the container {name} asks for an unmasked /proc"));
        }
        if let Some(why) = security_context_violation(sc, &format!("the container {name}")) {
            return Some(why);
        }
        for port in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            if port.get("hostPort").and_then(Value::as_i64).is_some_and(|p| p != 0) {
                return Some(format!("the container {name} opens a port on the node (hostPort)"));
            }
        }
    }
    None
}

/// What a pod's or a container's security context may not say at the baseline level.
fn security_context_violation(sc: Option<&Value>, whose: &str) -> Option<String> {
    let sc = sc?;
    if truthy(sc.pointer("/windowsOptions/hostProcess")) {
        return Some(format!("{whose} runs as a Windows host process"));
    }
    if sc.pointer("/seccompProfile/type").and_then(Value::as_str) == Some("Unconfined") {
        return Some(format!("{whose} runs without seccomp (Unconfined)"));
    }
    if sc.pointer("/appArmorProfile/type").and_then(Value::as_str) == Some("Unconfined") {
        return Some(format!("{whose} runs without AppArmor (Unconfined)"));
    }
    if let Some(se) = sc.get("seLinuxOptions") {
        if se.get("user").is_some() || se.get("role").is_some() {
            return Some(format!("{whose} sets an SELinux user or role"));
        }
        let allowed = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
        if !allowed.contains(&text(se, "/type")) {
            return Some(format!("{whose} sets the SELinux type {}", text(se, "/type")));
        }
    }
    None
}

fn restricted_violation(spec: &Value) -> Option<String> {
    for v in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        let kind = v.as_object().and_then(|o| o.keys().find(|k| *k != "name"));
        if let Some(kind) = kind
            && !RESTRICTED_VOLUMES.contains(&kind.as_str())
        {
            return Some(format!("the volume {} is of type {kind}", text(v, "/name")));
        }
    }
    let pod_sc = spec.get("securityContext");
    let pod_non_root = truthy(pod_sc.and_then(|s| s.get("runAsNonRoot")));
    let pod_seccomp = pod_sc.and_then(|s| s.pointer("/seccompProfile/type")).and_then(Value::as_str);
    if pod_sc.and_then(|s| s.get("runAsUser")).and_then(Value::as_i64) == Some(0) {
        return Some("the pod runs as root (runAsUser: 0)".to_owned());
    }
    for c in containers(spec) {
        let name = container_name(c);
        let sc = c.get("securityContext");
        let field = |f: &str| sc.and_then(|s| s.get(f));
        if field("allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false) {
            return Some(format!("the container {name} must set allowPrivilegeEscalation: false"));
        }
        let non_root = field("runAsNonRoot").and_then(Value::as_bool).unwrap_or(pod_non_root);
        if !non_root {
            return Some(format!("the container {name} must run as non-root (runAsNonRoot: true)"));
        }
        if field("runAsUser").and_then(Value::as_i64) == Some(0) {
            return Some(format!("the container {name} runs as root (runAsUser: 0)"));
        }
        let seccomp = sc.and_then(|s| s.pointer("/seccompProfile/type")).and_then(Value::as_str).or(pod_seccomp);
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            return Some(format!("the container {name} must use the RuntimeDefault seccomp profile"));
        }
        let caps = |f: &str| -> Vec<&str> {
            sc.and_then(|s| s.pointer(&format!("/capabilities/{f}")))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        if !caps("drop").contains(&"ALL") {
            return Some(format!("the container {name} must drop every capability (drop: [ALL])"));
        }
        if let Some(cap) = caps("add").into_iter().find(|c| *c != "NET_BIND_SERVICE") {
            return Some(format!("the container {name} adds the capability {cap}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const WORKSPACE: Home<'static> = Home { namespace: None, pod_security: PodSecurity::Baseline };
    const PROJECT: Home<'static> = Home { namespace: Some("shop"), pod_security: PodSecurity::Baseline };

    fn refused(r: Result<Clearance>) -> String {
        match r {
            Err(Error::Refused { reason }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn binding(kind: &str, role_kind: &str, role: &str) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "b"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
               "subjects": [{"kind": "Group", "name": "devs"}]})
    }

    fn allowed(mut object: Value) -> Value {
        object["metadata"]["annotations"] = json!({ALLOW_ESCALATION: "true"});
        object
    }

    fn deployment(pod: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": pod}}})
    }

    #[test]
    fn a_workspace_editor_adds_namespaces_and_nothing_else_cluster_scoped() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tools"}});
        assert_eq!(required(&ns, WORKSPACE).unwrap(), Clearance::Edit);
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": "read-pods"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
        for object in [
            role,
            binding("ClusterRoleBinding", "ClusterRole", "view"),
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": {"name": "w"}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b.c"}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"}}),
            json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"}}),
        ] {
            assert_eq!(required(&object, WORKSPACE).unwrap(), Clearance::TenantAdmin, "{object}");
            let e = check(&object, WORKSPACE, Clearance::Admin).unwrap_err().to_string();
            assert!(e.contains("needs a tenant admin"), "{e}");
        }
        let privileged = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t",
                                "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}});
        assert_eq!(required(&privileged, WORKSPACE).unwrap(), Clearance::TenantAdmin);
    }

    #[test]
    fn escalation_is_refused_to_everyone_until_a_tenant_admin_allows_it() {
        let crb = binding("ClusterRoleBinding", "ClusterRole", "cluster-admin");
        assert!(refused(required(&crb, WORKSPACE)).contains("cluster-admin"));
        assert!(check(&crb, WORKSPACE, Clearance::TenantAdmin).is_err());
        assert_eq!(required(&allowed(crb.clone()), WORKSPACE).unwrap(), Clearance::TenantAdmin);

        let rb = binding("RoleBinding", "ClusterRole", "cluster-admin");
        assert!(refused(required(&rb, PROJECT)).contains("RoleBinding to the ClusterRole cluster-admin"));
        // Allowed, it stays a tenant admin's: an editor cannot change it.
        assert_eq!(required(&allowed(rb), PROJECT).unwrap(), Clearance::TenantAdmin);

        for verbs in [json!(["*"]), json!(["escalate"]), json!(["bind"]), json!(["impersonate"])] {
            let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
                              "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": verbs}]});
            assert!(refused(required(&role, PROJECT)).starts_with("a Role granting"));
        }
        let star = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
                          "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]});
        assert!(refused(required(&star, WORKSPACE)).contains("every resource"));
        let aggregating = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                 "metadata": {"name": "r", "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
                                 "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
        assert!(refused(required(&aggregating, WORKSPACE)).contains("aggregate-to-edit"));
        let collecting = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                "metadata": {"name": "r"}, "aggregationRule": {"clusterRoleSelectors": []}});
        assert!(refused(required(&collecting, WORKSPACE)).contains("aggregates"));
    }

    #[test]
    fn a_project_binds_its_own_roles_and_view_edit_admin_never_above_the_binders_level() {
        assert_eq!(required(&binding("RoleBinding", "Role", "reader"), PROJECT).unwrap(), Clearance::Edit);
        assert_eq!(required(&binding("RoleBinding", "ClusterRole", "view"), PROJECT).unwrap(), Clearance::Edit);
        assert_eq!(required(&binding("RoleBinding", "ClusterRole", "edit"), PROJECT).unwrap(), Clearance::Edit);
        let admin = binding("RoleBinding", "ClusterRole", "admin");
        assert_eq!(required(&admin, PROJECT).unwrap(), Clearance::Admin);
        let e = check(&admin, PROJECT, Clearance::Edit).unwrap_err().to_string();
        assert!(e.contains("needs an admin of the workspace or project"), "{e}");
    }

    #[test]
    fn the_objects_that_fence_a_namespace_are_a_project_admins() {
        for (api, kind) in [("v1", "ResourceQuota"), ("v1", "LimitRange"), ("networking.k8s.io/v1", "NetworkPolicy")] {
            let object = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}});
            assert_eq!(required(&object, PROJECT).unwrap(), Clearance::Admin);
            assert!(check_removal(&object, PROJECT, Clearance::Edit).is_err());
            assert!(check_removal(&object, PROJECT, Clearance::Admin).is_ok());
        }
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(required(&cm, PROJECT).unwrap(), Clearance::Edit);
    }

    #[test]
    fn pods_pass_the_namespaces_pod_security_level() {
        let plain = deployment(json!({"containers": [{"name": "web", "image": "nginx"}]}));
        assert_eq!(required(&plain, PROJECT).unwrap(), Clearance::Edit);
        for (pod, says) in [
            (json!({"hostNetwork": true, "containers": []}), "hostNetwork"),
            (json!({"hostPID": true, "containers": []}), "hostPID"),
            (json!({"volumes": [{"name": "root", "hostPath": {"path": "/"}}], "containers": []}), "hostPath"),
            (json!({"containers": [{"name": "c", "securityContext": {"privileged": true}}]}), "privileged"),
            (
                json!({"containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}),
                "SYS_ADMIN",
            ),
            (json!({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]}), "hostPort"),
            (
                json!({"initContainers": [{"name": "i", "securityContext": {"privileged": true}}], "containers": []}),
                "the container i",
            ),
            (json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": []}), "seccomp"),
        ] {
            let reason = refused(required(&deployment(pod), PROJECT));
            assert!(reason.contains(says) && reason.contains("Pod Security level baseline"), "{reason}");
        }
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
                          "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostIPC": true, "containers": []}}}}}});
        assert!(refused(required(&cron, PROJECT)).contains("hostIPC"));
        let privileged = Home { pod_security: PodSecurity::Privileged, ..PROJECT };
        let host = deployment(json!({"hostNetwork": true, "containers": []}));
        assert_eq!(required(&host, privileged).unwrap(), Clearance::Edit);
        // A workload a stricter level now forbids can still be removed by its editors.
        assert!(check_removal(&host, PROJECT, Clearance::Edit).is_ok());
    }

    #[test]
    fn restricted_asks_for_hardened_containers() {
        let restricted = Home { pod_security: PodSecurity::Restricted, ..PROJECT };
        let plain = deployment(json!({"containers": [{"name": "web", "image": "nginx"}]}));
        assert!(refused(required(&plain, restricted)).contains("allowPrivilegeEscalation"));
        let hardened = deployment(json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "cfg", "configMap": {"name": "web"}}],
            "containers": [{"name": "web", "securityContext": {"allowPrivilegeEscalation": false,
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]}));
        assert_eq!(required(&hardened, restricted).unwrap(), Clearance::Edit);
        let mut nfs = hardened.clone();
        nfs["spec"]["template"]["spec"]["volumes"] = json!([{"name": "n", "nfs": {"server": "x", "path": "/"}}]);
        assert!(refused(required(&nfs, restricted)).contains("type nfs"));
    }

    #[test]
    fn kubernetes_and_flotilla_namespaces_are_never_written() {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease", "kube-anything", "flotilla-system"] {
            assert!(is_reserved_namespace(name), "{name}");
            let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            assert!(refused(required(&ns, WORKSPACE)).contains("not Flotilla's"));
        }
        assert!(!is_reserved_namespace("shop") && !is_reserved_namespace("kubeflow"));
    }

    #[test]
    fn an_override_cannot_turn_a_binding_into_an_escalation_in_one_cluster() {
        let rb = binding("RoleBinding", "ClusterRole", "view");
        let sneaky = ClusterOverride {
            cluster: "edge-1".into(),
            selector: None,
            patches: vec![crate::OverridePatch::replace("/roleRef/name", json!("cluster-admin"))],
        };
        assert!(check_with_overrides(&rb, &[], PROJECT, Clearance::Edit).is_ok());
        let e = check_with_overrides(&rb, &[sneaky], PROJECT, Clearance::TenantAdmin).unwrap_err().to_string();
        assert!(e.starts_with("in cluster edge-1, a RoleBinding to the ClusterRole cluster-admin"), "{e}");
    }

    #[test]
    fn clearances_order_and_read_back() {
        assert!(Clearance::Edit < Clearance::Admin && Clearance::Admin < Clearance::TenantAdmin);
        for c in [Clearance::Edit, Clearance::Admin, Clearance::TenantAdmin] {
            assert_eq!(Clearance::parse(c.as_str()), c);
        }
        assert_eq!(Clearance::parse("anything else"), Clearance::Edit);
        assert_eq!(Clearance::of(Level::View, false), None);
        assert_eq!(Clearance::of(Level::View, true), Some(Clearance::TenantAdmin));
        assert_eq!(PodSecurity::Privileged.clearance_to_set(), Clearance::TenantAdmin);
    }
}
