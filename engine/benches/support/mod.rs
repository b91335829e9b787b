//! What the engine's benches share: the simulated fleet in a child process (the same bench
//! binary, started in the simulator's role), the engine settings for it, and readings of CPU
//! time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use flotilla_engine::EngineSettings;
use serde_json::{Value, json};

/// Set in the child's environment: it serves the simulated clusters.
pub const SIM_ROLE: &str = "FLOTILLA_BENCH_SIMULATOR";

/// The engine's defaults, with the simulated fleet (on this machine's loopback) allowed.
pub fn engine_settings() -> EngineSettings {
    let outbound =
        flotilla_outbound::OutboundPolicy { loopback: flotilla_outbound::Loopback::Https, ..Default::default() };
    EngineSettings { outbound: std::sync::Arc::new(outbound), ..EngineSettings::default() }
}

/// Whether this process is the child serving the fleet.
pub fn is_simulator() -> bool {
    std::env::var_os(SIM_ROLE).is_some()
}

/// The child: serves `n` clusters (`c0000`…), prints how to reach them as one JSON line,
/// then answers each line on stdin with the total member writes and requests, until stdin
/// closes.
pub async fn simulator_process(n: usize) {
    use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
    let specs = (0..n).map(|i| ClusterSpec::new(format!("c{i:04}"))).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().expect("addr"), specs, SimSettings::default()).await.expect("sim");
    let clusters: Vec<Value> = sim
        .fleet()
        .all()
        .iter()
        .map(|c| json!({"name": c.name(), "url": sim.server_url(c.name()), "token": c.token}))
        .collect();
    println!("{}", json!({"ca": sim.ca_pem(), "clusters": clusters}));
    let fleet = sim.fleet().clone();
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
            let (mut writes, mut requests) = (0, 0);
            for c in fleet.all() {
                writes += c.counts().writes;
                requests += c.counts().requests;
            }
            println!("{writes} {requests}");
        }
    })
    .await
    .expect("stdin loop");
}

/// The simulated fleet in a child process.
pub struct SimChild {
    pub process: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
    /// The CA's PEM, if the fleet serves HTTPS.
    pub ca: Option<String>,
    /// Each cluster as `{"name", "url", "token"}`.
    pub members: Vec<Value>,
}

impl SimChild {
    /// Starts `n` clusters in a child process and waits until they are served.
    pub fn spawn(n: usize) -> Self {
        eprintln!("starting {n} simulated clusters in a child process…");
        let mut process = Command::new(std::env::current_exe().expect("exe"))
            .arg(n.to_string())
            .env(SIM_ROLE, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn simulator");
        let mut out = BufReader::new(process.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("simulator says where it is");
        let info: Value = serde_json::from_str(&line).expect("json");
        let ca = info["ca"].as_str().map(str::to_owned);
        let members = info["clusters"].as_array().expect("clusters").clone();
        Self { process, out, ca, members }
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Member writes and requests so far, over the whole fleet.
    pub fn counts(&mut self) -> (u64, u64) {
        let stdin = self.process.stdin.as_mut().expect("stdin");
        writeln!(stdin, "counts").expect("ask counts");
        let mut line = String::new();
        self.out.read_line(&mut line).expect("counts");
        let mut it = line.split_whitespace().map(|v| v.parse::<u64>().expect("number"));
        (it.next().expect("writes"), it.next().expect("requests"))
    }

    /// Stops the child (its stdin closes, then it is killed).
    pub fn stop(mut self) {
        drop(self.process.stdin.take());
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// User + system CPU ticks a process has used so far (Linux `/proc`; None elsewhere).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3, `state`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// USER_HZ on Linux: CPU ticks per second.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// A bare kube client for member `c` (`{"url", "token"}`), trusting the fleet's CA: what any
/// other client of the cluster would use (the floors).
pub fn member_client(c: &Value, ca: Option<&str>) -> kube::Client {
    let mut config = kube::Config::new(c["url"].as_str().expect("url").parse().expect("uri"));
    config.default_retry = false;
    config.auth_info.token = Some(c["token"].as_str().expect("token").to_owned().into());
    if let Some(pem) = ca {
        config.root_cert = Some(vec![pem_der(pem)]);
    }
    kube::Client::try_from(config).expect("client")
}

/// A PEM certificate's DER bytes.
pub fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("pem")
}
