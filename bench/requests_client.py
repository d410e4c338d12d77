"""The benchmark job with Python requests.Session, as the WHO samples do it: one token with a form
POST, then N GETs of distinct entities with the ICD headers, each body read fully.

    /usr/bin/python3 requests_client.py N BASE_URL

Prints one line of key=value pairs, like icdapi_client (times cover the job, not the import).
"""

import sys
import time

import requests
from client_clock import cpu_us, hwm_kib

FIRST_ENTITY_ID = 1000000000


def main():
    n, base = int(sys.argv[1]), sys.argv[2]
    cpu0, t0 = cpu_us(), time.monotonic()
    session = requests.Session()
    r = session.post(
        base + "/connect/token",
        data={"grant_type": "client_credentials", "scope": "icdapi_access",
              "client_id": "bench", "client_secret": "bench"},
    )
    r.raise_for_status()
    token = r.json()["access_token"]
    headers = {
        "Authorization": "Bearer " + token,
        "Accept": "application/json",
        "Accept-Language": "en",
        "API-Version": "v2",
    }
    nbytes = 0
    for i in range(n):
        r = session.get("%s/icd/release/11/2026-01/mms/%d" % (base, FIRST_ENTITY_ID + i), headers=headers)
        if r.status_code != 200:
            sys.exit("requests_client: HTTP %d" % r.status_code)
        nbytes += len(r.content)
    wall, cpu = (time.monotonic() - t0) * 1e6, cpu_us() - cpu0
    print("client=requests requests=%d wall_us=%.0f cpu_us=%.0f bytes=%d hwm_kib=%d"
          % (n, wall, cpu, nbytes, hwm_kib()))


if __name__ == "__main__":
    main()
