mod add_yaml;
mod audit;
mod fleet;
mod login;
mod not_found;
mod project;
mod register_cluster;
mod resource;
mod workspace;
mod workspaces;

pub use audit::AuditLogPage;
pub use fleet::FleetPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use project::ProjectPage;
pub use resource::ResourcePage;
pub use workspace::WorkspacePage;
pub use workspaces::WorkspacesPage;
