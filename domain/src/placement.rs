//! Where a federated resource goes: KubeFed's placement, intersected with the clusters of
//! the resource's workspace and project.
//!
//! - `clusters` given: exactly those clusters (by name); an empty list places nowhere. A
//!   list wins over a selector given alongside it.
//! - otherwise `selector`: the clusters whose labels match; the empty selector (or none at
//!   all) places on every cluster of the project or workspace.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Error, LabelSelector, Result};

/// Placement as stored and edited (JSON `{"clusters":[…]}` or `{"selector":"…"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

impl Placement {
    /// Every cluster of the scope.
    pub fn everywhere() -> Self {
        Self::default()
    }

    pub fn clusters(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { clusters: Some(names.into_iter().map(Into::into).collect()), selector: None }
    }

    pub fn selector(text: impl Into<String>) -> Self {
        Self { clusters: None, selector: Some(text.into()) }
    }

    /// Checks the placement and turns it into the form that answers "does it select this
    /// cluster?". Errors name the `placement` field.
    pub fn resolve(&self) -> Result<ResolvedPlacement> {
        if let Some(names) = &self.clusters {
            let mut set = BTreeSet::new();
            for name in names {
                crate::ResourceName::parse("placement", name)
                    .map_err(|e| Error::invalid("placement", format!("cluster `{name}`: {}", reason_of(&e))))?;
                set.insert(name.clone());
            }
            return Ok(ResolvedPlacement::Clusters(set));
        }
        let selector = match &self.selector {
            Some(text) => LabelSelector::parse(text)
                .map_err(|e| Error::invalid("placement", format!("selector: {}", reason_of(&e))))?,
            None => LabelSelector::everything(),
        };
        Ok(ResolvedPlacement::Selector(selector))
    }
}

fn reason_of(e: &Error) -> &str {
    e.reason()
}

/// A checked placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedPlacement {
    Clusters(BTreeSet<String>),
    Selector(LabelSelector),
}

impl ResolvedPlacement {
    pub fn selects(&self, cluster_name: &str, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Clusters(names) => names.contains(cluster_name),
            Self::Selector(selector) => selector.matches(labels),
        }
    }
}

/// The chain a namespaced resource's cluster must pass: workspace selector, project selector
/// (narrowing it), the resource's own placement. Workspace resources have no project.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub workspace: &'a LabelSelector,
    pub project: Option<&'a LabelSelector>,
}

/// The clusters a workspace, or a project of it, reaches: its stored selectors, parsed. The
/// one rule for "which clusters" that the dashboard (lists and counts) and the engine (where
/// objects go) both use, through [`Scope::contains`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    workspace: LabelSelector,
    project: Option<LabelSelector>,
}

impl Reach {
    /// From the workspace's selector and, for a project, the project's. Errors name the
    /// `selector` field (a stored selector that no longer parses reaches no cluster).
    pub fn parse(workspace: &str, project: Option<&str>) -> Result<Self> {
        Ok(Self {
            workspace: LabelSelector::parse(workspace)?,
            project: project.map(LabelSelector::parse).transpose()?,
        })
    }

    pub fn scope(&self) -> Scope<'_> {
        Scope { workspace: &self.workspace, project: self.project.as_ref() }
    }
}

impl Scope<'_> {
    /// Whether the cluster belongs to the workspace (and project, if any).
    pub fn contains(&self, labels: &BTreeMap<String, String>) -> bool {
        self.workspace.matches(labels) && self.project.is_none_or(|p| p.matches(labels))
    }

    /// Whether a resource with `placement` in this scope belongs on the cluster.
    pub fn places(&self, placement: &ResolvedPlacement, cluster_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.contains(labels) && placement.selects(cluster_name, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn list_wins_over_selector_and_empty_list_places_nowhere() {
        let both = Placement { clusters: Some(vec!["a".into()]), selector: Some("env=prod".into()) };
        let p = both.resolve().unwrap();
        assert!(p.selects("a", &labels(&[])));
        assert!(!p.selects("b", &labels(&[("env", "prod")])));
        let none = Placement::clusters(Vec::<String>::new()).resolve().unwrap();
        assert!(!none.selects("a", &labels(&[("env", "prod")])));
    }

    #[test]
    fn empty_or_missing_selector_places_everywhere() {
        for p in [Placement::everywhere(), Placement::selector(""), Placement::selector("  ")] {
            assert!(p.resolve().unwrap().selects("x", &labels(&[])), "{p:?}");
        }
        let prod = Placement::selector("env=prod").resolve().unwrap();
        assert!(prod.selects("x", &labels(&[("env", "prod")])));
        assert!(!prod.selects("x", &labels(&[("env", "dev")])));
    }

    #[test]
    fn scope_intersects_workspace_project_and_placement() {
        let ws = LabelSelector::parse("env=prod").unwrap();
        let project = LabelSelector::parse("region=eu").unwrap();
        let scope = Scope { workspace: &ws, project: Some(&project) };
        let everywhere = Placement::everywhere().resolve().unwrap();
        let listed = Placement::clusters(["prod-us", "prod-eu"]).resolve().unwrap();
        let eu_prod = labels(&[("env", "prod"), ("region", "eu")]);
        let us_prod = labels(&[("env", "prod"), ("region", "us")]);
        assert!(scope.places(&everywhere, "prod-eu", &eu_prod));
        assert!(!scope.places(&everywhere, "prod-us", &us_prod));
        // A cluster named in the list but outside the project is not placed on.
        assert!(!scope.places(&listed, "prod-us", &us_prod));
        assert!(scope.places(&listed, "prod-eu", &eu_prod));
        let ws_only = Scope { workspace: &ws, project: None };
        assert!(ws_only.places(&everywhere, "prod-us", &us_prod));
    }

    #[test]
    fn a_projects_reach_is_its_workspaces_narrowed_by_its_own() {
        let eu_prod = labels(&[("env", "prod"), ("region", "eu")]);
        let us_prod = labels(&[("env", "prod"), ("region", "us")]);
        let workspace = Reach::parse("env=prod", None).unwrap();
        assert!(workspace.scope().contains(&eu_prod) && workspace.scope().contains(&us_prod));
        let project = Reach::parse("env=prod", Some("region=eu")).unwrap();
        assert!(project.scope().contains(&eu_prod) && !project.scope().contains(&us_prod));
        assert!(Reach::parse("", Some("")).unwrap().scope().contains(&labels(&[])), "empty selectors: every cluster");
        assert!(Reach::parse("env=prod", Some("region in (")).is_err());
    }

    #[test]
    fn bad_placements_are_refused_with_the_field() {
        let e = Placement::selector("env in (").resolve().unwrap_err();
        assert_eq!(e.field(), "placement");
        assert!(e.to_string().starts_with("placement: selector: "), "{e}");
        let e = Placement::clusters(["Not_A_Name"]).resolve().unwrap_err();
        assert!(e.to_string().contains("cluster `Not_A_Name`"), "{e}");
    }

    #[test]
    fn json_form() {
        let p: Placement = serde_json::from_str(r#"{"clusters":["a","b"]}"#).unwrap();
        assert_eq!(p, Placement::clusters(["a", "b"]));
        let p: Placement = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p, Placement::everywhere());
        assert_eq!(serde_json::to_string(&Placement::selector("env=prod")).unwrap(), r#"{"selector":"env=prod"}"#);
    }
}
