//! Verbs on objects: get, list, watch, create, update, patch, delete, deletecollection.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::route::ObjectPath;
use super::{ApiRequest, watch};
use crate::api_error::{ApiError, ApiResult};
use crate::cluster::Cluster;
use crate::kinds::ResourceType;
use crate::patch::{self, PatchKind};
use crate::rbac::{self, Attributes, Identity};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::state::metadata_view;

pub(crate) async fn handle(cluster: &Arc<Cluster>, who: &Identity, op: ObjectPath, request: ApiRequest) -> Response {
    match handle_inner(cluster, who, op, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn verb(method: &Method, named: bool, watching: bool) -> &'static str {
    match (method.as_str(), named) {
        ("GET", _) if watching => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

/// The request body as JSON. Other encodings (kubectl sends protobuf for built-in kinds) are
/// answered 415, on which clients fall back to JSON.
fn body_json(request: &ApiRequest) -> ApiResult<Value> {
    let media = content_type(request).split(';').next().unwrap_or("").trim();
    if !(media.is_empty() || media == "application/json" || media.ends_with("+json") || media.ends_with("+yaml")) {
        return Err(ApiError::unsupported_media_type(media));
    }
    serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

async fn handle_inner(
    cluster: &Arc<Cluster>,
    who: &Identity,
    op: ObjectPath,
    request: ApiRequest,
) -> ApiResult<Response> {
    let ty = cluster
        .state()
        .find_type(&op.group, &op.version, &op.plural)
        .ok_or_else(|| ApiError::no_route(&format!("{}/{}/{}", op.group, op.version, op.plural)))?;
    if !ty.namespaced && op.namespace.is_some() {
        return Err(ApiError::no_route(&op.plural));
    }
    let watching = matches!(request.query.get("watch").map(String::as_str), Some("true" | "1"));
    let verb = verb(&request.method, op.name.is_some(), watching);
    let forbidden = cluster.faults().forbidden_kinds;
    if forbidden.iter().any(|k| k.eq_ignore_ascii_case(&ty.kind) || k == &ty.plural) {
        return Err(ApiError::forbidden(&ty.plural, &ty.group, verb));
    }
    let status_only = match op.subresource.as_deref() {
        None => false,
        Some("status") if ty.status_subresource => true,
        Some(other) => return Err(ApiError::no_route(other)),
    };
    authorize(cluster, who, &ty, &op, verb, &request)?;
    if matches!(verb, "create" | "update" | "patch" | "delete" | "deletecollection") {
        cluster.counters.writes.fetch_add(1, Ordering::Relaxed);
    }
    let ns = op.namespace.as_deref();
    let name = op.name.as_deref();
    let ok = |v: &Value| -> ApiResult<Response> { Ok(json_response(StatusCode::OK, v)) };
    let metadata_only = wants_metadata_only(&request.headers);
    let agent = request.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match (verb, name) {
        ("watch", _) => {
            cluster.counters.watches.fetch_add(1, Ordering::Relaxed);
            let (namespace, name) = (op.namespace.clone(), name.map(str::to_owned));
            watch::watch(cluster.clone(), ty, namespace, name, &request.query, metadata_only)
        }
        ("get", Some(name)) => {
            let object = cluster.state().get(&ty, ns.unwrap_or(""), name)?;
            if metadata_only { ok(&metadata_view(&object)) } else { ok(&object) }
        }
        ("list", None) => list(cluster, &ty, ns, &request, metadata_only),
        ("create", None) => {
            let written = cluster.state().create(&ty, ns, body_json(&request)?)?;
            cluster.log_write(verb, &ty.plural, &written.object, agent);
            Ok(json_response(StatusCode::CREATED, &*written.object))
        }
        ("update", Some(name)) => {
            let written = cluster.state().update(&ty, ns, name, body_json(&request)?, status_only)?;
            if !status_only {
                cluster.log_write(verb, &ty.plural, &written.object, agent);
            }
            ok(&written.object)
        }
        ("patch", Some(name)) => {
            let kind = PatchKind::from_content_type(content_type(&request))?;
            let body = serde_json::from_slice(&request.body)
                .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
            let written = cluster.state().patch(&ty, ns, name, kind, &body, status_only)?;
            if !status_only {
                cluster.log_write(verb, &ty.plural, &written.object, agent);
            }
            let code = if written.created { StatusCode::CREATED } else { StatusCode::OK };
            Ok(json_response(code, &*written.object))
        }
        ("delete", Some(name)) => {
            let gone = cluster.state().delete(&ty, ns, name)?;
            cluster.log_write(verb, &ty.plural, &gone, agent);
            ok(&gone)
        }
        ("deletecollection", None) => {
            let (labels, fields) = selectors(&request)?;
            let mut state = cluster.state();
            let victims = state.list(&ty, ns, &labels, &fields);
            let mut items = Vec::new();
            for v in victims {
                let v_ns = v["metadata"]["namespace"].as_str().map(str::to_owned);
                let v_name = v["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                items.push((*state.delete(&ty, v_ns.as_deref(), &v_name)?).clone());
            }
            ok(&list_body(&ty, state.resource_version(), items))
        }
        _ => Err(ApiError::method_not_allowed(request.method.as_str())),
    }
}

/// RBAC for a request `who` sends: the verb on the object (and `create` for a server-side
/// apply that would create it), and for a Role or binding, no grant beyond what `who` holds.
fn authorize(
    cluster: &Cluster,
    who: &Identity,
    ty: &ResourceType,
    op: &ObjectPath,
    verb: &str,
    request: &ApiRequest,
) -> ApiResult<()> {
    if *who == Identity::Admin {
        return Ok(());
    }
    let state = cluster.state();
    let attributes = Attributes {
        verb,
        group: &ty.group,
        resource: &ty.plural,
        subresource: op.subresource.as_deref(),
        namespace: op.namespace.as_deref(),
        name: op.name.as_deref(),
    };
    if !rbac::allowed(&state, who, &attributes) {
        return Err(attributes.forbidden(who));
    }
    let writes_object = matches!(verb, "create" | "update" | "patch") && op.subresource.is_none();
    let rbac_kind = ty.group == "rbac.authorization.k8s.io";
    let apply = verb == "patch" && is_apply(request);
    if !(writes_object && (rbac_kind || apply)) {
        return Ok(());
    }
    let current = op.name.as_deref().and_then(|name| state.get(ty, op.namespace.as_deref().unwrap_or(""), name).ok());
    if apply && current.is_none() {
        let create = Attributes { verb: "create", name: None, ..attributes };
        if !rbac::allowed(&state, who, &create) {
            return Err(create.forbidden(who));
        }
    }
    if !rbac_kind {
        return Ok(());
    }
    let body = body_json(request)?;
    let result = match (verb, current) {
        ("patch", Some(current)) => {
            patch::apply(PatchKind::from_content_type(content_type(request))?, &current, &body)?
        }
        _ => body,
    };
    rbac::check_escalation(&state, who, &ty.plural, op.namespace.as_deref(), &result)
}

/// The request body's media type as sent (JSON when not said).
fn content_type(request: &ApiRequest) -> &str {
    request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json")
}

fn is_apply(request: &ApiRequest) -> bool {
    content_type(request).starts_with("application/apply-patch")
}

fn selectors(request: &ApiRequest) -> ApiResult<(LabelSelector, FieldSelector)> {
    let labels = LabelSelector::parse(request.query.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let fields = FieldSelector::parse(request.query.get("fieldSelector").map(String::as_str).unwrap_or(""))?;
    Ok((labels, fields))
}

fn list(
    cluster: &Cluster,
    ty: &ResourceType,
    ns: Option<&str>,
    request: &ApiRequest,
    metadata_only: bool,
) -> ApiResult<Response> {
    let (labels, fields) = selectors(request)?;
    let (items, rv) = {
        let state = cluster.state();
        (state.list(ty, ns, &labels, &fields), state.resource_version())
    };
    if metadata_only {
        let items: Vec<Value> = items.iter().map(|o| metadata_view(o)).collect();
        let body = json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": rv.to_string()}, "items": items});
        return Ok(json_response(StatusCode::OK, &body));
    }
    let body = ListBody {
        kind: format!("{}List", ty.kind),
        api_version: ty.api_version(),
        metadata: ListMeta { resource_version: rv.to_string() },
        items: items.iter().map(|o| &**o).collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a> {
    kind: String,
    api_version: String,
    metadata: ListMeta,
    items: Vec<&'a Value>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: String,
}

/// `body` as a JSON response, encoded straight from the stored object (no copy of it).
fn json_response(code: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (code, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::internal(format!("cannot encode the answer: {e}")).into_response(),
    }
}

/// Whether the client asked for `PartialObjectMetadata` (kube clients' metadata-only list,
/// get and watch: `Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`).
/// The first media range decides, as the apiserver picks the first it can serve.
fn wants_metadata_only(headers: &axum::http::HeaderMap) -> bool {
    let Some(first) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).and_then(|a| a.split(',').next())
    else {
        return false;
    };
    let params: Vec<&str> = first.split(';').skip(1).map(str::trim).collect();
    params.iter().any(|p| matches!(*p, "as=PartialObjectMetadata" | "as=PartialObjectMetadataList"))
        && params.contains(&"g=meta.k8s.io")
}

fn list_body(ty: &ResourceType, rv: u64, items: Vec<Value>) -> Value {
    json!({
        "kind": format!("{}List", ty.kind),
        "apiVersion": ty.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    })
}
