"""The Python row of the benchmark: the job of section 1 (one token, N GETs of distinct entities)
done by icdapi from Python, next to requests.Session per request and icdapi from C, in
alternating rounds against the nginx that run.sh started. run.sh runs it after runner.py and it
appends its section to the report.

    python3 python_bench.py --bin DIR --bench-dir DIR --python VENV/bin/python --base URL --out REPORT
"""

import argparse
import os
import sys
import tempfile
import time

from runner import env_int, median, run
from tls_bench import callgrind_instructions

N = env_int("BENCH_N", 3000, 200)
ROUNDS = env_int("BENCH_ROUNDS", 9, 2)
BASELINE_ROUNDS = env_int("BENCH_BASELINE_ROUNDS", 5, 2)
CALLGRIND_N = env_int("BENCH_PY_CALLGRIND_N", 200, 20)
FAST = "icdapi from Python"  # the row the targets are about


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="where run.sh built icdapi_client")
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--python", required=True, help="a venv's python with the icdapi package installed")
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True, help="the report to append to")
    args = ap.parse_args()

    def log(msg):
        print("== " + msg, file=sys.stderr, flush=True)

    clients = [
        ("icdapi from C", lambda n: [args.bin + "/icdapi_client", str(n), args.base, "nocache"]),
        (FAST, lambda n: [args.python, args.bench_dir + "/python_client.py", str(n), args.base, "text"]),
        (FAST + ", dict", lambda n: [args.python, args.bench_dir + "/python_client.py", str(n), args.base, "dict"]),
        ("requests", lambda n: [sys.executable, args.bench_dir + "/requests_client.py", str(n), args.base]),
    ]
    started = "%s UTC, load %.2f %.2f %.2f" % ((time.strftime("%Y-%m-%d %H:%M", time.gmtime()),) + os.getloadavg())
    log("Python: smoke test, start-up cost (%d rounds), %d rounds x %d clients x N=%d"
        % (BASELINE_ROUNDS, ROUNDS, len(clients), N))
    for name, cmd in clients:
        if int(run(cmd(3))["requests"]) != 3:
            sys.exit("smoke test failed for %s" % name)
    startup = {name: [] for name, _ in clients}
    runs = {name: [] for name, _ in clients}
    for rnd in range(BASELINE_ROUNDS):
        for name, cmd in clients[rnd % len(clients):] + clients[:rnd % len(clients)]:
            startup[name].append(run(cmd(0))["proc_cpu_us"])
    for rnd in range(ROUNDS):
        for name, cmd in clients[rnd % len(clients):] + clients[:rnd % len(clients)]:
            runs[name].append(run(cmd(N)))
        log("  Python round %d/%d done" % (rnd + 1, ROUNDS))

    # Instructions are what this shared machine cannot disturb: each further request = (run of
    # N - run of 1) / (N - 1), the whole process (the interpreter included) under callgrind.
    log("Python: instructions per request (callgrind, N=%d and 1)" % CALLGRIND_N)
    fixed_hash = {"PYTHONHASHSEED": "0"}
    instructions = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, cmd in clients:
            many = callgrind_instructions(cmd(CALLGRIND_N), fixed_hash, scratch)
            instructions[name] = (many - callgrind_instructions(cmd(1), fixed_hash, scratch)) / (CALLGRIND_N - 1)

    rows = {}
    for name, _ in clients:
        start = median(startup[name])
        rows[name] = {"walls": [r["wall_us"] / N for r in runs[name]],
                      "cpus": [(r["proc_cpu_us"] - start) / N for r in runs[name]], "startup_ms": start / 1000}

    def ratios(a, b, key="walls"):
        """a's figure over b's, round by round (they ran seconds apart)."""
        return [x / y for x, y in zip(rows[a][key], rows[b][key])]

    out = []
    p = out.append
    p("")
    p("8. Python: the job of section 1 from Python. icdapi is the package of bindings/python (the")
    p("   wheel maturin builds, ctypes over the same library; get_text gives the body as str, get")
    p("   parses it into a dict); requests.Session reads the body as bytes, unparsed. Cache off;")
    p("   N = %d, %d alternating rounds with icdapi from C, medians; ratios taken round by round." % (N, ROUNDS))
    p("   Started %s." % started)
    p("")
    p("  %-26s %8s %8s %9s %11s %11s %12s %8s %8s" % (
        "client", "wall", "CPU", "start-up", "requests /", "/ icdapi C", "instructions", "req. /", "/ C"))
    p("  %-26s %8s %8s %9s %11s %11s %12s %8s %8s" % (
        "", "µs/req", "µs/req", "CPU ms", "this, wall", "wall", "per request", "this", "instr."))
    for name, _ in clients:
        row = rows[name]
        p("  %-26s %8.1f %8.1f %9.1f %10.2fx %10.2fx %12.0f %7.2fx %7.2fx" % (
            name, median(row["walls"]), median(row["cpus"]), row["startup_ms"],
            median(ratios("requests", name)), median(ratios(name, "icdapi from C")), instructions[name],
            instructions["requests"] / instructions[name], instructions[name] / instructions["icdapi from C"]))
    faster = median(ratios("requests", FAST))
    near_c = median(ratios(FAST, "icdapi from C"))
    p("  requests / icdapi from Python by round, wall: %s" % " ".join("%.2f" % x for x in ratios("requests", FAST)))
    p("  icdapi from Python / from C by round, wall:   %s" % " ".join("%.2f" % x for x in ratios(FAST, "icdapi from C")))
    p("  Instructions: the whole process under callgrind, (run of %d - run of 1) / %d; the same"
      % (CALLGRIND_N, CALLGRIND_N - 1))
    p("  whatever else the machine does (wall and CPU times here swing with the other work on it).")
    p("  Targets")
    p("  %s  icdapi from Python >= 5x faster than requests   %.2fx (wall), %.2fx (CPU), %.2fx (instructions)" % (
        "PASS" if faster >= 5 else "MISS", faster, median(ratios("requests", FAST, "cpus")),
        instructions["requests"] / instructions[FAST]))
    p("  %s  icdapi from Python within 1.5x of icdapi from C  %.2fx (wall), %.2fx (CPU), %.2fx (instructions)" % (
        "PASS" if near_c <= 1.5 else "MISS", near_c, median(ratios(FAST, "icdapi from C", "cpus")),
        instructions[FAST] / instructions["icdapi from C"]))
    section = "\n".join(out) + "\n"
    sys.stdout.write(section)
    with open(args.out, "a") as report:
        report.write(section)


if __name__ == "__main__":
    main()
