"""make bench, section 9: calls that do not block a thread. N concurrent GETs at 20 ms RTT (the
delaying proxy in front of nginx over TLS): C# GetAsync against Task.Run over the synchronous
Get (on Mono), Python AsyncClient against run_in_executor over Client — wall time, and the
most threads the process had while they ran (sampled every 5 ms from /proc/self/status).

    python3 async_bench.py --root DIR --python VENV/bin/python --delay-token URL --delay-api URL
                           --ca PEM --out REPORT [--calls N]

As a client (run by the above with the venv's Python):
    python async_bench.py --client asyncclient|executor N API TOKEN CA
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time

CALLS = 1000
ROUNDS = 3


def threads_now():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def python_client(mode, n, api, token, ca):
    import icdapi

    client = icdapi.Client("bench-client", "bench-secret", api_base=api, token_endpoint=token, ca_file=ca,
                           cache_entries=0)
    client.get_text("/icd/release/11/2024-01/mms/0")
    paths = ["/icd/release/11/2024-01/mms/%d" % i for i in range(1, n + 1)]
    before = threads_now()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], threads_now())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()

    async def with_async_client():
        async with icdapi.AsyncClient("bench-client", "bench-secret", api_base=api, token_endpoint=token,
                                      ca_file=ca, cache_entries=0) as native:
            await native.get_text("/icd/release/11/2024-01/mms/0")
            started = time.perf_counter()
            answers = await asyncio.gather(*(native.get_text(path) for path in paths))
            return time.perf_counter() - started, answers

    async def with_executor():
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        answers = await asyncio.gather(*(loop.run_in_executor(None, client.get_text, path) for path in paths))
        return time.perf_counter() - started, answers

    seconds, answers = asyncio.run(with_async_client() if mode == "asyncclient" else with_executor())
    done.set()
    sampler.join()
    client.close()
    assert all(len(answer) > 100 for answer in answers)
    # The sampler is one of the threads counted.
    print(json.dumps({"seconds": round(seconds, 3), "threads_before": before, "threads_peak": peak[0] - 1}))


def run(cmd, env=None):
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit("%s failed: %s%s" % (cmd[0], done.stdout, done.stderr))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        mode, n, api, token, ca = sys.argv[2:7]
        return python_client(mode, int(n), api, token, ca)
    ap = argparse.ArgumentParser()
    for name in ("root", "python", "delay-token", "delay-api", "ca", "out"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--calls", type=int, default=CALLS)
    args = ap.parse_args()
    target = [str(args.calls), args.delay_api, args.delay_token + "/connect/token", args.ca]

    csharp = os.path.join(args.root, "bindings", "csharp")
    built = subprocess.run(["bash", "-c", 'source "$1/build-binding.sh" && mcs -nologo -langversion:7 -r:"$out/IcdApi.dll" '
                            '-r:System.Core.dll -out:"$out/AsyncBench.exe" "$2" && echo "$out"',
                            "build", csharp, os.path.join(os.path.dirname(os.path.abspath(__file__)), "AsyncBench.cs")],
                           capture_output=True, text=True)
    rows = []
    if built.returncode != 0:
        rows.append(("C#", "not built: " + built.stderr.strip()[:200], None))
    else:
        out = built.stdout.strip().splitlines()[-1]
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(args.root, "target", "release"))
        for mode, name in (("async", "C# GetAsync (icd_start)"), ("taskrun", "C# Task.Run(() => Get(...))")):
            rows.append((name, None, [run(["mono", os.path.join(out, "AsyncBench.exe"), mode] + target, env)
                                      for _ in range(ROUNDS)]))
    me = os.path.abspath(__file__)
    for mode, name in (("asyncclient", "Python AsyncClient"), ("executor", "Python run_in_executor(Client)")):
        rows.append((name, None, [run([args.python, me, "--client", mode] + target) for _ in range(ROUNDS)]))

    lines = ["", "9. Calls that do not block a thread: %d concurrent GETs (distinct entities, cache off) at 20 ms"
             % args.calls,
             "   RTT (the delaying proxy in front of nginx over TLS), one client; median of %d runs; threads:" % ROUNDS,
             "   the most the process had while they ran (the runtime's own included), before -> peak.", ""]
    best = min(sorted(r["seconds"] for r in runs)[len(runs) // 2] for _, error, runs in rows if runs)
    for name, error, runs in rows:
        if error:
            lines.append("   %-34s %s" % (name, error))
            continue
        median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        lines.append("   %-34s %7.2f s  (%.2fx the best)   threads %d -> %d"
                     % (name, median["seconds"], median["seconds"] / best, median["threads_before"],
                        median["threads_peak"]))
    section = "\n".join(lines) + "\n"
    sys.stdout.write(section)
    with open(args.out, "a") as report:
        report.write(section)


if __name__ == "__main__":
    main()
