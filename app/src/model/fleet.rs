//! The fleet: clusters as the fleet page lists them, and the register form's choices.

use serde::{Deserialize, Serialize};

pub use flotilla_domain::ClusterSummary;

/// A cluster as the fleet page lists it: with how many workspaces and projects reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRow {
    pub cluster: ClusterSummary,
    pub workspaces: usize,
    pub projects: usize,
}

/// A cluster deregistered: what became of Flotilla's identity in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deregistered {
    pub name: String,
    pub identity: IdentityFate,
}

/// Flotilla's identity (`flotilla-system/flotilla-hub`) in a cluster it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum IdentityFate {
    /// The cluster was registered with a token of its own: there is no identity.
    None,
    /// Left in the member (no admin kubeconfig was given to remove it); its token still works.
    Left,
    /// Removed with the admin kubeconfig given, once the engine was done with the cluster.
    Removed,
    /// Asked for but not done, and why; unjoining the cluster later finishes it.
    NotRemoved(String),
}

impl Deregistered {
    /// One sentence for the person who deregistered it.
    pub fn sentence(&self) -> String {
        let name = &self.name;
        match &self.identity {
            IdentityFate::None => format!("{name} is deregistered."),
            IdentityFate::Left => format!(
                "{name} is deregistered. Flotilla's identity is still in it: unjoin it with an admin kubeconfig \
                 (or delete the flotilla-system namespace and the flotilla: roles) to revoke its token."
            ),
            IdentityFate::Removed => format!("{name} is deregistered and Flotilla's identity was removed from it."),
            IdentityFate::NotRemoved(why) => format!(
                "{name} is deregistered, but Flotilla's identity is still in it ({why}): unjoin it once more with the \
                 admin kubeconfig."
            ),
        }
    }
}

/// A joined cluster's grant, as updated: the cluster's name, the kinds it gives Flotilla
/// beyond the standard ones (`group/plural`), and whether that is as much as cluster-admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Granted {
    pub name: String,
    pub namespaced: Vec<String>,
    pub cluster: Vec<String>,
    pub equals_cluster_admin: bool,
}

impl Granted {
    /// One sentence for the person who updated the grant (the page's notice, the CLI's
    /// answer).
    pub fn sentence(&self) -> String {
        let cluster = &self.name;
        let kinds: Vec<&str> = self.namespaced.iter().chain(&self.cluster).map(String::as_str).collect();
        let mut said = if kinds.is_empty() {
            format!("{cluster}'s grant is updated: the standard kinds only.")
        } else {
            format!("{cluster}'s grant is updated: beyond the standard kinds, {}.", kinds.join(", "))
        };
        if self.equals_cluster_admin {
            said.push_str(" It lets workspaces write cluster RBAC, admission or CRDs: as much as cluster-admin.");
        }
        said
    }
}

/// A kubeconfig context as the register form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextChoice {
    pub name: String,
    pub server: String,
    /// Why it cannot be used, if it cannot (shown, and the option disabled).
    pub problem: Option<String>,
}

/// A type the fleet serves, as the Types page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeRow {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// How many clusters serve it.
    pub served_by: usize,
    /// How many clusters (of those whose discovery was read) do not.
    pub lacking: usize,
    /// The first [`MAX_NAMED`] of those, by name.
    pub lacking_named: Vec<String>,
}

/// The most clusters a row names as lacking its type (the count says how many in all).
pub const MAX_NAMED: usize = 12;

/// The types the tenant's clusters serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypesView {
    pub clusters: usize,
    /// Clusters whose discovery has not been read yet (offline since they joined), by name.
    pub unread: Vec<String>,
    /// By group, version and kind.
    pub types: Vec<TypeRow>,
}

impl TypesView {
    /// From each cluster's name and the digest of what it serves (`None`: not read), and
    /// the sets by digest (a digest without its set counts as not read).
    pub fn of(
        clusters: &[(String, Option<String>)],
        sets: &std::collections::HashMap<String, Vec<flotilla_domain::kinds::ServedType>>,
    ) -> Self {
        use std::collections::BTreeMap;
        let mut by_digest: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut unread = Vec::new();
        for (name, digest) in clusters {
            match digest.as_deref().filter(|d| sets.contains_key(*d)) {
                Some(d) => by_digest.entry(d).or_default().push(name),
                None => unread.push(name.clone()),
            }
        }
        let read = clusters.len() - unread.len();
        let mut rows: BTreeMap<(String, String, String), TypeRow> = BTreeMap::new();
        for (digest, names) in &by_digest {
            for t in &sets[*digest] {
                let key = (t.group().to_owned(), t.version().to_owned(), t.kind.clone());
                let row = rows.entry(key).or_insert_with(|| TypeRow {
                    api_version: t.api_version.clone(),
                    kind: t.kind.clone(),
                    plural: t.plural.clone(),
                    namespaced: t.namespaced,
                    served_by: 0,
                    lacking: 0,
                    lacking_named: Vec::new(),
                });
                row.served_by += names.len();
            }
        }
        for row in rows.values_mut() {
            row.lacking = read - row.served_by;
            if row.lacking == 0 {
                continue;
            }
            let mut lacking: Vec<&str> = by_digest
                .iter()
                .filter(|(d, _)| !sets[**d].iter().any(|t| t.api_version == row.api_version && t.kind == row.kind))
                .flat_map(|(_, names)| names.iter().copied())
                .collect();
            lacking.sort_unstable();
            row.lacking_named = lacking.into_iter().take(MAX_NAMED).map(str::to_owned).collect();
        }
        Self { clusters: clusters.len(), unread, types: rows.into_values().collect() }
    }
}

#[cfg(test)]
mod tests {
    use flotilla_domain::kinds::ServedType;

    use super::*;

    fn t(api_version: &str, kind: &str, plural: &str) -> ServedType {
        ServedType { api_version: api_version.into(), kind: kind.into(), plural: plural.into(), namespaced: true }
    }

    #[test]
    fn each_type_says_which_clusters_lack_it() {
        let sets = [
            ("a".to_owned(), vec![t("v1", "ConfigMap", "configmaps"), t("zoo.example.com/v1", "Octopus", "octopi")]),
            ("b".to_owned(), vec![t("v1", "ConfigMap", "configmaps")]),
        ]
        .into_iter()
        .collect();
        let clusters = [
            ("lab-2".to_owned(), Some("b".to_owned())),
            ("lab-1".to_owned(), Some("a".to_owned())),
            ("lab-3".to_owned(), Some("b".to_owned())),
            ("new".to_owned(), None),
            ("gone".to_owned(), Some("c".to_owned())),
        ];
        let view = TypesView::of(&clusters, &sets);
        assert_eq!((view.clusters, view.unread.clone()), (5, vec!["new".to_owned(), "gone".to_owned()]));
        let shown: Vec<(String, usize, usize, Vec<String>)> = view
            .types
            .into_iter()
            .map(|r| (format!("{} {}", r.api_version, r.plural), r.served_by, r.lacking, r.lacking_named))
            .collect();
        assert_eq!(
            shown,
            [
                ("v1 configmaps".to_owned(), 3, 0, vec![]),
                ("zoo.example.com/v1 octopi".to_owned(), 1, 2, vec!["lab-2".to_owned(), "lab-3".to_owned()]),
            ]
        );
    }
}
