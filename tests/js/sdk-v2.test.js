// The AWS SDK for JavaScript v2 (`aws-sdk`, maintenance mode but still widely deployed) against
// the real strict-s3 binary. Every test starts its own server (helpers.withServer).
//
// v2 signs ordinary requests with SigV4, but its getSignedUrl picks "the lowest version the
// region supports" when no signatureVersion is configured: SigV2 (AWSAccessKeyId / Signature /
// Expires) for us-east-1 with a custom endpoint. The tests check that and use both.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ACCESS_KEY,
  EXPIRED,
  MiB,
  NO_SUCH_KEY,
  REGION,
  SECRET_KEY,
  SIG_MISMATCH,
  assertHttpError,
  md5etag,
  multipartEtag,
  randomBytes,
  rejects,
  replaceQuery,
  sha256hex,
  tamper,
  uniqueBucket,
  withServer,
} from "./helpers.js";

// Imported after helpers.js has cleaned the environment (and silenced v2's maintenance notice).
const { default: AWS } = await import("aws-sdk");

function client(endpoint, overrides = {}) {
  return new AWS.S3({
    endpoint,
    region: REGION,
    s3ForcePathStyle: true,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    maxRetries: 0,
    ...overrides,
  });
}

async function newBucket(s3) {
  const Bucket = uniqueBucket("v2");
  await s3.createBucket({ Bucket }).promise();
  return Bucket;
}

function assertAwsError(err, status, code, message) {
  assert.equal(err?.statusCode, status, `status of ${err?.code}: ${err?.stack}`);
  assert.equal(err.code, code, err.stack);
  if (message !== undefined) assert.equal(err.message, message);
  return err;
}

test("v2: putObject / getObject / headObject round trip with metadata", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const data = randomBytes(256 * 1024 + 3, 31);
    const put = await s3
      .putObject({ Bucket, Key: "v2/ünï+key.bin", Body: data, ContentType: "application/x-v2", Metadata: { owner: "v2", "with-dash": "A B" } })
      .promise();
    assert.equal(put.ETag, md5etag(data));
    const got = await s3.getObject({ Bucket, Key: "v2/ünï+key.bin" }).promise();
    assert.equal(sha256hex(got.Body), sha256hex(data));
    assert.equal(got.ContentType, "application/x-v2");
    assert.deepEqual(got.Metadata, { owner: "v2", "with-dash": "A B" });
    assert.equal(got.ETag, md5etag(data));
    const head = await s3.headObject({ Bucket, Key: "v2/ünï+key.bin" }).promise();
    assert.equal(head.ContentLength, data.length);
    const listed = await s3.listObjectsV2({ Bucket }).promise();
    assert.deepEqual(listed.Contents.map((o) => o.Key), ["v2/ünï+key.bin"]);
    await s3.deleteObject({ Bucket, Key: "v2/ünï+key.bin" }).promise();

    // Negative twins.
    const err = await rejects(s3.getObject({ Bucket, Key: "v2/ünï+key.bin" }).promise());
    assertAwsError(err, 404, "NoSuchKey", NO_SUCH_KEY);
    assertAwsError(await rejects(s3.headObject({ Bucket, Key: "v2/ünï+key.bin" }).promise()), 404, "NotFound");
  });
});

test("v2: getSignedUrl emits SigV2 for us-east-1 by default; getObject and putObject URLs work", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const data = Buffer.from("presigned by sdk v2");
    await s3.putObject({ Bucket, Key: "pre/v2 file+1.txt", Body: data, ContentType: "text/plain" }).promise();

    const getUrl = s3.getSignedUrl("getObject", { Bucket, Key: "pre/v2 file+1.txt", Expires: 300 });
    const q = new URL(getUrl).searchParams;
    assert.deepEqual([...q.keys()].sort(), ["AWSAccessKeyId", "Expires", "Signature"], getUrl);
    assert.equal(q.get("AWSAccessKeyId"), ACCESS_KEY);
    const expires = Number(q.get("Expires"));
    assert.ok(Math.abs(expires - (Date.now() / 1000 + 300)) < 60, `Expires=${expires} is absolute Unix time`);
    const r = await fetch(getUrl);
    assert.equal(r.status, 200);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data);
    assert.equal(r.headers.get("content-type"), "text/plain");

    const putUrl = s3.getSignedUrl("putObject", { Bucket, Key: "pre/uploaded ü.bin", Expires: 300 });
    assert.ok(new URL(putUrl).searchParams.has("Signature"));
    const body = randomBytes(50_000, 4);
    const put = await fetch(putUrl, { method: "PUT", body });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get("etag"), md5etag(body));
    const back = await s3.getObject({ Bucket, Key: "pre/uploaded ü.bin" }).promise();
    assert.equal(sha256hex(back.Body), sha256hex(body));

    // With signatureVersion: 'v4' the same calls give SigV4 URLs, which work too.
    const v4 = client(endpoint, { signatureVersion: "v4" });
    const v4Url = v4.getSignedUrl("getObject", { Bucket, Key: "pre/v2 file+1.txt", Expires: 300 });
    assert.equal(new URL(v4Url).searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    const r4 = await fetch(v4Url);
    assert.equal(r4.status, 200);
    assert.deepEqual(Buffer.from(await r4.arrayBuffer()), data);
    const v4Put = v4.getSignedUrl("putObject", { Bucket, Key: "pre/v4.bin", Expires: 300 });
    const p4 = await fetch(v4Put, { method: "PUT", body });
    assert.equal(p4.status, 200, await p4.clone().text());
  });
});

test("v2: presigned negative twins: GET URL used for PUT, tampered signature, wrong secret", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    await s3.putObject({ Bucket, Key: "k", Body: "original" }).promise();
    for (const signatureVersion of [undefined, "v4"]) {
      const c = client(endpoint, signatureVersion ? { signatureVersion } : {});
      const url = c.getSignedUrl("getObject", { Bucket, Key: "k", Expires: 300 });
      const sigName = signatureVersion === "v4" ? "X-Amz-Signature" : "Signature";

      const misuse = await fetch(url, { method: "PUT", body: Buffer.from("overwrite!") });
      const err = await assertHttpError(misuse, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
      if (signatureVersion === "v4") assert.ok(err.CanonicalRequest.startsWith("PUT\n"), err.CanonicalRequest);
      else assert.ok(err.StringToSign.startsWith("PUT\n"), err.StringToSign);

      const bad = tamper(new URL(url).searchParams.get(sigName));
      const terr = await assertHttpError(await fetch(replaceQuery(url, { [sigName]: bad })), 403, "SignatureDoesNotMatch", SIG_MISMATCH);
      assert.equal(terr.SignatureProvided, bad);

      const wrong = client(endpoint, { secretAccessKey: "x" + SECRET_KEY.slice(1), ...(signatureVersion ? { signatureVersion } : {}) });
      const wurl = wrong.getSignedUrl("getObject", { Bucket, Key: "k", Expires: 300 });
      const werr = await assertHttpError(await fetch(wurl), 403, "SignatureDoesNotMatch", SIG_MISMATCH);
      assert.equal(werr.AWSAccessKeyId, ACCESS_KEY);
    }
    const got = await s3.getObject({ Bucket, Key: "k" }).promise();
    assert.equal(got.Body.toString(), "original");
  });
});

test("v2: a wrong secret on signed calls is SignatureDoesNotMatch 403", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const wrong = client(endpoint, { secretAccessKey: "x" + SECRET_KEY.slice(1) });
    const err = await rejects(wrong.listObjectsV2({ Bucket }).promise());
    assertAwsError(err, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    const perr = await rejects(wrong.putObject({ Bucket, Key: "k", Body: "x" }).promise());
    assertAwsError(perr, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    // Twin: the right secret.
    assert.equal((await s3.listObjectsV2({ Bucket }).promise()).KeyCount, 0);
  });
});

test("v2: a 1-hour presigned URL (SigV2 and SigV4) on a server 2 hours ahead has expired", async () => {
  await withServer(["--clock-offset", "7200", "--bucket", "ahead"], async ({ endpoint }) => {
    for (const signatureVersion of [undefined, "v4"]) {
      const s3 = client(endpoint, signatureVersion ? { signatureVersion } : {});
      const url = s3.getSignedUrl("getObject", { Bucket: "ahead", Key: "k.txt", Expires: 3600 });
      const before = Date.now();
      const err = await assertHttpError(await fetch(url), 403, "AccessDenied", EXPIRED);
      assert.ok(Math.abs(Date.parse(err.ServerTime) - before - 7200_000) < 60_000, `ServerTime ${err.ServerTime}`);
      if (signatureVersion === "v4") {
        assert.equal(err["X-Amz-Expires"], "3600");
      } else {
        assert.equal(err["X-Amz-Expires"], undefined, "SigV2 has no X-Amz-Expires element");
        const expires = Number(new URL(url).searchParams.get("Expires"));
        assert.equal(err.Expires, new Date(expires * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
      }
      // Twin: valid for 3 hours it passes auth (the key is absent).
      const longer = s3.getSignedUrl("getObject", { Bucket: "ahead", Key: "k.txt", Expires: 3 * 3600 });
      await assertHttpError(await fetch(longer), 404, "NoSuchKey", NO_SUCH_KEY);
    }
  });
});

test("v2: upload() of 12 MiB is multipart; a small body is one PUT", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const data = randomBytes(12 * MiB, 41);
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
    const partsSeen = [];
    const managed = s3.upload(
      { Bucket, Key: "v2/big.bin", Body: data, ContentType: "application/x-big" },
      { partSize: 5 * MiB, queueSize: 2 },
    );
    managed.on("httpUploadProgress", (p) => p.part && partsSeen.push(p.part));
    const big = await managed.promise();
    assert.equal(big.ETag, multipartEtag(parts));
    assert.equal(big.Key, "v2/big.bin");
    assert.deepEqual([...new Set(partsSeen)].sort(), [1, 2, 3]);
    const head = await s3.headObject({ Bucket, Key: "v2/big.bin" }).promise();
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, "application/x-big");
    assert.equal(head.ETag, multipartEtag(parts));
    const got = await s3.getObject({ Bucket, Key: "v2/big.bin" }).promise();
    assert.equal(sha256hex(got.Body), sha256hex(data));
    const uploads = await s3.listMultipartUploads({ Bucket }).promise();
    assert.deepEqual(uploads.Uploads, []);

    const small = randomBytes(10_000, 42);
    const res = await s3.upload({ Bucket, Key: "v2/small.bin", Body: small }).promise();
    assert.equal(res.ETag, md5etag(small));
    const back = await s3.getObject({ Bucket, Key: "v2/small.bin" }).promise();
    assert.equal(sha256hex(back.Body), sha256hex(small));

    // Negative twin: a missing bucket.
    const err = await rejects(s3.upload({ Bucket: uniqueBucket("missing"), Key: "k", Body: data }, { partSize: 5 * MiB }).promise());
    assertAwsError(err, 404, "NoSuchBucket", "The specified bucket does not exist");
  });
});

test("v2: a SigV2 PUT URL signed without ContentType, sent as multipart/form-data: the reason names the Content-Type", async () => {
  // aws/aws-sdk-js#557: a browser upload that adds its own Content-Type to a URL signed without one.
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const url = s3.getSignedUrl("putObject", { Bucket, Key: "form.bin", Expires: 300 });
    assert.ok(new URL(url).searchParams.has("Signature"), url);
    const headers = { "Content-Type": "multipart/form-data" };
    const resp = await fetch(url, { method: "PUT", body: Buffer.from("data"), headers });
    const err = await assertHttpError(resp, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.match(err.Explanation, /valid with no Content-Type, but the request was sent with Content-Type "multipart\/form-data"/);
    assert.match(resp.headers.get("x-strict-s3-reason") ?? "", /Content-Type/);
    // Twin: signed with the Content-Type the client sends.
    const typed = s3.getSignedUrl("putObject", { Bucket, Key: "form.bin", Expires: 300, ContentType: "multipart/form-data" });
    const ok = await fetch(typed, { method: "PUT", body: Buffer.from("data"), headers });
    assert.equal(ok.status, 200, await ok.clone().text());
  });
});

test("v2: a presigned GET for the NFC spelling of a key stored in NFD: 404 that names the normalization", async () => {
  // aws/aws-sdk-js#2373: the file was uploaded from macOS (NFD), the link is built from NFC text.
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const nfd = "photos/cafe\u0301.jpg";
    const nfc = nfd.normalize("NFC");
    assert.notEqual(nfd, nfc);
    await s3.putObject({ Bucket, Key: nfd, Body: "jpeg" }).promise();
    const url = s3.getSignedUrl("getObject", { Bucket, Key: nfc, Expires: 300 });
    const resp = await fetch(url);
    const err = await assertHttpError(resp, 404, "NoSuchKey", NO_SUCH_KEY);
    assert.match(err.Explanation, /differs only in Unicode normalization/);
    // Twin: the stored spelling is served.
    const ok = await fetch(s3.getSignedUrl("getObject", { Bucket, Key: nfd, Expires: 300 }));
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "jpeg");
  });
});
