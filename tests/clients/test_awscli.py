"""The AWS CLI (v1, from PyPI) against the real strict-s3 binary.

Files stay below the CLI's 8 MiB multipart threshold (multipart is not implemented yet).
`aws s3 presign` in CLI v1 emits SigV2 query-string URLs for us-east-1
(AWSAccessKeyId / Signature / Expires, where Expires is an absolute Unix time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import urllib.parse

import pytest
import requests

from conftest import ACCESS_KEY, assert_http_error, aws_runner, empty_and_delete, unique_bucket_name

SIG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
SERVICE_ERROR_EXIT = 255  # CLI v1 exits 255 when the service answers with an error (v2: 254)


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    out = []
    for pair in parts.query.split("&"):
        name = pair.split("=", 1)[0]
        out.append(f"{name}={urllib.parse.quote(changes.pop(name), safe='')}" if name in changes else pair)
    assert not changes
    return urllib.parse.urlunsplit(parts._replace(query="&".join(out)))


def test_version_is_the_pinned_v1_cli(aws_cli):
    out = aws_cli("--version")
    assert (out.stdout + out.stderr).startswith("aws-cli/1."), out


def test_mb_ls_rb(aws_cli, s3):
    name = unique_bucket_name("cli")
    out = aws_cli("s3", "mb", f"s3://{name}")
    assert out.stdout.strip() == f"make_bucket: {name}"
    assert name in aws_cli("s3", "ls").stdout.split()
    s3.head_bucket(Bucket=name)
    out = aws_cli("s3", "rb", f"s3://{name}")
    assert out.stdout.strip() == f"remove_bucket: {name}"
    assert name not in aws_cli("s3", "ls").stdout.split()


def test_mb_invalid_name_and_rb_non_empty(aws_cli, s3, bucket):
    bad = "Bad_Bucket-Name"
    out = aws_cli("s3", "mb", f"s3://{bad}", check=False)
    assert out.returncode == 1
    assert (
        "An error occurred (InvalidBucketName) when calling the CreateBucket operation: "
        "The specified bucket is not valid." in out.stderr
    ), out.stderr
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    out = aws_cli("s3", "rb", f"s3://{bucket}", check=False)
    assert out.returncode == 1
    assert (
        "An error occurred (BucketNotEmpty) when calling the DeleteBucket operation: "
        "The bucket you tried to delete is not empty" in out.stderr
    ), out.stderr
    s3.head_bucket(Bucket=bucket)


def test_cp_up_ls_cp_down_rm(aws_cli, s3, bucket, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "up load.bin"
    src.write_bytes(data)
    aws_cli("s3", "cp", str(src), f"s3://{bucket}/dir/up load.bin")

    listing = aws_cli("s3", "ls", f"s3://{bucket}/dir/").stdout
    fields = listing.split()
    assert fields[2] == str(len(data)) and " ".join(fields[3:]) == "up load.bin", listing
    assert aws_cli("s3", "ls", f"s3://{bucket}/").stdout.split() == ["PRE", "dir/"]

    head = s3.head_object(Bucket=bucket, Key="dir/up load.bin")
    assert head["ETag"] == md5_etag(data)  # one PUT: below the multipart threshold

    dst = tmp_path / "down.bin"
    aws_cli("s3", "cp", f"s3://{bucket}/dir/up load.bin", str(dst))
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()

    out = aws_cli("s3", "rm", f"s3://{bucket}/dir/up load.bin")
    assert out.stdout.strip() == f"delete: s3://{bucket}/dir/up load.bin"
    assert aws_cli("s3", "ls", f"s3://{bucket}/", check=False).stdout == ""

    # Negative twin: the object is gone, so copying it down fails with the HEAD's 404.
    out = aws_cli("s3", "cp", f"s3://{bucket}/dir/up load.bin", str(tmp_path / "never.bin"), check=False)
    assert out.returncode == 1
    assert (
        'fatal error: An error occurred (404) when calling the HeadObject operation: Key "dir/up load.bin" does not exist'
        in out.stderr
    ), out.stderr
    assert not (tmp_path / "never.bin").exists()


def test_cp_to_missing_bucket(aws_cli, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("x")
    missing = unique_bucket_name("missing")
    out = aws_cli("s3", "cp", str(src), f"s3://{missing}/f.txt", check=False)
    assert out.returncode == 1
    assert (
        "An error occurred (NoSuchBucket) when calling the PutObject operation: "
        "The specified bucket does not exist" in out.stderr
    ), out.stderr


def test_s3api_put_head_get_list(aws_cli, bucket, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes(b"hello from s3api\n")
    put = json.loads(
        aws_cli(
            "s3api", "put-object", "--bucket", bucket, "--key", "docs/ünï code.txt", "--body", str(body),
            "--content-type", "text/plain; charset=utf-8", "--metadata", "owner=cli,purpose=test",
        ).stdout
    )
    assert put["ETag"] == md5_etag(b"hello from s3api\n")

    head = json.loads(aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "docs/ünï code.txt").stdout)
    assert head["ContentLength"] == 17 and head["ETag"] == put["ETag"]
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert head["Metadata"] == {"owner": "cli", "purpose": "test"}

    out_file = tmp_path / "got.txt"
    got = json.loads(aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "docs/ünï code.txt", str(out_file)).stdout)
    assert out_file.read_bytes() == b"hello from s3api\n"
    assert got["ETag"] == put["ETag"] and got["Metadata"] == {"owner": "cli", "purpose": "test"}

    listing = json.loads(aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "docs/").stdout)
    # (The CLI's paginator merges pages and drops KeyCount.)
    assert [o["Key"] for o in listing["Contents"]] == ["docs/ünï code.txt"]
    assert listing["Prefix"] == "docs/"
    assert listing["Contents"][0]["Size"] == 17 and listing["Contents"][0]["ETag"] == put["ETag"]
    empty = json.loads(aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "nothing/").stdout or "{}")
    assert "Contents" not in empty


def test_s3api_errors(aws_cli, bucket, tmp_path):
    out = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "nope", str(tmp_path / "x"), check=False)
    assert out.returncode == SERVICE_ERROR_EXIT
    assert (
        "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist."
        in out.stderr
    ), out.stderr
    out = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "nope", check=False)
    assert out.returncode == SERVICE_ERROR_EXIT
    assert "An error occurred (404) when calling the HeadObject operation: Not Found" in out.stderr, out.stderr
    out = aws_cli(
        "s3api", "list-objects-v2", "--bucket", bucket, check=False,
        env_extra={"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
    )
    assert out.returncode == SERVICE_ERROR_EXIT
    assert f"An error occurred (SignatureDoesNotMatch) when calling the ListObjectsV2 operation: {SIG_MISMATCH}" in out.stderr


def test_wrong_region_and_skewed_clock(aws_cli, start_server):
    out = aws_cli("s3api", "list-buckets", check=False, env_extra={"AWS_DEFAULT_REGION": "eu-west-9"})
    assert out.returncode == SERVICE_ERROR_EXIT
    assert (
        "An error occurred (AuthorizationHeaderMalformed) when calling the ListBuckets operation: "
        "The authorization header is malformed; the region 'eu-west-9' is wrong; expecting 'us-east-1'" in out.stderr
    ), out.stderr
    # A real region's endpoint lists buckets too, as on AWS.
    assert aws_cli("s3api", "list-buckets", env_extra={"AWS_DEFAULT_REGION": "eu-west-1"}).returncode == 0
    ahead = start_server("--clock-offset", "7200")
    out = aws_cli("s3api", "list-buckets", endpoint_url=ahead.endpoint, check=False)
    assert out.returncode == SERVICE_ERROR_EXIT
    assert (
        "An error occurred (RequestTimeTooSkewed) when calling the ListBuckets operation: "
        "The difference between the request time and the current time is too large." in out.stderr
    ), out.stderr


# ---------------------------------------------------------------------------------------------
# aws s3 presign


@pytest.fixture(scope="module")
def presigned(endpoint, s3, tmp_path_factory):
    """One object and one `aws s3 presign` URL for it, shared by the tests below (the CLI's
    start-up dominates their run time). None of them changes the object."""
    bucket = unique_bucket_name("cli")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="shared/report 1+1.txt", Body=b"presigned by the cli", ContentType="text/plain")
    run = aws_runner(endpoint, tmp_path_factory.mktemp("home"))
    url = run("s3", "presign", f"s3://{bucket}/shared/report 1+1.txt", "--expires-in", "300").stdout.strip()
    yield bucket, "shared/report 1+1.txt", url
    empty_and_delete(s3, bucket)


def test_presign_emits_sigv2_and_works(presigned):
    _, _, url = presigned
    q = query(url)
    assert set(q) == {"AWSAccessKeyId", "Signature", "Expires"}, url
    assert q["AWSAccessKeyId"] == ACCESS_KEY
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"presigned by the cli"
    assert r.headers["Content-Type"] == "text/plain"


def test_presign_tampered(presigned):
    _, _, url = presigned
    sig = query(url)["Signature"]
    bad = ("A" if sig[0] != "A" else "B") + sig[1:]
    err = assert_http_error(requests.get(with_query(url, Signature=bad), timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    assert err["SignatureProvided"] == bad
    # Moving the expiry is tampering too (Expires is part of the string to sign).
    later = str(int(query(url)["Expires"]) + 1)
    assert_http_error(requests.get(with_query(url, Expires=later), timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_presign_used_with_another_method(presigned, s3, method):
    bucket, key, url = presigned
    r = requests.request(method, url, data=b"replaced" if method == "PUT" else None, timeout=10)
    err = assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    assert err["StringToSign"].startswith(f"{method}\n"), err
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"presigned by the cli"


def test_presign_expired(aws_cli, start_server):
    # The SigV2 URL carries an absolute Expires (client time + 3600). A server whose clock is
    # 7200 s ahead sees it as expired an hour ago, whichever endpoint it was presigned for.
    ahead = start_server("--clock-offset", "7200", "--bucket", "ahead-bucket")
    url = aws_cli(
        "s3", "presign", "s3://ahead-bucket/k.txt", "--expires-in", "3600", endpoint_url=ahead.endpoint
    ).stdout.strip()
    before = dt.datetime.now(dt.timezone.utc)
    err = assert_http_error(requests.get(url, timeout=10), 403, "AccessDenied", "Request has expired")
    expires = dt.datetime.fromtimestamp(int(query(url)["Expires"]), dt.timezone.utc)
    assert err["Expires"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ"), err
    server_time = dt.datetime.strptime(err["ServerTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((server_time - before).total_seconds() - 7200) < 60, err
    assert "X-Amz-Expires" not in err  # SigV2 has no X-Amz-Expires element
    # Twin: valid for 3 hours it is still good on that server (auth passes; the key is absent).
    url = aws_cli(
        "s3", "presign", "s3://ahead-bucket/k.txt", "--expires-in", str(3 * 3600), endpoint_url=ahead.endpoint
    ).stdout.strip()
    assert_http_error(requests.get(url, timeout=10), 404, "NoSuchKey", "The specified key does not exist.", Key="k.txt")
