//! Federating a namespace that already runs in a member into a new project: what the
//! preview shows before anything is stored.

use serde::{Deserialize, Serialize};

/// One object of the namespace and what federating does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederateObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Federated (`true`), or left in place for `reason`.
    pub taken: bool,
    pub reason: String,
    /// The template it becomes, as YAML (a Secret's values replaced by their key names).
    pub yaml: String,
}

/// What federating a member's namespace would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatePreview {
    pub cluster: String,
    pub namespace: String,
    /// The new project's Pod Security level (from the namespace's own label, else the default).
    pub pod_security: String,
    /// What the namespace itself needs written, if anything (labels it lacks).
    pub namespace_change: Option<String>,
    pub objects: Vec<FederateObject>,
    /// Kinds that could not be read, with why.
    pub unreadable: Vec<String>,
}

impl FederatePreview {
    /// How many objects become resources.
    pub fn taken(&self) -> usize {
        self.objects.iter().filter(|o| o.taken).count()
    }
}

/// One resource an import would create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub kind: String,
    pub name: String,
    /// Where it goes, as its placement says (`everywhere`, `clusters a, b`, `selector …`).
    pub placement: String,
    pub overrides: usize,
}

/// What importing YAML into a new project would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    /// The new project's name (its namespace).
    pub project: String,
    pub project_selector: String,
    pub resources: Vec<ImportRow>,
    /// What has no equivalent; the import is refused while there is any.
    pub problems: Vec<String>,
}

/// What importing YAML into a workspace itself would do: its own cluster-scoped objects,
/// and a new project for each namespace the documents name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceImportPreview {
    pub resources: Vec<ImportRow>,
    /// Each with its own `problems` left empty (they are all in `problems`).
    pub projects: Vec<ImportPreview>,
    /// What has no equivalent; the import is refused while there is any.
    pub problems: Vec<String>,
}

/// A project exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    pub file_name: String,
    pub yaml: String,
    /// What the format could not hold (overrides by label selector in KubeFed's), and that
    /// Secret values are never exported.
    pub notes: Vec<String>,
}
