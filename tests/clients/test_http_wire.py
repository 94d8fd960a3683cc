"""HTTP/1.1 connection behaviour that every client depends on, checked on a raw socket.

Clients (urllib3 under boto3 and the AWS CLI, the JS SDK's agent, browsers) reuse a keep-alive
connection unless the response says `Connection: close`. A server that answers an error before the
request body has arrived and then silently drops the connection makes the client's *next*
request on that connection fail (botocore: ConnectionClosedError / RemoteDisconnected).
"""

from __future__ import annotations

import socket
import urllib.parse

import pytest

from conftest import parse_error


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Reads exactly one HTTP/1.1 response with a Content-Length body."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response head: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the response body")
        rest += chunk
    return status, headers, rest[:length]


@pytest.fixture
def conn(endpoint):
    u = urllib.parse.urlsplit(endpoint)
    sock = socket.create_connection((u.hostname, u.port), timeout=5)
    yield sock, f"{u.hostname}:{u.port}"
    sock.close()


def test_keep_alive_two_requests_on_one_connection(conn):
    sock, host = conn
    for _ in range(2):
        sock.sendall(f"GET /some-bucket/key HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, headers, body = read_response(sock)
        assert status == 404 and parse_error(body)["Code"] == "NoSuchBucket"  # anonymous, no such bucket: as S3
        assert headers.get("connection", "").lower() != "close"


@pytest.mark.parametrize(
    "request_head",
    [
        # Anonymous PUT: refused from the headers alone.
        "PUT /some-bucket/key HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000\r\n\r\n",
        # Anonymous multi-object delete (POST with a body), like boto3's DeleteObjects.
        "POST /some-bucket?delete HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n",
    ],
    ids=["put", "post-delete"],
)
def test_error_before_the_body_arrives_keeps_the_connection_consistent(conn, request_head):
    """Either the server reads (or waits for) the body and keeps the connection usable, or it
    says `Connection: close` in the error response. Closing without saying so breaks clients."""
    sock, host = conn
    sock.sendall(request_head.format(host=host).encode())  # the head only, as urllib3 sends it
    sock.settimeout(1.0)
    try:
        status, headers, body = read_response(sock)  # the server answered before the body
        answered_early = True
    except socket.timeout:
        answered_early = False
    sock.settimeout(5.0)
    try:
        sock.sendall(b"x" * 1000)  # the body follows
    except (BrokenPipeError, ConnectionResetError):
        pass
    if not answered_early:
        status, headers, body = read_response(sock)
    assert status == 404 and parse_error(body)["Code"] == "NoSuchBucket", (status, body)
    if headers.get("connection", "").lower() == "close":
        return  # the client knows not to reuse this connection
    # Announced as reusable: the next request on it must get an answer.
    try:
        sock.sendall(f"GET /some-bucket/key HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status2, _, body2 = read_response(sock)
    except (ConnectionError, BrokenPipeError, ConnectionResetError) as e:
        pytest.fail(
            f"the server answered {status} before reading the request body, kept the connection "
            f"announced as keep-alive (no `Connection: close`; headers {headers}), then closed it: "
            f"the next request on it failed with {e!r}"
        )
    assert status2 == 404 and parse_error(body2)["Code"] == "NoSuchBucket"


def test_latin1_metadata_from_http_client_round_trips_as_on_s3(server, s3, bucket):
    """Python's http.client sends a str header as Latin-1 bytes: "café" goes out as caf\\xe9.

    S3 reads each byte as one Latin-1 character and returns a non-ASCII value as an RFC 2047
    word of its UTF-8 (the user guide's UsingMetadata example), so it comes back as
    =?UTF-8?B?Y2Fmw6k=?=. The SigV2 signature is computed here over the bytes sent.
    """
    import base64
    import email.utils
    import hashlib
    import hmac
    import http.client

    from conftest import ACCESS_KEY, SECRET_KEY

    host, port = urllib.parse.urlsplit(server.endpoint).netloc.split(":")

    def put(value: str, signed_over: bytes) -> int:
        date = email.utils.formatdate(usegmt=True)
        sts = f"PUT\n\n\n{date}\n".encode() + b"x-amz-meta-name:" + signed_over + f"\n/{bucket}/latin".encode()
        sig = base64.b64encode(hmac.new(SECRET_KEY.encode(), sts, hashlib.sha1).digest()).decode()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request(
            "PUT", f"/{bucket}/latin", body=b"x",
            headers={"Date": date, "x-amz-meta-name": value, "Authorization": f"AWS {ACCESS_KEY}:{sig}"},
        )
        status = conn.getresponse().status
        conn.close()
        return status

    # Signed over the UTF-8 spelling (what botocore would sign), sent as Latin-1: refused.
    assert put("café", "café".encode("utf-8")) == 403
    # Signed over the bytes http.client really sends: stored, and returned as S3 returns it.
    assert put("café", "café".encode("latin-1")) == 200
    head = s3.head_object(Bucket=bucket, Key="latin")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-name"] == "=?UTF-8?B?Y2Fmw6k=?="
