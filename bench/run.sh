#!/usr/bin/env bash
# The icdapi benchmark: icdapi vs libcurl vs Python requests against nginx on loopback, then
# icdapi's thread scaling, cache-hit latency and peak RSS, then the TLS scenarios (nginx over TLS
# with a CA made for the run, a delaying proxy, PHP, callgrind). See bench/README.md.
#
#   bash bench/run.sh            # the full run (a few minutes); the report goes to stdout and
#                                # to bench/results.txt
#   BENCH_QUICK=1 bash bench/run.sh   # a smoke run with small numbers (results.txt untouched)
#
# Tunables (environment): BENCH_N (3000), BENCH_ROUNDS (9), BENCH_THREAD_TOTAL (20000),
# BENCH_THREAD_ROUNDS (5), BENCH_HITS (100000), BENCH_RSS_N (100000), BENCH_WORKERS (nginx
# worker processes, 2), BENCH_OUT (report file). BENCH_SERVE=1 only builds and starts nginx and
# waits (for profiling by hand); BENCH_SERVE_INFO=FILE then receives
# "PORT BINDIR TLS_PORT CLOSE_PORT CA_FILE".
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3

log() { echo "== $*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
dpkg -s libjson-c-dev >/dev/null 2>&1 || missing+=(libjson-c-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[[ -x $PY ]] && $PY -c 'import requests' >/dev/null 2>&1 || missing+=(python3 python3-requests)
[[ -x $PY ]] && $PY -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
php -m 2>/dev/null | grep -qx curl || missing+=(php-curl)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v strace >/dev/null 2>&1 || missing+=(strace)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
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
    [[ -z ${DELAY_PID:-} ]] || kill "$DELAY_PID" 2>/dev/null || true
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
gcc "${CFLAGS[@]}" -o "$WORK/icdapi_maps" "$BENCH_DIR/icdapi_maps.c" \
    -L"$WORK/lib" -licdapi -Wl,-rpath,"$WORK/lib"
gcc "${CFLAGS[@]}" -o "$WORK/curl_client" "$BENCH_DIR/curl_client.c" $(curl-config --libs 2>/dev/null || echo -lcurl) -ljson-c

# The Python row (python_bench.py): the package of bindings/python in a venv of the same python3
# that runs requests, installed as users do (maturin from PyPI builds the wheel).
log "installing the Python package into a venv (pip install ./bindings/python)"
$PY -m venv "$WORK/pyvenv"
"$WORK/pyvenv/bin/python" -m pip install --quiet --disable-pip-version-check "$ROOT/bindings/python"

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
# TLS: a CA made for this run and a certificate for 127.0.0.1 and localhost signed by it; the
# "system" bundle is Debian's with that CA added (for the scenario with the system trust store).
TLS="$WORK/tls"
mkdir -p "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=icdapi bench CA" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$TLS/ext.cnf"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
    -extfile "$TLS/ext.cnf" -out "$TLS/server.pem" 2>/dev/null
cat /etc/ssl/certs/ca-certificates.crt "$TLS/ca.pem" >"$TLS/system-bundle.pem"
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
TLS_PORT=$(free_port)
CLOSE_PORT=$(free_port)
DELAY_TOKEN_PORT=$(free_port)
DELAY_API_PORT=$(free_port)

# The ICD locations, served the same way over plain HTTP and over TLS.
cat >"$NG/icd.conf" <<EOF
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
EOF

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
        include $NG/icd.conf;
    }
    # TLS, counted: the connection's serial and whether its session was resumed ("r" or ".").
    log_format conns '\$connection \$ssl_session_reused \$request_method \$uri';
    ssl_certificate $TLS/server.pem;
    ssl_certificate_key $TLS/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:TLS:4m;
    server {
        listen 127.0.0.1:$TLS_PORT ssl;
        access_log $NG/tls-keep.log conns;
        include $NG/icd.conf;
    }
    # A server that closes every connection after its answer.
    server {
        listen 127.0.0.1:$CLOSE_PORT ssl;
        keepalive_timeout 0;
        access_log $NG/tls-close.log conns;
        include $NG/icd.conf;
    }
}
EOF
run_nginx=("$NGINX" -p "$NG" -e "$NG/error.log" -c "$NG/nginx.conf")
if ((EUID == 0)); then
    # Not as root: nginx runs as nobody, in its own temporary directory.
    chown -R nobody:nogroup "$NG" "$TLS" 2>/dev/null || chown -R nobody "$NG" "$TLS"
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
for port in "$TLS_PORT" "$CLOSE_PORT"; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
done

# The delaying proxy: two origins (the token endpoint's and the API's, as WHO has two hosts)
# in front of the TLS server, each adding 10 ms each way.
$PY "$BENCH_DIR/delay_proxy.py" 10 "$TLS_PORT" "$DELAY_TOKEN_PORT" "$DELAY_API_PORT" >"$WORK/delay.out" 2>&1 &
DELAY_PID=$!
for _ in $(seq 100); do grep -q READY "$WORK/delay.out" 2>/dev/null && break; sleep 0.05; done

if [[ ${BENCH_SERVE:-0} == 1 ]]; then
    # For profiling by hand: keep nginx and the built clients until interrupted.
    echo "serving at http://127.0.0.1:$PORT; clients built in $WORK (e.g. $WORK/icdapi_client 2000 http://127.0.0.1:$PORT)"
    echo "$PORT $WORK $TLS_PORT $CLOSE_PORT $TLS/ca.pem" >"${BENCH_SERVE_INFO:-/dev/null}"
    wait "$NGINX_PID" || true
    exit 0
fi

# --- The measurements ------------------------------------------------------------------------------
OUT=${BENCH_OUT:-$BENCH_DIR/results.txt}
[[ ${BENCH_QUICK:-0} == 1 && -z ${BENCH_OUT:-} ]] && OUT="$WORK/results.txt"
export NGINX_BIN="$NGINX" NGINX_WORKERS="$WORKERS"
$PY "$BENCH_DIR/runner.py" --bin "$WORK" --bench-dir "$BENCH_DIR" --root "$ROOT" \
    --base "http://127.0.0.1:$PORT" --out "$OUT" \
    --tls-keep "https://127.0.0.1:$TLS_PORT" --tls-close "https://127.0.0.1:$CLOSE_PORT" \
    --tls-keep-log "$NG/tls-keep.log" --tls-close-log "$NG/tls-close.log" --tls-ca "$TLS/ca.pem" \
    --tls-system-bundle "$TLS/system-bundle.pem" --tls-system-dir /etc/ssl/certs \
    --delay-token "https://localhost:$DELAY_TOKEN_PORT" --delay-api "https://127.0.0.1:$DELAY_API_PORT" \
    --lib "$WORK/lib/libicdapi.so"
$PY "$BENCH_DIR/python_bench.py" --bin "$WORK" --bench-dir "$BENCH_DIR" --python "$WORK/pyvenv/bin/python" \
    --base "http://127.0.0.1:$PORT" --out "$OUT"
# Navigation and maps: mapping tables loaded and looked up, icd_ancestors at 20 ms, map-csv
# (the stand-in behind its own delaying proxy; see navigation_bench.py).
log "navigation and maps (navigation_bench.py)"
$PY "$BENCH_DIR/navigation_bench.py" --python "$WORK/pyvenv/bin/python" --maps-bin "$WORK/icdapi_maps" \
    --root "$ROOT" --out "$OUT"
# Death certificates: code-deaths vs one call at a time at 20 ms, and its memory (the stand-in
# behind its own delaying proxy; see deaths_bench.py).
log "death certificates: code-deaths vs one call at a time (deaths_bench.py)"
$PY "$BENCH_DIR/deaths_bench.py" --python "$WORK/pyvenv/bin/python" --root "$ROOT" --out "$OUT"
$PY "$BENCH_DIR/async_bench.py" --root "$ROOT" --python "$WORK/pyvenv/bin/python" \
    --delay-token "https://localhost:$DELAY_TOKEN_PORT" --delay-api "https://127.0.0.1:$DELAY_API_PORT" \
    --ca "$TLS/ca.pem" --out "$OUT" --calls "$([[ ${BENCH_QUICK:-0} == 1 ]] && echo 200 || echo 1000)"
log "report written to $OUT"
