//! Test support: the local stand-in for the WHO API (tools/standin/icd_standin.py), started on a
//! free loopback port for each test, with its admin endpoints for faults and the request log.
#![allow(dead_code)]

pub mod c_abi;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use icdapi::Client;
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "standin-client";
pub const CLIENT_SECRET: &str = "standin-secret";

/// A running stand-in; killed on drop.
pub struct StandIn {
    child: Child,
    pub url: String,
    admin: ureq::Agent,
}

pub fn repo_path(relative: &str) -> String {
    format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
}

impl StandIn {
    pub fn start() -> StandIn {
        StandIn::start_with(&[])
    }

    /// Starts the stand-in with extra command-line arguments (e.g. `--local`, `--expires-in 5`).
    pub fn start_with(args: &[&str]) -> StandIn {
        StandIn::start_trusting(args, None)
    }

    /// Starts it with TLS arguments; the admin calls trust the CA in `ca_pem` (a file).
    pub fn start_trusting(args: &[&str], ca_pem: Option<&str>) -> StandIn {
        let python = std::env::var("ICDAPI_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(python)
            .arg(repo_path("tools/standin/icd_standin.py"))
            .args(["--port", "0", "--quiet"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("stand-in prints its address");
        let url = line.trim().strip_prefix("LISTENING ").unwrap_or_else(|| panic!("unexpected: {line}")).to_owned();
        let mut admin = ureq::Agent::config_builder();
        if let Some(ca_pem) = ca_pem {
            let pem = std::fs::read(ca_pem).unwrap();
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item.unwrap() {
                    ureq::tls::PemItem::Certificate(cert) => Some(cert.to_owned()),
                    _ => None,
                })
                .collect();
            let roots = ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs));
            admin = admin.tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
        }
        let admin = admin.http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().new_agent();
        StandIn { child, url, admin }
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/connect/token", self.url)
    }

    /// A cloud client with the stand-in's credentials, pointed at it, with fast retries.
    pub fn client(&self) -> Client {
        self.client_with_secret(CLIENT_SECRET)
    }

    pub fn client_with_secret(&self, secret: &str) -> Client {
        let client = Client::cloud(Some(CLIENT_ID), Some(secret)).expect("client");
        client.set_option("api_base", &self.url).unwrap();
        client.set_option("token_endpoint", &self.token_endpoint()).unwrap();
        client
    }

    /// A local-deployment client (the stand-in must run with `--local`).
    pub fn local_client(&self) -> Client {
        Client::local(Some(&self.url)).expect("local client")
    }

    pub fn admin_get(&self, path: &str) -> Value {
        let mut response = self.admin.get(format!("{}/_admin/{path}", self.url)).call().expect("admin GET");
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    pub fn admin_post(&self, path: &str, body: Value) -> Value {
        let mut response = self
            .admin
            .post(format!("{}/_admin/{path}", self.url))
            .content_type("application/json")
            .send(body.to_string())
            .expect("admin POST");
        assert!(response.status().is_success(), "admin {path} answered {}", response.status());
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null)
    }

    pub fn fault(&self, fault: Value) {
        self.admin_post("fault", fault);
    }

    pub fn configure(&self, config: Value) {
        self.admin_post("config", config);
    }

    pub fn revoke_tokens(&self) {
        self.admin_post("revoke", json!({}));
    }

    pub fn stat(&self, name: &str) -> u64 {
        self.admin_get("stats")[name].as_u64().unwrap_or_else(|| panic!("no stat {name}"))
    }

    pub fn tokens_issued(&self) -> u64 {
        self.stat("tokens_issued")
    }

    /// Every request the stand-in received (admin requests excepted), oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.admin_get("log")["requests"].as_array().cloned().unwrap_or_default()
    }

    /// The API requests (token requests excepted).
    pub fn api_requests(&self) -> Vec<Value> {
        self.requests().into_iter().filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/icd"))).collect()
    }

    /// The API requests but the release lists (`/icd/release/11/{linearization}`) that a helper's
    /// first 404 asks for, to tell an unserved release.
    pub fn api_requests_but_release_lists(&self) -> Vec<Value> {
        let is_list =
            |r: &Value| r["path"].as_str().is_some_and(|p| p == "/icd/release/11/mms" || p == "/icd/release/11/icf");
        self.api_requests().into_iter().filter(|r| !is_list(r)).collect()
    }

    pub fn last_api_request(&self) -> Value {
        self.api_requests().pop().expect("an API request was made")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child process at most `limit`, then kills it and fails the test: a child that
/// waits on the network must not hang its parent.
pub fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child process") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a child process did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The JSON of a reply body.
pub fn json_of(body: &str) -> Value {
    serde_json::from_str(body).expect("the body is JSON")
}

/// A plain admin channel, for threads that cannot borrow the `StandIn`.
pub struct Admin {
    url: String,
    agent: ureq::Agent,
}

impl Admin {
    pub fn new(url: &str) -> Admin {
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().new_agent();
        Admin { url: url.to_owned(), agent }
    }

    pub fn post(&self, path: &str, body: &Value) {
        self.agent
            .post(format!("{}/_admin/{path}", self.url))
            .content_type("application/json")
            .send(body.to_string())
            .expect("admin POST");
    }
}
