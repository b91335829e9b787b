//! `/metrics` for Prometheus, on a listener of its own (`--metrics-listen`, loopback by
//! default): the engine's figures (see `flotilla_engine::Metrics`) and HTTP requests by
//! route and status, in the OpenMetrics text format Prometheus reads. Labels are routes and
//! counts, never a tenant's, cluster's or user's name.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's pattern (`/projects/{id}`), `fallback` for files and unknown paths.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// HTTP figures, shared by the request middleware.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
}

impl HttpMetrics {
    fn new() -> Self {
        Self {
            requests: Family::default(),
            // 1 ms … ~16 s
            duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
        }
    }
}

/// Every metric the server exposes.
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
}

impl Metrics {
    pub fn new(engine: &flotilla_engine::Metrics) -> Self {
        let mut registry = Registry::with_prefix("flotilla");
        engine.register(&mut registry);
        let http = HttpMetrics::new();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "How long HTTP requests took to answer, by method and route",
            http.duration.clone(),
        );
        Self { registry, http }
    }

    /// The exposition, as Prometheus scrapes it.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The metrics listener's routes.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(metrics)
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The route a request matched, handed from inside the router to [`track`] outside it.
#[derive(Clone)]
struct Matched(MatchedPath);

/// Inside the router (a route layer): notes the matched route on the response.
pub async fn note_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(Matched(m));
    }
    response
}

/// The method as a label: the standard ones by name, anything else as `other` (a client
/// chooses the method, and must not be able to grow the label set without bound).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Outermost: counts and times every request, by the route [`note_route`] noted.
pub async fn track(State(http): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_owned();
    let response = next.run(request).await;
    let route = response.extensions().get::<Matched>().map_or("fallback", |m| m.0.as_str()).to_owned();
    let status = response.status().as_u16();
    http.duration
        .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
        .observe(started.elapsed().as_secs_f64());
    http.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    response
}
