//! Kube clients for member clusters, built from what the store holds: API server URL
//! (path prefixes such as Rancher's `/k8s/clusters/<id>` included), CA and bearer token.

use std::time::Duration;

use base64::Engine as _;
use flotilla_store::EngineCluster;
use kube::{Client, Config};

use crate::{Error, Result};

/// A client for `cluster`. kube-rs's own retries are off: a worker owns its backoff, so an
/// offline cluster answers fast and never holds a worker for minutes.
pub fn connect(cluster: &EngineCluster, connect_timeout: Duration) -> Result<Client> {
    let config_error = |reason: String| Error::ClusterConfig { cluster: cluster.name.clone(), reason };
    let url: http::Uri =
        cluster.api_server_url.parse().map_err(|e| config_error(format!("API server URL is invalid: {e}")))?;
    let mut config = Config::new(url);
    if let Some(pem) = &cluster.ca_pem {
        let ders = pem_certificates(pem).map_err(config_error)?;
        config.root_cert = Some(ders);
    }
    config.auth_info.token = Some(cluster.token.clone());
    config.default_retry = false;
    config.connect_timeout = Some(connect_timeout);
    Client::try_from(config).map_err(|e| config_error(format!("cannot build a client: {e}")))
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
}
