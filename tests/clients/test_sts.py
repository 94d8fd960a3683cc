"""STS with boto3's STS client, against the STS that strict-s3 serves on its S3 port.

GetSessionToken and AssumeRole hand out temporary credentials that S3 then accepts with
their session token, until they end on the server's clock (moved here over HTTP, no
sleeping): a request with ended credentials is AWS's 400 ExpiredToken, and a presigned
URL that outlives its session stops working with it, the reason naming both times.
Every refusal is checked with STS's or S3's exact code, status and message."""

from __future__ import annotations

import textwrap

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import assert_client_error, assert_http_error, make_client

DEV = ("AKIADEV0000000000001", "devsecret")
OTHER = ("AKIAOTHER00000000001", "othersecret")
ROLE = "arn:aws:iam::123456789012:role/uploader"
CONFIG = textwrap.dedent(
    """
    [[users]]
    name = "dev"
    access_key = "AKIADEV0000000000001"
    secret_key = "devsecret"
    policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = ["s3:*", "sts:AssumeRole"], Resource = "*" } ] }

    [[users]]
    name = "other"
    access_key = "AKIAOTHER00000000001"
    secret_key = "othersecret"
    policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = "sts:AssumeRole", Resource = "*" } ] }

    [[roles]]
    name = "uploader"
    max_session_duration = 7200
    trust_policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:user/dev" }, Action = "sts:AssumeRole" } ] }
    policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = ["s3:PutObject", "s3:GetObject"], Resource = "arn:aws:s3:::uploads/*" } ] }

    [[roles]]
    name = "partner-reader"
    trust_policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Principal = { AWS = "123456789012" }, Action = "sts:AssumeRole", Condition = { StringEquals = { "sts:ExternalId" = "shared-secret" } } } ] }
    policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = ["s3:GetObject", "sts:AssumeRole"], Resource = "*" } ] }
    """
)


@pytest.fixture
def srv(start_server, tmp_path):
    path = tmp_path / "strict-s3.toml"
    path.write_text(CONFIG)
    return start_server("--config", str(path))


def sts_client(endpoint: str, key: str, secret: str, token: str | None = None):
    # botocore checks some model constraints itself; off, so the server's answers show.
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name="us-east-1"
    )
    config = Config(parameter_validation=False, retries={"total_max_attempts": 1})
    return session.client("sts", endpoint_url=endpoint, config=config)


def s3_with(endpoint: str, creds: dict, **kwargs):
    client = make_client(endpoint, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], **kwargs)
    if creds.get("SessionToken") is None:
        return client
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    return session.client("s3", endpoint_url=endpoint, config=client.meta.config)


def move_clock(endpoint: str, offset_seconds: int) -> None:
    resp = requests.put(f"{endpoint}/_strict/clock", json={"offset_seconds": offset_seconds}, timeout=10)
    assert resp.status_code == 200, resp.text


def test_get_caller_identity_names_each_kind_of_caller(srv):
    dev = sts_client(srv.endpoint, *DEV).get_caller_identity()
    assert dev["Arn"] == "arn:aws:iam::123456789012:user/dev"
    assert dev["Account"] == "123456789012" and dev["UserId"].startswith("AIDA")
    root = sts_client(srv.endpoint, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert root.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"
    # The answer is STS's: text/xml and an x-amzn-RequestId that is a UUID.
    headers = dev["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "text/xml"
    assert len(headers["x-amzn-requestid"]) == 36 and headers["x-amzn-requestid"] == dev["ResponseMetadata"]["RequestId"]

    with pytest.raises(Exception) as e:
        sts_client(srv.endpoint, "AKIANOSUCHKEY0000001", "x").get_caller_identity()
    assert_client_error(e, 403, "InvalidClientTokenId", "The security token included in the request is invalid")
    with pytest.raises(Exception) as e:
        sts_client(srv.endpoint, DEV[0], "wrong").get_caller_identity()
    err = assert_client_error(e, 403, "SignatureDoesNotMatch")
    assert "The Canonical String for this request should have been" in err["Message"]


def test_session_tokens_work_for_s3_until_they_expire(srv):
    sts = sts_client(srv.endpoint, *DEV)
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["SecretAccessKey"]) == 40
    s3 = s3_with(srv.endpoint, creds)
    s3.create_bucket(Bucket="temp-creds")
    s3.put_object(Bucket="temp-creds", Key="k", Body=b"v")
    assert s3.get_object(Bucket="temp-creds", Key="k")["Body"].read() == b"v"
    # The principal stays the user.
    who = sts_client(srv.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert who.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/dev"
    with pytest.raises(Exception) as e:
        who.get_session_token()
    assert_client_error(e, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials")

    # Without its token the temporary key is unknown to S3; with a wrong one, InvalidToken.
    with pytest.raises(Exception) as e:
        s3_with(srv.endpoint, {**creds, "SessionToken": None}).get_object(Bucket="temp-creds", Key="k")
    assert_client_error(e, 403, "InvalidAccessKeyId", AWSAccessKeyId=creds["AccessKeyId"])
    with pytest.raises(Exception) as e:
        s3_with(srv.endpoint, {**creds, "SessionToken": "not-the-token"}).get_object(Bucket="temp-creds", Key="k")
    assert_client_error(e, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.")

    # A day-long presigned URL made now works now...
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "temp-creds", "Key": "k"}, ExpiresIn=86400)
    assert "X-Amz-Security-Token=" in url
    assert requests.get(url, timeout=10).content == b"v"
    # ...and stops when the session does, 15 minutes later.
    move_clock(srv.endpoint, 16 * 60)
    resp = requests.get(url, timeout=10)
    assert_http_error(resp, 400, "ExpiredToken", "The provided token has expired.")
    reason = resp.headers["x-strict-s3-reason"]
    assert "signed with temporary credentials that expired at" in reason
    assert "before the URL's own expiry at" in reason
    with pytest.raises(Exception) as e:
        s3.get_object(Bucket="temp-creds", Key="k")
    assert_client_error(e, 400, "ExpiredToken", "The provided token has expired.")
    with pytest.raises(Exception) as e:
        who.get_caller_identity()
    assert_client_error(e, 403, "ExpiredToken", "The security token included in the request is expired")


def test_get_session_token_duration_limits(srv):
    sts = sts_client(srv.endpoint, *DEV)
    with pytest.raises(Exception) as e:
        sts.get_session_token(DurationSeconds=600)
    assert_client_error(
        e, 400, "ValidationError",
        "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900",
    )
    with pytest.raises(Exception) as e:
        sts.get_session_token(DurationSeconds=129601)
    assert_client_error(
        e, 400, "ValidationError",
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 129600",
    )
    # A root user's session lasts at most an hour: longer asks are shortened, not refused.
    root = sts_client(srv.endpoint, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    now = root.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]["date"]
    creds = root.get_session_token(DurationSeconds=7200)["Credentials"]
    from email.utils import parsedate_to_datetime
    lasts = (creds["Expiration"] - parsedate_to_datetime(now)).total_seconds()
    assert 3590 <= lasts <= 3610, lasts


def test_assume_role_session_is_only_as_powerful_as_the_role(srv):
    dev_s3 = make_client(srv.endpoint, access_key=DEV[0], secret_key=DEV[1])
    dev_s3.create_bucket(Bucket="uploads")
    sts = sts_client(srv.endpoint, *DEV)
    out = sts.assume_role(RoleArn=ROLE, RoleSessionName="ci-1")
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/uploader/ci-1"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-1")
    role_s3 = s3_with(srv.endpoint, out["Credentials"])
    role_s3.put_object(Bucket="uploads", Key="a.txt", Body=b"hi")
    assert role_s3.get_object(Bucket="uploads", Key="a.txt")["Body"].read() == b"hi"
    with pytest.raises(Exception) as e:
        role_s3.list_objects_v2(Bucket="uploads")
    err = assert_client_error(e, 403, "AccessDenied")
    assert err["Message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/uploader/ci-1 is not authorized to perform: s3:ListBucket"
    )

    # A session policy narrows the session to what both policies allow.
    narrow = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::uploads/incoming/*"}]}'
    out = sts.assume_role(RoleArn=ROLE, RoleSessionName="ci-2", Policy=narrow)
    assert 1 <= out["PackedPolicySize"] <= 100
    narrow_s3 = s3_with(srv.endpoint, out["Credentials"])
    narrow_s3.put_object(Bucket="uploads", Key="incoming/b.txt", Body=b"b")
    with pytest.raises(Exception) as e:
        narrow_s3.put_object(Bucket="uploads", Key="elsewhere.txt", Body=b"b")
    assert_client_error(e, 403, "AccessDenied")
    assert "session policy" in e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-strict-s3-reason"]
    with pytest.raises(Exception) as e:
        narrow_s3.get_object(Bucket="uploads", Key="a.txt")
    assert_client_error(e, 403, "AccessDenied")


def test_assume_role_refusals(srv):
    sts = sts_client(srv.endpoint, *DEV)
    with pytest.raises(Exception) as e:
        sts_client(srv.endpoint, *OTHER).assume_role(RoleArn=ROLE, RoleSessionName="x1")
    assert_client_error(
        e, 403, "AccessDenied",
        f"User: arn:aws:iam::123456789012:user/other is not authorized to perform: sts:AssumeRole on resource: {ROLE}",
    )
    with pytest.raises(Exception) as e:
        sts_client(srv.endpoint, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").assume_role(
            RoleArn=ROLE, RoleSessionName="x1")
    assert_client_error(e, 403, "AccessDenied", "Roles may not be assumed by root accounts.")
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/nope", RoleSessionName="x1")
    assert_client_error(
        e, 403, "AccessDenied",
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::123456789012:role/nope",
    )
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="x1", DurationSeconds=7300)
    assert_client_error(e, 400, "ValidationError",
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="PowerUser/jane")
    assert_client_error(
        e, 400, "ValidationError",
        "1 validation error detected: Value 'PowerUser/jane' at 'roleSessionName' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
    )
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="x1", Policy='{"Version":"2012-10-17","Statement":[]}')
    assert_client_error(e, 400, "MalformedPolicyDocument")

    # The trust policy names the account and requires an external id: the caller's own
    # policy must allow sts:AssumeRole, and the id must match.
    reader = "arn:aws:iam::123456789012:role/partner-reader"
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=reader, RoleSessionName="p1", ExternalId="guess")
    assert_client_error(e, 403, "AccessDenied")
    assert "sts:ExternalId" in e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-strict-s3-reason"]
    creds = sts.assume_role(RoleArn=reader, RoleSessionName="p1", ExternalId="shared-secret")["Credentials"]

    # Role chaining: a session may assume a role (its policy allows it) for at most an hour.
    chained = sts_client(srv.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    again = chained.assume_role(RoleArn=reader, RoleSessionName="p2", ExternalId="shared-secret")
    assert again["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/partner-reader/p2"
    with pytest.raises(Exception) as e:
        chained.assume_role(RoleArn=reader, RoleSessionName="p2", ExternalId="shared-secret", DurationSeconds=7200)
    assert_client_error(e, 400, "ValidationError",
                        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")


def test_post_forms_signed_with_temporary_credentials_carry_the_token(srv):
    creds = sts_client(srv.endpoint, *DEV).get_session_token()["Credentials"]
    s3 = s3_with(srv.endpoint, creds)
    s3.create_bucket(Bucket="forms")
    post = s3.generate_presigned_post("forms", "up/${filename}", ExpiresIn=600)
    assert post["fields"]["x-amz-security-token"] == creds["SessionToken"]
    resp = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"form body")}, timeout=10)
    assert resp.status_code == 204, resp.text
    assert s3.get_object(Bucket="forms", Key="up/a.txt")["Body"].read() == b"form body"
    # The same form without its token field: the temporary key alone is unknown.
    fields = {k: v for k, v in post["fields"].items() if k != "x-amz-security-token"}
    resp = requests.post(post["url"], data=fields, files={"file": ("b.txt", b"x")}, timeout=10)
    assert_http_error(resp, 403, "InvalidAccessKeyId")
