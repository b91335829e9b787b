mod fleet;
mod login;
mod not_found;

pub use fleet::FleetPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
