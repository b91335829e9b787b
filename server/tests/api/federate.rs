//! Federating a namespace built with kubectl: previewed, then taken into a project with no
//! write to that member, after which overrides and drift correction work; and the refusals.

use std::path::Path;

use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_testkit::eventually;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, WAIT, refused, spawn_app};

const KUBECTL: &str = "/usr/bin/kubectl";

/// What an operator built by hand, before Flotilla: a namespace that already carries the
/// Pod Security labels of its level, and its app.
const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: baseline
    pod-security.kubernetes.io/audit: baseline
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop, labels: {app: web}}
data: {level: info}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop, labels: {app: web}}
stringData: {password: hunter2-in-the-member}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"#;

fn kubectl(dir: &Path, kubeconfig: &str, args: &[&str]) -> String {
    let config = dir.join("kubeconfig");
    std::fs::write(&config, kubeconfig).unwrap();
    let out = std::process::Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&config)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn register(app: &TestApp, client: &reqwest::Client, sim: &Simulator, name: &str) -> String {
    let kubeconfig = sim.kubeconfig(name).unwrap();
    let form = [("kubeconfig", kubeconfig.as_str()), ("context", name), ("name", name), ("labels", "env=edge")];
    app.json(client, "/api/fleet/register", &form).await["id"].as_str().unwrap().to_owned()
}

// kubectl runs as a blocking child process: the simulator and the hub serve it meanwhile on
// the runtime's other thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_built_with_kubectl_is_federated_without_a_write_to_its_cluster() {
    if !Path::new(KUBECTL).exists() {
        assert!(std::env::var_os("CI").is_none(), "kubectl is missing at {KUBECTL}");
        eprintln!("\n*** SKIPPED: {KUBECTL} not found ***\n");
        return;
    }
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let sim = Simulator::start(
        "127.0.0.1:0".parse().unwrap(),
        vec![ClusterSpec::new("src"), ClusterSpec::new("far")],
        SimSettings::default(),
    )
    .await
    .unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("shop.yaml"), SHOP).unwrap();
    let shop = files.path().join("shop.yaml");
    kubectl(files.path(), &sim.kubeconfig("src").unwrap(), &["apply", "-f", shop.to_str().unwrap()]);
    let src = register(&app, &client, &sim, "src").await;
    register(&app, &client, &sim, "far").await;
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let ws = app.json(&client, "/api/workspaces/create", &[("name", "edge"), ("selector", "env=edge")]).await;
    let ws = ws["id"].as_str().unwrap().to_owned();
    // Each cluster's discovery is read when the engine reaches it.
    eventually("the clusters' types read", WAIT, || async {
        app.store.cluster_types(&tenant, &src).await.unwrap().is_some()
    })
    .await;

    let args = |namespace: &str| {
        vec![
            ("workspace_id", ws.clone()),
            ("cluster_id", src.clone()),
            ("namespace", namespace.to_owned()),
            ("selector", String::new()),
        ]
    };
    let form = |a: &[(&'static str, String)]| a.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let call = |endpoint: &'static str, a: Vec<(&'static str, String)>| {
        let client = client.clone();
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(&client, endpoint, &pairs).await
        }
    };

    // The preview: what is taken, what is left and why; no Secret value.
    let preview = call("/api/workspaces/federate-preview", form(&args("shop"))).await;
    assert_eq!(preview.status(), 200, "{}", preview.text().await.unwrap());
    let preview: Value = preview.json().await.unwrap();
    let verdicts: Vec<String> = preview["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}/{} {}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap(), o["taken"]))
        .collect();
    for expected in ["ConfigMap/settings true", "Secret/creds true", "Service/web true", "Deployment/web true"] {
        assert!(verdicts.contains(&expected.to_owned()), "{expected} in {verdicts:?}");
    }
    assert!(!preview.to_string().contains("hunter2"), "no Secret value in the preview");
    assert_eq!(preview["namespace_change"], Value::Null, "the namespace has its labels already");
    let service = preview["objects"].as_array().unwrap().iter().find(|o| o["kind"] == "Service").unwrap();
    assert!(!service["yaml"].as_str().unwrap().contains("clusterIP"), "{}", service["yaml"]);

    // Federated: the project's resources are Synced in both clusters, and `src` got no write.
    let writes = |name: &str| sim.cluster(name).unwrap().counts().writes;
    let before = writes("src");
    let mut federate = args("shop");
    federate.push(("project_selector", String::new()));
    let project = call("/api/workspaces/federate", federate.clone()).await;
    assert_eq!(project.status(), 200, "{}", project.text().await.unwrap());
    let project: Value = project.json().await.unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();
    let resources = app.store.list_resources(&tenant, &ws, Some(&project_id)).await.unwrap();
    assert_eq!(resources.len(), 5, "the namespace and four objects: {resources:?}");
    eventually("every resource Synced in both clusters", WAIT, || async {
        let statuses = app.store.project_statuses(&tenant, &project_id).await.unwrap();
        statuses.len() == 10 && statuses.iter().all(|s| s.code == flotilla_domain::StatusCode::Synced)
    })
    .await;
    assert_eq!(writes("src"), before, "adopted as they were: nothing written to src");
    let far = sim.cluster("far").unwrap();
    assert!(far.counts().writes >= 5, "far got the namespace and its objects");

    // An override is written to src (with Flotilla's marks from then on), and drift there is corrected.
    let settings = resources.iter().find(|r| r.name == "settings").unwrap();
    let stored = app.store.resource_revision(&tenant, &settings.id, None).await.unwrap();
    let mut spec = stored.spec.clone();
    spec.overrides = vec![flotilla_domain::ClusterOverride {
        cluster: "src".into(),
        selector: None,
        patches: vec![flotilla_domain::OverridePatch {
            op: Default::default(),
            path: "/data/level".into(),
            value: Some(json!("debug")),
        }],
    }];
    app.store
        .update_resource(
            &tenant,
            &flotilla_store::Actor::system("test"),
            flotilla_domain::Clearance::TenantAdmin,
            &settings.id,
            stored.record.version,
            &spec,
        )
        .await
        .unwrap();
    let level = || {
        kubectl(
            files.path(),
            &sim.kubeconfig("src").unwrap(),
            &["get", "configmap", "settings", "-n", "shop", "-o", "jsonpath={.data.level}"],
        )
    };
    eventually("the override reached src", WAIT, || async { level() == "debug" }).await;
    kubectl(
        files.path(),
        &sim.kubeconfig("src").unwrap(),
        &["patch", "configmap", "settings", "-n", "shop", "--type", "merge", "-p", r#"{"data":{"level":"edited"}}"#],
    );
    eventually("the drift corrected", WAIT, || async { level() == "debug" }).await;

    // Refusals: a project of that name exists; reserved or missing namespaces; a foreign
    // cluster id; someone who is not a tenant admin.
    let again = call("/api/workspaces/federate", federate).await;
    assert_eq!(refused(again, 422).await["Invalid"]["field"], "name");
    let reserved = call("/api/workspaces/federate-preview", form(&args("kube-system"))).await;
    assert_eq!(refused(reserved, 422).await["Invalid"]["field"], "namespace");
    let missing = call("/api/workspaces/federate-preview", form(&args("nowhere"))).await;
    let body = refused(missing, 422).await;
    assert!(body.to_string().contains("no namespace nowhere"), "{body}");
    let mut foreign = args("shop");
    foreign[1].1 = "not-a-cluster".into();
    assert_eq!(call("/api/workspaces/federate-preview", form(&foreign)).await.status(), 404);
    let wanda = crate::tenancy::user_with(&app, "wanda", flotilla_domain::Role::WorkspaceAdmin, &ws).await;
    let shop_args = args("shop");
    let pairs: Vec<(&str, &str)> = shop_args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.call(&wanda, "/api/workspaces/federate-preview", &pairs).await.status(), 403);
}
