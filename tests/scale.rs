//! Scale: batches, tokens shared by clients of one process and across processes
//! (`token_cache_file`), and the persistent response cache (`cache_dir`).

mod support;

use std::ffi::{c_char, CStr, CString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use icdapi::ffi::*;
use icdapi::{Client, ErrorKind};
use serde_json::json;
use support::{json_of, wait_within, StandIn, CLIENT_ID, CLIENT_SECRET};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icdapi-scale-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn entity_paths(count: usize) -> Vec<String> {
    let ids = ["257068234", "1439886552", "579583286", "1203794080", "862789727", "135352227"];
    (0..count).map(|i| format!("/icd/release/11/2026-01/mms/{}?n={i}", ids[i % ids.len()])).collect()
}

// --- batches ------------------------------------------------------------------------------

#[test]
fn a_batch_returns_every_answer_in_order_with_one_token() {
    let standin = StandIn::start();
    let client = standin.client();
    let paths = entity_paths(40);
    let targets: Vec<&str> = paths.iter().map(String::as_str).collect();
    let results = client.get_many(&targets);
    assert_eq!(results.len(), 40);
    for (path, result) in paths.iter().zip(&results) {
        let entity = json_of(&result.as_ref().unwrap().body);
        let id = path.split('/').next_back().unwrap().split('?').next().unwrap();
        assert!(entity["@id"].as_str().unwrap().ends_with(id), "{path}");
    }
    assert_eq!(standin.tokens_issued(), 1);
    assert_eq!(standin.api_requests().len(), 40);
}

#[test]
fn the_batch_keeps_at_most_concurrency_requests_in_flight() {
    let standin = StandIn::start();
    standin.configure(json!({"delay_ms": 200}));
    let client = standin.client();
    client.search("warm the token up").unwrap();
    client.set_option("concurrency", "4").unwrap();
    let paths = entity_paths(8);
    let targets: Vec<&str> = paths.iter().map(String::as_str).collect();
    let started = Instant::now();
    assert!(client.get_many(&targets).iter().all(Result::is_ok));
    // Eight answers of 200 ms, four at a time: at least two rounds.
    assert!(started.elapsed() >= Duration::from_millis(390), "{:?}", started.elapsed());
}

#[test]
fn one_failing_item_does_not_fail_the_others_through_the_c_api() {
    let standin = StandIn::start();
    let items = [
        Some("/icd/release/11/2026-01/mms/257068234"),
        Some("/icd/release/11/2026-01/mms/codeinfo/ZZ99"),
        None,
        Some("https://example.org/icd/entity"),
        Some("http://id.who.int/icd/release/11/2026-01/mms/1439886552"),
    ];
    let owned: Vec<Option<CString>> = items.iter().map(|i| i.map(|s| CString::new(s).unwrap())).collect();
    let pointers: Vec<*const c_char> =
        owned.iter().map(|o| o.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())).collect();
    let mut bodies = vec![std::ptr::null_mut::<c_char>(); items.len()];
    let mut statuses = vec![IcdStatus::ICD_ERR_INTERNAL; items.len()];
    unsafe {
        let client = icd_client_new(c"standin-client".as_ptr(), c"standin-secret".as_ptr());
        icd_client_set_option(client, c"api_base".as_ptr(), CString::new(standin.url.clone()).unwrap().as_ptr());
        let endpoint = CString::new(standin.token_endpoint()).unwrap();
        icd_client_set_option(client, c"token_endpoint".as_ptr(), endpoint.as_ptr());
        let succeeded =
            icd_get_many(client, pointers.as_ptr(), items.len(), bodies.as_mut_ptr(), statuses.as_mut_ptr());
        assert_eq!(succeeded, 2);
        assert_eq!(
            statuses,
            [
                IcdStatus::ICD_OK,
                IcdStatus::ICD_ERR_HTTP,
                IcdStatus::ICD_ERR_INVALID_ARGUMENT,
                IcdStatus::ICD_ERR_INVALID_ARGUMENT,
                IcdStatus::ICD_OK
            ]
        );
        assert!(!bodies[0].is_null() && !bodies[4].is_null());
        assert!(bodies[1].is_null() && bodies[2].is_null() && bodies[3].is_null());
        assert!(CStr::from_ptr(bodies[4]).to_str().unwrap().contains("Malaria"));
        // The last error tells of the first failure.
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_HTTP);
        assert_eq!(icd_last_http_status(), 404);
        assert!(CStr::from_ptr(icd_last_error_message()).to_str().unwrap().starts_with("item 1: "));
        for body in bodies {
            icd_free_string(body);
        }
        // The detailed form tells each item's HTTP status too.
        let mut http = vec![-1; items.len()];
        let mut bodies = vec![std::ptr::null_mut::<c_char>(); items.len()];
        let succeeded = icd_get_many_detailed(
            client,
            pointers.as_ptr(),
            items.len(),
            bodies.as_mut_ptr(),
            std::ptr::null_mut(),
            http.as_mut_ptr(),
        );
        assert_eq!(succeeded, 2);
        assert_eq!(http, [200, 404, 0, 0, 200]);
        bodies.iter().for_each(|b| icd_free_string(*b));
        // All good: the last error is cleared; statuses may be NULL; NULL arrays are refused.
        let good = [pointers[0], pointers[4]];
        let mut two = [std::ptr::null_mut(); 2];
        assert_eq!(icd_get_many(client, good.as_ptr(), 2, two.as_mut_ptr(), std::ptr::null_mut()), 2);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        two.iter().for_each(|b| icd_free_string(*b));
        assert_eq!(icd_get_many(client, std::ptr::null(), 2, two.as_mut_ptr(), std::ptr::null_mut()), 0);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(icd_get_many(client, good.as_ptr(), 2, std::ptr::null_mut(), std::ptr::null_mut()), 0);
        assert_eq!(icd_get_many(client, good.as_ptr(), 0, std::ptr::null_mut(), std::ptr::null_mut()), 0);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        icd_client_free(client);
    }
}

// --- tokens shared by clients of one process --------------------------------------------------

#[test]
fn a_client_per_request_fetches_one_token() {
    let standin = StandIn::start();
    for _ in 0..50 {
        let client = standin.client();
        client.set_option("cache_entries", "0").unwrap();
        client.codeinfo("1A00").unwrap();
    } // each client freed here, as a PHP request would
    assert_eq!(standin.tokens_issued(), 1);
    assert_eq!(standin.api_requests().len(), 50);
    // Other credentials never get that token.
    let other = Client::cloud(Some(CLIENT_ID), Some("another-secret")).unwrap();
    other.set_option("api_base", &standin.url).unwrap();
    other.set_option("token_endpoint", &standin.token_endpoint()).unwrap();
    assert_eq!(other.codeinfo("1A00").unwrap_err().kind(), ErrorKind::Auth);
}

#[test]
fn a_revoked_shared_token_is_replaced_once_for_all_clients() {
    let standin = StandIn::start();
    let first = standin.client();
    let second = standin.client();
    first.set_option("cache_entries", "0").unwrap();
    second.set_option("cache_entries", "0").unwrap();
    first.codeinfo("1A00").unwrap();
    standin.revoke_tokens();
    first.codeinfo("1A00").unwrap();
    second.codeinfo("1A00").unwrap();
    assert_eq!(standin.tokens_issued(), 2);
}

// --- tokens shared across processes ---------------------------------------------------------

/// Runs in a child process (started by the test below): one call with the token file.
#[test]
fn token_file_child() {
    let (Ok(url), Ok(file)) = (std::env::var("ICDAPI_CHILD_URL"), std::env::var("ICDAPI_CHILD_TOKEN_FILE")) else {
        return; // not a child: nothing to do
    };
    let client = Client::cloud(Some(CLIENT_ID), Some(CLIENT_SECRET)).unwrap();
    client.set_option("api_base", &url).unwrap();
    client.set_option("token_endpoint", &format!("{url}/connect/token")).unwrap();
    client.set_option("token_cache_file", &file).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    client.codeinfo("1A00").unwrap();
}

fn run_children(standin: &StandIn, file: &Path, count: usize) {
    let children: Vec<_> = (0..count)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "token_file_child", "--test-threads=1", "--quiet"])
                .env("ICDAPI_CHILD_URL", &standin.url)
                .env("ICDAPI_CHILD_TOKEN_FILE", file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(wait_within(&mut child, Duration::from_secs(30)).success());
    }
}

#[test]
fn processes_share_one_token_through_the_token_file() {
    let standin = StandIn::start();
    let dir = temp_path("token-file");
    let file = dir.join("icd-token.json");
    run_children(&standin, &file, 6);
    run_children(&standin, &file, 2);
    assert_eq!(standin.tokens_issued(), 1, "eight processes, one token");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(!stored.contains(CLIENT_SECRET), "the secret is never written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_revoked_token_in_the_token_file_is_replaced_not_read_again() {
    let standin = StandIn::start();
    let dir = temp_path("revoked");
    let file = dir.join("token.json");
    let stored_token = || json_of(&std::fs::read_to_string(&file).unwrap())["access_token"].clone();
    run_children(&standin, &file, 1);
    let revoked = stored_token();
    standin.revoke_tokens();
    // The next process reads the token from the file, gets 401, and must fetch a new one rather
    // than read the same token back from the file.
    run_children(&standin, &file, 1);
    assert_eq!(standin.stat("api_401"), 1);
    assert_eq!(standin.tokens_issued(), 2);
    assert_ne!(stored_token(), revoked, "the file holds the new token");
    run_children(&standin, &file, 1);
    assert_eq!(standin.tokens_issued(), 2, "which the next process uses");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_token_file_never_hands_a_token_to_another_endpoint_and_api() {
    let (first, second) = (StandIn::start(), StandIn::start());
    let dir = temp_path("other-endpoint");
    let file = dir.join("token.json");
    run_children(&first, &file, 1);
    // The same credentials and file, another token endpoint and API: the first one's token is
    // not theirs, so it is neither sent to the second API nor kept in the file.
    let client = second.client();
    client.set_option("token_cache_file", file.to_str().unwrap()).unwrap();
    client.set_option("timeout_ms", "10000").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(second.stat("api_401"), 0, "the first endpoint's token was sent to the second API");
    assert_eq!(second.tokens_issued(), 1);
    let sent = second.last_api_request()["headers"]["authorization"].as_str().unwrap().to_owned();
    let stored = json_of(&std::fs::read_to_string(&file).unwrap())["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sent, format!("Bearer {stored}"), "the file now holds the second endpoint's token");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_token_file_is_ignored_and_rewritten() {
    let standin = StandIn::start();
    let dir = temp_path("damaged");
    let file = dir.join("token.json");
    std::fs::write(&file, "{not json").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    run_children(&standin, &file, 1);
    assert_eq!(standin.tokens_issued(), 1);
    assert!(serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&file).unwrap()).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Found by the token_file fuzz target: a token that cannot stand in a header (here with a
/// DEL byte) was handed out, and every call failed with ICD_ERR_PARSE until it expired.
#[test]
fn a_token_file_with_a_malformed_token_is_ignored_and_rewritten() {
    let standin = StandIn::start();
    let dir = temp_path("malformed-token");
    let file = dir.join("token.json");
    run_children(&standin, &file, 1);
    let mut stored: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    stored["access_token"] = json!("e\u{7f}JhbGciOi.x-y_z");
    std::fs::write(&file, stored.to_string()).unwrap();
    run_children(&standin, &file, 1);
    assert_eq!(standin.tokens_issued(), 2, "the malformed token was replaced by a new one");
    let rewritten: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(rewritten["access_token"].as_str().unwrap().bytes().all(|b| b.is_ascii_graphic()), "{rewritten}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_planted_lock_symlink_is_not_followed_and_the_call_still_works() {
    let standin = StandIn::start();
    let dir = temp_path("planted-lock");
    let file = dir.join("token.json");
    let victim = dir.join("victim");
    std::os::unix::fs::symlink(&victim, dir.join("token.json.lock")).unwrap();
    run_children(&standin, &file, 1);
    assert_eq!(standin.tokens_issued(), 1, "the call fetched its token all the same");
    assert!(!victim.exists(), "the symlink was not followed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_token_file_that_is_not_ours_is_refused() {
    let dir = temp_path("foreign");
    let client = Client::cloud(Some("id"), Some("secret")).unwrap();
    let readable = dir.join("readable.json");
    std::fs::write(&readable, "{}").unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = client.set_option("token_cache_file", readable.to_str().unwrap()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.message().contains("accessible to other users"), "{}", error.message());
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&readable, &link).unwrap();
    let error = client.set_option("token_cache_file", link.to_str().unwrap()).unwrap_err();
    assert!(error.message().contains("symlink"), "{}", error.message());
    if unsafe { libc::geteuid() } == 0 {
        let foreign = dir.join("foreign.json");
        std::fs::write(&foreign, "{}").unwrap();
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let error = client.set_option("token_cache_file", foreign.to_str().unwrap()).unwrap_err();
        assert!(error.message().contains("owned by user 65534"), "{}", error.message());
    }
    let missing_dir = dir.join("no/such/dir/token.json");
    assert!(client.set_option("token_cache_file", missing_dir.to_str().unwrap()).is_err());
    let local = Client::local(Some("http://127.0.0.1:9")).unwrap();
    assert!(local.set_option("token_cache_file", dir.join("t").to_str().unwrap()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- the persistent response cache ----------------------------------------------------------------

#[test]
fn answers_come_from_disk_with_the_server_stopped() {
    let dir = temp_path("disk");
    let paths = entity_paths(6);
    let url = {
        let standin = StandIn::start();
        let client = standin.client();
        client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
        for path in &paths {
            client.get(path).unwrap();
        }
        client.codeinfo("1A00").unwrap();
        client.get("/icd/entity/257068234").unwrap(); // the Foundation moves: not kept on disk
        standin.url.clone()
    }; // the stand-in stops here
    let client = Client::cloud(Some(CLIENT_ID), Some(CLIENT_SECRET)).unwrap();
    client.set_option("api_base", &url).unwrap();
    client.set_option("token_endpoint", &format!("{url}/connect/token")).unwrap();
    client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
    for path in &paths {
        assert!(client.get(path).unwrap().body.contains("@id"), "{path} from disk");
    }
    assert!(client.codeinfo("1A00").unwrap().body.contains("stemId"));
    assert_eq!(client.get("/icd/entity/257068234").unwrap_err().kind(), ErrorKind::Network);
    // Keyed by language too: French was never fetched.
    client.set_option("language", "fr").unwrap();
    assert_eq!(client.codeinfo("1A00").unwrap_err().kind(), ErrorKind::Network);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_disk_entry_is_refetched() {
    let dir = temp_path("disk-damaged");
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 1, "the second answer came from disk");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let damaged = std::fs::read_to_string(&path).unwrap().replace("1A00", "1A01");
        std::fs::write(&path, damaged).unwrap();
    }
    let reply = client.codeinfo("1A00").unwrap();
    assert_eq!(json_of(&reply.body)["code"], "1A00");
    assert_eq!(standin.api_requests().len(), 2, "refetched");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_disk_cache_stays_within_its_bound() {
    let dir = temp_path("disk-bound");
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
    client.set_option("cache_dir_max_bytes", "65536").unwrap();
    for path in entity_paths(60) {
        client.get(&path).unwrap();
    }
    let total: u64 = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    assert!(total <= 65536, "{total} bytes on disk");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cache_dir_that_cannot_be_written_is_refused_when_set() {
    let client = Client::local(Some("http://127.0.0.1:9")).unwrap();
    // A directory no one may create files in (root included): the kernel's own.
    for dir in ["/proc/self", "/proc/self/fd"] {
        let error = client.set_option("cache_dir", dir).unwrap_err();
        assert_eq!(error.kind(), icdapi::ErrorKind::InvalidArgument, "{dir}");
        assert!(
            error.message().starts_with(&format!("cache_dir {dir} is not a directory this process can write to (")),
            "{}",
            error.message()
        );
        assert_eq!(client.option("cache_dir").unwrap(), "", "a refused cache_dir leaves the option as it was");
    }
    // A writable one is taken, and the probe leaves nothing behind.
    let dir = temp_path("writable");
    client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "the directory is as it was");
    std::fs::remove_dir_all(&dir).unwrap();
}
