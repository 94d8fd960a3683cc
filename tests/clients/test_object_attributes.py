"""GetObjectAttributes through boto3 after uploads as boto3 makes them: a PutObject with
its default CRC32, and a multipart upload with a COMPOSITE CRC32 checksum whose parts the
answer lists and pages (docs/aws-evidence.md, "GetObjectAttributes")."""

from __future__ import annotations

import base64
import zlib

import pytest

from conftest import assert_client_error

MIB = 1024 * 1024
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_a_put_objects_attributes(s3, bucket):
    body = b"hello attributes"
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="CRC32")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["Checksum"] == {"ChecksumCRC32": crc32_b64(body), "ChecksumType": "FULL_OBJECT"}
    assert got["StorageClass"] == "STANDARD" and got["ObjectSize"] == len(body)
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]


def test_a_composite_multipart_objects_parts(s3, bucket):
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"c" * 10]
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", ChecksumAlgorithm="CRC32", ChecksumType="COMPOSITE")
    done = []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="big", UploadId=up["UploadId"], PartNumber=n, Body=p,
                           ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": done})
    got = s3.get_object_attributes(Bucket=bucket, Key="big", ObjectAttributes=ALL)
    assert got["Checksum"]["ChecksumType"] == "COMPOSITE" and "-" not in got["Checksum"]["ChecksumCRC32"]
    op = got["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in op["Parts"]] == [
        (n, len(p), crc32_b64(p)) for n, p in enumerate(parts, 1)
    ]
    page = s3.get_object_attributes(Bucket=bucket, Key="big", ObjectAttributes=["ObjectParts"],
                                    MaxParts=2, PartNumberMarker=1)["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [2, 3]
    assert page["PartNumberMarker"] == 1 and page["NextPartNumberMarker"] == 3 and page["IsTruncated"] is False
    assert got["ObjectSize"] == sum(len(p) for p in parts)


def test_refusals(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(Exception) as e:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Etag"])
    assert_client_error(e, 400, "InvalidArgument", "Invalid attribute name specified.",
                        ArgumentName="x-amz-object-attributes", ArgumentValue="Etag")
    with pytest.raises(Exception) as e:
        s3.get_object_attributes(Bucket=bucket, Key="absent", ObjectAttributes=["ETag"])
    assert_client_error(e, 404, "NoSuchKey", "The specified key does not exist.")
    with pytest.raises(Exception) as e:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ETag"], VersionId="abc")
    assert_client_error(e, 400, "InvalidArgument", "Invalid version id specified")
