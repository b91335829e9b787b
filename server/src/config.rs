//! Typed, layered configuration: built-in defaults, then a TOML file (`--config`), then
//! environment variables (`FLOTILLA_*`) and flags, each layer overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use flotilla_outbound::{Loopback, OutboundPolicy};
use secrecy::SecretString;
use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Which demo fleet `--demo` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DemoFleet {
    /// 48 clusters and Apache Kafka 3.7.1 installed in three projects, ready for the upgrade
    /// story (in either demo fleet, `apache/kafka:3.8.0` images never become ready).
    #[default]
    Story,
    /// 12 clusters and nothing installed (what the tests use).
    Small,
}

/// Command-line flags; each also reads the environment variable named in its help.
#[derive(Debug, Default, Parser)]
#[command(name = "flotilla", version, about = "Flotilla: configuration for fleets of Kubernetes clusters")]
pub struct Args {
    /// TOML file with any of the settings below (snake_case keys); flags and env win over it.
    #[arg(long, env = "FLOTILLA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "FLOTILLA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the SQLite database and the generated secret key [default: ./data].
    #[arg(long, env = "FLOTILLA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://<file> (one process) or postgres://<user>@<host>/<database>
    /// (several replicas) [default: sqlite://<data dir>/flotilla.db].
    #[arg(long, env = "FLOTILLA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Connections to the database this process may hold at once [default: 8].
    #[arg(long, env = "FLOTILLA_DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: Option<u32>,
    /// Log format [default: text].
    #[arg(long, env = "FLOTILLA_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, tracing EnvFilter syntax [default: info].
    #[arg(long, env = "FLOTILLA_LOG")]
    pub log: Option<String>,
    /// Key for secrets at rest: 32 bytes as base64 or hex. Overrides the key file.
    #[arg(long, env = "FLOTILLA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<SecretString>,
    /// Key file, created (mode 0600) on first start when no key is given [default: <data dir>/secret.key].
    #[arg(long, env = "FLOTILLA_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Password for the `admin` account when it is created on first start [default: generated, printed once].
    #[arg(long, env = "FLOTILLA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<SecretString>,
    /// Minutes of inactivity after which a session ends [default: 480].
    #[arg(long, env = "FLOTILLA_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u64>,
    /// Hours after its login at which a session ends, however active [default: 12].
    #[arg(long, env = "FLOTILLA_SESSION_MAX_HOURS")]
    pub session_max_hours: Option<u64>,
    /// Mark cookies Secure (serve over https, e.g. behind a TLS proxy) [default: false].
    #[arg(long, env = "FLOTILLA_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// The URL browsers reach Flotilla at; OpenID Providers send users back to
    /// <public URL>/t/<tenant>/callback [default: http://<listen address>].
    #[arg(long, env = "FLOTILLA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder with the built site (wasm, css, assets) [default: $LEPTOS_SITE_ROOT or target/site].
    #[arg(long, env = "FLOTILLA_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
    /// Start a demo fleet of 12 simulated clusters and register them in the default tenant.
    #[arg(long, env = "FLOTILLA_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
    /// Which demo fleet: `story` (48 clusters, Kafka installed in three projects) or `small`
    /// (12 clusters, nothing installed) [default: story].
    #[arg(long, env = "FLOTILLA_DEMO_FLEET")]
    pub demo_fleet: Option<DemoFleet>,
    /// Address for the demo fleet's simulated API servers [default: 127.0.0.1:0, any free port].
    #[arg(long, env = "FLOTILLA_DEMO_LISTEN")]
    pub demo_listen: Option<SocketAddr>,
    /// The token the demo simulator's admin API requires [default: random; written to
    /// <data dir>/demo-kubeconfigs/admin-token].
    #[arg(long, env = "FLOTILLA_DEMO_ADMIN_TOKEN", hide_env_values = true)]
    pub demo_admin_token: Option<SecretString>,
    /// Address serving /metrics for Prometheus, or `off` [default: 127.0.0.1:9464].
    #[arg(long, env = "FLOTILLA_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Whether clusters and OpenID Providers may be on this machine's loopback addresses:
    /// `deny`, `https`, or `http` (https and plain http) [default: deny; http with --demo].
    #[arg(long, env = "FLOTILLA_OUTBOUND_LOOPBACK")]
    pub outbound_loopback: Option<Loopback>,
    /// Refuse clusters and providers at private addresses (10/8, 172.16/12, 192.168/16,
    /// 100.64/10, fc00::/7) [default: false, since clusters live there].
    #[arg(long, env = "FLOTILLA_OUTBOUND_DENY_PRIVATE", num_args = 0..=1, default_missing_value = "true")]
    pub outbound_deny_private: Option<bool>,
    /// More networks to refuse, comma-separated CIDRs (e.g. `10.20.0.0/16,192.0.2.7/32`).
    /// Link-local and cloud metadata addresses are always refused.
    #[arg(long, env = "FLOTILLA_OUTBOUND_DENY")]
    pub outbound_deny: Option<String>,
}

/// The same settings as read from a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    secret_key: Option<SecretString>,
    secret_key_file: Option<PathBuf>,
    admin_password: Option<SecretString>,
    session_idle_minutes: Option<u64>,
    session_max_hours: Option<u64>,
    secure_cookies: Option<bool>,
    public_url: Option<String>,
    site_root: Option<PathBuf>,
    demo: Option<bool>,
    demo_fleet: Option<DemoFleet>,
    demo_listen: Option<SocketAddr>,
    demo_admin_token: Option<SecretString>,
    metrics_listen: Option<String>,
    outbound_loopback: Option<Loopback>,
    outbound_deny_private: Option<bool>,
    outbound_deny: Option<Vec<String>>,
}

/// Everything the server needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_max_connections: u32,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub secret_key: Option<SecretString>,
    pub secret_key_file: PathBuf,
    pub admin_password: Option<SecretString>,
    pub session_idle: Duration,
    pub session_max_age: Duration,
    pub secure_cookies: bool,
    /// `None`: derived from the address actually listened on.
    pub public_url: Option<String>,
    pub site_root: PathBuf,
    pub demo: bool,
    pub demo_fleet: DemoFleet,
    pub demo_listen: SocketAddr,
    /// `None`: a random one.
    pub demo_admin_token: Option<SecretString>,
    /// `None`: no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the hub may connect (member clusters, OpenID Providers).
    pub outbound: OutboundPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is invalid")]
    Parse {
        path: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    /// Layers defaults, the config file named by `args.config`, and `args`.
    pub fn resolve(args: Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = args
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("flotilla.db").display()));
        if let Err(e) = flotilla_store::Backend::of_url(&database_url) {
            return Err(ConfigError::Invalid(format!("database URL '{}': {e}", redact_url(&database_url))));
        }
        let database_max_connections = args.database_max_connections.or(file.database_max_connections).unwrap_or(8);
        if !(1..=1000).contains(&database_max_connections) {
            return Err(ConfigError::Invalid("database max connections must be between 1 and 1000".into()));
        }
        let session_idle_minutes = args.session_idle_minutes.or(file.session_idle_minutes).unwrap_or(480);
        if session_idle_minutes == 0 {
            return Err(ConfigError::Invalid("session idle minutes must be at least 1".into()));
        }
        let session_max_hours = args.session_max_hours.or(file.session_max_hours).unwrap_or(12);
        if session_max_hours == 0 {
            return Err(ConfigError::Invalid("session max hours must be at least 1".into()));
        }
        if session_max_hours * 60 < session_idle_minutes {
            return Err(ConfigError::Invalid(format!(
                "session max hours ({session_max_hours}) must not be shorter than the idle timeout ({session_idle_minutes} minutes)"
            )));
        }
        let public_url = match args.public_url.or(file.public_url) {
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                if rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#'])) {
                    return Err(ConfigError::Invalid(format!(
                        "public URL '{url}': give the address browsers use, e.g. https://flotilla.example.com"
                    )));
                }
                Some(url)
            }
            None => None,
        };
        let site_root = args
            .site_root
            .or(file.site_root)
            .or_else(|| std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("target/site"));
        let metrics_listen = match args.metrics_listen.or(file.metrics_listen).as_deref().map(str::trim) {
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            Some("off") => None,
            Some(addr) => Some(addr.parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "metrics listen address '{addr}': give host:port (e.g. 127.0.0.1:9464) or off"
                ))
            })?),
        };
        let demo = args.demo.or(file.demo).unwrap_or(false);
        let deny = match args.outbound_deny {
            Some(list) => list.split(',').map(str::to_owned).collect(),
            None => file.outbound_deny.unwrap_or_default(),
        };
        let outbound = OutboundPolicy {
            // The demo's simulated clusters listen on this machine.
            loopback: args.outbound_loopback.or(file.outbound_loopback).unwrap_or(if demo {
                Loopback::Http
            } else {
                Loopback::Deny
            }),
            deny_private: args.outbound_deny_private.or(file.outbound_deny_private).unwrap_or(false),
            deny: deny
                .iter()
                .map(|net| net.trim())
                .filter(|net| !net.is_empty())
                .map(|net| {
                    net.parse().or_else(|_| net.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
                        ConfigError::Invalid(format!(
                            "outbound deny '{net}': give networks as CIDRs, e.g. 10.20.0.0/16"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            outbound,
            metrics_listen,
            listen: args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
            secret_key_file: args
                .secret_key_file
                .or(file.secret_key_file)
                .unwrap_or_else(|| data_dir.join("secret.key")),
            data_dir,
            database_url,
            database_max_connections,
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            log_filter: args.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            secret_key: args.secret_key.or(file.secret_key),
            admin_password: args.admin_password.or(file.admin_password),
            session_idle: Duration::from_secs(session_idle_minutes * 60),
            session_max_age: Duration::from_secs(session_max_hours * 3600),
            public_url,
            secure_cookies: args.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            site_root,
            demo,
            demo_fleet: args.demo_fleet.or(file.demo_fleet).unwrap_or_default(),
            demo_listen: args.demo_listen.or(file.demo_listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            demo_admin_token: args.demo_admin_token.or(file.demo_admin_token),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.display().to_string(), source })
}

/// A URL with any password replaced, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}://***{}", &url[..scheme_end], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_put_everything_under_the_data_dir() {
        let s = Settings::resolve(Args { site_root: Some("site".into()), ..Args::default() }).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url, "sqlite://data/flotilla.db");
        assert_eq!(s.secret_key_file, PathBuf::from("data/secret.key"));
        assert_eq!(s.session_idle, Duration::from_secs(8 * 3600));
        assert_eq!(s.session_max_age, Duration::from_secs(12 * 3600));
        assert_eq!(s.public_url, None);
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(!s.secure_cookies);
        assert_eq!(s.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(s.outbound, OutboundPolicy::default(), "nothing on this machine, private ranges allowed");
    }

    #[test]
    fn the_outbound_policy_is_configured_and_the_demo_allows_its_own_fleet() {
        let s = Settings::resolve(Args { demo: Some(true), ..Args::default() }).unwrap();
        assert_eq!(s.outbound.loopback, Loopback::Http, "the demo fleet and a local provider");
        let s = Settings::resolve(Args {
            demo: Some(true),
            outbound_loopback: Some(Loopback::Https),
            outbound_deny_private: Some(true),
            outbound_deny: Some("10.20.0.0/16, 192.0.2.7".into()),
            ..Args::default()
        })
        .unwrap();
        assert_eq!(s.outbound.loopback, Loopback::Https, "an explicit setting wins");
        assert!(s.outbound.deny_private);
        assert_eq!(s.outbound.deny, vec!["10.20.0.0/16".parse().unwrap(), "192.0.2.7/32".parse().unwrap()]);
        let err = Settings::resolve(Args { outbound_deny: Some("10.0.0.0/33".into()), ..Args::default() }).unwrap_err();
        assert!(err.to_string().contains("give networks as CIDRs"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flotilla.toml");
        std::fs::write(&path, "outbound_loopback = \"https\"\noutbound_deny = [\"172.16.0.0/12\"]\n").unwrap();
        let s = Settings::resolve(Args { config: Some(path), ..Args::default() }).unwrap();
        assert_eq!((s.outbound.loopback, s.outbound.deny.len()), (Loopback::Https, 1));
    }

    #[test]
    fn the_metrics_listener_is_an_address_or_off() {
        let with = |v: &str| Settings::resolve(Args { metrics_listen: Some(v.into()), ..Args::default() });
        assert_eq!(with("0.0.0.0:9100").unwrap().metrics_listen, Some("0.0.0.0:9100".parse().unwrap()));
        assert_eq!(with("off").unwrap().metrics_listen, None);
        let err = with("9100").unwrap_err();
        assert!(err.to_string().contains("give host:port"), "{err}");
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flotilla.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:8080\"\ndata_dir = \"/var/lib/flotilla\"\nlog_format = \"json\"\nadmin_password = \"from-file\"\n",
        )
        .unwrap();
        let args = Args { config: Some(path), listen: Some("127.0.0.1:9000".parse().unwrap()), ..Args::default() };
        let s = Settings::resolve(args).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9000", "flag wins");
        assert_eq!(s.database_url, "sqlite:///var/lib/flotilla/flotilla.db", "file's data dir used");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.admin_password.unwrap().expose_secret(), "from-file");
    }

    #[test]
    fn bad_configuration_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listen_adress = \"x\"\n").unwrap();
        let err = Settings::resolve(Args { config: Some(path), ..Args::default() }).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("listen_adress"), "{source}");

        let err =
            Settings::resolve(Args { database_url: Some("mysql://u:pw@db/x".into()), ..Args::default() }).unwrap_err();
        assert!(err.to_string().contains("mysql://***@db/x"), "{err}");
        assert!(err.to_string().contains("postgres://"), "says what is supported: {err}");
        assert!(!err.to_string().contains("pw"), "password leaked: {err}");

        let err = Settings::resolve(Args { session_idle_minutes: Some(0), ..Args::default() }).unwrap_err();
        assert!(err.to_string().contains("at least 1"));
        let err =
            Settings::resolve(Args { session_max_hours: Some(1), session_idle_minutes: Some(90), ..Args::default() })
                .unwrap_err();
        assert!(err.to_string().contains("must not be shorter than the idle timeout"), "{err}");
        let err =
            Settings::resolve(Args { public_url: Some("flotilla.example".into()), ..Args::default() }).unwrap_err();
        assert!(err.to_string().contains("https://flotilla.example.com"), "{err}");
        let s = Settings::resolve(Args { public_url: Some("https://f.example/".into()), ..Args::default() }).unwrap();
        assert_eq!(s.public_url.as_deref(), Some("https://f.example"), "trailing slash dropped");
    }
}
