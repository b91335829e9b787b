//! Kube clients for member clusters, built from what the store holds: API server URL
//! (path prefixes such as Rancher's `/k8s/clusters/<id>` included), CA and bearer token.
//!
//! Connections are shared. Clusters behind one origin (a Rancher server, the simulator)
//! with the same CA share a few HTTP/2 connections: clusters join a connection while it has
//! room for their long-lived streams within `streams_per_connection` (a cluster and each of
//! its watches count one; a cluster reserves its watches' streams when it joins, before they
//! open, so clusters joining together do not overfill a connection), multiplexing their
//! requests and watches over it, through one kube client whose stack sets each request's
//! cluster (server URL prefix and bearer token) from a request extension. A cluster with its
//! own origin gets its own connection, all its watches riding on it as HTTP/2 streams. The
//! TLS configuration (with its session cache) exists once per origin. Servers that do not offer HTTP/2 (ALPN) get HTTP/1.1.
//!
//! Every connection obeys the hub's [`OutboundPolicy`]: the URL is checked before anything
//! else, and names are resolved by the policy, which refuses the connection when an address is
//! one the hub must not call; the connection is made to the addresses it checked.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use flotilla_outbound::{OutboundPolicy, Refused};
use flotilla_store::EngineCluster;
use http::HeaderValue;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::{Connection as _, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use kube::client::{Body, ConfigExt};
use kube::{Client, Config};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tower::{BoxError, Service, ServiceBuilder};

use crate::{Error, Result};

type Connector = HttpsConnector<HttpConnector<PolicyResolver>>;
type Hyper = hyper_util::client::legacy::Client<Connector, Body>;

/// One cluster's client: a shared kube client plus where and as whom to send.
#[derive(Clone)]
pub(crate) struct MemberClient {
    client: Client,
    target: Arc<Target>,
}

/// A request's cluster, carried as a request extension to the shared client's stack.
struct Target {
    /// The API server URL without a trailing slash (`https://host:port/k8s/clusters/x`).
    base: String,
    /// The bearer token; none when the connection signs in with a client certificate.
    authorization: Option<HeaderValue>,
    /// This cluster's share of the connection (the count says how full it is).
    share: Arc<()>,
    /// Shares reserved at joining for the watches still to open, handed to them as they do.
    reserved: Mutex<Vec<Arc<()>>>,
}

impl Target {
    fn apply(&self, request: &mut http::Request<Body>) {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        if let Ok(uri) = format!("{}{path}", self.base).parse() {
            *request.uri_mut() = uri;
        }
        if let Some(authorization) = &self.authorization {
            request.headers_mut().insert(http::header::AUTHORIZATION, authorization.clone());
        }
    }
}

impl MemberClient {
    /// Sends `request` (a path such as kube's request builders make) to this cluster and
    /// reads the answer, or the API's error.
    pub async fn request<T: DeserializeOwned>(&self, mut request: http::Request<Vec<u8>>) -> kube::Result<T> {
        request.extensions_mut().insert(self.target.clone());
        self.client.request(request).await
    }

    /// A share of the connection, held by a long-lived stream (a watch) while it runs: one
    /// reserved when the cluster joined, or a new one.
    pub fn stream_share(&self) -> Arc<()> {
        let reserved = self.target.reserved.lock().ok().and_then(|mut r| r.pop());
        reserved.unwrap_or_else(|| self.target.share.clone())
    }

    /// Sends `request` to this cluster and hands back the response as it streams.
    pub async fn send(&self, mut request: http::Request<Vec<u8>>) -> kube::Result<http::Response<Body>> {
        request.extensions_mut().insert(self.target.clone());
        self.client.send(request.map(Body::from)).await
    }
}

/// The engine's connections to member clusters.
pub(crate) struct Transports {
    policy: Arc<OutboundPolicy>,
    streams_per_connection: usize,
    connect_timeout: Duration,
    origins: Mutex<HashMap<OriginKey, Arc<Origin>>>,
    /// Sent with every request: the members' audit logs say which hub replica wrote.
    user_agent: HeaderValue,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct OriginKey {
    /// `scheme://authority`.
    origin: String,
    ca_pem: Option<String>,
    /// The client certificate (PEM) the TLS connection presents, if any.
    client_cert: Option<String>,
}

/// A client certificate and its key (PEM), presented by the TLS connection instead of a
/// bearer token: an admin's kubeconfig (kind's, kubeadm's) used once to join, unjoin or
/// widen a grant. The engine's own clusters always use tokens.
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: secrecy::SecretString,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity")
    }
}

struct Origin {
    connector: Connector,
    /// How the origin speaks, learnt from the first connection.
    protocol: OnceCell<Protocol>,
    connections: Mutex<Vec<Shared>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    /// HTTP/2, and how many concurrent streams the server allows on one connection.
    Http2 {
        max_streams: usize,
    },
}

/// One pooled kube client (one connection, for HTTP/2) and the shares held in it: one per
/// cluster and one per watch.
struct Shared {
    client: Client,
    share: Arc<()>,
}

impl Shared {
    fn holders(&self) -> usize {
        Arc::strong_count(&self.share) - 1
    }
}

impl Transports {
    pub fn new(policy: Arc<OutboundPolicy>, streams_per_connection: usize, connect_timeout: Duration) -> Self {
        Self {
            policy,
            streams_per_connection: streams_per_connection.max(1),
            connect_timeout,
            origins: Mutex::default(),
            user_agent: HeaderValue::from_static(concat!("flotilla/", env!("CARGO_PKG_VERSION"))),
        }
    }

    /// The same, naming `replica` in the User-Agent of its requests
    /// (`flotilla/<version> replica/<id>`).
    pub fn for_replica(mut self, replica: &str) -> Self {
        let agent = format!("flotilla/{} replica/{replica}", env!("CARGO_PKG_VERSION"));
        if let Ok(value) = HeaderValue::from_str(&agent) {
            self.user_agent = value;
        }
        self
    }

    /// A client for `cluster`, joining a connection with room for `watches` watches besides
    /// the cluster itself (reserved now). kube-rs's own retries are off: a worker owns its
    /// backoff, so an offline cluster answers fast and never holds a worker for minutes. The
    /// first client of an origin connects once to learn whether it speaks HTTP/2, so an
    /// origin that cannot be reached is an error here.
    pub async fn connect(&self, cluster: &EngineCluster, watches: usize) -> Result<MemberClient> {
        self.connect_as(cluster, watches, None).await
    }

    /// The same, signing in with client certificate `identity` instead of the cluster's
    /// token when given.
    pub async fn connect_as(
        &self,
        cluster: &EngineCluster,
        watches: usize,
        identity: Option<&ClientIdentity>,
    ) -> Result<MemberClient> {
        let config_error = |reason: String| Error::ClusterConfig { cluster: cluster.name.clone(), reason };
        let parsed = flotilla_outbound::parse_target(&cluster.api_server_url)
            .map_err(|e| config_error(format!("API server URL: {e}")))?;
        self.policy.check_url(&parsed).map_err(|e| config_error(e.to_string()))?;
        let base = flotilla_outbound::normalized(&parsed);
        let url: http::Uri = base.parse().map_err(|e| config_error(format!("API server URL is invalid: {e}")))?;
        let (Some(scheme), Some(authority)) = (url.scheme_str(), url.authority()) else {
            return Err(config_error("the API server URL needs a scheme and a host".into()));
        };
        let key = OriginKey {
            origin: format!("{scheme}://{authority}"),
            ca_pem: cluster.ca_pem.clone(),
            client_cert: identity.map(|i| i.cert_pem.clone()),
        };
        let https = scheme == "https";
        if identity.is_some() && !https {
            return Err(config_error("a client certificate needs an https API server URL".into()));
        }
        let authorization = match identity {
            Some(_) => None,
            None => {
                let mut header = HeaderValue::from_str(&format!("Bearer {}", cluster.token.expose_secret()))
                    .map_err(|_| config_error("the token holds characters a header cannot carry".into()))?;
                header.set_sensitive(true);
                Some(header)
            }
        };
        let origin = self.origin(key, &url, cluster.ca_pem.as_deref(), identity).map_err(config_error)?;
        let protocol = *origin
            .protocol
            .get_or_try_init(|| async {
                if !https {
                    return Ok(Protocol::Http1); // no ALPN without TLS; API servers do not speak h2c
                }
                tokio::time::timeout(
                    self.connect_timeout,
                    learn_protocol(&origin.connector, &url, authorization.as_ref()),
                )
                .await
                .map_err(|_| format!("no answer within {} s", self.connect_timeout.as_secs_f32()))?
            })
            .await
            .map_err(&config_error)?;
        let share = Arc::new(());
        let (client, reserved) = {
            let mut connections =
                origin.connections.lock().map_err(|_| config_error("connection table poisoned".into()))?;
            connections.retain(|c| c.holders() > 0);
            let limit = match protocol {
                // Three quarters of what the server allows: room for a watch that restarts
                // while its old stream closes, and for probes.
                Protocol::Http2 { max_streams } => self.streams_per_connection.min(max_streams / 4 * 3).max(1),
                Protocol::Http1 => usize::MAX,
            };
            let streams = (1 + watches).min(limit);
            let client = match connections.iter().find(|c| c.holders() + streams <= limit) {
                Some(shared) => Shared { client: shared.client.clone(), share: shared.share.clone() },
                None => {
                    let h2 = matches!(protocol, Protocol::Http2 { .. });
                    let shared =
                        Shared { client: pooled_client(&origin.connector, h2, self.user_agent.clone()), share };
                    let out = Shared { client: shared.client.clone(), share: shared.share.clone() };
                    connections.push(shared);
                    out
                }
            };
            // Reserved under the lock: a cluster joining next counts them.
            let reserved: Vec<Arc<()>> = (1..streams).map(|_| client.share.clone()).collect();
            (client, reserved)
        };
        Ok(MemberClient {
            client: client.client,
            target: Arc::new(Target { base, authorization, share: client.share, reserved: Mutex::new(reserved) }),
        })
    }

    /// The origin of `key`, made on first use (TLS configuration trusting `ca_pem`, and
    /// presenting `identity`'s certificate when given).
    fn origin(
        &self,
        key: OriginKey,
        url: &http::Uri,
        ca_pem: Option<&str>,
        identity: Option<&ClientIdentity>,
    ) -> std::result::Result<Arc<Origin>, String> {
        let mut origins = self.origins.lock().map_err(|_| "connection table poisoned".to_owned())?;
        // Forget origins nobody uses any more (their connections close).
        origins.retain(|_, o| {
            Arc::strong_count(o) > 1 || o.connections.lock().is_ok_and(|c| c.iter().any(|s| s.holders() > 0))
        });
        if let Some(origin) = origins.get(&key) {
            return Ok(origin.clone());
        }
        let mut config = Config::new(url.clone());
        if let Some(pem) = ca_pem {
            config.root_cert = Some(pem_certificates(pem)?);
        }
        if let Some(identity) = identity {
            let b64 = base64::engine::general_purpose::STANDARD;
            config.auth_info.client_certificate_data = Some(b64.encode(&identity.cert_pem));
            config.auth_info.client_key_data = Some(b64.encode(identity.key_pem.expose_secret()).into());
        }
        let tls = config.rustls_client_config().map_err(|e| format!("TLS: {e}"))?;
        let resolver = PolicyResolver { policy: self.policy.clone(), plain_http: url.scheme_str() == Some("http") };
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let origin = Arc::new(Origin { connector, protocol: OnceCell::new(), connections: Mutex::default() });
        origins.insert(key, origin.clone());
        Ok(origin)
    }

    /// How many pooled clients exist (each one connection, for HTTP/2), for tests.
    #[cfg(test)]
    fn pools(&self) -> usize {
        self.origins
            .lock()
            .map(|o| {
                o.values()
                    .map(|o| o.connections.lock().map(|c| c.iter().filter(|s| s.holders() > 0).count()).unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// Connects once to learn whether the origin speaks HTTP/2 (ALPN) and, if so, how many
/// concurrent streams it allows a connection (its SETTINGS, which arrive with the answer to
/// one `GET /version`; kube-apiserver allows 100, Go's default is 250).
async fn learn_protocol(
    connector: &Connector,
    url: &http::Uri,
    authorization: Option<&HeaderValue>,
) -> std::result::Result<Protocol, String> {
    let io =
        connector.clone().call(url.clone()).await.map_err(|e| match flotilla_outbound::refusal_in(e.as_ref()) {
            Some(refused) => refused.to_string(),
            None => format!("cannot connect: {e}"),
        })?;
    if !io.connected().is_negotiated_h2() {
        return Ok(Protocol::Http1);
    }
    let (send, connection) = h2::client::handshake(TokioIo::new(io)).await.map_err(|e| format!("HTTP/2: {e}"))?;
    let connection = tokio::spawn(connection);
    let mut send = send.ready().await.map_err(|e| format!("HTTP/2: {e}"))?;
    let mut version = url.clone().into_parts();
    version.path_and_query = format!("{}/version", url.path().trim_end_matches('/')).parse().ok();
    let version = http::Uri::from_parts(version).map_err(|e| format!("HTTP/2: {e}"))?;
    let mut request = http::Request::get(version).body(()).map_err(|e| format!("HTTP/2: {e}"))?;
    if let Some(authorization) = authorization {
        request.headers_mut().insert(http::header::AUTHORIZATION, authorization.clone());
    }
    let (answer, _) = send.send_request(request, true).map_err(|e| format!("HTTP/2: {e}"))?;
    answer.await.map_err(|e| format!("HTTP/2: {e}"))?; // any status: only the settings matter
    let max_streams = send.current_max_send_streams();
    drop(send);
    connection.abort();
    Ok(Protocol::Http2 { max_streams })
}

/// A kube client over its own connection pool; each request names its cluster (`Target`).
fn pooled_client(connector: &Connector, h2: bool, user_agent: HeaderValue) -> Client {
    let hyper: Hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        // One HTTP/2 connection, not one per request racing to connect first.
        .http2_only(h2)
        // Dead connections are noticed by pings, not by a watch that never ends.
        .http2_keep_alive_interval(Duration::from_secs(20))
        .http2_keep_alive_timeout(Duration::from_secs(10))
        .http2_keep_alive_while_idle(true)
        .build(connector.clone());
    let service = ServiceBuilder::new()
        .map_request(move |mut request: http::Request<Body>| {
            if let Some(target) = request.extensions().get::<Arc<Target>>().cloned() {
                target.apply(&mut request);
            }
            request.headers_mut().insert(http::header::USER_AGENT, user_agent.clone());
            request
        })
        .map_err(BoxError::from)
        .service(hyper);
    Client::new(service, "default")
}

/// Resolves names for the connector as the outbound policy allows: a name with an address the
/// policy refuses does not resolve at all, so nothing connects to it.
#[derive(Clone)]
struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
    plain_http: bool,
}

impl Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Refused;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Self::Response, Refused>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Refused>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let (policy, plain_http) = (self.policy.clone(), self.plain_http);
        Box::pin(async move {
            let addrs = policy.resolve(name.as_str(), plain_http).await?;
            // Port 0: the connector puts the URL's port in.
            Ok(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter())
        })
    }
}

/// The DER bytes of each certificate in a PEM bundle.
fn pem_certificates(pem: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match (line, &mut body) {
            ("-----BEGIN CERTIFICATE-----", None) => body = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(b)) => {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b.as_bytes())
                    .map_err(|e| format!("CA certificate is not valid PEM: {e}"))?;
                certs.push(der);
                body = None;
            }
            (l, Some(b)) => b.push_str(l),
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err("the CA data holds no PEM certificate".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_bundles_split_into_certificates() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n\
                   -----BEGIN CERTIFICATE-----\nBAU=\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(pem).unwrap(), vec![vec![0, 1, 2, 3], vec![4, 5]]);
        assert!(pem_certificates("nothing").unwrap_err().contains("no PEM certificate"));
        assert!(pem_certificates("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err());
    }

    /// The tests' clusters are on this machine.
    fn loopback() -> Arc<OutboundPolicy> {
        Arc::new(OutboundPolicy { loopback: flotilla_outbound::Loopback::Http, ..Default::default() })
    }

    fn cluster(name: &str, url: &str) -> EngineCluster {
        EngineCluster {
            id: name.into(),
            tenant_id: "t".into(),
            name: name.into(),
            api_server_url: url.into(),
            ca_pem: None,
            token: "token".to_owned().into(),
            labels: Default::default(),
            deregistering: None,
            version: 1,
        }
    }

    #[tokio::test]
    async fn clusters_behind_one_origin_share_connections_up_to_the_limit() {
        // Plain http: no ALPN, so HTTP/1.1 pools, which are never split. Over https the
        // limit applies (the engine tests run over https with a limit of 2).
        let t = Transports::new(loopback(), 2, Duration::from_secs(1));
        let a = t.connect(&cluster("a", "http://127.0.0.1:1/clusters/a"), 0).await.unwrap();
        let b = t.connect(&cluster("b", "http://127.0.0.1:1/clusters/b"), 0).await.unwrap();
        let c = t.connect(&cluster("c", "http://127.0.0.1:1/clusters/c"), 0).await.unwrap();
        assert_eq!(t.pools(), 1, "one HTTP/1.1 pool per origin");
        let other = t.connect(&cluster("x", "http://127.0.0.2:1"), 0).await.unwrap();
        assert_eq!(t.pools(), 2, "another origin never shares");
        drop((a, b, c, other));
        assert_eq!(t.pools(), 0, "a pool nobody holds is gone");
        assert!(t.connect(&cluster("bad", "not a url"), 0).await.is_err());
        // A query would swallow every request's path: such a URL is refused, not joined as text.
        let e = t.connect(&cluster("q", "http://127.0.0.1:1/c?x="), 0).await.err().expect("refused").to_string();
        assert!(e.contains("query"), "{e}");
        let unreachable = cluster("https", "https://127.0.0.1:1/clusters/z");
        let e = t.connect(&unreachable, 0).await.err().expect("nothing listens on port 1").to_string();
        assert!(e.contains("cannot connect"), "{e}");
    }

    #[tokio::test]
    async fn https_origins_pack_clusters_up_to_what_the_server_allows() {
        use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
        let names: Vec<String> = (0..7).map(|i| format!("c{i}")).collect();
        // The server allows 8 concurrent streams: three quarters of that is 6 per connection.
        let settings = SimSettings { http2_max_streams: 8, ..SimSettings::default() };
        let specs = names.iter().map(ClusterSpec::new).collect();
        let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), specs, settings).await.unwrap();
        let simulated = |name: &str| EngineCluster {
            ca_pem: sim.ca_pem().map(str::to_owned),
            token: sim.fleet().get(name).unwrap().token.clone().into(),
            ..cluster(name, &sim.server_url(name))
        };
        let t = Transports::new(loopback(), 1000, Duration::from_secs(5));
        let mut held = Vec::new();
        for name in &names {
            held.push(t.connect(&simulated(name), 0).await.unwrap());
        }
        let origin = t.origins.lock().unwrap().values().next().unwrap().clone();
        assert_eq!(origin.protocol.get(), Some(&Protocol::Http2 { max_streams: 8 }));
        assert_eq!(t.pools(), 2, "7 clusters at 6 per connection");
        let info: k8s_openapi::apimachinery::pkg::version::Info =
            held[6].request(http::Request::get("/version").body(Vec::new()).unwrap()).await.unwrap();
        assert!(!info.git_version.is_empty(), "the second connection works");

        // Our own limit applies when it is the lower one.
        let t = Transports::new(loopback(), 3, Duration::from_secs(5));
        for name in &names {
            held.push(t.connect(&simulated(name), 0).await.unwrap());
        }
        assert_eq!(t.pools(), 3, "7 clusters at 3 per connection");

        // Clusters reserve their watches' streams as they join, before the watches open:
        // with two watches each (three streams), a connection of 6 takes two clusters.
        let t = Transports::new(loopback(), 1000, Duration::from_secs(5));
        let mut joined = Vec::new();
        for name in &names[..4] {
            joined.push(t.connect(&simulated(name), 2).await.unwrap());
        }
        assert_eq!(t.pools(), 2, "4 clusters of 3 streams at 6 per connection");
        let origin = t.origins.lock().unwrap().values().next().unwrap().clone();
        let holders = || origin.connections.lock().unwrap().iter().map(Shared::holders).collect::<Vec<_>>();
        assert_eq!(holders(), [6, 6]);
        // The watches take the reserved shares; a watch more than reserved counts one more.
        let watches: Vec<Arc<()>> = (0..3).map(|_| joined[0].stream_share()).collect();
        assert_eq!(holders(), [7, 6]);
        drop(watches);
        assert_eq!(holders(), [4, 6], "the watches' streams ended");
    }

    #[test]
    fn a_target_prefixes_the_path_and_sets_the_token() {
        let target = Target {
            base: "https://rancher.example/k8s/clusters/c-1".into(),
            authorization: Some(HeaderValue::from_static("Bearer t")),
            share: Arc::new(()),
            reserved: Mutex::default(),
        };
        let mut request =
            http::Request::get("/api/v1/namespaces/a/configmaps?labelSelector=x").body(Body::empty()).unwrap();
        target.apply(&mut request);
        assert_eq!(
            request.uri(),
            "https://rancher.example/k8s/clusters/c-1/api/v1/namespaces/a/configmaps?labelSelector=x"
        );
        assert_eq!(request.headers()[http::header::AUTHORIZATION], "Bearer t");
    }
}
