"""Explanations on the wire: real SDKs still parse S3 errors that carry strict-s3's
<Explanation> element and x-strict-s3-reason header, and --aws-exact-errors removes both."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client


def test_boto3_parses_an_explained_error(endpoint, bucket):
    wrong = make_client(endpoint, secret_key="not-the-secret")
    with pytest.raises(ClientError) as exc:
        wrong.list_objects_v2(Bucket=bucket)
    err = exc.value.response
    assert err["Error"]["Code"] == "SignatureDoesNotMatch"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    reason = err["ResponseMetadata"]["HTTPHeaders"]["x-strict-s3-reason"]
    assert reason.startswith("no single change"), reason
    # botocore keeps unknown error elements: the explanation is readable from Python.
    assert err["Error"].get("Explanation", "").startswith("no single change"), err["Error"]


def test_the_method_mistake_is_named_for_a_boto3_presigned_url(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    resp = requests.put(url, data=b"y", timeout=10)
    assert resp.status_code == 403
    assert "signed for GET and sent as PUT" in resp.headers["x-strict-s3-reason"]
    assert "<Explanation>" in resp.text and "signed for GET and sent as PUT" in resp.text


def test_aws_exact_errors_sends_what_aws_sends(start_server):
    srv = start_server("--aws-exact-errors")
    wrong = make_client(srv.endpoint, secret_key="not-the-secret")
    with pytest.raises(ClientError) as exc:
        wrong.list_buckets()
    err = exc.value.response
    assert err["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "x-strict-s3-reason" not in err["ResponseMetadata"]["HTTPHeaders"]
    assert "Explanation" not in err["Error"]
