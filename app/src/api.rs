//! The server functions behind the REST API (`/api/v1`, served by the server crate): the
//! same checks, the same 404 for what the caller may not see, and the same answers as the
//! dashboard's, under routes that stay put when a page changes.

pub use crate::pages::apps::server_fns::{get_app_fleet, install_app, review_install};
pub use crate::pages::fleet::server_fns::{deregister_cluster, list_clusters, unjoin_cluster, update_grant};
pub use crate::pages::project::delete::delete_project;
pub use crate::pages::project::export::export_project;
pub use crate::pages::project::server_fns::{add_resource, get_project_statuses, get_project_view};
pub use crate::pages::register_cluster::server_fns::register_cluster;
pub use crate::pages::resource::server_fns::{
    apply_edit, delete_resource, get_resource_detail, get_resource_statuses, review_edit,
};
pub use crate::pages::rollouts::server_fns::{act_on_rollout, get_rollout, list_rollouts, start_upgrade};
pub use crate::pages::types::fleet_types;
pub use crate::pages::workspace::delete::delete_workspace;
pub use crate::pages::workspace::export::{export_tenant, export_workspace};
pub use crate::pages::workspace::federate::{federate_namespace, preview_federation};
pub use crate::pages::workspace::import::{
    import_into_workspace, import_project, review_import, review_workspace_import,
};
pub use crate::pages::workspace::server_fns::{create_project, get_workspace_detail};
pub use crate::pages::workspaces::server_fns::{create_workspace, list_workspaces};
