//! What a member serves, from its discovery: each kind's plural (the URL segment), scope and
//! versions. Requests address objects by what the cluster says, never by a plural guessed
//! from a kind's name (`Endpoints`, `Ingress`, a CRD named `Octopus` with plural `octopi`).
//!
//! Aggregated discovery (`apidiscovery.k8s.io/v2`, Kubernetes 1.26+) answers with every
//! group in two requests (`/api`, `/apis`); older servers answer with plain lists, and then
//! each group version is read on its own (as kubectl does). A group version that fails to
//! answer (an aggregated API whose backend is down, say) is noted as unknown rather than
//! absent: its kinds wait, they are not reported as unserved.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use flotilla_domain::kinds::ServedType;
use futures::StreamExt as _;
use kube::core::ApiResource;
use serde_json::Value;

use crate::client::MemberClient;
use crate::member::{Outcome, Refusal, classify};

/// `Accept` for aggregated discovery, with plain JSON for servers without it.
const ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// How many group versions of an older server are read at once.
const LEGACY_CONCURRENCY: usize = 4;

/// What one member serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Discovered {
    /// By (apiVersion, kind).
    types: HashMap<(String, String), ServedType>,
    /// Group versions the server listed but did not describe (failed or stale).
    unknown: BTreeSet<String>,
}

/// What the member says of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    Served(&'a ServedType),
    /// Its group version did not answer discovery: nothing can be said yet.
    Unknown,
    /// Not served: the other versions of its group the member serves, if any.
    NotServed {
        other_versions: Vec<String>,
    },
}

impl Discovered {
    pub fn new(types: impl IntoIterator<Item = ServedType>, unknown: impl IntoIterator<Item = String>) -> Self {
        let types = types.into_iter().map(|t| ((t.api_version.clone(), t.kind.clone()), t)).collect();
        Self { types, unknown: unknown.into_iter().collect() }
    }

    pub fn lookup(&self, api_version: &str, kind: &str) -> Lookup<'_> {
        if let Some(t) = self.types.get(&(api_version.to_owned(), kind.to_owned())) {
            return Lookup::Served(t);
        }
        if self.unknown.contains(api_version) {
            return Lookup::Unknown;
        }
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let mut other_versions: Vec<String> = self
            .types
            .values()
            .filter(|t| t.kind == kind && t.group() == group)
            .map(|t| t.api_version.clone())
            .collect();
        other_versions.sort();
        Lookup::NotServed { other_versions }
    }

    /// Every type, sorted (what the store keeps).
    pub fn sorted(&self) -> Vec<ServedType> {
        let mut all: Vec<ServedType> = self.types.values().cloned().collect();
        all.sort();
        all
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// The kube client's addressing of a served type.
pub(crate) fn api_resource(t: &ServedType) -> ApiResource {
    ApiResource {
        group: t.group().to_owned(),
        version: t.version().to_owned(),
        api_version: t.api_version.clone(),
        kind: t.kind.clone(),
        plural: t.plural.clone(),
    }
}

/// Asks the member what it serves.
pub(crate) async fn discover(client: &MemberClient, timeout: Duration) -> Outcome<Discovered> {
    let (core, groups) = futures::try_join!(get(client, timeout, "/api"), get(client, timeout, "/apis"))?;
    let mut types = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut legacy = Vec::new();
    for answer in [core, groups] {
        match answer.get("kind").and_then(Value::as_str) {
            Some("APIGroupDiscoveryList") => from_aggregated(&answer, &mut types, &mut unknown),
            Some("APIVersions") => legacy
                .extend(strings(&answer, "versions").map(|v| (format!("/api/{v}"), v.to_owned())).collect::<Vec<_>>()),
            Some("APIGroupList") => legacy.extend(group_versions(&answer).map(|gv| (format!("/apis/{gv}"), gv))),
            other => {
                let said = other.unwrap_or("no kind");
                return Err(Refusal::Refused(format!("discovery answered with {said}, not a list of APIs")));
            }
        }
    }
    let mut lists = futures::stream::iter(legacy)
        .map(|(path, gv)| async move { (gv, get(client, timeout, &path).await) })
        .buffer_unordered(LEGACY_CONCURRENCY);
    while let Some((gv, answer)) = lists.next().await {
        match answer {
            Ok(list) => from_resource_list(&list, &mut types),
            // The server is gone: the whole discovery fails (the cluster goes Offline).
            Err(e @ (Refusal::Unreachable(_) | Refusal::TimedOut(_))) => return Err(e),
            Err(e) => {
                tracing::debug!(group_version = %gv, reason = %e.reason(), "discovery of a group version failed");
                unknown.insert(gv);
            }
        }
    }
    Ok(Discovered::new(types, unknown))
}

async fn get(client: &MemberClient, timeout: Duration, path: &str) -> Outcome<Value> {
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, ACCEPT)
        .body(Vec::new())
        .map_err(|e| Refusal::Refused(format!("cannot build the request: {e}")))?;
    match tokio::time::timeout(timeout, client.request::<Value>(request)).await {
        Err(_) => Err(Refusal::TimedOut(format!("no answer to discovery within {} s", timeout.as_secs_f32()))),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(e)),
    }
}

fn strings<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    value.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// The `group/version`s of an APIGroupList.
fn group_versions(list: &Value) -> impl Iterator<Item = String> + '_ {
    let groups = list.get("groups").and_then(Value::as_array).into_iter().flatten();
    groups.flat_map(versions_of)
}

/// An APIGroup's `versions[].groupVersion`.
fn versions_of(group: &Value) -> Vec<String> {
    let versions = group.get("versions").and_then(Value::as_array).into_iter().flatten();
    versions.filter_map(|v| v.get("groupVersion").and_then(Value::as_str).map(str::to_owned)).collect()
}

/// The kinds of an APIGroupDiscoveryList (subresources skipped; stale versions unknown).
fn from_aggregated(list: &Value, types: &mut Vec<ServedType>, unknown: &mut BTreeSet<String>) {
    for group in list.get("items").and_then(Value::as_array).into_iter().flatten() {
        let name = group.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        for version in group.get("versions").and_then(Value::as_array).into_iter().flatten() {
            let Some(v) = version.get("version").and_then(Value::as_str) else { continue };
            let api_version = if name.is_empty() { v.to_owned() } else { format!("{name}/{v}") };
            if version.get("freshness").and_then(Value::as_str) == Some("Stale") {
                unknown.insert(api_version);
                continue;
            }
            for r in version.get("resources").and_then(Value::as_array).into_iter().flatten() {
                let (Some(plural), Some(kind)) = (
                    r.get("resource").and_then(Value::as_str),
                    r.pointer("/responseKind/kind").and_then(Value::as_str).filter(|k| !k.is_empty()),
                ) else {
                    continue;
                };
                types.push(ServedType {
                    api_version: api_version.clone(),
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                    namespaced: r.get("scope").and_then(Value::as_str) == Some("Namespaced"),
                });
            }
        }
    }
}

/// The kinds of one APIResourceList (subresources such as `deployments/status` skipped).
fn from_resource_list(list: &Value, types: &mut Vec<ServedType>) {
    let Some(api_version) = list.get("groupVersion").and_then(Value::as_str) else { return };
    for r in list.get("resources").and_then(Value::as_array).into_iter().flatten() {
        let (Some(plural), Some(kind)) = (r.get("name").and_then(Value::as_str), r.get("kind").and_then(Value::as_str))
        else {
            continue;
        };
        if plural.contains('/') {
            continue;
        }
        types.push(ServedType {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(false),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn served(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> ServedType {
        ServedType { api_version: api_version.into(), kind: kind.into(), plural: plural.into(), namespaced }
    }

    #[test]
    fn an_aggregated_answer_names_plurals_scopes_and_stale_versions() {
        let list = json!({"kind": "APIGroupDiscoveryList", "items": [
            {"metadata": {}, "versions": [{"version": "v1", "resources": [
                {"resource": "endpoints", "responseKind": {"group": "", "version": "v1", "kind": "Endpoints"}, "scope": "Namespaced"},
                {"resource": "namespaces", "responseKind": {"kind": "Namespace"}, "scope": "Cluster",
                 "subresources": [{"subresource": "status", "responseKind": {"kind": "Namespace"}}]},
            ]}]},
            {"metadata": {"name": "zoo.example.com"}, "versions": [
                {"version": "v2", "resources": [{"resource": "octopi", "responseKind": {"kind": "Octopus"}, "scope": "Namespaced"}]},
                {"version": "v1", "freshness": "Stale", "resources": []},
            ]},
        ]});
        let (mut types, mut unknown) = (Vec::new(), BTreeSet::new());
        from_aggregated(&list, &mut types, &mut unknown);
        let d = Discovered::new(types, unknown);
        assert_eq!(d.lookup("v1", "Endpoints"), Lookup::Served(&served("v1", "Endpoints", "endpoints", true)));
        assert_eq!(d.lookup("v1", "Namespace"), Lookup::Served(&served("v1", "Namespace", "namespaces", false)));
        assert_eq!(
            d.lookup("zoo.example.com/v2", "Octopus"),
            Lookup::Served(&served("zoo.example.com/v2", "Octopus", "octopi", true))
        );
        assert_eq!(d.lookup("zoo.example.com/v1", "Octopus"), Lookup::Unknown);
        assert_eq!(
            d.lookup("zoo.example.com/v3", "Octopus"),
            Lookup::NotServed { other_versions: vec!["zoo.example.com/v2".into()] }
        );
        assert_eq!(d.lookup("v1", "Widget"), Lookup::NotServed { other_versions: vec![] });
        assert_eq!(d.sorted().len(), 3);
    }

    #[test]
    fn plain_lists_skip_subresources() {
        let list = json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "kind": "Deployment", "namespaced": true},
            {"name": "deployments/status", "kind": "Deployment", "namespaced": true},
        ]});
        let mut types = Vec::new();
        from_resource_list(&list, &mut types);
        assert_eq!(types, [served("apps/v1", "Deployment", "deployments", true)]);
        let groups = json!({"kind": "APIGroupList", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
            {"name": "zoo.example.com", "versions": [{"groupVersion": "zoo.example.com/v2"}, {"groupVersion": "zoo.example.com/v1"}]},
        ]});
        assert_eq!(
            group_versions(&groups).collect::<Vec<_>>(),
            ["apps/v1", "zoo.example.com/v2", "zoo.example.com/v1"]
        );
    }
}
