#!/usr/bin/env bash
# The icdapi benchmark: icdapi vs libcurl vs Python requests against nginx on loopback, then
# icdapi's thread scaling, cache-hit latency and peak RSS. See bench/README.md.
#
#   bash bench/run.sh            # the full run (a few minutes); the report goes to stdout and
#                                # to bench/results.txt
#   BENCH_QUICK=1 bash bench/run.sh   # a smoke run with small numbers (results.txt untouched)
#
# Tunables (environment): BENCH_N (3000), BENCH_ROUNDS (9), BENCH_THREAD_TOTAL (20000),
# BENCH_THREAD_ROUNDS (5), BENCH_HITS (100000), BENCH_RSS_N (100000), BENCH_WORKERS (nginx
# worker processes, 2), BENCH_OUT (report file). BENCH_SERVE=1 only builds and starts nginx and
# waits (for profiling by hand); BENCH_SERVE_INFO=FILE then receives "PORT BINDIR".
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3

log() { echo "== $*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[[ -x $PY ]] && $PY -c 'import requests' >/dev/null 2>&1 || missing+=(python3 python3-requests)
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust (https://rustup.rs), then run this again" >&2
    exit 1
fi

# --- Builds ------------------------------------------------------------------------------------
log "building libicdapi (cargo build --release)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
LIBDIR="$ROOT/target/release"
[[ -f $LIBDIR/libicdapi.so ]] || { echo "no $LIBDIR/libicdapi.so after the build" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/icdapi-bench.XXXXXX")
NGINX_PID=
cleanup() {
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A snapshot of the library, so that a rebuild during the run does not change what is measured;
# the link name it is loaded by (its soname, e.g. libicdapi.so.0) points at it.
mkdir -p "$WORK/lib"
cp "$LIBDIR/libicdapi.so" "$WORK/lib/libicdapi.so"
SONAME=$(objdump -p "$WORK/lib/libicdapi.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
[[ -z $SONAME || $SONAME == libicdapi.so ]] || ln -s libicdapi.so "$WORK/lib/$SONAME"

log "building the C clients (gcc -O2)"
CFLAGS=(-O2 -Wall -Wextra -std=gnu11 -I"$ROOT/include" -I"$BENCH_DIR")
gcc "${CFLAGS[@]}" -o "$WORK/icdapi_client" "$BENCH_DIR/icdapi_client.c" \
    -L"$WORK/lib" -licdapi -Wl,-rpath,"$WORK/lib"
gcc "${CFLAGS[@]}" -pthread -o "$WORK/icdapi_threads" "$BENCH_DIR/icdapi_threads.c" \
    -L"$WORK/lib" -licdapi -Wl,-rpath,"$WORK/lib"
gcc "${CFLAGS[@]}" -o "$WORK/icdapi_batch" "$BENCH_DIR/icdapi_batch.c" \
    -L"$WORK/lib" -licdapi -Wl,-rpath,"$WORK/lib"
gcc "${CFLAGS[@]}" -o "$WORK/curl_client" "$BENCH_DIR/curl_client.c" $(curl-config --libs 2>/dev/null || echo -lcurl)

# --- nginx on a free loopback port ---------------------------------------------------------------
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORKERS=${BENCH_WORKERS:-2}
NG="$WORK/nginx"
mkdir -p "$NG/www" "$NG/tmp"
cp "$BENCH_DIR/data/mms_entity_1439886552_malaria_2023-01.json" "$NG/www/entity.json"
TOKEN_JSON=$(tr -d '\n' <"$BENCH_DIR/data/token_response_200.json")
ACCESS_TOKEN=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' \
    "$BENCH_DIR/data/token_response_200.json")
case "$ACCESS_TOKEN" in *[\'\$\"\\\ ]* | '') echo "token unfit for nginx.conf" >&2; exit 1 ;; esac
case "$TOKEN_JSON" in *[\'\$\\]*) echo "token response unfit for nginx.conf" >&2; exit 1 ;; esac
cat >"$NG/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    keepalive_requests 100000;
    keepalive_timeout 300s;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    types { }
    default_type application/json;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $NG/www;
        # The token endpoint: any form POST gets the recorded token response.
        location = /connect/token {
            if (\$request_method != POST) { return 405; }
            return 200 '$TOKEN_JSON';
        }
        # Any MMS entity: the recorded malaria entity, as the API answers it. Requests without
        # the bearer token or the API-Version header are refused, so every client really sends them.
        location ~ ^/icd/release/11/[^/]+/mms/ {
            if (\$http_authorization != "Bearer $ACCESS_TOKEN") { return 401 "Unauthorized"; }
            if (\$http_api_version = "") { return 400; }
            add_header Cache-Control "public,max-age=36000";
            try_files /entity.json =404;
        }
        location / { return 404; }
    }
}
EOF
run_nginx=("$NGINX" -p "$NG" -e "$NG/error.log" -c "$NG/nginx.conf")
if ((EUID == 0)); then
    # Not as root: nginx runs as nobody, in its own temporary directory.
    chown -R nobody:nogroup "$NG" 2>/dev/null || chown -R nobody "$NG"
    chmod 755 "$WORK"
    run_nginx=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "${run_nginx[@]}")
fi
log "starting nginx ($WORKERS workers) on 127.0.0.1:$PORT"
"${run_nginx[@]}" </dev/null >"$WORK/nginx.out" 2>&1 &
NGINX_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/nginx.out" "$NG/error.log" >&2 2>/dev/null; exit 1; }
    sleep 0.05
done

if [[ ${BENCH_SERVE:-0} == 1 ]]; then
    # For profiling by hand: keep nginx and the built clients until interrupted.
    echo "serving at http://127.0.0.1:$PORT; clients built in $WORK (e.g. $WORK/icdapi_client 2000 http://127.0.0.1:$PORT)"
    echo "$PORT $WORK" >"${BENCH_SERVE_INFO:-/dev/null}"
    wait "$NGINX_PID" || true
    exit 0
fi

# --- The measurements ------------------------------------------------------------------------------
OUT=${BENCH_OUT:-$BENCH_DIR/results.txt}
[[ ${BENCH_QUICK:-0} == 1 && -z ${BENCH_OUT:-} ]] && OUT="$WORK/results.txt"
export NGINX_BIN="$NGINX" NGINX_WORKERS="$WORKERS"
$PY "$BENCH_DIR/runner.py" --bin "$WORK" --bench-dir "$BENCH_DIR" --root "$ROOT" \
    --base "http://127.0.0.1:$PORT" --out "$OUT"
log "report written to $OUT"
