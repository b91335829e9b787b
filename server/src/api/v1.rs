//! Version 1 of the REST API: its routes, and the OpenAPI document generated from them.

use app::api as fns;
use app::state::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{StatusCode, header};
use serde::Deserialize;
use utoipa::OpenApi;

use super::schema::{
    AdminContext, ApiErrorBody, App, Cluster, DeregisterRequest, Deregistered, ExportFile, FederateRequest,
    FederateReview, GrantRequest, Granted, ImportRequest, ImportReview, Installed, NewCluster, NewInstall, NewProject,
    NewResource, NewRollout, NewWorkspace, Project, ProjectSummary, Resource, ResourceRef, ResourceUpdate,
    ReviewChange, Rollout, RolloutActionRequest, RolloutDetail, Status, Types, Unjoined, Workspace, WorkspaceDetail,
    WorkspaceImportRequest, WorkspaceImportReview, statuses,
};
use super::{ApiError, json, run};

type Answer<T> = Result<Json<T>, ApiError>;

/// The routes, under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/clusters", get(list_clusters).post(join_cluster))
        .route("/api/v1/clusters/unjoin", post(unjoin_cluster))
        .route("/api/v1/clusters/{id}/deregister", post(deregister_cluster))
        .route("/api/v1/clusters/{id}/grant", post(update_grant))
        .route("/api/v1/types", get(list_types))
        .route("/api/v1/workspaces", get(list_workspaces).post(create_workspace))
        .route("/api/v1/workspaces/{id}", get(get_workspace).delete(delete_workspace))
        .route("/api/v1/workspaces/{id}/projects", post(create_project))
        .route("/api/v1/workspaces/{id}/import", post(import))
        .route("/api/v1/workspaces/{id}/import-workspace", post(import_workspace))
        .route("/api/v1/workspaces/{id}/export", get(export_workspace))
        .route("/api/v1/export", get(export_tenant))
        .route("/api/v1/workspaces/{id}/federate", post(federate))
        .route("/api/v1/projects/{id}", get(get_project).delete(delete_project))
        .route("/api/v1/projects/{id}/status", get(project_status))
        .route("/api/v1/projects/{id}/resources", post(add_resource))
        .route("/api/v1/projects/{id}/export", get(export))
        .route("/api/v1/resources/{id}", get(get_resource).put(update_resource).delete(delete_resource))
        .route("/api/v1/resources/{id}/status", get(resource_status))
        .route("/api/v1/resources/{id}/review", post(review_resource_update))
        .route("/api/v1/apps", get(list_apps))
        .route("/api/v1/apps/install", post(install_app))
        .route("/api/v1/apps/review-install", post(review_install))
        .route("/api/v1/rollouts", get(list_rollouts).post(start_rollout))
        .route("/api/v1/rollouts/{id}", get(get_rollout))
        .route("/api/v1/rollouts/{id}/{action}", post(act_on_rollout))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flotilla",
        version = "1",
        description = "Fleet configuration across Kubernetes clusters: clusters, workspaces, projects, federated \
            resources and their status per cluster, rollouts. Authenticate with an API token made on the \
            dashboard's account page: `Authorization: Bearer flt_…`. A token acts with its user's roles, at most \
            its access; what the caller may not see answers 404."
    ),
    paths(
        list_clusters,
        join_cluster,
        deregister_cluster,
        update_grant,
        unjoin_cluster,
        list_types,
        list_workspaces,
        create_workspace,
        get_workspace,
        delete_workspace,
        create_project,
        import,
        import_workspace,
        export_workspace,
        export_tenant,
        federate,
        get_project,
        delete_project,
        project_status,
        add_resource,
        export,
        get_resource,
        update_resource,
        review_resource_update,
        delete_resource,
        resource_status,
        list_apps,
        install_app,
        review_install,
        list_rollouts,
        start_rollout,
        get_rollout,
        act_on_rollout
    ),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "fleet", description = "The tenant's member clusters and the kinds they serve"),
        (name = "workspaces", description = "Groups of clusters by label, with cluster-scoped resources"),
        (name = "projects", description = "A namespace in each of a workspace's clusters, with its resources"),
        (name = "resources", description = "Federated resources: template, placement, overrides, status"),
        (name = "apps", description = "The app catalog, installs, and upgrades started as rollouts"),
        (name = "rollouts", description = "Upgrades moving wave by wave")
    )
)]
struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("flt_…")
            .description(Some("An API token from the account page of the dashboard."))
            .build();
        openapi.components.get_or_insert_default().add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document of this version of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Response {
    match openapi().to_pretty_json() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialize");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The tenant's clusters, by name.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "fleet",
    responses((status = 200, description = "OK", body = Vec<Cluster>), (status = 401, description = "No valid API token or session", body = ApiErrorBody)))]
async fn list_clusters(State(state): State<AppState>, request: Request) -> Answer<Vec<Cluster>> {
    let (parts, _) = request.into_parts();
    let clusters = run(state, parts, fns::list_clusters).await?;
    Ok(Json(clusters.into_iter().map(Into::into).collect()))
}

/// Registers a cluster from a kubeconfig context (a tenant admin's): by default joins it,
/// creating Flotilla's own least-privilege identity there with the context's credentials,
/// which are used once and never stored.
#[utoipa::path(post, path = "/api/v1/clusters", tag = "fleet", request_body = NewCluster,
    responses((status = 201, description = "Made", body = Cluster),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn join_cluster(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let new: NewCluster = json(body).await?;
    let made = run(state, parts, || fns::register_cluster(new.kubeconfig, new.context, new.name, new.labels, new.join))
        .await?;
    Ok((StatusCode::CREATED, Json(Cluster::from(made))).into_response())
}

/// Deregisters a cluster (a tenant admin's): with `cleanup` Flotilla first deletes its objects
/// from it; with `unjoin`, an admin kubeconfig context (checked before anything starts, used
/// once, never stored), it then removes its own identity from the joined cluster. Answers
/// once the engine is done with the cluster and the identity is dealt with.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/deregister", tag = "fleet", request_body = DeregisterRequest,
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "Deregistered; `identity` says what became of Flotilla's identity", body = Deregistered),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 409, description = "Changed since it was read", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn deregister_cluster(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Answer<Deregistered> {
    let (parts, body) = request.into_parts();
    let asked: DeregisterRequest = json(body).await?;
    let done = run(state, parts, || async move {
        // The dashboard asks a person to type the name; the API names the cluster by id.
        let cluster = fns::list_clusters().await?.into_iter().find(|c| c.id == id).ok_or(app::AppError::NotFound)?;
        let version = asked.version.unwrap_or(cluster.version);
        let (unjoin, AdminContext { kubeconfig, context }) = match asked.unjoin {
            Some(admin) => (true, admin),
            None => (false, AdminContext { kubeconfig: String::new(), context: String::new() }),
        };
        fns::deregister_cluster(id, version, asked.cleanup, cluster.name, unjoin, kubeconfig, context).await
    })
    .await?;
    Ok(Json(done.into()))
}

/// Updates a joined cluster's grant (a tenant admin's) to the kinds the tenant's resources use
/// beyond the standard ones, with an admin kubeconfig context (used once, never stored); the
/// identity's token is renewed.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/grant", tag = "fleet", request_body = GrantRequest,
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The grant as it is now", body = Granted),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 409, description = "Changed since it was read", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn update_grant(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Answer<Granted> {
    let (parts, body) = request.into_parts();
    let asked: GrantRequest = json(body).await?;
    let granted = run(state, parts, || async move {
        let version = match asked.version {
            Some(v) => v,
            None => {
                let clusters = fns::list_clusters().await?;
                clusters.into_iter().find(|c| c.id == id).ok_or(app::AppError::NotFound)?.version
            }
        };
        fns::update_grant(id, version, asked.kubeconfig, asked.context).await
    })
    .await?;
    Ok(Json(granted.into()))
}

/// Removes Flotilla's identity from the cluster an admin kubeconfig context reaches (a
/// tenant admin's), a cluster the tenant no longer has registered. Idempotent.
#[utoipa::path(post, path = "/api/v1/clusters/unjoin", tag = "fleet", request_body = AdminContext,
    responses((status = 200, description = "Unjoined", body = Unjoined),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 422, description = "Input refused (a cluster still registered, a context without admin access); `field` names it", body = ApiErrorBody)))]
async fn unjoin_cluster(State(state): State<AppState>, request: Request) -> Answer<Unjoined> {
    let (parts, body) = request.into_parts();
    let admin: AdminContext = json(body).await?;
    let api_server = run(state, parts, || fns::unjoin_cluster(admin.kubeconfig, admin.context)).await?;
    Ok(Json(Unjoined { api_server }))
}

/// The kinds the fleet's members serve, and which clusters lack each.
#[utoipa::path(get, path = "/api/v1/types", tag = "fleet",
    responses((status = 200, description = "OK", body = Types), (status = 401, description = "No valid API token or session", body = ApiErrorBody)))]
async fn list_types(State(state): State<AppState>, request: Request) -> Answer<Types> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, fns::fleet_types).await?.into()))
}

/// The workspaces the caller has a role on (or on one of whose projects).
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces",
    responses((status = 200, description = "OK", body = Vec<Workspace>), (status = 401, description = "No valid API token or session", body = ApiErrorBody)))]
async fn list_workspaces(State(state): State<AppState>, request: Request) -> Answer<Vec<Workspace>> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, fns::list_workspaces).await?.into_iter().map(Into::into).collect()))
}

/// Creates a workspace (a tenant admin's).
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = NewWorkspace,
    responses((status = 201, description = "Made", body = Workspace), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn create_workspace(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let new: NewWorkspace = json(body).await?;
    let made = run(state, parts, || fns::create_workspace(new.name, new.selector)).await?;
    Ok((StatusCode::CREATED, Json(Workspace::from(made))).into_response())
}

/// A workspace with its clusters, projects and cluster-scoped resources.
#[utoipa::path(get, path = "/api/v1/workspaces/{id}", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses((status = 200, description = "OK", body = WorkspaceDetail), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn get_workspace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Answer<WorkspaceDetail> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, || fns::get_workspace_detail(id)).await?.into()))
}

/// Creates a project in the workspace (a workspace admin's).
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/projects", tag = "projects", request_body = NewProject,
    params(("id" = String, Path, description = "The workspace's id")),
    responses((status = 201, description = "Made", body = ProjectSummary), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn create_project(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let new: NewProject = json(body).await?;
    let made = run(state, parts, || fns::create_project(id, new.name, new.selector)).await?;
    Ok((StatusCode::CREATED, Json(ProjectSummary::from(made))).into_response())
}

/// Imports KubeFed `types.kubefed.io/v1beta1` documents or plain multi-document YAML as a new
/// project of the workspace (a tenant admin's). With `dry_run`, says what would be made.
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/import", tag = "projects", request_body = ImportRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses((status = 200, description = "The review (dry run)", body = ImportReview),
        (status = 201, description = "The project made", body = ProjectSummary),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody), (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn import(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let asked: ImportRequest = json(body).await?;
    if asked.dry_run {
        let review = run(state, parts, || fns::review_import(id, asked.name, asked.yaml)).await?;
        return Ok(Json(ImportReview::from(review)).into_response());
    }
    let made = run(state, parts, || fns::import_project(id, asked.name, asked.yaml)).await?;
    Ok((StatusCode::CREATED, Json(ProjectSummary::from(made))).into_response())
}

/// Imports YAML into the workspace itself (a workspace admin's; cluster-scoped objects are
/// weighed by the policy at the caller's clearance): a new project for each namespace the
/// documents name, cluster-scoped objects to the workspace, all or nothing. A workspace
/// export imports back this way. With `dry_run`, says what would be made.
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/import-workspace", tag = "workspaces", request_body = WorkspaceImportRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses((status = 200, description = "The review (dry run)", body = WorkspaceImportReview),
        (status = 201, description = "The projects made", body = Vec<ProjectSummary>),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody), (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn import_workspace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let asked: WorkspaceImportRequest = json(body).await?;
    if asked.dry_run {
        let review = run(state, parts, || fns::review_workspace_import(id, asked.yaml)).await?;
        return Ok(Json(WorkspaceImportReview::from(review)).into_response());
    }
    let made = run(state, parts, || fns::import_into_workspace(id, asked.yaml)).await?;
    let made: Vec<ProjectSummary> = made.into_iter().map(Into::into).collect();
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Turns a namespace running in one of the workspace's clusters into a project of its name
/// (a tenant admin's): its objects become the project's resources, adopted where they run
/// with no write. With `dry_run`, says what would be taken and left.
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/federate", tag = "projects", request_body = FederateRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses((status = 200, description = "The review (dry run)", body = FederateReview),
        (status = 201, description = "The project made", body = ProjectSummary),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn federate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let asked: FederateRequest = json(body).await?;
    if asked.dry_run {
        let review =
            run(state, parts, || fns::preview_federation(id, asked.cluster_id, asked.namespace, asked.selector))
                .await?;
        return Ok(Json(FederateReview::from(review)).into_response());
    }
    let made = run(state, parts, || {
        fns::federate_namespace(id, asked.cluster_id, asked.namespace, asked.selector, asked.project_selector)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ProjectSummary::from(made))).into_response())
}

/// A project with its clusters and resources.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "The project's id")),
    responses((status = 200, description = "OK", body = Project), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn get_project(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Answer<Project> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, || fns::get_project_view(id)).await?.into()))
}

/// Every status of the project's resources, per cluster.
#[utoipa::path(get, path = "/api/v1/projects/{id}/status", tag = "projects",
    params(("id" = String, Path, description = "The project's id")),
    responses((status = 200, description = "OK", body = Vec<Status>), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn project_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Answer<Vec<Status>> {
    let (parts, _) = request.into_parts();
    Ok(Json(statuses(run(state, parts, || fns::get_project_statuses(id)).await?)))
}

/// Adds a resource to the project, placed on all its clusters (an editor's).
#[utoipa::path(post, path = "/api/v1/projects/{id}/resources", tag = "resources", request_body = NewResource,
    params(("id" = String, Path, description = "The project's id")),
    responses((status = 201, description = "Made", body = ResourceRef), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn add_resource(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let new: NewResource = json(body).await?;
    let made = run(state, parts, || fns::add_resource(id, new.yaml)).await?;
    Ok((StatusCode::CREATED, Json(ResourceRef::from(made))).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `yaml` (plain, the default) or `kubefed` (types.kubefed.io/v1beta1).
    #[serde(default)]
    format: Option<String>,
}

/// `format` as a choice of KubeFed's (`true`) or plain YAML.
fn kubefed_format(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("yaml") => Ok(false),
        Some("kubefed") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!("format '{other}' is not one of yaml, kubefed"))),
    }
}

/// An export as a YAML download.
fn yaml_download(exported: app::model::ExportView) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", exported.file_name);
    ([(header::CONTENT_TYPE, "application/yaml".to_owned()), (header::CONTENT_DISPOSITION, disposition)], exported.yaml)
        .into_response()
}

/// The workspace as YAML: its cluster-scoped resources, then each project; deterministic (no
/// Secret values). Imports back with `import-workspace`.
#[utoipa::path(get, path = "/api/v1/workspaces/{id}/export", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id"), ExportQuery),
    responses((status = 200, description = "The workspace as YAML", content_type = "application/yaml", body = String), (status = 400, description = "The request is malformed", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn export_workspace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let kubefed = kubefed_format(query.format.as_deref())?;
    let (parts, _) = request.into_parts();
    Ok(yaml_download(run(state, parts, || fns::export_workspace(id, kubefed)).await?))
}

/// Every workspace of the tenant (a tenant admin's), one YAML file each, by name.
#[utoipa::path(get, path = "/api/v1/export", tag = "workspaces", params(ExportQuery),
    responses((status = 200, description = "A file per workspace", body = Vec<ExportFile>), (status = 400, description = "The request is malformed", body = ApiErrorBody),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody)))]
async fn export_tenant(
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
    request: Request,
) -> Answer<Vec<ExportFile>> {
    let kubefed = kubefed_format(query.format.as_deref())?;
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, || fns::export_tenant(kubefed)).await?.into_iter().map(Into::into).collect()))
}

/// The project as YAML, deterministic (apply order, kind, name; keys sorted; no Secret values).
#[utoipa::path(get, path = "/api/v1/projects/{id}/export", tag = "projects",
    params(("id" = String, Path, description = "The project's id"), ExportQuery),
    responses((status = 200, description = "The project as YAML", content_type = "application/yaml", body = String), (status = 400, description = "The request is malformed", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let kubefed = kubefed_format(query.format.as_deref())?;
    let (parts, _) = request.into_parts();
    Ok(yaml_download(run(state, parts, || fns::export_project(id, kubefed)).await?))
}

/// A resource: template (a Secret's without values), placement, overrides.
#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "OK", body = Resource), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn get_resource(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Answer<Resource> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, || fns::get_resource_detail(id)).await?.into()))
}

/// The edit `asked` of resource `id` as the editor sends it (what it leaves out kept as the
/// resource has it now), and the version it applies at.
async fn edit_of(id: String, asked: ResourceUpdate) -> Result<(app::model::ResourceEdit, i64), app::AppError> {
    let current = fns::get_resource_detail(id).await?;
    let placement = match asked.placement {
        Some(p) => flotilla_domain::Placement { clusters: p.clusters, selector: p.selector },
        None => current.placement,
    };
    let overrides = match asked.overrides {
        Some(list) => list
            .into_iter()
            .map(|o| app::model::OverrideRow { cluster: o.cluster, op: o.op, path: o.path, value: o.value })
            .collect(),
        None => current.overrides,
    };
    let edit = app::model::ResourceEdit {
        yaml: asked.yaml,
        placement,
        overrides,
        secret_set: asked.secret_set,
        secret_remove: asked.secret_remove,
    };
    Ok((edit, asked.version.unwrap_or(current.version)))
}

/// Changes a resource (an editor's, where the policy allows what it becomes): a new revision
/// with the template given and, when given, a new placement and overrides, applied in every
/// cluster. `POST …/review` says first what it would change in each.
#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "resources", request_body = ResourceUpdate,
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "Changed: the resource as it is now", body = Resource),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 409, description = "Changed since it was read, or not possible in its state (a rollout moves it)", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn update_resource(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Answer<Resource> {
    let (parts, body) = request.into_parts();
    let asked: ResourceUpdate = json(body).await?;
    let detail = run(state, parts, || async move {
        let (edit, version) = edit_of(id.clone(), asked).await?;
        fns::apply_edit(id.clone(), version, edit).await?;
        fns::get_resource_detail(id).await
    })
    .await?;
    Ok(Json(detail.into()))
}

/// What a change to a resource (as `PUT` takes it) would do in each cluster; saves nothing.
#[utoipa::path(post, path = "/api/v1/resources/{id}/review", tag = "resources", request_body = ResourceUpdate,
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "The review, clusters that see the same change grouped", body = Vec<ReviewChange>),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn review_resource_update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Answer<Vec<ReviewChange>> {
    let (parts, body) = request.into_parts();
    let asked: ResourceUpdate = json(body).await?;
    let review = run(state, parts, || async move {
        let (edit, _) = edit_of(id.clone(), asked).await?;
        fns::review_edit(id, edit).await
    })
    .await?;
    Ok(Json(super::schema::review(review)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteQuery {
    /// Leave the objects in the clusters, no longer managed (else they are removed).
    #[serde(default)]
    orphan: bool,
    /// The version read: the deletion is refused (409) if it changed since. Without it, it is
    /// deleted as it is now.
    version: Option<i64>,
}

/// Runs a deletion (`delete`, given the version it applies at): at the version the request
/// names, else at the one `current` reads now. Answers 202: the clusters follow.
async fn delete_at<T, C, D>(
    state: AppState,
    request: Request,
    version: Option<i64>,
    current: impl FnOnce() -> C,
    delete: impl FnOnce(i64) -> D,
) -> Result<StatusCode, ApiError>
where
    C: Future<Output = Result<i64, app::AppError>>,
    D: Future<Output = Result<T, app::AppError>>,
{
    let (parts, _) = request.into_parts();
    run(state, parts, || async move {
        let version = match version {
            Some(v) => v,
            None => current().await?,
        };
        delete(version).await
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Deletes a workspace with its projects (a tenant admin's): their objects go from every
/// cluster (namespaces last), or (`orphan`) stay there, no longer managed.
#[utoipa::path(delete, path = "/api/v1/workspaces/{id}", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id"), DeleteQuery),
    responses((status = 202, description = "Deleted; the clusters follow"), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody), (status = 409, description = "Changed since it was read, or not possible in its state", body = ApiErrorBody)))]
async fn delete_workspace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DeleteQuery>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let read = id.clone();
    delete_at(
        state,
        request,
        query.version,
        || async move { Ok(fns::get_workspace_detail(read).await?.workspace.version) },
        move |version| fns::delete_workspace(id, version, query.orphan),
    )
    .await
}

/// Deletes a project (a workspace admin's): its objects go from every cluster (namespace
/// last), or (`orphan`) stay there, no longer managed.
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "The project's id"), DeleteQuery),
    responses((status = 202, description = "Deleted; the clusters follow"), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody), (status = 409, description = "Changed since it was read, or not possible in its state", body = ApiErrorBody)))]
async fn delete_project(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DeleteQuery>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let read = id.clone();
    delete_at(
        state,
        request,
        query.version,
        || async move { Ok(fns::get_project_view(read).await?.version) },
        move |version| fns::delete_project(id, version, query.orphan),
    )
    .await
}

/// Deletes a resource: from every cluster, or (`orphan`) leaving the objects there.
#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The resource's id"), DeleteQuery),
    responses((status = 202, description = "Deleted; the clusters follow"), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody), (status = 409, description = "Changed since it was read, or not possible in its state", body = ApiErrorBody)))]
async fn delete_resource(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DeleteQuery>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let read = id.clone();
    delete_at(
        state,
        request,
        query.version,
        || async move { Ok(fns::get_resource_detail(read).await?.version) },
        move |version| fns::delete_resource(id, version, query.orphan),
    )
    .await
}

/// The resource's status in each of its clusters.
#[utoipa::path(get, path = "/api/v1/resources/{id}/status", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "OK", body = Vec<Status>), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn resource_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Answer<Vec<Status>> {
    let (parts, _) = request.into_parts();
    Ok(Json(statuses(run(state, parts, || fns::get_resource_statuses(id)).await?)))
}

/// The rollouts the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/rollouts", tag = "rollouts",
    responses((status = 200, description = "OK", body = Vec<Rollout>), (status = 401, description = "No valid API token or session", body = ApiErrorBody)))]
async fn list_rollouts(State(state): State<AppState>, request: Request) -> Answer<Vec<Rollout>> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, fns::list_rollouts).await?.into_iter().map(Into::into).collect()))
}

/// A rollout with its waves and each cluster's step.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}", tag = "rollouts",
    params(("id" = String, Path, description = "The rollout's id")),
    responses((status = 200, description = "OK", body = RolloutDetail), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody)))]
async fn get_rollout(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Answer<RolloutDetail> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, || fns::get_rollout(id)).await?.into()))
}

/// The catalog's apps the caller may install, with their versions and where each is
/// installed (the installs the caller may see).
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps",
    responses((status = 200, description = "OK", body = Vec<App>), (status = 401, description = "No valid API token or session", body = ApiErrorBody)))]
async fn list_apps(State(state): State<AppState>, request: Request) -> Answer<Vec<App>> {
    let (parts, _) = request.into_parts();
    Ok(Json(run(state, parts, fns::get_app_fleet).await?.into_iter().map(Into::into).collect()))
}

/// The install `new` as the dashboard's form sends it.
fn install_input(new: NewInstall) -> (String, Option<String>, app::model::InstallInput) {
    let rules = new
        .rules
        .into_iter()
        .map(|r| app::model::RuleInput { cluster: r.cluster, selector: r.selector, values: r.values })
        .collect();
    let input = app::model::InstallInput { version_id: new.version_id, name: new.name, values: new.values, rules };
    (new.workspace_id, new.project_id, input)
}

/// Installs an app version (an editor's of the project, or of the workspace for a
/// cluster-scoped app): one federated resource per object it renders to, each weighed by the
/// policy at the caller's clearance.
#[utoipa::path(post, path = "/api/v1/apps/install", tag = "apps", request_body = NewInstall,
    responses((status = 201, description = "Installed", body = Installed),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn install_app(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let (workspace, project, input) = install_input(json(body).await?);
    let id = run(state, parts, || fns::install_app(workspace, project, input)).await?;
    Ok((StatusCode::CREATED, Json(Installed { id })).into_response())
}

/// What installing would create in each cluster; saves nothing.
#[utoipa::path(post, path = "/api/v1/apps/review-install", tag = "apps", request_body = NewInstall,
    responses((status = 200, description = "The review, clusters that see the same change grouped", body = Vec<ReviewChange>),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn review_install(State(state): State<AppState>, request: Request) -> Answer<Vec<ReviewChange>> {
    let (parts, body) = request.into_parts();
    let (workspace, project, input) = install_input(json(body).await?);
    let review = run(state, parts, || fns::review_install(workspace, project, input)).await?;
    Ok(Json(super::schema::review(review)))
}

/// Starts an upgrade of installs of one app to another version as a rollout, canary first
/// and wave by wave (edit rights where each install lives). Answers the rollout.
#[utoipa::path(post, path = "/api/v1/rollouts", tag = "rollouts", request_body = NewRollout,
    responses((status = 201, description = "Started", body = RolloutDetail),
        (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody),
        (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 409, description = "Not possible now (an install is already moving)", body = ApiErrorBody),
        (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn start_rollout(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let new: NewRollout = json(body).await?;
    let strategy = match new.strategy {
        None => flotilla_domain::rollout::Strategy::default(),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| ApiError::bad_request(format!("the strategy is not the one expected: {e}")))?,
    };
    let input = app::model::UpgradeInput { install_ids: new.install_ids, to_version_id: new.to_version_id, strategy };
    let detail = run(state, parts, || async move {
        let id = fns::start_upgrade(input).await?;
        fns::get_rollout(id).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(RolloutDetail::from(detail))).into_response())
}

/// Acts on a rollout: `pause`, `resume`, `approve` (the next wave), `abort` (rolls the updated
/// clusters back), or `retry` / `skip` a cluster (named in the body). Answers the rollout as
/// it stands after.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/{action}", tag = "rollouts", request_body(content = RolloutActionRequest, description = "For retry and skip only"),
    params(("id" = String, Path, description = "The rollout's id"),
        ("action" = String, Path, description = "pause, resume, approve, abort, retry or skip")),
    responses((status = 200, description = "OK", body = RolloutDetail), (status = 403, description = "The caller's roles or the token's access do not allow it", body = ApiErrorBody), (status = 404, description = "Not found, or not the caller's to see", body = ApiErrorBody),
        (status = 409, description = "Changed since it was read, or not possible in its state", body = ApiErrorBody), (status = 422, description = "Input refused; `field` names it", body = ApiErrorBody)))]
async fn act_on_rollout(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    request: Request,
) -> Answer<RolloutDetail> {
    let (parts, body) = request.into_parts();
    let asked: RolloutActionRequest =
        if matches!(action.as_str(), "retry" | "skip") { json(body).await? } else { Default::default() };
    let view = run(state, parts, || async move {
        fns::act_on_rollout(id.clone(), action, asked.cluster_id).await?;
        fns::get_rollout(id).await
    })
    .await?;
    Ok(Json(view.into()))
}
