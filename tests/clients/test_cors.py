"""Bucket CORS with real clients: boto3 and the AWS CLI set, read and delete the configuration;
`requests` then plays the browser (OPTIONS preflights and actual requests with `Origin`).

Evidence for the expected answers: docs/aws-evidence.md and /work/shared/aws-error-reference.md
(CORS rows), and LocalStack's AWS-validated recordings
(localstack/localstack tests/aws/services/s3/test_s3_cors.py and its .snapshot.json, recorded
against S3 in us-east-1): the NoSuchCORSConfiguration and MalformedXML texts, "Found unsupported
HTTP method in CORS config. Unsupported method is MYMETHOD", DeleteBucketCors answering 204 with or
without a configuration, and the preflight answers and headers. The two-wildcard message is
versity/versitygw#1870's capture; an empty AllowedMethod is versity/versitygw#1863's.

The preflight edge cases (no configuration, no Access-Control-Request-Method, a missing bucket,
an actual request carrying Access-Control-Request-Method) follow those recordings too.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import assert_client_error, assert_http_error, make_client, unique_bucket_name

TIMEOUT = 30
PAGE_ORIGIN = "http://localhost:3000"
OTHER_ORIGIN = "http://localhost:4000"

# The configuration the README shows (and tests/cors.rs uses), in the CLI's JSON form.
README_CORS = {
    "CORSRules": [
        {
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
            "AllowedOrigins": [PAGE_ORIGIN],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
    ]
}

NO_CORS = "The CORS configuration does not exist"
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
UNSUPPORTED_METHOD = "Found unsupported HTTP method in CORS config. Unsupported method is "
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
    "whitelisted by the resource's CORS spec."
)
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
SERVICE_ERROR_EXIT = 255  # CLI v1 exits 255 when the service answers with an error


def rules_of(resp: dict) -> list[dict]:
    return resp["CORSRules"]


def preflight(url: str, origin: str | None, method: str | None, headers: str | None = None):
    h = {}
    if origin is not None:
        h["Origin"] = origin
    if method is not None:
        h["Access-Control-Request-Method"] = method
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=h, timeout=TIMEOUT)


def cors_headers(resp) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


# ---------------------------------------------------------------------------------------------
# boto3: the configuration document


def test_boto3_put_get_replace_delete(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert_client_error(e, 404, "NoSuchCORSConfiguration", NO_CORS, BucketName=bucket)

    two_rules = {
        "CORSRules": [
            {
                "ID": "app",
                "AllowedHeaders": ["content-type", "x-amz-*"],
                "AllowedMethods": ["PUT", "POST"],
                "AllowedOrigins": ["https://app.example.com", "http://*.example.com"],
                "ExposeHeaders": ["ETag", "x-amz-request-id"],
                "MaxAgeSeconds": 600,
            },
            # Only what is set comes back: no ID, headers or max age here.
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
        ]
    }
    put = s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=two_rules)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert rules_of(s3.get_bucket_cors(Bucket=bucket)) == two_rules["CORSRules"]

    # A second PUT replaces the whole configuration.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=README_CORS)
    assert rules_of(s3.get_bucket_cors(Bucket=bucket)) == README_CORS["CORSRules"]

    deleted = s3.delete_bucket_cors(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert_client_error(e, 404, "NoSuchCORSConfiguration", NO_CORS, BucketName=bucket)
    # Deleting again is still 204 (S3 answers 204 with or without a configuration).
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_boto3_keeps_values_as_sent(s3, bucket):
    # Origins unnormalized and in order, header names with their case (LocalStack recordings).
    rules = [
        {
            "AllowedHeaders": ["x-amz-expected-bucket-owner", "x-AMZ-server-SIDE-encryption"],
            "AllowedMethods": ["DELETE", "HEAD", "GET"],
            "AllowedOrigins": ["http://test.com:80", "https://*.test.com", "null"],
            "MaxAgeSeconds": 0,
        }
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert rules_of(s3.get_bucket_cors(Bucket=bucket)) == rules


@pytest.mark.parametrize(
    "rules, status, code, message",
    [
        pytest.param(
            [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PATCH"]}],
            400, "InvalidRequest", UNSUPPORTED_METHOD + "PATCH", id="PATCH",
        ),
        pytest.param(
            [{"AllowedOrigins": ["*"], "AllowedMethods": ["OPTIONS"]}],
            400, "InvalidRequest", UNSUPPORTED_METHOD + "OPTIONS", id="OPTIONS",
        ),
        pytest.param(
            [{"AllowedOrigins": ["*"], "AllowedMethods": ["MYMETHOD"]}],
            400, "InvalidRequest", UNSUPPORTED_METHOD + "MYMETHOD", id="MYMETHOD",
        ),
        pytest.param(
            [{"AllowedOrigins": ["*"], "AllowedMethods": [""]}],
            400, "InvalidRequest", UNSUPPORTED_METHOD, id="empty-method",
        ),
        pytest.param(
            [{"AllowedOrigins": ["*example*.com"], "AllowedMethods": ["GET"]}],
            400, "InvalidRequest", 'AllowedOrigin "*example*.com" can not have more than one wildcard.',
            id="two-wildcards",
        ),
        pytest.param([], 400, "MalformedXML", MALFORMED, id="no-rules"),
        pytest.param(
            [{"AllowedOrigins": [], "AllowedMethods": ["GET"]}],
            400, "MalformedXML", MALFORMED, id="no-origin",
        ),
    ],
)
def test_boto3_invalid_configurations(s3, bucket, rules, status, code, message):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=README_CORS)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert_client_error(e, status, code, message)
    # A refused PUT leaves the configuration as it was.
    assert rules_of(s3.get_bucket_cors(Bucket=bucket)) == README_CORS["CORSRules"]


def test_boto3_missing_bucket(s3):
    name = unique_bucket_name("nope")
    for call in (
        lambda: s3.get_bucket_cors(Bucket=name),
        lambda: s3.put_bucket_cors(Bucket=name, CORSConfiguration=README_CORS),
        lambda: s3.delete_bucket_cors(Bucket=name),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert_client_error(e, 404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name)


def test_boto3_cors_calls_need_a_valid_signature(endpoint, bucket):
    bad = make_client(endpoint, secret_key="not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.put_bucket_cors(Bucket=bucket, CORSConfiguration=README_CORS)
    assert_client_error(e, 403, "SignatureDoesNotMatch")
    anon = requests.get(f"{endpoint}/{bucket}?cors", timeout=TIMEOUT)
    assert_http_error(anon, 403, "AccessDenied")


# ---------------------------------------------------------------------------------------------
# The configuration set by boto3, exercised as a browser would (requests)


def test_preflights_follow_the_boto3_configuration(s3, endpoint, bucket):
    key_url = f"{endpoint}/{bucket}/uploads/a.png"
    # No configuration yet: every preflight is refused.
    r = preflight(key_url, PAGE_ORIGIN, "PUT")
    assert_http_error(r, 403, "AccessForbidden", NOT_ENABLED, Method="PUT")
    assert cors_headers(r) == {}

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=README_CORS)
    # What Chromium sends before a PUT with a Content-Type (a non-safelisted header).
    r = preflight(key_url, PAGE_ORIGIN, "PUT", "content-type")
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert cors_headers(r) == {
        "access-control-allow-origin": PAGE_ORIGIN,
        "access-control-allow-methods": "GET, PUT, POST, HEAD",
        "access-control-allow-headers": "content-type",
        "access-control-expose-headers": "ETag",
        "access-control-max-age": "3000",
        "access-control-allow-credentials": "true",
    }
    assert r.headers["Vary"] == VARY
    # AllowedHeaders ["*"] allows any requested header; names come back lowercase, in order.
    r = preflight(key_url, PAGE_ORIGIN, "PUT", "X-Amz-Meta-Owner,content-type")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Headers"] == "x-amz-meta-owner, content-type"
    # The bucket URL (a POST form's target) too.
    r = preflight(f"{endpoint}/{bucket}", PAGE_ORIGIN, "POST")
    assert r.status_code == 200, r.text
    assert "access-control-allow-headers" not in cors_headers(r)

    # Refusals: another origin, the same host with another scheme or port, a method not listed.
    for origin, method in [
        (OTHER_ORIGIN, "PUT"),
        ("https://localhost:3000", "GET"),
        ("http://localhost:30000", "GET"),
        (PAGE_ORIGIN, "DELETE"),
    ]:
        r = preflight(key_url, origin, method)
        assert_http_error(r, 403, "AccessForbidden", NOT_ALLOWED, Method=method, ResourceType="OBJECT")
        assert cors_headers(r) == {}, (origin, method)
    r = preflight(f"{endpoint}/{bucket}", OTHER_ORIGIN, "POST")
    assert_http_error(r, 403, "AccessForbidden", NOT_ALLOWED, Method="POST", ResourceType="BUCKET")

    # Without Origin, an OPTIONS is not a preflight.
    assert_http_error(
        preflight(key_url, None, "PUT"), 400, "BadRequest", "Insufficient information. Origin request header needed."
    )

    # After DeleteBucketCors, refused again.
    s3.delete_bucket_cors(Bucket=bucket)
    r = preflight(key_url, PAGE_ORIGIN, "PUT", "content-type")
    assert_http_error(r, 403, "AccessForbidden", NOT_ENABLED, Method="PUT")


def test_actual_requests_carry_the_rule_headers_on_success_and_error(s3, endpoint, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=README_CORS)
    put = s3.put_object(Bucket=bucket, Key="pic.png", Body=b"\x89PNG....", ContentType="image/png")
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pic.png"}, ExpiresIn=300)

    r = requests.get(get_url, headers={"Origin": PAGE_ORIGIN}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.content == b"\x89PNG...."
    assert r.headers["ETag"] == put["ETag"]
    assert cors_headers(r) == {
        "access-control-allow-origin": PAGE_ORIGIN,
        "access-control-allow-methods": "GET, PUT, POST, HEAD",
        "access-control-expose-headers": "ETag",
        "access-control-max-age": "3000",
        "access-control-allow-credentials": "true",
    }
    assert r.headers["Vary"] == VARY

    # An error answer carries them too, so the page can read S3's XML: a tampered signature...
    tampered = re.sub(r"(X-Amz-Signature=)(.)", lambda m: m.group(1) + ("b" if m.group(2) == "a" else "a"), get_url)
    assert tampered != get_url
    r = requests.get(tampered, headers={"Origin": PAGE_ORIGIN}, timeout=TIMEOUT)
    assert_http_error(r, 403, "SignatureDoesNotMatch")
    assert r.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    # ...and a missing key.
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"}, ExpiresIn=300)
    r = requests.get(missing, headers={"Origin": PAGE_ORIGIN}, timeout=TIMEOUT)
    assert_http_error(r, 404, "NoSuchKey")
    assert r.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN

    # Another origin, or no Origin: the same answer without CORS headers (S3 does not refuse
    # actual requests; the browser does, for want of Access-Control-Allow-Origin).
    for headers in ({"Origin": OTHER_ORIGIN}, {}):
        r = requests.get(get_url, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 200
        assert r.content == b"\x89PNG...."
        assert cors_headers(r) == {}, headers
        assert "Vary" not in r.headers

    # DELETE is not in the rule: the object is deleted, the answer has no CORS headers.
    del_url = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "pic.png"}, ExpiresIn=300)
    r = requests.delete(del_url, headers={"Origin": PAGE_ORIGIN}, timeout=TIMEOUT)
    assert r.status_code == 204
    assert cors_headers(r) == {}


def test_wildcard_origin_answers_star_without_credentials(s3, endpoint, bucket):
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000}]},
    )
    r = preflight(f"{endpoint}/{bucket}/k", "http://random:1234", "PUT")
    assert r.status_code == 200, r.text
    assert cors_headers(r) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, PUT",
        "access-control-max-age": "3000",
    }
    # A rule without AllowedHeaders allows no requested header.
    r = preflight(f"{endpoint}/{bucket}/k", "http://random:1234", "PUT", "content-type")
    assert_http_error(r, 403, "AccessForbidden", NOT_ALLOWED)


def test_cors_allow_origin_flag_gives_start_buckets_a_rule(start_server):
    name = unique_bucket_name("flag")
    srv = start_server("--bucket", name, "--cors-allow-origin", "http://localhost:5173")
    s3 = make_client(srv.endpoint)
    (rule,) = rules_of(s3.get_bucket_cors(Bucket=name))
    assert rule["AllowedOrigins"] == ["http://localhost:5173"]
    assert rule["AllowedMethods"] == ["GET", "PUT", "POST", "DELETE", "HEAD"]
    assert rule["AllowedHeaders"] == ["*"]
    assert "ETag" in rule["ExposeHeaders"]
    r = preflight(f"{srv.endpoint}/{name}/k", "http://localhost:5173", "PUT", "content-type")
    assert r.status_code == 200, r.text
    r = preflight(f"{srv.endpoint}/{name}/k", PAGE_ORIGIN, "PUT")
    assert_http_error(r, 403, "AccessForbidden", NOT_ALLOWED)
    # It is an ordinary configuration: replaceable and deletable.
    s3.put_bucket_cors(Bucket=name, CORSConfiguration=README_CORS)
    assert rules_of(s3.get_bucket_cors(Bucket=name)) == README_CORS["CORSRules"]
    s3.delete_bucket_cors(Bucket=name)
    # Buckets created later get none.
    later = unique_bucket_name("later")
    s3.create_bucket(Bucket=later)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=later)
    assert_client_error(e, 404, "NoSuchCORSConfiguration")


# ---------------------------------------------------------------------------------------------
# The AWS CLI


def test_cli_put_get_delete_bucket_cors(aws_cli, endpoint, bucket, tmp_path):
    cors_json = tmp_path / "cors.json"
    cors_json.write_text(json.dumps(README_CORS, indent=2))

    out = aws_cli("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{cors_json}")
    assert out.stdout.strip() == "", out
    out = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket)
    assert json.loads(out.stdout) == README_CORS

    # It took effect: a browser's preflight from the configured origin is granted.
    r = preflight(f"{endpoint}/{bucket}/photo.jpg", PAGE_ORIGIN, "PUT", "content-type")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN

    out = aws_cli("s3api", "delete-bucket-cors", "--bucket", bucket)
    assert out.stdout.strip() == "", out
    out = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert out.returncode == SERVICE_ERROR_EXIT, out
    assert (
        "An error occurred (NoSuchCORSConfiguration) when calling the GetBucketCors operation: "
        "The CORS configuration does not exist" in out.stderr
    ), out.stderr


def test_cli_put_bucket_cors_refusals(aws_cli, bucket, tmp_path):
    bad = {"CORSRules": [{**README_CORS["CORSRules"][0], "AllowedMethods": ["GET", "PATCH"]}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    out = aws_cli("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{path}", check=False)
    assert out.returncode == SERVICE_ERROR_EXIT, out
    assert (
        "An error occurred (InvalidRequest) when calling the PutBucketCors operation: "
        "Found unsupported HTTP method in CORS config. Unsupported method is PATCH" in out.stderr
    ), out.stderr
    # The inline shorthand the CLI also accepts: one rule, two wildcards in an origin.
    out = aws_cli(
        "s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration",
        json.dumps({"CORSRules": [{"AllowedOrigins": ["http://*.*.test"], "AllowedMethods": ["GET"]}]}),
        check=False,
    )
    assert out.returncode == SERVICE_ERROR_EXIT, out
    assert 'AllowedOrigin "http://*.*.test" can not have more than one wildcard.' in out.stderr, out.stderr
    out = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert "(NoSuchCORSConfiguration)" in out.stderr, out.stderr


# ---------------------------------------------------------------------------------------------
# Where strict-s3 answers otherwise than S3's recorded answers (server bugs, reported)


def test_preflight_without_configuration_names_resource_type_bucket(endpoint, bucket):
    r = preflight(f"{endpoint}/{bucket}/some/key", PAGE_ORIGIN, "PUT")
    assert_http_error(r, 403, "AccessForbidden", NOT_ENABLED, Method="PUT", ResourceType="BUCKET")


def test_preflight_without_request_method_on_unconfigured_bucket(endpoint, bucket):
    r = preflight(f"{endpoint}/{bucket}/some/key", PAGE_ORIGIN, None)
    assert_http_error(r, 403, "AccessForbidden", NOT_ENABLED, Method="OPTIONS", ResourceType="BUCKET")


@pytest.mark.parametrize("method", ["PUT", None])
def test_preflight_to_missing_bucket(endpoint, method):
    r = preflight(f"{endpoint}/{unique_bucket_name('gone')}/key", PAGE_ORIGIN, method)
    assert_http_error(
        r, 403, "AccessForbidden", "CORSResponse: Bucket not found", Method=method or "OPTIONS", ResourceType="BUCKET"
    )


def test_actual_request_matches_access_control_request_method(s3, endpoint, bucket):
    origin = "https://localhost:4200"
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}]},
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"test-cors")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    r = requests.get(url, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert cors_headers(r) == {}
