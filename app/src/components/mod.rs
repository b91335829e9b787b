mod app_shell;
mod field_error;
mod logo;
pub mod styles;

pub use app_shell::AppShell;
pub use field_error::FieldError;
pub use logo::Logo;
