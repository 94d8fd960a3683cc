// GetObjectAttributes, conditional copies, ListBuckets paging and versioning through the AWS SDK for
// JavaScript v3, with its default checksums (a CRC32 on every PutObject and UploadPart).

import { test } from "node:test";
import assert from "node:assert/strict";

import { ACCESS_KEY, REGION, SECRET_KEY, assertSdkError, rejects, uniqueBucket, withServer } from "./helpers.js";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
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

test("v3: versioning: ids, reads by version, delete markers, ListObjectVersions", async () => {
  await withServer(["--bucket", "vers"], async ({ endpoint }) => {
    const s3 = client(endpoint);
    const Bucket = "vers";
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "one" }))).VersionId;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "two" }))).VersionId;
    assert.ok(v1 && v2 && v1 !== v2);
    const old = await s3.send(new GetObjectCommand({ Bucket, Key: "k", VersionId: v1 }));
    assert.equal(await old.Body.transformToString(), "one");
    assert.equal(old.VersionId, v1);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: "k" }));
    assert.equal(marker.DeleteMarker, true);
    assertSdkError(await rejects(s3.send(new GetObjectCommand({ Bucket, Key: "k" }))), 404, "NoSuchKey");
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    assert.deepEqual(listed.Versions.map((v) => [v.VersionId, v.IsLatest]), [[v2, false], [v1, false]]);
    assert.deepEqual(listed.DeleteMarkers.map((m) => [m.VersionId, m.IsLatest]), [[marker.VersionId, true]]);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "k", VersionId: marker.VersionId }));
    const back = await s3.send(new GetObjectCommand({ Bucket, Key: "k" }));
    assert.equal(await back.Body.transformToString(), "two");
    assertSdkError(await rejects(s3.send(new GetObjectCommand({ Bucket, Key: "k", VersionId: "made-up" }))),
      400, "InvalidArgument", "Invalid version id specified");
  });
});
