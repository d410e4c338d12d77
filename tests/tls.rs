//! TLS with rustls: a local HTTPS stand-in whose certificate comes from a CA made for the test.
//! Trusted through `ca_file` it works; untrusted it fails with ICD_ERR_NETWORK and a message
//! naming the certificate problem. There is no option to turn verification off.

mod support;

use icdapi::{Client, ErrorKind, OPTION_NAMES};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use support::{wait_within, StandIn, CLIENT_ID, CLIENT_SECRET};

struct TestPki {
    dir: std::path::PathBuf,
}

impl TestPki {
    /// A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
    fn new(name: &str) -> TestPki {
        let dir = std::env::temp_dir().join(format!("icdapi-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "icdapi test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
        std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
        TestPki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    fn start_standin(&self) -> StandIn {
        let (cert, key) = (self.path("server.pem"), self.path("server.key"));
        StandIn::start_trusting(&["--tls-cert", &cert, "--tls-key", &key], Some(&self.path("ca.pem")))
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client_for(standin: &StandIn) -> Client {
    let client = Client::cloud(Some(CLIENT_ID), Some(CLIENT_SECRET)).unwrap();
    client.set_option("api_base", &standin.url).unwrap();
    client.set_option("token_endpoint", &standin.token_endpoint()).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    client
}

#[test]
fn a_server_trusted_through_ca_file_works() {
    let pki = TestPki::new("trusted");
    let standin = pki.start_standin();
    assert!(standin.url.starts_with("https://"));
    let client = client_for(&standin);
    client.set_option("ca_file", &pki.path("ca.pem")).unwrap();
    let reply = client.search("cholera").unwrap();
    assert!(reply.body.contains("1A00"));
    assert_eq!(standin.tokens_issued(), 1);
}

#[test]
fn an_untrusted_certificate_is_a_network_error_that_names_the_problem() {
    let pki = TestPki::new("untrusted");
    let standin = pki.start_standin();
    let client = client_for(&standin);
    let error = client.search("cholera").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    let message = error.message().to_lowercase();
    assert!(message.contains("tls") && message.contains("certificate"), "{}", error.message());
    // The secret never left: the token request failed in the handshake, before any byte of it.
    assert_eq!(standin.stat("token_requests"), 0);
    assert!(!error.message().contains(CLIENT_SECRET));
}

#[test]
fn a_ca_file_that_does_not_vouch_for_the_server_is_refused() {
    let pki = TestPki::new("server");
    let other = TestPki::new("other");
    let standin = pki.start_standin();
    let client = client_for(&standin);
    client.set_option("ca_file", &other.path("ca.pem")).unwrap();
    assert_eq!(client.search("cholera").unwrap_err().kind(), ErrorKind::Network);
    // A file that is not a PEM bundle is refused when set.
    let error = client.set_option("ca_file", &pki.path("server.key")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
}

/// Runs in a child process whose SSL_CERT_FILE names the test CA: the system's store, as the
/// platform verifier reads it on Linux.
#[test]
fn system_store_child() {
    let Ok(url) = std::env::var("ICDAPI_CHILD_TLS_URL") else { return };
    let client = Client::cloud(Some(CLIENT_ID), Some(CLIENT_SECRET)).unwrap();
    client.set_option("api_base", &url).unwrap();
    client.set_option("token_endpoint", &format!("{url}/connect/token")).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    assert!(client.search("cholera").unwrap().body.contains("1A00"));
}

#[test]
fn the_system_certificate_store_is_trusted_by_default() {
    let pki = TestPki::new("system");
    let standin = pki.start_standin();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "system_store_child", "--test-threads=1", "--quiet"])
        .env("ICDAPI_CHILD_TLS_URL", &standin.url)
        .env("SSL_CERT_FILE", pki.path("ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_within(&mut child, std::time::Duration::from_secs(30));
    assert!(status.success(), "a CA in the system store is trusted without ca_file");
    assert_eq!(standin.tokens_issued(), 1);
}

#[test]
fn there_is_no_option_to_turn_verification_off() {
    for name in OPTION_NAMES {
        assert!(!name.contains("verify") && !name.contains("insecure"), "{name}");
    }
    let client = Client::cloud(Some("id"), Some("secret")).unwrap();
    for name in ["verify", "tls_verify", "insecure", "danger_accept_invalid_certs", "ssl_verifypeer"] {
        assert_eq!(client.set_option(name, "0").unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}
