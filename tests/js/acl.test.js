// ACLs, Block Public Access and cross-account access with the AWS SDK for JavaScript v3, as S3
// answers them since April 2023: a new bucket is BucketOwnerEnforced, so PutObject with
// ACL "public-read" is 400 AccessControlListNotSupported while "bucket-owner-full-control" is
// accepted; PutPublicAccessBlock / GetPublicAccessBlock round-trip (and BlockPublicPolicy
// refuses a public policy while a policy naming one account passes); another account (--account)
// reads what a bucket policy naming its root allows and is 403 AccessDenied for the rest.
// The other account's ids come from the server's banner and its ListBuckets Owner, never from here.

import { test } from "node:test";
import assert from "node:assert/strict";

import { ACCESS_KEY, REGION, SECRET_KEY, rejects, withServer } from "./helpers.js";

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";

const OTHER_KEY = "AKIAJSACLOTHERACCT00";
const OTHER_SECRET = "js-acl-other-account-secret";
const NO_ACLS = "The bucket does not allow ACLs";
const ACCOUNT_LINE = /^\s*account\s+(\S+) is account (\d{12}) \(canonical id ([0-9a-f]{64})\)\s*$/;

function client(endpoint, accessKeyId = ACCESS_KEY, secretAccessKey = SECRET_KEY) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/** Asserts an SDK error's S3 code (err.name), HTTP status and message. */
function assertS3Error(err, status, code, message) {
  assert.equal(err.name, code, `${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, `${err.name}: ${err.message}`);
  if (message !== undefined) assert.equal(err.message, message);
}

/** { accountId, canonicalId } of an --account, from the server's banner (srv.log()). */
function bannerAccount(srv, key) {
  for (const line of srv.log(200).split("\n")) {
    const m = ACCOUNT_LINE.exec(line);
    if (m && m[1] === key) return { accountId: m[2], canonicalId: m[3] };
  }
  assert.fail(`no account line for ${key} in the banner:\n${srv.log()}`);
}

test("a new bucket refuses ACL public-read on PutObject and accepts bucket-owner-full-control", async () => {
  await withServer([], async (srv) => {
    const s3 = client(srv.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: "js-enforced" }));
    const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: "js-enforced" }));
    assert.deepEqual(own.OwnershipControls.Rules, [{ ObjectOwnership: "BucketOwnerEnforced" }]);

    const err = await rejects(s3.send(new PutObjectCommand({
      Bucket: "js-enforced", Key: "avatar.png", Body: "png", ACL: "public-read",
    })));
    assertS3Error(err, 400, "AccessControlListNotSupported", NO_ACLS);
    const missing = await rejects(s3.send(new HeadObjectCommand({ Bucket: "js-enforced", Key: "avatar.png" })));
    assert.equal(missing.$metadata.httpStatusCode, 404, "the refused upload stored nothing");

    await s3.send(new PutObjectCommand({
      Bucket: "js-enforced", Key: "avatar.png", Body: "png", ACL: "bucket-owner-full-control",
    }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "js-enforced", Key: "avatar.png" }));
    assert.equal(await got.Body.transformToString(), "png");
  });
});

test("PutPublicAccessBlock and GetPublicAccessBlock round-trip; BlockPublicPolicy refuses a public policy", async () => {
  await withServer(["--bucket", "js-pab"], async (srv) => {
    const s3 = client(srv.endpoint);
    const initial = await s3.send(new GetPublicAccessBlockCommand({ Bucket: "js-pab" }));
    assert.deepEqual(initial.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true,
    });
    const publicPolicy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::js-pab/*" }],
    });
    const blocked = await rejects(s3.send(new PutBucketPolicyCommand({ Bucket: "js-pab", Policy: publicPolicy })));
    assertS3Error(blocked, 403, "AccessDenied", "Access Denied");

    const wanted = { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: true };
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: "js-pab", PublicAccessBlockConfiguration: wanted }));
    const got = await s3.send(new GetPublicAccessBlockCommand({ Bucket: "js-pab" }));
    assert.deepEqual(got.PublicAccessBlockConfiguration, wanted);
    // With BlockPublicPolicy off, the same policy is accepted.
    await s3.send(new PutBucketPolicyCommand({ Bucket: "js-pab", Policy: publicPolicy }));

    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: "js-pab" }));
    const gone = await rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: "js-pab" })));
    assertS3Error(gone, 404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found");
  });
});

test("another account reads through a bucket policy naming its root, and may do nothing else", async () => {
  await withServer(["--bucket", "js-shared", "--account", `${OTHER_KEY}:${OTHER_SECRET}`], async (srv) => {
    const { accountId, canonicalId } = bannerAccount(srv, OTHER_KEY);
    const root = client(srv.endpoint);
    const other = client(srv.endpoint, OTHER_KEY, OTHER_SECRET);

    // Each account lists only its own buckets, under its own canonical id.
    const theirs = await other.send(new ListBucketsCommand({}));
    assert.equal(theirs.Owner.ID, canonicalId);
    assert.deepEqual(theirs.Buckets ?? [], []);
    const mine = await root.send(new ListBucketsCommand({}));
    assert.notEqual(mine.Owner.ID, canonicalId);
    assert.deepEqual(mine.Buckets.map((b) => b.Name), ["js-shared"]);

    await root.send(new PutObjectCommand({ Bucket: "js-shared", Key: "data.json", Body: '{"n":1}' }));
    const before = await rejects(other.send(new GetObjectCommand({ Bucket: "js-shared", Key: "data.json" })));
    assertS3Error(before, 403, "AccessDenied", "Access Denied");

    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::js-shared/*",
      }],
    });
    // One named account is not public: Block Public Access (all on) lets the policy through.
    await root.send(new PutBucketPolicyCommand({ Bucket: "js-shared", Policy: policy }));

    const got = await other.send(new GetObjectCommand({ Bucket: "js-shared", Key: "data.json" }));
    assert.equal(await got.Body.transformToString(), '{"n":1}');
    const put = await rejects(other.send(new PutObjectCommand({ Bucket: "js-shared", Key: "data.json", Body: "x" })));
    assertS3Error(put, 403, "AccessDenied", "Access Denied");
    const del = await rejects(other.send(new DeleteObjectCommand({ Bucket: "js-shared", Key: "data.json" })));
    assertS3Error(del, 403, "AccessDenied", "Access Denied");
    const list = await rejects(other.send(new ListObjectsV2Command({ Bucket: "js-shared" })));
    assertS3Error(list, 403, "AccessDenied", "Access Denied");

    const still = await root.send(new GetObjectCommand({ Bucket: "js-shared", Key: "data.json" }));
    assert.equal(await still.Body.transformToString(), '{"n":1}');
  });
});
