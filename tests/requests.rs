//! Requests: headers, options, URI resolution and following, percent-encoding, the cache.

mod support;

use icdapi::{Client, ErrorKind};
use serde_json::Value;
use support::{json_of, StandIn};

#[test]
fn every_request_carries_the_icd_headers() {
    let standin = StandIn::start();
    standin.client().search("cholera").unwrap();
    let headers = &standin.last_api_request()["headers"];
    assert!(headers["authorization"].as_str().unwrap().starts_with("Bearer "));
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["accept-language"], "en");
    assert_eq!(headers["api-version"], "v2");
    assert_eq!(headers["user-agent"], concat!("icdapi/", env!("CARGO_PKG_VERSION")));
    let client = standin.client();
    client.set_option("user_agent", "my-ehr/2.1 (+icdapi)").unwrap();
    client.set_option("cache_entries", "0").unwrap();
    client.search("cholera").unwrap();
    assert_eq!(standin.last_api_request()["headers"]["user-agent"], "my-ehr/2.1 (+icdapi)");
}

#[test]
fn search_finds_cholera_in_the_default_release() {
    let standin = StandIn::start();
    let reply = standin.client().search("cholera").unwrap();
    assert_eq!(reply.http_status, 200);
    let found = json_of(&reply.body);
    assert_eq!(found["destinationEntities"][0]["theCode"], "1A00");
    let request = standin.last_api_request();
    assert_eq!(request["path"], "/icd/release/11/2026-01/mms/search");
    assert_eq!(request["query"]["q"][0], "cholera");
}

#[test]
fn language_release_and_linearization_options_shape_the_request() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("language", "fr").unwrap();
    client.set_option("release", "2024-01").unwrap();
    let reply = client.search("choléra").unwrap();
    assert_eq!(json_of(&reply.body)["destinationEntities"][0]["theCode"], "1A00");
    let request = standin.last_api_request();
    assert_eq!(request["headers"]["accept-language"], "fr");
    assert_eq!(request["path"], "/icd/release/11/2024-01/mms/search");
    client.set_option("linearization", "icf").unwrap();
    client.set_option("api_version", "v2").unwrap();
    let _ = client.search("x");
    assert_eq!(standin.last_api_request()["path"], "/icd/release/11/2024-01/icf/search");
}

#[test]
fn titles_follow_the_language() {
    let standin = StandIn::start();
    let client = standin.client();
    let code = json_of(&client.codeinfo("1A00").unwrap().body);
    let stem = code["stemId"].as_str().unwrap().to_owned();
    assert!(stem.starts_with("http://id.who.int/"), "{stem}");
    let english = json_of(&client.get(&stem).unwrap().body);
    client.set_option("language", "fr").unwrap();
    let french = json_of(&client.get(&stem).unwrap().body);
    assert_eq!(english["title"]["@value"], "Cholera");
    assert_eq!(french["title"]["@value"], "Choléra");
}

#[test]
fn who_uris_are_followed_through_the_configured_api() {
    let standin = StandIn::start();
    let client = standin.client();
    let malaria = json_of(&client.get("/icd/release/11/2026-01/mms/1439886552").unwrap().body);
    let children: Vec<String> =
        malaria["child"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert!(!children.is_empty());
    for child in &children {
        assert!(child.starts_with("http://id.who.int/icd/release/11/"));
        let entity = json_of(&client.get(child).unwrap().body);
        assert_eq!(entity["@id"].as_str().unwrap(), child);
        assert_eq!(entity["parent"][0], malaria["@id"]);
    }
    // https://id.who.int and an absolute URI under api_base are followed too.
    let https = children[0].replacen("http://", "https://", 1);
    client.get(&https).unwrap();
    client.get(&format!("{}/icd/release/11/2026-01/mms/1439886552", standin.url)).unwrap();
}

#[test]
fn foreign_hosts_are_refused_before_any_request() {
    let standin = StandIn::start();
    let client = standin.client();
    for target in [
        "http://example.org/icd/entity",
        "https://id.who.int.evil.example/icd/entity",
        "http://127.0.0.2:1/icd/entity",
        "ftp://id.who.int/icd/entity",
        "icd/entity",
        "",
    ] {
        let error = client.get(target).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{target}");
    }
    assert_eq!(standin.requests().len(), 0, "nothing left the client, not even a token request");
}

#[test]
fn percent_encoding_round_trips_through_the_helpers() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    for text in ["a&b=c", "x/y", "#hash", "50%", "1+1", "two words", "Choléra 北京", "q?x"] {
        let _ = client.search(text).unwrap();
        assert_eq!(standin.last_api_request()["query"]["q"][0], text, "search {text}");
        let _ = client.autocode(text).unwrap();
        assert_eq!(standin.last_api_request()["query"]["searchText"][0], text, "autocode {text}");
        let _ = client.codeinfo(text);
        let request = standin.api_requests_but_release_lists().pop().unwrap();
        let decoded_path = request["path"].as_str().unwrap();
        assert_eq!(decoded_path.rsplit_once("/codeinfo/").unwrap().1, text, "codeinfo {text}");
    }
    let uri = "http://id.who.int/icd/entity/257068234";
    client.lookup(uri).unwrap();
    assert_eq!(standin.last_api_request()["query"]["foundationUri"][0], uri);
}

#[test]
fn postcoordinated_codes_keep_ampersand_and_slash() {
    let standin = StandIn::start();
    let client = standin.client();
    let reply = client.codeinfo("1A00&XN6Y3").unwrap();
    assert_eq!(json_of(&reply.body)["code"], "1A00&XN6Y3");
    assert!(standin.last_api_request()["target"].as_str().unwrap().ends_with("/codeinfo/1A00%26XN6Y3"));
    let reply = client.codeinfo("1A00/1F4Z").unwrap();
    assert_eq!(json_of(&reply.body)["code"], "1A00/1F4Z");
}

#[test]
fn spaces_and_non_ascii_in_paths_are_encoded_not_rejected() {
    let standin = StandIn::start();
    let client = standin.client();
    let _ = client.get("/icd/release/11/2026-01/mms/search?q=yellow fever&flatResults=true").unwrap();
    let request = standin.last_api_request();
    assert_eq!(request["query"]["q"][0], "yellow fever");
    assert_eq!(request["query"]["flatResults"][0], "true");
    assert!(!request["target"].as_str().unwrap().contains(' '));
    let _ = client.get("/icd/release/11/2026-01/mms/search?q=choléra").unwrap();
    assert_eq!(standin.last_api_request()["query"]["q"][0], "choléra");
    // A caller's own %XX escapes are kept, not encoded twice.
    let _ = client.get("/icd/release/11/2026-01/mms/search?q=yellow%20fever").unwrap();
    assert_eq!(standin.last_api_request()["query"]["q"][0], "yellow fever");
}

#[test]
fn answers_are_cached_for_their_max_age() {
    let standin = StandIn::start();
    let client = standin.client();
    let first = client.codeinfo("1A00").unwrap();
    let second = client.codeinfo("1A00").unwrap();
    assert_eq!(first.body, second.body);
    assert_eq!(standin.api_requests().len(), 1, "the second answer came from the cache");
    // The cache is keyed by language too.
    client.set_option("language", "fr").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 2);
}

#[test]
fn answers_without_max_age_are_not_cached() {
    let standin = StandIn::start();
    standin.configure(serde_json::json!({"cache_control": null}));
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 2);
}

#[test]
fn answers_that_forbid_keeping_are_not_cached_whatever_their_max_age() {
    let standin = StandIn::start();
    let client = standin.client();
    for (i, cache_control) in
        ["public, max-age=3600, no-store", "no-cache, max-age=3600", "max-age=3600, private"].into_iter().enumerate()
    {
        standin.configure(serde_json::json!({"cache_control": cache_control}));
        client.codeinfo("1A00").unwrap();
        client.codeinfo("1A00").unwrap();
        assert_eq!(standin.api_requests().len(), 2 * (i + 1), "{cache_control}: both asked");
    }
}

#[test]
fn short_max_age_expires() {
    let standin = StandIn::start();
    standin.configure(serde_json::json!({"cache_control": "public,max-age=1"}));
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 2);
}

#[test]
fn errors_and_posts_are_not_cached_and_cache_can_be_disabled() {
    let standin = StandIn::start();
    let client = standin.client();
    let _ = client.codeinfo("ZZZZ");
    let _ = client.codeinfo("ZZZZ");
    assert_eq!(standin.api_requests_but_release_lists().len(), 2);
    client.post("/icd/release/11/2026-01/mms/search?q=cholera", "{}").unwrap();
    client.post("/icd/release/11/2026-01/mms/search?q=cholera", "{}").unwrap();
    assert_eq!(standin.api_requests_but_release_lists().len(), 4);
    client.set_option("cache_entries", "0").unwrap();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests_but_release_lists().len(), 6);
}

#[test]
fn post_sends_json() {
    let standin = StandIn::start();
    let client = standin.client();
    // Death-certificate checking (mortality coding) takes a JSON body.
    let certificate = r#"{"causes":[{"code":"1A00"}]}"#;
    let reply = client.post("/icd/release/11/2026-01/codedit", certificate).unwrap();
    assert_eq!(json_of(&reply.body)["report"], "Codes found: 1A00");
    let request = standin.last_api_request();
    assert_eq!(request["method"], "POST");
    assert_eq!(request["headers"]["content-type"], "application/json");
    assert_eq!(request["body"], certificate);
    assert!(request["headers"]["authorization"].as_str().unwrap().starts_with("Bearer "));
    // A search by POST takes its parameters in the query, as the API's OpenAPI file says.
    let found = client.post("/icd/release/11/2026-01/mms/search?q=cholera", "{}").unwrap();
    assert_eq!(json_of(&found.body)["destinationEntities"][0]["theCode"], "1A00");
    assert_eq!(client.post("/icd/x", "{not json").unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn autocode_and_lookup() {
    let standin = StandIn::start();
    let client = standin.client();
    let coded = json_of(&client.autocode("cholera").unwrap().body);
    assert_eq!(coded["theCode"], "1A00");
    let foundation = coded["foundationURI"].as_str().unwrap().to_owned();
    let entity = json_of(&client.lookup(&foundation).unwrap().body);
    assert_eq!(entity["code"], "1A00");
    assert_eq!(entity["source"], Value::String(foundation));
}

#[test]
fn icd10_and_foundation_paths() {
    let standin = StandIn::start();
    let client = standin.client();
    let a00 = json_of(&client.get("/icd/release/10/2019/A00").unwrap().body);
    assert!(a00["title"]["@value"].as_str().unwrap().contains("Cholera"));
    client.get("/icd/entity").unwrap();
}

#[test]
fn local_deployment_sends_no_token() {
    let standin = StandIn::start_with(&["--local"]);
    let client = standin.local_client();
    let found = json_of(&client.search("cholera").unwrap().body);
    assert_eq!(found["destinationEntities"][0]["theCode"], "1A00");
    assert!(standin.last_api_request()["headers"].get("authorization").is_none());
    assert_eq!(standin.stat("token_requests"), 0);
    // Local clients may use plain http anywhere and have no token endpoint.
    assert_eq!(
        client.set_option("token_endpoint", "https://x.example/t").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(Client::local(Some("http://icd-api.hospital.internal:8080")).is_ok());
}

#[test]
fn redirects_stay_on_the_api() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(serde_json::json!({"match": "/mms/1439886552", "kind": "redirect",
        "location": format!("{}/icd/release/11/2026-01/mms/257068234", standin.url)}));
    let entity = json_of(&client.get("/icd/release/11/2026-01/mms/1439886552").unwrap().body);
    assert_eq!(entity["code"], "1A00");
    standin.fault(serde_json::json!({"match": "/mms/1439886552", "kind": "redirect",
        "location": "http://127.0.0.2:9/steal"}));
    let error = client.get("/icd/release/11/2026-01/mms/1439886552?x=1").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 302));
    assert!(error.message().contains("not followed"), "{}", error.message());
}

#[test]
fn a_redirect_to_a_network_path_reference_goes_to_the_host_it_names() {
    let standin = StandIn::start();
    let client = standin.client();
    let authority = standin.url.strip_prefix("http:").unwrap();
    // `//host/path` on the API's own host and port: followed.
    standin.fault(serde_json::json!({"match": "/mms/1439886552", "kind": "redirect",
        "location": format!("{authority}/icd/release/11/2026-01/mms/257068234")}));
    let entity = json_of(&client.get("/icd/release/11/2026-01/mms/1439886552").unwrap().body);
    assert_eq!(entity["code"], "1A00");
    // On another host: refused, not read as a path on the API.
    standin.fault(serde_json::json!({"match": "/mms/1439886552", "kind": "redirect",
        "location": "//127.0.0.2:9/icd/release/11/2026-01/mms/257068234"}));
    let error = client.get("/icd/release/11/2026-01/mms/1439886552?x=1").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 302));
    assert!(error.message().contains("to //127.0.0.2:9/icd/"), "{}", error.message());
    assert_eq!(standin.api_requests().len(), 3, "nothing was asked of the API for the refused redirect");
}

#[test]
fn host_names_are_resolved_and_reused() {
    let standin = StandIn::start();
    let client = standin.client();
    let by_name = standin.url.replace("127.0.0.1", "localhost");
    client.set_option("api_base", &by_name).unwrap();
    client.set_option("token_endpoint", &format!("{by_name}/connect/token")).unwrap();
    client.set_option("cache_entries", "0").unwrap();
    for _ in 0..3 {
        assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
    }
    assert_eq!(standin.api_requests().len(), 3);
}

#[test]
fn a_redirect_loop_is_given_up_after_five_redirects() {
    let standin = StandIn::start();
    let client = standin.client();
    // A deadline of its own: a client that followed the loop for ever would end in a timeout.
    client.set_option("timeout_ms", "5000").unwrap();
    let path = "/icd/release/11/2026-01/mms/1439886552";
    standin.fault(serde_json::json!({"match": "/mms/1439886552", "kind": "redirect", "count": 0,
        "location": format!("{}{path}", standin.url)}));
    let error = client.get(path).unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 302), "{}", error.message());
    let asked = standin.api_requests().iter().filter(|r| r["path"] == path).count();
    assert_eq!(asked, 6, "the request and 5 redirects followed, then given up");
}

#[test]
fn a_redirected_post_is_not_followed() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(serde_json::json!({"match": "/codedit", "kind": "redirect", "status": 307,
        "location": format!("{}/icd/release/11/2026-01/codedit?again=1", standin.url)}));
    let error = client.post("/icd/release/11/2026-01/codedit", r#"{"certificate": {}}"#).unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 307), "{}", error.message());
    let posts: Vec<Value> = standin.api_requests().into_iter().filter(|r| r["method"] == "POST").collect();
    assert_eq!(posts.len(), 1, "the POST was sent once and its redirect not followed: {posts:?}");
}

#[test]
fn a_401_from_a_local_deployment_is_an_http_error_not_a_token_failure() {
    let standin = StandIn::start_with(&["--local"]);
    let client = standin.local_client();
    standin.fault(serde_json::json!({"match": "/codeinfo/1A00", "kind": "status", "status": 401}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 401), "{}", error.message());
    assert!(!error.message().contains("freshly issued token"), "a local client has no token: {}", error.message());
}

#[test]
fn a_client_debug_shows_its_settings_but_never_the_secret() {
    let standin = StandIn::start();
    let client = standin.client_with_secret("a-very-private-secret");
    let shown = format!("{client:?}");
    assert!(shown.contains("Client") && shown.contains(&standin.url), "{shown}");
    assert!(shown.contains(support::CLIENT_ID), "the client id may show: {shown}");
    assert!(!shown.contains("a-very-private-secret"), "{shown}");
}
