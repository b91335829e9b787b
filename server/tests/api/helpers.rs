use secrecy::SecretString;
use server::config::{Args, Settings};
use server::startup::Application;

pub const ADMIN_PASSWORD: &str = "test-admin-password";

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
    /// A client that keeps cookies and does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
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

impl TestApp {
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
        ..Args::default()
    };
    let mut args = args;
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
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("flotilla_session="))
        .map(str::to_owned)
}
