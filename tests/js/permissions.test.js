// Permissions with the AWS SDK for JavaScript v3: the presigned-URL tutorial's IAM user, whose
// identity policy allows only s3:GetObject and s3:PutObject on one bucket. What it allows
// works, through the client and through URLs it presigns; everything else is 403 AccessDenied
// with AWS's same-account wording.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { REGION, rejects, withServer } from "./helpers.js";

import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const USER_KEY = "AKIAJSTUTORIALUSER00";
const USER_SECRET = "js-tutorial-user-secret";
const BUCKET = "uploads-js";

function userClient(endpoint) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: USER_KEY, secretAccessKey: USER_SECRET },
    maxAttempts: 1,
  });
}

function policyFile() {
  const dir = mkdtempSync(join(tmpdir(), "strict-s3-policy-"));
  const path = join(dir, "uploader.json");
  writeFileSync(path, JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: `arn:aws:s3:::${BUCKET}/*`,
    }],
  }));
  return path;
}

const denied = (action, resource) =>
  `User: arn:aws:iam::123456789012:user/uploader is not authorized to perform: ${action} ` +
  `on resource: "${resource}" because no identity-based policy allows the ${action} action`;

test("the tutorial user may put and get, and nothing else, through the client and its URLs", async () => {
  const args = ["--bucket", BUCKET, "--user", `uploader:${USER_KEY}:${USER_SECRET}:${policyFile()}`];
  await withServer(args, async (srv) => {
    const s3 = userClient(srv.endpoint);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "a.txt", Body: "hello" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "a.txt" }));
    assert.equal(await got.Body.transformToString(), "hello");

    const del = await rejects(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "a.txt" })));
    assert.equal(del.$metadata.httpStatusCode, 403);
    assert.equal(del.name, "AccessDenied");
    assert.equal(del.message, denied("s3:DeleteObject", `arn:aws:s3:::${BUCKET}/a.txt`));
    const list = await rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET })));
    assert.equal(list.$metadata.httpStatusCode, 403);
    assert.equal(list.name, "AccessDenied");

    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: "b.txt" }), { expiresIn: 300 });
    assert.equal((await fetch(putUrl, { method: "PUT", body: "via url" })).status, 200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: "b.txt" }), { expiresIn: 300 });
    const resp = await fetch(getUrl);
    assert.equal(resp.status, 200);
    assert.equal(await resp.text(), "via url");
    const delUrl = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket: BUCKET, Key: "b.txt" }), { expiresIn: 300 });
    const refused = await fetch(delUrl, { method: "DELETE" });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  });
});
