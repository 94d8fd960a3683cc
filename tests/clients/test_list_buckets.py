"""ListBuckets paging through boto3 and the AWS CLI: the paginator follows the server's
continuation tokens, Prefix and BucketRegion come back as on S3, and the refusals carry S3's
codes and messages (docs/aws-evidence.md, "ListBuckets")."""

from __future__ import annotations

import json

import pytest

from conftest import assert_client_error, aws_runner, make_client

NAMES = ["logs-a", "logs-b", "media", "reports-1", "reports-2"]


@pytest.fixture
def five(start_server):
    srv = start_server(*[a for n in NAMES for a in ("--bucket", n)])
    return srv, make_client(srv.endpoint)


def test_the_paginator_walks_every_page(five):
    _, s3 = five
    pages = list(s3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Buckets"]) for p in pages] == [2, 2, 1]
    assert [b["Name"] for p in pages for b in p["Buckets"]] == NAMES
    assert all(b["BucketRegion"] == "us-east-1" for p in pages for b in p["Buckets"])
    assert "ContinuationToken" in pages[0] and "ContinuationToken" not in pages[-1]
    # Unpaged: everything, without regions.
    plain = s3.list_buckets()
    assert [b["Name"] for b in plain["Buckets"]] == NAMES
    assert all("BucketRegion" not in b for b in plain["Buckets"])

    reports = s3.list_buckets(Prefix="reports", MaxBuckets=1)
    assert [b["Name"] for b in reports["Buckets"]] == ["reports-1"] and reports["Prefix"] == "reports"
    rest = s3.list_buckets(Prefix="reports", MaxBuckets=1, ContinuationToken=reports["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["reports-2"] and "ContinuationToken" not in rest
    assert [b["Name"] for b in s3.list_buckets(BucketRegion="us-east-1")["Buckets"]] == NAMES


@pytest.mark.parametrize(
    "params, message",
    [
        ({"MaxBuckets": 0}, "Argument max-buckets must be an integer between 1 and 10000"),
        ({"MaxBuckets": 10001}, "Argument max-buckets must be an integer between 1 and 10000"),
        ({"BucketRegion": "mars-1"}, "Argument value mars-1 is not a valid AWS Region"),
        ({"BucketRegion": "eu-west-1"},
         "Requests with bucket-region specified must be made to the corresponding regional endpoint"),
        ({"ContinuationToken": "bG9ncy1h"}, "The continuation token provided is incorrect"),
    ],
)
def test_refusals(five, params, message):
    srv, _ = five
    # boto3 refuses an out-of-range MaxBuckets itself; without its check, S3 answers.
    s3 = make_client(srv.endpoint, parameter_validation=False)
    with pytest.raises(Exception) as e:
        s3.list_buckets(**params)
    assert_client_error(e, 400, "InvalidArgument", message)


def test_the_aws_cli_pages_list_buckets(five, tmp_path):
    srv, _ = five
    home = tmp_path / "home"
    home.mkdir()
    aws = aws_runner(srv.endpoint, home)
    out = json.loads(aws("s3api", "list-buckets", "--page-size", "2").stdout)
    assert [b["Name"] for b in out["Buckets"]] == NAMES
    out = json.loads(aws("s3api", "list-buckets", "--max-items", "3").stdout)
    assert [b["Name"] for b in out["Buckets"]] == NAMES[:3] and "NextToken" in out
    bad = aws("s3api", "list-buckets", "--bucket-region", "nowhere-1", check=False)
    assert bad.returncode != 0
    assert ("An error occurred (InvalidArgument) when calling the ListBuckets operation: "
            "Argument value nowhere-1 is not a valid AWS Region") in bad.stderr, bad.stderr
