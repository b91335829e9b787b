//! TLS for the simulator, as real API servers have it: a CA made at start-up signs a
//! certificate for 127.0.0.1 and localhost; kubeconfigs carry the CA. (kubectl will not send
//! a bearer token over plain http, so tokens need TLS.)

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// The CA and the serving certificate, PEM-encoded.
#[derive(Clone)]
pub struct ServerIdentity {
    pub ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerIdentity")
    }
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

/// A fresh CA and a certificate it signs for `127.0.0.1` and `localhost`.
pub fn generate() -> Result<ServerIdentity, Error> {
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Flotilla simulator CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, ca_key).map_err(tls_err)?;

    let key = KeyPair::generate().map_err(tls_err)?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).map_err(tls_err)?;
    leaf.distinguished_name.push(DnType::CommonName, "flotilla-simulator");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let cert = leaf.signed_by(&key, &ca).map_err(tls_err)?;
    Ok(ServerIdentity { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// A rustls server configuration (ring provider; HTTP/2 or HTTP/1.1 by ALPN, as
/// kube-apiserver offers) serving `identity`.
pub fn server_config(identity: &ServerIdentity) -> Result<ServerConfig, Error> {
    let certs =
        CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(tls_err)?;
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(tls_err)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
