"""Fixtures for the real-client suite: the strict-s3 binary, boto3 clients, the AWS CLI.

The server under test is the real binary (STRICT_S3_BIN, else target/debug/strict-s3), started
on port 0 with --in-memory; its endpoint is read from the first line it prints. Stopping it
sends SIGTERM and asserts exit code 0 (graceful shutdown is a requirement).

Nothing from the user's AWS setup may leak in: every AWS_* variable is removed from this
process, and the CLI gets config/credential files that do not exist.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
NO_SUCH_FILE = str(REPO_ROOT / ".test-deps" / "no-such-aws-file")

# Keep the user's (or CI's) AWS configuration out of boto3 in this process.
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = NO_SUCH_FILE
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = NO_SUCH_FILE
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

BANNER = re.compile(r"^strict-s3 listening on (http://\S+)\s*$")
_RUNNING: list[subprocess.Popen] = []


@atexit.register
def _kill_leftovers() -> None:
    # Only if pytest dies before the fixtures stop their servers (normal runs stop them all).
    for proc in _RUNNING:
        if proc.poll() is None:
            proc.kill()


def server_binary() -> Path:
    raw = os.environ.get("STRICT_S3_BIN") or "target/debug/strict-s3"
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.exists():
        pytest.fail(f"strict-s3 binary not found at {path}: run `cargo build` (or set STRICT_S3_BIN)")
    return path


class ServerProcess:
    """One running strict-s3 process."""

    def __init__(self, *extra_args: str):
        self.args = [
            str(server_binary()),
            "--addr", "127.0.0.1:0",
            "--in-memory",
            "--region", REGION,
            "--access-key", ACCESS_KEY,
            "--secret-key", SECRET_KEY,
            *extra_args,
        ]
        # A clean environment: the server also reads AWS_* / S3_* variables.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "RUST_LOG"))}
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        _RUNNING.append(self.proc)
        self.lines: list[str] = []
        first = threading.Event()

        def drain() -> None:
            # Read every line so the server never blocks on a full pipe; keep them for reports.
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                first.set()
            first.set()

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()
        if not first.wait(timeout=30) or not self.lines:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"strict-s3 printed nothing (exit {self.proc.returncode}): {self.args}")
        m = BANNER.match(self.lines[0])
        if not m:
            self.proc.kill()
            self.proc.wait()
            self._reader.join(timeout=5)
            pytest.fail(f"unexpected first line from strict-s3: {self.lines[0]!r}\n{self.log()}")
        self.endpoint = m.group(1)

    def log(self, tail: int = 40) -> str:
        return "\n".join(self.lines[-tail:])

    def stop(self) -> int:
        """SIGTERM, wait; returns the exit code (the caller asserts it is 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._reader.join(timeout=5)
                pytest.fail(f"strict-s3 did not exit within 15 s of SIGTERM\n{self.log()}")
        self._reader.join(timeout=5)
        return self.proc.returncode


def stop_checked(server: ServerProcess) -> None:
    code = server.stop()
    assert code == 0, f"strict-s3 exited {code} after SIGTERM (graceful shutdown must exit 0)\n{server.log()}"


@pytest.fixture(scope="session")
def server():
    """The shared server (no clock offset). Tests use unique buckets, so sharing is safe."""
    srv = ServerProcess()
    yield srv
    stop_checked(srv)


@pytest.fixture
def start_server():
    """Factory for extra servers (e.g. --clock-offset 3600); each is stopped and checked at test end."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        srv = ServerProcess(*args)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        stop_checked(srv)


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.endpoint


def make_client(
    endpoint: str,
    *,
    region: str = REGION,
    access_key: str | None = ACCESS_KEY,
    secret_key: str | None = SECRET_KEY,
    signature_version: str | object = "s3v4",
    **config_kwargs,
):
    """A boto3 S3 client: path-style, SigV4 unless told otherwise."""
    config = Config(
        signature_version=signature_version,
        s3={"addressing_style": "path"},
        # One attempt: a retry could hide a server that drops connections it announced as
        # reusable (tests/clients/test_http_wire.py checks that on the wire).
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        **config_kwargs,
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


@pytest.fixture(scope="session")
def s3(endpoint):
    return make_client(endpoint)


def unique_bucket_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def empty_and_delete(client, bucket: str) -> None:
    try:
        keys = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys += [o["Key"] for o in page.get("Contents", [])]
        for key in keys:
            client.delete_object(Bucket=bucket, Key=key)
        client.delete_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchBucket":
            raise


@pytest.fixture
def bucket(s3):
    """A fresh, empty bucket for one test; emptied and deleted afterwards."""
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


# ---------------------------------------------------------------------------------------------
# Error helpers


def assert_client_error(excinfo_or_exc, status: int, code: str, message: str | None = None, **elements):
    """Asserts a botocore ClientError's HTTP status, S3 Code, Message and extra XML elements."""
    exc = getattr(excinfo_or_exc, "value", excinfo_or_exc)
    assert isinstance(exc, ClientError), f"expected ClientError, got {exc!r}"
    err = exc.response.get("Error", {})
    got_status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (got_status, err.get("Code")) == (status, code), f"got {got_status} {err}"
    if message is not None:
        assert err.get("Message") == message, f"message: {err.get('Message')!r} != {message!r}"
    for name, value in elements.items():
        assert err.get(name) == value, f"<{name}>: {err.get(name)!r} != {value!r} in {err}"
    return err


def parse_error(body: bytes | str) -> dict[str, str]:
    """The children of an S3 <Error> document, as a dict (text values)."""
    root = ET.fromstring(body)
    assert root.tag == "Error", f"not an S3 error document: {body!r}"
    return {child.tag: (child.text or "") for child in root}


def assert_http_error(resp, status: int, code: str, message: str | None = None, **elements):
    """Asserts a `requests` response is the S3 error (status, Code, Message, elements)."""
    assert resp.status_code == status, f"status {resp.status_code} != {status}: {resp.content[:2000]!r}"
    assert resp.headers.get("Content-Type", "").startswith("application/xml"), resp.headers
    err = parse_error(resp.content)
    assert err.get("Code") == code, f"code {err.get('Code')!r} != {code!r}: {err}"
    if message is not None:
        assert err.get("Message") == message, f"message {err.get('Message')!r} != {message!r}"
    for name, value in elements.items():
        assert err.get(name) == value, f"<{name}>: {err.get(name)!r} != {value!r} in {err}"
    assert err.get("RequestId"), err
    assert resp.headers.get("x-amz-request-id") == err["RequestId"], (resp.headers, err)
    return err


# ---------------------------------------------------------------------------------------------
# The AWS CLI


def aws_executable() -> str:
    """The venv's `aws` (next to this Python) if there is one, else the first on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    found = shutil.which("aws")
    if not found:
        pytest.fail("the AWS CLI (`aws`) is not installed: pip install -r tests/clients/requirements.txt")
    return found


def aws_env(home: Path, region: str = REGION) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=NO_SUCH_FILE,
        AWS_SHARED_CREDENTIALS_FILE=NO_SUCH_FILE,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        HOME=str(home),
    )
    return env


def aws_runner(endpoint: str, home: Path):
    """run(*args, endpoint_url=None, check=True, env_extra=None) → CompletedProcess of
    `aws --endpoint-url ENDPOINT ARGS`, with a clean AWS environment and HOME=home."""
    exe = aws_executable()

    def run(*args: str, endpoint_url: str | None = None, check: bool = True, env_extra=None, timeout=120):
        env = aws_env(home)
        if env_extra:
            env.update(env_extra)
        cmd = [exe, "--endpoint-url", endpoint_url or endpoint, *args]
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"`aws {' '.join(args)}` exited {proc.returncode} after {time.monotonic() - started:.1f}s\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    return run


@pytest.fixture
def aws_cli(endpoint, tmp_path):
    """The AWS CLI against the shared server (see aws_runner)."""
    home = tmp_path / "home"
    home.mkdir()
    return aws_runner(endpoint, home)
