#!/usr/bin/env bash
# Installs the package into a venv (target/python-demo) as users do and runs the Python demo. The
# demo reads ICD_CLIENT_ID and ICD_CLIENT_SECRET (and ICD_API_BASE, ICD_TOKEN_ENDPOINT when set).
set -euo pipefail

venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/python-demo/venv"
source "$(dirname "${BASH_SOURCE[0]}")/install-venv.sh"
install_package >&2
exec "$venv/bin/python" "$here/examples/demo.py"
