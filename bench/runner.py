"""Runs the benchmark's client processes against the nginx that run.sh started, measures them and
prints the report (also written to --out). Started by run.sh; see README.md for what it measures.

Each client process prints one line of key=value pairs (its own wall and CPU time for the job).
This runner measures each process's CPU time itself with os.wait4 (user + system, start-up
included) and takes medians over alternating rounds.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.request


def env_int(name, default, quick):
    if name in os.environ:
        return int(os.environ[name])
    return quick if os.environ.get("BENCH_QUICK") == "1" else default


N = env_int("BENCH_N", 3000, 200)
ROUNDS = env_int("BENCH_ROUNDS", 9, 2)
BASELINE_ROUNDS = env_int("BENCH_BASELINE_ROUNDS", 5, 2)
THREAD_TOTAL = env_int("BENCH_THREAD_TOTAL", 20000, 2000)
THREAD_ROUNDS = env_int("BENCH_THREAD_ROUNDS", 5, 1)
THREAD_COUNTS = [1, 2, 4, 8]
HITS = env_int("BENCH_HITS", 100000, 10000)
HIT_ROUNDS = env_int("BENCH_HIT_ROUNDS", 3, 1)
RSS_N = env_int("BENCH_RSS_N", 100000, 5000)
# Section 1b: callgrind's instruction count and strace's system calls per request, plain HTTP.
CALLGRIND_N = env_int("BENCH_CALLGRIND_N", 200, 50)
BATCH_N = env_int("BENCH_BATCH_N", 100, 100)
BATCH_ROUNDS = env_int("BENCH_BATCH_ROUNDS", 3, 1)
BATCH_DELAY_MS = 50
LOAD_AT_START = None


def run(cmd):
    """Runs one client; returns its key=value line as a dict, plus the runner's measurements:
    proc_cpu_us (user+system from wait4), maxrss_kib (ru_maxrss) and proc_wall_us."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    p.stdout.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = (time.monotonic() - t0) * 1e6
    if p.returncode != 0:
        sys.exit("benchmark client failed (exit %d): %s" % (p.returncode, " ".join(cmd)))
    lines = [line for line in out.splitlines() if "=" in line]
    if not lines:
        sys.exit("no result line from: %s\n%s" % (" ".join(cmd), out))
    fields = dict(kv.split("=", 1) for kv in lines[-1].split())
    result = {k: (float(v) if re.fullmatch(r"-?[0-9.]+", v) else v) for k, v in fields.items()}
    result["proc_cpu_us"] = (ru.ru_utime + ru.ru_stime) * 1e6
    result["maxrss_kib"] = ru.ru_maxrss
    result["proc_wall_us"] = wall
    return result


@contextlib.contextmanager
def standin(root, delay_ms):
    """The project's stand-in of the WHO API on a free port, answering API calls after delay_ms."""
    proc = subprocess.Popen([sys.executable, root + "/tools/standin/icd_standin.py", "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[1]
        request = urllib.request.Request(url + "/_admin/config", method="POST",
                                         data=json.dumps({"delay_ms": delay_ms}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()
        yield url
    finally:
        proc.kill()
        proc.wait()


def system_calls(cmd, workdir):
    """System calls made by the whole process (all threads), from strace -c's total."""
    out = os.path.join(workdir, "strace.out")
    p = subprocess.run(["strace", "-f", "-c", "-o", out] + cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit("strace run failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    with open(out) as f:
        total = [line.split() for line in f if line.split()[-1:] == ["total"]]
    os.unlink(out)
    # "% time, seconds, usecs/call, calls, [errors,] total": the calls stand before the errors.
    fields = total[0]
    return int(fields[-3] if len(fields) == 6 else fields[-2])


def median(values):
    return statistics.median(values)


def version_of(cmd, pattern=None):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        text = (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if pattern:
        m = re.search(pattern, text)
        return m.group(1) if m else text.splitlines()[0] if text else "unknown"
    return text.splitlines()[0] if text else "unknown"


def machine(args):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import requests  # noqa: F401  (the same interpreter runs requests_client.py)
        requests_version = requests.__version__
    except ImportError:
        requests_version = "missing"
    git = version_of(["git", "-C", args.root, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", args.root, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"],
                           capture_output=True, text=True).stdout.strip()
    icdapi_version = "unknown"
    try:
        with open(os.path.join(args.root, "Cargo.toml")) as f:
            m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
            icdapi_version = m.group(1) if m else icdapi_version
    except OSError:
        pass
    try:
        load = "%.2f %.2f %.2f (1, 5, 15 min, at the start)" % os.getloadavg()
    except OSError:
        load = "unknown"
    return [
        ("date", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("load", LOAD_AT_START or load),
        ("nproc", version_of(["nproc"])),
        ("CPU", cpu),
        ("kernel", platform.release() + " (" + platform.machine() + ")"),
        ("icdapi", "%s, git %s%s, cargo build --release" % (icdapi_version, git,
                                                            " + uncommitted changes in src/" if dirty else "")),
        ("rustc", version_of(["rustc", "--version"], r"rustc (\S+)")),
        ("gcc", version_of(["gcc", "-dumpfullversion"])),
        ("libcurl", version_of(["curl-config", "--version"], r"libcurl (\S+)")),
        ("python", platform.python_version() + " (/usr/bin/python3)"),
        ("requests", requests_version),
        ("nginx", version_of([os.environ.get("NGINX_BIN", "nginx"), "-v"], r"nginx/(\S+)")
         + ", %s worker processes, same machine" % os.environ.get("NGINX_WORKERS", "?")),
    ]


def mark(ok):
    return "PASS" if ok else "MISS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    # The TLS part (tls_bench.py): nginx's TLS servers, their access logs, the run's CA, the
    # system bundle with that CA added, the delaying proxy's two origins, the library.
    for name in ("tls-keep", "tls-close", "tls-keep-log", "tls-close-log", "tls-ca", "tls-system-bundle",
                 "tls-system-dir", "delay-token", "delay-api", "lib"):
        ap.add_argument("--" + name)
    args = ap.parse_args()
    b = args.bin
    base = args.base

    def log(msg):
        print("== " + msg, file=sys.stderr, flush=True)

    clients = [
        ("icdapi", lambda n: [b + "/icdapi_client", str(n), base, "nocache"]),
        ("libcurl", lambda n: [b + "/curl_client", str(n), base]),
        ("requests", lambda n: [sys.executable, args.bench_dir + "/requests_client.py", str(n), base]),
        ("icdapi, cache on", lambda n: [b + "/icdapi_client", str(n), base, "cache"]),
    ]
    t_start = time.monotonic()
    global LOAD_AT_START
    LOAD_AT_START = "%.2f %.2f %.2f (1, 5, 15 min, at the start)" % os.getloadavg()
    if os.getloadavg()[0] > 0.5:
        LOAD_AT_START += "; other work was running, so expect noisier numbers"
    if os.getloadavg()[0] > 0.5:
        log("note: load average %.2f: something else is running; the numbers will be noisier" % os.getloadavg()[0])

    log("smoke test: every client, 3 requests")
    for name, cmd in clients:
        r = run(cmd(3))
        if int(r["requests"]) != 3 or ("bytes" in r and r["bytes"] <= 0):
            sys.exit("smoke test failed for %s: %r" % (name, r))

    log("start-up cost: %d rounds x %d clients with N=0" % (BASELINE_ROUNDS, len(clients)))
    startup = {name: [] for name, _ in clients}
    for rnd in range(BASELINE_ROUNDS):
        order = clients[rnd % len(clients):] + clients[:rnd % len(clients)]
        for name, cmd in order:
            startup[name].append(run(cmd(0))["proc_cpu_us"])

    log("main comparison: %d rounds x %d clients x N=%d" % (ROUNDS, len(clients), N))
    runs = {name: [] for name, _ in clients}
    for rnd in range(ROUNDS):
        order = clients[rnd % len(clients):] + clients[:rnd % len(clients)]
        for name, cmd in order:
            runs[name].append(run(cmd(N)))
        log("  round %d/%d done" % (rnd + 1, ROUNDS))

    main_rows = {}
    for name, _ in clients:
        rs = runs[name]
        start = median(startup[name])
        walls = [r["wall_us"] / N for r in rs]
        cpus = [(r["proc_cpu_us"] - start) / N for r in rs]
        main_rows[name] = {
            "walls": walls,
            "cpus": cpus,
            "wall": median(walls),
            "wall_min": min(walls),
            "wall_max": max(walls),
            "cpu": median(cpus),
            "cpu_job": median([r["cpu_us"] / N for r in rs]),
            "startup_ms": start / 1000,
        }
    # Ratios to libcurl, round by round (the two ran within a second of each other, so a change
    # in the machine's background load affects both): the median of these is the ratio reported.
    for name, _ in clients:
        row, curl = main_rows[name], main_rows["libcurl"]
        row["wall_ratios"] = [a / b for a, b in zip(row["walls"], curl["walls"])]
        row["cpu_ratios"] = [a / b for a, b in zip(row["cpus"], curl["cpus"])]
        row["wall_ratio"] = median(row["wall_ratios"])
        row["cpu_ratio"] = median(row["cpu_ratios"])

    # What one more request costs, counted rather than timed (the stable figure on a busy
    # machine): the run of N minus the run of 1, over N - 1, for the clients of the table above.
    import tls_bench
    log("instructions (callgrind) and system calls (strace) per request: N = %d and 1" % CALLGRIND_N)
    counted_clients = [c for c in clients if c[0] in ("icdapi", "libcurl")]
    per_request = {}
    for name, cmd in counted_clients:
        many = tls_bench.callgrind_instructions(cmd(CALLGRIND_N), {}, b)
        one = tls_bench.callgrind_instructions(cmd(1), {}, b)
        calls = (system_calls(cmd(CALLGRIND_N), b) - system_calls(cmd(1), b)) / (CALLGRIND_N - 1)
        per_request[name] = {"instructions": (many - one) / (CALLGRIND_N - 1), "syscalls": calls}

    log("threads: %d rounds x %s threads x %d requests" % (THREAD_ROUNDS, THREAD_COUNTS, THREAD_TOTAL))
    thread_runs = {t: [] for t in THREAD_COUNTS}
    for rnd in range(THREAD_ROUNDS):
        order = THREAD_COUNTS if rnd % 2 == 0 else list(reversed(THREAD_COUNTS))
        for t in order:
            thread_runs[t].append(run([b + "/icdapi_threads", str(THREAD_TOTAL), str(t), base]))

    log("cache hits: %d runs x %d hits" % (HIT_ROUNDS, HITS))
    hit_runs = [run([b + "/icdapi_client", str(HITS), base, "hit"]) for _ in range(HIT_ROUNDS)]

    rss_sizes = sorted({1000, 10000, RSS_N})
    log("peak RSS: icdapi with the cache at its default, N = %s" % rss_sizes)
    rss_runs = {n: run([b + "/icdapi_client", str(n), base, "cache"]) for n in rss_sizes}
    rss_curl = run([b + "/curl_client", str(10000), base])

    log("batch: %d rounds x %d lookups, sequential icd_get vs icd_get_many, %d ms per answer"
        % (BATCH_ROUNDS, BATCH_N, BATCH_DELAY_MS))
    batch_runs = {"seq": [], "batch": []}
    with standin(args.root, BATCH_DELAY_MS) as standin_url:
        for rnd in range(BATCH_ROUNDS):
            for mode in (("seq", "batch") if rnd % 2 == 0 else ("batch", "seq")):
                offset = str((rnd * 2 + (mode == "batch")) * BATCH_N)
                batch_runs[mode].append(run([b + "/icdapi_batch", str(BATCH_N), standin_url, mode, offset]))
    tls_lines, tls_targets = [], []
    if args.tls_keep:
        import tls_bench
        tls_lines, tls_targets = tls_bench.measure(args, log, args.bin)
    elapsed = time.monotonic() - t_start

    # ---- the report ----
    out = []
    p = out.append
    p("icdapi benchmark — loopback HTTP and TLS against nginx (bench/run.sh)")
    p("=" * 78)
    p("")
    p("Machine")
    for k, v in machine(args):
        p("  %-9s %s" % (k + ":", v))
    p("")
    p("1. The same job in each client: one token (form POST), then N GETs of distinct MMS")
    p("   entities (3161-byte JSON body) with Authorization, Accept, Accept-Language, API-Version.")
    p("   N = %d, %d alternating rounds, medians. Wall = the client's own clock around the job;" % (N, ROUNDS))
    p("   CPU = user+system of the process from wait4, minus its median start-up cost (N=0 run).")
    p("   icdapi runs with cache_entries=0 unless marked 'cache on' (default 1024 entries; distinct")
    p("   URLs never hit, so that row shows what the cache bookkeeping costs).")
    p("")
    p("  %-18s %9s %15s %9s %10s %8s %8s %10s" % ("client", "wall", "wall min..max", "CPU", "CPU(job)",
                                                 "wall", "CPU", "start-up"))
    p("  %-18s %9s %15s %9s %10s %8s %8s %10s" % ("", "µs/req", "µs/req", "µs/req", "µs/req",
                                                 "/curl", "/curl", "CPU ms"))
    ref = main_rows["libcurl"]
    for name, _ in clients:
        r = main_rows[name]
        p("  %-18s %9.1f %15s %9.1f %10.1f %8.2f %8.2f %10.1f" % (
            name, r["wall"], "%.1f..%.1f" % (r["wall_min"], r["wall_max"]), r["cpu"], r["cpu_job"],
            r["wall_ratio"], r["cpu_ratio"], r["startup_ms"]))
    p("  CPU(job) = the client's own getrusage around the job, a cross-check of the CPU column.")
    p("  /curl = median over the rounds of the ratio to libcurl's run in the same round.")
    ic = main_rows["icdapi"]
    p("  icdapi/libcurl by round, wall: %s" % " ".join("%.2f" % x for x in ic["wall_ratios"]))
    p("  icdapi/libcurl by round, CPU:  %s" % " ".join("%.2f" % x for x in ic["cpu_ratios"]))
    p("")
    p("1b. Counted, not timed: what one more kept-alive request costs, plain HTTP — callgrind's")
    p("   instructions (the whole process, user space) and strace's system calls, each the run of")
    p("   N = %d minus the run of 1, over %d." % (CALLGRIND_N, CALLGRIND_N - 1))
    p("")
    p("  %-18s %14s %10s %14s" % ("client", "instructions", "/curl", "system calls"))
    for name, _ in counted_clients:
        r = per_request[name]
        p("  %-18s %14.0f %10.2f %14.2f" % (name, r["instructions"],
                                           r["instructions"] / per_request["libcurl"]["instructions"], r["syscalls"]))
    p("")
    p("2. icdapi, one client shared by T threads (pthreads), %d GETs in all, cache off;" % THREAD_TOTAL)
    p("   %d rounds, median. The 2 cores are shared with nginx." % THREAD_ROUNDS)
    p("")
    p("  %8s %12s %9s %14s" % ("threads", "requests/s", "speedup", "CPU µs/req"))
    rps = {t: median([r["rps"] for r in thread_runs[t]]) for t in THREAD_COUNTS}
    for t in THREAD_COUNTS:
        cpu_req = median([r["cpu_us"] / r["requests"] for r in thread_runs[t]])
        p("  %8d %12.0f %8.2fx %14.1f" % (t, rps[t], rps[t] / rps[1], cpu_req))
    p("")
    hit_median = median([r["median_ns"] for r in hit_runs])
    p("3. Cache hit: the same URL, cache on; each icd_get + icd_free_string timed alone with")
    p("   clock_gettime; %d hits per run, %d runs (median of the runs)." % (HITS, HIT_ROUNDS))
    p("")
    p("  median %.0f ns, p99 %.0f ns, min %.0f ns, mean %.0f ns (clock_gettime itself: ~%.0f ns)" % (
        hit_median, median([r["p99_ns"] for r in hit_runs]), median([r["min_ns"] for r in hit_runs]),
        median([r["mean_ns"] for r in hit_runs]), median([r["clock_ns"] for r in hit_runs])))
    p("")
    p("4. Peak RSS (VmHWM, read by the process itself at the end) of the icdapi client, cache at")
    p("   its default (1024 entries) and distinct URLs, so the cache fills to its bound and then")
    p("   evicts. (wait4's ru_maxrss is not used: it keeps the RSS of the forked Python runner")
    p("   from before exec, ~13 MB, and so shows the same number for every client.)")
    p("")
    p("  %10s %12s %14s" % ("requests", "VmHWM KiB", "cache entries"))
    for n in rss_sizes:
        r = rss_runs[n]
        p("  %10d %12d %14d" % (n, r["hwm_kib"], min(n, 1024)))
    p("  (libcurl client, 10000 requests, for scale: %d KiB)" % rss_curl["hwm_kib"])
    p("")
    seq_ms = median([r["wall_us"] for r in batch_runs["seq"]]) / 1000
    batch_ms = median([r["wall_us"] for r in batch_runs["batch"]]) / 1000
    p("5. Batch: %d lookups of distinct entities from the stand-in answering each in %d ms, one" % (
        BATCH_N, BATCH_DELAY_MS))
    p("   client, token fetched beforehand; %d rounds alternating, median." % BATCH_ROUNDS)
    p("")
    p("  %-34s %10.0f ms" % ("%d sequential icd_get" % BATCH_N, seq_ms))
    p("  %-34s %10.0f ms" % ("icd_get_many (default concurrency)", batch_ms))
    p("  speed-up %.1fx" % (seq_ms / batch_ms))
    p("")
    rss_small, rss_big = rss_runs[10000]["hwm_kib"], rss_runs[rss_sizes[-1]]["hwm_kib"]
    growth = rss_big - rss_small
    targets = [
        ("per-request wall  <= libcurl", "%.2f x libcurl (%.1f vs %.1f µs)" % (ic["wall_ratio"], ic["wall"],
                                                                          ref["wall"]),
         ic["wall_ratio"] <= 1.00),
        ("per-request CPU   <= 0.70 x libcurl", "%.2f x libcurl (%.1f vs %.1f µs)" % (ic["cpu_ratio"], ic["cpu"],
                                                                                ref["cpu"]),
         ic["cpu_ratio"] <= 0.70),
        ("instructions/req  <= 0.70 x libcurl", "%.2f x libcurl (%.0f vs %.0f)" % (
            per_request["icdapi"]["instructions"] / per_request["libcurl"]["instructions"],
            per_request["icdapi"]["instructions"], per_request["libcurl"]["instructions"]),
         per_request["icdapi"]["instructions"] <= 0.70 * per_request["libcurl"]["instructions"]),
        ("4 threads >= 1.8 x 1 thread", "%.2f x (%.0f vs %.0f req/s)" % (rps[4] / rps[1], rps[4], rps[1]),
         rps[4] / rps[1] >= 1.8),
        ("cache hit < 2 µs", "median %.0f ns" % hit_median, hit_median < 2000),
        ("batch >= 6 x sequential", "%.1f x (%.0f vs %.0f ms)" % (seq_ms / batch_ms, batch_ms, seq_ms),
         seq_ms / batch_ms >= 6),
        ("peak RSS not growing", "%d KiB after %d requests, %d KiB after 10000 (%+d KiB)" % (
            rss_big, rss_sizes[-1], rss_small, growth), growth <= max(1024, rss_small // 20)),
    ]
    for line in tls_lines:
        p(line)
    targets += tls_targets
    p("Targets")
    for what, measured, ok in targets:
        p("  %s  %-41s %s" % (mark(ok), what, measured))
    p("")
    p("(measurements took %.0f s)" % elapsed)
    report = "\n".join(out) + "\n"
    sys.stdout.write(report)
    sys.stdout.flush()
    with open(args.out, "w") as f:
        f.write(report)


if __name__ == "__main__":
    main()
