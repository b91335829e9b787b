//! Sessions and the login guard.

mod require_login;
mod session_store;

pub use require_login::require_login;
pub use session_store::DbSessionStore;
