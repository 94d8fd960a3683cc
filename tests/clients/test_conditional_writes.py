"""Conditional writes through boto3: If-None-Match / If-Match on CopyObject's destination
(S3 since October 2025) and on CompleteMultipartUpload, with S3's 412, 404 and 409
(docs/aws-evidence.md, "Conditional writes")."""

from __future__ import annotations

import pytest

from conftest import assert_client_error

PRECONDITION = "At least one of the pre-conditions you specified did not hold"
CONFLICT = "The conditional request cannot succeed due to a conflicting operation against this resource."


def test_copy_object_destination_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="once", CopySource=src, IfNoneMatch="*")
    with pytest.raises(Exception) as e:
        s3.copy_object(Bucket=bucket, Key="once", CopySource=src, IfNoneMatch="*")
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-None-Match")

    etag = s3.put_object(Bucket=bucket, Key="dest", Body=b"old")["ETag"]
    s3.copy_object(Bucket=bucket, Key="dest", CopySource=src, IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="dest")["Body"].read() == b"source"
    with pytest.raises(Exception) as e:
        s3.copy_object(Bucket=bucket, Key="dest", CopySource=src, IfMatch=etag)  # stale now
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-Match")
    with pytest.raises(Exception) as e:
        s3.copy_object(Bucket=bucket, Key="absent", CopySource=src, IfMatch=etag)
    assert_client_error(e, 404, "NoSuchKey")


def start_upload(s3, bucket, key):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=b"part")
    return up, {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}


def test_complete_multipart_upload_conditions(s3, bucket):
    up, parts = start_upload(s3, bucket, "a")
    s3.put_object(Bucket=bucket, Key="a", Body=b"first")
    with pytest.raises(Exception) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="a", UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
    assert_client_error(e, 412, "PreconditionFailed", PRECONDITION, Condition="If-None-Match")
    assert s3.list_parts(Bucket=bucket, Key="a", UploadId=up)["Parts"], "the upload survives"

    s3.put_object(Bucket=bucket, Key="b", Body=b"original")
    up, parts = start_upload(s3, bucket, "b")
    s3.delete_object(Bucket=bucket, Key="b")
    with pytest.raises(Exception) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="b", UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
    assert_client_error(e, 409, "ConditionalRequestConflict", CONFLICT, Condition="If-None-Match", Key="b")

    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    up, parts = start_upload(s3, bucket, "c")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=up, MultipartUpload=parts, IfMatch=etag)
    assert done["ETag"].endswith('-1"')
