//! A token goes only to the API it was issued for, even when another thread switches `api_base`
//! and `token_endpoint` while a call is in flight: a call works on the state it started with —
//! configuration, connections and token slot together — through its redirects and its retry
//! after a 401.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icdapi::Client;
use serde_json::json;
use support::StandIn;

/// Every Authorization header a stand-in's API received.
fn tokens_received(standin: &StandIn) -> HashSet<String> {
    standin
        .api_requests()
        .iter()
        .filter_map(|request| request["headers"]["authorization"].as_str().map(str::to_owned))
        .collect()
}

fn assert_no_token_crossed(a: &StandIn, b: &StandIn) {
    let (to_a, to_b) = (tokens_received(a), tokens_received(b));
    assert!(!to_a.is_empty() && !to_b.is_empty(), "both APIs were called: {} and {}", to_a.len(), to_b.len());
    let crossed: Vec<_> = to_a.intersection(&to_b).collect();
    assert!(crossed.is_empty(), "{} token(s) reached both APIs", crossed.len());
}

fn switch_to(client: &Client, standin: &StandIn) {
    client.set_option("api_base", &standin.url).unwrap();
    client.set_option("token_endpoint", &standin.token_endpoint()).unwrap();
}

/// Starts `codeinfo 1A00` on A in another thread, waits until A holds the request (which it
/// delays), switches the client to B and calls B; returns the first call's outcome.
fn switch_while_a_holds_the_call(a: &StandIn, b: &StandIn) -> icdapi::Result<icdapi::Reply> {
    let client = Arc::new(a.client());
    client.set_option("cache_entries", "0").unwrap();
    let on_a = {
        let client = client.clone();
        std::thread::spawn(move || client.codeinfo("1A00"))
    };
    let started = Instant::now();
    while a.api_requests().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "the call never reached A");
        std::thread::sleep(Duration::from_millis(20));
    }
    switch_to(&client, b);
    client.codeinfo("1F4Z").expect("the call on B");
    on_a.join().unwrap()
}

#[test]
fn a_redirect_held_while_the_client_is_switched_keeps_the_first_apis_token() {
    let (a, b) = (StandIn::start(), StandIn::start());
    // A same-host redirect, answered a second late: meanwhile the client moves to B.
    a.fault(json!({"match": "codeinfo/1A00", "kind": "redirect", "delay_ms": 1000,
                   "location": "/icd/release/11/2026-01/mms/codeinfo/1A00?redirected=1"}));
    let reply = switch_while_a_holds_the_call(&a, &b).expect("the redirected call on A");
    assert!(reply.body.contains("1A00"), "{}", reply.body);
    assert_eq!(a.api_requests().len(), 2, "the redirect was followed on A");
    assert_no_token_crossed(&a, &b);
    assert_eq!((a.tokens_issued(), b.tokens_issued()), (1, 1));
}

#[test]
fn a_401_held_while_the_client_is_switched_refreshes_the_first_apis_token() {
    let (a, b) = (StandIn::start(), StandIn::start());
    a.fault(json!({"match": "codeinfo/1A00", "kind": "status", "status": 401, "delay_ms": 1000}));
    let reply = switch_while_a_holds_the_call(&a, &b).expect("the call on A, retried with a new token of A's");
    assert!(reply.body.contains("1A00"), "{}", reply.body);
    assert_no_token_crossed(&a, &b);
    assert_eq!(a.tokens_issued(), 2, "A's token was refreshed from A");
    assert_eq!(b.tokens_issued(), 1, "B's token was left alone");
}

#[test]
fn threads_calling_while_another_switches_never_send_a_token_to_the_other_api() {
    let (a, b) = (StandIn::start(), StandIn::start());
    // Both APIs take any token (so that no 401 hides a crossing by refreshing): a token that
    // reaches both APIs crossed.
    for standin in [&a, &b] {
        standin.configure(json!({"any_token": true}));
    }
    let client = Arc::new(a.client());
    client.set_option("cache_entries", "0").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (client, stop, calls) = (client.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    client.codeinfo("1A00").expect("a call");
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let targets = [(a.url.clone(), a.token_endpoint()), (b.url.clone(), b.token_endpoint())];
    let started = Instant::now();
    let mut switches = 0;
    // Bounded: 2 s, or 1,500 calls, whichever comes first.
    while started.elapsed() < Duration::from_secs(2) && calls.load(Ordering::Relaxed) < 1500 {
        // Each option on its own, in turns: every pair (A or B API, A or B endpoint) occurs.
        let (base, endpoint) = &targets[(switches / 2) % 2];
        if switches % 2 == 0 {
            client.set_option("api_base", base).unwrap();
        } else {
            client.set_option("token_endpoint", endpoint).unwrap();
        }
        switches += 1;
        std::thread::sleep(Duration::from_micros(200));
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.join().unwrap();
    }
    assert!(calls.load(Ordering::Relaxed) >= 50, "too few calls to mean anything");
    assert_no_token_crossed(&a, &b);
}
