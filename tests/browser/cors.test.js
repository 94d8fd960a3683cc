// Bucket CORS in a real browser: a page on a second origin (the static test server) uses the
// bucket the way a web app does, with plain fetch() in normal "cors" mode:
//   1. a presigned PUT (SigV4, Content-Type signed) of a Blob with that Content-Type: not a
//      "simple" request, so Chromium preflights it (OPTIONS) first;
//   2. a signed POST policy form (createPresignedPost in Node) sent as fetch(FormData): a simple
//      request, no preflight; the page reads the 201 PostResponse XML;
//   3. a presigned GET of the uploaded object; the page reads the exposed ETag header;
//   4. the same GET with a tampered signature: the page reads S3's 403 XML (SignatureDoesNotMatch).
// Twice: with a configuration that allows the page's origin (PutBucketCors from Node), every step
// works; with one that allows only another origin (--cors-allow-origin at start), Chromium
// blocks every step (fetch rejects with a TypeError). Node then checks what the blocked requests
// did on the server: the PUT's preflight was refused, so the PUT was never sent and nothing was
// stored; the POST, a simple request, was sent and stored, only its answer was kept from the page.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";

import {
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

import {
  ARTIFACTS,
  PATTERN_JS,
  md5etag,
  presign,
  randomBytes,
  rejects,
  replaceQuery,
  s3Client,
  screenshot,
  sha256hex,
  startStaticServer,
  tamper,
  uniqueBucket,
  withBrowser,
  withServer,
} from "./helpers.js";

const TEST_TIMEOUT = 60_000;
const OTHER_ORIGIN = "http://localhost:3000";
const PUT_SPEC = { size: 150_000, seed: 71, type: "image/png" };
const POST_SPEC = { size: 20_000, seed: 72, type: "image/png", name: "posted.png" };

/** The README's configuration, for the page's origin. */
const corsConfiguration = (origin) => ({
  CORSRules: [
    {
      AllowedOrigins: [origin],
      AllowedMethods: ["GET", "PUT", "POST", "HEAD"],
      AllowedHeaders: ["*"],
      ExposeHeaders: ["ETag"],
      MaxAgeSeconds: 3000,
    },
  ],
});

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>strict-s3: bucket CORS from another origin</title>
<style>
  body { font: 14px/1.4 sans-serif; margin: 24px; }
  table { border-collapse: collapse; margin-top: 12px; }
  th, td { border: 1px solid #999; padding: 4px 8px; text-align: left; vertical-align: top; }
  td.detail { font-family: monospace; font-size: 12px; max-width: 560px; word-break: break-all; }
  tr.ok { background: #e3f6e3; } tr.error { background: #fff3cd; } tr.blocked { background: #fbe3e3; }
</style></head>
<body>
<h1>Bucket CORS: fetch() from another origin</h1>
<p id="origin"></p>
<table><thead><tr><th>request</th><th>result</th><th>what the page can read</th></tr></thead>
<tbody id="log"></tbody></table>
<script>
${PATTERN_JS}
document.getElementById("origin").textContent = "page origin: " + location.origin;

function row(label, out) {
  const tr = document.createElement("tr");
  // green: read a success; amber: read S3's error; red: blocked by the browser.
  tr.className = !out.ok ? "blocked" : out.status >= 400 ? "error" : "ok";
  const detail = out.ok
    ? Object.entries(out).filter(([k]) => !["ok", "body"].includes(k)).map(([k, v]) => k + "=" + v).join("  ")
    : out.error;
  for (const [text, cls] of [[label], [out.ok ? "HTTP " + out.status : "blocked"], [detail, "detail"]]) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  document.getElementById("log").appendChild(tr);
  return out;
}

/** fetch(), then read(response) → fields; a rejected fetch is { ok: false, error }. */
async function attempt(label, url, init, read) {
  try {
    const r = await fetch(url, init);
    return row(label, { ok: true, status: r.status, ...(await read(r)) });
  } catch (e) {
    return row(label, { ok: false, error: e.name + ": " + e.message });
  }
}

const xmlField = (doc, path) => doc.querySelector(path)?.textContent ?? null;

async function sha256(buf) {
  const digest = await crypto.subtle.digest("SHA-256", buf);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** 1. A presigned PUT of a Blob, with the Content-Type the URL was signed for. */
function putBlob(url, spec) {
  const blob = new Blob([pattern(spec.size, spec.seed)], { type: spec.type });
  return attempt("PUT presigned URL (preflighted)", url, { method: "PUT", headers: { "Content-Type": spec.type }, body: blob },
    async (r) => ({ etag: r.headers.get("ETag"), body: await r.text() }));
}

/** 2. The POST policy form: the fields, then the file, as multipart/form-data. */
function postForm(url, fields, spec) {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  form.append("file", new File([pattern(spec.size, spec.seed)], spec.name, { type: spec.type }));
  return attempt("POST policy form (FormData)", url, { method: "POST", body: form }, async (r) => {
    const text = await r.text();
    const doc = new DOMParser().parseFromString(text, "application/xml");
    return {
      root: doc.documentElement.nodeName,
      location: xmlField(doc, "PostResponse > Location"),
      bucket: xmlField(doc, "PostResponse > Bucket"),
      key: xmlField(doc, "PostResponse > Key"),
      etag: xmlField(doc, "PostResponse > ETag"),
      etagHeader: r.headers.get("ETag"),
      body: text,
    };
  });
}

/** 3. A presigned GET: the exposed ETag, a header the rule does not expose, the bytes. */
function getObject(url) {
  return attempt("GET presigned URL", url, {}, async (r) => ({
    etag: r.headers.get("ETag"),
    requestId: r.headers.get("x-amz-request-id"),
    contentType: r.headers.get("Content-Type"),
    sha256: await sha256(await r.arrayBuffer()),
  }));
}

/** 4. A refused request: S3's error XML. */
function getError(url) {
  return attempt("GET with a tampered signature", url, {}, async (r) => {
    const text = await r.text();
    const doc = new DOMParser().parseFromString(text, "application/xml");
    return { code: xmlField(doc, "Error > Code"), message: xmlField(doc, "Error > Message"), body: text.slice(0, 3000) };
  });
}

window.pageReady = true;
</script>
</body></html>`;

/** The server's request log lines, without terminal colours. */
const requestLines = (srv) =>
  srv
    .log(500)
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .filter((l) => l.includes(" → "));

/**
 * Prepares the URLs the page uses (Node signs everything; the page holds no credentials), opens
 * the page on the static origin and runs the four requests in order.
 */
async function runPage({ s3, endpoint, Bucket, site, page, tag }) {
  const putKey = `uploads/${tag}-put.png`;
  // requestChecksumCalculation WHEN_REQUIRED: the presigned URL then carries no x-amz-checksum-crc32
  // of an empty body (README, "Uploads as SDKs send them").
  const signer = s3Client(endpoint, { requestChecksumCalculation: "WHEN_REQUIRED" });
  const putUrl = await presign(signer, new PutObjectCommand({ Bucket, Key: putKey, ContentType: PUT_SPEC.type }), {
    signableHeaders: new Set(["content-type"]),
  });
  assert.equal(new URL(putUrl).searchParams.get("X-Amz-SignedHeaders"), "content-type;host");
  const { url: postUrl, fields } = await createPresignedPost(s3, {
    Bucket,
    Key: `uploads/${tag}-\${filename}`,
    Fields: { success_action_status: "201", "Content-Type": POST_SPEC.type },
    Conditions: [
      ["starts-with", "$key", "uploads/"],
      ["starts-with", "$Content-Type", "image/"],
      ["content-length-range", 1, 1_048_576],
    ],
    Expires: 600,
  });
  const getUrl = await presign(s3, new GetObjectCommand({ Bucket, Key: putKey }));
  const badUrl = replaceQuery(getUrl, { "X-Amz-Signature": tamper(new URL(getUrl).searchParams.get("X-Amz-Signature")) });

  const resp = await page.goto(site.url("/"));
  assert.equal(resp.status(), 200);
  await page.waitForFunction(() => window.pageReady === true);
  assert.equal(await page.evaluate(() => location.origin), site.origin);
  assert.notEqual(site.origin, new URL(endpoint).origin);

  const put = await page.evaluate(({ url, spec }) => putBlob(url, spec), { url: putUrl, spec: PUT_SPEC });
  const post = await page.evaluate(
    ({ url, fields, spec }) => postForm(url, fields, spec),
    { url: postUrl, fields: Object.entries(fields), spec: POST_SPEC },
  );
  const get = await page.evaluate((url) => getObject(url), getUrl);
  const error = await page.evaluate((url) => getError(url), badUrl);
  return {
    put,
    post,
    get,
    error,
    putKey,
    postKey: `uploads/${tag}-${POST_SPEC.name}`,
    paths: { put: new URL(putUrl).pathname, post: new URL(postUrl).pathname, get: new URL(getUrl).pathname },
  };
}

test("browser CORS: a configuration allowing the page's origin lets it PUT (preflighted), POST a form, read an exposed ETag and read S3's 403 XML", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("cors");
  await withServer(["--bucket", Bucket], async (srv) => {
    const { endpoint } = srv;
    const s3 = s3Client(endpoint);
    const site = await startStaticServer({ "/": PAGE });
    try {
      await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: corsConfiguration(site.origin) }));
      const stored = await s3.send(new GetBucketCorsCommand({ Bucket }));
      assert.deepEqual(stored.CORSRules[0].AllowedOrigins, [site.origin]);

      await withBrowser(async ({ page }) => {
        const r = await runPage({ s3, endpoint, Bucket, site, page, tag: "allowed" });
        const putData = randomBytes(PUT_SPEC.size, PUT_SPEC.seed);
        const postData = randomBytes(POST_SPEC.size, POST_SPEC.seed);

        // 1. The PUT: stored with its signed Content-Type; the page read the exposed ETag.
        assert.equal(r.put.ok, true, JSON.stringify(r.put));
        assert.equal(r.put.status, 200, JSON.stringify(r.put));
        assert.equal(r.put.etag, md5etag(putData));
        const obj = await s3.send(new GetObjectCommand({ Bucket, Key: r.putKey }));
        assert.equal(obj.ContentType, PUT_SPEC.type);
        assert.equal(sha256hex(Buffer.from(await obj.Body.transformToByteArray())), sha256hex(putData));

        // 2. The POST form: the page read the 201 PostResponse.
        assert.equal(r.post.ok, true, JSON.stringify(r.post));
        assert.equal(r.post.status, 201, r.post.body);
        assert.equal(r.post.root, "PostResponse", r.post.body);
        assert.equal(r.post.bucket, Bucket);
        assert.equal(r.post.key, r.postKey);
        assert.equal(r.post.etag, md5etag(postData));
        // S3 percent-encodes the key's slash in Location (eddturtle/direct-upload-s3-signaturev4#4,
        // ceph/ceph#20330 quote real PostResponses: ".../folder%2F1472550586248.jpg").
        assert.equal(r.post.location, `${endpoint}/${Bucket}/${r.postKey.replace("/", "%2F")}`);
        assert.equal(r.post.etagHeader, md5etag(postData), "ETag is exposed on the POST's answer too");
        const posted = await s3.send(new HeadObjectCommand({ Bucket, Key: r.postKey }));
        assert.equal(posted.ETag, md5etag(postData));
        assert.equal(posted.ContentType, POST_SPEC.type);

        // 3. The GET: ETag is exposed; x-amz-request-id is not (the rule exposes only ETag);
        // Content-Type is CORS-safelisted.
        assert.equal(r.get.ok, true, JSON.stringify(r.get));
        assert.equal(r.get.status, 200);
        assert.equal(r.get.etag, md5etag(putData));
        assert.equal(r.get.requestId, null, "a header the rule does not expose is hidden from the page");
        assert.equal(r.get.contentType, PUT_SPEC.type);
        assert.equal(r.get.sha256, sha256hex(putData));

        // 4. The 403: the page read S3's error document.
        assert.equal(r.error.ok, true, JSON.stringify(r.error));
        assert.equal(r.error.status, 403, r.error.body);
        assert.equal(r.error.code, "SignatureDoesNotMatch", r.error.body);

        // On the server: one preflight, for the PUT only (the POST form and the GETs are simple
        // requests), granted, then the PUT itself.
        const lines = requestLines(srv);
        const options = lines.filter((l) => / OPTIONS /.test(l));
        assert.equal(options.length, 1, lines.join("\n"));
        assert.ok(options[0].includes(`OPTIONS ${r.paths.put} → 200 Preflight`), options[0]);
        assert.ok(lines.some((l) => l.includes(`PUT ${r.paths.put} → 200 PutObject`)), lines.join("\n"));
        assert.ok(lines.some((l) => l.includes(`POST ${r.paths.post} → 201 PostObject`)), lines.join("\n"));

        assert.ok(/\bpage origin: http:\/\/127\.0\.0\.1:\d+/.test(await page.textContent("#origin")));
        await screenshot(page, "cors-allowed");
      }, { name: "cors-allowed" });
    } finally {
      await site.close();
    }
  });
});

test("browser CORS: a configuration allowing only another origin makes Chromium block all four; the preflighted PUT is never sent, the simple POST is", { timeout: TEST_TIMEOUT }, async (t) => {
  const Bucket = uniqueBucket("cors");
  // This time the configuration comes from --cors-allow-origin, for an origin that is not the page's.
  await withServer(["--bucket", Bucket, "--cors-allow-origin", OTHER_ORIGIN], async (srv) => {
    const { endpoint } = srv;
    const s3 = s3Client(endpoint);
    const stored = await s3.send(new GetBucketCorsCommand({ Bucket }));
    assert.deepEqual(stored.CORSRules.map((rule) => rule.AllowedOrigins), [[OTHER_ORIGIN]]);
    const site = await startStaticServer({ "/": PAGE });
    try {
      assert.notEqual(site.origin, OTHER_ORIGIN);
      await withBrowser(async ({ page }) => {
        const consoleLines = [];
        page.on("console", (m) => consoleLines.push({ type: m.type(), text: m.text() }));

        const r = await runPage({ s3, endpoint, Bucket, site, page, tag: "blocked" });
        for (const [name, out] of Object.entries({ put: r.put, post: r.post, get: r.get, error: r.error })) {
          assert.equal(out.ok, false, `${name} was not blocked: ${JSON.stringify(out)}`);
          assert.equal(out.error, "TypeError: Failed to fetch", `${name}: ${out.error}`);
        }

        // The PUT: its preflight was refused, so Chromium never sent it and nothing was stored.
        const head = await rejects(s3.send(new HeadObjectCommand({ Bucket, Key: r.putKey })));
        assert.equal(head?.$metadata?.httpStatusCode, 404, "the preflight failed, so no PUT may have been sent");
        const lines = requestLines(srv);
        const preflight = lines.filter((l) => l.includes(`OPTIONS ${r.paths.put} → 403 AccessForbidden`));
        assert.equal(preflight.length, 1, lines.join("\n"));
        assert.ok(preflight[0].includes("op=Preflight: CORSResponse: This CORS request is not allowed."), preflight[0]);
        assert.ok(!lines.some((l) => l.includes(`PUT ${r.paths.put}`)), `the PUT reached the server:\n${lines.join("\n")}`);

        // The POST form: a simple request, so it was sent (no preflight) and S3 stored the file;
        // only the 201 was kept from the page, for want of Access-Control-Allow-Origin.
        const posted = await s3.send(new HeadObjectCommand({ Bucket, Key: r.postKey }));
        assert.equal(posted.ETag, md5etag(randomBytes(POST_SPEC.size, POST_SPEC.seed)));
        assert.ok(lines.some((l) => l.includes(`POST ${r.paths.post} → 201 PostObject`)), lines.join("\n"));
        // The GETs were sent and answered too (404: the PUT never happened; then 403).
        assert.ok(lines.some((l) => l.includes(`GET ${r.paths.get} → 404 NoSuchKey`)), lines.join("\n"));
        assert.ok(lines.some((l) => l.includes(`GET ${r.paths.get} → 403 SignatureDoesNotMatch`)), lines.join("\n"));
        assert.equal(lines.filter((l) => / OPTIONS /.test(l)).length, 1, "only the PUT was preflighted");

        // What a developer sees in the console: one CORS error per blocked request.
        const cors = consoleLines.filter((l) => l.type === "error" && /has been blocked by CORS policy/.test(l.text));
        const origin = site.origin.replace(/[.]/g, "\\.");
        const preflightLine = cors.find((l) =>
          new RegExp(`^Access to fetch at '${endpoint}${r.paths.put}\\?[^']+' from origin '${origin}' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource\\.`).test(l.text),
        );
        assert.ok(preflightLine, `no preflight CORS error in the console:\n${consoleLines.map((l) => `${l.type}: ${l.text}`).join("\n")}`);
        const postLine = cors.find((l) => l.text.startsWith(`Access to fetch at '${endpoint}${r.paths.post}' from origin '${site.origin}' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.`));
        assert.ok(postLine, `no CORS error for the POST:\n${cors.map((l) => l.text).join("\n")}`);
        assert.equal(cors.filter((l) => l.text.includes(`${endpoint}${r.paths.get}?`) && l.text.includes("x-id=GetObject")).length, 2, cors.map((l) => l.text).join("\n"));
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(
          resolve(ARTIFACTS, "cors-blocked-console.txt"),
          consoleLines.map((l) => `console.${l.type}: ${l.text}`).join("\n") + "\n",
        );
        t.diagnostic(`console: ${postLine.text}`);
        t.diagnostic(`console: ${preflightLine.text}`);

        await screenshot(page, "cors-blocked");
      }, { name: "cors-blocked" });
    } finally {
      await site.close();
    }
  });
});
