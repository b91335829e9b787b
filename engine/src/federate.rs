//! Reading what runs in a member's namespace, for federating it into a project
//! (`flotilla_domain::federate` decides what is taken and how). Read with the cluster's
//! stored access, through the hub's outbound policy; nothing is written.

use std::sync::Arc;
use std::time::Duration;

use flotilla_domain::join::STANDARD_NAMESPACED;
use flotilla_domain::kinds::ServedType;
use flotilla_outbound::OutboundPolicy;
use kube::api::{GetParams, ListParams};
use serde_json::Value;

use crate::discovery::api_resource;
use crate::kubeconfig::{ClusterAccess, connect};
use crate::member::{Refusal, call, invalid, request};

/// The most objects one federation reads (narrow it with a label selector beyond that).
pub const MAX_OBJECTS: usize = 500;

/// A namespace as the member holds it.
#[derive(Debug, Default)]
pub struct NamespaceContents {
    /// The Namespace object itself.
    pub namespace: Value,
    /// Its objects of the kinds a project holds, each with apiVersion and kind, in kind
    /// order then by name.
    pub objects: Vec<Value>,
    /// Kinds that could not be read (forbidden to the cluster's credentials, say), and why.
    pub unreadable: Vec<(String, String)>,
}

/// Reads `namespace` in the cluster `access` reaches: its objects of the standard project
/// kinds it serves (`types`: its discovery), selected by `selector` (`""`: all).
pub async fn read_namespace(
    access: &ClusterAccess,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
    namespace: &str,
    selector: &str,
    types: &[ServedType],
) -> Result<NamespaceContents, String> {
    let client = connect(access, policy, timeout).await?;
    let ns_type = ServedType {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        plural: "namespaces".into(),
        namespaced: false,
    };
    let get = request(&api_resource(&ns_type), None)
        .get(namespace, &GetParams::default())
        .map_err(|e| invalid(e).reason())?;
    let namespace_object = match call::<Value>(&client, timeout, get).await {
        Ok(ns) => ns,
        Err(Refusal::MissingDependency(_)) => return Err(format!("the cluster has no namespace {namespace}")),
        Err(e) => return Err(format!("reading the namespace {namespace}: {}", e.reason())),
    };
    let mut contents = NamespaceContents { namespace: namespace_object, ..Default::default() };
    for (group, plural) in STANDARD_NAMESPACED {
        let Some(t) = flotilla_domain::federate::preferred(types, group, plural) else { continue };
        let mut params = ListParams::default().limit(u32::try_from(MAX_OBJECTS + 1).unwrap_or(u32::MAX));
        if !selector.is_empty() {
            params = params.labels(selector);
        }
        let list = request(&api_resource(t), Some(namespace)).list(&params).map_err(|e| invalid(e).reason())?;
        match call::<Value>(&client, timeout, list).await {
            Ok(list) => {
                let mut items: Vec<Value> = list.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
                // Lists leave each item's apiVersion and kind out.
                for item in &mut items {
                    if let Some(map) = item.as_object_mut() {
                        map.insert("apiVersion".into(), t.api_version.clone().into());
                        map.insert("kind".into(), t.kind.clone().into());
                    }
                }
                items.sort_by(|a, b| name(a).cmp(name(b)));
                contents.objects.extend(items);
                if contents.objects.len() > MAX_OBJECTS {
                    return Err(format!(
                        "{namespace} holds more than {MAX_OBJECTS} objects: federate part of it at a time, with a label selector"
                    ));
                }
            }
            Err(Refusal::Unreachable(why) | Refusal::TimedOut(why)) => return Err(why),
            Err(e) => contents.unreadable.push((format!("{} {}", t.api_version, t.kind), e.reason())),
        }
    }
    Ok(contents)
}

fn name(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}
