//! Fidelity checked with a client nobody here wrote: the real kubectl, against a simulated
//! cluster over HTTPS with a bearer token, asserting on what kubectl printed.
//!
//! Without kubectl these tests print a loud SKIPPED notice; under CI (CI set) they fail
//! instead, since CI machines have kubectl.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use flotilla_simulator::Simulator;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const KUBECTL: &str = "/usr/bin/kubectl";

/// kubectl for cluster `a`, with its own kubeconfig and discovery cache.
struct Kubectl {
    kubeconfig: PathBuf,
    cache: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(sim: &Simulator) -> Option<Self> {
        if !Path::new(KUBECTL).exists() {
            assert!(std::env::var_os("CI").is_none(), "kubectl is missing at {KUBECTL}: the kubectl tests cannot run");
            eprintln!("\n*** SKIPPED: {KUBECTL} not found; the kubectl compatibility tests did not run ***\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("a.kubeconfig");
        std::fs::write(&kubeconfig, sim.kubeconfig("a").unwrap()).unwrap();
        Some(Self { cache: dir.path().join("cache"), kubeconfig, _dir: dir })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(KUBECTL);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).arg("--cache-dir").arg(&self.cache).args(args);
        cmd.kill_on_drop(true);
        cmd
    }

    /// Runs kubectl; returns stdout, failing the test (with stderr) if kubectl failed.
    async fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().await.expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed:\n{stderr}\n{stdout}");
        stdout
    }

    /// Runs kubectl expecting failure; returns stderr.
    async fn fail(&self, args: &[&str]) -> String {
        let out = self.command(args).output().await.expect("kubectl runs");
        assert!(!out.status.success(), "kubectl {args:?} should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_applies_watches_and_deletes() {
    let sim = common::start().await;
    let Some(k) = Kubectl::new(&sim) else { return };
    let files = tempfile::tempdir().unwrap();

    // Discovery: kubectl asks for the aggregated form and, understanding the answer, needs
    // no request per group version.
    let out = k.command(&["api-resources", "-v=6"]).output().await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let deployments = stdout.lines().find(|l| l.starts_with("deployments ")).unwrap_or_default();
    assert_eq!(
        deployments.split_whitespace().collect::<Vec<_>>(),
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    let gets: Vec<&str> = stderr.lines().filter(|l| l.contains(" GET ")).collect();
    assert_eq!(gets.len(), 2, "only /api and /apis: {gets:#?}");

    // get ns: the initial namespaces, printed by kubectl.
    let ns = k.run(&["get", "ns", "-o", "name"]).await;
    for n in ["namespace/default", "namespace/kube-system", "namespace/kube-public"] {
        assert!(ns.lines().any(|l| l == n), "{n} missing from:\n{ns}");
    }
    let ns_file = write(files.path(), "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n");
    assert_eq!(k.run(&["apply", "-f", &ns_file]).await.trim(), "namespace/team created");
    // Typed helpers such as `kubectl create namespace` send protobuf, which the simulator
    // does not speak: it answers 415 with a clear message rather than misreading the body.
    let err = k.fail(&["create", "namespace", "other"]).await;
    assert!(err.contains("UnsupportedMediaType"), "{err}");

    // Client-side apply: create, then unchanged, then configured.
    let manifest = write(files.path(), "deploy.yaml", DEPLOYMENT);
    assert_eq!(k.run(&["apply", "-f", &manifest]).await.trim(), "deployment.apps/web created");
    assert_eq!(k.run(&["apply", "-f", &manifest]).await.trim(), "deployment.apps/web unchanged");
    let scaled = write(files.path(), "deploy3.yaml", &DEPLOYMENT.replace("replicas: 2", "replicas: 3"));
    assert_eq!(k.run(&["apply", "-f", &scaled]).await.trim(), "deployment.apps/web configured");

    // get deploy -o json: what the API server stored, with server-set fields.
    let json: serde_json::Value =
        serde_json::from_str(&k.run(&["get", "deploy", "-n", "team", "-o", "json"]).await).unwrap();
    assert_eq!(json["kind"], "List");
    let web = &json["items"][0];
    assert_eq!(web["metadata"]["name"], "web");
    assert_eq!(web["spec"]["replicas"], 3);
    assert_eq!(web["metadata"]["generation"], 2);
    assert!(web["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string());

    // Server-side apply.
    let ssa = write(files.path(), "deploy-ssa.yaml", &DEPLOYMENT.replace("replicas: 2", "replicas: 4"));
    assert_eq!(k.run(&["apply", "--server-side", "-f", &ssa]).await.trim(), "deployment.apps/web serverside-applied");
    assert_eq!(k.run(&["get", "deploy", "web", "-n", "team", "-o", "jsonpath={.spec.replicas}"]).await, "4");
    let cm = write(
        files.path(),
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team}\ndata: {level: debug}\n",
    );
    assert_eq!(k.run(&["apply", "--server-side", "-f", &cm]).await.trim(), "configmap/settings serverside-applied");

    // A bad object is refused the way the API server refuses it.
    let bad =
        write(files.path(), "bad.yaml", &DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {app: other}"));
    let err = k.fail(&["apply", "-f", &bad, "--validate=false"]).await;
    assert!(err.contains("selector` does not match template `labels`"), "{err}");

    // get -w sees an update made meanwhile.
    let mut watch = k
        .command(&["get", "configmap", "settings", "-n", "team", "-w", "-o", "jsonpath={.data.level}{\"\\n\"}"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap();
    assert_eq!(first.as_deref(), Some("debug"));
    k.run(&["patch", "configmap", "settings", "-n", "team", "--type", "merge", "-p", r#"{"data":{"level":"info"}}"#])
        .await;
    let second =
        tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("watch saw the update").unwrap();
    assert_eq!(second.as_deref(), Some("info"));
    watch.kill().await.ok();

    // delete: kubectl waits for the object to be gone.
    assert_eq!(k.run(&["delete", "-f", &manifest]).await.trim(), "deployment.apps \"web\" deleted");
    let gone = k.fail(&["get", "deploy", "web", "-n", "team"]).await;
    assert!(gone.contains("deployments.apps \"web\" not found"), "{gone}");
    assert!(k.run(&["delete", "namespace", "team"]).await.contains("namespace \"team\" deleted"));
    let gone = k.fail(&["get", "configmap", "settings", "-n", "team"]).await;
    assert!(gone.contains("not found"), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_is_refused_without_the_token() {
    let sim = common::start().await;
    let Some(k) = Kubectl::new(&sim) else { return };
    let token = sim.cluster("a").unwrap().token.clone();
    let text = std::fs::read_to_string(&k.kubeconfig).unwrap().replace(&token, "not-the-token");
    std::fs::write(&k.kubeconfig, text).unwrap();
    let err = k.fail(&["get", "ns"]).await;
    assert!(err.contains("Unauthorized") || err.contains("provide credentials"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_with_a_service_account_token_gets_what_its_role_allows() {
    let sim = common::start().await;
    let Some(k) = Kubectl::new(&sim) else { return };
    let files = tempfile::tempdir().unwrap();
    let account = write(
        files.path(),
        "account.yaml",
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: bot, namespace: team}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: bot-token
  namespace: team
  annotations: {kubernetes.io/service-account.name: bot}
"#,
    );
    k.run(&["apply", "-f", &account]).await;
    let encoded = k.run(&["get", "secret", "bot-token", "-n", "team", "-o", "jsonpath={.data.token}"]).await;
    let token = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded.trim()).unwrap()).unwrap();
    let as_bot = |args: &[&'static str]| [&["--token", token.as_str()][..], args].concat();

    let err = k.fail(&as_bot(&["get", "configmaps", "-n", "team"])).await;
    assert!(
        err.contains(
            "configmaps is forbidden: User \"system:serviceaccount:team:bot\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\""
        ),
        "{err}"
    );

    let role = write(
        files.path(),
        "role.yaml",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: team}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bot-cm-reader, namespace: team}
subjects: [{kind: ServiceAccount, name: bot, namespace: team}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
"#,
    );
    k.run(&["apply", "-f", &role]).await;
    k.run(&as_bot(&["get", "configmaps", "-n", "team", "-o", "name"])).await;
    let err = k.fail(&as_bot(&["get", "configmaps", "-n", "default"])).await;
    assert!(err.contains("Forbidden") || err.contains("forbidden"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_signs_in_with_a_client_certificate_as_kind_admins_do() {
    let sim = common::start().await;
    let Some(k) = Kubectl::new(&sim) else { return };
    // The cluster's admin certificate: kubernetes-admin in system:masters.
    std::fs::write(&k.kubeconfig, sim.certificate_kubeconfig("a").unwrap()).unwrap();
    let text = std::fs::read_to_string(&k.kubeconfig).unwrap();
    assert!(text.contains("client-certificate-data") && !text.contains("\"token\""), "{text}");
    let files = tempfile::tempdir().unwrap();
    let namespace = write(files.path(), "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n");
    k.run(&["apply", "-f", &namespace]).await;
    assert!(k.run(&["get", "ns", "-o", "name"]).await.contains("namespace/team"));

    // Another cluster's admin certificate is not valid here (as another cluster's CA's is not).
    let other = sim.certificate_kubeconfig("b").unwrap().replace("/clusters/b", "/clusters/a");
    std::fs::write(&k.kubeconfig, other).unwrap();
    let err = k.fail(&["get", "ns"]).await;
    assert!(err.contains("Unauthorized") || err.contains("provide credentials"), "{err}");

    // A user's certificate is what RBAC grants its name and groups: nothing yet.
    let jane = sim.client_certificate("jane", &["devs"]).unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let as_jane = text
        .replace(&certificate_data(&text, "client-certificate-data"), &b64(&jane.cert_pem))
        .replace(&certificate_data(&text, "client-key-data"), &b64(&jane.key_pem));
    std::fs::write(&k.kubeconfig, as_jane).unwrap();
    let err = k.fail(&["get", "configmaps", "-n", "team"]).await;
    assert!(err.contains("configmaps is forbidden: User \"jane\" cannot list resource \"configmaps\""), "{err}");
}

/// The value of `field` in a kubeconfig the simulator wrote (JSON).
fn certificate_data(kubeconfig: &str, field: &str) -> String {
    let config: serde_json::Value = serde_json::from_str(kubeconfig).unwrap();
    config["users"][0]["user"][field].as_str().unwrap().to_owned()
}
