"""Buckets in several regions with boto3, as on AWS: a bucket created in eu-west-2 answers a
path-style request signed for us-east-1 as that region's endpoint would, 301 PermanentRedirect
with x-amz-bucket-region (named in the host, 400 AuthorizationHeaderMalformed with <Region>);
botocore's region redirector follows either and re-signs for eu-west-2, so header-signed calls
work unchanged. A URL presigned for the wrong region cannot be redirected (the client is not
involved) and fails with AWS's answer; our reason names the bucket's region."""

from __future__ import annotations

import pytest
import requests

from conftest import assert_client_error, assert_http_error, make_client


def test_a_us_east_1_client_reaches_an_eu_west_2_bucket(start_server):
    srv = start_server()
    london = make_client(srv.endpoint, region="eu-west-2")
    london.create_bucket(Bucket="london-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert london.get_bucket_location(Bucket="london-data")["LocationConstraint"] == "eu-west-2"
    head = london.head_bucket(Bucket="london-data")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-2"

    # A client for us-east-1: botocore redirects (one retry, re-signed for eu-west-2).
    virginia = make_client(srv.endpoint, region="us-east-1")
    virginia.put_object(Bucket="london-data", Key="report.csv", Body=b"a,b")
    assert virginia.get_object(Bucket="london-data", Key="report.csv")["Body"].read() == b"a,b"
    assert virginia.get_bucket_location(Bucket="london-data")["LocationConstraint"] == "eu-west-2"

    # A presigned URL made for us-east-1 is refused as AWS refuses it: path-style, the
    # us-east-1 endpoint redirects.
    url = virginia.generate_presigned_url("get_object", Params={"Bucket": "london-data", "Key": "report.csv"})
    assert "us-east-1" in url
    resp = requests.get(url, timeout=10, allow_redirects=False)
    assert_http_error(resp, 301, "PermanentRedirect", Bucket="london-data",
                      Endpoint="london-data.s3.eu-west-2.amazonaws.com")
    assert resp.headers["x-amz-bucket-region"] == "eu-west-2"
    assert "the bucket is in region eu-west-2" in resp.headers["x-strict-s3-reason"]
    # Its twin, presigned for the bucket's region, works.
    url = london.generate_presigned_url("get_object", Params={"Bucket": "london-data", "Key": "report.csv"})
    assert requests.get(url, timeout=10).content == b"a,b"

    # A paged ListBuckets names each bucket's region.
    buckets = {b["Name"]: b.get("BucketRegion") for b in virginia.list_buckets(MaxBuckets=100)["Buckets"]}
    assert buckets["london-data"] == "eu-west-2"


def test_create_bucket_location_constraint_errors(start_server):
    srv = start_server()
    paris = make_client(srv.endpoint, region="eu-west-3")
    with pytest.raises(Exception) as e:
        paris.create_bucket(Bucket="no-constraint-here")
    assert_client_error(e, 400, "IllegalLocationConstraintException",
                        "The unspecified location constraint is incompatible for the region specific endpoint "
                        "this request was sent to.")
    with pytest.raises(Exception) as e:
        paris.create_bucket(Bucket="wrong-place", CreateBucketConfiguration={"LocationConstraint": "us-west-1"})
    assert_client_error(e, 400, "IllegalLocationConstraintException",
                        "The us-west-1 location constraint is incompatible for the region specific endpoint "
                        "this request was sent to.")
    virginia = make_client(srv.endpoint, region="us-east-1")
    with pytest.raises(Exception) as e:
        virginia.create_bucket(Bucket="on-the-moon", CreateBucketConfiguration={"LocationConstraint": "zz-moon-1"})
    assert_client_error(e, 400, "InvalidLocationConstraint", "The specified location-constraint is not valid")
    # The global endpoint takes any valid constraint.
    virginia.create_bucket(Bucket="in-tokyo", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    assert virginia.get_bucket_location(Bucket="in-tokyo")["LocationConstraint"] == "ap-northeast-1"
