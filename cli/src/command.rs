//! The commands, and the REST API calls behind each.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use crate::output::{Column, Format, col, show, text, wide};
use crate::{Failure, config};

/// Flotilla from the command line, through its REST API. Make a token on the dashboard's
/// account page, then `flotillactl login --server https://flotilla.example.com` (the token
/// on standard input).
#[derive(Debug, Parser)]
#[command(name = "flotillactl", version)]
pub struct Cli {
    /// The hub's URL (else FLOTILLA_SERVER, else what `login` saved).
    #[arg(long, global = true)]
    server: Option<String>,
    /// An API token (else FLOTILLA_TOKEN, else what `login` saved).
    #[arg(long, global = true, hide_env_values = true)]
    token: Option<String>,
    /// table, wide, json or yaml.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks a token against the hub and saves both for the next commands.
    Login {
        /// Read the token from standard input (the default when --token is not given).
        #[arg(long)]
        token_stdin: bool,
    },
    /// Joins a cluster: its admin kubeconfig context is used once to create Flotilla's own
    /// least-privilege identity there, whose token is all the hub keeps.
    Join {
        /// The cluster's name in Flotilla.
        name: String,
        #[arg(long)]
        kubeconfig: PathBuf,
        /// The context (default: the kubeconfig's current one).
        #[arg(long)]
        context: Option<String>,
        /// `key=value,…`
        #[arg(short, long, default_value = "")]
        labels: String,
    },
    /// Removes Flotilla's identity from a cluster with its admin kubeconfig context (used
    /// once, never stored). A registered cluster (by name or id) is deregistered first, its
    /// objects removed unless --leave-objects; without CLUSTER, the cluster the context
    /// reaches must no longer be registered.
    Unjoin {
        cluster: Option<String>,
        #[arg(long)]
        kubeconfig: PathBuf,
        /// The context (default: the kubeconfig's current one).
        #[arg(long)]
        context: Option<String>,
        /// Leave Flotilla's objects in the cluster, unmanaged.
        #[arg(long)]
        leave_objects: bool,
    },
    /// Updates a joined cluster's grant (by name or id) to the kinds the tenant's resources
    /// use beyond the standard ones, with its admin kubeconfig context (used once).
    Grant {
        cluster: String,
        #[arg(long)]
        kubeconfig: PathBuf,
        /// The context (default: the kubeconfig's current one).
        #[arg(long)]
        context: Option<String>,
    },
    /// What `kubefedctl enable` does, answered from the members' discovery: nothing needs
    /// enabling, so this says which clusters serve TYPE (`deployments.apps`, `Deployment`,
    /// `widgets.example.com`) and which lack it. Exits 4 when no cluster serves it.
    Enable {
        #[arg(value_name = "TYPE")]
        name: String,
    },
    /// Lists or shows clusters, types, workspaces, projects, resources, rollouts.
    Get(Get),
    /// Each resource's status per cluster, for a project or one resource.
    Status {
        #[arg(short, long, conflicts_with = "resource", required_unless_present = "resource")]
        project: Option<String>,
        #[arg(short, long)]
        resource: Option<String>,
    },
    /// Creates a workspace, a project, or a resource from a file.
    Create {
        #[command(subcommand)]
        what: Create,
    },
    /// Changes a resource to the template in a YAML file (its placement and overrides kept):
    /// a new revision applied in every cluster; with --dry-run, the change each cluster
    /// would see, as a diff.
    Apply {
        #[arg(short, long)]
        resource: String,
        /// The file (`-` for standard input).
        #[arg(short, long)]
        file: PathBuf,
        /// Refuse if the resource changed since this version was read.
        #[arg(long)]
        version: Option<i64>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Deletes a resource, project or workspace (its objects removed from every cluster, or
    /// with --orphan left there), or deregisters a cluster (by name or id; with --orphan its
    /// objects stay, and Flotilla's identity stays in a joined one: `unjoin` removes it).
    Delete {
        /// `resource`, `project`, `workspace` or `cluster`.
        kind: String,
        id: String,
        #[arg(long)]
        orphan: bool,
        /// Refuse if the resource changed since this version was read.
        #[arg(long)]
        version: Option<i64>,
    },
    /// Imports KubeFed files or plain multi-document YAML as a new project of a workspace, or
    /// (--into workspace) into the workspace itself.
    Import {
        #[arg(short, long)]
        workspace: String,
        /// The file (`-` for standard input).
        #[arg(short, long)]
        file: PathBuf,
        /// The project's name when the YAML names no namespace.
        #[arg(long, default_value = "")]
        name: String,
        /// Say what would be made; make nothing.
        #[arg(long)]
        dry_run: bool,
        /// `project`: the YAML is one new project; `workspace`: into the workspace itself, a
        /// new project per namespace and cluster-scoped objects to the workspace (a workspace
        /// export imports back this way).
        #[arg(long, default_value = "project", value_parser = ["project", "workspace"])]
        into: String,
    },
    /// Turns a namespace running in a cluster of the workspace into a project of its name,
    /// adopting its objects where they run.
    Federate {
        namespace: String,
        #[arg(short, long)]
        workspace: String,
        /// The cluster it runs in (its id).
        #[arg(short, long)]
        cluster: String,
        /// Only the objects this label selector matches.
        #[arg(short = 'l', long, default_value = "")]
        selector: String,
        /// The project's own selector, narrowing the workspace's clusters.
        #[arg(long, default_value = "")]
        project_selector: String,
        /// Say what would be taken and left; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Writes a project, a workspace (its cluster-scoped objects and projects) or, with
    /// --all, every workspace (a file each in --dir) as YAML: plain, or KubeFed's types.
    Export {
        project: Option<String>,
        #[arg(short, long, conflicts_with = "project")]
        workspace: Option<String>,
        #[arg(long, conflicts_with_all = ["project", "workspace"])]
        all: bool,
        /// With --all: where to write the files (made if missing).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "kubefed"])]
        format: String,
    },
    /// Installs a version of a catalog app (`get apps`) in a project, or with --workspace a
    /// cluster-scoped one in a workspace; --dry-run shows what each cluster would get.
    Install {
        /// The app's name.
        app: String,
        /// The app version (as `get apps` lists it).
        #[arg(long)]
        version: String,
        #[arg(short, long, conflicts_with = "workspace", required_unless_present = "workspace")]
        project: Option<String>,
        #[arg(short, long)]
        workspace: Option<String>,
        /// The install's name (default: the app's).
        #[arg(long)]
        name: Option<String>,
        /// A parameter's value, `KEY=VALUE` (again for more).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Upgrades installs of one app (ids from `get apps -o wide`) to another version as a
    /// rollout: canary first, wave by wave, stopping and rolling back where it is unhealthy.
    Upgrade {
        #[arg(required = true)]
        installs: Vec<String>,
        /// The version to go to.
        #[arg(long)]
        to: String,
        /// A JSON or YAML file with the rollout's strategy (canary, wave_size, approval, …).
        #[arg(long)]
        strategy: Option<PathBuf>,
    },
    /// Follows and steers rollouts.
    Rollout {
        #[command(subcommand)]
        action: Rollout,
    },
}

#[derive(Debug, Args)]
struct Get {
    /// clusters, types, workspaces, projects, resources, apps, rollouts; or workspace,
    /// project, resource, rollout with an id.
    kind: String,
    id: Option<String>,
    /// With `projects`: the workspace.
    #[arg(short, long)]
    workspace: Option<String>,
    /// With `resources`: the project.
    #[arg(short, long)]
    project: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Create {
    Workspace {
        name: String,
        #[arg(long, default_value = "")]
        selector: String,
    },
    Project {
        name: String,
        #[arg(short, long)]
        workspace: String,
        #[arg(long, default_value = "")]
        selector: String,
    },
    /// One Kubernetes object from a YAML file, placed on all the project's clusters.
    Resource {
        #[arg(short, long)]
        project: String,
        #[arg(short, long)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum Rollout {
    Status { id: String },
    Pause { id: String },
    Resume { id: String },
    Approve { id: String },
    Abort { id: String },
    Retry { id: String, cluster: String },
    Skip { id: String, cluster: String },
}

/// The hub and the token to call it with.
struct Hub {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl Hub {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<String, Failure> {
        let mut request = self.http.request(method, format!("{}{path}", self.server)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response =
            request.send().await.map_err(|e| Failure::local(format!("cannot reach {}: {e}", self.server)))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| Failure::local(format!("the answer broke off: {e}")))?;
        if status >= 400 {
            return Err(Failure::from_answer(status, &body));
        }
        Ok(body)
    }

    async fn json(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let text = self.call(method, path, body).await?;
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| Failure::local(format!("the hub's answer is not JSON: {e}")))
    }

    async fn get(&self, path: &str) -> Result<Value, Failure> {
        self.json(Method::GET, path, None).await
    }
}

fn hub(server: Option<String>, token: Option<String>) -> Result<Hub, Failure> {
    let saved = config::load()?;
    let server = server
        .or_else(|| std::env::var("FLOTILLA_SERVER").ok())
        .or(saved.server)
        .ok_or_else(|| Failure::usage("no hub: pass --server, set FLOTILLA_SERVER or run `flotillactl login`"))?;
    let token = token
        .or_else(|| std::env::var("FLOTILLA_TOKEN").ok())
        .or(saved.token)
        .ok_or_else(|| Failure::usage("no token: pass --token, set FLOTILLA_TOKEN or run `flotillactl login`"))?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(150))
        .build()
        .map_err(|e| Failure::local(e.to_string()))?;
    Ok(Hub { http, server: server.trim_end_matches('/').to_owned(), token: token.trim().to_owned() })
}

/// The id of the tenant's cluster named `name_or_id` (its name, as `get clusters` shows it,
/// or its id).
async fn cluster_id(hub: &Hub, name_or_id: &str) -> Result<String, Failure> {
    let clusters = hub.get("/api/v1/clusters").await?;
    clusters
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name_or_id || c["id"] == name_or_id)
        .and_then(|c| c["id"].as_str().map(str::to_owned))
        .ok_or_else(|| Failure { code: 4, message: format!("no cluster {name_or_id}") })
}

/// A review (a list of changes, each with its clusters and diff), as a diff per group of
/// clusters, or as it came with `-o json|yaml`.
fn show_review(out: &mut impl Write, format: Format, review: &Value) -> Result<(), Failure> {
    if matches!(format, Format::Json | Format::Yaml) {
        return show(out, format, review, &[]);
    }
    for change in review.as_array().into_iter().flatten() {
        let clusters: Vec<String> = change["clusters"].as_array().into_iter().flatten().map(text).collect();
        writeln!(out, "{} in {}:", text(&change["kind"]), clusters.join(", "))
            .map_err(|e| Failure::local(e.to_string()))?;
        for line in change["diff"].as_array().into_iter().flatten() {
            writeln!(out, "  {}", text(line)).map_err(|e| Failure::local(e.to_string()))?;
        }
    }
    Ok(())
}

/// The id of version `version` of the app `which` picks among `apps` (as `/api/v1/apps`
/// answers).
fn app_version(apps: &Value, which: impl Fn(&Value) -> bool, version: &str) -> Result<String, Failure> {
    let app = apps
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| which(a))
        .ok_or_else(|| Failure { code: 4, message: "no such app or install (see `get apps -o wide`)".into() })?;
    app["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["version"] == version)
        .map(|v| text(&v["id"]))
        .ok_or_else(|| Failure { code: 4, message: format!("{} has no version {version}", text(&app["name"])) })
}

/// An answer that carries its own sentence (a deregistration, a grant): the sentence, or the
/// answer itself with `-o json|yaml`.
fn said(out: &mut impl Write, format: Format, done: &Value) -> Result<(), Failure> {
    match format {
        Format::Json | Format::Yaml => show(out, format, done, &[]),
        _ => writeln!(out, "{}", text(&done["message"])).map_err(|e| Failure::local(e.to_string())),
    }
}

/// `plural.group` (the core group's as `plural`), as kubectl and kubefedctl name a type.
fn qualified(t: &Value) -> String {
    let plural = text(&t["plural"]);
    match text(&t["api_version"]).rsplit_once('/') {
        Some((group, _)) => format!("{plural}.{group}"),
        None => plural,
    }
}

/// Whether `name` names type `t` (as `/api/v1/types` lists it) the ways kubectl takes: its
/// plural or kind, alone or with its group (`deployments.apps`, `Deployment.apps`), case
/// aside.
fn names_type(t: &Value, name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    let group = text(&t["api_version"]).rsplit_once('/').map(|(g, _)| g.to_owned()).unwrap_or_default();
    let (plural, kind) = (text(&t["plural"]).to_ascii_lowercase(), text(&t["kind"]).to_ascii_lowercase());
    let (base, named_group) = name.split_once('.').map_or((name.as_str(), None), |(b, g)| (b, Some(g)));
    (base == plural || base == kind) && named_group.is_none_or(|g| g == group)
}

/// A path segment as the API takes it (ids are UUIDs; anything else is refused here rather
/// than sent as a different path).
fn id(value: &str) -> Result<&str, Failure> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(value)
    } else {
        Err(Failure::usage(format!("'{value}' is not an id")))
    }
}

fn read_file(path: &PathBuf) -> Result<String, Failure> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::local(format!("cannot read stdin: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

const CLUSTERS: [Column; 6] = [
    col("NAME", |v| text(&v["name"])),
    col("HEALTH", |v| text(&v["health"])),
    col("VERSION", |v| text(&v["server_version"])),
    col("LABELS", labels),
    wide("ID", |v| text(&v["id"])),
    wide("SERVER", |v| text(&v["api_server"])),
];
const TYPES: [Column; 5] = [
    col("KIND", |v| text(&v["kind"])),
    col("APIVERSION", |v| text(&v["api_version"])),
    col("NAMESPACED", |v| text(&v["namespaced"])),
    col("CLUSTERS", |v| text(&v["served_by"])),
    wide("LACKING", |v| text(&v["lacking"])),
];
const WORKSPACES: [Column; 5] = [
    col("NAME", |v| text(&v["name"])),
    col("SELECTOR", |v| text(&v["selector"])),
    col("CLUSTERS", |v| text(&v["clusters"])),
    col("PROJECTS", |v| text(&v["projects"])),
    wide("ID", |v| text(&v["id"])),
];
const PROJECTS: [Column; 4] = [
    col("NAME", |v| text(&v["name"])),
    col("SELECTOR", |v| text(&v["selector"])),
    col("CLUSTERS", |v| if v["clusters"].is_array() { count(&v["clusters"]) } else { text(&v["clusters"]) }),
    wide("ID", |v| text(&v["id"])),
];
const RESOURCES: [Column; 4] = [
    col("KIND", |v| text(&v["kind"])),
    col("NAME", |v| text(&v["name"])),
    col("REVISION", |v| text(&v["revision"])),
    wide("ID", |v| text(&v["id"])),
];
const STATUSES: [Column; 7] = [
    col("RESOURCE", |v| text(&v["resource"])),
    col("CLUSTER", |v| text(&v["cluster"])),
    col("STATUS", |v| text(&v["code"])),
    col("HEALTH", |v| text(&v["health"])),
    wide("REVISION", |v| text(&v["applied_revision"])),
    wide("MESSAGE", |v| text(&v["message"])),
    wide("ID", |v| text(&v["resource_id"])),
];
const ROLLOUTS: [Column; 4] = [
    col("ID", |v| text(&v["id"])),
    col("STATE", |v| text(&v["state"])),
    col("TITLE", |v| text(&v["title"])),
    wide("MESSAGE", |v| text(&v["message"])),
];
const STEPS: [Column; 4] = [
    col("WAVE", |v| text(&v["wave"])),
    col("CLUSTER", |v| text(&v["cluster"])),
    col("STATE", |v| text(&v["state"])),
    wide("MESSAGE", |v| text(&v["message"])),
];

/// The kubeconfig's `current-context`.
fn current_context(kubeconfig: &str) -> Option<String> {
    let parsed: Value = serde_saphyr::from_str(kubeconfig).ok()?;
    parsed["current-context"].as_str().filter(|c| !c.is_empty()).map(str::to_owned)
}

fn labels(v: &Value) -> String {
    let Some(map) = v["labels"].as_object() else { return "<none>".into() };
    if map.is_empty() {
        return "<none>".into();
    }
    map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(",")
}

fn count(v: &Value) -> String {
    v.as_array().map_or(0, Vec::len).to_string()
}

/// A rollout as a table: its state, then one row per cluster's step.
fn rollout_table(out: &mut impl Write, format: Format, detail: &Value) -> Result<(), Failure> {
    if matches!(format, Format::Json | Format::Yaml) {
        return show(out, format, detail, &[]);
    }
    let r = &detail["rollout"];
    writeln!(out, "{}  {}  {}", text(&r["state"]), text(&r["title"]), text(&r["message"]))
        .map_err(|e| Failure::local(e.to_string()))?;
    let steps: Vec<Value> = detail["waves"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|w| {
            let label = text(&w["label"]);
            w["steps"].as_array().into_iter().flatten().map(
                move |s| json!({"wave": label, "cluster": s["cluster"], "state": s["state"], "message": s["message"]}),
            )
        })
        .collect();
    show(out, format, &Value::Array(steps), &STEPS)
}

pub async fn execute(cli: Cli, out: &mut impl Write) -> Result<(), Failure> {
    let format = cli.output;
    if let Command::Login { token_stdin } = cli.command {
        let token = match cli.token {
            Some(t) if !token_stdin => t,
            _ => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Failure::local(format!("cannot read the token from stdin: {e}")))?;
                text
            }
        };
        let hub = hub(cli.server, Some(token))?;
        // A call only a valid token passes.
        hub.get("/api/v1/workspaces").await?;
        let path = config::save(&config::Saved { server: Some(hub.server.clone()), token: Some(hub.token.clone()) })?;
        return writeln!(out, "Logged in to {}; saved in {}.", hub.server, path.display())
            .map_err(|e| Failure::local(e.to_string()));
    }
    let hub = hub(cli.server, cli.token)?;
    match cli.command {
        Command::Login { .. } => Ok(()),
        Command::Get(get) => get_command(&hub, out, format, get).await,
        Command::Join { name, kubeconfig, context, labels } => {
            let text = read_file(&kubeconfig)?;
            let context = match context {
                Some(c) => c,
                None => current_context(&text)
                    .ok_or_else(|| Failure::usage("the kubeconfig names no current-context: pass --context"))?,
            };
            let body = json!({"kubeconfig": text, "context": context, "name": name, "labels": labels, "join": true});
            show(out, format, &hub.json(Method::POST, "/api/v1/clusters", Some(body)).await?, &CLUSTERS)
        }
        Command::Status { project, resource } => {
            let (mut statuses, resources) = match (project, resource) {
                (Some(p), _) => {
                    let p = id(&p)?;
                    let detail = hub.get(&format!("/api/v1/projects/{p}")).await?;
                    (hub.get(&format!("/api/v1/projects/{p}/status")).await?, detail["resources"].clone())
                }
                (None, Some(r)) => {
                    let r = id(&r)?;
                    let detail = hub.get(&format!("/api/v1/resources/{r}")).await?;
                    (hub.get(&format!("/api/v1/resources/{r}/status")).await?, json!([detail]))
                }
                (None, None) => return Err(Failure::usage("name a --project or a --resource")),
            };
            // Each row names its resource as Kind/name, as kubectl does.
            let names: std::collections::HashMap<&str, String> = resources
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| Some((r["id"].as_str()?, format!("{}/{}", text(&r["kind"]), text(&r["name"])))))
                .collect();
            for status in statuses.as_array_mut().into_iter().flatten() {
                let name = status["resource_id"].as_str().and_then(|id| names.get(id)).cloned();
                status["resource"] = name.map_or(Value::Null, Value::String);
            }
            show(out, format, &statuses, &STATUSES)
        }
        Command::Create { what } => {
            let (path, body, columns): (String, Value, &[Column]) = match what {
                Create::Workspace { name, selector } => {
                    ("/api/v1/workspaces".into(), json!({"name": name, "selector": selector}), &WORKSPACES)
                }
                Create::Project { name, workspace, selector } => (
                    format!("/api/v1/workspaces/{}/projects", id(&workspace)?),
                    json!({"name": name, "selector": selector}),
                    &PROJECTS,
                ),
                Create::Resource { project, file } => (
                    format!("/api/v1/projects/{}/resources", id(&project)?),
                    json!({"yaml": read_file(&file)?}),
                    &RESOURCES,
                ),
            };
            show(out, format, &hub.json(Method::POST, &path, Some(body)).await?, columns)
        }
        Command::Unjoin { cluster, kubeconfig, context, leave_objects } => {
            let admin = json!({"kubeconfig": read_file(&kubeconfig)?, "context": context.unwrap_or_default()});
            match cluster {
                Some(cluster) => {
                    let id = cluster_id(&hub, &cluster).await?;
                    let body = json!({"cleanup": !leave_objects, "unjoin": admin});
                    let done = hub.json(Method::POST, &format!("/api/v1/clusters/{id}/deregister"), Some(body)).await?;
                    said(out, format, &done)?;
                    if done["identity"] == "removed" {
                        Ok(())
                    } else {
                        // Deregistered, but the identity is still there: not done.
                        Err(Failure { code: 1, message: text(&done["message"]) })
                    }
                }
                None => {
                    if leave_objects {
                        return Err(Failure::usage("--leave-objects is for a registered cluster: name it"));
                    }
                    let done = hub.json(Method::POST, "/api/v1/clusters/unjoin", Some(admin)).await?;
                    match format {
                        Format::Json | Format::Yaml => show(out, format, &done, &[]),
                        _ => writeln!(out, "Flotilla's identity is gone from {}.", text(&done["api_server"]))
                            .map_err(|e| Failure::local(e.to_string())),
                    }
                }
            }
        }
        Command::Install { app, version, project, workspace, name, set, dry_run } => {
            let apps = hub.get("/api/v1/apps").await?;
            let version_id = app_version(&apps, |a| a["name"] == app.as_str(), &version)?;
            let (workspace_id, project_id) = match (project, workspace) {
                (Some(p), _) => {
                    let detail = hub.get(&format!("/api/v1/projects/{}", id(&p)?)).await?;
                    (text(&detail["workspace_id"]), Some(p))
                }
                (None, Some(w)) => (w, None),
                (None, None) => return Err(Failure::usage("name a --project or a --workspace")),
            };
            let mut values = serde_json::Map::new();
            for pair in &set {
                let (key, value) =
                    pair.split_once('=').ok_or_else(|| Failure::usage(format!("--set {pair}: write KEY=VALUE")))?;
                values.insert(key.to_owned(), Value::String(value.to_owned()));
            }
            let body = json!({"workspace_id": workspace_id, "project_id": project_id, "version_id": version_id,
                              "name": name.unwrap_or_else(|| app.clone()), "values": values});
            if dry_run {
                let review = hub.json(Method::POST, "/api/v1/apps/review-install", Some(body)).await?;
                return show_review(out, format, &review);
            }
            let made = hub.json(Method::POST, "/api/v1/apps/install", Some(body)).await?;
            match format {
                Format::Json | Format::Yaml => show(out, format, &made, &[]),
                _ => writeln!(out, "installed {app} {version}: {}", text(&made["id"]))
                    .map_err(|e| Failure::local(e.to_string())),
            }
        }
        Command::Upgrade { installs, to, strategy } => {
            let apps = hub.get("/api/v1/apps").await?;
            let first = installs.first().cloned().unwrap_or_default();
            let owns = |a: &Value| a["installs"].as_array().into_iter().flatten().any(|i| i["id"] == first.as_str());
            let version_id = app_version(&apps, owns, &to)?;
            let strategy = match strategy {
                None => Value::Null,
                Some(path) => {
                    let text = read_file(&path)?;
                    serde_json::from_str(&text)
                        .or_else(|_| serde_saphyr::from_str::<Value>(&text))
                        .map_err(|e| Failure::usage(format!("{}: not JSON or YAML: {e}", path.display())))?
                }
            };
            let body = json!({"install_ids": installs, "to_version_id": version_id, "strategy": strategy});
            rollout_table(out, format, &hub.json(Method::POST, "/api/v1/rollouts", Some(body)).await?)
        }
        Command::Apply { resource, file, version, dry_run } => {
            let body = json!({"yaml": read_file(&file)?, "version": version});
            let base = format!("/api/v1/resources/{}", id(&resource)?);
            if !dry_run {
                let now = hub.json(Method::PUT, &base, Some(body)).await?;
                return match format {
                    Format::Json | Format::Yaml => show(out, format, &now, &[]),
                    _ => writeln!(
                        out,
                        "{}/{} now at revision {}",
                        text(&now["kind"]),
                        text(&now["name"]),
                        text(&now["revision"])
                    )
                    .map_err(|e| Failure::local(e.to_string())),
                };
            }
            let review = hub.json(Method::POST, &format!("{base}/review"), Some(body)).await?;
            show_review(out, format, &review)
        }
        Command::Enable { name } => {
            let types = hub.get("/api/v1/types").await?;
            let matching: Vec<Value> =
                types["types"].as_array().into_iter().flatten().filter(|t| names_type(t, &name)).cloned().collect();
            if matching.is_empty() {
                return Err(Failure {
                    code: 4,
                    message: format!(
                        "no cluster serves {name} (see `get types`): a custom resource needs its CRD in the clusters \
                         first (a workspace can hold it)"
                    ),
                });
            }
            if matches!(format, Format::Json | Format::Yaml) {
                return show(out, format, &Value::Array(matching), &[]);
            }
            for t in &matching {
                let lacking: Vec<String> = t["lacking_clusters"].as_array().into_iter().flatten().map(text).collect();
                let lacking = match t["lacking"].as_u64().unwrap_or(0) {
                    0 => String::new(),
                    n => format!(
                        "; lacking in {n}: {}{}",
                        lacking.join(", "),
                        if n as usize > lacking.len() { ", …" } else { "" }
                    ),
                };
                writeln!(
                    out,
                    "{} ({} {}, {}): served by {} of {} clusters{lacking}",
                    qualified(t),
                    text(&t["api_version"]),
                    text(&t["kind"]),
                    if t["namespaced"] == true { "namespaced" } else { "cluster-scoped" },
                    text(&t["served_by"]),
                    text(&types["clusters"]),
                )
                .map_err(|e| Failure::local(e.to_string()))?;
            }
            let unread: Vec<String> = types["unread"].as_array().into_iter().flatten().map(text).collect();
            if !unread.is_empty() {
                writeln!(out, "Not read yet (offline, or just registered): {}", unread.join(", "))
                    .map_err(|e| Failure::local(e.to_string()))?;
            }
            writeln!(
                out,
                "Nothing to enable: Flotilla manages every kind its members serve, read from their discovery; a \
                 resource of a kind a cluster lacks says so in that cluster's status."
            )
            .map_err(|e| Failure::local(e.to_string()))
        }
        Command::Grant { cluster, kubeconfig, context } => {
            let id = cluster_id(&hub, &cluster).await?;
            let body = json!({"kubeconfig": read_file(&kubeconfig)?, "context": context.unwrap_or_default()});
            let granted = hub.json(Method::POST, &format!("/api/v1/clusters/{id}/grant"), Some(body)).await?;
            said(out, format, &granted)
        }
        Command::Delete { kind, id: target, orphan, version } if kind == "cluster" || kind == "clusters" => {
            let id = cluster_id(&hub, &target).await?;
            let body = json!({"cleanup": !orphan, "version": version});
            let done = hub.json(Method::POST, &format!("/api/v1/clusters/{id}/deregister"), Some(body)).await?;
            said(out, format, &done)
        }
        Command::Delete { kind, id: target, orphan, version } => {
            let collection = match kind.as_str() {
                "resource" | "resources" => "resources",
                "project" | "projects" => "projects",
                "workspace" | "workspaces" => "workspaces",
                _ => {
                    return Err(Failure::usage(format!(
                        "cannot delete a {kind}: clusters, workspaces, projects or resources"
                    )));
                }
            };
            let mut path = format!("/api/v1/{collection}/{}?orphan={orphan}", id(&target)?);
            if let Some(v) = version {
                path.push_str(&format!("&version={v}"));
            }
            hub.call(Method::DELETE, &path, None).await?;
            let what = collection.trim_end_matches('s');
            writeln!(out, "{what} {target} deleted").map_err(|e| Failure::local(e.to_string()))
        }
        Command::Import { workspace, file, name, dry_run, into } => {
            let into_workspace = into == "workspace";
            if into_workspace && !name.is_empty() {
                return Err(Failure::usage("--name is for --into project: each namespace becomes its project"));
            }
            let (path, body) = if into_workspace {
                let path = format!("/api/v1/workspaces/{}/import-workspace", id(&workspace)?);
                (path, json!({"yaml": read_file(&file)?, "dry_run": dry_run}))
            } else {
                let path = format!("/api/v1/workspaces/{}/import", id(&workspace)?);
                (path, json!({"name": name, "yaml": read_file(&file)?, "dry_run": dry_run}))
            };
            let answer = hub.json(Method::POST, &path, Some(body)).await?;
            if dry_run && matches!(format, Format::Table | Format::Wide) {
                const ITEMS: [Column; 4] = [
                    col("KIND", |v| text(&v["kind"])),
                    col("NAME", |v| text(&v["name"])),
                    col("PLACEMENT", |v| text(&v["placement"])),
                    col("OVERRIDES", |v| text(&v["overrides"])),
                ];
                let say = |out: &mut dyn Write, line: String| {
                    writeln!(out, "{line}").map_err(|e| Failure::local(e.to_string()))
                };
                if into_workspace {
                    say(out, "workspace (cluster-scoped)".into())?;
                    show(out, format, &answer["resources"], &ITEMS)?;
                }
                let projects = if into_workspace { answer["projects"].clone() } else { json!([answer.clone()]) };
                for p in projects.as_array().into_iter().flatten() {
                    say(out, format!("project {} (clusters: {})", text(&p["project"]), text(&p["project_selector"])))?;
                    show(out, format, &p["resources"], &ITEMS)?;
                }
                let problems = answer["problems"].as_array().cloned().unwrap_or_default();
                for p in &problems {
                    writeln!(out, "problem: {}", text(p)).map_err(|e| Failure::local(e.to_string()))?;
                }
                if !problems.is_empty() {
                    return Err(Failure {
                        code: 6,
                        message: "the YAML holds what Flotilla has no equivalent for".into(),
                    });
                }
                return Ok(());
            }
            show(out, format, &answer, &PROJECTS)
        }
        Command::Federate { namespace, workspace, cluster, selector, project_selector, dry_run } => {
            let body = json!({"cluster_id": cluster, "namespace": namespace, "selector": selector,
                              "project_selector": project_selector, "dry_run": dry_run});
            let path = format!("/api/v1/workspaces/{}/federate", id(&workspace)?);
            let answer = hub.json(Method::POST, &path, Some(body)).await?;
            if !dry_run || matches!(format, Format::Json | Format::Yaml) {
                return show(out, format, &answer, &PROJECTS);
            }
            const OBJECTS: [Column; 4] = [
                col("KIND", |v| text(&v["kind"])),
                col("NAME", |v| text(&v["name"])),
                col("TAKEN", |v| text(&v["taken"])),
                col("REASON", |v| text(&v["reason"])),
            ];
            show(out, format, &answer["objects"], &OBJECTS)?;
            for kind in answer["unreadable"].as_array().into_iter().flatten() {
                writeln!(out, "unreadable: {}", text(kind)).map_err(|e| Failure::local(e.to_string()))?;
            }
            Ok(())
        }
        Command::Export { project, workspace, all, dir, format: kind } => {
            let path = match (project, workspace, all) {
                (Some(p), None, false) => format!("/api/v1/projects/{}/export?format={kind}", id(&p)?),
                (None, Some(w), false) => format!("/api/v1/workspaces/{}/export?format={kind}", id(&w)?),
                (None, None, true) => {
                    let dir = dir.ok_or_else(|| Failure::usage("--all writes a file per workspace: give --dir"))?;
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| Failure::local(format!("cannot make {}: {e}", dir.display())))?;
                    let files = hub.get(&format!("/api/v1/export?format={kind}")).await?;
                    for f in files.as_array().into_iter().flatten() {
                        // A workspace's name is a DNS label: no path can hide in it.
                        let name = text(&f["name"]);
                        if name.contains('/') || name.starts_with('.') {
                            return Err(Failure::local(format!("the hub sent a file named {name}")));
                        }
                        let path = dir.join(&name);
                        std::fs::write(&path, text(&f["yaml"]))
                            .map_err(|e| Failure::local(format!("cannot write {}: {e}", path.display())))?;
                        writeln!(out, "{}", path.display()).map_err(|e| Failure::local(e.to_string()))?;
                        for note in f["notes"].as_array().into_iter().flatten() {
                            writeln!(out, "  note: {}", text(note)).map_err(|e| Failure::local(e.to_string()))?;
                        }
                    }
                    return Ok(());
                }
                _ => return Err(Failure::usage("export one of: a PROJECT, --workspace ID, or --all --dir DIR")),
            };
            let yaml = hub.call(Method::GET, &path, None).await?;
            write!(out, "{yaml}").map_err(|e| Failure::local(e.to_string()))
        }
        Command::Rollout { action } => {
            let (rollout, act, body) = match action {
                Rollout::Status { id } => (id, None, None),
                Rollout::Pause { id } => (id, Some("pause"), None),
                Rollout::Resume { id } => (id, Some("resume"), None),
                Rollout::Approve { id } => (id, Some("approve"), None),
                Rollout::Abort { id } => (id, Some("abort"), None),
                Rollout::Retry { id, cluster } => (id, Some("retry"), Some(json!({"cluster_id": cluster}))),
                Rollout::Skip { id, cluster } => (id, Some("skip"), Some(json!({"cluster_id": cluster}))),
            };
            let base = format!("/api/v1/rollouts/{}", id(&rollout)?);
            let detail = match act {
                None => hub.get(&base).await?,
                Some(act) => hub.json(Method::POST, &format!("{base}/{act}"), body).await?,
            };
            rollout_table(out, format, &detail)
        }
    }
}

async fn get_command(hub: &Hub, out: &mut impl Write, format: Format, get: Get) -> Result<(), Failure> {
    let one = |kind: &str| get.id.as_deref().ok_or_else(|| Failure::usage(format!("get {kind} needs an id")));
    match get.kind.as_str() {
        "clusters" | "cluster" => show(out, format, &hub.get("/api/v1/clusters").await?, &CLUSTERS),
        "types" => show(out, format, &hub.get("/api/v1/types").await?["types"], &TYPES),
        "workspaces" => show(out, format, &hub.get("/api/v1/workspaces").await?, &WORKSPACES),
        "workspace" => {
            let detail = hub.get(&format!("/api/v1/workspaces/{}", id(one("workspace")?)?)).await?;
            match format {
                Format::Json | Format::Yaml => show(out, format, &detail, &[]),
                _ => show(out, format, &detail["workspace"], &WORKSPACES),
            }
        }
        "projects" => {
            let ws = get.workspace.as_deref().ok_or_else(|| Failure::usage("get projects needs --workspace"))?;
            let detail = hub.get(&format!("/api/v1/workspaces/{}", id(ws)?)).await?;
            show(out, format, &detail["projects"], &PROJECTS)
        }
        "project" => {
            show(out, format, &hub.get(&format!("/api/v1/projects/{}", id(one("project")?)?)).await?, &PROJECTS)
        }
        "resources" => {
            let project = get.project.as_deref().ok_or_else(|| Failure::usage("get resources needs --project"))?;
            let detail = hub.get(&format!("/api/v1/projects/{}", id(project)?)).await?;
            show(out, format, &detail["resources"], &RESOURCES)
        }
        "resource" => {
            let detail = hub.get(&format!("/api/v1/resources/{}", id(one("resource")?)?)).await?;
            show(out, format, &detail, &RESOURCES)
        }
        "apps" => {
            const APPS: [Column; 4] = [
                col("NAME", |v| text(&v["name"])),
                col("SCOPE", |v| text(&v["scope"])),
                col("VERSIONS", |v| {
                    v["versions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| text(&x["version"]))
                        .collect::<Vec<_>>()
                        .join(",")
                }),
                col("INSTALLS", |v| {
                    v["installs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| format!("{} {} ({})", text(&i["place"]), text(&i["version"]), text(&i["id"])))
                        .collect::<Vec<_>>()
                        .join("; ")
                }),
            ];
            show(out, format, &hub.get("/api/v1/apps").await?, &APPS)
        }
        "rollouts" => show(out, format, &hub.get("/api/v1/rollouts").await?, &ROLLOUTS),
        "rollout" => rollout_table(out, format, &hub.get(&format!("/api/v1/rollouts/{}", id(one("rollout")?)?)).await?),
        other => Err(Failure::usage(format!(
            "cannot get '{other}': use clusters, types, workspaces, workspace, projects, project, resources, resource, rollouts or rollout"
        ))),
    }
}
