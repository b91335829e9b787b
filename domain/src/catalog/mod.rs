//! Apps from a catalog: an app version is metadata, a typed parameter schema and templated
//! manifests (`catalog/<app>/<version>/` in the repository, or an archive a tenant uploads).
//! Installing renders the templates with checked values into ordinary objects, which become
//! federated resources like any other: ordering, overrides, drift and status all apply.
//!
//! Parameters and definitions compile everywhere (the browser builds the install form and
//! checks fields as they are typed); rendering needs the `templates` feature (the server).

#[cfg(feature = "archives")]
mod archive;
mod definition;
mod params;
mod rules;
#[cfg(feature = "templates")]
mod template;

#[cfg(feature = "archives")]
pub use archive::{MAX_ARCHIVE_BYTES, read_archive};
pub use definition::{
    APP_FILE, AppDefinition, AppMeta, AppScope, MAX_DEFINITION_BYTES, MAX_INSTALL_NAME, MAX_TEMPLATE_FILES,
    TEMPLATES_DIR, TemplateFile, check_install_name, parse_definition,
};
pub use params::{MAX_PARAMETERS, ParamType, Parameter, ValueErrors, check_quantity, check_values};
pub use rules::{MAX_VALUE_RULES, ValueRule, check_rules};
#[cfg(feature = "templates")]
pub use template::{
    AppObject, InstallObject, InstallTarget, MAX_INSTALL_OBJECTS, RENDER_FUEL, render_app, render_install,
};
