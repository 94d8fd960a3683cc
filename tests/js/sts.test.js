// STS with the AWS SDK for JavaScript v3's STS client, against the STS strict-s3 serves on
// its S3 port: GetCallerIdentity, GetSessionToken and AssumeRole, their refusals with STS's
// codes and messages, and the temporary credentials they give used by the S3 client until
// they end on the server's clock (moved over HTTP: no sleeping). A presigned URL that
// outlives its session stops with it, and the reason names both times.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ACCESS_KEY, SECRET_KEY, parseError, rejects, withServer } from "./helpers.js";

import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const DEV = { accessKeyId: "AKIADEV0000000000001", secretAccessKey: "devsecret" };
const ROOT = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
const ROLE = "arn:aws:iam::123456789012:role/uploader";

const CONFIG = `
[[users]]
name = "dev"
access_key = "AKIADEV0000000000001"
secret_key = "devsecret"
policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = ["s3:*", "sts:AssumeRole"], Resource = "*" } ] }

[[roles]]
name = "uploader"
max_session_duration = 7200
trust_policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:user/dev" }, Action = "sts:AssumeRole" } ] }
policy = { Version = "2012-10-17", Statement = [ { Effect = "Allow", Action = ["s3:PutObject", "s3:GetObject"], Resource = "arn:aws:s3:::uploads/*" } ] }
`;

function configFile() {
  const dir = mkdtempSync(join(tmpdir(), "strict-s3-sts-"));
  const path = join(dir, "strict-s3.toml");
  writeFileSync(path, CONFIG);
  return path;
}

const sts = (endpoint, credentials) =>
  new STSClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
const s3 = (endpoint, credentials) =>
  new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials, maxAttempts: 1 });
const temporary = (c) => ({
  accessKeyId: c.AccessKeyId,
  secretAccessKey: c.SecretAccessKey,
  sessionToken: c.SessionToken,
});

async function moveClock(endpoint, offsetSeconds) {
  const resp = await fetch(`${endpoint}/_strict/clock`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ offset_seconds: offsetSeconds }),
  });
  assert.equal(resp.status, 200, await resp.text());
}

/** Asserts an SDK error's name (Code), HTTP status and, when given, its message. */
function assertError(err, status, code, message) {
  assert.equal(err.name, code, `${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, err.message);
  if (message !== undefined) assert.equal(err.message, message);
}

test("GetCallerIdentity and GetSessionToken; temporary credentials work for S3 and need their token", async () => {
  await withServer(["--config", configFile()], async (srv) => {
    const dev = sts(srv.endpoint, DEV);
    const me = await dev.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, "arn:aws:iam::123456789012:user/dev");
    assert.equal(me.Account, "123456789012");
    assert.match(me.UserId, /^AIDA/);

    const { Credentials: c } = await dev.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.match(c.AccessKeyId, /^ASIA/);
    assert.ok(c.SessionToken.length > 100);
    const clock = await (await fetch(`${srv.endpoint}/_strict/clock`)).json();
    const lasts = (c.Expiration.getTime() - Date.parse(clock.now)) / 1000;
    assert.ok(lasts > 890 && lasts <= 900, `lasts ${lasts} s`);

    const temp = s3(srv.endpoint, temporary(c));
    await temp.send(new CreateBucketCommand({ Bucket: "js-temp" }));
    await temp.send(new PutObjectCommand({ Bucket: "js-temp", Key: "k", Body: "v" }));
    const got = await temp.send(new GetObjectCommand({ Bucket: "js-temp", Key: "k" }));
    assert.equal(await got.Body.transformToString(), "v");

    const again = await rejects(sts(srv.endpoint, temporary(c)).send(new GetSessionTokenCommand({})));
    assertError(again, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials");

    const noToken = s3(srv.endpoint, { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey });
    assertError(await rejects(noToken.send(new GetObjectCommand({ Bucket: "js-temp", Key: "k" }))),
      403, "InvalidAccessKeyId");
    const wrongToken = s3(srv.endpoint, { ...temporary(c), sessionToken: "not-the-token" });
    assertError(await rejects(wrongToken.send(new GetObjectCommand({ Bucket: "js-temp", Key: "k" }))),
      400, "InvalidToken", "The provided token is malformed or otherwise invalid.");

    assertError(await rejects(sts(srv.endpoint, { ...DEV, secretAccessKey: "wrong" })
      .send(new GetCallerIdentityCommand({}))), 403, "SignatureDoesNotMatch");
    assertError(await rejects(sts(srv.endpoint, { accessKeyId: "AKIANOSUCHKEY0000001", secretAccessKey: "x" })
      .send(new GetCallerIdentityCommand({}))),
      403, "InvalidClientTokenId", "The security token included in the request is invalid");
  });
});

test("AssumeRole: the session is only as powerful as the role, and its presigned URLs end with it", async () => {
  await withServer(["--config", configFile()], async (srv) => {
    await s3(srv.endpoint, DEV).send(new CreateBucketCommand({ Bucket: "uploads" }));
    const dev = sts(srv.endpoint, DEV);
    const out = await dev.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "js-1" }));
    assert.equal(out.AssumedRoleUser.Arn, "arn:aws:sts::123456789012:assumed-role/uploader/js-1");
    assert.match(out.AssumedRoleUser.AssumedRoleId, /^AROA[A-Z2-7]+:js-1$/);
    const role = s3(srv.endpoint, temporary(out.Credentials));
    await role.send(new PutObjectCommand({ Bucket: "uploads", Key: "a.txt", Body: "hello" }));
    const list = await rejects(role.send(new ListObjectsV2Command({ Bucket: "uploads" })));
    assertError(list, 403, "AccessDenied");
    assert.ok(list.message.startsWith(
      "User: arn:aws:sts::123456789012:assumed-role/uploader/js-1 is not authorized to perform: s3:ListBucket",
    ), list.message);

    // A day-long presigned URL from the hour-long session works now...
    const url = await getSignedUrl(role, new GetObjectCommand({ Bucket: "uploads", Key: "a.txt" }),
      { expiresIn: 86400 });
    assert.match(url, /X-Amz-Security-Token=/);
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "hello");
    // ...and not once the session has ended.
    await moveClock(srv.endpoint, 3700);
    const late = await fetch(url);
    const text = await late.text();
    assert.equal(late.status, 400, text);
    const err = parseError(text);
    assert.equal(err.Code, "ExpiredToken");
    assert.equal(err.Message, "The provided token has expired.");
    const reason = late.headers.get("x-strict-s3-reason");
    assert.match(reason, /signed with temporary credentials that expired at /);
    assert.match(reason, /before the URL's own expiry at /);
    // Header-signed calls with the ended session fail the same way.
    assertError(await rejects(role.send(new GetObjectCommand({ Bucket: "uploads", Key: "a.txt" }))),
      400, "ExpiredToken", "The provided token has expired.");
  });
});

test("AssumeRole refusals with STS's codes and messages", async () => {
  await withServer(["--config", configFile()], async (srv) => {
    const dev = sts(srv.endpoint, DEV);
    assertError(await rejects(dev.send(new AssumeRoleCommand({
      RoleArn: ROLE, RoleSessionName: "js-2", DurationSeconds: 600,
    }))), 400, "ValidationError",
    "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: " +
      "Member must have value greater than or equal to 900");
    assertError(await rejects(dev.send(new AssumeRoleCommand({
      RoleArn: ROLE, RoleSessionName: "js-2", DurationSeconds: 7300,
    }))), 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    assertError(await rejects(sts(srv.endpoint, ROOT).send(new AssumeRoleCommand({
      RoleArn: ROLE, RoleSessionName: "js-2",
    }))), 403, "AccessDenied", "Roles may not be assumed by root accounts.");
    assertError(await rejects(dev.send(new AssumeRoleCommand({
      RoleArn: "arn:aws:iam::123456789012:role/nope", RoleSessionName: "js-2",
    }))), 403, "AccessDenied",
    "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole on resource: " +
      "arn:aws:iam::123456789012:role/nope");
    // Within the limits it works, for up to the role's two hours.
    const out = await dev.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "js-2", DurationSeconds: 7200 }));
    assert.match(out.Credentials.AccessKeyId, /^ASIA/);
  });
});
