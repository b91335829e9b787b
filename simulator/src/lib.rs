//! Simulated member clusters that speak the Kubernetes REST API over real HTTP, for tests,
//! the demo fleet and benchmarks. Depends on nothing of Flotilla's: it stands in for real
//! kube-apiservers, and its fidelity is checked with kubectl.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flotilla_simulator::Error> {
//! use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
//! let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("a").label("env", "prod")], SimSettings::default()).await?;
//! let kubeconfig = sim.kubeconfig("a"); // server: http://127.0.0.1:PORT/clusters/a
//! # Ok(()) }
//! ```

mod api_error;
mod cluster;
pub mod config;
mod fleet;
pub mod http;
mod kinds;
pub mod kubeconfig;
mod patch;
pub mod rbac;
mod selectors;
mod state;
mod tls;
mod validate;
mod workloads;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api_error::ApiError;
pub use cluster::{Cluster, ClusterSpec, Faults, RequestCounts, WriteRecord};
pub use fleet::{Fleet, SimSettings, random_token};
pub use tls::ClientCertificate;
pub use workloads::WorkloadSettings;

/// Why the simulator could not do something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not bind the simulator's listener: {0}")]
    Bind(#[source] std::io::Error),
    #[error("fleet configuration: {0}")]
    Config(String),
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    #[error("could not write kubeconfig {path}")]
    WriteKubeconfig {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A running simulator: the fleet, served over HTTPS (or plain HTTP when
/// [`SimSettings::tls`] is off). Stops when dropped.
pub struct Simulator {
    fleet: Arc<Fleet>,
    addr: SocketAddr,
    tls: Option<tls::ServerIdentity>,
    server: tokio::task::JoinHandle<()>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Starts serving `clusters` on `listen` (port 0 for any free port).
    pub async fn start(listen: SocketAddr, clusters: Vec<ClusterSpec>, settings: SimSettings) -> Result<Self> {
        let fleet = Arc::new(Fleet::new(settings));
        for spec in clusters {
            fleet.add(spec);
        }
        let listener = std::net::TcpListener::bind(listen).map_err(Error::Bind)?;
        listener.set_nonblocking(true).map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let identity = if fleet.settings.tls { Some(tls::generate()?) } else { None };
        let app = http::router(fleet.clone(), identity.clone());
        let server = match &identity {
            Some(identity) => {
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls::server_config(identity)?));
                let mut server = axum_server::from_tcp_rustls(listener, config).map_err(Error::Bind)?;
                // A hub multiplexes many clusters' requests and watches over one HTTP/2
                // connection, as many at once as this allows.
                server.http_builder().http2().max_concurrent_streams(fleet.settings.http2_max_streams);
                tokio::spawn(async move {
                    if let Err(e) = server.serve(app.into_make_service()).await {
                        tracing::error!(error = %e, "simulator server stopped");
                    }
                })
            }
            None => {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(Error::Bind)?;
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "simulator server stopped");
                    }
                })
            }
        };
        let ticker = tokio::spawn(fleet.clone().run_ticker());
        Ok(Self { fleet, addr, tls: identity, server, ticker })
    }

    /// The CA that signed the serving certificate (PEM), when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The API server URL of cluster `name` (whether or not it exists).
    pub fn server_url(&self, name: &str) -> String {
        format!("{}/clusters/{name}", self.base_url())
    }

    pub fn fleet(&self) -> &Arc<Fleet> {
        &self.fleet
    }

    /// What the admin API requires as `Authorization: Bearer …`.
    pub fn admin_token(&self) -> &str {
        &self.fleet.settings.admin_token
    }

    pub fn cluster(&self, name: &str) -> Option<Arc<Cluster>> {
        self.fleet.get(name)
    }

    /// Adds a cluster while running (a cluster "joining" the fleet).
    pub fn add_cluster(&self, spec: ClusterSpec) -> Arc<Cluster> {
        self.fleet.add(spec)
    }

    /// Sets the faults of cluster `name`; false if there is no such cluster.
    pub fn set_faults(&self, name: &str, faults: Faults) -> bool {
        self.fleet.get(name).map(|c| c.set_faults(faults)).is_some()
    }

    /// A kubeconfig for cluster `name`.
    pub fn kubeconfig(&self, name: &str) -> Option<String> {
        self.fleet.get(name).map(|c| kubeconfig::render(&self.base_url(), self.ca_pem(), &[c]))
    }

    /// A kubeconfig for cluster `name` whose user is its admin by a client certificate, as
    /// kind and kubeadm write one; `None` without such a cluster, or without TLS.
    pub fn certificate_kubeconfig(&self, name: &str) -> Option<String> {
        let (cluster, tls) = (self.fleet.get(name)?, self.tls.as_ref()?);
        kubeconfig::render_with_certificate(&self.base_url(), tls, &cluster).ok()
    }

    /// A client certificate for `user` in `groups` signed by the simulator's CA (valid in
    /// every cluster, allowed what RBAC grants it); `None` without TLS.
    pub fn client_certificate(&self, user: &str, groups: &[&str]) -> Option<tls::ClientCertificate> {
        self.tls.as_ref()?.client_certificate(user, groups).ok()
    }

    /// Writes `<dir>/<cluster>.kubeconfig` for every cluster and `<dir>/fleet.kubeconfig`
    /// with a context per cluster; returns the paths written.
    pub fn write_kubeconfigs(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let write = |path: PathBuf, text: String| {
            write_private(&path, text.as_bytes())
                .map(|()| path.clone())
                .map_err(|source| Error::WriteKubeconfig { path: path.display().to_string(), source })
        };
        create_private_dir(dir).map_err(|source| Error::WriteKubeconfig { path: dir.display().to_string(), source })?;
        let clusters = self.fleet.all();
        let mut written = Vec::with_capacity(clusters.len() + 1);
        for c in &clusters {
            let text = kubeconfig::render(&self.base_url(), self.ca_pem(), std::slice::from_ref(c));
            written.push(write(dir.join(format!("{}.kubeconfig", c.spec.name)), text)?);
        }
        written
            .push(write(dir.join("fleet.kubeconfig"), kubeconfig::render(&self.base_url(), self.ca_pem(), &clusters))?);
        written.push(write(dir.join("admin-token"), format!("{}\n", self.admin_token()))?);
        Ok(written)
    }
}

/// Writes `bytes` to `path`, readable by its owner only (kubeconfigs carry tokens).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An existing file keeps its mode through `open`: tighten it too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

/// Creates `dir` (and its parents), the folder itself for its owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.server.abort();
        self.ticker.abort();
    }
}
