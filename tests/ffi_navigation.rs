//! The 0.3 navigation functions of the C ABI, called as C would, against the stand-in:
//! icd_describe, icd_releases, release=latest, icd_parents/children/ancestors, and WHO's
//! ICD-10 ↔ ICD-11 mapping tables (synthetic tables in WHO's layout, as a directory and a zip).

mod support;

use std::ffi::{c_char, CString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::ptr;
use std::time::{Duration, Instant};

use icdapi::ffi::*;
use serde_json::{json, Value};
use support::c_abi::{c, client_for, last_message, take};
use support::StandIn;

const MMS: &str = "http://id.who.int/icd/release/11/2026-01/mms";

fn set(client: *mut IcdClient, name: &str, value: &str) {
    let status = unsafe { icd_client_set_option(client, c(name).as_ptr(), c(value).as_ptr()) };
    assert_eq!(status, IcdStatus::ICD_OK, "{name} = {value}: {}", last_message());
}

/// One call that must succeed: its JSON.
fn ok(body: *mut c_char) -> Value {
    let text = take(body).unwrap_or_else(|| panic!("failed: {:?} {}", icd_last_error_code(), last_message()));
    assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
    serde_json::from_str(&text).expect("JSON")
}

/// One call that must fail: its status and message.
fn failed(body: *mut c_char) -> (IcdStatus, String) {
    assert!(take(body).is_none(), "expected a failure");
    (icd_last_error_code(), last_message())
}

fn targets(standin: &StandIn) -> Vec<String> {
    standin.api_requests().iter().map(|r| r["target"].as_str().unwrap().to_owned()).collect()
}

/// The (uri, code, title, classKind) of each object of a hierarchy answer.
fn entries(answer: &Value) -> Vec<(String, String, String, String)> {
    answer
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 4, "four members: {e}");
            let text = |name: &str| e[name].as_str().unwrap_or_else(|| panic!("{name} in {e}")).to_owned();
            (text("uri"), text("code"), text("title"), text("classKind"))
        })
        .collect()
}

fn uris(answer: &Value) -> Vec<String> {
    entries(answer).into_iter().map(|e| e.0).collect()
}

#[test]
fn describe_takes_codes_postcoordinated_codes_uris_and_parameters() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let plain = ok(icd_describe(client, c("1A00").as_ptr(), ptr::null()));
        assert_eq!(plain["label"], "Cholera");
        assert_eq!(plain["linearizationUri"], format!("{MMS}/257068234"));
        assert_eq!(targets(&standin).last().unwrap(), "/icd/release/11/2026-01/mms/describe?code=1A00");

        let combined = ok(icd_describe(client, c("1A00&XN8P1").as_ptr(), ptr::null()));
        assert_eq!((combined["code"].as_str(), combined["stemCode"].as_str()), (Some("1A00&XN8P1"), Some("1A00")));
        assert_eq!(targets(&standin).last().unwrap(), "/icd/release/11/2026-01/mms/describe?code=1A00%26XN8P1");

        let strings = [c("flexiblemode"), c("true"), c("convertToTerminalCodes"), c("false")];
        let params = [strings[0].as_ptr(), strings[1].as_ptr(), strings[2].as_ptr(), strings[3].as_ptr(), ptr::null()];
        let uri = format!("{MMS}/135352227/other");
        let by_uri = ok(icd_describe(client, c(&uri).as_ptr(), params.as_ptr()));
        assert_eq!(by_uri["code"], "1A0Y");
        let sent = standin.last_api_request();
        assert_eq!(sent["query"]["uri"][0], uri.as_str(), "the URI goes as the API names it");
        assert!(
            sent["target"].as_str().unwrap().ends_with("describe?uri=http%3A%2F%2Fid.who.int%2Ficd%2Frelease%2F11%2F2026-01%2Fmms%2F135352227%2Fother&flexiblemode=true&convertToTerminalCodes=false"),
            "{sent}"
        );
        let foundation = ok(icd_describe(client, c("HTTPS://id.who.int/icd/entity/257068234").as_ptr(), ptr::null()));
        assert_eq!(foundation["code"], "1A00", "https and any case are URIs too");

        set(client, "language", "fr");
        assert_eq!(ok(icd_describe(client, c("1A00").as_ptr(), ptr::null()))["label"], "Choléra");

        let (status, message) = failed(icd_describe(client, c("ZZ99").as_ptr(), ptr::null()));
        assert_eq!((status, icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 404), "{message}");
        assert_eq!(failed(icd_describe(client, ptr::null(), ptr::null())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(failed(icd_describe(client, c(" ").as_ptr(), ptr::null())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        let bad = [c("simplify"), c("x")];
        let no_value = [bad[0].as_ptr(), ptr::null(), bad[1].as_ptr(), ptr::null()];
        let before = standin.api_requests().len();
        assert_eq!(
            failed(icd_describe(client, c("1A00").as_ptr(), no_value.as_ptr())).0,
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(standin.api_requests().len(), before, "nothing sent");
        assert_eq!(
            failed(icd_describe(ptr::null_mut(), c("1A00").as_ptr(), ptr::null())).0,
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        icd_client_free(client);
    }
}

#[test]
fn releases_lists_what_the_api_serves() {
    let standin = StandIn::start_with(&["--releases", "2024-01,2023-01"]);
    let client = client_for(&standin);
    unsafe {
        let listed = ok(icd_releases(client));
        assert_eq!(listed["latestRelease"], "http://id.who.int/icd/release/11/2024-01/mms");
        assert_eq!(listed["release"].as_array().unwrap().len(), 2);
        assert_eq!(targets(&standin), ["/icd/release/11/mms"]);
        set(client, "linearization", "icf");
        assert_eq!(ok(icd_releases(client))["latestRelease"], "http://id.who.int/icd/release/11/2024-01/icf");
        let fresh = client_for(&standin);
        standin.fault(json!({"match": "/icd/release/11/mms", "kind": "status", "status": 404}));
        assert_eq!(failed(icd_releases(fresh)).0, IcdStatus::ICD_ERR_HTTP);
        assert_eq!(icd_last_http_status(), 404);
        icd_client_free(fresh);
        assert_eq!(failed(icd_releases(ptr::null_mut())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        icd_client_free(client);
    }
}

#[test]
fn release_latest_is_asked_once_per_base_and_linearization_and_named_in_errors() {
    let standin = StandIn::start_with(&["--releases", "2024-01,2023-01"]);
    let client = client_for(&standin);
    let lists = |standin: &StandIn| targets(standin).iter().filter(|t| t.as_str() == "/icd/release/11/mms").count();
    unsafe {
        set(client, "release", "latest");
        assert_eq!(take(icd_client_get_option(client, c("release").as_ptr())).unwrap(), "latest");
        assert_eq!(ok(icd_codeinfo(client, c("1A00").as_ptr()))["code"], "1A00");
        assert_eq!(targets(&standin), ["/icd/release/11/mms", "/icd/release/11/2024-01/mms/codeinfo/1A00"]);
        ok(icd_search(client, c("cholera").as_ptr()));
        ok(icd_describe(client, c("1A01").as_ptr(), ptr::null()));
        ok(icd_parents(client, c("1A02").as_ptr()));
        assert_eq!(lists(&standin), 1, "asked once: {:?}", targets(&standin));
        assert!(targets(&standin).iter().skip(1).all(|t| t.starts_with("/icd/release/11/2024-01/")));

        // The death certificate calls follow it too.
        let certificate = [c("causeOfDeathCodeA"), c("1A00")];
        let fields = [certificate[0].as_ptr(), certificate[1].as_ptr(), ptr::null()];
        ok(icd_doris(client, fields.as_ptr()));
        assert_eq!(standin.last_api_request()["path"], "/icd/release/11/2024-01/doris");
        standin.fault(json!({"match": "/doris", "kind": "status", "status": 404}));
        let other = [c("causeOfDeathCodeA"), c("1A01")];
        let fields = [other[0].as_ptr(), other[1].as_ptr(), ptr::null()];
        let (status, message) = failed(icd_doris(client, fields.as_ptr()));
        assert_eq!(status, IcdStatus::ICD_ERR_HTTP);
        assert!(message.contains("release \"latest\" is 2024-01"), "{message}");

        // The release actually used is named in an HTTP error.
        let (status, message) = failed(icd_codeinfo(client, c("ZZ99").as_ptr()));
        assert_eq!((status, icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 404));
        assert!(message.contains("release \"latest\" is 2024-01"), "{message}");

        // Another client asks for itself; another linearization is another question.
        let other = client_for(&standin);
        set(other, "release", "latest");
        ok(icd_codeinfo(other, c("1A00").as_ptr()));
        assert_eq!(lists(&standin), 2);
        set(other, "linearization", "icf");
        ok(icd_search(other, c("cholera").as_ptr()));
        assert_eq!(standin.last_api_request()["path"], "/icd/release/11/2024-01/icf/search");
        set(other, "linearization", "mms");
        ok(icd_codeinfo(other, c("1A01").as_ptr()));
        let icf_lists = targets(&standin).iter().filter(|t| t.as_str() == "/icd/release/11/icf").count();
        assert_eq!((lists(&standin), icf_lists), (2, 1));
        icd_client_free(other);

        // A release list that cannot be had: the call fails saying so, and the failure is not
        // remembered.
        let fresh = client_for(&standin);
        set(fresh, "release", "latest");
        set(fresh, "max_retries", "0");
        standin.fault(json!({"match": "/icd/release/11/mms", "kind": "status", "status": 503, "count": 0}));
        let (status, message) = failed(icd_search(fresh, c("cholera").as_ptr()));
        assert_eq!((status, icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 503), "{message}");
        assert!(message.contains("release \"latest\" could not be resolved"), "{message}");
        assert!(message.contains("set the release option"), "{message}");
        standin.admin_post("reset", json!({}));
        standin.fault(json!({"match": "/icd/release/11/mms", "kind": "status", "status": 200,
                             "body": "{\"release\": []}", "content_type": "application/json"}));
        let (status, message) = failed(icd_search(fresh, c("cholera").as_ptr()));
        assert_eq!(status, IcdStatus::ICD_ERR_PARSE, "{message}");
        assert!(message.contains("names no release"), "{message}");
        ok(icd_search(fresh, c("cholera").as_ptr()));
        assert_eq!(standin.last_api_request()["path"], "/icd/release/11/2024-01/mms/search");
        icd_client_free(fresh);
        icd_client_free(client);
    }
}

#[test]
fn parents_children_and_ancestors_come_with_titles_in_the_clients_language() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let block = |id: &str, title: &str| (format!("{MMS}/{id}"), String::new(), title.to_owned(), "block".to_owned());
    let chapter = |id: &str, code: &str, title: &str| {
        (format!("{MMS}/{id}"), code.to_owned(), title.to_owned(), "chapter".to_owned())
    };
    unsafe {
        let parents = ok(icd_parents(client, c("1A00").as_ptr()));
        assert_eq!(entries(&parents), [block("135352227", "Bacterial intestinal infections")]);

        let ancestors = ok(icd_ancestors(client, c("1A00").as_ptr()));
        assert_eq!(
            entries(&ancestors),
            [
                block("135352227", "Bacterial intestinal infections"),
                block("588616678", "Gastroenteritis or colitis of infectious origin"),
                chapter("1435254666", "01", "Certain infectious or parasitic diseases"),
            ]
        );
        // A postcoordinated code stands for its stem; a URI and a path are the entity itself.
        assert_eq!(ok(icd_ancestors(client, c("1A00&XN8P1").as_ptr())), ancestors);
        assert_eq!(ok(icd_ancestors(client, c(&format!("{MMS}/257068234")).as_ptr())), ancestors);
        assert_eq!(ok(icd_ancestors(client, c("/icd/release/11/2026-01/mms/257068234").as_ptr())), ancestors);

        let children = ok(icd_children(client, c(&format!("{MMS}/135352227")).as_ptr()));
        let codes: Vec<String> = entries(&children).into_iter().map(|e| e.1).collect();
        assert_eq!(
            codes,
            ["1A00", "1A01", "1A02", "1A03", "1A04", "1A05", "1A06", "1A07", "1A08", "1A09", "1A0Y", "1A0Z", "FB32.5"],
            "in the API's order"
        );
        assert_eq!(entries(&children)[10].0, format!("{MMS}/135352227/other"));
        assert_eq!(entries(&children)[0].3, "category");
        assert_eq!(ok(icd_children(client, c("1A00").as_ptr())), json!([]), "a leaf");

        // A chapter has neither parents nor ancestors: the top of the classification is no entity.
        let chapter_uri = format!("{MMS}/1435254666");
        assert_eq!(ok(icd_parents(client, c(&chapter_uri).as_ptr())), json!([]));
        assert_eq!(ok(icd_ancestors(client, c(&chapter_uri).as_ptr())), json!([]));
        assert_eq!(
            uris(&ok(icd_children(client, c(&chapter_uri).as_ptr()))),
            [format!("{MMS}/588616678"), format!("{MMS}/255141529")]
        );

        // A Foundation URI walks the Foundation (which has no classKind), up to its top.
        let foundation = ok(icd_ancestors(client, c("http://id.who.int/icd/entity/257068234").as_ptr()));
        assert_eq!(
            entries(&foundation),
            [
                (
                    "http://id.who.int/icd/entity/135352227".to_owned(),
                    String::new(),
                    "Bacterial intestinal infections".to_owned(),
                    String::new()
                ),
                (
                    "http://id.who.int/icd/entity/588616678".to_owned(),
                    String::new(),
                    "Gastroenteritis or colitis of infectious origin".to_owned(),
                    String::new()
                ),
                (
                    "http://id.who.int/icd/entity/1435254666".to_owned(),
                    String::new(),
                    "Certain infectious or parasitic diseases".to_owned(),
                    String::new()
                ),
            ]
        );

        set(client, "language", "fr");
        let french = ok(icd_ancestors(client, c("1A00").as_ptr()));
        assert_eq!(french[0]["title"], "Infections intestinales bactériennes");
        assert_eq!(french[2]["title"], "Certaines maladies infectieuses ou parasitaires");
        set(client, "language", "en");

        for call in [icd_parents, icd_children, icd_ancestors] {
            let (status, message) = failed(call(client, c("ZZ99").as_ptr()));
            assert_eq!((status, icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 404), "{message}");
            let (status, _) = failed(call(client, c(&format!("{MMS}/999")).as_ptr()));
            assert_eq!(status, IcdStatus::ICD_ERR_HTTP);
            assert_eq!(failed(call(client, ptr::null())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            assert_eq!(failed(call(client, c("").as_ptr())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            assert_eq!(
                failed(call(client, c("https://example.org/x").as_ptr())).0,
                IcdStatus::ICD_ERR_INVALID_ARGUMENT
            );
            assert_eq!(failed(call(ptr::null_mut(), c("1A00").as_ptr())).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        }
        icd_client_free(client);
    }
}

#[test]
fn an_entity_with_several_parents_lists_each_ancestor_once_at_its_nearest_level() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let parents = ok(icd_parents(client, c("FB32.5").as_ptr()));
        assert_eq!(
            uris(&parents),
            [format!("{MMS}/1473673350"), format!("{MMS}/135352227"), format!("{MMS}/588616678")]
        );
        // 588616678 is a parent and a grandparent (through 135352227): listed once, as a parent.
        let ancestors = ok(icd_ancestors(client, c("FB32.5").as_ptr()));
        assert_eq!(
            uris(&ancestors),
            [
                format!("{MMS}/1473673350"),
                format!("{MMS}/135352227"),
                format!("{MMS}/588616678"),
                format!("{MMS}/1435254666")
            ]
        );
        icd_client_free(client);
    }
}

#[test]
fn ancestors_take_one_batch_per_level_and_come_from_the_cache_next_time() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        ok(icd_ancestors(client, c("1A00").as_ptr()));
        // codeinfo, the entity, then one request per level (3 levels up to the chapter).
        assert_eq!(standin.api_requests().len(), 5, "{:?}", targets(&standin));
        ok(icd_ancestors(client, c("1A00").as_ptr()));
        ok(icd_parents(client, c("1A00").as_ptr()));
        assert_eq!(standin.api_requests().len(), 5, "all from the cache");

        // The children's details are fetched concurrently: 13 children at 150 ms each take far
        // less than 13 × 150 ms.
        standin.configure(json!({"delay_ms": 150}));
        let started = Instant::now();
        let children = ok(icd_children(client, c(&format!("{MMS}/135352227")).as_ptr()));
        assert_eq!(children.as_array().unwrap().len(), 13);
        assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());

        // A child that cannot be fetched fails the call, naming it.
        let fresh = client_for(&standin);
        standin.configure(json!({"delay_ms": 0}));
        standin.fault(json!({"match": "/mms/416025325", "kind": "status", "status": 404, "count": 0}));
        let (status, message) = failed(icd_children(fresh, c(&format!("{MMS}/135352227")).as_ptr()));
        assert_eq!(status, IcdStatus::ICD_ERR_HTTP);
        assert!(message.contains("416025325"), "{message}");
        icd_client_free(fresh);
        icd_client_free(client);
    }
}

// -- WHO's mapping tables --------------------------------------------------------------------

const TEN_TO_ELEVEN_HEADER: &str = "10ClassKind\t10DepthInKind\ticd10Code\ticd10Chapter\ticd10Title\t11ClassKind\t\
     11DepthInKind\tICD-11 FoundationURI\tLinearization (releaseURI)\ticd11Code\ticd11Chapter\ticd11Title\t2026-Jan-17";
const ELEVEN_TO_TEN_HEADER: &str =
    "Linearization (release) URI\ticd11Code\ticd11Chapter\ticd11Title\ticd10Code\ticd10Chapter\ticd10Title";

/// Synthetic tables in WHO's layout: UTF-8 with a BOM, CRLF, the date as the last header column.
fn tables() -> Vec<(&'static str, String)> {
    let row10 = |code10: &str, title10: &str, id: &str, code11: &str, title11: &str| {
        format!(
            "category\t1\t{code10}\tI\t{title10}\tcategory\t1\thttp://id.who.int/icd/entity/{id}\t\
             {MMS}/{id}\t{code11}\t01\t{title11}\r\n"
        )
    };
    let one = format!(
        "\u{feff}{TEN_TO_ELEVEN_HEADER}\r\n{}{}{}",
        row10("A00.0", "Cholera due to Vibrio cholerae 01, biovar cholerae", "257068234", "1A00", "Cholera"),
        row10("A00", "Cholera", "257068234", "1A00", "Cholera"),
        row10("A01.0", "Typhoid fever", "1528414070", "1A07", "Typhoid fever"),
    );
    let multiple = format!(
        "\u{feff}{TEN_TO_ELEVEN_HEADER}\r\n{}{}",
        row10(
            "A00.0",
            "Cholera due to Vibrio cholerae 01, biovar cholerae",
            "257068234",
            "1A00&XN8P1",
            "Choléra, « biovar »"
        ),
        row10("B54", "Unspecified malaria", "1439886552", "1F4Z", "Malaria, unspecified"),
    );
    let back = format!(
        "\u{feff}{ELEVEN_TO_TEN_HEADER}\textra column\t2026-Jan-17\r\n{MMS}/257068234\t1A00\t01\tCholera\tA00\tI\tCholera\tx\r\n\
         {MMS}/1439886552/unspecified\t1F4Z\t01\tMalaria, unspecified\tB54\tI\tUnspecified malaria\tx\r\n"
    );
    vec![
        ("10To11MapToOneCategory.txt", one),
        ("10To11MapToMultipleCategories.txt", multiple),
        ("11To10MapToOneCategory.txt", back),
    ]
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icdapi-maps-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_dir(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn write_zip(path: &Path, folder: &str, files: &[(&str, String)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in files {
        zip.start_file(format!("{folder}{name}"), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

fn local_client() -> *mut IcdClient {
    // No request is made: a client on a port where nothing listens proves it.
    let client = unsafe { icd_client_new_local(c("http://127.0.0.1:9").as_ptr()) };
    assert!(!client.is_null());
    client
}

fn map10(client: *mut IcdClient, code: &str) -> *mut c_char {
    let code = CString::new(code).unwrap();
    unsafe { icd_map_icd10_to_icd11(client, code.as_ptr()) }
}

fn map11(client: *mut IcdClient, code: &str) -> *mut c_char {
    let code = CString::new(code).unwrap();
    unsafe { icd_map_icd11_to_icd10(client, code.as_ptr()) }
}

fn check_maps(client: *mut IcdClient) {
    let mapped = ok(map10(client, " a00.0 "));
    assert_eq!(icd_last_http_status(), 0, "no request");
    let rows = mapped.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{mapped}");
    assert_eq!(rows[0]["table"], "one");
    assert_eq!(rows[0]["icd10Code"], "A00.0");
    assert_eq!(rows[0]["icd10Title"], "Cholera due to Vibrio cholerae 01, biovar cholerae");
    assert_eq!(rows[0]["icd11Code"], "1A00");
    assert_eq!(rows[0]["icd11Title"], "Cholera");
    assert_eq!(rows[0]["icd11Uri"], format!("{MMS}/257068234"));
    assert_eq!(rows[0]["foundationUri"], "http://id.who.int/icd/entity/257068234");
    assert_eq!(rows[0]["10ClassKind"], "category");
    assert_eq!(rows[0]["Linearization (releaseURI)"], format!("{MMS}/257068234"));
    assert!(rows[0].get("2026-Jan-17").is_none());
    assert_eq!(rows[1]["table"], "multiple");
    assert_eq!(rows[1]["icd11Code"], "1A00&XN8P1");
    assert_eq!(rows[1]["icd11Title"], "Choléra, « biovar »");
    assert_eq!(ok(map10(client, "A00"))[0]["icd11Code"], "1A00");
    assert_eq!(ok(map10(client, "B54"))[0]["table"], "multiple");
    assert_eq!(ok(map10(client, "Z99.9")), json!([]));
    assert_eq!(ok(map10(client, "1A00")), json!([]), "an ICD-11 code is not an ICD-10 one");

    let back = ok(map11(client, "1f4z"));
    assert_eq!(back.as_array().unwrap().len(), 1);
    assert_eq!(back[0]["table"], "one");
    assert_eq!(back[0]["icd10Code"], "B54");
    assert_eq!(back[0]["icd11Uri"], format!("{MMS}/1439886552/unspecified"));
    assert_eq!(back[0]["extra column"], "x", "extra columns are kept");
    assert!(back[0].get("foundationUri").is_none());
    assert_eq!(ok(map11(client, "A00")), json!([]));
}

#[test]
fn mapping_tables_are_read_from_a_directory_or_a_zip() {
    let dir = scratch("forms");
    let unpacked = dir.join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    write_dir(&unpacked, &tables());
    let zipped = dir.join("mapping.zip");
    write_zip(&zipped, "", &tables());
    let nested = dir.join("nested.zip");
    write_zip(&nested, "mapping/", &tables());
    let folder = dir.join("folder");
    std::fs::create_dir_all(folder.join("mapping")).unwrap();
    write_dir(&folder.join("mapping"), &tables());

    let client = local_client();
    for path in [&unpacked, &zipped, &nested, &folder] {
        set(client, "mapping_tables", path.to_str().unwrap());
        let read_back = take(unsafe { icd_client_get_option(client, c("mapping_tables").as_ptr()) }).unwrap();
        assert_eq!(read_back, path.to_str().unwrap());
        check_maps(client);
    }
    // Read once per path and process: gone from the disk, the tables are still known.
    std::fs::remove_dir_all(&dir).unwrap();
    let other = local_client();
    set(other, "mapping_tables", zipped.to_str().unwrap());
    check_maps(other);
    unsafe {
        icd_client_free(other);
        icd_client_free(client);
    }
}

#[test]
fn mapping_errors_say_what_to_do() {
    let dir = scratch("errors");
    let client = local_client();
    let (status, message) = failed(map10(client, "A00"));
    assert_eq!(status, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    assert!(message.contains("option mapping_tables is not set"), "{message}");
    assert!(message.contains("https://icdcdn.who.int/static/releasefiles/2026-01/mapping.zip"), "{message}");
    set(client, "release", "latest");
    assert!(failed(map11(client, "1A00")).1.contains("releasefiles/{release}/mapping.zip"));

    // A directory without one of the tables: the 10→11 map names the missing file; 11→10 works.
    let partial = dir.join("partial");
    std::fs::create_dir(&partial).unwrap();
    let all = tables();
    write_dir(&partial, &[all[0].clone(), all[2].clone()]);
    set(client, "mapping_tables", partial.to_str().unwrap());
    let (status, message) = failed(map10(client, "A00"));
    assert_eq!(status, IcdStatus::ICD_ERR_PARSE);
    assert!(message.contains("10To11MapToMultipleCategories.txt") && message.contains("partial"), "{message}");
    assert_eq!(ok(map11(client, "1A00"))[0]["icd10Code"], "A00");
    // Not remembered: once the file is there, it is read.
    write_dir(&partial, &[all[1].clone()]);
    assert_eq!(ok(map10(client, "A00.0")).as_array().unwrap().len(), 2);

    // A table without a column its rows need.
    let broken = dir.join("broken");
    std::fs::create_dir(&broken).unwrap();
    let mut files = tables();
    files[2].1 = files[2].1.replace("icd10Title", "icd10Label");
    write_dir(&broken, &files);
    set(client, "mapping_tables", broken.to_str().unwrap());
    let (status, message) = failed(map11(client, "1A00"));
    assert_eq!(status, IcdStatus::ICD_ERR_PARSE);
    assert!(
        message.contains("11To10MapToOneCategory.txt") && message.contains("no column \"icd10Title\""),
        "{message}"
    );

    // A zip without the tables, a file that is no zip, a path that does not exist, bad UTF-8.
    let empty_zip = dir.join("other.zip");
    write_zip(&empty_zip, "", &[("readme.txt", "hello".to_owned())]);
    let not_zip = dir.join("mapping.txt");
    std::fs::write(&not_zip, "not a zip").unwrap();
    let latin1 = dir.join("latin1");
    std::fs::create_dir(&latin1).unwrap();
    write_dir(&latin1, &tables());
    let mut bytes = std::fs::read(latin1.join("11To10MapToOneCategory.txt")).unwrap();
    bytes.extend_from_slice(b"\xe9\r\n");
    std::fs::write(latin1.join("11To10MapToOneCategory.txt"), bytes).unwrap();
    for (path, expected) in [
        (empty_zip, "holds no 11To10MapToOneCategory.txt"),
        (not_zip, "neither a directory nor a readable zip file"),
        (dir.join("missing.zip"), "cannot be read"),
        (latin1, "is not UTF-8"),
    ] {
        set(client, "mapping_tables", path.to_str().unwrap());
        let (status, message) = failed(map11(client, "1A00"));
        assert_eq!(status, IcdStatus::ICD_ERR_PARSE, "{message}");
        assert!(message.contains(expected) && message.contains(path.to_str().unwrap()), "{message}");
    }
    // Bad arguments.
    assert_eq!(failed(map10(client, "  ")).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    assert_eq!(failed(unsafe { icd_map_icd10_to_icd11(client, ptr::null()) }).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    assert_eq!(
        failed(unsafe { icd_map_icd11_to_icd10(ptr::null_mut(), c("1A00").as_ptr()) }).0,
        IcdStatus::ICD_ERR_INVALID_ARGUMENT
    );
    let invalid = [0xffu8, 0];
    assert_eq!(
        failed(unsafe { icd_map_icd11_to_icd10(client, invalid.as_ptr().cast()) }).0,
        IcdStatus::ICD_ERR_INVALID_ARGUMENT
    );
    set(client, "mapping_tables", "");
    assert_eq!(take(unsafe { icd_client_get_option(client, c("mapping_tables").as_ptr()) }).unwrap(), "");
    assert_eq!(failed(map10(client, "A00")).0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    unsafe { icd_client_free(client) };
    let _ = std::fs::remove_dir_all(&dir);
}
