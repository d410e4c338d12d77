//! Connections over TLS, seen from the server's side (tests/tls_server): clients with the same
//! settings share one process-wide pool, clients with other trust settings never get its
//! connections, sessions resume when the server closes every connection, the system's trust
//! store is read once per process, and the first call opens the API connection while the token
//! is fetched.
//!
//! Each test runs under a deadline of its own (`within`): a regression fails it, never hangs it.

mod tls_server;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use icdapi::Client;
use tls_server::{Behaviour, TestCa, TlsServer, WhenIdle};

/// Runs `test` on a thread and fails if it has not finished within `seconds`.
fn within(seconds: u64, test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(seconds)) {
        Ok(()) => runner.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: show its message.
            if let Err(panic) = runner.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within {seconds} s"),
    }
}

/// A client of `server` (API and token endpoint), trusting `ca_file`, with the cache off so
/// that every call reaches the server.
/// Runs `test` (one of this file's `*_child` tests, which do nothing unless their variable is
/// set) in a child process of this test binary, with each variable set (Some) or removed (None),
/// and waits at most `limit` for it: a process of its own, for what is decided once per process.
fn run_child(test: &str, env: &[(&str, Option<&str>)], limit: Duration) -> std::process::ExitStatus {
    run_child_with_stderr(test, env, limit, std::process::Stdio::inherit())
}

/// `run_child`, with what the child writes on stderr (the library's log) as text.
fn run_child_logging(test: &str, env: &[(&str, Option<&str>)], limit: Duration) -> (std::process::ExitStatus, String) {
    let path = std::env::temp_dir().join(format!("icdapi-conn-{test}-{}.log", std::process::id()));
    let status = run_child_with_stderr(test, env, limit, std::fs::File::create(&path).unwrap().into());
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    (status, log)
}

fn run_child_with_stderr(
    test: &str,
    env: &[(&str, Option<&str>)],
    limit: Duration,
    stderr: std::process::Stdio,
) -> std::process::ExitStatus {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", test, "--test-threads=1", "--quiet"]).stdout(std::process::Stdio::null()).stderr(stderr);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{test} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client_of(server: &TlsServer, token_server: &TlsServer, ca_file: Option<&str>) -> Client {
    let client = Client::cloud(Some("conn-client"), Some("conn-secret")).unwrap();
    client.set_option("api_base", &server.url).unwrap();
    client.set_option("token_endpoint", &token_server.token_endpoint()).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    client.set_option("cache_entries", "0").unwrap();
    if let Some(ca_file) = ca_file {
        client.set_option("ca_file", ca_file).unwrap();
    }
    client
}

fn call(client: &Client, n: usize) {
    let reply = client.get(&format!("/icd/release/11/2026-01/mms/{n}")).unwrap();
    assert!(reply.body.contains("Cholera"), "{}", reply.body);
}

#[test]
fn clients_created_one_after_another_share_one_connection() {
    within(60, || {
        let ca = TestCa::new("reuse");
        let server = TlsServer::start(&ca, Behaviour::default());
        for n in 0..40 {
            // What a PHP page does: a client per request, freed at the end.
            let client = client_of(&server, &server, Some(&ca.path("ca.pem")));
            call(&client, n);
        }
        let seen = server.seen();
        assert_eq!(seen.requests, 41, "one token request and 40 API requests: {seen:?}");
        assert_eq!(seen.token_requests, 1);
        assert_eq!(seen.connections, 1, "40 clients, one after another, one connection: {seen:?}");
    });
}

#[test]
fn clients_with_other_trust_settings_never_get_the_connection() {
    within(60, || {
        let ca = TestCa::new("trust");
        let other = TestCa::new("trust-other");
        let server = TlsServer::start(&ca, Behaviour::default());
        // Both files trust the server, but they are different trust settings.
        let only_ours = ca.path("ca.pem");
        let both = ca.write("both.pem", &format!("{}{}", ca.ca_pem, other.ca_pem));
        // The same content under another path is the same trust setting.
        let copy = ca.write("copy.pem", &ca.ca_pem);

        call(&client_of(&server, &server, Some(&only_ours)), 0);
        assert_eq!(server.seen().connections, 1);
        call(&client_of(&server, &server, Some(&both)), 1);
        assert_eq!(server.seen().connections, 2, "another trust setting opens its own connection");
        call(&client_of(&server, &server, Some(&copy)), 2);
        call(&client_of(&server, &server, Some(&both)), 3);
        call(&client_of(&server, &server, Some(&only_ours)), 4);
        let seen = server.seen();
        assert_eq!(seen.connections, 2, "each trust setting reuses its own connection: {seen:?}");

        // Changing a file's content changes the setting: the file is read again when set.
        std::fs::write(&copy, format!("{}{}", other.ca_pem, ca.ca_pem)).unwrap();
        call(&client_of(&server, &server, Some(&copy)), 5);
        assert_eq!(server.seen().connections, 3);
    });
}

#[test]
fn past_sixteen_pools_those_no_client_uses_are_dropped_and_those_in_use_kept() {
    within(60, || {
        let ca = TestCa::new("evict");
        let server = TlsServer::start(&ca, Behaviour::default());
        let in_use_file = ca.path("ca.pem");
        // The same CA with other bytes around it: another trust setting, another pool.
        let setting = |name: &str, newlines: usize| ca.write(name, &format!("{}{}", ca.ca_pem, "\n".repeat(newlines)));
        let unused_file = setting("unused.pem", 1);
        let in_use = client_of(&server, &server, Some(&in_use_file));
        call(&in_use, 0);
        call(&client_of(&server, &server, Some(&unused_file)), 1); // its client is freed at once
        assert_eq!(server.seen().connections, 2);
        // Seventeen more settings, each used by a client that is freed at once: the pools no
        // client uses are kept up to sixteen, then dropped with their connections.
        for n in 0..17 {
            drop(client_of(&server, &server, Some(&setting(&format!("more-{n}.pem"), n + 2))));
        }
        call(&client_of(&server, &server, Some(&in_use_file)), 2);
        assert_eq!(server.seen().connections, 2, "a pool a client still uses is kept, and its connection");
        call(&client_of(&server, &server, Some(&unused_file)), 3);
        assert_eq!(server.seen().connections, 3, "the unused pool was dropped: a new one connects again");
        call(&in_use, 4);
    });
}

#[test]
fn sessions_resume_when_the_server_closes_every_connection() {
    within(60, || {
        let ca = TestCa::new("resume");
        let behaviour = Behaviour { close_every_connection: true, ..Behaviour::default() };
        let server = TlsServer::start(&ca, behaviour);
        let client = client_of(&server, &server, Some(&ca.path("ca.pem")));
        for n in 0..20 {
            call(&client, n);
        }
        // Clients made later resume too: the sessions belong to the process's pool.
        for n in 20..30 {
            call(&client_of(&server, &server, Some(&ca.path("ca.pem"))), n);
        }
        let seen = server.seen();
        assert_eq!(seen.handshakes, 31, "a connection per request (and one for the token): {seen:?}");
        assert_eq!(seen.resumed, 30, "every reconnection resumed its session: {seen:?}");
    });
}

/// Runs in a child process whose system trust store (SSL_CERT_FILE) holds only the test CA:
/// several clients, each reconnecting several times to a server that closes every connection.
#[test]
fn system_store_child() {
    let Ok(url) = std::env::var("ICDAPI_CHILD_TLS_URL") else { return };
    for client_number in 0..4 {
        let client = Client::cloud(Some("conn-client"), Some("conn-secret")).unwrap();
        client.set_option("api_base", &url).unwrap();
        client.set_option("token_endpoint", &format!("{url}/connect/token")).unwrap();
        client.set_option("timeout_ms", "10000").unwrap();
        client.set_option("cache_entries", "0").unwrap();
        for n in 0..3 {
            call(&client, client_number * 10 + n);
        }
    }
}

/// Counts the times a file is opened, by any process, with inotify.
struct OpenCounter {
    fd: i32,
}

impl OpenCounter {
    fn watch(path: &str) -> OpenCounter {
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify_init1");
        let c_path = std::ffi::CString::new(path).unwrap();
        assert!(unsafe { libc::inotify_add_watch(fd, c_path.as_ptr(), libc::IN_OPEN) } >= 0, "inotify_add_watch");
        OpenCounter { fd }
    }

    fn opens(&self) -> usize {
        let mut count = 0;
        let mut buffer = [0u8; 4096];
        loop {
            let read = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
            if read <= 0 {
                return count;
            }
            let mut at = 0;
            while at < read as usize {
                let event = unsafe { std::ptr::read_unaligned(buffer[at..].as_ptr() as *const libc::inotify_event) };
                if event.mask & libc::IN_OPEN != 0 {
                    count += 1;
                }
                at += std::mem::size_of::<libc::inotify_event>() + event.len as usize;
            }
        }
    }
}

impl Drop for OpenCounter {
    fn drop(&mut self) {
        unsafe { libc::close(self.fd) };
    }
}

#[test]
fn the_system_trust_store_is_read_once_per_process() {
    within(120, || {
        let ca = TestCa::new("system");
        let behaviour = Behaviour { close_every_connection: true, ..Behaviour::default() };
        let server = TlsServer::start(&ca, behaviour);
        let store = ca.path("ca.pem");
        let counter = OpenCounter::watch(&store);
        let env = [
            ("ICDAPI_CHILD_TLS_URL", Some(server.url.as_str())),
            ("SSL_CERT_FILE", Some(&store)),
            ("SSL_CERT_DIR", None),
        ];
        let status = run_child("system_store_child", &env, Duration::from_secs(90));
        assert!(status.success(), "the child's calls succeed with the system store");
        let seen = server.seen();
        assert_eq!(seen.handshakes, 13, "4 clients x 3 calls, each on a new connection, and the token: {seen:?}");
        assert_eq!(counter.opens(), 1, "13 TLS connections, 1 reading of the system's trust store");
    });
}

#[test]
fn the_first_call_opens_the_api_connection_while_the_token_is_fetched() {
    within(60, || first_call_overlaps("overlap", None));
}

#[test]
fn with_a_proxy_set_a_loopback_api_is_still_opened_ahead() {
    // Loopback goes direct, proxy or not: its connection is opened ahead as without a proxy.
    // (Nothing listens at the proxy's address: a request sent there would fail.)
    within(60, || first_call_overlaps("overlap-proxy", Some("http://127.0.0.1:9")));
}

/// The first call of a client whose token endpoint is on another host than the API: the API's
/// connection is opened (TLS included) while the token is fetched.
fn first_call_overlaps(name: &str, proxy: Option<&str>) {
    let ca = TestCa::new(name);
    const TOKEN_DELAY: Duration = Duration::from_millis(400);
    let token_server = TlsServer::start(&ca, Behaviour { token_delay: TOKEN_DELAY, ..Behaviour::default() });
    let api = TlsServer::start(&ca, Behaviour::default());
    let client = client_of(&api, &token_server, Some(&ca.path("ca.pem")));
    if let Some(proxy) = proxy {
        client.set_option("proxy", proxy).unwrap();
    }
    let started = Instant::now();
    call(&client, 0);
    let elapsed = started.elapsed();

    let (token_seen, api_seen) = (token_server.seen(), api.seen());
    assert_eq!(api_seen.connections, 1, "the API request went on the connection opened ahead: {api_seen:?}");
    let api_ready = api_seen.handshakes_at[0];
    let token_sent = token_seen.tokens_sent_at[0];
    assert!(
        api_ready < token_sent,
        "the API's TLS handshake was done {:?} before the token was sent",
        token_sent.saturating_duration_since(api_ready)
    );
    assert!(api_seen.api_requests_at[0] >= token_sent, "the API request waited for its token");
    // The token's delay, not the sum of two connection set-ups, is what the call took.
    assert!(elapsed >= TOKEN_DELAY && elapsed < TOKEN_DELAY * 3, "{elapsed:?}");

    // Later calls, and later clients, find the connection in the pool.
    call(&client, 1);
    let later = client_of(&api, &token_server, Some(&ca.path("ca.pem")));
    if let Some(proxy) = proxy {
        later.set_option("proxy", proxy).unwrap();
    }
    call(&later, 2);
    assert_eq!(api.seen().connections, 1);
    assert_eq!(token_server.seen().token_requests, 1);
}

#[test]
fn a_kept_connection_that_the_server_let_go_is_not_used_again() {
    within(60, || {
        for how in [
            WhenIdle::Close,
            WhenIdle::Reset,
            WhenIdle::CloseNotify,
            WhenIdle::Unasked408,
            WhenIdle::KeyUpdateThenReset,
        ] {
            let ca = TestCa::new(&format!("idle-{how:?}"));
            let token_server = TlsServer::start(&ca, Behaviour::default());
            let api = TlsServer::start(&ca, Behaviour { when_idle: how, ..Behaviour::default() });
            let client = client_of(&api, &token_server, Some(&ca.path("ca.pem")));
            // No retry: a request sent on a connection the server let go would fail the call.
            client.set_option("max_retries", "0").unwrap();
            call(&client, 0);
            std::thread::sleep(Duration::from_millis(500)); // the server lets the connection go (after 50 ms)
            let reply = client.get("/icd/release/11/2026-01/mms/1");
            assert!(reply.as_ref().is_ok_and(|r| r.body.contains("Cholera")), "{how:?}: {reply:?}");
            assert_eq!(api.seen().connections, 2, "{how:?}: the second call on a connection of its own");
        }
    });
}

#[test]
fn an_answer_that_comes_in_pieces_is_read_whole() {
    within(60, || {
        let ca = TestCa::new("pieces");
        let server = TlsServer::start(&ca, Behaviour { answers_in_pieces: true, ..Behaviour::default() });
        let client = client_of(&server, &server, Some(&ca.path("ca.pem")));
        client.set_option("max_retries", "0").unwrap();
        call(&client, 0);
        call(&client, 1);
    });
}

#[test]
fn a_connection_the_server_ends_cleanly_instead_of_answering_is_retried_on_a_new_one() {
    within(60, || {
        let ca = TestCa::new("unanswered");
        let server = TlsServer::start(&ca, Behaviour { closed_instead_of_answered: 1, ..Behaviour::default() });
        let client = client_of(&server, &server, Some(&ca.path("ca.pem")));
        client.set_option("timeout_ms", "5000").unwrap();
        let started = Instant::now();
        let reply = client.get("/icd/release/11/2026-01/mms/0").unwrap();
        assert_eq!(reply.http_status, 200);
        // At once, after one backoff: a connection that has ended has nothing more to wait for.
        assert!(started.elapsed() < Duration::from_secs(2), "the call took {:?}", started.elapsed());
        assert_eq!(server.seen().api_requests_at.len(), 2);
    });
}

#[test]
fn a_connection_opened_ahead_that_stalls_gives_up_at_the_calls_deadline() {
    within(60, || first_connection_stalls(false));
}

/// `first_connection_stalls` with the log on, in a child process whose stderr the test reads.
#[test]
fn stalled_log_child() {
    if std::env::var("ICDAPI_CHILD_STALLED_LOG").is_ok() {
        first_connection_stalls(true);
    }
}

#[test]
fn the_log_says_why_a_connection_opened_ahead_failed() {
    within(60, || {
        let env = [("ICDAPI_CHILD_STALLED_LOG", Some("1")), ("ICDAPI_LOG", None)];
        let (status, log) = run_child_logging("stalled_log_child", &env, Duration::from_secs(45));
        assert!(status.success(), "the calls of the child: {log}");
        // Nobody else hears of it: the call opened its own connection (and said why it failed).
        let failed = log.lines().find(|line| line.contains("opened ahead")).unwrap_or_else(|| panic!("{log}"));
        assert!(failed.starts_with("icdapi: the connection opened ahead to https://127.0.0.1:"), "{failed}");
        assert!(failed.ends_with(" failed (timeout: connect)"), "the step it ran out in: {failed}");
    });
}

/// The first call of a client waits for the connection opened ahead, which the API never
/// answers, until its deadline; the next call does not wait for it.
fn first_connection_stalls(log: bool) {
    let ca = TestCa::new(if log { "stalled-log" } else { "stalled" });
    let token_server = TlsServer::start(&ca, Behaviour::default());
    // The connection opened ahead of the first call gets no TLS handshake from the API.
    let api = TlsServer::start(&ca, Behaviour { stalled_connections: 1, ..Behaviour::default() });
    let client = client_of(&api, &token_server, Some(&ca.path("ca.pem")));
    client.set_option("timeout_ms", "1500").unwrap();
    client.set_option("log", if log { "on" } else { "off" }).unwrap();
    // The first call waits for that connection until its deadline, and fails.
    let started = Instant::now();
    let error = client.get("/icd/release/11/2026-01/mms/0").unwrap_err();
    assert_eq!(error.kind(), icdapi::ErrorKind::Timeout, "{}", error.message());
    assert!(started.elapsed() < Duration::from_millis(2500), "the first call took {:?}", started.elapsed());
    // The connection opened ahead gave up with the first call's deadline: the next call does
    // not wait for it, and succeeds on a connection of its own.
    let started = Instant::now();
    call(&client, 1);
    assert!(started.elapsed() < Duration::from_millis(1000), "the second call took {:?}", started.elapsed());
    assert_eq!(token_server.seen().token_requests, 1);
}

#[test]
fn a_long_url_is_sent_and_one_too_long_for_a_request_line_refused_with_a_reason() {
    within(30, || {
        let ca = TestCa::new("long");
        let server = TlsServer::start(&ca, Behaviour::default());
        let client = client_of(&server, &server, Some(&ca.path("ca.pem")));
        // A search of `bytes` bytes of URL in all.
        let search = |bytes: usize| {
            let path = "/icd/release/11/2026-01/mms/search?q=";
            format!("{path}{}", "a".repeat(bytes - server.url.len() - path.len()))
        };
        // A search for a long free text (a death certificate's, say): 12 KB of URL go out, and
        // so do 16,320 bytes, the most a request line may take.
        for bytes in [12_000, 16_320] {
            assert!(client.get(&search(bytes)).unwrap().body.contains("Cholera"), "{bytes}");
        }
        assert_eq!(server.seen().api_requests_at.len(), 2);
        // A request line must fit in the connection's 16 KiB output buffer, with room to spare.
        for bytes in [16_321, 16_400, 20_000] {
            let error = client.get(&search(bytes)).unwrap_err();
            assert_eq!(error.kind(), icdapi::ErrorKind::InvalidArgument, "{}", error.message());
            let why = format!("the URL is {bytes} bytes long, more than the 16320 that a request line may take");
            assert!(error.message().contains(&why), "{}", error.message());
        }
        assert_eq!(server.seen().api_requests_at.len(), 2, "nothing more was sent to the API");
        call(&client, 1);
    });
}

/// Runs in a child process: a call (its connection stays in the pool), then a fork; the forked
/// process calls with a new client and with the inherited one, then the first process calls
/// again on its connection. Retries are off, so that a garbled connection shows as a failure.
#[test]
fn fork_child() {
    let Ok(url) = std::env::var("ICDAPI_CHILD_FORK_URL") else { return };
    let ca_file = std::env::var("ICDAPI_CHILD_CA").unwrap();
    let new_client = || {
        let client = Client::cloud(Some("conn-client"), Some("conn-secret")).unwrap();
        for (name, value) in [
            ("api_base", url.as_str()),
            ("token_endpoint", &format!("{url}/connect/token")),
            ("timeout_ms", "10000"),
            ("cache_entries", "0"),
            ("max_retries", "0"),
            ("ca_file", &ca_file),
        ] {
            client.set_option(name, value).unwrap();
        }
        client
    };
    let client = new_client();
    call(&client, 0);
    // SAFETY: the forked process only makes calls and leaves with _exit.
    match unsafe { libc::fork() } {
        0 => {
            let worked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                call(&new_client(), 1);
                call(&client, 2);
            }));
            unsafe { libc::_exit(if worked.is_ok() { 0 } else { 1 }) };
        }
        pid => {
            assert!(pid > 0, "fork");
            let mut status = 0;
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the forked process's calls");
            call(&client, 3);
            call(&new_client(), 4);
        }
    }
}

#[test]
fn a_forked_process_never_uses_its_parents_connections() {
    within(60, || {
        let ca = TestCa::new("fork");
        let server = TlsServer::start(&ca, Behaviour::default());
        let ca_path = ca.path("ca.pem");
        let env = [("ICDAPI_CHILD_FORK_URL", Some(server.url.as_str())), ("ICDAPI_CHILD_CA", Some(&ca_path))];
        let status = run_child("fork_child", &env, Duration::from_secs(45));
        assert!(status.success(), "every call, before and after the fork, in both processes");
        let seen = server.seen();
        assert_eq!(seen.requests, 6, "a token and 5 calls: {seen:?}");
        assert_eq!(seen.connections, 2, "the parent's connection, and one of the forked process's own: {seen:?}");
    });
}

/// Runs in a child process whose system trust store is empty.
#[test]
fn empty_store_child() {
    let Ok(url) = std::env::var("ICDAPI_CHILD_EMPTY_STORE_URL") else { return };
    let client = Client::cloud(Some("conn-client"), Some("conn-secret")).unwrap();
    client.set_option("api_base", &url).unwrap();
    client.set_option("token_endpoint", &format!("{url}/connect/token")).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    let error = client.get("/icd/release/11/2026-01/mms/1").unwrap_err();
    assert_eq!(error.kind(), icdapi::ErrorKind::Network, "{}", error.message());
    let message = error.message();
    assert!(message.contains("certificate store") && message.contains("ca_file"), "says what to do: {message}");
}

#[test]
fn an_empty_system_store_is_an_error_that_says_what_to_do() {
    within(60, || {
        let ca = TestCa::new("empty");
        let server = TlsServer::start(&ca, Behaviour::default());
        let empty = ca.write("empty.pem", "");
        std::fs::create_dir_all(ca.path("empty-dir")).unwrap();
        let empty_dir = ca.path("empty-dir");
        let env = [
            ("ICDAPI_CHILD_EMPTY_STORE_URL", Some(server.url.as_str())),
            ("SSL_CERT_FILE", Some(&empty)),
            ("SSL_CERT_DIR", Some(&empty_dir)),
        ];
        let status = run_child("empty_store_child", &env, Duration::from_secs(50));
        assert!(status.success(), "the child's checks");
        assert_eq!(server.seen().requests, 0, "nothing was sent without a trust store");
    });
}

#[test]
fn tls_through_a_proxy_tunnel_is_shared_by_clients_too() {
    within(60, || {
        let ca = TestCa::new("tunnel");
        let server = TlsServer::start(&ca, Behaviour::default());
        let proxy = tls_server::TunnelProxy::start(server.port());
        // A name that is not loopback (loopback always goes direct); the proxy resolves it.
        let base = format!("https://icd.test:{}", server.port());
        for n in 0..5 {
            let client = Client::cloud(Some("conn-client"), Some("conn-secret")).unwrap();
            for (name, value) in [
                ("api_base", base.as_str()),
                ("token_endpoint", &format!("{base}/connect/token")),
                ("timeout_ms", "10000"),
                ("cache_entries", "0"),
                ("ca_file", &ca.path("ca.pem")),
                ("proxy", &proxy.url),
            ] {
                client.set_option(name, value).unwrap();
            }
            call(&client, n);
        }
        assert_eq!(proxy.tunnels(), vec![format!("CONNECT icd.test:{} HTTP/1.1", server.port())]);
        let seen = server.seen();
        assert_eq!((seen.connections, seen.handshakes, seen.requests), (1, 1, 6), "{seen:?}");
    });
}
