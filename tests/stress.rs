//! Load and concurrency: 32 threads on one client, thousands of calls, while the stand-in
//! revokes tokens and expires them early, another thread changes options, and faults are
//! injected. Every call succeeds or fails with an error that the fault explains; tokens are
//! fetched once per expiry or revocation, not once per waiting thread; memory stays flat.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icdapi::ErrorKind;
use serde_json::json;
use support::{json_of, StandIn};

const THREADS: usize = 32;
const CALLS_PER_THREAD_PER_PHASE: usize = 150;
const TOKEN_LIFETIME_SECS: u64 = 2;
const CODES: [&str; 3] = ["1A00", "1F4Z", "FB32.5"];
const CALLS_PER_FAULT: usize = 40;
const CALLS_PER_REVOCATION: usize = 600;

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[derive(Default)]
struct Tally {
    completed: AtomicUsize,
    ok: AtomicUsize,
    http: AtomicUsize,
    network: AtomicUsize,
    auth: AtomicUsize,
}

#[test]
fn thirty_two_threads_through_revocations_expiries_option_changes_and_faults() {
    let standin = StandIn::start_with(&["--expires-in", &TOKEN_LIFETIME_SECS.to_string()]);
    let client = Arc::new(standin.client());
    client.set_option("timeout_ms", "10000").unwrap();
    // Every call must reach the server.
    client.set_option("cache_entries", "0").unwrap();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let revocations = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();

    // Chaos: revocations and faults on the server, option changes on the client. Faults and
    // revocations come at a fixed rate per completed call, so that a slow machine sees the same
    // mix as a fast one.
    let chaos = {
        let (client, stop, revocations, tally) = (client.clone(), stop.clone(), revocations.clone(), tally.clone());
        let url = standin.url.clone();
        std::thread::spawn(move || {
            let admin = support::Admin::new(&url);
            let faults = [
                json!({"match": "/codeinfo/", "kind": "status", "status": 503, "retry_after": "0", "count": 3}),
                json!({"match": "/codeinfo/", "kind": "drop", "count": 2}),
                json!({"match": "/codeinfo/", "kind": "reset", "count": 2}),
                json!({"match": "/codeinfo/", "kind": "truncate", "count": 2}),
                json!({"match": "/codeinfo/", "kind": "status", "status": 500, "count": 1}),
                json!({"match": "/codeinfo/", "kind": "hang", "seconds": 0.2, "count": 1}),
            ];
            let (mut injected, mut round) = (0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
                let completed = tally.completed.load(Ordering::Relaxed);
                if completed / CALLS_PER_FAULT > injected {
                    admin.post("fault", &faults[injected % faults.len()]);
                    injected += 1;
                }
                if completed / CALLS_PER_REVOCATION > revocations.load(Ordering::SeqCst) {
                    admin.post("revoke", &json!({}));
                    revocations.fetch_add(1, Ordering::SeqCst);
                }
                client.set_option("language", if round % 2 == 0 { "fr" } else { "en" }).unwrap();
                client.set_option("user_agent", if round % 3 == 0 { "stress/1" } else { "stress/2" }).unwrap();
                client.set_option("timeout_ms", if round % 5 == 0 { "9000" } else { "10000" }).unwrap();
                client.set_option("max_retries", if round % 4 == 0 { "3" } else { "2" }).unwrap();
                round += 1;
            }
        })
    };

    let run_phase = || {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (client, tally) = (client.clone(), tally.clone());
                std::thread::spawn(move || {
                    for i in 0..CALLS_PER_THREAD_PER_PHASE {
                        let code = CODES[(t + i) % CODES.len()];
                        let outcome = client.codeinfo(code);
                        tally.completed.fetch_add(1, Ordering::Relaxed);
                        match outcome {
                            Ok(reply) => {
                                assert_eq!(json_of(&reply.body)["code"], code, "the answer to the question asked");
                                tally.ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                let counter = match e.kind() {
                                    // Retries used up on injected 5xx.
                                    ErrorKind::Http if matches!(e.http_status(), 500 | 503) => &tally.http,
                                    // Injected drops, resets and truncations beyond the retries.
                                    ErrorKind::Network => &tally.network,
                                    // A revocation landing between the refetch and its retry.
                                    ErrorKind::Auth if e.http_status() == 401 => &tally.auth,
                                    _ => {
                                        panic!("unexpected error {:?} ({}): {}", e.kind(), e.http_status(), e.message())
                                    }
                                };
                                counter.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("no worker panicked");
        }
    };

    run_phase();
    let resident_after_first_phase = resident_kib();
    run_phase();
    let resident_after_second_phase = resident_kib();
    stop.store(true, Ordering::SeqCst);
    chaos.join().unwrap();

    let elapsed = started.elapsed();
    let calls = 2 * THREADS * CALLS_PER_THREAD_PER_PHASE;
    let ok = tally.ok.load(Ordering::SeqCst);
    let failed =
        tally.http.load(Ordering::SeqCst) + tally.network.load(Ordering::SeqCst) + tally.auth.load(Ordering::SeqCst);
    let tokens = standin.tokens_issued();
    let revoked = revocations.load(Ordering::SeqCst) as u64;
    let expiries = elapsed.as_secs_f64() / (TOKEN_LIFETIME_SECS as f64 * 0.9);
    println!(
        "{calls} calls in {elapsed:?}: {ok} ok, {} http, {} network, {} auth; {tokens} tokens for {revoked} revocations \
         and ~{expiries:.1} lifetimes; RSS {resident_after_first_phase} -> {resident_after_second_phase} KiB",
        tally.http.load(Ordering::SeqCst),
        tally.network.load(Ordering::SeqCst),
        tally.auth.load(Ordering::SeqCst),
    );
    assert_eq!(ok + failed, calls);
    assert!(ok * 100 >= calls * 95, "at least 95% succeed despite the faults: {ok} of {calls}");
    // One fetch per revocation or lifetime (plus the first), however many threads were waiting.
    assert!(tokens <= 1 + revoked + expiries.ceil() as u64 + 1, "{tokens} tokens");
    assert!(tokens >= 2, "the tokens did expire and get replaced");
    assert!(
        resident_after_second_phase <= resident_after_first_phase + 8 * 1024,
        "memory grew from {resident_after_first_phase} to {resident_after_second_phase} KiB"
    );
}
