#!/usr/bin/env bash
# Speed of presigned GET and PUT, and of large objects, beside a reference "limit" server
# (examples/limit_server.rs: hyper + strict-s3's SigV4 check, no storage), on this machine,
# in one sitting. Not part of the test suite: speed is measured here, never asserted in tests.
#
#   scripts/bench.sh                 # 3 runs of 10 s each, wrk -t1 -c32, 256 MiB objects
#   RUNS=1 DURATION=5 BIG_MIB=64 scripts/bench.sh
#
# Every response is checked by benches/wrk/presigned.lua (status and body length); a run
# with one wrong answer is printed as INVALID. Each figure is the median of RUNS runs.
# Server CPU per request comes from /proc/PID/stat (user + system time) over the runs.
# Peers (s3s-fs, s3rver, moto) are not wired in yet (issue 14).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
BIG_MIB="${BIG_MIB:-256}"
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

presign() { # METHOD ENDPOINT S3_URL
    "$BIN" presign "$1" --endpoint "$2" --expires 7d "$3"
}

cpu_ticks() { # PID → utime+stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

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
    local median; median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v m="$median" -v t="$((t1 - t0))" -v hz="$hz" -v n="$total_requests" \
        'BEGIN {printf "%.0f %.1f\n", m, (t / hz) * 1e6 / n}'
}

head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/1k.bin"
head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$WORK/big.bin"

# large PUT_URL GET_URL: seconds for a presigned PUT and GET of big.bin with curl.
large() {
    local put get
    put=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -T "$WORK/big.bin" "$1")
    get=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' "$2")
    [[ "$put" == 200* && "$get" == 200* ]] || { echo "INVALID (large: PUT $put, GET $get)"; return 0; }
    awk -v p="${put#* }" -v g="${get#* }" -v b="$((BIG_MIB * 1024 * 1024))" \
        'BEGIN {printf "%.2f %.2f\n", b / p / 1e9, b / g / 1e9}'
}

hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A RESULT
bench_server() { # NAME: the running server ($URL, $PID)
    local name="$1" get_url put_url big_put big_get pid="$PID"
    if [[ "$name" == limit ]]; then
        get_url=$(presign get "$URL" s3://bench/1k)
        put_url=$(presign put "$URL" s3://bench/put-1k)
        big_put=$(presign put "$URL" s3://bench/big)
    else
        curl -sS -o /dev/null -T "$WORK/1k.bin" "$(presign put "$URL" s3://bench/1k)"
        get_url=$(presign get "$URL" s3://bench/1k)
        put_url=$(presign put "$URL" s3://bench/put-1k)
        big_put=$(presign put "$URL" s3://bench/big)
    fi
    big_get=$(presign get "$URL" s3://bench/big)
    RESULT[$name.get]=$(wrk_runs "$name GET" "$get_url" GET 200 1024)
    RESULT[$name.put]=$(wrk_runs "$name PUT" "$put_url" PUT 200 -1 1024)
    local before; before=$(hwm_kib "$PID")
    if [[ "$name" == limit ]]; then
        # The limit server's GET answers 1 KiB; its large GET is measured on a second
        # instance that answers BIG_MIB.
        local put
        put=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -T "$WORK/big.bin" "$big_put")
        start limit-big "$LIMIT" 127.0.0.1:0 "$((BIG_MIB * 1024 * 1024))"
        local get
        get=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' "$(presign get "$URL" s3://bench/big)")
        RESULT[$name.large]=$(awk -v p="${put#* }" -v g="${get#* }" -v b="$((BIG_MIB * 1024 * 1024))" \
            'BEGIN {printf "%.2f %.2f\n", b / p / 1e9, b / g / 1e9}')
    else
        RESULT[$name.large]=$(large "$big_put" "$big_get")
    fi
    RESULT[$name.rss]=$(( ($(hwm_kib "$pid") - before) / 1024 ))
}

start limit "$LIMIT" 127.0.0.1:0 1024
bench_server limit
start memory "$BIN" --addr 127.0.0.1:0 --in-memory --bucket bench
bench_server memory
start disk "$BIN" --addr 127.0.0.1:0 --data-dir "$WORK/data" --bucket bench
bench_server disk

ratio() { # VALUE LIMIT
    awk -v v="$1" -v l="$2" 'BEGIN { if (l > 0) printf "%.0f %%", 100 * v / l; else print "-" }'
}
field() { awk -v i="$2" '{print $i}' <<<"$1"; }

echo
echo "strict-s3 bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before: $LOAD_BEFORE"
echo "wrk -t1 -c$CONNS, ${DURATION}s × $RUNS runs (median), one presigned URL replayed, every response checked; large objects ${BIG_MIB} MiB with curl"
printf '\n| %-8s | %-18s | %-18s | %-17s | %-14s | %-14s | %-9s |\n' server "GET 1 KiB /s" "PUT 1 KiB /s" "CPU µs/req G / P" "large PUT GB/s" "large GET GB/s" "RSS +MiB"
printf '|%s|\n' "----------|--------------------|--------------------|-------------------|----------------|----------------|-----------"
lg=$(field "${RESULT[limit.get]}" 1); lp=$(field "${RESULT[limit.put]}" 1)
llp=$(field "${RESULT[limit.large]}" 1); llg=$(field "${RESULT[limit.large]}" 2)
for name in limit memory disk; do
    g="${RESULT[$name.get]}"; p="${RESULT[$name.put]}"; l="${RESULT[$name.large]}"
    if [[ "$g" == INVALID* || "$p" == INVALID* || "$l" == INVALID* ]]; then
        printf '| %-8s | %s %s %s |\n' "$name" "$g" "$p" "$l"
        continue
    fi
    printf '| %-8s | %-18s | %-18s | %-17s | %-14s | %-14s | %-9s |\n' "$name" \
        "$(field "$g" 1) ($(ratio "$(field "$g" 1)" "$lg"))" \
        "$(field "$p" 1) ($(ratio "$(field "$p" 1)" "$lp"))" \
        "$(field "$g" 2) / $(field "$p" 2)" \
        "$(field "$l" 1) ($(ratio "$(field "$l" 1)" "$llp"))" \
        "$(field "$l" 2) ($(ratio "$(field "$l" 2)" "$llg"))" \
        "${RESULT[$name.rss]}"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
