//! The domain layer (0.2): query parameters, answers that report their own failure, code →
//! entity, ICD-10, options read back, and the unserved-release message — against the stand-in.

mod support;

use icdapi::{Client, ErrorKind};
use serde_json::json;
use support::{json_of, StandIn};

// ---- Query parameters ---------------------------------------------------------------------

#[test]
fn parameters_follow_the_helpers_own_parameter_encoded() {
    let standin = StandIn::start();
    let client = standin.client();
    client
        .search_with(
            "cholera",
            &[("highlightingEnabled", "false"), ("flatResults", "true"), ("chapterFilter", "01;02")],
        )
        .unwrap();
    let request = standin.last_api_request();
    assert_eq!(
        request["target"],
        "/icd/release/11/2026-01/mms/search?q=cholera&highlightingEnabled=false&flatResults=true&chapterFilter=01%3B02"
    );
    // Every byte outside RFC 3986's unreserved set, upper-case hex; an empty value as "name=".
    client.autocode_with("cholera", &[("match Threshold", "0.5&x=é/+~"), ("subtreesFilter", "")]).unwrap();
    assert_eq!(
        standin.last_api_request()["target"],
        "/icd/release/11/2026-01/mms/autocode?searchText=cholera&match%20Threshold=0.5%26x%3D%C3%A9%2F%2B~&subtreesFilter="
    );
    client.codeinfo_with("1A00", &[("flexiblemode", "true")]).unwrap();
    assert_eq!(standin.last_api_request()["target"], "/icd/release/11/2026-01/mms/codeinfo/1A00?flexiblemode=true");
}

#[test]
fn highlighting_disabled_gives_plain_titles() {
    let standin = StandIn::start();
    let client = standin.client();
    let marked = json_of(&client.search("cholera").unwrap().body);
    assert!(marked["destinationEntities"][0]["title"].as_str().unwrap().contains("<em class='found'>"));
    let plain = json_of(&client.search_with("cholera", &[("highlightingEnabled", "false")]).unwrap().body);
    assert_eq!(plain["destinationEntities"][0]["title"], "Cholera");
}

#[test]
fn chapter_filter_narrows_the_search() {
    let standin = StandIn::start();
    let client = standin.client();
    let hits = |chapters: &str| {
        let found = json_of(&client.search_with("malaria", &[("chapterFilter", chapters)]).unwrap().body);
        found["destinationEntities"].as_array().unwrap().iter().map(|e| e["chapter"].clone()).collect::<Vec<_>>()
    };
    let in_01_or_15 = hits("01;15");
    assert!(in_01_or_15.len() > 3 && in_01_or_15.iter().all(|c| c == "01"), "{in_01_or_15:?}");
    assert_eq!(hits("15"), Vec::<serde_json::Value>::new(), "no malaria in chapter 15");
    assert_eq!(standin.last_api_request()["query"]["chapterFilter"][0], "15");
}

#[test]
fn get_with_adds_to_a_query_the_target_already_has() {
    let standin = StandIn::start();
    let client = standin.client();
    client.get_with("/icd/release/11/2026-01/mms/search?q=cholera", &[("flatResults", "true")]).unwrap();
    assert_eq!(standin.last_api_request()["target"], "/icd/release/11/2026-01/mms/search?q=cholera&flatResults=true");
    client.get_with("http://id.who.int/icd/release/11/2026-01/mms/257068234", &[("include", "ancestor")]).unwrap();
    assert_eq!(standin.last_api_request()["target"], "/icd/release/11/2026-01/mms/257068234?include=ancestor");
    // Other parameters are another cache entry; the same ones are a hit.
    let before = standin.api_requests().len();
    client.get_with("/icd/release/11/2026-01/mms/257068234", &[("include", "ancestor")]).unwrap();
    assert_eq!(standin.api_requests().len(), before);
    client.get_with("/icd/release/11/2026-01/mms/257068234", &[("include", "descendant")]).unwrap();
    assert_eq!(standin.api_requests().len(), before + 1);
}

#[test]
fn an_empty_name_is_refused_before_anything_is_sent() {
    let standin = StandIn::start();
    let client = standin.client();
    let calls: [&dyn Fn() -> icdapi::Result<icdapi::Reply>; 4] = [
        &|| client.get_with("/icd/entity", &[("a", "1"), ("", "x")]),
        &|| client.search_with("cholera", &[("", "")]),
        &|| client.autocode_with("cholera", &[("", "x")]),
        &|| client.codeinfo_with("1A00", &[("", "x")]),
    ];
    for call in calls {
        let error = call().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains("empty name"), "{}", error.message());
    }
    assert_eq!(standin.requests().len(), 0, "nothing was sent, not even a token request");
}

// ---- "error": true ------------------------------------------------------------------------

#[test]
fn a_search_the_api_could_not_run_is_an_api_error() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(
        json!({"match": "/search", "kind": "json_error_200", "message": "Search failed: the index is rebuilding."}),
    );
    let error = client.search("cholera").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.http_status(), 200);
    assert!(error.message().contains("\"Search failed: the index is rebuilding.\""), "{}", error.message());
    // The stand-in's own failure for a query of wildcards only, through search_with too.
    let error = client.search_with("%", &[("flatResults", "true")]).unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Api, 200));
    assert!(error.message().contains("The search text (q) is empty."), "{}", error.message());
    standin.fault(json!({"match": "/autocode", "kind": "json_error_200", "message": "no"}));
    let error = client.autocode("cholera").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Api, 200));
    standin.fault(json!({"match": "/autocode", "kind": "json_error_200", "message": "no"}));
    assert_eq!(client.autocode_with("cholera", &[("matchThreshold", "0.5")]).unwrap_err().kind(), ErrorKind::Api);
    // Healthy again: the failures were not cached.
    assert!(json_of(&client.search("cholera").unwrap().body)["error"] == false);
}

#[test]
fn raw_gets_return_such_a_body_as_it_came_and_it_is_never_cached() {
    let standin = StandIn::start();
    let client = standin.client();
    let dir = std::env::temp_dir().join(format!("icdapi-domain-api-error-{}", std::process::id()));
    client.set_option("cache_dir", dir.to_str().unwrap()).unwrap();
    let path = "/icd/release/11/2026-01/mms/search?q=cholera";
    standin.fault(json!({"match": "/search", "kind": "json_error_200", "message": "boom", "count": 2}));
    for _ in 0..2 {
        let body = json_of(&client.get(path).unwrap().body);
        assert_eq!((body["error"].clone(), body["errorMessage"].clone()), (json!(true), json!("boom")));
    }
    assert_eq!(standin.api_requests().len(), 2, "the second get was not answered from a cache");
    let entries = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(entries, 0, "nothing on disk");
    // Through get_many as well, raw.
    standin.fault(json!({"match": "/search", "kind": "json_error_200", "message": "boom"}));
    let replies = client.get_many(&[path]);
    assert_eq!(json_of(&replies[0].as_ref().unwrap().body)["error"], true);
    // A good answer is cached again, on disk too.
    client.get(path).unwrap();
    client.get(path).unwrap();
    assert_eq!(standin.api_requests().len(), 4);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Code → entity, ICD-10 --------------------------------------------------------------------

#[test]
fn entity_by_code_follows_the_stem_id() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("language", "fr").unwrap();
    let entity = json_of(&client.entity_by_code("1A00").unwrap().body);
    assert_eq!(entity["title"]["@value"], "Choléra");
    assert_eq!(entity["code"], "1A00");
    let paths: Vec<String> = standin.api_requests().iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paths, ["/icd/release/11/2026-01/mms/codeinfo/1A00", "/icd/release/11/2026-01/mms/257068234"]);
    // Postcoordinated: the entity of its stem.
    let entity = json_of(&client.entity_by_code("1A00&XN6Y3").unwrap().body);
    assert_eq!(entity["code"], "1A00");
    assert!(standin.api_requests()[2]["target"].as_str().unwrap().ends_with("/codeinfo/1A00%26XN6Y3"));
}

#[test]
fn entity_by_code_of_an_unknown_code_or_without_stem_id() {
    let standin = StandIn::start();
    let client = standin.client();
    let error = client.entity_by_code("ZZ99.9").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 404));
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 200,
                         "body": "{\"code\":\"1A01\"}", "content_type": "application/json"}));
    let error = client.entity_by_code("1A01").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert!(error.message().contains("stemId"), "{}", error.message());
    // A stemId that is empty or not a string is not followed either: nothing more is asked.
    for stem in ["\"\"", "42", "null"] {
        standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 200,
                             "body": format!("{{\"code\":\"1A02\",\"stemId\":{stem}}}"),
                             "content_type": "application/json"}));
        let asked = standin.api_requests().len();
        let error = client.entity_by_code("1A02").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse, "stemId {stem}: {}", error.message());
        assert_eq!(standin.api_requests().len(), asked + 1, "stemId {stem}: only the code info was asked");
    }
    assert_eq!(client.entity_by_code(" ").unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn icd10_categories_blocks_and_chapters() {
    let standin = StandIn::start();
    let client = standin.client();
    for (code, kind, title) in [
        ("A00.0", "category", "Cholera due to Vibrio cholerae 01, biovar cholerae"),
        ("A00-A09", "block", "Intestinal infectious diseases"),
        ("I", "chapter", "Certain infectious and parasitic diseases"),
    ] {
        let entity = json_of(&client.icd10(code).unwrap().body);
        assert_eq!((entity["classKind"].as_str(), entity["title"]["@value"].as_str()), (Some(kind), Some(title)));
        assert_eq!(standin.last_api_request()["path"], format!("/icd/release/10/2019/{code}"));
    }
    client.set_option("icd10_release", "2010").unwrap();
    client.icd10("A00").unwrap();
    assert_eq!(standin.last_api_request()["path"], "/icd/release/10/2010/A00");
    let error = client.icd10("Z99.99").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 404));
    assert_eq!(client.icd10("").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(client.set_option("icd10_release", "").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(client.option("icd10_release").unwrap(), "2010", "a refused value changes nothing");
    // Any release id is taken, percent-encoded into the path.
    client.set_option("icd10_release", "2019 draft/1").unwrap();
    let _ = client.icd10("A00");
    assert!(standin.last_api_request()["target"].as_str().unwrap().starts_with("/icd/release/10/2019%20draft%2F1/A00"));
}

// ---- Options read back ------------------------------------------------------------------------

#[test]
fn every_option_reads_back_as_it_can_be_set() {
    let standin = StandIn::start();
    let client = standin.client();
    assert_eq!(client.option("release").unwrap(), "2026-01");
    assert_eq!(client.option("linearization").unwrap(), "mms");
    assert_eq!(client.option("icd10_release").unwrap(), "2019");
    assert_eq!(client.option("timeout_ms").unwrap(), "30000");
    assert_eq!(client.option("api_base").unwrap(), standin.url);
    assert_eq!(client.option("token_endpoint").unwrap(), standin.token_endpoint());
    assert_eq!(client.option("log").unwrap(), "off");
    assert_eq!(client.option("proxy").unwrap(), "");
    client.set_option("release", "2024-01").unwrap();
    client.set_option("timeout_ms", "1234").unwrap();
    assert_eq!(client.option("release").unwrap(), "2024-01");
    assert_eq!(client.option("timeout_ms").unwrap(), "1234");
    // The proxy: "" is the default (from the environment), "none" goes direct whatever it says.
    for proxy in ["http://proxy.hospital.example:3128", "none", ""] {
        client.set_option("proxy", proxy).unwrap();
        assert_eq!(client.option("proxy").unwrap(), proxy);
    }
    // Every option, set back to what it reads, reads the same and changes nothing.
    for name in icdapi::OPTION_NAMES {
        let value = client.option(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        client.set_option(name, &value).unwrap_or_else(|e| panic!("{name}={value}: {e}"));
        assert_eq!(client.option(name).unwrap(), value, "{name}");
    }
    for secret in ["client_id", "client_secret", "secret", "token", ""] {
        let error = client.option(secret).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(!error.message().contains(support::CLIENT_SECRET));
    }
    let local = Client::local(Some(&standin.url)).unwrap();
    assert_eq!(local.option("token_endpoint").unwrap(), "");
}

// ---- A release the API does not serve ---------------------------------------------------------

fn release_list_requests(standin: &StandIn) -> usize {
    standin.api_requests().iter().filter(|r| r["path"] == "/icd/release/11/mms").count()
}

#[test]
fn a_helpers_404_names_the_releases_served() {
    let standin = StandIn::start_with(&["--local", "--releases", "2024-01"]);
    let client = standin.local_client();
    for _ in 0..3 {
        let error = client.search("cholera").unwrap_err();
        assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 404));
        assert_eq!(
            error.message(),
            format!("release \"2026-01\" is not served by {} (it serves 2024-01): set the release option", standin.url)
        );
    }
    for error in [
        client.codeinfo("1A00").unwrap_err(),
        client.autocode("cholera").unwrap_err(),
        client.lookup("http://id.who.int/icd/entity/257068234").unwrap_err(),
        client.entity_by_code("1A00").unwrap_err(),
        client.search_with("cholera", &[("flatResults", "true")]).unwrap_err(),
    ] {
        assert!(error.message().contains("(it serves 2024-01)"), "{}", error.message());
    }
    assert_eq!(release_list_requests(&standin), 1, "asked once per client, base, linearization and release");
    // Another release is another question; a served one answers.
    client.set_option("release", "2025-01").unwrap();
    assert!(client.codeinfo("1A00").unwrap_err().message().starts_with("release \"2025-01\" is not served"));
    // (The list itself came from the response cache, as any GET the API marks cacheable.)
    assert_eq!(release_list_requests(&standin), 1);
    client.set_option("release", "2024-01").unwrap();
    assert_eq!(json_of(&client.search("cholera").unwrap().body)["destinationEntities"][0]["theCode"], "1A00");
    // A 404 in a served release (an unknown code) is reported as it was.
    let error = client.codeinfo("ZZ99.9").unwrap_err();
    assert_eq!(error.http_status(), 404);
    assert!(error.message().contains("could not be found") && !error.message().contains("not served"));
    // Raw gets are not helpers: their 404 is theirs.
    let error = client.get("/icd/release/11/2026-01/mms/257068234").unwrap_err();
    assert!(!error.message().contains("not served"), "{}", error.message());
}

#[test]
fn when_the_release_list_cannot_be_had_the_404_is_reported_as_it_was() {
    let standin = StandIn::start_with(&["--releases", "2024-01,2023-01"]);
    let client = standin.client();
    client.set_option("max_retries", "0").unwrap();
    standin.fault(json!({"match": "/icd/release/11/mms", "kind": "status", "status": 500, "count": 0}));
    let error = client.search("cholera").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 404));
    assert!(error.message().contains("Release not found: 2026-01"), "{}", error.message());
    let _ = client.search("cholera").unwrap_err();
    assert_eq!(release_list_requests(&standin), 1, "a failed question is not asked again");
    // Another client asks for itself, and with the list it names both releases.
    standin.admin_post("reset", json!({}));
    let error = standin.client().search("cholera").unwrap_err();
    assert!(error.message().contains("(it serves 2024-01, 2023-01)"), "{}", error.message());
}
