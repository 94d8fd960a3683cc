// GetObjectAttributes, conditional copies and ListBuckets paging through the AWS SDK for
// JavaScript v3, with its default checksums (a CRC32 on every PutObject and UploadPart).

import { test } from "node:test";
import assert from "node:assert/strict";

import { ACCESS_KEY, REGION, SECRET_KEY, rejects, uniqueBucket, withServer } from "./helpers.js";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  paginateListBuckets,
} from "@aws-sdk/client-s3";

function client(endpoint) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
  });
}

function assertSdkError(err, status, name, message) {
  assert.equal(err?.$metadata?.httpStatusCode, status, `status of ${err?.name}: ${err?.stack}`);
  assert.equal(err.name, name, err.stack);
  if (message !== undefined) assert.equal(err.message, message);
}

test("v3: GetObjectAttributes of a PutObject and of a COMPOSITE multipart upload", async () => {
  await withServer([], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = uniqueBucket("attr");
    await s3.send(new CreateBucketCommand({ Bucket }));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: "one", Body: "hello" }));
    const one = await s3.send(
      new GetObjectAttributesCommand({ Bucket, Key: "one", ObjectAttributes: ["ETag", "Checksum", "ObjectSize"] }),
    );
    assert.equal(one.ETag, put.ETag.replaceAll('"', ""));
    assert.equal(one.Checksum.ChecksumCRC32, put.ChecksumCRC32);
    assert.equal(one.Checksum.ChecksumType, "FULL_OBJECT");
    assert.equal(one.ObjectSize, 5);
    assert.ok(one.LastModified instanceof Date);

    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: "big", ChecksumAlgorithm: "CRC32", ChecksumType: "COMPOSITE" }),
    );
    const bodies = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from("tail")];
    const Parts = [];
    for (const [i, Body] of bodies.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket, Key: "big", UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: "CRC32" }),
      );
      Parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "big", UploadId, MultipartUpload: { Parts } }));
    const big = await s3.send(
      new GetObjectAttributesCommand({ Bucket, Key: "big", ObjectAttributes: ["ObjectParts", "Checksum"], MaxParts: 1 }),
    );
    assert.equal(big.Checksum.ChecksumType, "COMPOSITE");
    assert.equal(big.ObjectParts.TotalPartsCount, 2);
    assert.equal(big.ObjectParts.IsTruncated, true);
    assert.deepEqual(
      big.ObjectParts.Parts.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]),
      [[1, bodies[0].length, Parts[0].ChecksumCRC32]],
    );
    const bad = await rejects(
      s3.send(new GetObjectAttributesCommand({ Bucket, Key: "one", ObjectAttributes: ["Size"] })),
    );
    assertSdkError(bad, 400, "InvalidArgument", "Invalid attribute name specified.");
  });
});

test("v3: CopyObject IfNoneMatch, and ListBuckets pages", async () => {
  await withServer(["--bucket", "b-one", "--bucket", "b-two", "--bucket", "b-three"], async ({ endpoint }) => {
    const s3 = client(endpoint);
    await s3.send(new PutObjectCommand({ Bucket: "b-one", Key: "src", Body: "source" }));
    const copy = () =>
      s3.send(new CopyObjectCommand({ Bucket: "b-one", Key: "dest", CopySource: "b-one/src", IfNoneMatch: "*" }));
    await copy();
    assertSdkError(await rejects(copy()), 412, "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold");

    const names = [];
    let pages = 0;
    for await (const page of paginateListBuckets({ client: s3, pageSize: 2 }, {})) {
      pages += 1;
      for (const b of page.Buckets) {
        assert.equal(b.BucketRegion, REGION);
        names.push(b.Name);
      }
    }
    assert.equal(pages, 2);
    assert.deepEqual(names, ["b-one", "b-three", "b-two"]);
    const prefixed = await s3.send(new ListBucketsCommand({ Prefix: "b-t" }));
    assert.equal(prefixed.Prefix, "b-t");
    assert.deepEqual(prefixed.Buckets.map((b) => b.Name), ["b-three", "b-two"]);
    assertSdkError(await rejects(s3.send(new ListBucketsCommand({ BucketRegion: "atlantis-1" }))), 400,
      "InvalidArgument", "Argument value atlantis-1 is not a valid AWS Region");
  });
});
