"""What the server writes: one line per request whatever the request contains, no colour codes
when the output is not a terminal, JSON lines on request (issue 10: logs cannot be forged).

The server runs as CI runs it, with stdout a pipe. A request can put a newline into a value the
log quotes (here the region of `X-Amz-Credential`, percent-encoded as %0A, which S3's message quotes); it must not become a line of its
own.
"""

from __future__ import annotations

import json
import time
import urllib.parse

import requests

FORGED = "FORGED-LINE-MARK"


def forged_request(endpoint: str) -> requests.Response:
    # The region is quoted back in S3's message ("the region '...' is wrong").
    region = f"us-east-1\n2026 X DELETE bkt-k → 204 {FORGED}\x1b[31m"
    credential = urllib.parse.quote(f"AKIAIOSFODNN7EXAMPLE/20260101/{region}/s3/aws4_request", safe="")
    url = (
        f"{endpoint}/some-bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}"
        "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0" * 64
    )
    return requests.get(url, timeout=10)


def wait_for(server, needle: str) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(needle in line for line in server.lines):
            return list(server.lines)
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never logged:\n{server.log()}")


def test_a_request_cannot_add_a_log_line_or_colour(start_server):
    srv = start_server()
    resp = forged_request(srv.endpoint)
    assert resp.status_code in (400, 403), resp.text
    lines = wait_for(srv, FORGED)
    forged = [line for line in lines if FORGED in line]
    assert len(forged) == 1, forged
    # The value is on the request's own line, with its newline and escape visible as text.
    assert "GET /some-bucket/k" in forged[0], forged
    assert "\\n2026 X DELETE bkt-k" in forged[0] and "\\x1b[31m" in forged[0], forged
    assert not any(line.lstrip().startswith("2026 X DELETE") for line in lines), lines
    assert not any("\x1b[" in line for line in lines), "colour codes on a pipe"


def test_log_format_json_is_one_object_a_line(start_server):
    srv = start_server("--log-format", "json")
    forged_request(srv.endpoint)
    requests.get(f"{srv.endpoint}/", timeout=10)
    lines = wait_for(srv, FORGED)
    # The banner comes first, as text; every log line after it is a JSON object.
    assert lines[0].startswith("strict-s3 listening on"), lines[0]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines
    messages = [r["fields"]["message"] for r in records]
    assert sum(FORGED in m for m in messages) == 1, messages
    assert all(r["level"] in ("INFO", "WARN", "DEBUG", "ERROR") for r in records), records
    assert not any(line.startswith("2026 X DELETE") for line in lines), lines
