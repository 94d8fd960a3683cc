"""boto3 against the real strict-s3 binary.

Every positive test has a negative twin that asserts the exact HTTP status and S3 error Code
(and the Message where AWS's text is known: docs/aws-evidence.md, shared/aws-error-reference.md).
Expiry is tested without sleeping: a second server runs with --clock-offset, or freezegun signs
"in the past".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import urllib.parse
import zlib

import pytest
import requests
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from freezegun import freeze_time

from conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    assert_client_error,
    assert_http_error,
    make_client,
    unique_bucket_name,
)

NO_SUCH_BUCKET = "The specified bucket does not exist"
NO_SUCH_KEY = "The specified key does not exist."
PRECONDITION = "At least one of the pre-conditions you specified did not hold"
SIG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
EXPIRED = "Request has expired"
INVALID_AKID = "The AWS Access Key Id you provided does not exist in our records."
WEEK_MSG = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
    "must be less than 604800 seconds"
)
SIG_VERSIONS = pytest.mark.parametrize("sigv", ["s3v4", "s3"], ids=["sigv4", "sigv2"])


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def status_of(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def replace_query(url: str, **changes: str) -> str:
    """The URL with query parameters replaced, keeping their order and the others' encoding."""
    parts = urllib.parse.urlsplit(url)
    out = []
    for pair in parts.query.split("&"):
        name = pair.split("=", 1)[0]
        if name in changes:
            out.append(f"{name}={urllib.parse.quote(changes.pop(name), safe='')}")
        else:
            out.append(pair)
    assert not changes, f"parameters not in the URL: {changes}"
    return urllib.parse.urlunsplit(parts._replace(query="&".join(out)))


def query_param(url: str, name: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[name][0]


def tamper(sig: str) -> str:
    """Changes one character of a signature (hex or base64), keeping its shape."""
    first = sig[0]
    return ("b" if first == "a" else "a") + sig[1:]


# =============================================================================================
# Buckets


def test_bucket_create_head_list_delete(s3):
    name = unique_bucket_name()
    assert status_of(s3.create_bucket(Bucket=name)) == 200
    assert status_of(s3.head_bucket(Bucket=name)) == 200
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert status_of(s3.delete_bucket(Bucket=name)) == 204
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # Negative twin: it is gone.
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert_client_error(e, 404, "404")  # HEAD errors have no body


def test_missing_bucket_errors(s3):
    name = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=name)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=name)
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=name)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=name)


def test_create_existing_bucket_in_us_east_1_is_200(s3, bucket):
    # AWS: in us-east-1, re-creating a bucket you own answers 200 (not BucketAlreadyOwnedByYou).
    s3.put_object(Bucket=bucket, Key="keep", Body=b"data")
    assert status_of(s3.create_bucket(Bucket=bucket)) == 200
    # ...and does not wipe the bucket.
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"data"


@pytest.mark.parametrize(
    "name",
    ["ab", "Upper-Case-Name", "under_score", "-leading-dash", "trailing-dash-", "a..b", "192.168.5.4", "x" * 64],
)
def test_create_bucket_invalid_name(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert_client_error(e, 400, "InvalidBucketName", "The specified bucket is not valid.", BucketName=name)


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert_client_error(e, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=bucket)
    # Positive twin: once empty it deletes.
    s3.delete_object(Bucket=bucket, Key="x")
    assert status_of(s3.delete_bucket(Bucket=bucket)) == 204


def test_location_constraint_of_another_region(s3, endpoint):
    # us-east-1 is S3's global endpoint, which creates a bucket in any region it is given
    # (docs/aws-evidence.md §12); a regional endpoint only in its own.
    there = unique_bucket_name()
    s3.create_bucket(Bucket=there, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=there)["LocationConstraint"] == "eu-west-1"
    make_client(endpoint, region="eu-west-1").delete_bucket(Bucket=there)
    name = unique_bucket_name()
    paris = make_client(endpoint, region="eu-west-3")
    with pytest.raises(ClientError) as e:
        paris.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert_client_error(
        e,
        400,
        "IllegalLocationConstraintException",
        "The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to.",
    )
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert_client_error(e, 404, "404")


def test_explicit_us_east_1_location_constraint_is_invalid(s3):
    name = unique_bucket_name()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert_client_error(
        e, 400, "InvalidLocationConstraint", "The specified location-constraint is not valid",
        LocationConstraint="us-east-1",
    )


def test_get_bucket_location(s3, bucket):
    resp = s3.get_bucket_location(Bucket=bucket)
    assert status_of(resp) == 200
    # us-east-1 is reported as an empty LocationConstraint (boto3 gives None).
    assert resp.get("LocationConstraint") is None
    missing = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_location(Bucket=missing)
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=missing)


# =============================================================================================
# Objects: put / get / head


def test_put_get_head_round_trip_with_metadata(s3, bucket):
    data = os.urandom(200_000) + b"\x00\xff" * 100
    expires = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/obj.bin",
        Body=data,
        ContentType="application/x-custom",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="obj.bin"',
        CacheControl="max-age=3600, public",
        ContentLanguage="en-GB",
        Expires=expires,
        Metadata={"color": "blue", "with-dash": "Value With Spaces"},
    )
    assert put["ETag"] == md5_etag(data)
    # boto3 sends a CRC32 checksum by default; the server must verify and echo it.
    assert put.get("ChecksumCRC32") == crc32_b64(data), put

    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    body = got["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    for resp in (got, s3.head_object(Bucket=bucket, Key="dir/obj.bin")):
        assert resp["ContentLength"] == len(data)
        assert resp["ETag"] == md5_etag(data)
        assert resp["ContentType"] == "application/x-custom"
        assert resp["ContentEncoding"] == "identity"
        assert resp["ContentDisposition"] == 'attachment; filename="obj.bin"'
        assert resp["CacheControl"] == "max-age=3600, public"
        assert resp["ContentLanguage"] == "en-GB"
        assert resp["Expires"] == expires
        assert resp["Metadata"] == {"color": "blue", "with-dash": "Value With Spaces"}
        assert resp["ResponseMetadata"]["HTTPHeaders"]["last-modified"].endswith(" GMT")
        assert isinstance(resp["LastModified"], dt.datetime)


def test_get_and_head_missing_key(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope/missing.txt")
    assert_client_error(e, 404, "NoSuchKey", NO_SUCH_KEY, Key="nope/missing.txt")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope/missing.txt")
    assert_client_error(e, 404, "404")


def test_put_empty_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""


def test_default_content_type_is_binary_octet_stream(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_wrong_crc32_checksum_is_bad_digest(s3, bucket):
    data = b"checksummed payload"
    ok = s3.put_object(Bucket=bucket, Key="good", Body=data, ChecksumCRC32=crc32_b64(data))
    assert ok["ChecksumCRC32"] == crc32_b64(data)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ChecksumCRC32=crc32_b64(b"other"))
    assert_client_error(e, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert_client_error(e, 404, "404")


def test_content_md5(s3, bucket):
    data = b"md5 checked"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert s3.put_object(Bucket=bucket, Key="good", Body=data, ContentMD5=good)["ETag"] == md5_etag(data)
    bad = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ContentMD5=bad)
    assert_client_error(e, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ContentMD5="not-base64-md5")
    assert_client_error(e, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.")


def test_key_length_limit(s3, bucket):
    longest = "k" * 1020 + "ünï"[:2]  # 'ü' is 2 bytes in UTF-8, 'n' 1: 1023 bytes
    assert len(longest.encode()) == 1023
    longest += "x"
    s3.put_object(Bucket=bucket, Key=longest, Body=b"1")
    assert s3.get_object(Bucket=bucket, Key=longest)["Body"].read() == b"1"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=longest + "y", Body=b"1")
    assert_client_error(e, 400, "KeyTooLongError", "Your key is too long", Size="1025", MaxSizeAllowed="1024")


def test_metadata_size_limit(s3, bucket):
    # AWS counts the bytes of every user-metadata name (without x-amz-meta-) and value: 2 KB.
    s3.put_object(Bucket=bucket, Key="ok", Body=b"", Metadata={"m": "v" * 1000})
    assert s3.head_object(Bucket=bucket, Key="ok")["Metadata"] == {"m": "v" * 1000}
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="big", Body=b"", Metadata={"big": "x" * 2100})
    assert_client_error(
        e, 400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size",
        MaxSizeAllowed="2048",
    )


def test_sigv2_header_auth_round_trip(endpoint, bucket):
    v2 = make_client(endpoint, signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2 key+plus", Body=b"signed with v2", Metadata={"m": "1"})
    got = v2.get_object(Bucket=bucket, Key="v2 key+plus")
    assert got["Body"].read() == b"signed with v2" and got["Metadata"] == {"m": "1"}
    bad = make_client(endpoint, signature_version="s3", secret_key="wrong" + SECRET_KEY[5:])
    with pytest.raises(ClientError) as e:
        bad.get_object(Bucket=bucket, Key="v2 key+plus")
    err = assert_client_error(e, 403, "SignatureDoesNotMatch", SIG_MISMATCH, AWSAccessKeyId=ACCESS_KEY)
    assert err["StringToSign"].startswith("GET\n")


# =============================================================================================
# Listing

LIST_KEYS = ["a b/c+d", "ünï/çødé", "dir//x", "../x", "dir/y", "plain.txt", "a b/e f", "z+z"]


@pytest.fixture
def listed_bucket(s3, bucket):
    for key in LIST_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def all_keys_sorted():
    return sorted(LIST_KEYS, key=lambda k: k.encode())


def test_list_v2_all_keys_in_utf8_order(s3, listed_bucket):
    resp = s3.list_objects_v2(Bucket=listed_bucket)
    assert [o["Key"] for o in resp["Contents"]] == all_keys_sorted()
    assert resp["KeyCount"] == len(LIST_KEYS) and resp["IsTruncated"] is False
    for obj in resp["Contents"]:
        assert obj["Size"] == len(obj["Key"].encode()) and obj["ETag"] == md5_etag(obj["Key"].encode())
        assert obj["StorageClass"] == "STANDARD"
    # Every listed key reads back.
    for key in LIST_KEYS:
        assert s3.get_object(Bucket=listed_bucket, Key=key)["Body"].read() == key.encode()


def test_list_v2_delimiter_and_prefix(s3, listed_bucket):
    resp = s3.list_objects_v2(Bucket=listed_bucket, Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["../", "a b/", "dir/", "ünï/"]
    assert [o["Key"] for o in resp["Contents"]] == ["plain.txt", "z+z"]
    assert resp["KeyCount"] == 6

    resp = s3.list_objects_v2(Bucket=listed_bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["dir/y"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["dir//"]
    assert resp["Prefix"] == "dir/" and resp["Delimiter"] == "/"

    resp = s3.list_objects_v2(Bucket=listed_bucket, Prefix="ünï/")
    assert [o["Key"] for o in resp["Contents"]] == ["ünï/çødé"]

    resp = s3.list_objects_v2(Bucket=listed_bucket, Prefix="no-such-prefix/")
    assert "Contents" not in resp and resp["KeyCount"] == 0


def test_list_v2_paging_with_continuation_token(s3, listed_bucket):
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        resp = s3.list_objects_v2(Bucket=listed_bucket, MaxKeys=3, **kwargs)
        pages += 1
        assert resp["MaxKeys"] == 3 and resp["KeyCount"] == len(resp["Contents"]) <= 3
        seen += [o["Key"] for o in resp["Contents"]]
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            break
        token = resp["NextContinuationToken"]
        assert token
        assert pages < 10
    assert seen == all_keys_sorted() and pages == 3


def test_list_v2_bad_continuation_token_and_max_keys(s3, listed_bucket):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=listed_bucket, ContinuationToken="bogus-token")
    assert_client_error(
        e, 400, "InvalidArgument", "The continuation token provided is incorrect", ArgumentName="continuation-token"
    )
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=listed_bucket, MaxKeys=-1)
    assert_client_error(
        e, 400, "InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647",
        ArgumentName="maxKeys", ArgumentValue="-1",
    )


def test_list_v2_start_after(s3, listed_bucket):
    ordered = all_keys_sorted()
    resp = s3.list_objects_v2(Bucket=listed_bucket, StartAfter="dir//x")
    assert [o["Key"] for o in resp["Contents"]] == ordered[ordered.index("dir//x") + 1:]
    assert resp["StartAfter"] == "dir//x"
    resp = s3.list_objects_v2(Bucket=listed_bucket, StartAfter="\U0010ffff")
    assert "Contents" not in resp and resp["KeyCount"] == 0


def test_list_v2_encoding_type_url(s3, listed_bucket):
    # Asked for explicitly, botocore leaves the keys encoded: check the wire form.
    resp = s3.list_objects_v2(Bucket=listed_bucket, EncodingType="url", Delimiter="/", Prefix="")
    assert resp["EncodingType"] == "url"
    encoded = [o["Key"] for o in resp["Contents"]] + [p["Prefix"] for p in resp["CommonPrefixes"]]
    for value in encoded:
        assert all(c.isascii() and c != " " for c in value), value
    assert sorted(urllib.parse.unquote_plus(v) for v in encoded) == sorted(
        ["plain.txt", "z+z", "../", "a b/", "dir/", "ünï/"]
    )
    assert "z%2Bz" in encoded  # a literal '+' must be encoded, or it would decode to a space
    assert urllib.parse.quote("ünï/", safe="") in encoded or urllib.parse.quote("ünï/") in encoded
    # Without EncodingType, botocore asks for url encoding itself and decodes: exact keys back.
    plain = s3.list_objects_v2(Bucket=listed_bucket)
    assert [o["Key"] for o in plain["Contents"]] == all_keys_sorted()
    # Negative twin: an unknown encoding type is refused.
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=listed_bucket, EncodingType="base64")
    assert_client_error(e, 400, "InvalidArgument", ArgumentName="encoding-type")


def test_list_v1_marker_and_next_marker(s3, listed_bucket):
    ordered = all_keys_sorted()
    resp = s3.list_objects(Bucket=listed_bucket, MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == ordered[:3]
    assert resp["IsTruncated"] is True
    # AWS returns NextMarker only when a delimiter was given; page on with the last key.
    assert "NextMarker" not in resp
    resp = s3.list_objects(Bucket=listed_bucket, Marker=ordered[2])
    assert [o["Key"] for o in resp["Contents"]] == ordered[3:]
    assert resp["Marker"] == ordered[2] and resp["IsTruncated"] is False

    # With a delimiter, NextMarker is given and paging over it visits everything once.
    seen, marker = [], ""
    for _ in range(10):
        resp = s3.list_objects(Bucket=listed_bucket, Delimiter="/", MaxKeys=2, Marker=marker)
        seen += [o["Key"] for o in resp.get("Contents", [])] + [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        if not resp["IsTruncated"]:
            break
        marker = resp["NextMarker"]
    assert sorted(seen) == sorted(["plain.txt", "z+z", "../", "a b/", "dir/", "ünï/"])
    assert len(seen) == 6


def test_list_v1_missing_bucket(s3):
    name = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.list_objects(Bucket=name)
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=name)


# =============================================================================================
# Ranges and conditions

DIGITS = b"0123456789"


@pytest.fixture
def digits(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="digits", Body=DIGITS)
    head = s3.head_object(Bucket=bucket, Key="digits")
    return bucket, put["ETag"], head["LastModified"]


@pytest.mark.parametrize(
    "rng, body, content_range",
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=5-", b"56789", "bytes 5-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
    ],
)
def test_range_get(endpoint, digits, rng, body, content_range):
    bucket, _, _ = digits
    # Range semantics alone: this client does not ask for checksums (x-amz-checksum-mode);
    # test_range_get_with_default_checksum_mode covers boto3's default.
    client = make_client(endpoint, response_checksum_validation="when_required")
    resp = client.get_object(Bucket=bucket, Key="digits", Range=rng)
    assert status_of(resp) == 206
    assert resp["Body"].read() == body
    assert resp["ContentRange"] == content_range
    assert resp["ContentLength"] == len(body)
    assert resp["AcceptRanges"] == "bytes"


def test_range_get_with_default_checksum_mode(s3, digits):
    # boto3's default client sends x-amz-checksum-mode: ENABLED on every GetObject. The stored
    # CRC32 covers the whole object, so on a 206 AWS must not send it (botocore would check the
    # partial body against it and raise FlexibleChecksumError).
    bucket, _, _ = digits
    resp = s3.get_object(Bucket=bucket, Key="digits", Range="bytes=0-4")
    assert status_of(resp) == 206
    assert "x-amz-checksum-crc32" not in resp["ResponseMetadata"]["HTTPHeaders"], resp["ResponseMetadata"]
    assert resp["Body"].read() == b"01234"
    # Twin: a full GET with checksum mode does carry the object's CRC32, and it validates.
    full = s3.get_object(Bucket=bucket, Key="digits", ChecksumMode="ENABLED")
    assert full["ChecksumCRC32"] == crc32_b64(DIGITS)
    assert full["Body"].read() == DIGITS


@pytest.mark.parametrize("rng", ["bytes=10-20", "bytes=100-"])
def test_range_unsatisfiable(s3, digits, rng):
    bucket, _, _ = digits
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="digits", Range=rng)
    assert_client_error(
        e, 416, "InvalidRange", "The requested range is not satisfiable", RangeRequested=rng, ActualObjectSize="10"
    )


def test_if_match(s3, digits):
    bucket, etag, _ = digits
    assert s3.get_object(Bucket=bucket, Key="digits", IfMatch=etag)["Body"].read() == DIGITS
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="digits", IfMatch='"00000000000000000000000000000000"')
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-Match")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="digits", IfMatch='"00000000000000000000000000000000"')
    assert_client_error(e, 412, "412")


def test_if_none_match(s3, digits):
    bucket, etag, _ = digits
    assert s3.get_object(Bucket=bucket, Key="digits", IfNoneMatch='"0000"')["Body"].read() == DIGITS
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="digits", IfNoneMatch=etag)
    assert_client_error(e, 304, "304")
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("etag") == etag
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="digits", IfNoneMatch=etag)
    assert_client_error(e, 304, "304")


def test_if_modified_since(s3, digits):
    bucket, _, last_modified = digits
    earlier = last_modified - dt.timedelta(hours=1)
    assert s3.get_object(Bucket=bucket, Key="digits", IfModifiedSince=earlier)["Body"].read() == DIGITS
    for when in (last_modified, last_modified + dt.timedelta(minutes=5)):
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=bucket, Key="digits", IfModifiedSince=when)
        assert_client_error(e, 304, "304")


def test_if_unmodified_since(s3, digits):
    bucket, _, last_modified = digits
    for when in (last_modified, last_modified + dt.timedelta(hours=1)):
        assert s3.get_object(Bucket=bucket, Key="digits", IfUnmodifiedSince=when)["Body"].read() == DIGITS
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="digits", IfUnmodifiedSince=last_modified - dt.timedelta(hours=1))
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-Unmodified-Since")


def test_conditional_put_if_none_match_star(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    assert first["ETag"] == md5_etag(b"first")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-None-Match")
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_conditional_put_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)  # stale ETag
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-Match")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"v1", IfMatch=etag)
    assert_client_error(e, 404, "NoSuchKey", NO_SUCH_KEY)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


# =============================================================================================
# Copy


def test_copy_object_copy_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x-src", Metadata={"a": "1"})
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert resp["CopyObjectResult"]["ETag"] == md5_etag(b"copy me")
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"copy me"
    assert got["ContentType"] == "text/x-src" and got["Metadata"] == {"a": "1"}


def test_copy_object_replace_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x-src", Metadata={"a": "1"})
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        ContentType="text/x-new",
        Metadata={"b": "2"},
    )
    got = s3.head_object(Bucket=bucket, Key="dst")
    assert got["ContentType"] == "text/x-new" and got["Metadata"] == {"b": "2"}
    # The source is unchanged.
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"a": "1"}


def test_copy_object_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"v": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert_client_error(
        e,
        400,
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object to itself without changing the "
        "object's metadata, storage class, website redirect location or encryption attributes.",
    )
    # Positive twin: onto itself with REPLACE is allowed.
    s3.copy_object(
        Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE", Metadata={"v": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"v": "2"}


def test_copy_object_missing_source(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "no-such-src"})
    assert_client_error(e, 404, "NoSuchKey", NO_SUCH_KEY)
    missing = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": missing, "Key": "k"})
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET)


def test_copy_between_buckets_with_odd_key(s3, bucket):
    other = unique_bucket_name()
    s3.create_bucket(Bucket=other)
    try:
        key = "ünï/a b+c?d#e"
        s3.put_object(Bucket=bucket, Key=key, Body=b"odd")
        s3.copy_object(Bucket=other, Key=key, CopySource={"Bucket": bucket, "Key": key})
        assert s3.get_object(Bucket=other, Key=key)["Body"].read() == b"odd"
    finally:
        for o in s3.list_objects_v2(Bucket=other).get("Contents", []):
            s3.delete_object(Bucket=other, Key=o["Key"])
        s3.delete_bucket(Bucket=other)


# =============================================================================================
# Delete


def test_delete_object_missing_key_is_204(s3, bucket):
    assert status_of(s3.delete_object(Bucket=bucket, Key="never-existed")) == 204
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    assert status_of(s3.delete_object(Bucket=bucket, Key="k")) == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert_client_error(e, 404, "NoSuchKey", NO_SUCH_KEY)
    # Negative twin: the bucket must exist.
    missing = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=missing, Key="k")
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=missing)


def test_delete_objects_verbose(s3, bucket):
    keys = ["a", "b c", "ünï"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys + ["missing"]], "Quiet": False}
    )
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys + ["missing"])
    assert "Errors" not in resp
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_quiet(s3, bucket):
    for k in ["x", "y"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}, {"Key": "y"}], "Quiet": True})
    assert status_of(resp) == 200
    assert "Deleted" not in resp and "Errors" not in resp
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_errors(s3, bucket):
    missing = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=missing, Delete={"Objects": [{"Key": "x"}]})
    assert_client_error(e, 404, "NoSuchBucket", NO_SUCH_BUCKET, BucketName=missing)
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": []})
    assert_client_error(
        e, 400, "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


# =============================================================================================
# Presigned URLs (SigV4 and SigV2)


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre/signed file+1.txt", Body=b"presigned body", ContentType="text/plain")
    return bucket, "pre/signed file+1.txt"


@SIG_VERSIONS
def test_presigned_get_and_put(endpoint, s3, obj, sigv):
    bucket, key = obj
    client = make_client(endpoint, signature_version=sigv)
    get_url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert ("X-Amz-Signature=" in get_url) == (sigv == "s3v4") and ("Signature=" in get_url)
    r = requests.get(get_url, timeout=10)
    assert r.status_code == 200 and r.content == b"presigned body"
    assert r.headers["ETag"] == md5_etag(b"presigned body")

    put_url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded ü"}, ExpiresIn=300)
    r = requests.put(put_url, data=b"via presigned put", timeout=10)
    assert r.status_code == 200, r.content
    assert r.headers["ETag"] == md5_etag(b"via presigned put")
    assert s3.get_object(Bucket=bucket, Key="uploaded ü")["Body"].read() == b"via presigned put"


@SIG_VERSIONS
def test_presigned_expired_by_server_clock(endpoint, start_server, sigv):
    # The server's clock runs an hour ahead: a URL valid for 60 s is long expired there.
    late = start_server("--clock-offset", "3600", "--bucket", "late-bucket")
    setup = make_client(endpoint)  # unaffected server, to show the URL is otherwise fine
    bucket = unique_bucket_name()
    setup.create_bucket(Bucket=bucket)
    setup.put_object(Bucket=bucket, Key="k", Body=b"fresh")
    fresh = make_client(endpoint, signature_version=sigv).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
    )
    assert requests.get(fresh, timeout=10).content == b"fresh"
    setup.delete_object(Bucket=bucket, Key="k")
    setup.delete_bucket(Bucket=bucket)

    url = make_client(late.endpoint, signature_version=sigv).generate_presigned_url(
        "get_object", Params={"Bucket": "late-bucket", "Key": "k"}, ExpiresIn=60
    )
    before = dt.datetime.now(dt.timezone.utc)
    r = requests.get(url, timeout=10)
    err = assert_http_error(r, 403, "AccessDenied", EXPIRED)
    server_time = dt.datetime.strptime(err["ServerTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((server_time - before).total_seconds() - 3600) < 60, err
    assert err["Expires"], err
    if sigv == "s3v4":
        assert err["X-Amz-Expires"] == "60"
        expires = dt.datetime.strptime(err["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        assert abs((expires - before).total_seconds() - 60) < 60, err
        assert list(err)[:5] == ["Code", "Message", "X-Amz-Expires", "Expires", "ServerTime"], list(err)
    else:
        assert "X-Amz-Expires" not in err
        assert list(err)[:4] == ["Code", "Message", "Expires", "ServerTime"], list(err)


@SIG_VERSIONS
def test_presigned_signed_in_the_past_with_freezegun(endpoint, s3, obj, sigv):
    bucket, key = obj
    client = make_client(endpoint, signature_version=sigv)
    with freeze_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
    assert_http_error(requests.get(url, timeout=10), 403, "AccessDenied", EXPIRED)
    # Twin: signed in the past but still valid (expires in 3 hours from then) works.
    with freeze_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3 * 3600)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"presigned body"


@SIG_VERSIONS
def test_presigned_tampered_signature(endpoint, obj, sigv):
    bucket, key = obj
    url = make_client(endpoint, signature_version=sigv).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
    )
    name = "X-Amz-Signature" if sigv == "s3v4" else "Signature"
    bad = tamper(query_param(url, name))
    err = assert_http_error(requests.get(replace_query(url, **{name: bad}), timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    assert err["SignatureProvided"] == bad and err["AWSAccessKeyId"] == ACCESS_KEY
    assert err["StringToSign"]


@SIG_VERSIONS
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_presigned_get_url_used_with_another_method(endpoint, s3, obj, sigv, method):
    bucket, key = obj
    url = make_client(endpoint, signature_version=sigv).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
    )
    r = requests.request(method, url, data=b"overwrite!" if method == "PUT" else None, timeout=10)
    err = assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    if sigv == "s3v4":
        assert err["CanonicalRequest"].startswith(method + "\n"), err
    else:
        assert err["StringToSign"].startswith(method + "\n"), err
    # The object is untouched.
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"presigned body"


@SIG_VERSIONS
def test_presigned_url_for_another_key(endpoint, s3, obj, sigv):
    bucket, key = obj
    s3.put_object(Bucket=bucket, Key="other-key", Body=b"secret other")
    url = make_client(endpoint, signature_version=sigv).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
    )
    parts = urllib.parse.urlsplit(url)
    other = urllib.parse.urlunsplit(parts._replace(path=f"/{bucket}/other-key"))
    assert_http_error(requests.get(other, timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    assert requests.get(url, timeout=10).content == b"presigned body"


@SIG_VERSIONS
def test_presigned_wrong_secret_and_unknown_key(endpoint, obj, sigv):
    bucket, key = obj
    params = {"Bucket": bucket, "Key": key}
    wrong_secret = make_client(endpoint, signature_version=sigv, secret_key="x" + SECRET_KEY[1:])
    url = wrong_secret.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert_http_error(requests.get(url, timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH, AWSAccessKeyId=ACCESS_KEY)

    unknown = make_client(endpoint, signature_version=sigv, access_key="AKIAUNKNOWNKEY000000")
    url = unknown.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert_http_error(
        requests.get(url, timeout=10), 403, "InvalidAccessKeyId", INVALID_AKID, AWSAccessKeyId="AKIAUNKNOWNKEY000000"
    )


def test_header_auth_wrong_secret_and_unknown_key(endpoint, bucket):
    with pytest.raises(ClientError) as e:
        make_client(endpoint, secret_key="x" + SECRET_KEY[1:]).list_objects_v2(Bucket=bucket)
    err = assert_client_error(e, 403, "SignatureDoesNotMatch", SIG_MISMATCH, AWSAccessKeyId=ACCESS_KEY)
    assert err["CanonicalRequest"].startswith("GET\n/" + bucket)
    with pytest.raises(ClientError) as e:
        make_client(endpoint, access_key="AKIAUNKNOWNKEY000000").list_objects_v2(Bucket=bucket)
    assert_client_error(e, 403, "InvalidAccessKeyId", INVALID_AKID, AWSAccessKeyId="AKIAUNKNOWNKEY000000")


@SIG_VERSIONS
def test_presigned_response_header_overrides(endpoint, obj, sigv):
    bucket, key = obj
    params = {
        "Bucket": bucket,
        "Key": key,
        "ResponseContentType": "application/x-override",
        "ResponseContentDisposition": 'attachment; filename="dl name.txt"',
        "ResponseCacheControl": "no-store",
    }
    url = make_client(endpoint, signature_version=sigv).generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"presigned body"
    assert r.headers["Content-Type"] == "application/x-override"
    assert r.headers["Content-Disposition"] == 'attachment; filename="dl name.txt"'
    assert r.headers["Cache-Control"] == "no-store"
    # Twin: the override parameters are signed; changing one breaks the signature.
    changed = replace_query(url, **{"response-content-type": "text/html"})
    assert_http_error(requests.get(changed, timeout=10), 403, "SignatureDoesNotMatch", SIG_MISMATCH)


def test_presigned_expires_limit_one_week(endpoint, obj):
    bucket, key = obj
    client = make_client(endpoint)
    ok = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604800)
    assert requests.get(ok, timeout=10).status_code == 200
    # Correctly signed, but longer than a week.
    too_long = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604801)
    assert_http_error(requests.get(too_long, timeout=10), 400, "AuthorizationQueryParametersError", WEEK_MSG)
    # An edited URL: the parameter check comes before the signature check.
    edited = replace_query(ok, **{"X-Amz-Expires": "999999"})
    assert_http_error(requests.get(edited, timeout=10), 400, "AuthorizationQueryParametersError", WEEK_MSG)


def test_presigned_not_yet_valid(endpoint, obj):
    bucket, key = obj
    client = make_client(endpoint)
    now = dt.datetime.now(dt.timezone.utc)
    # Dated 10 minutes ahead: inside the 15-minute window, accepted.
    with freeze_time(now + dt.timedelta(minutes=10)):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert requests.get(url, timeout=10).content == b"presigned body"
    # Dated an hour ahead: not yet valid.
    with freeze_time(now + dt.timedelta(hours=1)):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    err = assert_http_error(requests.get(url, timeout=10), 403, "AccessDenied", "Request is not yet valid")
    signed_at = dt.datetime.strptime(query_param(url, "X-Amz-Date"), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert err["X-Amz-Date"] == str(int(signed_at.timestamp()) * 1000), err  # epoch milliseconds
    assert err["ServerTime"] and err["Expires"]


def test_presigned_expires_zero_is_expired(endpoint, obj):
    bucket, key = obj
    url = make_client(endpoint).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=0)
    assert query_param(url, "X-Amz-Expires") == "0"
    assert_http_error(requests.get(url, timeout=10), 403, "AccessDenied", EXPIRED, **{"X-Amz-Expires": "0"})


@SIG_VERSIONS
def test_presigned_put_with_signed_content_type_and_metadata(endpoint, s3, bucket, sigv):
    client = make_client(endpoint, signature_version=sigv)
    params = {"Bucket": bucket, "Key": "signed-ct", "ContentType": "text/plain", "Metadata": {"owner": "me"}}
    url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    good = {"Content-Type": "text/plain", "x-amz-meta-owner": "me"}
    # Negative: another Content-Type than the signed one.
    r = requests.put(url, data=b"body", headers={**good, "Content-Type": "text/html"}, timeout=10)
    assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="signed-ct")
    assert_client_error(e, 404, "404")
    # Positive: exactly the signed headers.
    r = requests.put(url, data=b"body", headers=good, timeout=10)
    assert r.status_code == 200, r.content
    head = s3.head_object(Bucket=bucket, Key="signed-ct")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"owner": "me"}


@SIG_VERSIONS
def test_presigned_put_with_an_unsigned_amz_header(endpoint, s3, bucket, sigv):
    url = make_client(endpoint, signature_version=sigv).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "u"}, ExpiresIn=300
    )
    r = requests.put(url, data=b"x", headers={"x-amz-meta-sneaky": "1"}, timeout=10)
    if sigv == "s3v4":
        assert_http_error(
            r, 403, "AccessDenied", "There were headers present in the request which were not signed",
            HeadersNotSigned="x-amz-meta-sneaky",
        )
    else:  # SigV2 puts every x-amz-* header in the string to sign
        err = assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
        assert "\nx-amz-meta-sneaky:1\n" in err["StringToSign"], err
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="u")
    assert_client_error(e, 404, "404")
    assert requests.put(url, data=b"x", timeout=10).status_code == 200


def test_presigned_wrong_region(endpoint, obj):
    # Path-style and presigned for eu-west-1: on AWS that region's endpoint redirects.
    bucket, key = obj
    url = make_client(endpoint, region="eu-west-1").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
    )
    assert "%2Feu-west-1%2F" in url
    resp = requests.get(url, timeout=10, allow_redirects=False)
    assert_http_error(
        resp,
        301,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. "
        "Please send all future requests to this endpoint.",
        Bucket=bucket,
    )
    assert resp.headers["x-amz-bucket-region"] == "us-east-1"
    # A region AWS does not have is malformed wherever the URL goes.
    url = make_client(endpoint, region="eu-west-9").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
    )
    assert_http_error(
        requests.get(url, timeout=10),
        400,
        "AuthorizationQueryParametersError",
        "Error parsing the X-Amz-Credential parameter; the region 'eu-west-9' is wrong; expecting 'us-east-1'",
        Region="us-east-1",
    )


# =============================================================================================
# Region, anonymous, clock skew


def test_client_in_another_region(endpoint, s3, bucket):
    # A region AWS does not have: AuthorizationHeaderMalformed naming the default region.
    typo = make_client(endpoint, region="eu-west-9")
    with pytest.raises(ClientError) as e:
        typo.list_buckets()
    assert_client_error(
        e,
        400,
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the region 'eu-west-9' is wrong; expecting 'us-east-1'",
        Region="us-east-1",
    )
    # A real region: ListBuckets works from any region's endpoint, and botocore follows the
    # bucket's redirect to us-east-1 for bucket operations, as on AWS.
    eu = make_client(endpoint, region="eu-west-1")
    assert status_of(eu.list_buckets()) == 200
    assert status_of(eu.list_objects_v2(Bucket=bucket)) == 200
    assert status_of(s3.list_buckets()) == 200


def test_anonymous_requests_are_denied(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"p")
    anon = make_client(endpoint, signature_version=UNSIGNED, access_key=None, secret_key=None)
    for call in (
        lambda: anon.list_buckets(),
        lambda: anon.list_objects_v2(Bucket=bucket),
        lambda: anon.get_object(Bucket=bucket, Key="private"),
        lambda: anon.put_object(Bucket=bucket, Key="anon", Body=b"x"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert_client_error(e, 403, "AccessDenied", "Access Denied")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="anon")
    assert_client_error(e, 404, "404")
    # Plain HTTP without any auth, as a browser would send it.
    r = requests.get(f"{endpoint}/{bucket}/private", timeout=10)
    assert_http_error(r, 403, "AccessDenied", "Access Denied")


def test_request_time_too_skewed(start_server):
    ahead = start_server("--clock-offset", "3600")
    client = make_client(ahead.endpoint)
    with pytest.raises(ClientError) as e:
        client.list_buckets()
    assert_client_error(
        e,
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        MaxAllowedSkewMilliseconds="900000",
    )
    # Twin: within the 15-minute window is fine.
    near = start_server("--clock-offset", "600")
    assert status_of(make_client(near.endpoint).list_buckets()) == 200


# =============================================================================================
# Managed transfers (below the multipart threshold)


def test_upload_file_download_file_round_trip(s3, bucket, tmp_path):
    data = os.urandom(1024 * 1024)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "files/one-mib.bin")
    head = s3.head_object(Bucket=bucket, Key="files/one-mib.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == md5_etag(data)  # a single PUT, not multipart
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "files/one-mib.bin", str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    # Negative twin: downloading a missing key fails with the HEAD's 404.
    with pytest.raises(ClientError) as e:
        s3.download_file(bucket, "files/missing.bin", str(tmp_path / "never.bin"))
    assert_client_error(e, 404, "404")
    assert not (tmp_path / "never.bin").exists()


def test_a_parameter_added_to_a_presigned_url_is_named(endpoint, s3, bucket):
    """jcberquist/aws-cfml#12: `&versionId=...` appended to an already presigned URL."""
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"v1")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}, ExpiresIn=300)
    assert requests.get(url, timeout=10).status_code == 200
    resp = requests.get(url + "&versionId=3HL4kqtJlcpXroDTDmJ", timeout=10)
    err = assert_http_error(resp, 403, "SignatureDoesNotMatch")
    assert "without the query parameter versionId=" in err["Explanation"], err
    assert "versionId" in resp.headers["x-strict-s3-reason"]
