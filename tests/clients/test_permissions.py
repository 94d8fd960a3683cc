"""Permissions through real clients: the presigned-URL tutorial's IAM user, whose policy
allows only s3:GetObject and s3:PutObject on one bucket, signing with boto3 and the AWS
CLI. What the policy allows works; everything else is 403 AccessDenied with AWS's
same-account wording, as on AWS (and the URLs it signs carry exactly those rights)."""

from __future__ import annotations

import json

import pytest
import requests

from conftest import assert_client_error, aws_runner, make_client

USER_KEY, USER_SECRET = "AKIATUTORIALUSER0000", "tutorial-user-secret"
BUCKET = "uploads-tutorial"


def denied(action: str, resource: str) -> str:
    return (
        f"User: arn:aws:iam::123456789012:user/uploader is not authorized to perform: {action} "
        f'on resource: "{resource}" because no identity-based policy allows the {action} action'
    )


@pytest.fixture
def tutorial(start_server, tmp_path):
    policy = tmp_path / "uploader.json"
    policy.write_text(json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }],
    }))
    srv = start_server("--bucket", BUCKET, "--bucket", "elsewhere",
                       "--user", f"uploader:{USER_KEY}:{USER_SECRET}:{policy}")
    root = make_client(srv.endpoint)
    user = make_client(srv.endpoint, access_key=USER_KEY, secret_key=USER_SECRET)
    return srv, root, user


def test_the_tutorial_user_may_put_and_get_only(tutorial):
    srv, root, user = tutorial
    user.put_object(Bucket=BUCKET, Key="avatar.png", Body=b"png")
    assert user.get_object(Bucket=BUCKET, Key="avatar.png")["Body"].read() == b"png"

    with pytest.raises(Exception) as e:
        user.delete_object(Bucket=BUCKET, Key="avatar.png")
    assert_client_error(e, 403, "AccessDenied",
                        denied("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/avatar.png"))
    with pytest.raises(Exception) as e:
        user.list_objects_v2(Bucket=BUCKET)
    assert_client_error(e, 403, "AccessDenied", denied("s3:ListBucket", f"arn:aws:s3:::{BUCKET}"))
    with pytest.raises(Exception) as e:
        user.put_object(Bucket="elsewhere", Key="x", Body=b"x")
    assert_client_error(e, 403, "AccessDenied", denied("s3:PutObject", "arn:aws:s3:::elsewhere/x"))
    # A missing key: 403 for this user (no s3:ListBucket), 404 for the root user.
    with pytest.raises(Exception) as e:
        user.head_object(Bucket=BUCKET, Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(Exception) as e:
        root.get_object(Bucket=BUCKET, Key="missing")
    assert_client_error(e, 404, "NoSuchKey")
    # The refused delete deleted nothing.
    assert root.get_object(Bucket=BUCKET, Key="avatar.png")["Body"].read() == b"png"


def test_presigned_urls_carry_the_signers_permissions(tutorial):
    srv, root, user = tutorial
    put_url = user.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "up.txt"})
    assert requests.put(put_url, data=b"uploaded", timeout=10).status_code == 200
    get_url = user.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "up.txt"})
    resp = requests.get(get_url, timeout=10)
    assert (resp.status_code, resp.content) == (200, b"uploaded")
    delete_url = user.generate_presigned_url("delete_object", Params={"Bucket": BUCKET, "Key": "up.txt"})
    resp = requests.delete(delete_url, timeout=10)
    assert resp.status_code == 403, resp.text
    assert "<Code>AccessDenied</Code>" in resp.text
    assert denied("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/up.txt").replace('"', "&quot;") in resp.text
    # The root user's URL for the same DELETE works.
    root_delete = root.generate_presigned_url("delete_object", Params={"Bucket": BUCKET, "Key": "up.txt"})
    assert requests.delete(root_delete, timeout=10).status_code == 204


def test_the_aws_cli_as_the_tutorial_user(tutorial, tmp_path):
    srv, root, user = tutorial
    home = tmp_path / "home"
    home.mkdir()
    aws = aws_runner(srv.endpoint, home)
    as_user = {"AWS_ACCESS_KEY_ID": USER_KEY, "AWS_SECRET_ACCESS_KEY": USER_SECRET}
    src = tmp_path / "f.txt"
    src.write_text("from the cli")
    aws("s3", "cp", str(src), f"s3://{BUCKET}/cli.txt", env_extra=as_user)
    out = aws("s3", "rm", f"s3://{BUCKET}/cli.txt", env_extra=as_user, check=False)
    assert out.returncode != 0
    assert "AccessDenied" in out.stderr, out.stderr
    # Twin: the root user's rm succeeds.
    aws("s3", "rm", f"s3://{BUCKET}/cli.txt")


def test_a_bad_policy_file_stops_the_server_at_start(tmp_path):
    import subprocess
    from conftest import server_binary
    policy = tmp_path / "bad.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}')
    proc = subprocess.run(
        [str(server_binary()), "--addr", "127.0.0.1:0", "--in-memory",
         "--user", f"bad:AKIABAD:secret:{policy}"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0
    assert "Missing required field Resource" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_bucket_policies_with_boto3_and_the_cli(tutorial, tmp_path):
    from botocore import UNSIGNED
    srv, root, user = tutorial
    root.put_object(Bucket="elsewhere", Key="page.html", Body=b"<p>hi</p>")
    anon = make_client(srv.endpoint, signature_version=UNSIGNED, access_key=None, secret_key=None)
    with pytest.raises(Exception) as e:
        anon.get_object(Bucket="elsewhere", Key="page.html")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    with pytest.raises(Exception) as e:
        root.get_bucket_policy(Bucket="elsewhere")
    assert_client_error(e, 404, "NoSuchBucketPolicy", "The bucket policy does not exist")

    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"}],
    })
    # Block Public Access, on for a new bucket, refuses a public policy until it is removed.
    with pytest.raises(Exception) as e:
        root.put_bucket_policy(Bucket="elsewhere", Policy=policy)
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    pab = root.get_public_access_block(Bucket="elsewhere")["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                   "RestrictPublicBuckets": True}
    root.delete_public_access_block(Bucket="elsewhere")
    root.put_bucket_policy(Bucket="elsewhere", Policy=policy)
    assert root.get_bucket_policy(Bucket="elsewhere")["Policy"] == policy
    assert root.get_bucket_policy_status(Bucket="elsewhere")["PolicyStatus"]["IsPublic"] is True
    assert anon.get_object(Bucket="elsewhere", Key="page.html")["Body"].read() == b"<p>hi</p>"
    with pytest.raises(Exception) as e:
        anon.put_object(Bucket="elsewhere", Key="x", Body=b"x")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    # The tutorial user has no right on this bucket's policy.
    with pytest.raises(Exception) as e:
        user.put_bucket_policy(Bucket="elsewhere", Policy=policy)
    assert_client_error(e, 403, "AccessDenied")
    with pytest.raises(Exception) as e:
        root.put_bucket_policy(Bucket="elsewhere", Policy=policy.replace("elsewhere/*", "other/*"))
    assert_client_error(e, 400, "MalformedPolicy", "Policy has invalid resource")

    root.delete_bucket_policy(Bucket="elsewhere")
    with pytest.raises(Exception) as e:
        anon.get_object(Bucket="elsewhere", Key="page.html")
    assert_client_error(e, 403, "AccessDenied")

    # The AWS CLI's s3api, from a file, as its documentation shows.
    home = tmp_path / "home"
    home.mkdir()
    aws = aws_runner(srv.endpoint, home)
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(policy)
    aws("s3api", "put-bucket-policy", "--bucket", "elsewhere", "--policy", f"file://{policy_file}")
    out = aws("s3api", "get-bucket-policy", "--bucket", "elsewhere")
    assert json.loads(json.loads(out.stdout)["Policy"]) == json.loads(policy)
    assert requests.get(f"{srv.endpoint}/elsewhere/page.html", timeout=10).status_code == 200
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    out = aws("s3api", "put-bucket-policy", "--bucket", "elsewhere", "--policy", f"file://{bad}", check=False)
    assert out.returncode != 0
    assert "MalformedPolicy" in out.stderr, out.stderr
