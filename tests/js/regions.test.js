// Buckets in several regions with the AWS SDK for JavaScript v3, as on AWS: a path-style
// request signed for us-east-1 to an eu-west-2 bucket is what the us-east-1 endpoint answers,
// 301 PermanentRedirect with x-amz-bucket-region. A client that sets followRegionRedirects
// re-signs for eu-west-2 and goes on; without it, the call fails with that redirect.

import { test } from "node:test";
import assert from "node:assert/strict";

import { ACCESS_KEY, SECRET_KEY, rejects, withServer } from "./helpers.js";

import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

function client(endpoint, region, extra = {}) {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
    ...extra,
  });
}

test("a us-east-1 client with followRegionRedirects reaches an eu-west-2 bucket; without it, PermanentRedirect", async () => {
  await withServer([], async (srv) => {
    const london = client(srv.endpoint, "eu-west-2");
    await london.send(new CreateBucketCommand({
      Bucket: "js-london",
      CreateBucketConfiguration: { LocationConstraint: "eu-west-2" },
    }));
    const head = await london.send(new HeadBucketCommand({ Bucket: "js-london" }));
    assert.equal(head.BucketRegion, "eu-west-2");

    const following = client(srv.endpoint, "us-east-1", { followRegionRedirects: true });
    await following.send(new PutObjectCommand({ Bucket: "js-london", Key: "a.txt", Body: "hello" }));
    const got = await following.send(new GetObjectCommand({ Bucket: "js-london", Key: "a.txt" }));
    assert.equal(await got.Body.transformToString(), "hello");
    const loc = await following.send(new GetBucketLocationCommand({ Bucket: "js-london" }));
    assert.equal(loc.LocationConstraint, "eu-west-2");

    const plain = client(srv.endpoint, "us-east-1");
    const err = await rejects(plain.send(new GetObjectCommand({ Bucket: "js-london", Key: "a.txt" })));
    assert.equal(err.name, "PermanentRedirect", err.message);
    assert.equal(err.$metadata.httpStatusCode, 301);
    assert.equal(err.Bucket, "js-london");
    assert.equal(err.Endpoint, "js-london.s3.eu-west-2.amazonaws.com");
  });
});
