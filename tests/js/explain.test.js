// The JS SDK v3 still parses S3 errors that carry strict-s3's explanation (the
// <Explanation> element and the x-strict-s3-reason header), and --aws-exact-errors
// removes both.

import { test } from "node:test";
import assert from "node:assert/strict";

import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

import { ACCESS_KEY, REGION, uniqueBucket, withServer } from "./helpers.js";

function client(endpoint, secretAccessKey) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey },
    maxAttempts: 1,
  });
}

async function refusal(endpoint) {
  const bucket = uniqueBucket();
  await client(endpoint, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    await client(endpoint, "not-the-secret").send(new ListObjectsV2Command({ Bucket: bucket }));
  } catch (e) {
    return e;
  }
  assert.fail("a wrong secret must be refused");
}

test("the SDK parses an explained SignatureDoesNotMatch", async () => {
  await withServer([], async (srv) => {
    const e = await refusal(srv.endpoint);
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.match(e.$response.headers["x-strict-s3-reason"], /^no single change/);
    assert.match(e.Explanation ?? "", /^no single change/, "the SDK keeps unknown error elements");
  });
});

test("--aws-exact-errors sends what AWS sends", async () => {
  await withServer(["--aws-exact-errors"], async (srv) => {
    const e = await refusal(srv.endpoint);
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$response.headers["x-strict-s3-reason"], undefined);
    assert.equal(e.Explanation, undefined);
  });
});
