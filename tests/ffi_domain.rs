//! The 0.2 functions of the C ABI, called as C would: parameter arrays, ICD_ERR_API, JSON
//! documents and pointers, code → entity, ICD-10, options read back.

mod support;

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;

use icdapi::ffi::*;
use serde_json::json;
use support::c_abi::{c, client_for, last_message, take};
use support::{StandIn, CLIENT_SECRET};

/// A NULL-terminated parameter array over owned C strings (`None` puts a NULL in that place).
struct Params {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

fn params(items: &[Option<&[u8]>]) -> Params {
    let strings: Vec<Option<CString>> = items.iter().map(|i| i.map(|b| CString::new(b).unwrap())).collect();
    let mut pointers: Vec<*const c_char> =
        strings.iter().map(|s| s.as_ref().map_or(ptr::null(), |s| s.as_ptr())).collect();
    pointers.push(ptr::null());
    Params { _strings: strings.into_iter().flatten().collect(), pointers }
}

#[test]
fn parameter_arrays_are_encoded_and_appended() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let p = params(&[Some(b"highlightingEnabled"), Some(b"false"), Some(b"chapterFilter"), Some(b"01;15")]);
        let body = take(icd_search_with(client, c("cholera").as_ptr(), p.pointers.as_ptr())).unwrap();
        assert!(body.contains("\"title\":\"Cholera\""), "{body}");
        assert_eq!(
            standin.last_api_request()["target"],
            "/icd/release/11/2026-01/mms/search?q=cholera&highlightingEnabled=false&chapterFilter=01%3B15"
        );
        let p = params(&[Some("flexiblemode".as_bytes()), Some(b"")]);
        assert!(take(icd_codeinfo_with(client, c("1A00").as_ptr(), p.pointers.as_ptr())).is_some());
        assert_eq!(standin.last_api_request()["target"], "/icd/release/11/2026-01/mms/codeinfo/1A00?flexiblemode=");
        let p = params(&[Some(b"matchThreshold"), Some(b"0.5")]);
        assert!(take(icd_autocode_with(client, c("cholera").as_ptr(), p.pointers.as_ptr())).is_some());
        assert_eq!(standin.last_api_request()["query"]["matchThreshold"][0], "0.5");
        let p = params(&[Some(b"include"), Some("ancestor é".as_bytes())]);
        let path = c("/icd/release/11/2026-01/mms/257068234?x=1");
        assert!(take(icd_get_with(client, path.as_ptr(), p.pointers.as_ptr())).is_some());
        assert_eq!(
            standin.last_api_request()["target"],
            "/icd/release/11/2026-01/mms/257068234?x=1&include=ancestor%20%C3%A9"
        );
        // NULL params, and an empty array, are the plain calls.
        assert!(take(icd_get_with(client, path.as_ptr(), ptr::null())).is_some());
        let empty = params(&[]);
        assert!(take(icd_search_with(client, c("cholera").as_ptr(), empty.pointers.as_ptr())).is_some());
        assert!(take(icd_autocode_with(client, c("cholera").as_ptr(), ptr::null())).is_some());
        assert!(take(icd_codeinfo_with(client, c("1A00").as_ptr(), ptr::null())).is_some());
        icd_client_free(client);
    }
}

#[test]
fn malformed_parameter_arrays_send_nothing() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let cases: [(Params, &str); 4] = [
        (params(&[Some(b"flatResults"), Some(b"true"), Some(b"highlightingEnabled"), None]), "has no value"),
        (params(&[Some(b""), Some(b"x")]), "empty name"),
        (params(&[Some(b"q\xff"), Some(b"x")]), "not valid UTF-8"),
        (params(&[Some(b"q"), Some(b"\xc3")]), "not valid UTF-8"),
    ];
    unsafe {
        for (p, why) in &cases {
            let calls = [
                icd_get_with(client, c("/icd/entity").as_ptr(), p.pointers.as_ptr()),
                icd_search_with(client, c("cholera").as_ptr(), p.pointers.as_ptr()),
                icd_autocode_with(client, c("cholera").as_ptr(), p.pointers.as_ptr()),
                icd_codeinfo_with(client, c("1A00").as_ptr(), p.pointers.as_ptr()),
            ];
            for body in calls {
                assert!(body.is_null());
            }
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            assert!(last_message().contains(why), "{}", last_message());
        }
        assert!(icd_get_with(ptr::null_mut(), c("/icd/entity").as_ptr(), ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(standin.requests().len(), 0);
        icd_client_free(client);
    }
}

#[test]
fn a_reported_failure_is_icd_err_api_for_helpers_and_a_body_for_icd_get() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        standin.fault(json!({"match": "/search", "kind": "json_error_200", "message": "boom", "count": 3}));
        assert!(icd_search(client, c("cholera").as_ptr()).is_null());
        assert_eq!((icd_last_error_code(), icd_last_http_status()), (IcdStatus::ICD_ERR_API, 200));
        assert_eq!(icd_last_error_code() as c_int, 8);
        assert!(last_message().contains("\"boom\""), "{}", last_message());
        assert!(icd_search_with(client, c("cholera").as_ptr(), ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_API);
        let raw = take(icd_get(client, c("/icd/release/11/2026-01/mms/search?q=cholera").as_ptr())).unwrap();
        assert!(raw.contains("\"error\":true"));
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        standin.fault(json!({"match": "/autocode", "kind": "json_error_200", "count": 2}));
        assert!(icd_autocode(client, c("cholera").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_API);
        assert!(icd_autocode_with(client, c("cholera").as_ptr(), ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_API);
        icd_client_free(client);
    }
}

#[test]
fn entity_by_code_icd10_and_options_through_the_c_api() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let entity = take(icd_entity_by_code(client, c("1A00").as_ptr())).unwrap();
        assert!(entity.contains("\"@value\":\"Cholera\""));
        assert!(icd_entity_by_code(client, c("ZZ99.9").as_ptr()).is_null());
        assert_eq!((icd_last_error_code(), icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 404));
        assert!(icd_entity_by_code(client, ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);

        assert!(take(icd_icd10(client, c("A00-A09").as_ptr())).unwrap().contains("\"classKind\":\"block\""));
        assert_eq!(
            icd_client_set_option(client, c("icd10_release").as_ptr(), c("").as_ptr()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert!(icd_icd10(client, c("").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);

        assert_eq!(take(icd_client_get_option(client, c("release").as_ptr())).unwrap(), "2026-01");
        assert_eq!(take(icd_client_get_option(client, c("icd10_release").as_ptr())).unwrap(), "2019");
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        assert_eq!(icd_client_set_option(client, c("linearization").as_ptr(), c("icf").as_ptr()), IcdStatus::ICD_OK);
        assert_eq!(take(icd_client_get_option(client, c("linearization").as_ptr())).unwrap(), "icf");
        for bad in ["client_secret", "client_id", "nope"] {
            assert!(icd_client_get_option(client, c(bad).as_ptr()).is_null());
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            assert!(!last_message().contains(CLIENT_SECRET));
        }
        assert!(icd_client_get_option(client, ptr::null()).is_null());
        assert!(icd_client_get_option(ptr::null_mut(), c("release").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        icd_client_free(client);
    }
}

// ---- JSON documents -----------------------------------------------------------------------------

const ENTITY: &str = r#"{"@id":"http://id.who.int/icd/release/11/2026-01/mms/257068234",
  "title":{"@language":"fr","@value":"Chol\u00e9ra"}, "code":"1A00", "score":0.75, "n":-3,
  "isLeaf":true, "chopped":false, "nothing":null, "nul":"a\u0000b", "lang":{"@value":7},
  "a/b":{"m~n":"escaped"}, "child":["x","y","z"], "": "empty name", "empty": {}}"#;

unsafe fn string_at(doc: *const IcdJson, pointer: &str) -> Option<String> {
    let text = icd_json_string(doc, c(pointer).as_ptr());
    (!text.is_null()).then(|| CStr::from_ptr(text).to_str().unwrap().to_owned())
}

#[test]
fn json_pointers_read_strings_numbers_booleans_and_counts() {
    unsafe {
        let doc = icd_json_parse(c(ENTITY).as_ptr());
        assert!(!doc.is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        assert_eq!(string_at(doc, "/title").as_deref(), Some("Choléra"), "@value, unescaped");
        assert_eq!(string_at(doc, "/title/@value").as_deref(), Some("Choléra"));
        assert_eq!(string_at(doc, "/code").as_deref(), Some("1A00"));
        assert_eq!(string_at(doc, "/a~1b/m~0n").as_deref(), Some("escaped"));
        assert_eq!(string_at(doc, "/").as_deref(), Some("empty name"));
        assert_eq!(string_at(doc, "/child/2").as_deref(), Some("z"));
        // The same string twice is the same pointer, valid until the document is freed.
        let first = icd_json_string(doc, c("/code").as_ptr());
        assert_eq!(first, icd_json_string(doc, c("/code").as_ptr()));
        for not_a_string in
            ["/lang", "/score", "/nothing", "/child", "/missing", "/child/3", "/child/01", "/child/-", "/nul"]
        {
            assert_eq!(string_at(doc, not_a_string), None, "{not_a_string}");
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK, "{not_a_string}: not an error");
        }
        assert_eq!(icd_json_type(doc, c("/nul").as_ptr()), IcdJsonType::ICD_JSON_STRING, "a string, just not a C one");

        let mut number = 0.0;
        assert_eq!(icd_json_number(doc, c("/score").as_ptr(), &mut number), 1);
        assert_eq!(number, 0.75);
        assert_eq!(icd_json_number(doc, c("/n").as_ptr(), &mut number), 1);
        assert_eq!(number, -3.0);
        assert_eq!(icd_json_number(doc, c("/code").as_ptr(), &mut number), 0);
        assert_eq!(number, -3.0, "untouched");
        assert_eq!(icd_json_number(doc, c("/score").as_ptr(), ptr::null_mut()), 1, "out may be NULL");
        let mut flag: c_int = 7;
        assert_eq!(icd_json_bool(doc, c("/isLeaf").as_ptr(), &mut flag), 1);
        assert_eq!(flag, 1);
        assert_eq!(icd_json_bool(doc, c("/chopped").as_ptr(), &mut flag), 1);
        assert_eq!(flag, 0);
        flag = 7;
        assert_eq!(icd_json_bool(doc, c("/nothing").as_ptr(), &mut flag), 0);
        assert_eq!(flag, 7);
        assert_eq!(icd_json_bool(doc, c("/isLeaf").as_ptr(), ptr::null_mut()), 1);

        assert_eq!(icd_json_count(doc, c("/child").as_ptr()), 3);
        assert_eq!(icd_json_count(doc, c("/title").as_ptr()), 2);
        assert_eq!(icd_json_count(doc, c("/empty").as_ptr()), 0);
        assert_eq!(icd_json_count(doc, c("/code").as_ptr()), 0);
        assert_eq!(icd_json_count(doc, c("").as_ptr()), 14);

        for (pointer, kind) in [
            ("", IcdJsonType::ICD_JSON_OBJECT),
            ("/nothing", IcdJsonType::ICD_JSON_NULL),
            ("/isLeaf", IcdJsonType::ICD_JSON_BOOL),
            ("/score", IcdJsonType::ICD_JSON_NUMBER),
            ("/child", IcdJsonType::ICD_JSON_ARRAY),
            ("/missing", IcdJsonType::ICD_JSON_MISSING),
        ] {
            assert_eq!(icd_json_type(doc, c(pointer).as_ptr()), kind, "{pointer}");
        }
        icd_json_free(doc);
    }
}

#[test]
fn values_inside_a_document_are_documents_to_read_too() {
    unsafe {
        let doc = icd_json_parse(c(ENTITY).as_ptr());
        let title = icd_json_at(doc, c("/title").as_ptr());
        assert!(!title.is_null());
        assert_eq!(string_at(title, "").as_deref(), Some("Choléra"));
        assert_eq!(string_at(title, "/@language").as_deref(), Some("fr"));
        assert_eq!(icd_json_at(doc, c("/title").as_ptr()), title, "the same value, the same handle");
        assert_eq!(icd_json_at(doc, c("").as_ptr()), doc as *const IcdJson);
        let child = icd_json_at(doc, c("/child").as_ptr());
        assert_eq!(string_at(child, "/1").as_deref(), Some("y"));
        assert!(icd_json_at(doc, c("/child/9").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        // Freeing a value of the document does nothing; the document stays readable.
        icd_json_free(title as *mut IcdJson);
        assert_eq!(string_at(title, "").as_deref(), Some("Choléra"));
        icd_json_free(doc);
        icd_json_free(ptr::null_mut());
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    unsafe {
        assert!(icd_json_parse(ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert!(icd_json_parse(c("{\"a\":1,\n \"b\": }").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_PARSE);
        assert!(last_message().contains("line 2 column"), "{}", last_message());
        assert!(icd_json_parse(CString::new(b"\"\xff\"".to_vec()).unwrap().as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);

        let doc = icd_json_parse(c(ENTITY).as_ptr());
        for bad in ["code", "#/code", "/code~", "/a~2b", "/~"] {
            assert!(icd_json_at(doc, c(bad).as_ptr()).is_null());
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{bad}");
            assert!(icd_json_string(doc, c(bad).as_ptr()).is_null());
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{bad}");
            assert_eq!(icd_json_count(doc, c(bad).as_ptr()), 0);
            assert_eq!(icd_json_number(doc, c(bad).as_ptr(), ptr::null_mut()), 0);
            assert_eq!(icd_json_bool(doc, c(bad).as_ptr(), ptr::null_mut()), 0);
            assert_eq!(icd_json_type(doc, c(bad).as_ptr()), IcdJsonType::ICD_JSON_MISSING);
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{bad}");
        }
        assert!(last_message().contains("malformed"), "{}", last_message());
        assert!(icd_json_string(doc, ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert!(icd_json_string(ptr::null(), c("/code").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(icd_json_count(ptr::null(), c("").as_ptr()), 0);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        icd_json_free(doc);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "free leaves the last error alone");
    }
}

#[test]
fn escaped_non_ascii_answers_read_unescaped_and_threads_share_a_document() {
    let standin = StandIn::start();
    standin.configure(json!({"escape_non_ascii": true}));
    let client = client_for(&standin);
    unsafe {
        icd_client_set_option(client, c("language").as_ptr(), c("fr").as_ptr());
        let p = params(&[Some(b"highlightingEnabled"), Some(b"false")]);
        let body = icd_search_with(client, c("choléra").as_ptr(), p.pointers.as_ptr());
        let text = CStr::from_ptr(body).to_str().unwrap();
        assert!(text.contains("Chol\\u00e9ra") && !text.contains("Choléra"), "the stand-in escaped it: {text}");
        let doc = icd_json_parse(body);
        icd_free_string(body);
        assert_eq!(string_at(doc, "/destinationEntities/0/title").as_deref(), Some("Choléra"));
        // Many threads read one document at once: the same answers, the same pointers.
        let shared = doc as usize;
        let expected = icd_json_string(doc, c("/destinationEntities/0/theCode").as_ptr()) as usize;
        let readers: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(move || {
                    let doc = shared as *const IcdJson;
                    for _ in 0..200 {
                        let code = icd_json_string(doc, c("/destinationEntities/0/theCode").as_ptr());
                        assert_eq!(code as usize, expected);
                        assert_eq!(string_at(doc, "/destinationEntities/0/title").as_deref(), Some("Choléra"));
                        assert!(!icd_json_at(doc, c("/destinationEntities/0").as_ptr()).is_null());
                    }
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
        assert_eq!(CStr::from_ptr(expected as *const c_char).to_str().unwrap(), "1A00");
        icd_json_free(doc);
        icd_client_free(client);
    }
}
