"""The death certificates row of the benchmark: `icdapi code-deaths` against the same job done one
call at a time, at 20 ms round trip, and its memory from 1,000 to 100,000 rows.

The API is the stand-in (tools/standin, --local: no token) behind delay_proxy.py, which adds 10 ms
each way. The file holds BENCH_DEATHS_ROWS certificates (10,000), BENCH_DEATHS_DISTINCT of them
distinct (1,000). "One call at a time" is what a user writes without the command: a csv.DictReader
loop calling client.doris(**row) for every row, with the library's defaults (its response cache
included, so repeated certificates are not asked twice there either). Memory: code-deaths' peak
RSS (the child's ru_maxrss) on 1,000 and on 100,000 rows of the same 1,000 certificates.

    python3 deaths_bench.py --python VENV/bin/python --out REPORT [--root REPO]

The Python given must import icdapi (run.sh installs bindings/python into a venv). Appends its
section to REPORT and prints it.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

from bench_process import start  # bench/ is the script's directory, first on sys.path

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = int(os.environ.get("BENCH_DEATHS_ROWS", "10000"))
DISTINCT = int(os.environ.get("BENCH_DEATHS_DISTINCT", "1000"))
MEMORY_ROWS = (1000, int(os.environ.get("BENCH_DEATHS_MEMORY_ROWS", "100000")))
DELAY_MS = 10  # each way: 20 ms round trip
SPEEDUP_TARGET = 8.0
MEMORY_TARGET = 1.25  # peak RSS at 100,000 rows over peak RSS at 1,000 rows

ONE_AT_A_TIME = r"""
import csv, sys, icdapi
client = icdapi.Client.local(sys.argv[2])
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        row.pop("id")
        client.doris(**{k: v for k, v in row.items() if v})
"""


def write_certificates(path, rows, distinct):
    codes = ["1A00", "1A01", "1A02", "1A03", "1F40", "1F41", "1F42", "1F4Z", "1A07", "1A08"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "sex", "causeOfDeathCodeA", "causeOfDeathCodeB", "intervalA"])
        for i in range(rows):
            k = i % distinct  # distinct certificates, each repeated rows/distinct times
            out.writerow([i + 1, 1 + k % 2, codes[k % 10], codes[(k // 10) % 10], "P%dD" % (k // 100 + 1)])


def timed(cmd, env):
    """Runs cmd; returns (seconds, peak RSS in KiB of that child)."""
    began = time.monotonic()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - began
    err = process.stderr.read().decode()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (process.returncode, " ".join(cmd), err[-2000:]))
    return seconds, usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default=os.path.dirname(HERE))
    args = ap.parse_args()
    env = dict(os.environ)
    for name in [k for k in env if k.startswith("ICD_") or k.endswith("_PROXY") or k.endswith("_proxy")]:
        del env[name]

    standin, line = start([sys.executable, os.path.join(args.root, "tools/standin/icd_standin.py"),
                           "--local", "--port", "0", "--quiet"], "LISTENING")
    port = int(line.split()[1].rsplit(":", 1)[1])
    with tempfile.TemporaryDirectory() as work:
        proxy_port = _free_port()
        proxy, _ = start([sys.executable, os.path.join(HERE, "delay_proxy.py"), str(DELAY_MS), str(port),
                          str(proxy_port)], "READY")
        try:
            base = "http://127.0.0.1:%d" % proxy_port
            source = os.path.join(work, "deaths.csv")
            write_certificates(source, ROWS, DISTINCT)
            cli = [args.python, "-m", "icdapi", "--local", base, "code-deaths", source, "--ignore-column", "id",
                   "--output", os.path.join(work, "out.csv")]
            naive = [args.python, "-c", ONE_AT_A_TIME, source, base]
            # Each run is a fresh process with an empty cache; the stand-in keeps nothing between them.
            command_s, _ = timed(cli, env)
            naive_s, _ = timed(naive, env)
            memory = {}
            for rows in MEMORY_ROWS:
                path = os.path.join(work, "deaths-%d.csv" % rows)
                write_certificates(path, rows, min(DISTINCT, rows))
                memory[rows] = timed([args.python, "-m", "icdapi", "--local", base, "code-deaths", path,
                                      "--ignore-column", "id", "--output", os.path.join(work, "m.csv")], env)
        finally:
            proxy.kill()
            standin.kill()
            proxy.wait()
            standin.wait()

    speedup = naive_s / command_s
    growth = memory[MEMORY_ROWS[1]][1] / memory[MEMORY_ROWS[0]][1]
    report = "\n".join([
        "",
        "## Death certificates: code-deaths (%s UTC, load %.2f)" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                                                                   os.getloadavg()[0]),
        "%d certificates (%d distinct), stand-in behind delay_proxy.py at %d ms round trip:" % (ROWS, DISTINCT,
                                                                                              2 * DELAY_MS),
        "  code-deaths                        %7.2f s" % command_s,
        "  client.doris one call at a time    %7.2f s" % naive_s,
        "  speed-up                           %7.1fx  (target >= %.0fx: %s)" % (
            speedup, SPEEDUP_TARGET, "met" if speedup >= SPEEDUP_TARGET else "NOT met"),
        "code-deaths peak RSS (same %d certificates):" % DISTINCT,
        "  %7d rows                      %7.1f MiB  (%.2f s)" % (MEMORY_ROWS[0], memory[MEMORY_ROWS[0]][1] / 1024,
                                                              memory[MEMORY_ROWS[0]][0]),
        "  %7d rows                      %7.1f MiB  (%.2f s)" % (MEMORY_ROWS[1], memory[MEMORY_ROWS[1]][1] / 1024,
                                                              memory[MEMORY_ROWS[1]][0]),
        "  growth                             %7.2fx  (target <= %.2fx, flat: %s)" % (
            growth, MEMORY_TARGET, "met" if growth <= MEMORY_TARGET else "NOT met"),
        "",
    ])
    print(report)
    with open(args.out, "a", encoding="utf-8") as f:
        f.write(report)


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
