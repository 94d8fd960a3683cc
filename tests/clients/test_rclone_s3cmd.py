"""rclone and s3cmd (Debian's packages) against the real strict-s3 binary, in SigV2 and SigV4.

Why: two widely used clients still sign with SigV2 on request, and each writes its date its own
way — s3cmd `--signature-v2` sends `x-amz-date: Wed, 02 Dec 2026 00:51:07 +0000`, rclone with
`v2_auth = true` sends `Date: Wed, 02 Dec 2026 00:50:59 UTC` (Go's time.RFC1123). AWS accepts
both; strict-s3 once refused both with 403 AccessDenied "... is not an HTTP date". Each client
also signs path-style bucket requests with its own canonical resource (`/bucket/` for s3cmd,
`/bucket` for rclone).

Each client runs the whole flow — mb, put (12 MiB, so it goes multipart in 5 MiB parts), ls,
get, del, rb — once per signature version, and the server's log must show that every request
was signed the way the client was told to (a client silently falling back to SigV4 does not
pass a SigV2 test). A wrong-secret twin must be refused with 403 SignatureDoesNotMatch.

Neither client may see the user's setup: rclone gets RCLONE_CONFIG pointing at a file written
here, s3cmd an explicit --config; both run with HOME in the test's tmp_path, without RCLONE_*,
AWS_* or proxy variables, and every run is bounded by a timeout. A missing client FAILS the
test (scripts/test.sh installs both from Debian when run as root).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, empty_and_delete, unique_bucket_name

MiB = 1024 * 1024
BIG = 12 * MiB  # over both clients' 5 MiB multipart threshold: parts of 5, 5 and 2 MiB
PARTS = 3
WRONG_SECRET = SECRET_KEY[:-4] + "XXXX"
TIMEOUT = 120  # seconds, per client invocation

AUTH = {"v2": "sigv2-header", "v4": "sigv4-header"}

# "{request_id} {method} {path} → {status} {op or error code} auth={auth} ..." (src/service.rs log()).
REQUEST_LINE = re.compile(r"\s(?P<method>[A-Z]+) (?P<path>/\S*) → (?P<status>\d{3}) (?P<what>\S+) auth=(?P<auth>\S+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------------------------------------
# The clients


def executable(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` is not installed: apt-get install {name} (scripts/test.sh does, as root)")
    return found


def clean_env(home: Path) -> dict[str, str]:
    """This process's environment without anything that could configure or proxy a client
    (rclone's AWS SDK reads AWS_*: an AWS_CA_BUNDLE alone makes it fail before any request)."""
    drop = ("AWS_", "RCLONE_", "S3CMD")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and not k.lower().endswith("_proxy")
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


def settled(server) -> int:
    """The number of server log lines once the log has been quiet for 0.2 s (a thread reads it)."""
    deadline, seen = time.monotonic() + 5, -1
    while len(server.lines) != seen and time.monotonic() < deadline:
        seen = len(server.lines)
        time.sleep(0.2)
    return seen


class Client:
    """One configured client; each verb returns the CompletedProcess (check=False).

    `self.log` collects the server's log lines written while this client ran, so the
    boto3 calls a test makes in between to check the results are not counted as the client's.
    """

    def __init__(self, server, home: Path, sig: str, secret: str):
        self.server, self.endpoint, self.home, self.sig, self.secret = server, server.endpoint, home, sig, secret
        home.mkdir(parents=True, exist_ok=True)
        self.env = clean_env(home)
        self.log: list[str] = []

    def run(self, *args: str) -> subprocess.CompletedProcess:
        start = settled(self.server)
        try:
            return subprocess.run(
                [*self.command(), *args],
                env=self.env,
                cwd=self.home,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            self.log += self.server.lines[start:settled(self.server)]

    def requests(self, bucket: str) -> list[dict[str, str]]:
        """This client's requests to `bucket` as the server logged them, parsed."""
        out = []
        for raw in self.log:
            line = ANSI.sub("", raw)
            m = REQUEST_LINE.search(line)
            if m and (m["path"] == f"/{bucket}" or m["path"].startswith(f"/{bucket}/")):
                out.append({**m.groupdict(), "line": line})
        return out

    def command(self) -> list[str]:
        raise NotImplementedError


class Rclone(Client):
    remote = "strict"

    def __init__(self, *args):
        super().__init__(*args)
        config = self.home / "rclone.conf"
        config.write_text(
            f"[{self.remote}]\n"
            "type = s3\n"
            "provider = Other\n"
            "env_auth = false\n"
            f"access_key_id = {ACCESS_KEY}\n"
            f"secret_access_key = {self.secret}\n"
            f"region = {REGION}\n"
            f"endpoint = {self.endpoint}\n"
            "force_path_style = true\n"
            f"v2_auth = {'true' if self.sig == 'v2' else 'false'}\n"
            "upload_cutoff = 5M\n"
            # rclone sends `x-amz-acl: private` on CreateMultipartUpload unless told
            # otherwise, which a bucket with ACLs disabled (S3's default since April 2023)
            # refuses with AccessControlListNotSupported, on AWS as here; the one ACL such
            # a bucket accepts is bucket-owner-full-control.
            "acl = bucket-owner-full-control\n"
            "chunk_size = 5M\n"
        )
        self.env["RCLONE_CONFIG"] = str(config)

    def command(self) -> list[str]:
        # One attempt: a retry would only hide (or repeat) a refusal.
        return [executable("rclone"), "--retries", "1", "--low-level-retries", "1",
                "--contimeout", "5s", "--timeout", "30s"]

    def path(self, bucket: str, key: str = "") -> str:
        return f"{self.remote}:{bucket}" + (f"/{key}" if key else "")

    def mb(self, bucket):
        return self.run("mkdir", self.path(bucket))

    def put(self, src: Path, bucket, key):
        return self.run("copyto", str(src), self.path(bucket, key))

    def ls(self, bucket):
        return self.run("ls", self.path(bucket))

    def get(self, bucket, key, dst: Path):
        return self.run("copyto", self.path(bucket, key), str(dst))

    def rm(self, bucket, key):
        return self.run("deletefile", self.path(bucket, key))

    def rb(self, bucket):
        return self.run("rmdir", self.path(bucket))

    @staticmethod
    def listed(out: str, bucket: str) -> list[tuple[int, str]]:
        # `rclone ls` (recursive): "<size> <key>" per object
        return [(int(size), key) for size, key in (line.split(None, 1) for line in out.splitlines() if line.strip())]


class S3cmd(Client):
    def __init__(self, *args):
        super().__init__(*args)
        host = urllib.parse.urlsplit(self.endpoint).netloc
        self.config = self.home / "s3cmd.cfg"
        self.config.write_text(
            "[default]\n"
            f"access_key = {ACCESS_KEY}\n"
            f"secret_key = {self.secret}\n"
            f"host_base = {host}\n"
            # No %(bucket)s: path-style addressing.
            f"host_bucket = {host}\n"
            "use_https = False\n"
            f"signature_v2 = {'True' if self.sig == 'v2' else 'False'}\n"
            # Known region: no GetBucketLocation probe before each SigV4 request.
            f"bucket_location = {REGION}\n"
            "enable_multipart = True\n"
            "multipart_chunk_size_mb = 5\n"
            "progress_meter = False\n"
            "proxy_host = \n"
            "proxy_port = 0\n"
            "socket_timeout = 30\n"
        )

    def command(self) -> list[str]:
        return [executable("s3cmd"), "--config", str(self.config), "--no-progress"]

    def mb(self, bucket):
        return self.run("mb", f"s3://{bucket}")

    def put(self, src: Path, bucket, key):
        return self.run("put", str(src), f"s3://{bucket}/{key}")

    def ls(self, bucket):
        return self.run("ls", "--recursive", f"s3://{bucket}")

    def get(self, bucket, key, dst: Path):
        return self.run("get", "--force", f"s3://{bucket}/{key}", str(dst))

    def rm(self, bucket, key):
        return self.run("del", f"s3://{bucket}/{key}")

    def rb(self, bucket):
        return self.run("rb", f"s3://{bucket}")

    @staticmethod
    def listed(out: str, bucket: str) -> list[tuple[int, str]]:
        # `s3cmd ls --recursive s3://b`: "<date> <time> <size> s3://b/<key>" per object
        prefix = f"s3://{bucket}/"
        rows = []
        for line in out.splitlines():
            fields = line.split()
            if len(fields) == 4 and fields[3].startswith(prefix):
                rows.append((int(fields[2]), fields[3][len(prefix):]))
        return rows


CLIENTS = {"rclone": Rclone, "s3cmd": S3cmd}


@pytest.fixture(params=["rclone", "s3cmd"])
def tool(request) -> str:
    return request.param


@pytest.fixture(params=["v2", "v4"])
def sig(request) -> str:
    return request.param


def make(tool: str, sig: str, server, tmp_path: Path, secret: str = SECRET_KEY) -> Client:
    return CLIENTS[tool](server, tmp_path / f"{tool}-home", sig, secret)


def ok(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{what} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def show(reqs: list[dict[str, str]]) -> str:
    return "\n".join(r["line"] for r in reqs) or "(no request lines for the bucket)"


# ---------------------------------------------------------------------------------------------
# Tests


def test_mb_put_ls_get_del_rb(tool, sig, server, s3, tmp_path):
    client = make(tool, sig, server, tmp_path)
    bucket = unique_bucket_name(f"{tool}-{sig}")
    key = "dir/big.bin"
    src, dst = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(os.urandom(BIG))
    try:
        ok(client.mb(bucket), f"{tool} mb")
        s3.head_bucket(Bucket=bucket)

        ok(client.put(src, bucket, key), f"{tool} put")
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] == BIG
        assert head["ETag"].endswith(f'-{PARTS}"'), f"not a {PARTS}-part multipart upload: {head['ETag']}"

        listed = client.listed(ok(client.ls(bucket), f"{tool} ls").stdout, bucket)
        assert listed == [(BIG, key)], listed

        ok(client.get(bucket, key, dst), f"{tool} get")
        assert hashlib.sha256(dst.read_bytes()).hexdigest() == hashlib.sha256(src.read_bytes()).hexdigest()

        ok(client.rm(bucket, key), f"{tool} del")
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
        assert client.listed(ok(client.ls(bucket), f"{tool} ls").stdout, bucket) == []

        ok(client.rb(bucket), f"{tool} rb")
        with pytest.raises(ClientError) as exc:
            s3.head_bucket(Bucket=bucket)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    except BaseException:
        print(f"server log of {tool}'s requests:\n{show(client.requests(bucket))}")
        raise
    finally:
        empty_and_delete(s3, bucket)

    reqs = client.requests(bucket)
    # Clients probe with HEAD (rclone checks the object is absent before uploading it).
    refused = [r for r in reqs if not r["status"].startswith("2") and (r["method"], r["status"]) != ("HEAD", "404")]
    assert not refused, f"the server refused requests:\n{show(refused)}"
    assert {r["auth"] for r in reqs} == {AUTH[sig]}, f"not every request was {AUTH[sig]}:\n{show(reqs)}"
    ops = [r["what"] for r in reqs]
    for op in ("CreateBucket", "CreateMultipartUpload", "CompleteMultipartUpload", "GetObject",
               "DeleteObject", "DeleteBucket"):
        assert op in ops, f"no successful {op}:\n{show(reqs)}"
    assert ops.count("UploadPart") == PARTS, f"expected {PARTS} UploadPart:\n{show(reqs)}"


def test_wrong_secret_is_refused(tool, sig, server, s3, bucket, tmp_path):
    client = make(tool, sig, server, tmp_path, secret=WRONG_SECRET)
    fresh = unique_bucket_name(f"{tool}-{sig}-bad")
    small = tmp_path / "small.txt"
    small.write_bytes(b"must not be stored\n")
    try:
        made = client.mb(fresh)
        put = client.put(small, bucket, "small.txt")
    finally:
        empty_and_delete(s3, fresh)
    for proc, what in ((made, "mb"), (put, "put")):
        assert proc.returncode != 0, f"{tool} {what} with a wrong secret succeeded:\n{proc.stdout}{proc.stderr}"
        said = proc.stdout + proc.stderr
        assert re.search(r"SignatureDoesNotMatch|403|Forbidden", said), f"{tool} {what}: {said}"

    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=fresh)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    for name in (fresh, bucket):
        reqs = client.requests(name)
        assert reqs, f"the server saw no request for {name}"
        wrong = [r for r in reqs if (r["status"], r["what"], r["auth"]) != ("403", "SignatureDoesNotMatch", AUTH[sig])]
        assert not wrong, f"expected only 403 SignatureDoesNotMatch auth={AUTH[sig]}:\n{show(reqs)}"
