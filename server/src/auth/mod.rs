//! Sessions, OpenID Connect login, the login guard and the cross-site request guard.

pub mod oidc;
mod require_login;
mod same_origin;
mod session_store;

pub use require_login::require_login;
pub use same_origin::same_origin;
pub use session_store::DbSessionStore;
