"""Object versioning through boto3: the configuration, version ids on writes, reads and
deletes by version, delete markers, the paginator over ListObjectVersions, copies and
presigned URLs naming a version, DeleteObjects with versions, and S3's refusals
(docs/versioning-evidence.md)."""

from __future__ import annotations

import pytest
import requests

from conftest import assert_client_error, assert_http_error


@pytest.fixture
def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    yield bucket
    # Remove every version so the bucket fixture can delete the bucket.
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])


def test_configuration(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert (got["Status"], got["MFADelete"]) == ("Enabled", "Disabled")
    with pytest.raises(Exception) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert_client_error(e, 403, "AccessDenied", "Mfa Authentication must be used for this request")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_versions_markers_and_listing(s3, versioned):
    b = versioned
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    assert s3.get_object(Bucket=b, Key="doc", VersionId=v1)["Body"].read() == b"one"
    got = s3.get_object(Bucket=b, Key="doc")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", v2)
    marker = s3.delete_object(Bucket=b, Key="doc")
    assert marker["DeleteMarker"] is True
    with pytest.raises(Exception) as e:
        s3.get_object(Bucket=b, Key="doc")
    err = assert_client_error(e, 404, "NoSuchKey")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(Exception) as e:
        s3.get_object(Bucket=b, Key="doc", VersionId=marker["VersionId"])
    assert_client_error(e, 405, "MethodNotAllowed", ResourceType="DeleteMarker")
    del err

    listed = s3.list_object_versions(Bucket=b, Prefix="doc")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    # The paginator walks pages of one.
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3

    removed = s3.delete_object(Bucket=b, Key="doc", VersionId=marker["VersionId"])
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker["VersionId"]
    assert s3.get_object(Bucket=b, Key="doc")["Body"].read() == b"two"

    with pytest.raises(Exception) as e:
        s3.get_object(Bucket=b, Key="doc", VersionId="not-a-version")
    assert_client_error(e, 400, "InvalidArgument", "Invalid version id specified")


def test_presigned_urls_and_copies_name_a_version(s3, versioned):
    b = versioned
    v1 = s3.put_object(Bucket=b, Key="img", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="img", Body=b"second")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "img", "VersionId": v1}, ExpiresIn=300)
    resp = requests.get(url, timeout=10)
    assert (resp.status_code, resp.content, resp.headers["x-amz-version-id"]) == (200, b"first", v1)
    other = s3.list_object_versions(Bucket=b, Prefix="img")["Versions"][0]["VersionId"]
    assert_http_error(requests.get(url.replace(v1, other), timeout=10), 403, "SignatureDoesNotMatch")

    copy = s3.copy_object(Bucket=b, Key="img-copy", CopySource={"Bucket": b, "Key": "img", "VersionId": v1})
    assert copy["CopySourceVersionId"] == v1 and copy["VersionId"]
    assert s3.get_object(Bucket=b, Key="img-copy")["Body"].read() == b"first"

    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "img", "VersionId": v1}, {"Key": "img-copy"}]})
    deleted = {(d["Key"], d.get("VersionId"), d.get("DeleteMarker")) for d in out["Deleted"]}
    assert ("img", v1, None) in deleted and ("img-copy", None, True) in deleted
    with pytest.raises(Exception) as e:
        s3.get_object(Bucket=b, Key="img", VersionId=v1)
    assert_client_error(e, 404, "NoSuchVersion", "The specified version does not exist.")


def test_suspended_buckets_write_the_null_version(s3, versioned):
    b = versioned
    kept = s3.put_object(Bucket=b, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket=b, Key="k", Body=b"null one")
    assert "VersionId" not in put
    assert s3.get_object(Bucket=b, Key="k")["VersionId"] == "null"
    s3.put_object(Bucket=b, Key="k", Body=b"null two")
    versions = s3.list_object_versions(Bucket=b, Prefix="k")["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"null two"
