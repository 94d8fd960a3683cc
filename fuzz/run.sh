#!/usr/bin/env bash
# Builds the fuzz targets and runs each for SECONDS (coverage-guided, libFuzzer).
#
#   fuzz/run.sh 300                    # every target, 5 minutes each
#   fuzz/run.sh 30 aws_chunked http_date   # only these
#
# Engine: libFuzzer (the libfuzzer-sys crate) on the STABLE toolchain. cargo-fuzz needs
# nightly for -Zsanitizer; the coverage instrumentation itself is LLVM's SanitizerCoverage,
# reachable from stable with -Cpasses=sancov-module and -Cllvm-args (below). There is no
# AddressSanitizer (nightly only): the crash signal is a Rust panic, with debug assertions
# and overflow checks on, a timeout (-timeout) or running out of memory (-rss_limit_mb).
#
# Seeds: fuzz/corpus/<target>/ (committed, read only). What the fuzzer finds goes to
# fuzz/target/corpus/<target>/ (kept between runs, not committed); a crash input to
# fuzz/artifacts/<target>/. Copy a crash input into fuzz/regressions/<target>/ so that
# `cargo test --test fuzz_regressions` keeps it fixed.
#
# Exits non-zero if any target crashed (naming the input), or the build failed.
set -euo pipefail

FUZZ="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECS="${1:-}"
if [[ ! "$SECS" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2
    exit 2
fi
shift
ALL=(authorization_header presigned_query http_date canonical_request aws_chunked post_policy
    cors_xml_and_match xml_bodies range_and_conditionals key_mapping)
TARGETS=("${@:-${ALL[@]}}")

# An explicit --target keeps the flags off build scripts and proc macros (which must not
# be instrumented: nothing links libFuzzer's callbacks into them).
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "==> building ${#TARGETS[@]} fuzz targets ($TRIPLE, profile fuzz)"
bins=()
for t in "${TARGETS[@]}"; do bins+=(--bin "$t"); done
cargo build --manifest-path "$FUZZ/Cargo.toml" --profile fuzz --target "$TRIPLE" \
    --target-dir "$FUZZ/target" "${bins[@]}"
BIN_DIR="$FUZZ/target/$TRIPLE/fuzz"

LOGS="$FUZZ/target/logs"
mkdir -p "$LOGS"
failed=()
for t in "${TARGETS[@]}"; do
    work="$FUZZ/target/corpus/$t"
    artifacts="$FUZZ/artifacts/$t"
    mkdir -p "$work" "$artifacts" "$FUZZ/corpus/$t"
    log="$LOGS/$t.log"
    echo "==> $t: ${SECS}s (log: ${log#"$FUZZ"/})"
    set +e
    # RUST_BACKTRACE for the panic's stack in the log; -timeout makes a hang a crash.
    RUST_BACKTRACE=1 "$BIN_DIR/$t" -max_total_time="$SECS" -rss_limit_mb=1024 -max_len=65536 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$work" "$FUZZ/corpus/$t" >"$log" 2>&1
    rc=$?
    set -e
    # The coverage at start and at the end: evidence the run was guided and grew.
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | sed 's/^/    /' || true
    if [[ "$rc" -ne 0 ]]; then
        crash="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
        echo "CRASH in $t (exit $rc): ${crash:-see $log}" >&2
        grep -m1 -A3 -E "panicked at|ERROR: libFuzzer" "$log" | sed 's/^/    /' >&2 || true
        failed+=("$t${crash:+ ($crash)}")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'fuzz: %d of %d targets crashed:\n' "${#failed[@]}" "${#TARGETS[@]}" >&2
    printf '  %s\n' "${failed[@]}" >&2
    echo "copy each input into fuzz/regressions/<target>/ and run cargo test --test fuzz_regressions" >&2
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECS}s each, no crash"
