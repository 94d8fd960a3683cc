// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3, lib-storage, s3-request-presigner) against
// the real strict-s3 binary. Every test starts its own server (helpers.withServer). Every
// positive test has a negative twin asserting the exact HTTP status and S3 error Code.
//
// The SDK runs with its defaults: requestChecksumCalculation WHEN_SUPPORTED (a CRC32 on every
// PutObject/UploadPart, as a header for buffers and as an aws-chunked trailer for streams) and
// responseChecksumValidation WHEN_SUPPORTED (x-amz-checksum-mode: ENABLED on GetObject).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";

import {
  ACCESS_KEY,
  EXPIRED,
  MiB,
  NO_SUCH_KEY,
  REGION,
  SECRET_KEY,
  SIG_MISMATCH,
  assertHttpError,
  assertSdkError,
  compositeCrc32,
  crc32b64,
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

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const BAD_CRC32 = "The CRC32 you specified did not match the calculated checksum.";

function client(endpoint, overrides = {}) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    // One attempt: a retry could hide a refused or dropped request.
    maxAttempts: 1,
    ...overrides,
  });
}

/** Records every request as sent (signed, after the checksum middleware): {command, method, headers, query}. */
function recordRequests(s3) {
  const seen = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push({
        command: context.commandName,
        method: args.request.method,
        headers: { ...args.request.headers },
        query: { ...args.request.query },
      });
      return next(args);
    },
    { step: "deserialize", name: "strictS3RecordRequests", priority: "low" },
  );
  return seen;
}

async function newBucket(s3) {
  const name = uniqueBucket("v3");
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function bytesOf(getResponse) {
  return Buffer.from(await getResponse.Body.transformToByteArray());
}

// =============================================================================================
// Objects

test("v3: PutObject (CRC32 header), GetObject, HeadObject, ListObjectsV2, DeleteObject", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const sent = recordRequests(s3);
    const Bucket = await newBucket(s3);
    const data = Buffer.concat([randomBytes(300 * 1024, 7), Buffer.from([0, 0xff, 0x80])]);
    const Key = "dir/ünï code+1.bin";
    const Metadata = { color: "blue", "with-dash": "Value With Spaces" };

    const put = await s3.send(
      new PutObjectCommand({
        Bucket, Key, Body: data, Metadata,
        ContentType: "application/x-custom",
        CacheControl: "max-age=60",
        ContentDisposition: 'attachment; filename="a.bin"',
      }),
    );
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.equal(put.ETag, md5etag(data));
    // The SDK's default: a CRC32 of the buffer in a header, verified and echoed by the server.
    const putReq = sent.find((r) => r.command === "PutObjectCommand");
    assert.equal(putReq.headers["x-amz-checksum-crc32"], crc32b64(data));
    assert.equal(put.ChecksumCRC32, crc32b64(data));

    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(sent.at(-1).headers["x-amz-checksum-mode"], "ENABLED");
    const body = await bytesOf(got);
    assert.equal(sha256hex(body), sha256hex(data));
    assert.equal(got.ChecksumCRC32, crc32b64(data));
    for (const resp of [got, await s3.send(new HeadObjectCommand({ Bucket, Key }))]) {
      assert.equal(resp.ContentLength, data.length);
      assert.equal(resp.ETag, md5etag(data));
      assert.equal(resp.ContentType, "application/x-custom");
      assert.equal(resp.CacheControl, "max-age=60");
      assert.equal(resp.ContentDisposition, 'attachment; filename="a.bin"');
      assert.deepEqual(resp.Metadata, Metadata);
      assert.ok(resp.LastModified instanceof Date);
    }

    await s3.send(new PutObjectCommand({ Bucket, Key: "dir/second", Body: "two" }));
    // An empty string body: the SDK sets no Content-Length (and warns "Are you using a Stream of
    // unknown length…"), Node's http sends Content-Length: 0, and the PUT must succeed.
    await s3.send(new PutObjectCommand({ Bucket, Key: "top", Body: "" }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "dir/" }));
    assert.deepEqual(listed.Contents.map((o) => o.Key), ["dir/second", Key]);
    assert.equal(listed.KeyCount, 2);
    assert.equal(listed.Contents[1].Size, data.length);
    assert.equal(listed.Contents[1].ETag, md5etag(data));
    const delimited = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: "/" }));
    assert.deepEqual(delimited.CommonPrefixes.map((p) => p.Prefix), ["dir/"]);
    assert.deepEqual(delimited.Contents.map((o) => o.Key), ["top"]);

    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    assert.equal(del.$metadata.httpStatusCode, 204);

    // Negative twins: the object is gone.
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket, Key })));
    assertSdkError(err, 404, "NoSuchKey", NO_SUCH_KEY);
    assert.equal(err.Key, Key);
    assertSdkError(await rejects(s3.send(new HeadObjectCommand({ Bucket, Key }))), 404, "NotFound");
    const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "dir/" }));
    assert.deepEqual(after.Contents.map((o) => o.Key), ["dir/second"]);
  });
});

test("v3: PutObject of a stream is aws-chunked with a trailing CRC32", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const sent = recordRequests(s3);
    const Bucket = await newBucket(s3);
    const data = randomBytes(1 * MiB + 123, 11);
    const chunks = [];
    for (let i = 0; i < data.length; i += 64 * 1024) chunks.push(data.subarray(i, i + 64 * 1024));

    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: "streamed", Body: Readable.from(chunks), ContentLength: data.length }),
    );
    const req = sent.find((r) => r.command === "PutObjectCommand");
    assert.match(req.headers["content-encoding"], /aws-chunked/);
    assert.equal(req.headers["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(req.headers["x-amz-trailer"], "x-amz-checksum-crc32");
    assert.equal(req.headers["x-amz-decoded-content-length"], String(data.length));
    assert.equal(req.headers["transfer-encoding"], "chunked");
    assert.equal(put.ETag, md5etag(data));
    assert.equal(put.ChecksumCRC32, crc32b64(data));

    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "streamed", ChecksumMode: "ENABLED" }));
    assert.equal(got.ContentLength, data.length);
    assert.equal(got.ChecksumCRC32, crc32b64(data), "the trailing checksum is stored with the object");
    assert.equal(sha256hex(await bytesOf(got)), sha256hex(data));

    // Negative twin: a CRC32 that does not match the body is BadDigest, and nothing is stored.
    const err = await rejects(
      s3.send(new PutObjectCommand({ Bucket, Key: "bad", Body: data, ChecksumCRC32: crc32b64(Buffer.from("other")) })),
    );
    assertSdkError(err, 400, "BadDigest", BAD_CRC32);
    assertSdkError(await rejects(s3.send(new HeadObjectCommand({ Bucket, Key: "bad" }))), 404, "NotFound");
  });
});

// =============================================================================================
// lib-storage Upload

test("v3: lib-storage Upload of 12 MiB is a multipart upload of 5 MiB parts", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const sent = recordRequests(s3);
    const Bucket = await newBucket(s3);
    const data = randomBytes(12 * MiB, 3);
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];

    const upload = new Upload({
      client: s3,
      params: { Bucket, Key: "big/twelve.bin", Body: data, ContentType: "application/x-big", Metadata: { m: "1" } },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const result = await upload.done();
    assert.deepEqual(
      sent.map((r) => r.command),
      [
        "CreateBucketCommand",
        "CreateMultipartUploadCommand",
        "UploadPartCommand",
        "UploadPartCommand",
        "UploadPartCommand",
        "CompleteMultipartUploadCommand",
      ],
    );
    const partSizes = sent
      .filter((r) => r.command === "UploadPartCommand")
      .map((r) => [Number(r.query.partNumber), Number(r.headers["content-length"])])
      .sort((a, b) => a[0] - b[0]);
    assert.deepEqual(partSizes, [[1, 5 * MiB], [2, 5 * MiB], [3, 2 * MiB]]);
    // lib-storage asks for CRC32 on the upload (the SDK's default) and sends one with every part.
    const create = sent.find((r) => r.command === "CreateMultipartUploadCommand");
    assert.equal(create.headers["x-amz-checksum-algorithm"], "CRC32");
    assert.equal(result.ETag, multipartEtag(parts));
    assert.equal(result.ChecksumCRC32, compositeCrc32(parts));
    assert.equal(result.Key, "big/twelve.bin");

    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "big/twelve.bin" }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ETag, multipartEtag(parts));
    assert.equal(head.ContentType, "application/x-big");
    assert.deepEqual(head.Metadata, { m: "1" });
    const second = await s3.send(new HeadObjectCommand({ Bucket, Key: "big/twelve.bin", PartNumber: 2 }));
    assert.equal(second.ContentLength, 5 * MiB);
    assert.equal(second.PartsCount, 3);

    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "big/twelve.bin" }));
    assert.equal(sha256hex(await bytesOf(got)), sha256hex(data));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.equal(uploads.Uploads, undefined, "a completed upload is no longer listed");

    // Negative twin: to a missing bucket the upload fails with CreateMultipartUpload's error.
    const missing = uniqueBucket("missing");
    const err = await rejects(
      new Upload({ client: s3, params: { Bucket: missing, Key: "k", Body: data }, partSize: 5 * MiB }).done(),
    );
    assertSdkError(err, 404, "NoSuchBucket", "The specified bucket does not exist");
  });
});

test("v3: lib-storage Upload of a small body is one PutObject", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const sent = recordRequests(s3);
    const Bucket = await newBucket(s3);
    const data = randomBytes(100 * 1024, 5);
    const result = await new Upload({ client: s3, params: { Bucket, Key: "small.bin", Body: data }, partSize: 5 * MiB }).done();
    assert.deepEqual(sent.map((r) => r.command), ["CreateBucketCommand", "PutObjectCommand"]);
    assert.equal(result.ETag, md5etag(data));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "small.bin" }));
    assert.equal(got.ETag, md5etag(data));
    assert.equal(sha256hex(await bytesOf(got)), sha256hex(data));

    const missing = uniqueBucket("missing");
    const err = await rejects(new Upload({ client: s3, params: { Bucket: missing, Key: "k", Body: data } }).done());
    assertSdkError(err, 404, "NoSuchBucket", "The specified bucket does not exist");
  });
});

// =============================================================================================
// getSignedUrl

test("v3: presigned GetObject and PutObject URLs; a GET URL used for PUT; a tampered signature", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const data = randomBytes(70_000, 9);
    await s3.send(new PutObjectCommand({ Bucket, Key: "pre/signed file+1.txt", Body: data, ContentType: "text/plain" }));

    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: "pre/signed file+1.txt" }), { expiresIn: 300 });
    const q = new URL(getUrl).searchParams;
    assert.equal(q.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(q.get("X-Amz-Expires"), "300");
    const r = await fetch(getUrl);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("etag"), md5etag(data));
    assert.equal(sha256hex(Buffer.from(await r.arrayBuffer())), sha256hex(data));

    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "uploaded ü" }), { expiresIn: 300 });
    const body = Buffer.from("via presigned put");
    const put = await fetch(putUrl, { method: "PUT", body });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get("etag"), md5etag(body));
    const back = await s3.send(new GetObjectCommand({ Bucket, Key: "uploaded ü" }));
    assert.deepEqual(await bytesOf(back), body);

    // Negative twins. A GET URL used for PUT: the method is part of the canonical request.
    const misuse = await fetch(getUrl, { method: "PUT", body: Buffer.from("overwrite!") });
    const err = await assertHttpError(misuse, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.ok(err.CanonicalRequest.startsWith("PUT\n"), err.CanonicalRequest);
    // A tampered signature.
    const bad = tamper(q.get("X-Amz-Signature"));
    const tampered = await fetch(replaceQuery(getUrl, { "X-Amz-Signature": bad }));
    const terr = await assertHttpError(tampered, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.equal(terr.SignatureProvided, bad);
    assert.equal(terr.AWSAccessKeyId, ACCESS_KEY);
    // The object is untouched.
    const still = await fetch(getUrl);
    assert.equal(sha256hex(Buffer.from(await still.arrayBuffer())), sha256hex(data));
  });
});

test("v3: presigned PUT with the SDK's empty-body CRC32 in the query: accepted by default, like AWS", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "k" }), { expiresIn: 300 });
    const q = new URL(url).searchParams;
    // The presigner computes the default CRC32 over the empty body it has at signing time.
    assert.equal(q.get("x-amz-checksum-crc32"), crc32b64(Buffer.alloc(0)));
    assert.equal(q.get("x-amz-checksum-crc32"), "AAAAAA==");
    assert.equal(q.get("x-amz-sdk-checksum-algorithm"), "CRC32");
    const body = randomBytes(4096, 2);
    const r = await fetch(url, { method: "PUT", body });
    assert.equal(r.status, 200, await r.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "k" }));
    assert.deepEqual(await bytesOf(got), body);
  });
});

test("v3: the same presigned PUT under --strict-query-checksums is 400 BadDigest", async () => {
  await withServer(["--strict-query-checksums"], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "k" }), { expiresIn: 300 });
    assert.equal(new URL(url).searchParams.get("x-amz-checksum-crc32"), "AAAAAA==");
    const r = await fetch(url, { method: "PUT", body: randomBytes(4096, 2) });
    await assertHttpError(r, 400, "BadDigest", BAD_CRC32);
    assertSdkError(await rejects(s3.send(new HeadObjectCommand({ Bucket, Key: "k" }))), 404, "NotFound");
    // Twins: the empty body the checksum describes is accepted by the same URL...
    const empty = await fetch(url, { method: "PUT", body: Buffer.alloc(0) });
    assert.equal(empty.status, 200, await empty.clone().text());
    // ...and a URL presigned without the default checksum takes any body.
    const plain = client(endpoint, { requestChecksumCalculation: "WHEN_REQUIRED" });
    const url2 = await getSignedUrl(plain, new PutObjectCommand({ Bucket, Key: "k2" }), { expiresIn: 300 });
    assert.equal(new URL(url2).searchParams.get("x-amz-checksum-crc32"), null);
    const ok = await fetch(url2, { method: "PUT", body: Buffer.from("any body") });
    assert.equal(ok.status, 200, await ok.clone().text());
  });
});

test("v3: presigned UploadPart URLs for parts 1 and 2, completed by the SDK; part 1's URL used for part 2", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const Key = "presigned/parts.bin";
    const parts = [randomBytes(5 * MiB, 21), randomBytes(1 * MiB + 7, 22)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: "application/x-parts" }));
    assert.ok(UploadId);

    const urls = [];
    for (const PartNumber of [1, 2]) {
      urls.push(await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber }), { expiresIn: 300 }));
    }
    assert.equal(new URL(urls[0]).searchParams.get("partNumber"), "1");
    assert.equal(new URL(urls[0]).searchParams.get("uploadId"), UploadId);

    // Negative twin first: part 1's URL with partNumber edited to 2 (partNumber is signed).
    const misuse = await fetch(replaceQuery(urls[0], { partNumber: "2" }), { method: "PUT", body: parts[1] });
    const err = await assertHttpError(misuse, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.match(err.CanonicalRequest, /partNumber=2/);

    const etags = [];
    for (const [i, url] of urls.entries()) {
      const r = await fetch(url, { method: "PUT", body: parts[i] });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal(r.headers.get("etag"), md5etag(parts[i]));
      etags.push(r.headers.get("etag"));
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket, Key, UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    assert.equal(done.ETag, multipartEtag(parts));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.ContentType, "application/x-parts");
    assert.equal(sha256hex(await bytesOf(got)), sha256hex(Buffer.concat(parts)));

    // The upload is finished: its part URL now finds no upload.
    const late = await fetch(urls[1], { method: "PUT", body: parts[1] });
    await assertHttpError(late, 404, "NoSuchUpload");
    const abortErr = await rejects(s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })));
    assertSdkError(abortErr, 404, "NoSuchUpload");
  });
});

// =============================================================================================
// Negative twins: expiry, wrong secret

test("v3: a 1-hour presigned URL on a server whose clock is 2 hours ahead has expired", async () => {
  await withServer(["--clock-offset", "7200", "--bucket", "ahead"], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "ahead", Key: "k.txt" }), { expiresIn: 3600 });
    const before = Date.now();
    const err = await assertHttpError(await fetch(url), 403, "AccessDenied", EXPIRED);
    assert.equal(err["X-Amz-Expires"], "3600");
    const serverTime = Date.parse(err.ServerTime);
    assert.ok(Math.abs(serverTime - before - 7200_000) < 60_000, `ServerTime ${err.ServerTime}`);
    assert.ok(err.Expires, JSON.stringify(err));
    // Twin: valid for 3 hours it still passes auth there (the key is absent: NoSuchKey).
    const longer = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "ahead", Key: "k.txt" }), { expiresIn: 3 * 3600 });
    const nsk = await assertHttpError(await fetch(longer), 404, "NoSuchKey", NO_SUCH_KEY);
    assert.equal(nsk.Key, "k.txt");
    // Header-signed requests from this client are two hours off: RequestTimeTooSkewed.
    const skew = await rejects(s3.send(new HeadObjectCommand({ Bucket: "ahead", Key: "k.txt" })));
    assert.equal(skew.$metadata.httpStatusCode, 403);
  });
});

test("v3: a wrong secret is SignatureDoesNotMatch (SDK error and presigned URL)", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "secret" }));
    const wrong = client(endpoint, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: "x" + SECRET_KEY.slice(1) } });

    for (const command of [new ListObjectsV2Command({ Bucket }), new GetObjectCommand({ Bucket, Key: "k" })]) {
      const err = await rejects(wrong.send(command));
      assertSdkError(err, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
      assert.equal(err.Code, "SignatureDoesNotMatch");
      assert.equal(err.AWSAccessKeyId, ACCESS_KEY);
    }
    const putErr = await rejects(wrong.send(new PutObjectCommand({ Bucket, Key: "k", Body: "overwritten" })));
    assertSdkError(putErr, 403, "SignatureDoesNotMatch", SIG_MISMATCH);

    const url = await getSignedUrl(wrong, new GetObjectCommand({ Bucket, Key: "k" }), { expiresIn: 300 });
    const perr = await assertHttpError(await fetch(url), 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.equal(perr.AWSAccessKeyId, ACCESS_KEY);

    // An unknown access key is another error.
    const unknown = client(endpoint, { credentials: { accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: SECRET_KEY } });
    const uerr = await rejects(unknown.send(new ListObjectsV2Command({ Bucket })));
    assertSdkError(uerr, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");

    // Twin: the right secret reads the untouched object.
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "k" }));
    assert.equal(await got.Body.transformToString(), "secret");
  });
});

// =============================================================================================
// Part checksum types (issue 16): the SDK's default flows work, other algorithms are refused

test("v3: parts of an upload created without an algorithm: default CRC32 accepted, CRC32C refused as on S3", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const Key = "plain-create";
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = randomBytes(5 * MiB, 31);
    // The SDK's default: a CRC32 on every UploadPart (requestChecksumCalculation WHEN_SUPPORTED).
    const requests = recordRequests(s3);
    const one = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part }));
    assert.equal(one.ETag, md5etag(part));
    assert.ok(requests.some((r) => "x-amz-checksum-crc32" in r.headers || r.headers["x-amz-trailer"] === "x-amz-checksum-crc32"),
      JSON.stringify(requests.map((r) => r.headers)));
    // CRC32C on the same upload: S3's answer (botocore#3216).
    const err = await rejects(
      s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: Buffer.from("tail"), ChecksumAlgorithm: "CRC32C" })),
    );
    assertSdkError(err, 400, "InvalidRequest",
      "Checksum Type mismatch occurred, expected checksum Type: null, actual checksum Type: crc32c");
    const two = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: Buffer.from("tail") }));
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key, UploadId,
      MultipartUpload: { Parts: [{ ETag: one.ETag, PartNumber: 1 }, { ETag: two.ETag, PartNumber: 2 }] },
    }));
    assert.equal(done.ETag, multipartEtag([part, Buffer.from("tail")]));
  });
});

test("v3: an upload created with CRC32C takes CRC32C parts only", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = await newBucket(s3);
    const Key = "crc32c-create";
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: "CRC32C" }));
    const err = await rejects(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.from("x") })));
    assertSdkError(err, 400, "InvalidRequest",
      "Checksum Type mismatch occurred, expected checksum Type: crc32c, actual checksum Type: crc32");
    const ok = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.from("x"), ChecksumAlgorithm: "CRC32C" }),
    );
    assert.ok(ok.ChecksumCRC32C, JSON.stringify(ok));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  });
});
