"""The TLS part of the benchmark (see README.md, "6. TLS"): nginx over TLS on loopback with a CA
made for the run, connections and resumed sessions counted from nginx's access logs
($connection, $ssl_session_reused), instructions counted with callgrind, and a delaying proxy
for the round-trip scenarios. Called by runner.py; returns the report's lines and its targets.
"""

import os
import re
import statistics
import subprocess
import sys
import time


def env_int(name, default, quick):
    if name in os.environ:
        return int(os.environ[name])
    return quick if os.environ.get("BENCH_QUICK") == "1" else default


KEPT_N = env_int("BENCH_TLS_N", 2000, 200)
PER_REQUEST_N = env_int("BENCH_TLS_PER_REQUEST_N", 200, 40)
CLOSE_N = env_int("BENCH_TLS_CLOSE_N", 100, 20)
ROUNDS = env_int("BENCH_TLS_ROUNDS", 7, 2)
PER_REQUEST_ROUNDS = env_int("BENCH_TLS_PER_REQUEST_ROUNDS", 11, 2)
FIRST_ROUNDS = env_int("BENCH_TLS_FIRST_ROUNDS", 7, 2)
BATCH_N = 100
BATCH_ROUNDS = env_int("BENCH_TLS_BATCH_ROUNDS", 3, 1)
CALLGRIND_N = env_int("BENCH_TLS_CALLGRIND_N", 50, 10)
RTT_MS = 20.0


def median(values):
    return statistics.median(values)


def run(cmd, env=None):
    """Runs one client process with extra environment; returns its key=value line as a dict."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=600)
    if p.returncode != 0:
        sys.exit("benchmark client failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    lines = [line for line in p.stdout.splitlines() if "=" in line]
    if not lines:
        sys.exit("no result line from: %s\n%s" % (" ".join(cmd), p.stdout))
    fields = dict(kv.split("=", 1) for kv in lines[-1].split())
    return {k: (float(v) if re.fullmatch(r"-?[0-9.]+", v) else v) for k, v in fields.items()}


class AccessLog:
    """What nginx logged ($connection $ssl_session_reused ...) since the last mark."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def size(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def settle(self):
        """nginx logs a request after its answer is sent, so a client may have finished before its
        last line is written: wait until the log stops growing (50 ms unchanged)."""
        while True:
            before = self.size()
            time.sleep(0.05)
            if self.size() == before:
                return

    def mark(self):
        self.settle()
        self.offset = self.size()

    def since_mark(self):
        self.settle()
        with open(self.path) as f:
            f.seek(self.offset)
            lines = [line.split() for line in f if line.strip()]
        first_request = {}
        for fields in lines:
            first_request.setdefault(fields[0], fields[1])
        connections = len(first_request)
        resumed = sum(1 for reused in first_request.values() if reused == "r")
        return {"requests": len(lines), "connections": connections, "resumed": resumed}


def counted(log, cmd, env):
    log.mark()
    result = run(cmd, env)
    result.update(log.since_mark())
    return result


def callgrind_instructions(cmd, env, workdir):
    """Instructions executed by the whole process (all threads), from callgrind's summary."""
    out = os.path.join(workdir, "callgrind.out")
    full = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "--trace-children=no"] + cmd
    full_env = dict(os.environ)
    full_env.update(env)
    p = subprocess.run(full, capture_output=True, text=True, env=full_env, timeout=1200)
    if p.returncode != 0:
        sys.exit("callgrind run failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    m = re.search(r"Collected\s*:\s*(\d+)", p.stderr)
    if not m:
        with open(out) as f:
            m = re.search(r"^summary:\s*(\d+)", f.read(), re.M)
    os.unlink(out)
    return int(m.group(1))


def trust_store_opens(cmd, env, paths):
    """How many times the process opened a file of the trust store (strace), and in all."""
    full_env = dict(os.environ)
    full_env.update(env)
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-e", "signal=none"] + cmd,
                       capture_output=True, text=True, env=full_env, timeout=600)
    if p.returncode != 0:
        sys.exit("strace run failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    opens = [line for line in p.stderr.splitlines() if "open" in line and "ENOENT" not in line]
    bundle = sum(1 for line in opens if '"%s"' % paths["bundle"] in line)
    store = sum(1 for line in opens if paths["bundle"] in line or paths["dir"] + "/" in line)
    return bundle, store


def measure(args, log, workdir):
    b = args.bin
    keep, close = args.tls_keep, args.tls_close
    keep_log, close_log = AccessLog(args.tls_keep_log), AccessLog(args.tls_close_log)
    ca = {"BENCH_CA_FILE": args.tls_ca}
    php = ["php", "-d", "ffi.enable=1", args.bench_dir + "/php_client.php"]
    php_env = dict(ca, ICDAPI_LIB=args.lib)
    out, targets = [], []
    p = out.append

    log("TLS smoke test")
    for cmd, env in [([b + "/icdapi_client", "3", keep, "nocache"], ca), ([b + "/curl_client", "3", keep], ca),
                     ([b + "/icdapi_client", "3", keep, "perclient"], ca), (php + ["3", keep, "icdapi"], php_env),
                     (php + ["3", keep, "curl"], php_env)]:
        if int(run(cmd, env)["requests"]) != 3:
            sys.exit("TLS smoke test failed: %s" % " ".join(cmd))

    # ---- kept-alive: icdapi vs libcurl, one connection each ----
    log("TLS kept-alive: %d rounds x N=%d" % (ROUNDS, KEPT_N))
    kept = {"icdapi": [], "libcurl": []}
    for rnd in range(ROUNDS):
        order = ["icdapi", "libcurl"] if rnd % 2 == 0 else ["libcurl", "icdapi"]
        for name in order:
            cmd = [b + "/icdapi_client", str(KEPT_N), keep, "nocache"] if name == "icdapi" else \
                [b + "/curl_client", str(KEPT_N), keep]
            kept[name].append(counted(keep_log, cmd, ca))
    wall = {k: [r["wall_us"] / KEPT_N for r in v] for k, v in kept.items()}
    cpu = {k: [r["cpu_us"] / KEPT_N for r in v] for k, v in kept.items()}
    wall_ratios = [a / c for a, c in zip(wall["icdapi"], wall["libcurl"])]
    cpu_ratios = [a / c for a, c in zip(cpu["icdapi"], cpu["libcurl"])]

    # ---- a client per request, from C and from PHP ----
    log("TLS a client per request: %d rounds x N=%d, C and PHP" % (PER_REQUEST_ROUNDS, PER_REQUEST_N))
    per = [
        ("icdapi, one client", [b + "/icdapi_client", str(PER_REQUEST_N), keep, "nocache"], ca),
        ("icdapi, a client per request", [b + "/icdapi_client", str(PER_REQUEST_N), keep, "perclient"], ca),
        ("libcurl, a fresh handle per request", [b + "/curl_client", str(PER_REQUEST_N), keep, "fresh"], ca),
        ("libcurl, WHO sample (token + GET)", [b + "/curl_client", str(PER_REQUEST_N), keep, "who"], ca),
        ("PHP icdapi, one client", php + [str(PER_REQUEST_N), keep, "icdapi-one"], php_env),
        ("PHP icdapi, a client per request", php + [str(PER_REQUEST_N), keep, "icdapi"], php_env),
        ("PHP curl, a fresh handle per request", php + [str(PER_REQUEST_N), keep, "curl"], php_env),
        ("PHP curl, WHO sample (token + GET)", php + [str(PER_REQUEST_N), keep, "who"], php_env),
    ]
    per_runs = {name: [] for name, _, _ in per}
    for rnd in range(PER_REQUEST_ROUNDS):
        order = per[rnd % len(per):] + per[:rnd % len(per)]
        for name, cmd, env in order:
            per_runs[name].append(counted(keep_log, cmd, env))
    per_wall = {name: [r["wall_us"] / PER_REQUEST_N for r in rs] for name, rs in per_runs.items()}
    per_cpu = {name: [r["cpu_us"] / PER_REQUEST_N for r in rs] for name, rs in per_runs.items()}

    def round_ratios(a, c):
        return [x / y for x, y in zip(per_wall[a], per_wall[c])]

    perclient_ratios = round_ratios("icdapi, a client per request", "icdapi, one client")
    php_ratios = round_ratios("PHP icdapi, a client per request", "PHP icdapi, one client")

    # ---- a server that closes every connection, with the system's trust store ----
    log("TLS server closing every connection, system trust store: %d rounds x N=%d" % (ROUNDS, CLOSE_N))
    system = {"SSL_CERT_FILE": args.tls_system_bundle, "SSL_CERT_DIR": args.tls_system_dir, "BENCH_CA_FILE": ""}
    curl_system = {"BENCH_CA_FILE": args.tls_system_bundle}
    closing = {"icdapi": [], "libcurl": []}
    for rnd in range(ROUNDS):
        order = ["icdapi", "libcurl"] if rnd % 2 == 0 else ["libcurl", "icdapi"]
        for name in order:
            if name == "icdapi":
                closing[name].append(counted(close_log, [b + "/icdapi_client", str(CLOSE_N), close, "nocache"],
                                             system))
            else:
                closing[name].append(counted(close_log, [b + "/curl_client", str(CLOSE_N), close], curl_system))
    close_wall = {k: [r["wall_us"] / CLOSE_N for r in v] for k, v in closing.items()}
    close_cpu = {k: [r["cpu_us"] / CLOSE_N for r in v] for k, v in closing.items()}

    def resumed_share(rs):
        reconnects = sum(r["connections"] - 1 for r in rs)
        return sum(r["resumed"] for r in rs) / reconnects if reconnects else 0.0

    log("TLS trust store reads (strace) and instructions (callgrind)")
    paths = {"bundle": args.tls_system_bundle, "dir": args.tls_system_dir}
    bundle_opens, store_opens = trust_store_opens([b + "/icdapi_client", str(CLOSE_N), close, "nocache"], system,
                                                  paths)
    callgrind_runs = [
        ("icdapi, one client (kept-alive)", [b + "/icdapi_client", None, keep, "nocache"], ca),
        ("icdapi, a client per request", [b + "/icdapi_client", None, keep, "perclient"], ca),
        ("libcurl, one handle (kept-alive)", [b + "/curl_client", None, keep], ca),
        ("libcurl, a fresh handle per request", [b + "/curl_client", None, keep, "fresh"], ca),
        ("icdapi, server closing, system store", [b + "/icdapi_client", None, close, "nocache"], system),
        ("libcurl, server closing, system store", [b + "/curl_client", None, close], curl_system),
    ]
    cg = {}
    for name, cmd, env in callgrind_runs:
        # What one more request costs: the run of N minus the run of 1 (client, token, first
        # connection), over N - 1.
        many = callgrind_instructions([cmd[0], str(CALLGRIND_N)] + cmd[2:], env, workdir)
        one = callgrind_instructions([cmd[0], "1"] + cmd[2:], env, workdir)
        cg[name] = ((many - one) / (CALLGRIND_N - 1), one)

    # ---- round trips: the first call, and a batch, behind a proxy adding 10 ms each way ----
    log("TLS at %.0f ms RTT: first call x %d rounds, batch x %d rounds" % (RTT_MS, FIRST_ROUNDS, BATCH_ROUNDS))
    first = {"icdapi": [], "libcurl": []}
    split = dict(ca, BENCH_TOKEN_BASE=args.delay_token)
    for rnd in range(FIRST_ROUNDS):
        order = ["icdapi", "libcurl"] if rnd % 2 == 0 else ["libcurl", "icdapi"]
        for name in order:
            cmd = [b + "/icdapi_client", "1", args.delay_api, "nocache"] if name == "icdapi" else \
                [b + "/curl_client", "1", args.delay_api]
            first[name].append(run(cmd, split)["wall_us"] / 1000 / RTT_MS)
    batch = {"seq": [], "batch 8": [], "batch 16": []}
    for rnd in range(BATCH_ROUNDS):
        for k, mode in enumerate(["seq", "batch 8", "batch 16"]):
            env = dict(ca, BENCH_CONCURRENCY=mode.split()[-1] if mode != "seq" else "")
            offset = str((rnd * 3 + k) * BATCH_N)
            batch[mode].append(run([b + "/icdapi_batch", str(BATCH_N), args.delay_api, mode.split()[0], offset],
                                   env)["wall_us"] / 1000)

    # ---- the report ----
    p("6. TLS: nginx over TLS on loopback (TLS 1.3, a CA made for the run, ca_file), counted from")
    p("   nginx's side ($connection and $ssl_session_reused in its access log). Wall and CPU are")
    p("   each client's own clock and getrusage around its job; ratios are taken round by round.")
    p("")
    p("  6a. Kept-alive, one connection: one token then N=%d GETs, %d alternating rounds." % (KEPT_N, ROUNDS))
    p("  %-34s %10s %10s %8s" % ("client", "wall µs", "CPU µs", "conns"))
    for name in ("icdapi", "libcurl"):
        p("  %-34s %10.1f %10.1f %8d" % (name, median(wall[name]), median(cpu[name]),
                                         max(r["connections"] for r in kept[name])))
    p("  icdapi/libcurl by round, wall: %s" % " ".join("%.2f" % x for x in wall_ratios))
    p("  icdapi/libcurl by round, CPU:  %s" % " ".join("%.2f" % x for x in cpu_ratios))
    p("")
    p("  6b. A client per request (what a PHP page does): N=%d GETs, %d rotating rounds; 'conns' is" % (
        PER_REQUEST_N, PER_REQUEST_ROUNDS))
    p("      the most TCP connections one run opened, 'resumed' the resumed TLS sessions among them.")
    p("  %-40s %9s %9s %7s %8s %9s" % ("client", "wall µs", "CPU µs", "conns", "resumed", "/1 client"))
    one = per_wall["icdapi, one client"]
    for name, _, _ in per:
        rs = per_runs[name]
        worst = max(rs, key=lambda r: r["connections"])
        p("  %-40s %9.1f %9.1f %7d %8d %9.2f" % (name, median(per_wall[name]), median(per_cpu[name]),
                                                 worst["connections"], worst["resumed"],
                                                 median([x / y for x, y in zip(per_wall[name], one)])))
    p("  a client per request / one client, by round, C:   %s" % " ".join("%.2f" % x for x in perclient_ratios))
    p("  a client per request / one client, by round, PHP: %s" % " ".join("%.2f" % x for x in php_ratios))
    p("  (/1 client: to icdapi with one client from C; the ratios above compare each language with itself.)")
    p("  (CPU of the PHP rows is the whole PHP process's job, interpreter included.)")
    p("")
    p("  6c. A server that closes every connection (keepalive_timeout 0), the system's trust store")
    p("      (SSL_CERT_FILE = Debian's bundle + the run's CA, SSL_CERT_DIR = /etc/ssl/certs; libcurl")
    p("      reads the same bundle): N=%d GETs, %d alternating rounds." % (CLOSE_N, ROUNDS))
    p("  %-34s %10s %10s %8s %12s" % ("client", "wall µs", "CPU µs", "conns", "resumed"))
    for name in ("icdapi", "libcurl"):
        rs = closing[name]
        p("  %-34s %10.1f %10.1f %8d %11.0f%%" % (name, median(close_wall[name]), median(close_cpu[name]),
                                                  rs[0]["connections"], 100 * resumed_share(rs)))
    p("  strace: in a run of %d connections icdapi opened the system bundle %d time(s) and %d files of the" % (
        CLOSE_N + 1, bundle_opens, store_opens))
    p("  trust store in all (the bundle and /etc/ssl/certs/*, each once: one reading per process)")
    p("")
    p("  6d. Instructions (callgrind, whole process): each further request = (run of N=%d - run of 1) / %d;" % (
        CALLGRIND_N, CALLGRIND_N - 1))
    p("      the run of 1 is the process with its first request (client, token, first connection).")
    p("  %-40s %14s %14s" % ("", "per request", "run of 1"))
    for name, (per_request, first_run) in cg.items():
        p("  %-40s %14.0f %14.0f" % (name, per_request, first_run))
    p("")
    first_ic, first_curl = median(first["icdapi"]), median(first["libcurl"])
    p("  6e. Behind a proxy adding %.0f ms each way (RTT %.0f ms), token endpoint and API on two" % (
        RTT_MS / 2, RTT_MS))
    p("      origins (as WHO's): the first call of a process (client creation, token, one GET),")
    p("      %d alternating rounds, in round trips: icdapi %.2f, libcurl (one handle) %.2f" % (
        FIRST_ROUNDS, first_ic, first_curl))
    p("      by round, icdapi: %s" % " ".join("%.2f" % x for x in first["icdapi"]))
    p("      by round, libcurl: %s" % " ".join("%.2f" % x for x in first["libcurl"]))
    seq = median(batch["seq"])
    p("      a batch of %d (token fetched before), %d rounds: sequential %.0f ms; icd_get_many %.0f ms" % (
        BATCH_N, BATCH_ROUNDS, seq, median(batch["batch 8"])))
    p("      at concurrency 8 (%.1fx), %.0f ms at concurrency 16 (%.1fx)" % (
        seq / median(batch["batch 8"]), median(batch["batch 16"]), seq / median(batch["batch 16"])))
    p("")

    per_client_conns = max(r["connections"] for r in per_runs["icdapi, a client per request"])
    php_conns = max(r["connections"] for r in per_runs["PHP icdapi, a client per request"])
    close_share = resumed_share(closing["icdapi"])
    targets += [
        ("TLS a client per request <= 1.5 x one client", "%.2f x (C), %.2f x (PHP)" % (
            median(perclient_ratios), median(php_ratios)), max(median(perclient_ratios), median(php_ratios)) <= 1.5),
        ("TLS %d clients in a row: <= 4 connections" % PER_REQUEST_N, "%d (C), %d (PHP)" % (
            per_client_conns, php_conns), per_client_conns <= 4 and php_conns <= 4),
        ("TLS reconnects resume >= 90%", "%.0f%% (libcurl %.0f%%)" % (
            100 * close_share, 100 * resumed_share(closing["libcurl"])), close_share >= 0.9),
        ("TLS trust store read once per process", "the bundle opened %d time(s) for %d connections" % (
            bundle_opens, CLOSE_N + 1), bundle_opens == 1),
        ("TLS kept-alive wall <= 0.95 x libcurl", "%.2f x" % median(wall_ratios), median(wall_ratios) <= 0.95),
        ("TLS kept-alive CPU  <= 0.95 x libcurl", "%.2f x" % median(cpu_ratios), median(cpu_ratios) <= 0.95),
        ("TLS first call at 20 ms RTT <= 4.5 RTT", "%.2f RTT (libcurl %.2f)" % (first_ic, first_curl),
         first_ic <= 4.5),
        # 16 is the default concurrency (8 in flight could be at most 8 x faster than sequential).
        ("TLS batch of 100 at 20 ms RTT >= 8 x seq", "%.1f x at the default concurrency 16, %.1f x at 8" % (
            seq / median(batch["batch 16"]), seq / median(batch["batch 8"])), seq / median(batch["batch 16"]) >= 8),
    ]
    return out, targets
