#!/usr/bin/env bash
# The offline first hour: starts the local stand-in of the WHO ICD API in the foreground (Ctrl-C
# stops it), says what data it holds, and prints the environment to paste into the shell where
# your program runs (credentials it accepts, ICD_API_BASE, ICD_TOKEN_ENDPOINT).
#   scripts/standin.sh            http://127.0.0.1:8080, as the WHO cloud API (OAuth2 token)
#   scripts/standin.sh --local    as WHO's local deployment container (no token)
#   scripts/standin.sh --port N   another port (0 picks a free one)
#   scripts/standin.sh --releases 2024-01   only that ICD-11 release, as a local container
#                                 started with include=2024-01_en holds
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 is missing: install it (sudo apt-get install python3), then run this again" >&2
    exit 1
fi
exec python3 "$here/../tools/standin/icd_standin.py" --port 8080 --quiet --print-env "$@"
