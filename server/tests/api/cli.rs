//! `flotillactl`, run as a user runs it (the built binary, against a running hub): login saves
//! the hub and token, `get` prints tables, JSON and YAML, changes go through the REST API, and
//! exit codes tell failures apart.

use std::path::Path;

use flotilla_testkit::eventually;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, ok, spawn_app_with};

/// What a run printed and its exit code.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

/// Runs `flotillactl args…` with `config` as its saved settings, `stdin` on its input, and
/// no FLOTILLA_SERVER / FLOTILLA_TOKEN from this environment.
async fn flotillactl(config: &Path, stdin: &str, args: &[&str]) -> Ran {
    let (config, stdin) = (config.to_path_buf(), stdin.to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flotillactl"))
            .args(&args)
            .env("FLOTILLA_CONFIG", &config)
            .env_remove("FLOTILLA_SERVER")
            .env_remove("FLOTILLA_TOKEN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("flotillactl runs");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let done = child.wait_with_output().unwrap();
        Ran {
            code: done.status.code().unwrap_or(-1),
            out: String::from_utf8(done.stdout).unwrap(),
            err: String::from_utf8(done.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

async fn token(app: &TestApp, client: &reqwest::Client, access: &str) -> String {
    let made =
        ok(app.call(client, "/api/tokens/create", &[("name", access), ("access", access), ("days", "1")]).await).await;
    made["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn flotillactl_logs_in_gets_creates_imports_exports_and_steers_a_rollout() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let secret = token(&app, &admin, "admin").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flotilla/cli.toml");

    // Nothing configured: a usage error saying what to do.
    let ran = flotillactl(&config, "", &["get", "clusters"]).await;
    assert_eq!(ran.code, 2, "{}", ran.err);
    assert!(ran.err.contains("flotillactl login"), "{}", ran.err);
    // A wrong token is not saved.
    let server = app.address.as_str();
    let ran = flotillactl(&config, "flt_wrong\n", &["login", "--server", server]).await;
    assert_eq!(ran.code, 3, "{}", ran.err);
    assert!(!config.exists());
    let ran = flotillactl(&config, &format!("{secret}\n"), &["login", "--server", server]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // get, as a table, wide, JSON and YAML (once the demo fleet is registered and its kinds read).
    eventually("the demo fleet's twelve clusters listed and their kinds read", WAIT, || async {
        let clusters = flotillactl(&config, "", &["get", "clusters", "-o", "json"]).await.out;
        let listed: Value = serde_json::from_str(&clusters).unwrap_or_default();
        let types = flotillactl(&config, "", &["get", "types", "-o", "json"]).await.out;
        (listed.as_array().is_some_and(|l| l.len() == 12) && types.contains("\"ConfigMap\"")).then_some(())
    })
    .await;
    let ran = flotillactl(&config, "", &["get", "clusters"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let mut lines = ran.out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "HEALTH", "VERSION", "LABELS"], "{}", ran.out);
    assert_eq!(lines.count(), 12, "the small demo fleet: {}", ran.out);
    assert!(ran.out.contains("prod-eu-1") && ran.out.contains("env=prod"), "{}", ran.out);
    let wide = flotillactl(&config, "", &["get", "clusters", "-o", "wide"]).await.out;
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "HEALTH", "VERSION", "LABELS", "ID", "SERVER"], "{wide}");
    let listed: Value =
        serde_json::from_str(&flotillactl(&config, "", &["get", "clusters", "-o", "json"]).await.out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 12);
    let yaml = flotillactl(&config, "", &["-o", "yaml", "get", "types"]).await.out;
    assert!(yaml.contains("kind: ConfigMap"), "{yaml}");
    // `enable`, as kubefedctl's: answered from discovery, nothing to do; an unknown kind is 4.
    eventually("enable says every cluster serves Deployments, once all were read", WAIT, || async {
        let ran = flotillactl(&config, "", &["enable", "deployments.apps"]).await;
        assert_eq!(ran.code, 0, "{}", ran.err);
        assert!(ran.out.contains("Nothing to enable"), "{}", ran.out);
        ran.out.contains("deployments.apps (apps/v1 Deployment, namespaced): served by 12 of 12").then_some(())
    })
    .await;
    assert!(
        flotillactl(&config, "", &["enable", "Namespace"])
            .await
            .out
            .contains("namespaces (v1 Namespace, cluster-scoped)")
    );
    let ran = flotillactl(&config, "", &["enable", "widgets.example.com"]).await;
    assert_eq!(ran.code, 4, "{}", ran.out);
    assert!(ran.err.contains("no cluster serves widgets.example.com"), "{}", ran.err);

    // create, status, export, delete.
    let ran =
        flotillactl(&config, "", &["create", "workspace", "ops", "--selector", "env=staging", "-o", "json"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let ws = serde_json::from_str::<Value>(&ran.out).unwrap()["id"].as_str().unwrap().to_owned();
    let ran = flotillactl(&config, "", &["create", "project", "web", "-w", &ws, "-o", "json"]).await;
    let project = serde_json::from_str::<Value>(&ran.out).unwrap()["id"].as_str().unwrap().to_owned();
    let file = dir.path().join("settings.yaml");
    std::fs::write(&file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: info}\n")
        .unwrap();
    let file = file.display().to_string();
    let ran = flotillactl(&config, "", &["create", "resource", "-p", &project, "-f", &file, "-o", "json"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let resource = serde_json::from_str::<Value>(&ran.out).unwrap()["id"].as_str().unwrap().to_owned();
    let listed = flotillactl(&config, "", &["get", "resources", "-p", &project]).await.out;
    assert!(listed.contains("ConfigMap") && listed.contains("settings"), "{listed}");
    eventually("flotillactl status shows the ConfigMap Synced in the four staging clusters", WAIT, || async {
        let out = flotillactl(&config, "", &["status", "-p", &project]).await.out;
        (out.matches("ConfigMap/settings").count() == 4 && out.matches("Synced").count() >= 4).then_some(out)
    })
    .await;
    // apply: the change each cluster would see, then a new revision (placement kept).
    let changed = dir.path().join("debug.yaml");
    std::fs::write(&changed, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: debug}\n")
        .unwrap();
    let changed = changed.display().to_string();
    let ran = flotillactl(&config, "", &["apply", "-r", &resource, "-f", &changed, "--dry-run"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.starts_with("Update in staging-eu-1, staging-eu-2, staging-us-1, staging-us-2:"), "{}", ran.out);
    assert!(ran.out.contains("-   level: info") && ran.out.contains("+   level: debug"), "{}", ran.out);
    let stale = flotillactl(&config, "", &["apply", "-r", &resource, "-f", &changed, "--version", "0"]).await;
    assert_eq!(stale.code, 6, "changed meanwhile: {}", stale.err);
    let ran = flotillactl(&config, "", &["apply", "-r", &resource, "-f", &changed]).await;
    assert_eq!((ran.code, ran.out.trim()), (0, "ConfigMap/settings now at revision 2"), "{}", ran.err);
    let exported = flotillactl(&config, "", &["export", &project, "--format", "kubefed"]).await;
    assert!(exported.out.contains("level: debug"), "{}", exported.out);
    assert_eq!(exported.code, 0, "{}", exported.err);
    assert!(exported.out.contains("kind: FederatedConfigMap"), "{}", exported.out);

    // import: a review that names what has no equivalent exits 6; then for real.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, format!("{}---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedClusterRole\nmetadata: {{name: r}}\nspec: {{template: {{rules: []}}}}\n", exported.out.replace(": web", ": copy"))).unwrap();
    let bad = bad.display().to_string();
    let ran = flotillactl(&config, "", &["import", "-w", &ws, "-f", &bad, "--dry-run"]).await;
    assert_eq!(ran.code, 6, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains("problem: FederatedClusterRole r"), "{}", ran.out);
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, exported.out.replace(": web", ": copy")).unwrap();
    let good = good.display().to_string();
    let ran = flotillactl(&config, "", &["import", "-w", &ws, "-f", &good]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.contains("copy"), "{}", ran.out);

    let ran = flotillactl(&config, "", &["delete", "resource", &resource]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let ran = flotillactl(&config, "", &["get", "resource", &resource]).await;
    assert_eq!(ran.code, 4, "gone: {}", ran.err);

    // federate: a namespace another client made in staging-eu-1 becomes a project.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    assert_eq!(app.member_create("staging-eu-1", "/api/v1/namespaces", &ns).await, 201);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "prices", "namespace": "shop"}, "data": {"a": "1"}});
    assert_eq!(app.member_create("staging-eu-1", "/api/v1/namespaces/shop/configmaps", &cm).await, 201);
    let clusters: Value =
        serde_json::from_str(&flotillactl(&config, "", &["get", "clusters", "-o", "json"]).await.out).unwrap();
    let eu1 = clusters.as_array().unwrap().iter().find(|c| c["name"] == "staging-eu-1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ran = flotillactl(&config, "", &["federate", "shop", "-w", &ws, "-c", &eu1, "--dry-run"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let prices = ran.out.lines().find(|l| l.contains("prices")).unwrap_or_default();
    assert!(prices.starts_with("ConfigMap") && prices.contains("true"), "{}", ran.out);
    let ran = flotillactl(&config, "", &["federate", "shop", "-w", &ws, "-c", &eu1]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.contains("shop"), "{}", ran.out);
    let ran = flotillactl(&config, "", &["federate", "shop", "-w", &ws, "-c", &eu1]).await;
    assert_eq!(ran.code, 6, "a project shop exists now: {}", ran.err);

    // A rollout, paused and resumed from the command line.
    // An app installed and upgraded from the command line, the rollout paused and resumed.
    let apps: Value =
        serde_json::from_str(&flotillactl(&config, "", &["get", "apps", "-o", "json"]).await.out).unwrap();
    let podinfo = &apps.as_array().unwrap().iter().find(|a| a["name"] == "podinfo").unwrap()["versions"];
    let (newest, older) = (podinfo[0]["version"].as_str().unwrap(), podinfo[1]["version"].as_str().unwrap());
    let install = ["install", "podinfo", "--version", older, "-p", &project, "--name", "web", "--set", "replicas=2"];
    let ran = flotillactl(&config, "", &[&install[..], &["--dry-run"]].concat()).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.starts_with("Create in staging-"), "{}", ran.out);
    assert!(ran.out.contains("+   replicas: 2"), "{}", ran.out);
    let unknown = flotillactl(&config, "", &["install", "podinfo", "--version", "0.0.0", "-p", &project]).await;
    assert_eq!(unknown.code, 4, "{}", unknown.err);
    let ran = flotillactl(&config, "", &[&install[..], &["-o", "json"]].concat()).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let install_id = serde_json::from_str::<Value>(&ran.out).unwrap()["id"].as_str().unwrap().to_owned();
    let listed = flotillactl(&config, "", &["get", "apps"]).await.out;
    assert!(listed.contains(&install_id), "{listed}");
    let strategy = dir.path().join("strategy.yaml");
    std::fs::write(&strategy, "wave_size: {unit: clusters, value: 1}\napproval: after_canary\n").unwrap();
    let strategy = strategy.display().to_string();
    let ran =
        flotillactl(&config, "", &["upgrade", &install_id, "--to", newest, "--strategy", &strategy, "-o", "json"])
            .await;
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let started: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(started["waves"].as_array().unwrap().len(), 4, "a canary, then one cluster a wave: {started}");
    let rollout = started["rollout"]["id"].as_str().unwrap().to_owned();
    let ran = flotillactl(&config, "", &["upgrade", &install_id, "--to", newest]).await;
    assert_eq!(ran.code, 6, "already moving: {}", ran.err);
    let ran = flotillactl(&config, "", &["rollout", "pause", &rollout]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.starts_with("Paused"), "{}", ran.out);
    assert!(ran.out.contains("WAVE") && ran.out.contains("staging-"), "one row per cluster: {}", ran.out);
    let listed = flotillactl(&config, "", &["get", "rollouts"]).await.out;
    assert!(listed.contains(&rollout) && listed.contains("Paused"), "{listed}");
    let ran = flotillactl(&config, "", &["rollout", "resume", &rollout, "-o", "json"]).await;
    assert_eq!(ran.code, 0, "{}", ran.err);
    let state = serde_json::from_str::<Value>(&ran.out).unwrap()["rollout"]["state"].clone();
    assert_ne!(state, "Paused", "{}", ran.out);
}

#[tokio::test]
async fn flotillactl_exit_codes_tell_failures_apart() {
    let app = spawn_app_with(|args| args.demo = Some(true)).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let view = token(&app, &admin, "view").await;
    let full = token(&app, &admin, "admin").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cli.toml");
    let server = app.address.clone();
    let with = |token: &str, rest: &[&str]| {
        let mut args = vec!["--server".to_owned(), server.clone(), "--token".to_owned(), token.to_owned()];
        args.extend(rest.iter().map(|a| (*a).to_owned()));
        args
    };
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (with(&full, &["get", "workspaces"]), 0, "No resources found."),
        (with("flt_nope", &["get", "workspaces"]), 3, "valid API token"),
        (with(&full, &["get", "project", "0190e6d8-0000-7000-8000-000000000000"]), 4, "Not found."),
        (with(&view, &["create", "workspace", "ops"]), 5, "tenant admin"),
        (with(&full, &["create", "workspace", "Not A Name"]), 6, "(name)"),
        (with(&full, &["get", "gadgets"]), 2, "cannot get 'gadgets'"),
        (with(&full, &["get", "project", "../clusters"]), 2, "is not an id"),
        (with(&full, &["frobnicate"]), 2, "unrecognized subcommand"),
        (with(&full, &["delete", "gadget", "x"]), 2, "clusters, workspaces, projects or resources"),
        (with(&full, &["delete", "workspace", "x"]), 4, "Not found."),
        (with(&view, &["delete", "cluster", "prod-eu-1"]), 5, "tenant admin"),
        (with(&full, &["export", "--all"]), 2, "give --dir"),
    ];
    for (args, code, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = flotillactl(&config, "", &args).await;
        assert_eq!(ran.code, code, "{args:?}: {}{}", ran.out, ran.err);
        assert!(ran.out.contains(says) || ran.err.contains(says), "{args:?} says {says:?}: {}{}", ran.out, ran.err);
    }
    // Nothing was made by the refused ones.
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert!(app.store.list_workspaces(&tenant.id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flotillactl_joins_a_cluster_with_its_admin_kubeconfig_used_once() {
    use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
    let app = spawn_app_with(|_| {}).await;
    let admin = app.client();
    app.login(&admin, "admin", ADMIN_PASSWORD).await;
    let secret = token(&app, &admin, "admin").await;
    let sim =
        Simulator::start("127.0.0.1:0".parse().unwrap(), vec![ClusterSpec::new("edge-1")], SimSettings::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = sim.kubeconfig("edge-1").unwrap();
    let file = dir.path().join("admin.kubeconfig");
    std::fs::write(&file, &kubeconfig).unwrap();
    let file = file.display().to_string();
    let config = dir.path().join("cli.toml");
    let server = app.address.clone();
    let args = ["--server", &server, "--token", &secret, "join", "edge-1", "--kubeconfig", &file, "-l", "env=edge"];
    let ran = flotillactl(&config, "", &args).await;
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains("edge-1") && ran.out.contains("env=edge"), "{}", ran.out);
    // The hub keeps its own identity's token, not the admin's.
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let cluster = app.store.list_clusters(&tenant.id).await.unwrap().into_iter().find(|c| c.name == "edge-1").unwrap();
    let kept = app.store.cluster_token(&tenant.id, &cluster.id).await.unwrap();
    let kept = secrecy::ExposeSecret::expose_secret(&kept).to_owned();
    assert!(!kept.is_empty() && !kubeconfig.contains(&kept), "the joined identity's token is kept");
    // Joined twice under the same name: refused, exit 6.
    let again = ["--server", &server, "--token", &secret, "join", "edge-1", "--kubeconfig", &file];
    assert_eq!(flotillactl(&config, "", &again).await.code, 6);
    // The grant updated with the admin context: the hub's own sentence (once its kinds are read).
    let grant = ["--server", &server, "--token", &secret, "grant", "edge-1", "--kubeconfig", &file];
    let said = eventually("flotillactl grant answers once edge-1's kinds are read", WAIT, || async {
        let ran = flotillactl(&config, "", &grant).await;
        (ran.code == 0).then_some(ran.out)
    })
    .await;
    assert_eq!(said.trim(), "edge-1's grant is updated: the standard kinds only.");

    // Unjoined by name: deregistered, then Flotilla's identity removed with the admin context.
    let unknown = ["--server", &server, "--token", &secret, "unjoin", "edge-9", "--kubeconfig", &file];
    assert_eq!(flotillactl(&config, "", &unknown).await.code, 4);
    let unjoin = ["--server", &server, "--token", &secret, "unjoin", "edge-1", "--kubeconfig", &file];
    let ran = flotillactl(&config, "", &unjoin).await;
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains("identity was removed"), "{}", ran.out);
    assert!(app.store.list_clusters(&tenant.id).await.unwrap().is_empty());
    assert!(sim.cluster("edge-1").unwrap().get_object("v1", "namespaces", None, "flotilla-system").is_err());
    // Unjoining a cluster no longer registered again changes nothing and succeeds.
    let ran = flotillactl(
        &config,
        "",
        &["--server", &server, "--token", &secret, "-o", "json", "unjoin", "--kubeconfig", &file],
    )
    .await;
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let answer: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(answer["api_server"], sim.server_url("edge-1"));
}
