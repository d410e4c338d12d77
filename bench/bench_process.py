"""Helpers shared by the benchmarks that start their own servers (deaths_bench.py,
navigation_bench.py): a process started and waited for until it says it is ready."""

import subprocess
import sys


def start(cmd, ready):
    """Starts cmd and reads its first line: returns (process, line) once that line holds `ready`;
    ends the benchmark (killing the process) when it does not."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if ready not in line:
        process.kill()
        sys.exit("did not start: %s (%r)" % (cmd, line))
    return process, line
