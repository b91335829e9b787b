mod fleet;
mod login;
mod not_found;
mod workspaces;

pub use fleet::FleetPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use workspaces::WorkspacesPage;
