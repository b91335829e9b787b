//! Registering a cluster from a kubeconfig: its contexts, the access one of them gives
//! (server URL, CA, and a bearer token or a client certificate), and a test connection that
//! reads the server's version the way the engine will reach it.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use flotilla_outbound::OutboundPolicy;
use kube::config::{AuthInfo, Kubeconfig};
use secrecy::{ExposeSecret, SecretString};

pub use crate::client::ClientIdentity;
use crate::client::{MemberClient, Transports};

/// A context of a kubeconfig, as a user picks one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigContext {
    pub name: String,
    /// The API server URL (path prefixes included).
    pub server: String,
    /// Why Flotilla cannot use this context, if it cannot.
    pub problem: Option<String>,
}

/// What a context gives access with.
#[derive(Debug, Clone)]
pub struct ClusterAccess {
    pub server: String,
    pub ca_pem: Option<String>,
    pub credential: Credential,
}

/// How a context signs in.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A bearer token (a service account's): what Flotilla stores for a cluster.
    Token(SecretString),
    /// A client certificate, as kind's and kubeadm's admin kubeconfigs have: good for a
    /// one-off join, unjoin or grant, never stored.
    Certificate(ClientIdentity),
}

impl ClusterAccess {
    /// Access to `server` with bearer `token`.
    pub fn with_token(server: String, ca_pem: Option<String>, token: SecretString) -> Self {
        Self { server, ca_pem, credential: Credential::Token(token) }
    }

    /// The token a registration stores; a client certificate is refused (Flotilla keeps
    /// tokens only, and a join makes one from it).
    pub fn token(&self) -> Result<&SecretString, String> {
        match &self.credential {
            Credential::Token(token) => Ok(token),
            Credential::Certificate(_) => {
                Err("this context signs in with a client certificate, which Flotilla does not \
                 keep: join the cluster with it (Flotilla then makes its own identity and token), or give a service \
                 account token"
                    .into())
            }
        }
    }
}

/// The contexts of `text` (YAML or JSON), the current one first.
pub fn contexts(text: &str) -> Result<Vec<KubeconfigContext>, String> {
    let config = parse(text)?;
    let mut out: Vec<KubeconfigContext> = config
        .contexts
        .iter()
        .map(|c| {
            let resolved = resolve(&config, &c.name);
            KubeconfigContext {
                name: c.name.clone(),
                server: server_of(&config, &c.name).unwrap_or_default(),
                problem: resolved.err(),
            }
        })
        .collect();
    if out.is_empty() {
        return Err("the kubeconfig has no contexts".into());
    }
    if let Some(current) = &config.current_context {
        out.sort_by_key(|c| &c.name != current);
    }
    Ok(out)
}

/// The context `text` makes current, else its only one (`None` when it has several and
/// names none).
pub fn default_context(text: &str) -> Result<Option<String>, String> {
    let config = parse(text)?;
    Ok(match (&config.current_context, config.contexts.as_slice()) {
        (Some(current), _) if !current.is_empty() => Some(current.clone()),
        (_, [only]) => Some(only.name.clone()),
        _ => None,
    })
}

/// The server, CA and token of `context` in `text`.
pub fn access(text: &str, context: &str) -> Result<ClusterAccess, String> {
    resolve(&parse(text)?, context)
}

/// Connects as the engine would (under the same outbound `policy`) and reads the server's
/// version (`gitVersion`).
pub async fn test_connection(
    access: &ClusterAccess,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<String, String> {
    let client = connect(access, policy, timeout).await?;
    let request = http::Request::get("/version").body(Vec::new()).map_err(|e| e.to_string())?;
    let info: k8s_openapi::apimachinery::pkg::version::Info = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs_f32()))?
        .map_err(|e| crate::member::classify(e).reason())?;
    Ok(info.git_version)
}

/// A client for the cluster `access` reaches, under the hub's outbound `policy`, on a
/// connection of its own (registering, joining: one-off work outside the engine's workers).
pub(crate) async fn connect(
    access: &ClusterAccess,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<MemberClient, String> {
    // A certificate is presented by the TLS connection; the token stays empty then.
    let (token, identity) = match &access.credential {
        Credential::Token(token) => (token.clone(), None),
        Credential::Certificate(identity) => (SecretString::from(String::new()), Some(identity)),
    };
    let cluster = flotilla_store::EngineCluster {
        id: String::new(),
        tenant_id: String::new(),
        name: "registering".into(),
        api_server_url: access.server.clone(),
        ca_pem: access.ca_pem.clone(),
        token,
        labels: Default::default(),
        deregistering: None,
        version: 0,
    };
    Transports::new(policy, 1, timeout).connect_as(&cluster, 0, identity).await.map_err(|e| e.to_string())
}

fn parse(text: &str) -> Result<Kubeconfig, String> {
    if text.trim().is_empty() {
        return Err("paste or upload a kubeconfig".into());
    }
    Kubeconfig::from_yaml(text).map_err(|e| format!("this is not a kubeconfig: {e}"))
}

fn server_of(config: &Kubeconfig, context: &str) -> Option<String> {
    let ctx = config.contexts.iter().find(|c| c.name == context)?.context.as_ref()?;
    config.clusters.iter().find(|c| c.name == ctx.cluster)?.cluster.as_ref()?.server.clone()
}

fn resolve(config: &Kubeconfig, context: &str) -> Result<ClusterAccess, String> {
    let named = config.contexts.iter().find(|c| c.name == context).ok_or(format!("no context named `{context}`"))?;
    let ctx = named.context.as_ref().ok_or(format!("context `{context}` is empty"))?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .ok_or(format!("context `{context}` names cluster `{}`, which the kubeconfig lacks", ctx.cluster))?;
    let server = cluster.server.clone().ok_or(format!("cluster `{}` has no server URL", ctx.cluster))?;
    if cluster.insecure_skip_tls_verify == Some(true) {
        return Err("insecure-skip-tls-verify is not supported: give the cluster's CA".into());
    }
    let ca_pem = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
        (Some(data), _) => Some(embedded_text("certificate-authority-data", data)?),
        (None, Some(path)) => {
            return Err(format!(
                "the CA is a file on another machine ({path}); embed it as certificate-authority-data \
                 (kubectl config view --raw --minify --flatten)"
            ));
        }
        (None, None) => None,
    };
    let user = ctx.user.as_deref().ok_or(format!("context `{context}` has no user"))?;
    let auth: &AuthInfo = config
        .auth_infos
        .iter()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.as_ref())
        .ok_or(format!("context `{context}` names user `{user}`, which the kubeconfig lacks"))?;
    let credential = match (&auth.token, &auth.token_file) {
        (Some(token), _) if !token.expose_secret().is_empty() => Credential::Token(token.clone()),
        (_, Some(path)) => {
            return Err(format!(
                "the token is a file on another machine ({path}); put the token itself in the kubeconfig"
            ));
        }
        _ if auth.client_certificate_data.is_some() || auth.client_certificate.is_some() => {
            Credential::Certificate(client_identity(auth)?)
        }
        _ if auth.exec.is_some() || auth.auth_provider.is_some() => {
            return Err(
                "exec and auth-provider plugins cannot run on the Flotilla server: use a service account token".into(),
            );
        }
        _ => return Err(format!("user `{user}` has no token")),
    };
    Ok(ClusterAccess { server, ca_pem, credential })
}

/// The text a kubeconfig embeds as base64 in `field` (a CA, a client certificate or key).
fn embedded_text(field: &str, data: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()
        .and_then(|text| String::from_utf8(text).ok())
        .ok_or(format!("{field} is not base64-encoded PEM"))
}

/// The client certificate and key of a kubeconfig user, embedded as data.
fn client_identity(auth: &AuthInfo) -> Result<ClientIdentity, String> {
    let embedded = "kubectl config view --raw --minify --flatten";
    let Some(cert) = &auth.client_certificate_data else {
        return Err(format!(
            "the client certificate is a file on another machine ({}); embed it as client-certificate-data ({embedded})",
            auth.client_certificate.as_deref().unwrap_or_default()
        ));
    };
    let Some(key) = &auth.client_key_data else {
        return Err(match &auth.client_key {
            Some(path) => format!(
                "the client key is a file on another machine ({path}); embed it as client-key-data ({embedded})"
            ),
            None => "the user has a client certificate but no client-key-data".into(),
        });
    };
    let pem = |what: &str, data: &str| {
        let text = embedded_text(what, data)?;
        if text.contains("-----BEGIN ") { Ok(text) } else { Err(format!("{what} is not base64-encoded PEM")) }
    };
    Ok(ClientIdentity {
        cert_pem: pem("client-certificate-data", cert)?,
        key_pem: pem("client-key-data", key.expose_secret())?.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: b
clusters:
- name: a
  cluster: {server: "https://a.example:6443", certificate-authority-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="}
- name: b
  cluster: {server: "https://rancher.example/k8s/clusters/c-1"}
- name: c
  cluster: {server: "https://c.example", certificate-authority: /home/me/ca.crt}
users:
- name: token-user
  user: {token: s3cret}
- name: cert-user
  user: {client-certificate-data: AAA=, client-key-data: AAA=}
- name: file-cert-user
  user: {client-certificate: /home/me/admin.crt, client-key: /home/me/admin.key}
contexts:
- name: a
  context: {cluster: a, user: token-user}
- name: b
  context: {cluster: b, user: token-user}
- name: c
  context: {cluster: c, user: token-user}
- name: d
  context: {cluster: a, user: cert-user}
- name: e
  context: {cluster: a, user: file-cert-user}
"#;

    #[test]
    fn contexts_are_listed_current_first_with_what_stops_each() {
        let listed = contexts(CONFIG).unwrap();
        let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c", "d", "e"]);
        assert_eq!(listed[0].server, "https://rancher.example/k8s/clusters/c-1");
        assert_eq!(listed[0].problem, None);
        assert!(listed[2].problem.as_deref().unwrap().contains("certificate-authority-data"));
        assert!(listed[3].problem.as_deref().unwrap().contains("client-certificate-data is not base64-encoded PEM"));
        let file = listed[4].problem.as_deref().unwrap();
        assert!(file.contains("/home/me/admin.crt") && file.contains("client-certificate-data"), "{file}");

        let a = access(CONFIG, "a").unwrap();
        assert_eq!(a.server, "https://a.example:6443");
        assert!(a.ca_pem.as_deref().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(a.token().unwrap().expose_secret(), "s3cret");
        assert!(access(CONFIG, "zz").unwrap_err().contains("no context"));
        assert!(contexts("").unwrap_err().contains("paste"));
        assert!(contexts("{not yaml").unwrap_err().contains("not a kubeconfig"));
    }

    #[tokio::test]
    async fn a_test_connection_reads_the_version_or_says_why_not() {
        use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
        let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("x")], SimSettings::default())
            .await
            .unwrap();
        let text = sim.kubeconfig("x").unwrap();
        let ctx = contexts(&text).unwrap();
        assert_eq!(ctx[0].name, "x");
        let ok = access(&text, "x").unwrap();
        let loopback = Arc::new(OutboundPolicy { loopback: flotilla_outbound::Loopback::Https, ..Default::default() });
        let version = test_connection(&ok, loopback.clone(), Duration::from_secs(5)).await.unwrap();
        assert!(version.starts_with('v'), "{version}");

        let wrong_token = ClusterAccess { credential: Credential::Token("nope".to_owned().into()), ..ok.clone() };
        let why = test_connection(&wrong_token, loopback.clone(), Duration::from_secs(5)).await.unwrap_err();
        assert!(why.contains("401") || why.to_lowercase().contains("unauthorized"), "{why}");
        let nowhere = ClusterAccess { server: "https://127.0.0.1:1".into(), ..ok.clone() };
        assert!(test_connection(&nowhere, loopback.clone(), Duration::from_secs(5)).await.is_err());

        // The hub's outbound policy applies: by default a cluster on the hub's own machine is
        // not called, whether named by address or by a name that resolves to it.
        let why = test_connection(&ok, Arc::default(), Duration::from_secs(5)).await.unwrap_err();
        assert!(why.contains("loopback") && why.contains("does not connect there"), "{why}");
        let by_name = ClusterAccess { server: ok.server.replace("127.0.0.1", "localhost"), ..ok.clone() };
        let why = test_connection(&by_name, Arc::default(), Duration::from_secs(5)).await.unwrap_err();
        assert!(why.contains("localhost resolves to 127.0.0.1, a loopback address"), "{why}");
        let metadata = ClusterAccess { server: "https://169.254.169.254/latest".into(), ..ok };
        let why = test_connection(&metadata, loopback, Duration::from_secs(5)).await.unwrap_err();
        assert!(why.contains("cloud metadata service"), "{why}");
    }
}
