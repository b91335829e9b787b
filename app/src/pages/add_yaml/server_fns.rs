//! The YAML editor's server function: what adding an object would do in each cluster.

use leptos::prelude::*;

use crate::AppError;
use crate::model::Review;

/// What adding the object in `yaml` would do in each cluster of the workspace (with
/// `project_id`: of the project). Nothing is saved.
#[server(endpoint = "resources/review-new")]
pub async fn review_new(workspace_id: String, project_id: Option<String>, yaml: String) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_new(workspace_id, project_id, yaml).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::Level;

    use crate::AppError;
    use crate::backend::{Shown, app_state, home_of, new_spec, require_caller, secret_keys_of};
    use crate::model::Review;

    pub async fn review_new(
        workspace_id: String,
        project_id: Option<String>,
        yaml: String,
    ) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let project_id = project_id.as_deref().filter(|p| !p.is_empty());
        let home = home_of(&store, &user, &workspace_id, project_id, Level::Edit).await?;
        let spec = new_spec(&home, &yaml)?;
        let keys = secret_keys_of(&spec.template);
        home.review(None, Some(&Shown::new(&spec, keys.as_ref(), None)?))
    }
}
