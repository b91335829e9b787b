//! Kubeconfigs for simulated clusters: one context per cluster, bearer-token users, the
//! server URL carrying the cluster's path prefix, the CA when served over TLS. Written as
//! JSON, which is valid YAML.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;

use crate::cluster::Cluster;

/// A kubeconfig with a context per cluster; the first is current.
pub fn render(base_url: &str, ca_pem: Option<&str>, clusters: &[Arc<Cluster>]) -> String {
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
        .map(|c| json!({"name": format!("{}-admin", c.spec.name), "user": {"token": c.token}}))
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
