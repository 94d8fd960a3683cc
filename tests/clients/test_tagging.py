"""Object and bucket tagging through boto3: the tagging API, tags on PutObject (header-signed
and presigned, where the tags are signed into the URL), CopyObject's TaggingDirective,
multipart uploads, presigned POST's `tagging` field, TagCount on GET and HEAD, and every
refusal with AWS's code and message (docs/tagging-evidence.md)."""

from __future__ import annotations

import pytest
import requests

from conftest import assert_client_error, assert_http_error


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def tags_of(s3, bucket, key):
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]]


def test_object_tagging_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello", Tagging="team=web&state=draft copy")
    assert tags_of(s3, bucket, "a.txt") == [("team", "web"), ("state", "draft copy")]
    assert s3.get_object(Bucket=bucket, Key="a.txt")["TagCount"] == 2
    head = s3.head_object(Bucket=bucket, Key="a.txt")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"

    resp = s3.put_object_tagging(Bucket=bucket, Key="a.txt", Tagging=tag_set([("owner", "me@example.com")]))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "a.txt") == [("owner", "me@example.com")]
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"hello"

    resp = s3.delete_object_tagging(Bucket=bucket, Key="a.txt")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "a.txt") == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="a.txt")


@pytest.mark.parametrize(
    "pairs, code, message, elements",
    [
        ([(f"k{i}", "v") for i in range(11)], "BadRequest", "Object tags cannot be greater than 10", {}),
        ([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid", {"TagKey": "k" * 129}),
        ([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is invalid", {"TagKey": "k"}),
        ([("a,b", "v")], "InvalidTag", "The TagKey you have provided is invalid", {"TagKey": "a,b"}),
        ([("k", "x&y")], "InvalidTag", "The TagValue you have provided is invalid", {"TagValue": "x&y"}),
        ([("k", "1"), ("k", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key", {"TagKey": "k"}),
        ([("aws:origin", "x")], "InvalidTag", "Your TagKey cannot be prefixed with aws:", {}),
    ],
)
def test_put_object_tagging_refusals(s3, bucket, pairs, code, message, elements):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="kept=yes")
    with pytest.raises(Exception) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    assert_client_error(e, 400, code, message, **elements)
    assert tags_of(s3, bucket, "k") == [("kept", "yes")]


def test_tagging_errors_on_missing_keys_and_versions(s3, bucket):
    with pytest.raises(Exception) as e:
        s3.get_object_tagging(Bucket=bucket, Key="absent")
    assert_client_error(e, 404, "NoSuchKey", "The specified key does not exist.")
    with pytest.raises(Exception) as e:
        s3.put_object_tagging(Bucket=bucket, Key="absent", Tagging=tag_set([("a", "1")]))
    assert_client_error(e, 404, "NoSuchKey")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="null")["TagSet"] == [{"Key": "a", "Value": "1"}]
    with pytest.raises(Exception) as e:
        s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmJ")
    assert_client_error(e, 400, "InvalidArgument", "Invalid version id specified",
                        ArgumentName="versionId", ArgumentValue="3HL4kqtJlcpXroDTDmJ")


def test_the_tagging_header_is_refused_before_anything_is_stored(s3, bucket):
    duplicate = ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                 "parameters without tag name duplicates.")
    for header, code, message in [
        ("a=1&a=2", "InvalidArgument", duplicate),
        ("key%", "InvalidArgument", duplicate),
        ("a%2Ab=1", "InvalidTag", "The TagKey you have provided is invalid"),
        ("&".join(f"k{i}" for i in range(11)), "BadRequest", "Object tags cannot be greater than 10"),
    ]:
        with pytest.raises(Exception) as e:
            s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging=header)
        assert_client_error(e, 400, code, message)
    with pytest.raises(Exception) as e:
        s3.head_object(Bucket=bucket, Key="t")
    assert_client_error(e, 404, "404")


def test_presigned_put_signs_its_tags(s3, bucket):
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up.bin", "Tagging": "source=browser"}, ExpiresIn=300,
    )
    # boto3 signs the tagging as a header (not hoisted into the query): the uploader must
    # send it exactly as signed.
    signed_headers = requests.utils.unquote(url.split("X-Amz-SignedHeaders=")[1].split("&")[0])
    assert signed_headers == "host;x-amz-tagging", url
    assert_http_error(requests.put(url, data=b"payload", timeout=10), 403, "SignatureDoesNotMatch")
    forged = requests.put(url, data=b"payload", headers={"x-amz-tagging": "source=forged"}, timeout=10)
    assert_http_error(forged, 403, "SignatureDoesNotMatch")
    ok = requests.put(url, data=b"payload", headers={"x-amz-tagging": "source=browser"}, timeout=10)
    assert ok.status_code == 200, ok.text
    assert tags_of(s3, bucket, "up.bin") == [("source", "browser")]


def test_copy_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert tags_of(s3, bucket, "copy") == [("a", "1")]
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="b=2")
    assert tags_of(s3, bucket, "replaced") == [("b", "2")]
    with pytest.raises(Exception) as e:
        s3.copy_object(Bucket=bucket, Key="bad", CopySource={"Bucket": bucket, "Key": "src"},
                       TaggingDirective="MERGE")
    assert_client_error(e, 400, "InvalidArgument", "Unknown tagging directive.")


def test_multipart_upload_tags(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", Tagging="kind=video")
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 100)
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tags_of(s3, bucket, "big") == [("kind", "video")]
    assert s3.head_object(Bucket=bucket, Key="big")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "1"


def test_presigned_post_tagging_field(s3, bucket):
    tagging = "<Tagging><TagSet><Tag><Key>origin</Key><Value>form</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(bucket, "form/a", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}], ExpiresIn=300)
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"hi")}, timeout=10)
    assert resp.status_code == 204, resp.text
    assert tags_of(s3, bucket, "form/a") == [("origin", "form")]
    # Twin: a tagging field the policy did not sign is refused.
    fields = dict(post["fields"], tagging=tagging.replace("form", "forged"))
    resp = requests.post(post["url"], data=fields, files={"file": ("a.txt", b"hi")}, timeout=10)
    assert_http_error(resp, 403, "AccessDenied")


def test_bucket_tagging(s3, bucket):
    with pytest.raises(Exception) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert_client_error(e, 404, "NoSuchTagSet", "The TagSet does not exist", BucketName=bucket)
    resp = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("env", "ci"), ("team", "storage")]))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tag_set([("env", "ci"), ("team", "storage")])["TagSet"]
    with pytest.raises(Exception) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([(f"k{i}", "v") for i in range(51)]))
    assert_client_error(e, 400, "BadRequest", "Bucket tag count cannot be greater than 50")
    with pytest.raises(Exception) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("aws:x", "v")]))
    assert_client_error(e, 400, "InvalidTag", "System tags cannot be added/updated by requester")
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 2
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(Exception) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert_client_error(e, 404, "NoSuchTagSet")


def test_the_aws_cli_tags_as_the_readme_shows(aws_cli, bucket, tmp_path):
    import json

    src = tmp_path / "a.txt"
    src.write_text("hello")
    aws_cli("s3api", "put-object", "--bucket", bucket, "--key", "a.txt", "--body", str(src), "--tagging", "team=web")
    out = aws_cli("s3api", "get-object-tagging", "--bucket", bucket, "--key", "a.txt")
    assert json.loads(out.stdout)["TagSet"] == [{"Key": "team", "Value": "web"}]
    aws_cli("s3api", "put-object-tagging", "--bucket", bucket, "--key", "a.txt",
            "--tagging", "TagSet=[{Key=stage,Value=final}]")
    out = aws_cli("s3api", "get-object-tagging", "--bucket", bucket, "--key", "a.txt")
    assert json.loads(out.stdout)["TagSet"] == [{"Key": "stage", "Value": "final"}]
    # Twin: the CLI reports S3's refusal.
    bad = aws_cli("s3api", "put-object-tagging", "--bucket", bucket, "--key", "a.txt",
                  "--tagging", "TagSet=[{Key=aws:x,Value=v}]", check=False)
    assert bad.returncode != 0
    assert ("An error occurred (InvalidTag) when calling the PutObjectTagging operation: "
            "Your TagKey cannot be prefixed with aws:") in bad.stderr, bad.stderr
