//! The data the pages show and send: every type a server function takes or returns, shared
//! by the server and the browser build. One file per subject, used as `crate::model::X`.
//! Types here carry what a page needs and nothing the browser must not see (no tenant ids of
//! others, no hashes, never a secret's value).

mod apps;
mod audit;
mod federate;
mod fleet;
mod people;
mod project;
mod resource;
mod rollouts;
mod status;
mod tenant;
mod tokens;
mod workspace;

pub use apps::{
    AppFleet, AppHealth, CatalogApp, CatalogVersionView, InstallInput, InstallPlace, InstallView, RuleInput,
    VersionChoice,
};
pub use audit::{ACTIONS, AuditPage, AuditRow, PAGE};
pub use federate::{ExportView, FederateObject, FederatePreview, ImportPreview, ImportRow, WorkspaceImportPreview};
pub use fleet::{
    ClusterSummary, ContextChoice, Deregistered, FleetRow, Granted, IdentityFate, MAX_NAMED, TypeRow, TypesView,
};
pub use people::{PersonRow, RoleRow};
pub use project::{ProjectView, ResourceRow, StatusNote, code_char};
pub use resource::{OverrideRow, ResourceDetail, ResourceEdit, Review, RevisionView};
pub use rollouts::{EventView, PlanView, RolloutSummary, RolloutView, StepView, UpgradeInput, WaveView, duration};
pub use status::StatusView;
pub use tenant::{
    MappingRow, OidcForm, ProviderCheck, ProviderForm, Role, RulesPage, ScopeChoice, TenantPage, TenantRow,
};
pub use tokens::{NewTokenShown, ServiceAccountChoice, TokenRow, TokensView};
pub use workspace::{ClusterRef, ProjectSummary, StatusesNow, WorkspaceDetail, WorkspaceResource, WorkspaceSummary};
