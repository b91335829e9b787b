use secrecy::SecretString;
use serde_json::Value;
use server::config::{Args, Settings};
use server::startup::Application;

pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// How long API tests wait for the engine to get somewhere.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A running server on a random port with its own data dir.
pub struct TestApp {
    pub address: String,
    pub store: flotilla_store::Store,
    pub data_dir: tempfile::TempDir,
    /// The demo fleet's CA, when started with the demo fleet.
    pub demo_ca: Option<String>,
    /// Where `/metrics` is served.
    pub metrics_url: String,
    /// Sending (or dropping) it stops the server as SIGTERM would.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// A client that keeps cookies and does not follow redirects (tests look at them). A
    /// request unanswered for a minute fails the test, naming it, rather than hanging it.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("client builds")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Calls the login server function as the wasm app does (JSON accepted, not HTML).
    pub async fn login(&self, client: &reqwest::Client, username: &str, password: &str) -> reqwest::Response {
        self.login_to(client, "default", username, password).await
    }

    /// Logs in to a local account of `tenant`.
    pub async fn login_to(
        &self,
        client: &reqwest::Client,
        tenant: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/auth/login"))
            .header("Accept", "application/json")
            .form(&[("tenant", tenant), ("username", username), ("password", password)])
            .send()
            .await
            .expect("login request is answered")
    }
}

/// Calls to server functions, as the browser's generated client makes them (arguments as a
/// form, or as JSON for structured ones; answers as JSON).
impl TestApp {
    pub async fn call(&self, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = client.post(self.url(endpoint)).header("Accept", "application/json").form(form);
        request.send().await.expect("the server answers")
    }

    pub async fn call_json(&self, client: &reqwest::Client, endpoint: &str, body: &Value) -> reqwest::Response {
        let request = client.post(self.url(endpoint)).header("Accept", "application/json").json(body);
        request.send().await.expect("the server answers")
    }

    /// Calls and reads a successful answer.
    pub async fn json(&self, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> Value {
        ok(self.call(client, endpoint, form).await).await
    }
}

/// The answer of a call that must succeed (its body when it did not).
pub async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The answer of a call that must be refused with `status`.
pub async fn refused(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

impl TestApp {
    /// An object as member cluster `cluster` of the default tenant's demo fleet holds it, read
    /// over its API with the credentials the hub uses (`path`: `/apis/apps/v1/namespaces/…`);
    /// `None` when it is not there.
    pub async fn member_object(&self, cluster: &str, path: &str) -> Option<Value> {
        let (client, url, token) = self.member(cluster).await;
        let response = client.get(format!("{url}{path}")).bearer_auth(token).send().await.unwrap();
        if response.status() == 404 {
            return None;
        }
        Some(response.json().await.unwrap())
    }

    /// A client of member `cluster` of the demo fleet, its API server URL and the hub's token.
    async fn member(&self, cluster: &str) -> (reqwest::Client, String, String) {
        let tenant = self.store.tenant_by_slug("default").await.unwrap().unwrap();
        let listed = self.store.list_clusters(&tenant.id).await.unwrap();
        let member = listed.iter().find(|c| c.name == cluster).expect("a cluster of the demo fleet");
        let token = self.store.cluster_token(&tenant.id, &member.id).await.unwrap();
        let ca = self.demo_ca.as_ref().expect("the demo fleet serves TLS");
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
            .build()
            .unwrap();
        (client, member.api_server_url.clone(), secrecy::ExposeSecret::expose_secret(&token).to_owned())
    }

    /// Creates `body` in member `cluster` of the demo fleet (`path`: the collection), as
    /// another client of it would; answers the HTTP status.
    pub async fn member_create(&self, cluster: &str, path: &str, body: &Value) -> u16 {
        let (client, url, token) = self.member(cluster).await;
        client.post(format!("{url}{path}")).bearer_auth(token).json(body).send().await.unwrap().status().as_u16()
    }

    /// Stops the server as SIGTERM would, and waits until it has stopped.
    pub async fn stop(mut self) -> tempfile::TempDir {
        drop(self.stop.take());
        if let Some(running) = self.running.take() {
            running.await.expect("the server task ends").expect("the server stops cleanly");
        }
        self.data_dir
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose arguments `adjust` may change before it starts.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Args)) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), adjust).await
}

/// A server on `data_dir` (a new one, or one a stopped server used).
pub async fn spawn_app_in(data_dir: tempfile::TempDir, adjust: impl FnOnce(&mut Args)) -> TestApp {
    server::telemetry::init_for_tests();
    let args = Args {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        metrics_listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.path().to_path_buf()),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD.to_owned())),
        site_root: Some(data_dir.path().join("site")),
        // Simulated clusters and test providers listen on this machine.
        outbound_loopback: Some(flotilla_outbound::Loopback::Http),
        // Tests that ask for the demo get the small one (12 clusters, nothing installed).
        demo_fleet: Some(server::config::DemoFleet::Small),
        ..Args::default()
    };
    let mut args = args;
    args.database_url = Some(flotilla_testkit::database_url(data_dir.path()).await);
    adjust(&mut args);
    let settings = Settings::resolve(args).expect("settings resolve");
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_url = app.metrics_addr().map(|a| format!("http://{a}/metrics")).unwrap_or_default();
    let store = app.store().clone();
    let demo_ca = app.demo().and_then(|d| d.ca_pem()).map(str::to_owned);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp { address, store, data_dir, demo_ca, metrics_url, stop: Some(stop), running: Some(running) }
}

/// The value of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie(response, "flotilla_session")
}

/// The whole `Set-Cookie` of cookie `name` a response sets (value and attributes), if any.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
        .map(str::to_owned)
}

/// A `.tar.gz` of the built-in podinfo 6.7.1 relabelled as `version` (one a tenant might
/// build from it), base64-encoded as the upload takes it; `edit` changes its files' texts.
pub fn podinfo_archive(version: &str, edit: impl Fn(&str, String) -> String) -> String {
    use base64::Engine as _;
    let files: Vec<(String, String)> = flotilla_catalog::files()
        .iter()
        .filter(|(app, v, _, _)| *app == "podinfo" && *v == "6.7.1")
        .map(|(_, _, path, text)| {
            let text = if *path == "app.yaml" {
                text.replace("version: 6.7.1\n", &format!("version: {version}\n"))
                    .replace("<6.7.1", &format!("<{version}"))
            } else {
                (*text).to_owned()
            };
            (format!("podinfo/{version}/{path}"), edit(path, text))
        })
        .collect();
    let archive = flotilla_testkit::app_archive(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    base64::engine::general_purpose::STANDARD.encode(archive)
}
