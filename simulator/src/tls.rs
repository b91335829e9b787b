//! TLS for the simulator, as real API servers have it: a CA made at start-up signs a
//! certificate for 127.0.0.1 and localhost; kubeconfigs carry the CA. (kubectl will not send
//! a bearer token over plain http, so tokens need TLS.) The same CA signs client
//! certificates, which the listener asks for but does not require: a client that presents
//! one is the user its subject names (CN the user, each O a group), as kube-apiserver's
//! `--client-ca-file` authentication reads it.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// The CA (which signs client certificates too) and the serving certificate, PEM-encoded.
#[derive(Clone)]
pub struct ServerIdentity {
    pub ca_pem: String,
    cert_pem: String,
    key_pem: String,
    issuer: Arc<CertifiedIssuer<'static, KeyPair>>,
}

/// A client certificate the simulator's CA signed, with its key.
#[derive(Clone)]
pub struct ClientCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate as a client presents it.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCertificate")
    }
}

impl ServerIdentity {
    /// A client certificate for `user` in `groups` (its subject's CN and O), signed by the
    /// CA, for client authentication only.
    pub fn client_certificate(&self, user: &str, groups: &[&str]) -> Result<ClientCertificate, Error> {
        let key = KeyPair::generate().map_err(tls_err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params.distinguished_name.push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let cert = params.signed_by(&key, &self.issuer).map_err(tls_err)?;
        Ok(ClientCertificate { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() })
    }
}

/// The user and groups a client certificate names (subject CN and each O), read from its
/// DER; `None` when it cannot be read or names no user.
pub fn subject_of(der: &[u8]) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let user = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
    let groups = subject.iter_organization().filter_map(|o| o.as_str().ok().map(str::to_owned)).collect();
    Some((user, groups))
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
    Ok(ServerIdentity { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem(), issuer: Arc::new(ca) })
}

/// A rustls server configuration (ring provider; HTTP/2 or HTTP/1.1 by ALPN, as
/// kube-apiserver offers) serving `identity`, taking client certificates its CA signed
/// (and clients without one, who send a token).
pub fn server_config(identity: &ServerIdentity) -> Result<ServerConfig, Error> {
    let certs =
        CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(tls_err)?;
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(tls_err)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(identity.ca_pem.as_bytes()) {
        roots.add(ca.map_err(tls_err)?).map_err(tls_err)?;
    }
    let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(tls_err)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_client_cert_verifier(clients)
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
