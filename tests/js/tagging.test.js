// Object and bucket tagging through the AWS SDK for JavaScript v3: the tagging commands,
// Tagging on PutObject, presigned PUT URLs (getSignedUrl hoists x-amz-tagging into the query
// by default; with unhoistableHeaders it is a signed header the uploader must send), and the
// refusals with AWS's codes and messages (docs/tagging-evidence.md).

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ACCESS_KEY,
  REGION,
  SECRET_KEY,
  SIG_MISMATCH,
  assertHttpError,
  assertSdkError,
  rejects,
  uniqueBucket,
  withServer,
} from "./helpers.js";

import {
  CreateBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

function client(endpoint) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
  });
}

async function newBucket(s3) {
  const Bucket = uniqueBucket("tag");
  await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

const tagSet = (pairs) => ({ TagSet: pairs.map(([Key, Value]) => ({ Key, Value })) });
const pairsOf = (resp) => resp.TagSet.map((t) => [t.Key, t.Value]);

test("v3: object tagging commands, Tagging on PutObject, TagCount, and the refusals", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x", Tagging: "team=web&tier=gold" }));
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "k" }))), [
      ["team", "web"],
      ["tier", "gold"],
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "k" }));
    assert.equal(got.TagCount, 2);
    await got.Body.transformToString();

    await s3.send(new PutObjectTaggingCommand({ Bucket, Key: "k", Tagging: tagSet([["owner", "ops"]]) }));
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "k" }))), [["owner", "ops"]]);

    const tooMany = tagSet(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]));
    assertSdkError(await rejects(s3.send(new PutObjectTaggingCommand({ Bucket, Key: "k", Tagging: tooMany }))),
      400, "BadRequest", "Object tags cannot be greater than 10");
    assertSdkError(
      await rejects(s3.send(new PutObjectTaggingCommand({ Bucket, Key: "k", Tagging: tagSet([["a(b)", "v"]]) }))),
      400, "InvalidTag", "The TagKey you have provided is invalid");
    assertSdkError(await rejects(s3.send(new PutObjectCommand({ Bucket, Key: "k2", Body: "x", Tagging: "a=1&a=2" }))),
      400, "InvalidArgument",
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");
    assertSdkError(await rejects(s3.send(new GetObjectTaggingCommand({ Bucket, Key: "absent" }))), 404, "NoSuchKey");
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "k" }))), [["owner", "ops"]]);

    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: "k" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "k" }))), []);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "k" }));
    assert.equal(head.TagCount, undefined);
  });
});

test("v3: presigned PUT with Tagging, hoisted into the query (the default) or as a signed header", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);

    // The default: x-amz-tagging travels in the signed query string; the uploader sends no header.
    const hoisted = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "hoisted", Tagging: "source=v3" }),
      { expiresIn: 300 });
    const q = new URL(hoisted).searchParams;
    assert.equal(q.get("x-amz-tagging"), "source=v3");
    assert.equal(q.get("X-Amz-SignedHeaders"), "host");
    const ok = await fetch(hoisted, { method: "PUT", body: "payload" });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "hoisted" }))), [["source", "v3"]]);
    const forged = new URL(hoisted);
    forged.searchParams.set("x-amz-tagging", "source=forged");
    await assertHttpError(await fetch(forged, { method: "PUT", body: "payload" }), 403, "SignatureDoesNotMatch",
      SIG_MISMATCH);

    // Kept as a header: it is signed, so the uploader must send exactly it.
    const asHeader = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "header", Tagging: "source=header" }),
      { expiresIn: 300, unhoistableHeaders: new Set(["x-amz-tagging"]) });
    assert.match(new URL(asHeader).searchParams.get("X-Amz-SignedHeaders"), /x-amz-tagging/);
    await assertHttpError(await fetch(asHeader, { method: "PUT", body: "payload" }), 403, "SignatureDoesNotMatch");
    await assertHttpError(
      await fetch(asHeader, { method: "PUT", body: "payload", headers: { "x-amz-tagging": "source=other" } }),
      403, "SignatureDoesNotMatch");
    const sent = await fetch(asHeader, { method: "PUT", body: "payload", headers: { "x-amz-tagging": "source=header" } });
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.deepEqual(pairsOf(await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "header" }))), [["source", "header"]]);
  });
});

test("v3: bucket tagging; NoSuchTagSet before and after", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const none = await rejects(s3.send(new GetBucketTaggingCommand({ Bucket })));
    assertSdkError(none, 404, "NoSuchTagSet", "The TagSet does not exist");
    const put = await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: tagSet([["env", "ci"]]) }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.deepEqual(pairsOf(await s3.send(new GetBucketTaggingCommand({ Bucket }))), [["env", "ci"]]);
    const many = tagSet(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    assertSdkError(await rejects(s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: many }))),
      400, "BadRequest", "Bucket tag count cannot be greater than 50");
    await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
    assertSdkError(await rejects(s3.send(new GetBucketTaggingCommand({ Bucket }))), 404, "NoSuchTagSet");
  });
});
