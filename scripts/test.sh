#!/usr/bin/env bash
# The one command that runs strict-s3's whole test suite on a fresh machine (README and CI use it).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -k presign      # extra arguments go to pytest (the real-client suite)
#
# Stages:
#   1. Python deps   venv at .test-deps/venv from tests/clients/requirements.txt
#                    (re-installed only when that file or the Python version changes)
#   2. cargo build --all-targets
#   3. cargo test --all-targets, cargo test --doc   (Rust unit, integration and doc tests)
#  3b. fuzz/run.sh 8              (each libFuzzer target for 8 s; FUZZ_SECONDS overrides)
#   4. pytest tests/clients       (boto3, the AWS CLI, rclone and s3cmd against target/debug/strict-s3;
#                                  Debian's rclone and s3cmd, apt-get installed when missing and root)
#   5. node --test tests/js       (AWS SDK for JavaScript v3 and v2; `npm ci` into tests/js/node_modules,
#                                  re-installed only when package-lock.json or the Node version changes)
#   6. node --test tests/browser  (headless Chromium via playwright-core: presigned URLs from a page;
#                                  Debian's chromium, apt-get installed when missing and root; `npm ci`
#                                  into tests/browser/node_modules, stamped like stage 5)
#
# Exits non-zero if any stage fails; a runner that ran no test (pytest exit 5, node 0 tests) fails too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DEPS="$ROOT/.test-deps"
VENV="$DEPS/venv"
REQS="tests/clients/requirements.txt"
LOGS="$DEPS/logs"
PYTHON="${PYTHON:-python3}"
mkdir -p "$LOGS"

declare -a SUMMARY=()
FAILED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
SCRIPT_START=$SECONDS

# "passed failed skipped" from the closing lines of a node:test TAP file (cancelled counts
# as failed, todo as skipped); "0 0 0" when the file is missing.
tap_counts() {
    awk '/^# pass /      { p += $3 }
         /^# fail /      { f += $3 }
         /^# cancelled / { f += $3 }
         /^# skipped /   { s += $3 }
         /^# todo /      { s += $3 }
         END { printf "%d %d %d\n", p, f, s }' "$1" 2>/dev/null || echo "0 0 0"
}
banner() { printf '\n==> %s\n' "$*"; }
record() { # record STATUS NAME START_SECONDS [DETAIL]
    local status="$1" name="$2" start="$3" detail="${4:-}"
    SUMMARY+=("$(printf '%-4s  %-28s %4ss  %s' "$status" "$name" "$((SECONDS - start))" "$detail")")
    if [[ "$status" != "ok" ]]; then FAILED=1; fi
}
summary() {
    printf '\n==> Summary (%ss)\n' "$((SECONDS - SCRIPT_START))"
    local line
    for line in "${SUMMARY[@]}"; do printf '  %s\n' "$line"; done
    if [[ "$FAILED" -ne 0 ]]; then
        printf '\nFAILED: see the output above (logs in %s)\n' "${LOGS#"$ROOT"/}"
    else
        printf '\nALL TESTS PASSED\n'
    fi
    # The plain closing line, counted over every runner.
    printf 'total: %d passed, %d failed, %d skipped\n' "$TOTAL_PASSED" "$TOTAL_FAILED" "$TOTAL_SKIPPED"
}

# ---------------------------------------------------------------------------------------------
# 1. Python dependencies for the real-client suite

banner "Python test dependencies ($REQS → ${VENV#"$ROOT"/})"
t=$SECONDS
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found (Python 3.9+ with venv and pip is required)" >&2
    record FAIL "python deps" "$t" "$PYTHON not found"
    summary
    exit 1
fi
stamp_want="$( { cat "$REQS"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.requirements.sha256"
if [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_want" ]]; then
    echo "up to date (stamp matches)"
    record ok "python deps" "$t" "cached"
else
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>"$LOGS/venv.log"; then
        # Debian's python3 ships venv/ensurepip separately.
        if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
            echo "python3 -m venv failed; installing python3-venv"
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            rm -rf "$VENV"
            "$PYTHON" -m venv "$VENV"
        else
            cat "$LOGS/venv.log" >&2
            record FAIL "python deps" "$t" "cannot create venv"
            summary
            exit 1
        fi
    fi
    if "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS"; then
        echo "$stamp_want" >"$stamp_file"
        record ok "python deps" "$t" "installed"
    else
        record FAIL "python deps" "$t" "pip install failed"
        summary
        exit 1
    fi
fi

# ---------------------------------------------------------------------------------------------
# 2. Build (debug: the clients run target/debug/strict-s3)

banner "cargo build --all-targets"
t=$SECONDS
if cargo build --all-targets; then
    record ok "cargo build" "$t"
else
    record FAIL "cargo build" "$t"
    summary
    exit 1
fi

# ---------------------------------------------------------------------------------------------
# 3. Rust unit and integration tests

banner "cargo test --all-targets, cargo test --doc"
t=$SECONDS
# --all-targets does not run documentation examples; --doc runs them (the embedding
# example in src/lib.rs is one).
if { cargo test --all-targets && cargo test --doc; } 2>&1 | tee "$LOGS/cargo-test.log"; then
    status=ok
else
    status=FAIL
fi
# Sum the "test result: ok. N passed; M failed; K ignored; ..." lines.
read -r c_pass c_fail c_skip < <(
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
         END { printf "%d %d %d\n", p, f, s }' "$LOGS/cargo-test.log"
)
TOTAL_PASSED=$((TOTAL_PASSED + c_pass)); TOTAL_FAILED=$((TOTAL_FAILED + c_fail)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + c_skip))
if [[ "$status" == ok && "$c_pass" -eq 0 ]]; then status=FAIL; fi # ran no test
record "$status" "cargo test" "$t" "$c_pass passed, $c_fail failed, $c_skip ignored"

# ---------------------------------------------------------------------------------------------
# 3b. Fuzzing, a short round: every libFuzzer target (fuzz/, stable toolchain) for
#     FUZZ_SECONDS each, from the committed seeds. A crash fails the run and names its input.

FUZZ_SECONDS="${FUZZ_SECONDS:-8}"
banner "fuzz (short round): fuzz/run.sh $FUZZ_SECONDS"
t=$SECONDS
if fuzz/run.sh "$FUZZ_SECONDS" 2>&1 | tee "$LOGS/fuzz.log"; then
    record ok "fuzz (short round)" "$t" "10 targets, ${FUZZ_SECONDS}s each"
else
    record FAIL "fuzz (short round)" "$t" "a target crashed or did not build (see ${LOGS#"$ROOT"/}/fuzz.log)"
fi

# ---------------------------------------------------------------------------------------------
# 3c. The kill test against the release binary (what `cargo run --release` runs): the same
#     tests/crash_recovery.rs as in stage 3, with STRICT_S3_BIN pointing at the release build.

banner "crash recovery (release binary)"
t=$SECONDS
if cargo build --release --bin strict-s3 \
    && STRICT_S3_BIN="$ROOT/target/release/strict-s3" cargo test --test crash_recovery 2>&1 | tee "$LOGS/crash-release.log"; then
    read -r k_pass k_fail k_skip < <(
        awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
             END { printf "%d %d %d\n", p, f, s }' "$LOGS/crash-release.log"
    )
    TOTAL_PASSED=$((TOTAL_PASSED + k_pass)); TOTAL_FAILED=$((TOTAL_FAILED + k_fail))
    if [[ "$k_pass" -gt 0 && "$k_fail" -eq 0 ]]; then
        record ok "crash recovery (release)" "$t" "$k_pass passed"
    else
        record FAIL "crash recovery (release)" "$t" "$k_pass passed, $k_fail failed"
    fi
else
    record FAIL "crash recovery (release)" "$t" "see ${LOGS#"$ROOT"/}/crash-release.log"
fi

# ---------------------------------------------------------------------------------------------
# 4. Real clients: boto3, the AWS CLI (v1), rclone and s3cmd against the built binary.
#    rclone and s3cmd are Debian's packages, apt-get installed when missing and root. A missing
#    one is a FAILURE: the stage is marked failed and its tests fail saying so (never a skip).

banner "rclone and s3cmd (Debian packages)"
t=$SECONDS
missing_clients=()
for tool in rclone s3cmd; do
    command -v "$tool" >/dev/null 2>&1 || missing_clients+=("$tool")
done
if [[ ${#missing_clients[@]} -gt 0 ]] && command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "installing Debian's ${missing_clients[*]} (log: ${LOGS#"$ROOT"/}/apt-clients.log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_clients[@]}"; } \
        >"$LOGS/apt-clients.log" 2>&1; then
        tail -20 "$LOGS/apt-clients.log" >&2
    fi
fi
missing_clients=()
for tool in rclone s3cmd; do
    command -v "$tool" >/dev/null 2>&1 || missing_clients+=("$tool")
done
if [[ ${#missing_clients[@]} -eq 0 ]]; then
    echo "$(rclone version 2>/dev/null | head -1); $(s3cmd --version 2>/dev/null)"
    record ok "rclone, s3cmd" "$t"
else
    echo "error: not installed: ${missing_clients[*]} (as root this stage runs 'apt-get install -y" \
        "${missing_clients[*]}'; otherwise install Debian's packages); their tests will fail" >&2
    record FAIL "rclone, s3cmd" "$t" "missing: ${missing_clients[*]}"
fi

banner "pytest tests/clients (boto3, AWS CLI, rclone, s3cmd)"
t=$SECONDS
junit="$LOGS/pytest-clients.xml"
rm -f "$junit"
set +e
STRICT_S3_BIN="$ROOT/target/debug/strict-s3" \
    PATH="$VENV/bin:$PATH" \
    "$VENV/bin/python" -m pytest tests/clients -q -rfE -p no:cacheprovider \
    --junitxml="$junit" "$@"
rc=$?
set -e
read -r p_pass p_fail p_skip < <(
    "$VENV/bin/python" - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 0, 0); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
k = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - k, f, k)
EOF
)
TOTAL_PASSED=$((TOTAL_PASSED + p_pass)); TOTAL_FAILED=$((TOTAL_FAILED + p_fail)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + p_skip))
case "$rc" in
    0) record ok "pytest clients" "$t" "$p_pass passed, $p_fail failed, $p_skip skipped" ;;
    5) record FAIL "pytest clients" "$t" "no tests collected (pytest exit 5)" ;;
    *) record FAIL "pytest clients" "$t" "exit $rc: $p_pass passed, $p_fail failed, $p_skip skipped" ;;
esac

# ---------------------------------------------------------------------------------------------
# 5. Real clients: the AWS SDK for JavaScript (v3 and v2) with Node's built-in test runner

JS_DIR="tests/js"
banner "node --test $JS_DIR (AWS SDK for JavaScript v3, v2)"
t=$SECONDS
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ! command -v npm >/dev/null 2>&1 || [[ "$node_major" -lt 20 ]]; then
    echo "error: Node.js 20+ with npm is required (found: $(node --version 2>/dev/null || echo none))" >&2
    record FAIL "node clients" "$t" "Node.js 20+ and npm not found"
else
    js_stamp_want="$( { cat "$JS_DIR/package-lock.json"; node --version; } | sha256sum | cut -d' ' -f1)"
    js_stamp_file="$JS_DIR/node_modules/.strict-s3-deps.sha256"
    js_deps=ok
    if [[ -f "$js_stamp_file" && "$(cat "$js_stamp_file")" == "$js_stamp_want" ]]; then
        echo "node_modules up to date (stamp matches)"
    elif (cd "$JS_DIR" && npm ci --no-audit --no-fund --prefer-offline) >"$LOGS/npm-ci.log" 2>&1; then
        echo "$js_stamp_want" >"$js_stamp_file"
        echo "installed from package-lock.json (log: ${LOGS#"$ROOT"/}/npm-ci.log)"
    else
        cat "$LOGS/npm-ci.log" >&2
        js_deps=FAIL
    fi
    if [[ "$js_deps" != ok ]]; then
        record FAIL "node clients" "$t" "npm ci failed"
    else
        # Human-readable spec output here; TAP into the log, whose closing lines are counted.
        tap="$LOGS/node-test.tap"
        rm -f "$tap"
        set +e
        (cd "$JS_DIR" && STRICT_S3_BIN="$ROOT/target/debug/strict-s3" node --test \
            --test-reporter=spec --test-reporter-destination=stdout \
            --test-reporter=tap --test-reporter-destination="$tap")
        rc=$?
        set -e
        read -r n_pass n_fail n_skip < <(
            tap_counts "$tap"
        )
        TOTAL_PASSED=$((TOTAL_PASSED + n_pass)); TOTAL_FAILED=$((TOTAL_FAILED + n_fail)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + n_skip))
        if [[ "$rc" -eq 0 && "$n_pass" -eq 0 ]]; then
            record FAIL "node clients" "$t" "no tests ran"
        elif [[ "$rc" -eq 0 ]]; then
            record ok "node clients" "$t" "$n_pass passed, $n_fail failed, $n_skip skipped"
        else
            record FAIL "node clients" "$t" "exit $rc: $n_pass passed, $n_fail failed, $n_skip skipped"
        fi
    fi
fi

# ---------------------------------------------------------------------------------------------
# 6. Real browser: headless Chromium (Debian's package, never a downloaded build) driven by
#    playwright-core, against the built binary. A missing or broken Chromium is a FAILURE.

BROWSER_DIR="tests/browser"
CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
banner "node --test $BROWSER_DIR (headless Chromium: $CHROMIUM_BIN)"
t=$SECONDS
browser_ok=ok
if [[ ! -x "$CHROMIUM_BIN" && "$CHROMIUM_BIN" == /usr/bin/chromium ]]; then
    if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
        echo "installing Debian's chromium (log: ${LOGS#"$ROOT"/}/apt-chromium.log)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
            >"$LOGS/apt-chromium.log" 2>&1; then
            tail -20 "$LOGS/apt-chromium.log" >&2
        fi
    fi
fi
# Without a browser the tests still run, and each one that needs it fails saying why (never a skip).
chromium_missing=0
if [[ -x "$CHROMIUM_BIN" ]]; then
    "$CHROMIUM_BIN" --version 2>/dev/null || echo "$CHROMIUM_BIN: version unknown"
else
    chromium_missing=1
    echo "error: no Chromium at $CHROMIUM_BIN (as root this stage runs 'apt-get install -y chromium';" \
        "otherwise install Debian's chromium package or set CHROMIUM_BIN); the browser tests will fail" >&2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ! command -v npm >/dev/null 2>&1 || [[ "$node_major" -lt 20 ]]; then
    echo "error: Node.js 20+ with npm is required (found: $(node --version 2>/dev/null || echo none))" >&2
    record FAIL "browser" "$t" "Node.js 20+ and npm not found"
    browser_ok=FAIL
else
    br_stamp_want="$( { cat "$BROWSER_DIR/package-lock.json"; node --version; } | sha256sum | cut -d' ' -f1)"
    br_stamp_file="$BROWSER_DIR/node_modules/.strict-s3-deps.sha256"
    if [[ -f "$br_stamp_file" && "$(cat "$br_stamp_file")" == "$br_stamp_want" ]]; then
        echo "node_modules up to date (stamp matches)"
    elif (cd "$BROWSER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline) \
        >"$LOGS/npm-ci-browser.log" 2>&1; then
        echo "$br_stamp_want" >"$br_stamp_file"
        echo "installed from package-lock.json (log: ${LOGS#"$ROOT"/}/npm-ci-browser.log)"
    else
        cat "$LOGS/npm-ci-browser.log" >&2
        record FAIL "browser" "$t" "npm ci failed"
        browser_ok=FAIL
    fi
fi
if [[ "$browser_ok" == ok ]]; then
    # Screenshots of this run only (the tests write them to .test-deps/artifacts).
    rm -rf "$DEPS/artifacts"
    tap="$LOGS/browser-test.tap"
    rm -f "$tap"
    set +e
    # --test-timeout bounds one hung test; `timeout` the whole run (a file whose browser never
    # closes would keep its process alive). Not --test-force-exit: on Node 20 it cuts the TAP
    # file's closing counts.
    (cd "$BROWSER_DIR" && STRICT_S3_BIN="$ROOT/target/debug/strict-s3" CHROMIUM_BIN="$CHROMIUM_BIN" \
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout --kill-after=10 600 node --test --test-timeout=120000 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap")
    rc=$?
    set -e
    read -r b_pass b_fail b_skip < <(
        tap_counts "$tap"
    )
    TOTAL_PASSED=$((TOTAL_PASSED + b_pass)); TOTAL_FAILED=$((TOTAL_FAILED + b_fail)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + b_skip))
    if [[ "$chromium_missing" -eq 1 ]]; then
        record FAIL "browser" "$t" "no Chromium at $CHROMIUM_BIN: $b_pass passed, $b_fail failed, $b_skip skipped"
    elif [[ "$rc" -eq 0 && "$b_pass" -eq 0 ]]; then
        record FAIL "browser" "$t" "no tests ran"
    elif [[ "$rc" -eq 0 ]]; then
        record ok "browser" "$t" "$b_pass passed, $b_fail failed, $b_skip skipped (screenshots: ${DEPS#"$ROOT"/}/artifacts)"
    elif [[ "$rc" -eq 124 || "$rc" -eq 137 ]]; then
        record FAIL "browser" "$t" "timed out after 600 s: $b_pass passed, $b_fail failed, $b_skip skipped"
    else
        record FAIL "browser" "$t" "exit $rc: $b_pass passed, $b_fail failed, $b_skip skipped"
    fi
fi

summary
exit "$FAILED"
