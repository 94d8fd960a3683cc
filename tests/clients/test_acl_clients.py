"""ACLs, Object Ownership, Block Public Access and cross-account access through real clients
(boto3 and the AWS CLI), as S3 answers them since April 2023:

- a new bucket is BucketOwnerEnforced: an ACL other than bucket-owner-full-control is 400
  AccessControlListNotSupported, bucket-owner-full-control is accepted;
- an ObjectWriter bucket takes ACLs, but BlockPublicAcls refuses a public one (403 AccessDenied)
  until Block Public Access is turned off; then an AllUsers READ grant lets an unsigned client
  read that object and no other; grants by e-mail are UnresolvableGrantByEmailAddress;
- another account (--account) reads exactly what an ACL grant or a bucket policy naming its
  root gives it, and nothing else; it lists only its own buckets.

Every refusal is asserted with S3's code and HTTP status, next to the request that succeeds.
The other account's ids are read from the server's banner (and its ListBuckets Owner), the
default account's canonical id from its own ListBuckets Owner: nothing the server computes is
written here.
"""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import pytest
from botocore import UNSIGNED

from conftest import assert_client_error, aws_runner, make_client

OTHER_KEY, OTHER_SECRET = "AKIAACLOTHERACCOUNT0", "acl-other-account-secret"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
NO_ACLS = "The bucket does not allow ACLs"
ALL_OFF = {"BlockPublicAcls": False, "IgnorePublicAcls": False,
           "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
ALL_ON = {name: True for name in ALL_OFF}
ACCOUNT_LINE = re.compile(r"^\s*account\s+(\S+) is account (\d{12}) \(canonical id ([0-9a-f]{64})\)\s*$")


@pytest.fixture
def accounts(start_server):
    """A server with the default account (root: `root`) and one more account (root: `other`)."""
    srv = start_server("--account", f"{OTHER_KEY}:{OTHER_SECRET}")
    found: list[tuple] = []
    deadline = time.monotonic() + 10  # the banner's later lines arrive after the first
    while not found and time.monotonic() < deadline:
        found = [m.groups() for m in map(ACCOUNT_LINE.match, list(srv.lines)) if m]
        time.sleep(0 if found else 0.05)
    assert [f[0] for f in found] == [OTHER_KEY], f"no account line for {OTHER_KEY} in the banner:\n{srv.log()}"
    _, other_id, other_canonical = found[0]
    root = make_client(srv.endpoint)
    other = make_client(srv.endpoint, access_key=OTHER_KEY, secret_key=OTHER_SECRET)
    # The banner's canonical id is the one S3 answers as the other account's owner id.
    assert other.list_buckets()["Owner"]["ID"] == other_canonical
    owner = root.list_buckets()["Owner"]["ID"]
    assert re.fullmatch(r"[0-9a-f]{64}", owner) and owner != other_canonical
    return SimpleNamespace(srv=srv, root=root, other=other, owner=owner,
                           other_id=other_id, other_canonical=other_canonical)


def anonymous(endpoint: str):
    return make_client(endpoint, signature_version=UNSIGNED, access_key=None, secret_key=None)


def grants(acl: dict) -> list[tuple]:
    """An ACL's grants as sortable (permission, type, id-or-uri) tuples (S3 sets no order)."""
    out = []
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        out.append((g["Permission"], grantee["Type"], grantee.get("ID") or grantee.get("URI")))
    return sorted(out)


def objectwriter_bucket(root, name: str, pab: dict | None) -> None:
    """An ObjectWriter bucket (ACLs enabled); Block Public Access set to `pab`, or deleted."""
    root.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    assert root.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    if pab is None:
        root.delete_public_access_block(Bucket=name)
    else:
        root.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)


def test_a_new_bucket_refuses_acls_except_bucket_owner_full_control(accounts):
    root, owner = accounts.root, accounts.owner
    root.create_bucket(Bucket="enforced")
    assert root.get_bucket_ownership_controls(Bucket="enforced")["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    pab = root.get_public_access_block(Bucket="enforced")["PublicAccessBlockConfiguration"]
    assert pab == ALL_ON

    with pytest.raises(Exception) as e:
        root.put_object(Bucket="enforced", Key="public.txt", Body=b"x", ACL="public-read")
    assert_client_error(e, 400, "AccessControlListNotSupported", NO_ACLS)
    with pytest.raises(Exception) as e:
        root.put_object(Bucket="enforced", Key="granted.txt", Body=b"x",
                        GrantRead=f"id={accounts.other_canonical}")
    assert_client_error(e, 400, "AccessControlListNotSupported", NO_ACLS)
    # The refused uploads stored nothing.
    with pytest.raises(Exception) as e:
        root.head_object(Bucket="enforced", Key="public.txt")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    # The twin: bucket-owner-full-control (and no ACL) is accepted.
    root.put_object(Bucket="enforced", Key="ok.txt", Body=b"ok", ACL="bucket-owner-full-control")
    root.put_object(Bucket="enforced", Key="plain.txt", Body=b"plain")
    assert root.get_object(Bucket="enforced", Key="ok.txt")["Body"].read() == b"ok"
    acl = root.get_object_acl(Bucket="enforced", Key="ok.txt")
    assert acl["Owner"]["ID"] == owner
    assert grants(acl) == [("FULL_CONTROL", "CanonicalUser", owner)]


def test_setting_any_acl_on_an_enforced_bucket_is_refused(accounts):
    # AWS refuses every ACL write on a BucketOwnerEnforced bucket, `private` included: "Requests
    # to set ACLs or update ACLs fail with a 400 error and return the AccessControlListNotSupported
    # error code" (docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
    # Seen live: PutBucketAcl `private` (terraform's aws_s3_bucket_acl acl = "private") is
    # AccessControlListNotSupported (hashicorp/terraform-provider-aws#28353, #34079), and so is
    # PutObjectAcl `private` (ansible amazon.aws aws_s3's default permission, issue #863).
    root = accounts.root
    root.create_bucket(Bucket="enforced-acl-writes")
    root.put_object(Bucket="enforced-acl-writes", Key="k", Body=b"k")
    # Without Block Public Access, so that only Object Ownership can refuse.
    root.delete_public_access_block(Bucket="enforced-acl-writes")
    with pytest.raises(Exception) as e:
        root.put_bucket_acl(Bucket="enforced-acl-writes", ACL="public-read")
    assert_client_error(e, 400, "AccessControlListNotSupported", NO_ACLS)
    with pytest.raises(Exception) as e:
        root.put_bucket_acl(Bucket="enforced-acl-writes", ACL="private")
    assert_client_error(e, 400, "AccessControlListNotSupported", NO_ACLS)
    with pytest.raises(Exception) as e:
        root.put_object_acl(Bucket="enforced-acl-writes", Key="k", ACL="private")
    assert_client_error(e, 400, "AccessControlListNotSupported", NO_ACLS)
    # Reading ACLs still works and shows the bucket owner's full control.
    acl = root.get_bucket_acl(Bucket="enforced-acl-writes")
    assert grants(acl) == [("FULL_CONTROL", "CanonicalUser", accounts.owner)]


def test_block_public_acls_then_a_public_read_object(accounts):
    root, owner = accounts.root, accounts.owner
    objectwriter_bucket(root, "writer", {**ALL_OFF, "BlockPublicAcls": True})
    root.put_object(Bucket="writer", Key="page.html", Body=b"<p>public</p>")
    root.put_object(Bucket="writer", Key="secret.txt", Body=b"private")

    with pytest.raises(Exception) as e:
        root.put_object_acl(Bucket="writer", Key="page.html", ACL="public-read")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    # The refused ACL was not applied: the object is still the owner's alone.
    assert grants(root.get_object_acl(Bucket="writer", Key="page.html")) == [
        ("FULL_CONTROL", "CanonicalUser", owner)]
    anon = anonymous(accounts.srv.endpoint)
    with pytest.raises(Exception) as e:
        anon.get_object(Bucket="writer", Key="page.html")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")

    root.put_public_access_block(Bucket="writer", PublicAccessBlockConfiguration=ALL_OFF)
    assert root.get_public_access_block(Bucket="writer")["PublicAccessBlockConfiguration"] == ALL_OFF
    root.put_object_acl(Bucket="writer", Key="page.html", ACL="public-read")
    acl = root.get_object_acl(Bucket="writer", Key="page.html")
    assert acl["Owner"]["ID"] == owner
    assert grants(acl) == [("FULL_CONTROL", "CanonicalUser", owner), ("READ", "Group", ALL_USERS)]

    # An unsigned client reads the public object, and not the private one beside it.
    assert anon.get_object(Bucket="writer", Key="page.html")["Body"].read() == b"<p>public</p>"
    with pytest.raises(Exception) as e:
        anon.get_object(Bucket="writer", Key="secret.txt")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    # READ on the object is not WRITE on the bucket.
    with pytest.raises(Exception) as e:
        anon.put_object(Bucket="writer", Key="page.html", Body=b"defaced")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    assert root.get_object(Bucket="writer", Key="page.html")["Body"].read() == b"<p>public</p>"


def test_bucket_acls_round_trip_and_email_grants_are_unresolvable(accounts):
    root, owner = accounts.root, accounts.owner
    objectwriter_bucket(root, "acl-bucket", None)
    acl = root.get_bucket_acl(Bucket="acl-bucket")
    assert acl["Owner"]["ID"] == owner
    assert grants(acl) == [("FULL_CONTROL", "CanonicalUser", owner)]

    policy = {
        "Owner": {"ID": owner},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": accounts.other_canonical}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "WRITE"},
            {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "READ_ACP"},
        ],
    }
    root.put_bucket_acl(Bucket="acl-bucket", AccessControlPolicy=policy)
    got = root.get_bucket_acl(Bucket="acl-bucket")
    assert got["Owner"]["ID"] == owner
    assert grants(got) == grants(policy)
    # The READ grant is evaluated: the other account may list the bucket now.
    root.put_object(Bucket="acl-bucket", Key="listed.txt", Body=b"l")
    listed = accounts.other.list_objects_v2(Bucket="acl-bucket")
    assert [o["Key"] for o in listed["Contents"]] == ["listed.txt"]
    # An ACL cannot hand the bucket to someone else.
    with pytest.raises(Exception) as e:
        root.put_bucket_acl(Bucket="acl-bucket", AccessControlPolicy={
            **policy, "Owner": {"ID": accounts.other_canonical}})
    assert_client_error(e, 403, "AccessDenied", "Access Denied")

    with pytest.raises(Exception) as e:
        root.put_object_acl(Bucket="acl-bucket", Key="listed.txt", GrantRead='emailAddress="x@example.com"')
    assert_client_error(e, 400, "UnresolvableGrantByEmailAddress",
                        "The e-mail address you provided does not match any account on record.")
    # The twin by canonical id is accepted.
    root.put_object_acl(Bucket="acl-bucket", Key="listed.txt", GrantRead=f"id={accounts.other_canonical}")
    assert grants(root.get_object_acl(Bucket="acl-bucket", Key="listed.txt")) == [
        ("READ", "CanonicalUser", accounts.other_canonical)]


def test_another_account_reads_what_an_acl_grants_it(accounts):
    root, other = accounts.root, accounts.other
    objectwriter_bucket(root, "shared-by-acl", ALL_ON)
    # A grant to one account is not public, so Block Public Access lets it through.
    root.put_object(Bucket="shared-by-acl", Key="granted.txt", Body=b"for you",
                    GrantRead=f"id={accounts.other_canonical}")
    root.put_object(Bucket="shared-by-acl", Key="mine.txt", Body=b"not for you")

    got = other.get_object(Bucket="shared-by-acl", Key="granted.txt")
    assert got["Body"].read() == b"for you"
    with pytest.raises(Exception) as e:
        other.get_object(Bucket="shared-by-acl", Key="mine.txt")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    # READ is not READ_ACP nor WRITE.
    with pytest.raises(Exception) as e:
        other.get_object_acl(Bucket="shared-by-acl", Key="granted.txt")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    with pytest.raises(Exception) as e:
        other.put_object(Bucket="shared-by-acl", Key="granted.txt", Body=b"overwritten")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    assert root.get_object(Bucket="shared-by-acl", Key="granted.txt")["Body"].read() == b"for you"


def test_another_account_reads_what_a_bucket_policy_grants_it(accounts):
    root, other = accounts.root, accounts.other
    root.create_bucket(Bucket="shared-by-policy")  # BucketOwnerEnforced, all of BPA on
    root.put_object(Bucket="shared-by-policy", Key="report.csv", Body=b"a,b\n1,2\n")
    with pytest.raises(Exception) as e:
        other.get_object(Bucket="shared-by-policy", Key="report.csv")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")

    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{accounts.other_id}:root"},
                       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-by-policy/*"}],
    })
    # Naming one account is not public: BlockPublicPolicy lets it through.
    root.put_bucket_policy(Bucket="shared-by-policy", Policy=policy)
    assert root.get_bucket_policy_status(Bucket="shared-by-policy")["PolicyStatus"]["IsPublic"] is False

    assert other.get_object(Bucket="shared-by-policy", Key="report.csv")["Body"].read() == b"a,b\n1,2\n"
    with pytest.raises(Exception) as e:
        other.put_object(Bucket="shared-by-policy", Key="report.csv", Body=b"mine now")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    with pytest.raises(Exception) as e:
        other.delete_object(Bucket="shared-by-policy", Key="report.csv")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    with pytest.raises(Exception) as e:
        other.list_objects_v2(Bucket="shared-by-policy")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")
    assert root.get_object(Bucket="shared-by-policy", Key="report.csv")["Body"].read() == b"a,b\n1,2\n"


def test_each_account_lists_only_its_own_buckets(accounts):
    root, other = accounts.root, accounts.other
    root.create_bucket(Bucket="first-account-bucket")
    other.create_bucket(Bucket="other-account-bucket")
    mine = root.list_buckets()
    theirs = other.list_buckets()
    assert [b["Name"] for b in mine["Buckets"]] == ["first-account-bucket"]
    assert [b["Name"] for b in theirs["Buckets"]] == ["other-account-bucket"]
    assert (mine["Owner"]["ID"], theirs["Owner"]["ID"]) == (accounts.owner, accounts.other_canonical)
    # The other account owns its bucket: the first account's root has no say in it.
    assert grants(other.get_bucket_acl(Bucket="other-account-bucket")) == [
        ("FULL_CONTROL", "CanonicalUser", accounts.other_canonical)]
    with pytest.raises(Exception) as e:
        root.list_objects_v2(Bucket="other-account-bucket")
    assert_client_error(e, 403, "AccessDenied", "Access Denied")


def test_the_aws_cli_sets_public_access_block_and_reads_the_bucket_acl(accounts, tmp_path):
    root, owner = accounts.root, accounts.owner
    home = tmp_path / "home"
    home.mkdir()
    aws = aws_runner(accounts.srv.endpoint, home)
    aws("s3api", "create-bucket", "--bucket", "cli-acl", "--object-ownership", "ObjectWriter")

    out = aws("s3api", "put-public-access-block", "--bucket", "cli-acl", "--public-access-block-configuration",
              "BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=true")
    assert out.stdout.strip() == ""
    got = json.loads(aws("s3api", "get-public-access-block", "--bucket", "cli-acl").stdout)
    assert got["PublicAccessBlockConfiguration"] == {**ALL_OFF, "BlockPublicPolicy": True,
                                                     "RestrictPublicBuckets": True}
    # With BlockPublicAcls off, the CLI's public-read bucket ACL is accepted...
    aws("s3api", "put-bucket-acl", "--bucket", "cli-acl", "--acl", "public-read")
    acl = json.loads(aws("s3api", "get-bucket-acl", "--bucket", "cli-acl").stdout)
    assert acl["Owner"]["ID"] == owner
    assert grants(acl) == [("FULL_CONTROL", "CanonicalUser", owner), ("READ", "Group", ALL_USERS)]
    assert root.get_bucket_acl(Bucket="cli-acl")["Grants"] == acl["Grants"]

    # ...and with it back on, refused: the CLI exits non-zero with S3's code.
    aws("s3api", "put-public-access-block", "--bucket", "cli-acl", "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=true")
    out = aws("s3api", "put-bucket-acl", "--bucket", "cli-acl", "--acl", "public-read-write", check=False)
    assert out.returncode != 0
    assert "(AccessDenied)" in out.stderr and "PutBucketAcl" in out.stderr, out.stderr
    acl_after = json.loads(aws("s3api", "get-bucket-acl", "--bucket", "cli-acl").stdout)
    assert grants(acl_after) == grants(acl)
