//! Death certificates through the C ABI: icd_doris, icd_codedit, icd_certificate_check and
//! icd_certificate_field, against the stand-in (whose rule is NOT WHO's DORIS: the lowest used
//! line of Part 1 gives the underlying cause, see tools/standin/README.md). What is tested here is
//! the library: the fields checked before anything is sent, the query built and encoded, the
//! answers returned as they came, rejections as results.

mod support;

use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::ptr;

use icdapi::ffi::*;
use serde_json::{json, Value};
use support::c_abi::{c, client_for, last_message, take};
use support::{json_of, repo_path, StandIn};

/// A NULL-terminated certificate over owned C strings (`None` puts a NULL in that place).
struct Certificate {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

fn certificate(items: &[Option<&[u8]>]) -> Certificate {
    let strings: Vec<Option<CString>> = items.iter().map(|i| i.map(|b| CString::new(b).unwrap())).collect();
    let mut pointers: Vec<*const c_char> =
        strings.iter().map(|s| s.as_ref().map_or(ptr::null(), |s| s.as_ptr())).collect();
    pointers.push(ptr::null());
    Certificate { _strings: strings.into_iter().flatten().collect(), pointers }
}

fn fields(pairs: &[(&str, &str)]) -> Certificate {
    let items: Vec<Option<&[u8]>> =
        pairs.iter().flat_map(|(name, value)| [Some(name.as_bytes()), Some(value.as_bytes())]).collect();
    certificate(&items)
}

#[test]
fn the_forty_fields_are_those_of_whos_openapi_file() {
    let text = std::fs::read_to_string(repo_path("tests/fixtures/openapi/who-icd-api-swagger-v2.6.0.json")).unwrap();
    let openapi: Value = serde_json::from_str(&text).unwrap();
    for endpoint in ["doris", "codedit"] {
        let names: Vec<&str> = openapi["paths"][format!("/icd/release/11/{{releaseId}}/{endpoint}")]["get"]
            ["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, icdapi::CERTIFICATE_FIELDS, "{endpoint}");
    }
    // The C view of the list is the same list, and ends with NULL.
    let from_c: Vec<String> = (0..)
        .map_while(|i| {
            let name = icd_certificate_field(i);
            (!name.is_null()).then(|| unsafe { CStr::from_ptr(name) }.to_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(from_c, icdapi::CERTIFICATE_FIELDS);
    assert!(from_c.contains(&"mannerOfDeathPlaceOfOccuranceExternalCause".to_owned()));
}

#[test]
fn doris_sends_the_fields_encoded_and_returns_the_answer_as_it_came() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let cert = fields(&[
            ("causeOfDeathCodeA", "1A00"),
            ("causeOfDeathCodeC", "1F40,1A01"),
            ("sex", "2"),
            ("intervalC", "P3D"),
            ("mannerOfDeathDescriptionExternalCause", "fell & hit é/?#"),
        ]);
        let body = take(icd_doris(client, cert.pointers.as_ptr())).unwrap();
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        assert_eq!(icd_last_http_status(), 200);
        let answer = json_of(&body);
        assert_eq!(answer["code"], "1F40");
        assert_eq!(answer["stemURI"], "http://id.who.int/icd/release/11/2026-01/mms/579583286");
        assert_eq!(answer["reject"], false);
        let request = standin.last_api_request();
        assert_eq!(
            request["target"],
            "/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&causeOfDeathCodeC=1F40%2C1A01&sex=2\
             &intervalC=P3D&mannerOfDeathDescriptionExternalCause=fell%20%26%20hit%20%C3%A9%2F%3F%23"
        );
        assert_eq!(request["query"]["mannerOfDeathDescriptionExternalCause"][0], "fell & hit é/?#");
        // The client's release and language go with it.
        assert_eq!(icd_client_set_option(client, c("release").as_ptr(), c("2024-01").as_ptr()), IcdStatus::ICD_OK);
        assert_eq!(icd_client_set_option(client, c("language").as_ptr(), c("fr").as_ptr()), IcdStatus::ICD_OK);
        assert!(take(icd_doris(client, cert.pointers.as_ptr())).is_some());
        let request = standin.last_api_request();
        assert!(request["target"].as_str().unwrap().starts_with("/icd/release/11/2024-01/doris?"));
        assert_eq!(request["headers"]["accept-language"], "fr");
        icd_client_free(client);
    }
}

#[test]
fn a_rejected_certificate_is_a_result_not_a_failure() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        // Part 2 only: a cause is given (the library sends it), but the stand-in's rule rejects it.
        let cert = fields(&[("causeOfDeathCodePart2", "1A00")]);
        let body = take(icd_doris(client, cert.pointers.as_ptr())).expect("a rejection is an answer");
        assert_eq!((icd_last_error_code(), icd_last_http_status()), (IcdStatus::ICD_OK, 200));
        let answer = json_of(&body);
        assert_eq!(answer["reject"], true);
        assert!(answer["error"].as_str().unwrap().contains("No cause of death in Part 1"));
        assert_eq!(answer["code"], Value::Null);
        // Read from C with the document API, as the header says.
        let doc = icd_json_parse(c(&body).as_ptr());
        let mut rejected = 0;
        assert_eq!(icd_json_bool(doc, c("/reject").as_ptr(), &mut rejected), 1);
        assert_eq!(rejected, 1);
        icd_json_free(doc);
        icd_client_free(client);
    }
}

#[test]
fn codedit_sends_the_same_fields_and_returns_the_check() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        let cert = fields(&[("causeOfDeathCodeA", "ZZ99"), ("sex", "1"), ("maternalDeathWasPregnant", "1")]);
        let answer = json_of(&take(icd_codedit(client, cert.pointers.as_ptr())).unwrap());
        assert_eq!(answer["issueIds"], "U1,C0,S1");
        assert!(answer["report"].as_str().unwrap().contains("Unknown code ZZ99"));
        assert_eq!(
            standin.last_api_request()["target"],
            "/icd/release/11/2026-01/codedit?causeOfDeathCodeA=ZZ99&sex=1&maternalDeathWasPregnant=1"
        );
        let fine = fields(&[("causeOfDeathUriA", "http://id.who.int/icd/release/11/2026-01/mms/257068234")]);
        let answer = json_of(&take(icd_codedit(client, fine.pointers.as_ptr())).unwrap());
        assert_eq!(answer, json!({"report": "No issue found.", "tabularReport": "No issue found.", "issueIds": ""}));
        icd_client_free(client);
    }
}

#[test]
fn bad_certificates_are_refused_before_anything_is_sent() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let cases: Vec<(Certificate, &str)> = vec![
        (
            fields(&[("causeOfDeathCodeA1", "1A00")]),
            "\"causeOfDeathCodeA1\" is not a death certificate field: did you mean causeOfDeathCodeA?",
        ),
        (fields(&[("causeOfDeathCodeA", "1A00"), ("Sex", "1")]), "did you mean sex?"),
        (
            fields(&[("causeOfDeathCodeA", "1A00"), ("mannerOfDeathPlaceOfOccurrenceExternalCause", "1")]),
            "did you mean mannerOfDeathPlaceOfOccuranceExternalCause?",
        ),
        (
            fields(&[("causeOfDeathCodeA", "1A00"), ("sex", "1"), ("causeOfDeathCodeA", "1A01")]),
            "causeOfDeathCodeA is given twice",
        ),
        (
            certificate(&[Some(b"causeOfDeathCodeA"), Some(b"1A00"), Some(b"sex"), None]),
            "field 1 (\"sex\") has no value",
        ),
        (fields(&[("sex", "1"), ("intervalA", "P1D")]), "no cause of death is given"),
        (fields(&[("causeOfDeathCodeA", "  "), ("causeOfDeathUriB", "")]), "no cause of death is given"),
        (fields(&[]), "no cause of death is given"),
        (fields(&[("", "1A00")]), "empty name"),
        (certificate(&[Some(b"causeOfDeathCodeA"), Some(b"1A\xff")]), "not valid UTF-8"),
        (certificate(&[Some(b"sex\xc3"), Some(b"1")]), "not valid UTF-8"),
    ];
    unsafe {
        for (cert, why) in &cases {
            for body in [icd_doris(client, cert.pointers.as_ptr()), icd_codedit(client, cert.pointers.as_ptr())] {
                assert!(body.is_null(), "{why}");
                assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{why}");
                assert!(last_message().contains(why), "{why}: {}", last_message());
                assert!(last_message().contains("nothing was sent") || why.contains("UTF-8"), "{}", last_message());
            }
            assert_eq!(icd_certificate_check(cert.pointers.as_ptr()), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            assert!(last_message().contains(why), "{}", last_message());
        }
        assert!(icd_doris(client, ptr::null()).is_null());
        assert!(last_message().contains("certificate is NULL"), "{}", last_message());
        assert_eq!(icd_certificate_check(ptr::null()), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        let good = fields(&[("causeOfDeathCodeA", "1A00")]);
        assert!(icd_doris(ptr::null_mut(), good.pointers.as_ptr()).is_null());
        assert!(last_message().contains("client is NULL"));
        assert_eq!(standin.requests().len(), 0, "nothing reached the server");
        // A good certificate passes the check, which clears the last error and sends nothing.
        assert_eq!(icd_certificate_check(good.pointers.as_ptr()), IcdStatus::ICD_OK);
        assert_eq!(last_message(), "");
        assert_eq!(standin.requests().len(), 0);
        icd_client_free(client);
    }
}

#[test]
fn every_field_is_accepted_and_sent_once() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let pairs: Vec<(&str, &str)> = icdapi::CERTIFICATE_FIELDS
        .iter()
        .map(|name| match name {
            n if n.starts_with("causeOfDeathUri") => (*n, "http://id.who.int/icd/release/11/2026-01/mms/257068234"),
            n if n.starts_with("causeOfDeathCode") => (*n, "1A00"),
            n => (*n, "1"),
        })
        .collect();
    unsafe {
        let cert = fields(&pairs);
        assert!(take(icd_doris(client, cert.pointers.as_ptr())).is_some(), "{}", last_message());
        let sent: HashSet<String> = standin.last_api_request()["query"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(sent.len(), 40);
        icd_client_free(client);
    }
}

#[test]
fn http_failures_fail_the_call() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        // The stand-in answers 400 for an integer field that is not one, as WHO's API does.
        let cert = fields(&[("causeOfDeathCodeA", "1A00"), ("sex", "male")]);
        assert!(icd_doris(client, cert.pointers.as_ptr()).is_null());
        assert_eq!((icd_last_error_code(), icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 400));
        assert!(last_message().contains("not valid for sex"), "{}", last_message());
        standin.fault(json!({"match": "/codedit", "kind": "non_json"}));
        let cert = fields(&[("causeOfDeathCodeA", "1A00")]);
        assert!(icd_codedit(client, cert.pointers.as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_PARSE);
        assert_eq!(icd_client_set_option(client, c("release").as_ptr(), c("1999-01").as_ptr()), IcdStatus::ICD_OK);
        assert!(icd_doris(client, cert.pointers.as_ptr()).is_null());
        assert_eq!((icd_last_error_code(), icd_last_http_status()), (IcdStatus::ICD_ERR_HTTP, 404));
        icd_client_free(client);
    }
}
