//! Start-up as a value: [`Application::build`] opens everything and binds the port,
//! [`Application::run_until_stopped`] serves. Tests bind port 0 and read [`Application::port`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use flotilla_store::{SecretCipher, SecretKey, Store};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::state::{AppState, AuthSettings};
use app::{App, shell};

use crate::auth::{DbSessionStore, oidc, require_login, same_origin};
use crate::config::Settings;
use crate::health;
use crate::metrics::{HttpMetrics, Metrics};

/// How long requests in flight may take to finish once the server begins to stop.
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Cancelled when the server begins to stop; handlers of long-lived responses (the live
/// stream) take it as an extension and end then.
#[derive(Clone, Default)]
pub struct Stopping(pub tokio_util::sync::CancellationToken);

/// The name of Flotilla's session cookie.
pub const SESSION_COOKIE: &str = "flotilla_session";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not create the data folder {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not open the database")]
    Store(#[from] flotilla_store::Error),
    #[error("the built-in app catalog is broken")]
    Catalog(#[from] flotilla_catalog::CatalogError),
    #[error("could not start the demo fleet")]
    Demo(#[from] crate::demo::DemoError),
    #[error("could not start the sync engine")]
    Engine(#[from] flotilla_engine::Error),
    #[error("could not set up OpenID Connect")]
    Oidc(#[from] flotilla_oidc::OidcError),
    #[error("could not listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
    /// `/metrics`, on its own listener (none when turned off).
    metrics: Option<(TcpListener, Router)>,
    /// Cancelled when the server begins to stop (long-lived responses such as the live
    /// stream end then, so that the requests in flight can finish).
    stopping: Stopping,
    store: Store,
    /// The sync engine: one worker per registered cluster.
    engine: flotilla_engine::EngineHandle,
    /// The demo fleet, served as long as the application lives.
    demo: Option<flotilla_simulator::Simulator>,
    /// The reconciler of projects' access bindings.
    access: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Opens the data folder, secret key and database, makes sure the bootstrap tenant and
    /// admin exist, and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartupError::DataDir { path: settings.data_dir.display().to_string(), source })?;
        let (key, created) = SecretKey::load_or_create(settings.secret_key.as_ref(), &settings.secret_key_file)?;
        if created {
            tracing::warn!(
                path = %settings.secret_key_file.display(),
                key_id = %key.id(),
                "generated a new secret key; back it up: without it, stored credentials cannot be decrypted"
            );
        }
        let pool = flotilla_store::PoolSettings {
            max_connections: settings.database_max_connections,
            ..flotilla_store::PoolSettings::default()
        };
        let store = Store::connect_with(&settings.database_url, SecretCipher::new(&key), pool).await?;
        let bootstrap = store.bootstrap(settings.admin_password.as_ref()).await?;
        let catalog = store.sync_builtin_catalog(&flotilla_catalog::builtin()?).await?;
        tracing::info!(
            added = catalog.added,
            updated = catalog.updated,
            removed = catalog.removed,
            "app catalog ready"
        );
        // Projects' access bindings follow the group rules, change by change (and at once for
        // whatever changed while no server ran).
        let access = store.spawn_access_reconciler();
        let demo = if settings.demo {
            let token = settings.demo_admin_token.as_ref().map(|t| t.expose_secret().to_owned());
            Some(
                crate::demo::start(
                    &store,
                    &bootstrap.tenant_id,
                    settings.demo_listen,
                    &settings.data_dir,
                    token,
                    settings.demo_fleet,
                )
                .await?,
            )
        } else {
            None
        };

        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind { addr: settings.listen, source })?;
        if let Some(password) = &bootstrap.generated_password {
            tracing::warn!(
                "created the admin account: log in at http://{addr}/login as '{}' with password '{}' \
                 (shown only this once; set FLOTILLA_ADMIN_PASSWORD to choose it on a fresh data dir)",
                bootstrap.admin_username,
                password.expose_secret(),
            );
        }

        let metrics_listener = match settings.metrics_listen {
            Some(at) => Some(TcpListener::bind(at).await.map_err(|source| StartupError::Bind { addr: at, source })?),
            None => None,
        };

        let outbound = Arc::new(settings.outbound.clone());
        tracing::info!(
            loopback = %outbound.loopback,
            deny_private = outbound.deny_private,
            deny = ?outbound.deny,
            "outbound policy for clusters and OpenID Providers"
        );
        let engine_settings = flotilla_engine::EngineSettings {
            outbound: outbound.clone(),
            ..flotilla_engine::EngineSettings::default()
        };
        let engine = flotilla_engine::EngineHandle::start(store.clone(), engine_settings).await?;
        let metrics = Arc::new(Metrics::new(engine.metrics()));
        let stopping = Stopping::default();
        let router = router(&settings, store.clone(), engine.clone(), outbound, addr, metrics.http.clone())?
            .layer(axum::Extension(stopping.clone()));
        let metrics = metrics_listener.map(|l| (l, crate::metrics::router(metrics)));
        if let Some(at) = metrics.as_ref().and_then(|(l, _)| l.local_addr().ok()) {
            tracing::info!(url = %format!("http://{at}/metrics"), "metrics for Prometheus");
        }
        tracing::info!(url = %format!("http://{addr}"), site_root = %settings.site_root.display(), "Flotilla is listening");
        Ok(Self { listener, addr, router, metrics, stopping, store, engine, demo, access })
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn engine(&self) -> &flotilla_engine::EngineHandle {
        &self.engine
    }

    pub fn demo(&self) -> Option<&flotilla_simulator::Simulator> {
        self.demo.as_ref()
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves until Ctrl-C or SIGTERM; see [`Application::run_until`].
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then stops in order: no new requests are taken and those
    /// in flight finish; the sync engine finishes its writes in flight (bounded) and stores
    /// every status, so that the next start knows what the members hold; then the demo fleet
    /// (if any) stops.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let sessions = DbSessionStore::new(self.store.clone());
        let cleanup = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                every.tick().await;
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "could not remove expired sessions");
                }
            }
        });
        let metrics = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            })
        });
        let stopping = self.stopping.clone();
        tokio::spawn(async move {
            stop.await;
            stopping.0.cancel();
        });
        let serve = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(self.stopping.0.clone().cancelled_owned());
        // Requests in flight get a bounded time to finish once stopping begins.
        let overdue = async {
            self.stopping.0.cancelled().await;
            tokio::time::sleep(REQUEST_GRACE).await;
        };
        let served = tokio::select! {
            served = serve => served,
            () = overdue => {
                tracing::warn!(grace_s = REQUEST_GRACE.as_secs(), "requests still in flight were cut off");
                Ok(())
            }
        };
        tracing::info!("no longer taking requests; stopping the sync engine");
        self.engine.shutdown().await;
        cleanup.abort();
        self.access.abort();
        if let Some(m) = metrics {
            m.abort();
        }
        drop(self.demo);
        tracing::info!("stopped");
        served
    }
}

fn leptos_options(settings: &Settings, addr: SocketAddr) -> LeptosOptions {
    // cargo-leptos compiles the output name in (and sets the rest through LEPTOS_* variables);
    // `cargo test` builds have neither, and use the names from Cargo.toml's metadata.
    let built_by_cargo_leptos =
        option_env!("LEPTOS_OUTPUT_NAME").is_some() || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = built_by_cargo_leptos
        .then(|| get_configuration(None).ok())
        .flatten()
        .map(|c| c.leptos_options)
        .unwrap_or_else(|| LeptosOptions::builder().output_name("flotilla").build());
    options.site_root = settings.site_root.display().to_string().into();
    options.site_addr = addr;
    options
}

/// Where browsers reach us when no public URL is configured: the address listened on
/// (`localhost` for all interfaces).
fn default_public_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("http://localhost:{}", addr.port()) } else { format!("http://{addr}") }
}

fn router(
    settings: &Settings,
    store: Store,
    engine: flotilla_engine::EngineHandle,
    outbound: Arc<flotilla_outbound::OutboundPolicy>,
    addr: SocketAddr,
    http_metrics: HttpMetrics,
) -> Result<Router, StartupError> {
    let auth = AuthSettings {
        public_url: settings.public_url.clone().unwrap_or_else(|| default_public_url(addr)),
        session_max_age: settings.session_max_age,
        secure_cookies: settings.secure_cookies,
    };
    let state = AppState {
        leptos_options: leptos_options(settings, addr),
        store: store.clone(),
        engine,
        oidc: flotilla_oidc::Oidc::new(outbound.clone())?,
        outbound,
        auth,
    };
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let sessions = SessionManagerLayer::new(DbSessionStore::new(store))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::try_from(settings.session_idle)
                .unwrap_or(tower_sessions::cookie::time::Duration::HOUR),
        ));

    // API tokens count on the REST API's routes only: no server function sees one otherwise.
    let api = crate::api::router().layer(middleware::from_fn_with_state(state.clone(), crate::api::authenticate));
    Ok(Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/events", get(crate::events::events))
        .route("/t", get(oidc::pick_tenant))
        .route("/t/{slug}/login", get(oidc::start))
        .route("/t/{slug}/callback", get(oidc::callback))
        .leptos_routes_with_context(&state, generate_route_list(App), context.clone(), render_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .route_layer(middleware::from_fn(crate::metrics::note_route))
        .layer(middleware::from_fn(crate::bad_arguments::bad_arguments))
        .layer(middleware::from_fn(require_login))
        .layer(sessions)
        // Bodies are bounded before anything reads them.
        .layer(middleware::from_fn(crate::body_limit::limit_body))
        // Outermost: a forged request never touches the session.
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn_with_state(
            crate::security_headers::Https(settings.secure_cookies),
            crate::security_headers::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(http_metrics, crate::metrics::track))
        .with_state(state))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down (a second signal does not hurry it: in-flight writes end first)");
}
