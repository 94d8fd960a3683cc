#!/usr/bin/env bash
# Speed of presigned GET and PUT, and of large objects, beside a reference "limit" server
# (examples/limit_server.rs: hyper + strict-s3's SigV4 check, no storage), on this machine,
# in one sitting. Not part of the test suite: speed is measured here, never asserted in tests.
#
#   scripts/bench.sh                 # 3 runs of 10 s each, wrk -t1 -c32, 256 MiB objects
#   RUNS=1 DURATION=5 BIG_MIB=64 scripts/bench.sh
#   PEERS=0 scripts/bench.sh         # strict-s3 and the limit server only
#
# Every response is checked by benches/wrk/presigned.lua (status and body length); a run
# with one wrong answer is printed as INVALID. Each figure is the median of RUNS runs.
# Server CPU per request comes from /proc/PID/stat (user + system time) over the runs.
# Each row also says whether the server refused a presigned GET whose signature was altered.
#
# Peers, each optional (a row says how to install a missing one), installed in the checkout's
# .bench-peers/ so that nothing outside it is needed:
#   cargo install s3s-fs --version 0.14.1 --locked --features binary --root .bench-peers/cargo
#   npm install --prefix .bench-peers/node s3rver
#   python3 -m venv .bench-peers/moto-venv && .bench-peers/moto-venv/bin/pip install 'moto[server]'
# Two hardware figures taken in the same sitting (single-core MD5 and SHA-256, a durable disk
# write of BIG_MIB MiB) are printed under the table, to read the large-object figures against.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
BIG_MIB="${BIG_MIB:-256}"
PEERS="${PEERS:-1}"
PEER_DIR="$ROOT/.bench-peers"
ACCESS_KEY=AKIAIOSFODNN7EXAMPLE
SECRET_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
BIG_BYTES=$((BIG_MIB * 1024 * 1024))
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strict-s3-bench.XXXXXX")"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y -qq wrk >/dev/null
    else
        echo "error: wrk is required (Debian: apt-get install wrk)" >&2
        exit 1
    fi
fi
echo "building (release)…" >&2
cargo build --release --quiet --bin strict-s3 --example limit_server
BIN="$ROOT/target/release/strict-s3"
LIMIT="$ROOT/target/release/examples/limit_server"

# start NAME CMD...: runs a server printing "... listening on http://HOST:PORT" first; sets URL, PID.
start() {
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 200); do
        URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/$name.log" | head -1 || true)"
        [[ -n "$URL" ]] && return 0
        sleep 0.05
    done
    echo "error: $name did not start:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() { # → a port on 127.0.0.1 that nothing listens on
    local p
    for p in $(shuf -i 20000-60999 -n 100); do
        if ! port_open "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

# start_port NAME PORT CMD...: runs a server that listens on 127.0.0.1:PORT; sets URL, PID.
# Waits for the port for up to 30 s; returns 1 (server left to the cleanup) if it never opens.
start_port() {
    local name="$1" port="$2"; shift 2
    "$@" >"$WORK/$name.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    URL="http://127.0.0.1:$port"
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        port_open "$port" && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# Extra options for `strict-s3 presign` (the credentials of the server being measured).
SIGN=()
presign() { # METHOD ENDPOINT S3_URL
    "$BIN" presign "${SIGN[@]}" "$1" --endpoint "$2" --expires 7d "$3"
}

# make_bucket ENDPOINT ACCESS SECRET: a header-signed CreateBucket of "bench"; prints its status.
make_bucket() {
    curl -sS -o "$WORK/make_bucket.out" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$2:$3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT "$1/bench"
}

cpu_ticks() { # PID → utime+stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# median VALUE...: the median of the values (the lower middle one of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wrk_runs LABEL URL METHOD STATUS LENGTH [PUT_SIZE]: prints "median_rate cpu_us_per_req" or INVALID.
wrk_runs() {
    local label="$1" url="$2" method="$3" status="$4" length="$5" put="${6:-0}"
    local rates=() total_requests=0 t0 t1
    t0=$(cpu_ticks "$PID")
    for _ in $(seq 1 "$RUNS"); do
        local out
        out="$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s benches/wrk/presigned.lua "$url" -- "$method" "$status" "$length" "$put")"
        local line
        line="$(grep '^RESULT' <<<"$out")"
        if ! grep -q 'bad=0 errors=0' <<<"$line"; then
            echo "INVALID ($label: $line $(grep '^FIRST_BAD' <<<"$out" || true))"
            return 0
        fi
        rates+=("$(sed 's/.*rate=\([0-9.]*\).*/\1/' <<<"$line")")
        total_requests=$((total_requests + $(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")))
    done
    t1=$(cpu_ticks "$PID")
    local hz; hz=$(getconf CLK_TCK)
    awk -v m="$(median "${rates[@]}")" -v t="$((t1 - t0))" -v hz="$hz" -v n="$total_requests" \
        'BEGIN {printf "%.0f %.1f\n", m, (t / hz) * 1e6 / n}'
}

head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/1k.bin"
head -c "$BIG_BYTES" /dev/urandom >"$WORK/big.bin"

# large PUT_URL GET_URL: GB/s of a presigned PUT and GET of big.bin with curl, "PUT GET";
# INVALID unless both answer 200 and all BIG_MIB MiB went up and came back.
large() {
    local put get pc pt ps gc gt gs
    put=$(curl -sS -o "$WORK/large.put" -w '%{http_code} %{time_total} %{size_upload}' -T "$WORK/big.bin" "$1" || true)
    get=$(curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$2" || true)
    read -r pc pt ps <<<"$put"
    read -r gc gt gs <<<"$get"
    if [[ "$pc" != 200 || "$ps" != "$BIG_BYTES" || "$gc" != 200 || "$gs" != "$BIG_BYTES" ]]; then
        echo "INVALID (large: PUT status/s/bytes $put $(head -c 200 "$WORK/large.put"); GET $get)"
        return 0
    fi
    awk -v p="$pt" -v g="$gt" -v b="$BIG_BYTES" 'BEGIN {printf "%.2f %.2f\n", b / p / 1e9, b / g / 1e9}'
}

# field TEXT N: the Nth blank-separated field of TEXT.
field() { awk -v i="$2" '{print $i}' <<<"$1"; }

# large_median FIRST PUT_URL GET_URL: FIRST (one `large` result) and RUNS-1 more runs, the
# median of each column. One 256 MiB PUT varies by 2x between runs on a shared 2-core
# machine (0.44 to 0.96 s seen in a row), so one run says little.
large_median() {
    local first="$1" r puts=() gets=()
    [[ "$first" == INVALID* ]] && { echo "$first"; return 0; }
    puts+=("$(field "$first" 1)"); gets+=("$(field "$first" 2)")
    for ((r = 1; r < RUNS; r++)); do
        local one; one=$(large "$2" "$3")
        [[ "$one" == INVALID* ]] && { echo "$one"; return 0; }
        puts+=("$(field "$one" 1)"); gets+=("$(field "$one" 2)")
    done
    echo "$(median "${puts[@]}") $(median "${gets[@]}")"
}

# sigv4_checked GET_URL: "yes" if the server refuses the URL with one signature digit changed.
sigv4_checked() {
    local sig digit code
    sig="${1##*X-Amz-Signature=}"; sig="${sig%%&*}"
    if [[ "${sig:0:1}" == 0 ]]; then digit=1; else digit=0; fi
    code=$(curl -sS -o /dev/null -w '%{http_code}' "${1/X-Amz-Signature=$sig/X-Amz-Signature=$digit${sig:1}}" || true)
    if [[ "$code" == 403 ]]; then echo yes; else echo "no ($code)"; fi
}

# Hardware, in the same sitting: single-core MD5 and SHA-256, and a durable write of BIG_MIB MiB.
declare -A HW
if command -v openssl >/dev/null; then
    HW[hash.how]="openssl speed, 1 MiB blocks"
    while read -r algo gbps; do HW[$algo]=$gbps; done < <(
        openssl speed -bytes 1048576 -seconds 2 md5 sha256 2>/dev/null |
            awk '$1 == "md5" || $1 == "sha256" {sub(/k$/, "", $2); printf "%s %.2f\n", $1, $2 * 1000 / 1e9}')
else
    HW[hash.how]="head -c 256M /dev/zero | md5sum, sha256sum"
    for algo in md5 sha256; do
        t0=$(date +%s.%N)
        head -c 256M /dev/zero | "${algo}sum" >/dev/null
        HW[$algo]=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.2f", 268435456 / (t1 - t0) / 1e9}')
    done
fi
# The hash crates the server runs (examples/hash_speed.rs): a large PUT's own bound.
while read -r algo gbps; do HW[crate.$algo]=$gbps; done < <(
    cargo run --release --quiet --example hash_speed 2>/dev/null || true)
HW[disk]=$(LC_ALL=C dd if=/dev/zero of="$WORK/dd.bin" bs=1M count="$BIG_MIB" conv=fsync 2>&1 |
    awk -F', ' '/copied/ {split($1, b, " "); split($(NF - 1), t, " "); printf "%.2f", b[1] / t[1] / 1e9}')
rm -f "$WORK/dd.bin"

hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A RESULT
SERVERS=()
bench_server() { # NAME: the running server ($URL, $PID), presigning with $SIGN
    local name="$1" get_url put_url big_put big_get pid="$PID" up
    SERVERS+=("$name")
    get_url=$(presign get "$URL" s3://bench/1k)
    put_url=$(presign put "$URL" s3://bench/put-1k)
    big_put=$(presign put "$URL" s3://bench/big)
    big_get=$(presign get "$URL" s3://bench/big)
    up=200
    if [[ "$name" != limit ]]; then
        up=$(curl -sS -o "$WORK/upload.out" -w '%{http_code}' -T "$WORK/1k.bin" "$(presign put "$URL" s3://bench/1k)" || true)
    fi
    RESULT[$name.sig]=$(sigv4_checked "$get_url")
    if [[ "$up" == 200 ]]; then
        RESULT[$name.get]=$(wrk_runs "$name GET" "$get_url" GET 200 1024)
    else
        RESULT[$name.get]="INVALID ($name upload of the 1 KiB object: $up $(head -c 200 "$WORK/upload.out"))"
    fi
    RESULT[$name.put]=$(wrk_runs "$name PUT" "$put_url" PUT 200 -1 1024)
    local before; before=$(hwm_kib "$pid")
    if [[ "$name" == limit ]]; then
        # The limit server's GET answers 1 KiB; its large GET is measured on a second
        # instance that answers BIG_MIB.
        start limit-big "$LIMIT" 127.0.0.1:0 "$BIG_BYTES"
        big_get=$(presign get "$URL" s3://bench/big)
    fi
    # RSS is read after the first large PUT: the later ones replace the object, and a
    # replacement holds the old body until the new one is complete.
    local first; first=$(large "$big_put" "$big_get")
    RESULT[$name.rss]=$(( ($(hwm_kib "$pid") - before) / 1024 ))
    RESULT[$name.large]=$(large_median "$first" "$big_put" "$big_get")
}

# skip_peer NAME WHY: a row that says why the peer was not measured.
skip_peer() { SERVERS+=("$1"); RESULT[$1.skip]="$2"; }
VERSIONS=()

bench_s3s_fs() {
    local bin="$PEER_DIR/cargo/bin/s3s-fs" port code
    if [[ ! -x "$bin" ]]; then
        skip_peer s3s-fs "not installed: cargo install s3s-fs --version 0.14.1 --locked --features binary --root .bench-peers/cargo"
        return 0
    fi
    VERSIONS+=("$("$bin" --version)")
    mkdir -p "$WORK/s3s-fs"
    port=$(free_port) || { skip_peer s3s-fs "no free port on 127.0.0.1"; return 0; }
    if ! start_port s3s-fs "$port" "$bin" --host 127.0.0.1 --port "$port" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" "$WORK/s3s-fs"; then
        skip_peer s3s-fs "did not start: $(tail -n 1 "$WORK/s3s-fs.log")"
        return 0
    fi
    code=$(make_bucket "$URL" "$ACCESS_KEY" "$SECRET_KEY" || true)
    if [[ "$code" != 200 ]]; then
        skip_peer s3s-fs "INVALID (CreateBucket: $code $(head -c 200 "$WORK/make_bucket.out"))"
        return 0
    fi
    SIGN=()
    bench_server s3s-fs
}

bench_s3rver() {
    local js="$PEER_DIR/node/node_modules/s3rver/bin/s3rver.js" port
    if [[ ! -f "$js" ]] || ! command -v node >/dev/null; then
        skip_peer s3rver "not installed: npm install --prefix .bench-peers/node s3rver (needs node)"
        return 0
    fi
    VERSIONS+=("s3rver $(node -p "require('$PEER_DIR/node/node_modules/s3rver/package.json').version") (node $(node --version))")
    mkdir -p "$WORK/s3rver"
    port=$(free_port) || { skip_peer s3rver "no free port on 127.0.0.1"; return 0; }
    # --silent: no log line per request, as the other servers log none.
    if ! start_port s3rver "$port" node "$js" --address 127.0.0.1 --port "$port" \
        --directory "$WORK/s3rver" --configure-bucket bench --silent; then
        skip_peer s3rver "did not start: $(tail -n 1 "$WORK/s3rver.log")"
        return 0
    fi
    # s3rver knows one account, S3RVER/S3RVER.
    SIGN=(--access-key S3RVER --secret-key S3RVER)
    bench_server s3rver
    SIGN=()
}

bench_moto() {
    local venv="$PEER_DIR/moto-venv" port code
    if [[ ! -x "$venv/bin/moto_server" ]]; then
        skip_peer moto "not installed: python3 -m venv .bench-peers/moto-venv && .bench-peers/moto-venv/bin/pip install 'moto[server]'"
        return 0
    fi
    VERSIONS+=("moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'))")
    port=$(free_port) || { skip_peer moto "no free port on 127.0.0.1"; return 0; }
    if ! start_port moto "$port" "$venv/bin/moto_server" -H 127.0.0.1 -p "$port"; then
        skip_peer moto "did not start: $(tail -n 1 "$WORK/moto.log")"
        return 0
    fi
    code=$(make_bucket "$URL" "$ACCESS_KEY" "$SECRET_KEY" || true)
    if [[ "$code" != 200 ]]; then
        skip_peer moto "INVALID (CreateBucket: $code $(head -c 200 "$WORK/make_bucket.out"))"
        return 0
    fi
    SIGN=()
    bench_server moto
}

start limit "$LIMIT" 127.0.0.1:0 1024
bench_server limit
start memory "$BIN" --addr 127.0.0.1:0 --in-memory --bucket bench
bench_server memory
start disk "$BIN" --addr 127.0.0.1:0 --data-dir "$WORK/data" --bucket bench
bench_server disk
if [[ "$PEERS" != 0 ]]; then
    bench_s3s_fs
    bench_s3rver
    bench_moto
fi

ratio() { # VALUE LIMIT
    awk -v v="$1" -v l="$2" 'BEGIN { if (l > 0) printf "%.0f %%", 100 * v / l; else print "-" }'
}

echo
echo "strict-s3 bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before: $LOAD_BEFORE"
echo "wrk -t1 -c$CONNS, ${DURATION}s × $RUNS runs (median), one presigned URL replayed, every response checked; large objects ${BIG_MIB} MiB with curl (median of $RUNS)"
printf '\n| %-8s | %-8s | %-18s | %-18s | %-17s | %-14s | %-14s | %-9s |\n' server SigV4 "GET 1 KiB /s" "PUT 1 KiB /s" "CPU µs/req G / P" "large PUT GB/s" "large GET GB/s" "RSS +MiB"
printf '|%s|\n' "----------|----------|--------------------|--------------------|-------------------|----------------|----------------|-----------"
lg=$(field "${RESULT[limit.get]}" 1); lp=$(field "${RESULT[limit.put]}" 1)
llp=$(field "${RESULT[limit.large]}" 1); llg=$(field "${RESULT[limit.large]}" 2)
for name in "${SERVERS[@]}"; do
    if [[ -n "${RESULT[$name.skip]:-}" ]]; then
        printf '| %-8s | %s |\n' "$name" "${RESULT[$name.skip]}"
        continue
    fi
    g="${RESULT[$name.get]}"; p="${RESULT[$name.put]}"; l="${RESULT[$name.large]}"
    if [[ "$g" == INVALID* || "$p" == INVALID* || "$l" == INVALID* ]]; then
        printf '| %-8s | %-8s | %s %s %s |\n' "$name" "${RESULT[$name.sig]}" "$g" "$p" "$l"
        continue
    fi
    printf '| %-8s | %-8s | %-18s | %-18s | %-17s | %-14s | %-14s | %-9s |\n' "$name" "${RESULT[$name.sig]}" \
        "$(field "$g" 1) ($(ratio "$(field "$g" 1)" "$lg"))" \
        "$(field "$p" 1) ($(ratio "$(field "$p" 1)" "$lp"))" \
        "$(field "$g" 2) / $(field "$p" 2)" \
        "$(field "$l" 1) ($(ratio "$(field "$l" 1)" "$llp"))" \
        "$(field "$l" 2) ($(ratio "$(field "$l" 2)" "$llg"))" \
        "${RESULT[$name.rss]}"
done
if ((${#VERSIONS[@]} > 0)); then
    echo
    echo "peers: $(printf '%s, ' "${VERSIONS[@]}" | sed 's/, $//')"
fi
echo
echo "hardware, same sitting:"
printf '| %-56s | %-6s |\n' "" "GB/s"
printf '|%s|\n' "----------------------------------------------------------|--------"
printf '| %-56s | %-6s |\n' "MD5, 1 core (${HW[hash.how]})" "${HW[md5]:-?}"
printf '| %-56s | %-6s |\n' "MD5, 1 core, md-5 crate (what the server runs)" "${HW[crate.md5]:-?}"
printf '| %-56s | %-6s |\n' "SHA-256, 1 core" "${HW[sha256]:-?}"
printf '| %-56s | %-6s |\n' "SHA-256, 1 core, sha2 crate (what the server runs)" "${HW[crate.sha256]:-?}"
printf '| %-56s | %-6s |\n' "disk write ${BIG_MIB} MiB, dd conv=fsync, in $(dirname "$WORK") ($(stat -f -c %T "$WORK"))" "${HW[disk]:-?}"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
