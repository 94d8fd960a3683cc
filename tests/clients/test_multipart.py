"""Multipart uploads with boto3 and the AWS CLI against the real strict-s3 binary.

CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads and GetObject/HeadObject ?partNumber, through boto3's managed
transfers (s3transfer), its low-level calls and presigned part URLs, and the AWS CLI's `s3 cp`,
`s3 sync` and `s3api`. Expected ETags and checksums are computed here, independently of the
server: a multipart ETag is the MD5 of the parts' binary MD5s, "-" and the part count; a
composite CRC32 is the CRC32 of the parts' big-endian CRC32s, "-" and the count.

Every positive test has a negative twin asserting the exact HTTP status and S3 error Code (and
AWS's Message where it is known).
"""

from __future__ import annotations

import base64
import filecmp
import hashlib
import json
import os
import random
import time
import urllib.parse
import zlib

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import assert_client_error, assert_http_error, make_client, unique_bucket_name

MiB = 1024 * 1024
SIG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
NO_SUCH_UPLOAD = (
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
    "completed."
)
INVALID_PART = (
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified "
    "entity tag may not match the part's entity tag."
)
INVALID_PART_ORDER = "The list of parts was not in ascending order. Parts must be ordered by part number."
MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"
SERVICE_ERROR_EXIT = 255  # CLI v1 exits 255 when the service answers with an error


# ---------------------------------------------------------------------------------------------
# Independent computations


def payload(size: int, seed: int) -> bytes:
    """Reproducible pseudo-random bytes (faster than os.urandom for many MiB, and repeatable)."""
    return random.Random(seed).randbytes(size)


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def crc32_raw(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(crc32_raw(data)).decode()


def composite_crc32(parts: list[bytes]) -> str:
    return f"{crc32_b64(b''.join(crc32_raw(p) for p in parts))}-{len(parts)}"


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def status_of(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def with_query(url: str, **changes: str) -> str:
    """The URL with query parameters replaced, keeping their order and the others' encoding."""
    parts = urllib.parse.urlsplit(url)
    out = []
    for pair in parts.query.split("&"):
        name = pair.split("=", 1)[0]
        out.append(f"{name}={urllib.parse.quote(changes.pop(name), safe='')}" if name in changes else pair)
    assert not changes, f"parameters not in the URL: {changes}"
    return urllib.parse.urlunsplit(parts._replace(query="&".join(out)))


def upload_parts(s3, bucket: str, key: str, parts: list[bytes], **create_args) -> tuple[str, list[dict]]:
    """create_multipart_upload + upload_part for each part; returns (UploadId, Parts for complete)."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create_args)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        assert resp["ETag"] == md5_etag(data)
        done.append({"PartNumber": number, "ETag": resp["ETag"]})
    return upload_id, done


# =============================================================================================
# boto3 managed transfers


def test_upload_file_multipart_and_download_file(s3, bucket, tmp_path):
    data = payload(12 * MiB, 1)
    src = tmp_path / "twelve.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    s3.upload_file(str(src), bucket, "managed/twelve.bin", Config=config, ExtraArgs={"ContentType": "application/x-12"})

    parts = split(data, 5 * MiB)
    assert [len(p) for p in parts] == [5 * MiB, 5 * MiB, 2 * MiB]
    head = s3.head_object(Bucket=bucket, Key="managed/twelve.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(parts)
    assert head["ContentType"] == "application/x-12"
    # s3transfer asks for the default CRC32 on the upload (composite per-part checksums).
    assert head.get("ChecksumCRC32") == composite_crc32(parts), head
    assert head.get("ChecksumType") == "COMPOSITE", head
    assert s3.head_object(Bucket=bucket, Key="managed/twelve.bin", PartNumber=3)["PartsCount"] == 3

    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "managed/twelve.bin", str(dst), Config=config)  # ranged GETs
    assert sha256(dst.read_bytes()) == sha256(data)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)

    # Negative twin: downloading a missing key fails with the HEAD's 404, writing nothing.
    with pytest.raises(ClientError) as e:
        s3.download_file(bucket, "managed/missing.bin", str(tmp_path / "never.bin"), Config=config)
    assert_client_error(e, 404, "404")
    assert not (tmp_path / "never.bin").exists()


# =============================================================================================
# Low-level calls


def test_low_level_upload_etag_and_part_reads(s3, bucket):
    parts = [payload(5 * MiB, 2), payload(5 * MiB + 1, 3), b"tail"]
    key = "low/level ü+.bin"
    upload_id, done = upload_parts(s3, bucket, key, parts, ContentType="text/x-parts", Metadata={"m": "v"})
    resp = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    expected = multipart_etag(parts)
    assert expected.endswith('-3"')
    assert resp["ETag"] == expected
    assert resp["Bucket"] == bucket and resp["Key"] == key
    assert resp["Location"].endswith("/" + bucket + "/" + urllib.parse.quote(key)), resp["Location"]

    whole = b"".join(parts)
    got = s3.get_object(Bucket=bucket, Key=key)
    assert sha256(got["Body"].read()) == sha256(whole)
    assert got["ETag"] == expected and got["ContentLength"] == len(whole)
    assert got["ContentType"] == "text/x-parts" and got["Metadata"] == {"m": "v"}
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="low/")["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [(key, len(whole), expected)]

    # GetObject ?partNumber=2: exactly that part's bytes, as a 206 with the object's part count.
    second = s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    assert status_of(second) == 206
    assert second["Body"].read() == parts[1]
    assert second["PartsCount"] == 3
    assert second["ContentLength"] == len(parts[1])
    start = len(parts[0])
    assert second["ContentRange"] == f"bytes {start}-{start + len(parts[1]) - 1}/{len(whole)}"
    assert second["ETag"] == expected
    last = s3.head_object(Bucket=bucket, Key=key, PartNumber=3)
    assert last["ContentLength"] == 4 and last["PartsCount"] == 3

    # Negative twin: a part number beyond the object's parts.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key=key, PartNumber=4)
    assert_client_error(e, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable")


def test_get_part_number_of_a_single_put_object(s3, bucket):
    # An object from one PUT has one part: partNumber=1 is the whole object.
    s3.put_object(Bucket=bucket, Key="single", Body=b"just one part")
    one = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert one["Body"].read() == b"just one part"
    assert one.get("PartsCount", 1) == 1
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="single", PartNumber=2)
    assert_client_error(e, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable")


def test_list_parts_paging(s3, bucket):
    parts = [b"a" * 1000, b"b" * 2000, b"c" * 3000]
    upload_id, done = upload_parts(s3, bucket, "paged", parts)
    seen, marker, pages = [], 0, 0
    while True:
        resp = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, MaxParts=1, PartNumberMarker=marker)
        pages += 1
        assert resp["MaxParts"] == 1 and resp["UploadId"] == upload_id
        assert resp["PartNumberMarker"] == marker
        assert len(resp["Parts"]) == 1
        part = resp["Parts"][0]
        seen.append((part["PartNumber"], part["ETag"], part["Size"]))
        assert resp["NextPartNumberMarker"] == part["PartNumber"]
        if not resp["IsTruncated"]:
            break
        marker = resp["NextPartNumberMarker"]
        assert pages < 5
    assert pages == 3
    assert seen == [(d["PartNumber"], d["ETag"], len(p)) for d, p in zip(done, parts)]

    everything = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id)
    assert [p["PartNumber"] for p in everything["Parts"]] == [1, 2, 3]
    assert everything["IsTruncated"] is False
    # A part uploaded again replaces the earlier one.
    again = s3.upload_part(Bucket=bucket, Key="paged", UploadId=upload_id, PartNumber=2, Body=b"B" * 10)
    relisted = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in relisted] == [(1, 1000), (2, 10), (3, 3000)]
    assert relisted[1]["ETag"] == again["ETag"] == md5_etag(b"B" * 10)

    # Negative twin: the upload ID must name an upload of this key.
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="another-key", UploadId=upload_id)
    assert_client_error(e, 404, "NoSuchUpload", NO_SUCH_UPLOAD)
    s3.abort_multipart_upload(Bucket=bucket, Key="paged", UploadId=upload_id)


def test_list_multipart_uploads_prefix_and_delimiter(s3, bucket):
    keys = ["a/1", "a/2", "a/deep/3", "b/x", "top"]
    ids = {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in keys}
    try:
        resp = s3.list_multipart_uploads(Bucket=bucket)
        assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == [(k, ids[k]) for k in keys]
        assert resp["IsTruncated"] is False
        assert all(u["StorageClass"] == "STANDARD" and u["Initiated"] for u in resp["Uploads"])

        resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
        assert [u["Key"] for u in resp["Uploads"]] == ["a/1", "a/2", "a/deep/3"]
        assert resp["Prefix"] == "a/"

        resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
        assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/"]
        assert [u["Key"] for u in resp["Uploads"]] == ["top"]
        assert resp["Delimiter"] == "/"

        resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/", Delimiter="/")
        assert [u["Key"] for u in resp["Uploads"]] == ["a/1", "a/2"]
        assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/deep/"]

        # Paging with MaxUploads: NextKeyMarker / NextUploadIdMarker lead through every upload once.
        seen, kwargs = [], {}
        for _ in range(10):
            page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kwargs)
            seen += [u["Key"] for u in page.get("Uploads", [])]
            if not page["IsTruncated"]:
                break
            kwargs = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
        assert seen == keys

        # Negative twin: no match.
        resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="zzz/")
        assert "Uploads" not in resp and "CommonPrefixes" not in resp
        missing = unique_bucket_name("missing")
        with pytest.raises(ClientError) as e:
            s3.list_multipart_uploads(Bucket=missing)
        assert_client_error(e, 404, "NoSuchBucket", "The specified bucket does not exist", BucketName=missing)
    finally:
        for k, upload_id in ids.items():
            s3.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=upload_id)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_abort_then_no_such_upload(s3, bucket):
    upload_id, done = upload_parts(s3, bucket, "aborted", [b"x" * 100])
    assert status_of(s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)) == 204
    calls = {
        "UploadPart": lambda: s3.upload_part(Bucket=bucket, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"y"),
        "ListParts": lambda: s3.list_parts(Bucket=bucket, Key="aborted", UploadId=upload_id),
        "Complete": lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="aborted", UploadId=upload_id, MultipartUpload={"Parts": done}
        ),
        "Abort": lambda: s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id),
    }
    for call in calls.values():
        with pytest.raises(ClientError) as e:
            call()
        assert_client_error(e, 404, "NoSuchUpload", NO_SUCH_UPLOAD)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="aborted")
    assert_client_error(e, 404, "404")


def test_complete_errors_then_complete(s3, bucket):
    key = "errors"
    parts = [payload(5 * MiB, 4), b"last part"]
    upload_id, done = upload_parts(s3, bucket, key, parts)

    def complete(part_list, upload=upload_id):
        return s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": part_list}
        )

    # InvalidPart: a wrong ETag, and a part that was never uploaded.
    with pytest.raises(ClientError) as e:
        complete([done[0], {"PartNumber": 2, "ETag": md5_etag(b"something else")}])
    assert_client_error(e, 400, "InvalidPart", INVALID_PART)
    with pytest.raises(ClientError) as e:
        complete([done[0], {"PartNumber": 3, "ETag": done[1]["ETag"]}])
    assert_client_error(e, 400, "InvalidPart", INVALID_PART)
    # InvalidPartOrder: descending part numbers.
    with pytest.raises(ClientError) as e:
        complete([done[1], done[0]])
    assert_client_error(e, 400, "InvalidPartOrder", INVALID_PART_ORDER)
    # An empty part list does not validate against the schema.
    with pytest.raises(ClientError) as e:
        complete([])
    assert_client_error(e, 400, "MalformedXML", MALFORMED_XML)
    # NoSuchUpload: an upload ID that does not exist.
    with pytest.raises(ClientError) as e:
        complete(done, upload="no-such-upload-id")
    assert_client_error(e, 404, "NoSuchUpload", NO_SUCH_UPLOAD)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert_client_error(e, 404, "404")

    # Positive twin: the failures left the upload intact; the right list completes it.
    assert complete(done)["ETag"] == multipart_etag(parts)
    assert sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(b"".join(parts))
    # A retry with the same parts (an SDK whose answer was lost) gets the same answer, as from
    # S3 (adobe/S3Mock#2586 and minio/minio#13318 ran this against S3); another list does not.
    again = complete(done)
    assert again["ETag"] == multipart_etag(parts)
    assert again["Key"] == key and again["Bucket"] == bucket
    with pytest.raises(ClientError) as e:
        complete(done[:1])
    assert_client_error(e, 404, "NoSuchUpload", NO_SUCH_UPLOAD)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert_client_error(e, 404, "NoSuchUpload", NO_SUCH_UPLOAD)


def test_complete_entity_too_small(s3, bucket):
    small = [payload(1024, 5), payload(1024, 6)]
    upload_id, done = upload_parts(s3, bucket, "small-parts", small)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="small-parts", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    assert_client_error(e, 400, "EntityTooSmall")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="small-parts")
    assert_client_error(e, 404, "404")
    # Twin: the last part may be small, so completing with part 1 alone works.
    resp = s3.complete_multipart_upload(
        Bucket=bucket, Key="small-parts", UploadId=upload_id, MultipartUpload={"Parts": done[:1]}
    )
    assert resp["ETag"] == multipart_etag(small[:1])
    assert s3.get_object(Bucket=bucket, Key="small-parts")["Body"].read() == small[0]


def test_upload_part_copy_with_ranges(s3, bucket):
    source = payload(6 * MiB + 100, 7)
    s3.put_object(Bucket=bucket, Key="copy/source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy/target")["UploadId"]
    ranges = [(0, 5 * MiB - 1), (5 * MiB, len(source) - 1)]
    done = []
    for number, (first, last) in enumerate(ranges, start=1):
        resp = s3.upload_part_copy(
            Bucket=bucket, Key="copy/target", UploadId=upload_id, PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "copy/source"}, CopySourceRange=f"bytes={first}-{last}",
        )
        assert resp["CopyPartResult"]["ETag"] == md5_etag(source[first:last + 1])
        assert resp["CopyPartResult"]["LastModified"]
        done.append({"PartNumber": number, "ETag": resp["CopyPartResult"]["ETag"]})
    sizes = [p["Size"] for p in s3.list_parts(Bucket=bucket, Key="copy/target", UploadId=upload_id)["Parts"]]
    assert sizes == [5 * MiB, len(source) - 5 * MiB]
    resp = s3.complete_multipart_upload(
        Bucket=bucket, Key="copy/target", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert resp["ETag"] == multipart_etag([source[a:b + 1] for a, b in ranges])
    assert sha256(s3.get_object(Bucket=bucket, Key="copy/target")["Body"].read()) == sha256(source)


@pytest.fixture
def copy_upload(s3, bucket):
    """A 10-byte source object and an upload in progress to copy parts into (aborted afterwards)."""
    s3.put_object(Bucket=bucket, Key="copy/ten", Body=b"0123456789")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy/target")["UploadId"]

    def copy(copy_range: str, key: str = "copy/ten"):
        return s3.upload_part_copy(
            Bucket=bucket, Key="copy/target", UploadId=upload_id, PartNumber=1,
            CopySource={"Bucket": bucket, "Key": key}, CopySourceRange=copy_range,
        )

    yield copy
    s3.abort_multipart_upload(Bucket=bucket, Key="copy/target", UploadId=upload_id)


def test_upload_part_copy_range_errors(s3, bucket, copy_upload):
    assert copy_upload("bytes=2-4")["CopyPartResult"]["ETag"] == md5_etag(b"234")
    # A malformed range.
    with pytest.raises(ClientError) as e:
        copy_upload("bytes=2-")
    assert_client_error(
        e, 400, "InvalidArgument",
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
        "zero-based offsets of the first and last bytes to copy",
        ArgumentName="x-amz-copy-source-range", ArgumentValue="bytes=2-",
    )
    # A missing source key.
    with pytest.raises(ClientError) as e:
        copy_upload("bytes=0-1", key="copy/absent")
    assert_client_error(e, 404, "NoSuchKey", "The specified key does not exist.")


def test_upload_part_copy_range_past_the_end(copy_upload):
    # AWS answers 400 InvalidArgument "Range specified is not valid for source object of size: N"
    # for a copy range that ends past the source (real responses quoted in fsspec/s3fs#321 and
    # versity/versitygw#610), not the 416 InvalidRange of a ranged GET.
    with pytest.raises(ClientError) as e:
        copy_upload("bytes=0-10")
    assert_client_error(e, 400, "InvalidArgument", "Range specified is not valid for source object of size: 10")


def test_presigned_upload_part(endpoint, s3, bucket):
    key = "presigned/parts.bin"
    parts = [payload(5 * MiB, 8), payload(5 * MiB, 9), payload(1000, 10)]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]

    def part_url(number: int) -> str:
        return s3.generate_presigned_url(
            "upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=300,
        )

    done = []
    for number, data in enumerate(parts, start=1):
        url = part_url(number)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["partNumber"] == [str(number)] and query["uploadId"] == [upload_id]
        r = requests.put(url, data=data, timeout=30)
        assert r.status_code == 200, r.content
        assert r.headers["ETag"] == md5_etag(data)
        done.append({"PartNumber": number, "ETag": r.headers["ETag"]})

    # Negative twin: the URL for part 3 edited to upload part 4 (partNumber is signed).
    url3 = part_url(3)
    r = requests.put(with_query(url3, partNumber="4"), data=b"sneaky part", timeout=30)
    err = assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    assert "partNumber=4" in err["CanonicalRequest"], err
    # ...and used for another upload ID.
    other = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    r = requests.put(with_query(url3, uploadId=other), data=b"sneaky part", timeout=30)
    assert_http_error(r, 403, "SignatureDoesNotMatch", SIG_MISMATCH)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=other)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]] == [1, 2, 3]

    resp = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    assert resp["ETag"] == multipart_etag(parts)
    assert sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(b"".join(parts))


def test_crc32_multipart_upload_composite_checksum(s3, bucket):
    key = "checksummed"
    parts = [payload(5 * MiB, 11), payload(3000, 12)]
    create = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    assert create.get("ChecksumAlgorithm") == "CRC32", create
    upload_id = create["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        resp = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, ChecksumAlgorithm="CRC32"
        )
        assert resp["ChecksumCRC32"] == crc32_b64(data)
        done.append({"PartNumber": number, "ETag": resp["ETag"], "ChecksumCRC32": resp["ChecksumCRC32"]})
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert listed.get("ChecksumAlgorithm") == "CRC32", listed
    assert [p.get("ChecksumCRC32") for p in listed["Parts"]] == [crc32_b64(p) for p in parts]

    # Negative twin: a part whose stated CRC32 does not match its bytes.
    with pytest.raises(ClientError) as e:
        s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=3, Body=b"corrupted",
            ChecksumCRC32=crc32_b64(b"original"),
        )
    assert_client_error(e, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")

    resp = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    expected = composite_crc32(parts)
    assert expected.endswith("-2")
    assert resp.get("ChecksumCRC32") == expected, resp
    assert resp["ETag"] == multipart_etag(parts)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32") == expected, head
    assert head.get("ChecksumType") == "COMPOSITE", head
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert sha256(got["Body"].read()) == sha256(b"".join(parts))
    # A part read with checksum mode on: whatever checksum comes back must hold for those bytes
    # (botocore validates a full-object value and raises FlexibleChecksumError if it does not).
    first = s3.get_object(Bucket=bucket, Key=key, PartNumber=1, ChecksumMode="ENABLED")
    assert first["Body"].read() == parts[0]
    assert first["PartsCount"] == 2


# =============================================================================================
# Part checksum types (issue 16): which part checksums an upload takes, as S3 answers

MISMATCH = "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}"


@pytest.fixture(scope="module")
def s3_when_required(endpoint):
    """boto3 sending a checksum only where one is required: parts then carry none by default."""
    return make_client(endpoint, request_checksum_calculation="when_required")


def test_parts_of_an_upload_created_without_a_checksum(s3, s3_when_required, bucket):
    key = "no-algorithm"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = payload(5 * MiB, 21)
    # boto3's default flow: a plain CreateMultipartUpload, then UploadPart with its default
    # CRC32 (since botocore 1.36). S3 takes it (aws-sdk-go-v2#3005), and so must this.
    resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=part)
    assert resp["ETag"] == md5_etag(part)
    # Any other algorithm is refused (botocore#3216 quotes S3's answer for crc32c).
    # (The values are given, not computed: CRC32C would need botocore[crt]; the type is
    # refused before any value is checked.)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    for member, value in [
        ("ChecksumCRC32C", b64(b"\0\0\0\0")),
        ("ChecksumSHA1", b64(hashlib.sha1(b"tail").digest())),
        ("ChecksumSHA256", b64(hashlib.sha256(b"tail").digest())),
    ]:
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"tail", **{member: value})
        assert_client_error(e, 400, "InvalidRequest", MISMATCH.format("null", member[len("Checksum"):].lower()))
    # ...presigned too: botocore#3216's URL signs x-amz-checksum-crc32c, which the PUT sends.
    crc = base64.b64encode(b"\0\0\0\0").decode()
    url = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": 2, "ChecksumCRC32C": crc},
        ExpiresIn=300,
    )
    assert "x-amz-checksum-crc32c" in urllib.parse.unquote(url).lower(), url
    r = requests.put(url, data=b"tail", headers={"x-amz-checksum-crc32c": crc}, timeout=30)
    assert_http_error(r, 400, "InvalidRequest", MISMATCH.format("null", "crc32c"))
    # A part without any checksum is the plain case.
    r2 = s3_when_required.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"tail")
    done = [{"PartNumber": 1, "ETag": resp["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]
    out = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    assert out["ETag"] == multipart_etag([part, b"tail"])


def test_parts_of_an_upload_created_with_a_checksum(s3, s3_when_required, bucket):
    # COMPOSITE SHA256: every part must carry SHA-256, nothing else and not nothing.
    key = "sha256-upload"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    assert_client_error(e, 400, "InvalidRequest", MISMATCH.format("sha256", "crc32"))
    with pytest.raises(ClientError) as e:
        s3_when_required.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x")
    assert_client_error(e, 400, "InvalidRequest", MISMATCH.format("sha256", "null"))
    ok = s3.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="SHA256"
    )
    assert ok["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)

    # FULL_OBJECT CRC32: a part without a checksum is computed by the server (versitygw#1342).
    key = "full-object"
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    r = s3_when_required.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"whole")
    assert r["ETag"] == md5_etag(b"whole")
    with pytest.raises(ClientError) as e:
        s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"x",
            ChecksumCRC32C=base64.b64encode(b"\0\0\0\0").decode(),
        )
    assert_client_error(e, 400, "InvalidRequest", MISMATCH.format("crc32", "crc32c"))
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# =============================================================================================
# The AWS CLI


def test_cli_cp_multipart_up_and_down(aws_cli, s3, bucket, tmp_path):
    data = payload(20 * MiB, 13)
    src = tmp_path / "twenty mib.bin"
    src.write_bytes(data)
    aws_cli("s3", "cp", str(src), f"s3://{bucket}/cli/twenty mib.bin")
    head = s3.head_object(Bucket=bucket, Key="cli/twenty mib.bin")
    assert head["ContentLength"] == len(data)
    # The CLI's defaults: multipart above 8 MiB, in 8 MiB chunks (8 + 8 + 4).
    assert head["ETag"] == multipart_etag(split(data, 8 * MiB)), head["ETag"]
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)

    dst = tmp_path / "down.bin"
    aws_cli("s3", "cp", f"s3://{bucket}/cli/twenty mib.bin", str(dst))
    assert sha256(dst.read_bytes()) == sha256(data)

    # Negative twin: to a missing bucket the multipart upload fails at CreateMultipartUpload.
    missing = unique_bucket_name("missing")
    out = aws_cli("s3", "cp", str(src), f"s3://{missing}/x.bin", check=False)
    assert out.returncode == 1
    assert (
        "An error occurred (NoSuchBucket) when calling the CreateMultipartUpload operation: "
        "The specified bucket does not exist" in out.stderr
    ), out.stderr


def test_cli_sync_both_ways(aws_cli, s3, bucket, tmp_path):
    # No empty file here: the CLI's vendored botocore (1.43.62) has boto/botocore#3755 — after a
    # zero-length PUT answered without "100 Continue" (as AWS S3 and strict-s3 answer it), the
    # next PUT on that pooled connection reuses the stale status line, misparses the response
    # and stalls until the server closes the idle connection (30 s here, 60 s on AWS). Fixed in
    # botocore 1.43.77; boto3's own botocore (1.44.8) is fine, see test_boto3_empty_then_nonempty_puts.
    up = tmp_path / "up"
    files = {
        "a.txt": b"alpha\n",
        "sub/b.bin": payload(70_000, 14),
        "sub/deeper/c d.txt": b"spaces in the name\n",
    }
    for rel, content in files.items():
        path = up / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    out = aws_cli("s3", "sync", str(up), f"s3://{bucket}/tree")
    assert out.stdout.count("upload: ") == len(files), out.stdout
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="tree/")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"tree/{k}" for k in files)

    # A second sync has nothing to do.
    assert aws_cli("s3", "sync", str(up), f"s3://{bucket}/tree").stdout.strip() == ""

    down = tmp_path / "down"
    down.mkdir()
    out = aws_cli("s3", "sync", f"s3://{bucket}/tree", str(down))
    assert out.stdout.count("download: ") == len(files), out.stdout
    cmp = filecmp.dircmp(up, down)
    for rel in files:
        assert (down / rel).read_bytes() == files[rel], rel
    assert not cmp.left_only and not cmp.right_only

    # Negative twin: syncing from a missing bucket.
    missing = unique_bucket_name("missing")
    out = aws_cli("s3", "sync", f"s3://{missing}/tree", str(tmp_path / "nowhere"), check=False)
    assert out.returncode == 1
    assert "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation" in out.stderr, out.stderr


def test_boto3_empty_then_nonempty_puts(endpoint, bucket, tmp_path):
    # The counterpart of the CLI's stall above, with boto3's own (fixed) botocore: on one pooled
    # connection, an empty file's PUT (Expect: 100-continue, answered at once without "100
    # Continue", as AWS does) must not poison the next PUT.
    client = make_client(endpoint, max_pool_connections=1)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "small").write_bytes(b"small body\n")
    for name in ["empty", "small", "empty", "small"]:
        started = time.monotonic()
        client.upload_file(str(tmp_path / name), bucket, f"seq/{name}")
        assert time.monotonic() - started < 5, f"upload of {name} stalled"
    assert client.get_object(Bucket=bucket, Key="seq/small")["Body"].read() == b"small body\n"
    assert client.head_object(Bucket=bucket, Key="seq/empty")["ContentLength"] == 0


def test_cli_s3api_create_list_abort(aws_cli, bucket):
    created = json.loads(
        aws_cli("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "cli/mpu key.bin").stdout
    )
    upload_id = created["UploadId"]
    assert created["Bucket"] == bucket and created["Key"] == "cli/mpu key.bin"

    listed = json.loads(aws_cli("s3api", "list-multipart-uploads", "--bucket", bucket).stdout)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("cli/mpu key.bin", upload_id)]

    out = aws_cli(
        "s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "cli/mpu key.bin", "--upload-id", upload_id
    )
    assert out.stdout.strip() == ""
    listed = json.loads(aws_cli("s3api", "list-multipart-uploads", "--bucket", bucket).stdout or "{}")
    assert "Uploads" not in listed

    # Negative twin: the aborted upload is gone.
    out = aws_cli(
        "s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "cli/mpu key.bin", "--upload-id", upload_id,
        check=False,
    )
    assert out.returncode == SERVICE_ERROR_EXIT
    assert (
        f"An error occurred (NoSuchUpload) when calling the AbortMultipartUpload operation: {NO_SUCH_UPLOAD}"
        in out.stderr
    ), out.stderr
