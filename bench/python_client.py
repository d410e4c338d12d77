"""The benchmark job with icdapi from Python (the package of bindings/python, ctypes over the
native library): one token, then N GETs of distinct entities with the ICD headers.

    VENV/bin/python python_client.py N BASE_URL [text|dict]

text: Client.get_text, the body as a str (as requests_client.py reads the body, unparsed);
dict: Client.get, the body parsed into a dict (what most programs do). Cache off, as the C
client's nocache mode. Prints one line of key=value pairs (times cover the job, not the import).
"""

import sys
import time

import icdapi
from client_clock import cpu_us, hwm_kib

FIRST_ENTITY_ID = 1000000000


def main():
    n, base = int(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "text"
    cpu0, t0 = cpu_us(), time.monotonic()
    client = icdapi.Client("bench", "bench", api_base=base, token_endpoint=base + "/connect/token",
                           language="en", api_version="v2", cache_entries=0)
    fetch = client.get_text if mode == "text" else client.get
    size = 0
    for i in range(n):
        size += len(fetch("/icd/release/11/2026-01/mms/%d" % (FIRST_ENTITY_ID + i)))
    client.close()
    wall, cpu = (time.monotonic() - t0) * 1e6, cpu_us() - cpu0
    print("client=icdapi-python mode=%s requests=%d wall_us=%.0f cpu_us=%.0f bytes=%d hwm_kib=%d"
          % (mode, n, wall, cpu, size if mode == "text" else n, hwm_kib()))


if __name__ == "__main__":
    main()
