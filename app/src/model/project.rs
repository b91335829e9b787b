//! A project: its clusters, its resources and every (resource, cluster) status, compact.

use serde::{Deserialize, Serialize};

use super::{ClusterRef, StatusView};

/// A resource as the matrix lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub selector: String,
    /// What a selector edit must name to be applied.
    pub version: i64,
    /// The project's clusters: the workspace's, narrowed by the project's selector.
    pub clusters: Vec<ClusterRef>,
    pub resources: Vec<ResourceRow>,
    /// Every status, compact (a thousand clusters make thousands): per resource, one
    /// character per cluster in `clusters` order, `StatusCode::ALL[c - 'a']`, `.` for none.
    pub codes: Vec<String>,
    /// The statuses that carry a message or workload health.
    pub notes: Vec<StatusNote>,
    /// What the caller may do here (the page hides the rest; the server refuses it anyway).
    pub level: flotilla_domain::Level,
    /// The Pod Security Standard its namespace enforces, which its pods must meet.
    pub pod_security: flotilla_domain::PodSecurity,
    /// Whether the caller is a tenant admin (who may adopt a namespace that existed before).
    #[serde(default)]
    pub tenant_admin: bool,
    /// The apps installed here; their resources are among `resources`.
    #[serde(default)]
    pub installs: Vec<super::InstallView>,
    /// Whether the caller may delete the project (a workspace admin).
    #[serde(default)]
    pub can_delete: bool,
}

/// What a status says beyond its code: indices into [`ProjectView`]'s resources and clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNote {
    pub r: u32,
    pub c: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

/// A status code as one character of [`ProjectView::codes`].
pub fn code_char(code: flotilla_domain::StatusCode) -> char {
    let index = flotilla_domain::StatusCode::ALL.iter().position(|c| *c == code).unwrap_or(0);
    char::from(b'a' + index as u8)
}

impl ProjectView {
    /// The statuses with their resource and cluster ids.
    pub fn statuses(&self) -> Vec<StatusView> {
        let mut notes = std::collections::HashMap::new();
        for n in &self.notes {
            notes.insert((n.r as usize, n.c as usize), n);
        }
        let mut out = Vec::new();
        for (r, (resource, codes)) in self.resources.iter().zip(&self.codes).enumerate() {
            for (c, (cluster, ch)) in self.clusters.iter().zip(codes.bytes()).enumerate() {
                let Some(code) = ch.checked_sub(b'a').and_then(|i| flotilla_domain::StatusCode::ALL.get(i as usize))
                else {
                    continue;
                };
                let note = notes.get(&(r, c));
                out.push(StatusView {
                    resource_id: resource.id.clone(),
                    cluster_id: cluster.id.clone(),
                    code: code.as_str().to_owned(),
                    message: note.map(|n| n.message.clone()).unwrap_or_default(),
                    applied_revision: None,
                    health: note.and_then(|n| n.health.clone()),
                });
            }
        }
        out
    }
}
