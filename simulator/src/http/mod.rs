//! The HTTP face of the fleet: every cluster under `/clusters/<name>/…` (as a Rancher-style
//! proxy URL looks), and the admin API under `/admin/…`.

mod admin;
mod discovery;
mod objects;
mod route;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::api_error::ApiError;
use crate::cluster::Cluster;
use crate::fleet::Fleet;
use route::ApiPath;

pub use route::{ObjectPath, parse as parse_path};

#[derive(Clone)]
pub(crate) struct SimState {
    pub fleet: Arc<Fleet>,
    /// The CA and certificate of the TLS listener in front, if any (the CA goes into the
    /// kubeconfigs the admin API hands out, and signs their client certificates).
    pub tls: Option<Arc<crate::tls::ServerIdentity>>,
}

/// The router serving `fleet`; `tls` is the identity of the TLS listener in front of it.
pub fn router(fleet: Arc<Fleet>, tls: Option<crate::tls::ServerIdentity>) -> Router {
    let state = SimState { fleet, tls: tls.map(Arc::new) };
    let admin = Router::new()
        .route("/admin/clusters", get(admin::list).post(admin::add))
        .route("/admin/clusters/{name}", get(admin::show).delete(admin::remove))
        .route("/admin/clusters/{name}/faults", get(admin::get_faults).put(admin::put_faults))
        .route("/admin/clusters/{name}/kubeconfig", get(admin::kubeconfig))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin::require_token))
        .route_layer(axum::middleware::from_fn(admin::host_from_authority));
    Router::new().merge(admin).route("/clusters/{cluster}/{*path}", any(cluster_api)).with_state(state)
}

/// The request as the cluster handlers need it.
pub(crate) struct ApiRequest {
    pub method: Method,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The TLS connection's details (the client certificate it presented), if any.
    pub tls: Option<Arc<axum_server::tls::TlsInfo>>,
}

async fn cluster_api(
    State(state): State<SimState>,
    Path((name, path)): Path<(String, String)>,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    tls: Option<axum::Extension<Arc<axum_server::tls::TlsInfo>>>,
    body: Bytes,
) -> Response {
    let Some(cluster) = state.fleet.get(&name) else {
        return ApiError::no_route(&format!("/clusters/{name}")).into_response();
    };
    let request = ApiRequest { method, query, headers, body, tls: tls.map(|t| t.0) };
    serve(&cluster, &format!("/clusters/{name}"), &path, request).await
}

/// Answers one API request for `cluster`; `prefix` is the URL path the cluster lives under.
pub(crate) async fn serve(cluster: &Arc<Cluster>, prefix: &str, path: &str, request: ApiRequest) -> Response {
    cluster.counters.requests.fetch_add(1, Ordering::Relaxed);
    let bearer = request
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let peer = request.tls.as_ref().and_then(|tls| tls.peer_certificates.first()).map(Vec::as_slice);
    let Some(who) = crate::rbac::authenticate(cluster, bearer, peer) else {
        return ApiError::unauthorized().into_response();
    };
    let faults = cluster.faults();
    if faults.offline {
        return ApiError::unavailable().into_response();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if faults.write_latency_ms > 0 && request.method != Method::GET {
        tokio::time::sleep(Duration::from_millis(faults.write_latency_ms)).await;
    }
    if faults.error_rate > 0.0 && rand::random::<f64>() < faults.error_rate {
        return ApiError::internal("injected fault: internal error").into_response();
    }
    let Some(api_path) = route::parse(path) else {
        return ApiError::no_route(path).into_response();
    };
    let json = |v: serde_json::Value| axum::Json(v).into_response();
    // The types served now (custom ones come and go with CRDs), for the discovery answers.
    let types = || cluster.state().types().cloned().collect::<Vec<_>>();
    if request.method != Method::GET && !matches!(api_path, ApiPath::Object(_)) {
        return ApiError::method_not_allowed(request.method.as_str()).into_response();
    }
    let aggregated =
        request.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(discovery::wants_aggregated);
    match api_path {
        ApiPath::Version => json(discovery::version(cluster)),
        ApiPath::CoreVersions | ApiPath::Groups if aggregated => {
            let body = discovery::aggregated(&types(), api_path == ApiPath::CoreVersions);
            ([(header::CONTENT_TYPE, discovery::AGGREGATED)], body.to_string()).into_response()
        }
        ApiPath::CoreVersions => {
            let host = request.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            json(discovery::core_versions(host))
        }
        ApiPath::Groups => json(discovery::group_list(&types())),
        ApiPath::ResourceList { group, version } => match discovery::resource_list(&types(), &group, &version) {
            Some(list) => json(list),
            None => ApiError::no_route(path).into_response(),
        },
        ApiPath::OpenApiIndex => json(discovery::openapi_index(&types(), prefix)),
        ApiPath::OpenApiDoc { group, version } => match discovery::openapi_doc(&types(), &group, &version) {
            Some(doc) => json(doc),
            None => ApiError::no_route(path).into_response(),
        },
        ApiPath::Object(op) => objects::handle(cluster, &who, op, request).await,
    }
}
