//! Kubeconfigs for simulated clusters: one context per cluster, bearer-token users (or a
//! client certificate, as kind and kubeadm write an admin's), the server URL carrying the
//! cluster's path prefix, the CA when served over TLS. Written as JSON, which is valid YAML.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::cluster::Cluster;

/// A kubeconfig with a context per cluster (users with its admin token); the first is current.
pub fn render(base_url: &str, ca_pem: Option<&str>, clusters: &[Arc<Cluster>]) -> String {
    let users = clusters.iter().map(|c| json!({"token": c.token})).collect();
    render_users(base_url, ca_pem, clusters, users)
}

/// A kubeconfig for `cluster` whose user signs in as `kubernetes-admin` in `system:masters`
/// with a client certificate the simulator's CA (`tls`) signs and the cluster records as its
/// own, as the admin kubeconfig of a kind or kubeadm cluster does.
pub fn render_with_certificate(
    base_url: &str,
    tls: &crate::tls::ServerIdentity,
    cluster: &Arc<Cluster>,
) -> Result<String, crate::Error> {
    let certificate = tls.client_certificate("kubernetes-admin", &["system:masters"])?;
    cluster.issue_admin_certificate(certificate.der);
    let user = json!({
        "client-certificate-data": B64.encode(&certificate.cert_pem),
        "client-key-data": B64.encode(&certificate.key_pem),
    });
    Ok(render_users(base_url, Some(&tls.ca_pem), std::slice::from_ref(cluster), vec![user]))
}

/// A kubeconfig with a context per cluster, each with its user from `users` (in order).
fn render_users(base_url: &str, ca_pem: Option<&str>, clusters: &[Arc<Cluster>], users: Vec<Value>) -> String {
    let clusters_json: Vec<_> = clusters
        .iter()
        .map(|c| {
            let mut cluster = json!({"server": format!("{base_url}/clusters/{}", c.spec.name)});
            if let Some(ca) = ca_pem {
                cluster["certificate-authority-data"] = json!(B64.encode(ca));
            }
            json!({"name": c.spec.name, "cluster": cluster})
        })
        .collect();
    let users: Vec<_> = clusters
        .iter()
        .zip(users)
        .map(|(c, user)| json!({"name": format!("{}-admin", c.spec.name), "user": user}))
        .collect();
    let contexts: Vec<_> = clusters
        .iter()
        .map(|c| json!({"name": c.spec.name, "context": {"cluster": c.spec.name, "user": format!("{}-admin", c.spec.name)}}))
        .collect();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters_json,
        "users": users,
        "contexts": contexts,
        "current-context": clusters.first().map(|c| c.spec.name.clone()).unwrap_or_default(),
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}
