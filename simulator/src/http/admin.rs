//! The admin API: list and add clusters, inject faults, fetch kubeconfigs.

use axum::Json;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::SimState;
use crate::cluster::{Cluster, ClusterSpec, Faults};
use crate::kubeconfig;

/// The admin API answers only requests bearing the fleet's admin token (401 otherwise): it
/// hands out cluster credentials and can take clusters offline.
pub(crate) async fn require_token(
    State(state): State<SimState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(presented.as_bytes(), state.fleet.settings.admin_token.as_bytes()) {
        let body = json!({"error": "the admin API needs the simulator's admin token as Authorization: Bearer <token>"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    next.run(request).await
}

/// HTTP/2 names the host in the URI (`:authority`), not in a Host header: it is made the
/// Host header, so that the addresses the answers carry ([`base_url`]) come out either way.
pub(crate) async fn host_from_authority(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !request.headers().contains_key(header::HOST)
        && let Some(authority) = request.uri().authority().and_then(|a| a.as_str().parse().ok())
    {
        request.headers_mut().insert(header::HOST, authority);
    }
    next.run(request).await
}

/// Compares without stopping at the first difference (no timing hint of how much matched).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn base_url(state: &SimState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = if state.tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn describe(cluster: &Cluster, base: &str) -> Value {
    json!({
        "name": cluster.spec.name,
        "labels": cluster.spec.labels,
        "version": cluster.spec.version,
        "server": format!("{base}/clusters/{}", cluster.spec.name),
        "objects": cluster.state().object_count(),
        "counts": cluster.counts(),
        "faults": cluster.faults(),
    })
}

fn not_found(name: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": format!("no simulated cluster named {name:?}")}))).into_response()
}

pub(crate) async fn list(State(state): State<SimState>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&state, &headers);
    Json(Value::Array(state.fleet.all().iter().map(|c| describe(c, &base)).collect()))
}

pub(crate) async fn show(State(state): State<SimState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    match state.fleet.get(&name) {
        Some(c) => Json(describe(&c, &base_url(&state, &headers))).into_response(),
        None => not_found(&name),
    }
}

pub(crate) async fn add(State(state): State<SimState>, headers: HeaderMap, Json(spec): Json<ClusterSpec>) -> Response {
    if state.fleet.get(&spec.name).is_some() {
        return (StatusCode::CONFLICT, Json(json!({"error": format!("cluster {:?} exists", spec.name)})))
            .into_response();
    }
    let cluster = state.fleet.add(spec);
    let base = base_url(&state, &headers);
    let mut body = describe(&cluster, &base);
    body["token"] = json!(cluster.token);
    (StatusCode::CREATED, Json(body)).into_response()
}

pub(crate) async fn remove(State(state): State<SimState>, Path(name): Path<String>) -> Response {
    match state.fleet.remove(&name) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&name),
    }
}

pub(crate) async fn get_faults(State(state): State<SimState>, Path(name): Path<String>) -> Response {
    match state.fleet.get(&name) {
        Some(c) => Json(c.faults()).into_response(),
        None => not_found(&name),
    }
}

pub(crate) async fn put_faults(
    State(state): State<SimState>,
    Path(name): Path<String>,
    Json(faults): Json<Faults>,
) -> Response {
    let Some(cluster) = state.fleet.get(&name) else { return not_found(&name) };
    if !(0.0..=1.0).contains(&faults.error_rate) {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "error_rate must be between 0 and 1"})))
            .into_response();
    }
    cluster.set_faults(faults);
    Json(cluster.faults()).into_response()
}

/// The cluster's kubeconfig: its admin token, or with `?auth=certificate` an admin client
/// certificate issued for it (over TLS only).
pub(crate) async fn kubeconfig(
    State(state): State<SimState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = state.fleet.get(&name) else { return not_found(&name) };
    let base = base_url(&state, &headers);
    let text = match (query.get("auth").map(String::as_str), &state.tls) {
        (None | Some("token"), tls) => kubeconfig::render(&base, tls.as_ref().map(|t| t.ca_pem.as_str()), &[c]),
        (Some("certificate"), Some(tls)) => match kubeconfig::render_with_certificate(&base, tls, &c) {
            Ok(text) => text,
            Err(e) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": e.to_string()}))).into_response();
            }
        },
        (Some("certificate"), None) => {
            let body = json!({"error": "client certificates need TLS; this simulator serves plain HTTP"});
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
        }
        (Some(other), _) => {
            let body = json!({"error": format!("auth is token or certificate, not {other:?}")});
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
        }
    };
    ([(header::CONTENT_TYPE, "application/yaml")], text).into_response()
}
