// Browser POST uploads (signed policy forms) from a real browser: headless Chromium submits the
// form that @aws-sdk/s3-presigned-post's createPresignedPost generates in Node.
//
// The page is on a second origin (the static test server), as on a real site whose pages are
// not served by S3. The bucket has no CORS configuration (as a new AWS bucket), so only what
// works cross-origin without one is used:
//   1. a classic <form method="post" enctype="multipart/form-data"> whose hidden inputs are the
//      policy fields and whose file <input> Chromium fills (page.setInputFiles): a navigation,
//      which CORS does not govern. Success redirects (success_action_redirect, 303) back to a
//      page of the static origin, whose query carries bucket, key and etag; a refusal leaves the
//      browser on S3's XML error document, read from the page as a user would see it.
//   2. fetch(FormData) with mode: 'no-cors': the POST is sent, but the response is opaque to the
//      page. Node sees the real status through Playwright and checks the bucket with the SDK.
// Every positive has a negative twin (too large, key outside the policy's prefix, a tampered
// signature), each asserting S3's status and Code and that nothing was stored.

import { test } from "node:test";
import assert from "node:assert/strict";

import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

import {
  md5etag,
  parseError,
  randomBytes,
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
const MAX_SIZE = 100_000;
const CONDITION_FAILED = "Invalid according to Policy: Policy Condition failed: ";
const KEY_CONDITION = '["starts-with", "$key", "uploads/"]';
const TOO_LARGE = "Your proposed upload exceeds the maximum allowed size";

/** A small PNG-ish file: the PNG signature, then reproducible bytes. */
const pngish = (size, seed) =>
  Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), randomBytes(size - 8, seed)]);

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const decodePolicy = (fields) => JSON.parse(Buffer.from(fields.Policy, "base64").toString("utf8"));

/** The objects in the bucket, as "key size" lines. */
async function listing(s3, Bucket) {
  const out = await s3.send(new ListObjectsV2Command({ Bucket }));
  return (out.Contents ?? []).map((o) => `${o.Key} ${o.Size}`);
}

async function objectBytes(s3, Bucket, Key) {
  const obj = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return { obj, bytes: Buffer.from(await obj.Body.transformToByteArray()) };
}

// ---------------------------------------------------------------------------------------------
// 1. A classic HTML form

/** The form page: every policy field as a hidden input, then the file input (last: S3 ignores fields after the file). */
const formPage = (url, fields) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strict-s3: POST form upload</title>
<style>body { font: 14px/1.4 sans-serif; margin: 24px; } code { word-break: break-all; }</style></head>
<body>
<h1>Upload a picture</h1>
<p>This page is on <code id="origin"></code>; the form posts to <code>${escapeHtml(url)}</code>.</p>
<form id="upload-form" method="post" enctype="multipart/form-data" action="${escapeHtml(url)}">
${Object.entries(fields)
  .map(([name, value]) => `  <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
  .join("\n")}
  <p><label>File: <input type="file" name="file" accept="image/png"></label></p>
  <p><button id="upload" type="submit">Upload</button></p>
</form>
<script>document.getElementById("origin").textContent = location.origin;</script>
</body></html>`;

/** success_action_redirect's target: shows what S3 appended to its query. */
const DONE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>upload done</title>
<style>body { font: 14px/1.4 sans-serif; margin: 24px; } td { border: 1px solid #999; padding: 4px 8px; font-family: monospace; }
table { border-collapse: collapse; } body { background: #e3f6e3; }</style></head>
<body><h1>Uploaded</h1><table id="q"></table>
<script>
for (const [k, v] of new URLSearchParams(location.search)) {
  const tr = document.createElement("tr");
  for (const text of [k, v]) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
  document.getElementById("q").appendChild(tr);
}
</script></body></html>`;

/**
 * Opens the form, optionally edits it, picks the file and clicks Upload. Resolves to the POST's
 * own response (for a redirect: the 303) and the document the browser landed on.
 */
async function submitForm(page, site, url, file, edit) {
  const resp = await page.goto(site.url("/form.html"));
  assert.equal(resp.status(), 200);
  if (edit) await page.evaluate(edit);
  await page.setInputFiles("input[type=file]", file);
  const nav = page.waitForNavigation({ waitUntil: "load" });
  await page.click("#upload");
  const landed = await nav;
  assert.ok(landed, "clicking Upload did not navigate");
  // The POST itself: the landed response, or the one it was redirected from.
  const postReq = landed.request().redirectedFrom() ?? landed.request();
  assert.equal(postReq.method(), "POST");
  assert.equal(postReq.url(), url);
  return { landed, post: await postReq.response(), postReq };
}

/** What the browser shows for an S3 error document (Chromium's XML viewer), and the XML itself. */
async function errorPage(page, landed, status) {
  assert.equal(landed.status(), status, `status ${landed.status()}: ${await landed.text()}`);
  assert.match(landed.headers()["content-type"] ?? "", /^application\/xml/);
  // The text on screen: Chromium prints the document tree of an XML file without a stylesheet.
  const shown = await page.evaluate(() => document.body.innerText);
  assert.match(shown, /This XML file does not appear to have any style information/, shown);
  return { shown, err: parseError(await landed.text()) };
}

test("browser: a signed POST form on another origin uploads the chosen file and redirects; too large is EntityTooLarge, a key outside the prefix AccessDenied", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("browser");
  await withServer(["--bucket", Bucket], async ({ endpoint }) => {
    const s3 = s3Client(endpoint);
    const site = await startStaticServer({ "/done.html": DONE_PAGE });
    try {
      assert.notEqual(site.origin, new URL(endpoint).origin);
      const redirect = site.url("/done.html");
      const { url, fields } = await createPresignedPost(s3, {
        Bucket,
        Key: "uploads/${filename}",
        Fields: { success_action_redirect: redirect },
        Conditions: [
          ["starts-with", "$key", "uploads/"],
          ["content-length-range", 1, MAX_SIZE],
          { success_action_redirect: redirect },
        ],
        Expires: 600,
      });
      assert.equal(url, `${endpoint}/${Bucket}`);
      assert.equal(fields.key, "uploads/${filename}");
      const { conditions } = decodePolicy(fields);
      assert.deepEqual(
        conditions.filter((c) => Array.isArray(c) || "success_action_redirect" in c),
        [["starts-with", "$key", "uploads/"], ["content-length-range", 1, MAX_SIZE], { success_action_redirect: redirect }],
      );
      site.route("/form.html", formPage(url, fields));

      const small = pngish(2_000, 51);
      const big = pngish(MAX_SIZE + 50_000, 52);

      await withBrowser(async ({ page }) => {
        // Negative twin 1: the key field edited (in the page) to another prefix.
        {
          const { landed, post } = await submitForm(
            page, site, url,
            { name: "avatar.png", mimeType: "image/png", buffer: small },
            () => { document.querySelector("input[name=key]").value = "admin/${filename}"; },
          );
          assert.equal(post, landed, "a refusal is not redirected");
          const { shown, err } = await errorPage(page, landed, 403);
          assert.equal(err.Code, "AccessDenied", JSON.stringify(err));
          assert.equal(err.Message, CONDITION_FAILED + KEY_CONDITION);
          assert.ok(shown.includes("<Code>AccessDenied</Code>"), shown);
          assert.ok(shown.includes(`<Message>${CONDITION_FAILED}${KEY_CONDITION}</Message>`), shown);
          assert.equal(new URL(page.url()).origin, new URL(endpoint).origin);
        }

        // Negative twin 2: a file over the policy's content-length-range.
        {
          const { landed } = await submitForm(page, site, url, { name: "huge.png", mimeType: "image/png", buffer: big });
          const { shown, err } = await errorPage(page, landed, 400);
          assert.equal(err.Code, "EntityTooLarge", JSON.stringify(err));
          assert.equal(err.Message, TOO_LARGE);
          assert.equal(err.MaxSizeAllowed, String(MAX_SIZE));
          // Streaming: the size counted when the limit was passed, at most the file's size.
          const proposed = Number(err.ProposedSize);
          assert.ok(proposed > MAX_SIZE && proposed <= big.length, `ProposedSize ${err.ProposedSize}`);
          assert.ok(shown.includes("<Code>EntityTooLarge</Code>"), shown);
          assert.ok(shown.includes(`<MaxSizeAllowed>${MAX_SIZE}</MaxSizeAllowed>`), shown);
          await screenshot(page, "post-form-rejected");
        }
        assert.deepEqual(await listing(s3, Bucket), [], "a refused form stored an object");

        // The form as generated, with a small file: 303 to success_action_redirect.
        {
          const { landed, post } = await submitForm(page, site, url, { name: "avatar.png", mimeType: "image/png", buffer: small });
          assert.notEqual(post, null);
          assert.equal(post.status(), 303, `POST answered ${post.status()}`);
          assert.equal(post.headers().etag, md5etag(small));
          assert.equal(landed.status(), 200);
          const at = new URL(page.url());
          assert.equal(`${at.origin}${at.pathname}`, redirect, `landed on ${page.url()}`);
          assert.equal(post.headers().location, page.url());
          assert.deepEqual(
            [...at.searchParams],
            [["bucket", Bucket], ["key", "uploads/avatar.png"], ["etag", md5etag(small)]],
            page.url(),
          );
          // The page shows them (the success page's own script read its query).
          assert.deepEqual(
            await page.$$eval("#q tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
            [["bucket", Bucket], ["key", "uploads/avatar.png"], ["etag", md5etag(small)]],
          );
          await screenshot(page, "post-form-success");
        }
      }, { name: "post-form" });

      assert.deepEqual(await listing(s3, Bucket), [`uploads/avatar.png ${small.length}`]);
      const { obj, bytes } = await objectBytes(s3, Bucket, "uploads/avatar.png");
      assert.equal(obj.ETag, md5etag(small));
      assert.equal(sha256hex(bytes), sha256hex(small), "the stored object is not the file Chromium sent");
      // The static origin served the form three times and the success page once.
      assert.deepEqual(
        site.requests.map((r) => `${r.method} ${new URL(r.url, "http://x").pathname}`).filter((l) => l !== "GET /favicon.ico"),
        ["GET /form.html", "GET /form.html", "GET /form.html", "GET /done.html"],
      );
    } finally {
      await site.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2. fetch(FormData), mode: 'no-cors'

const FETCH_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strict-s3: POST with fetch, no-cors</title>
<style>body { font: 14px/1.4 sans-serif; margin: 24px; } td { border: 1px solid #999; padding: 4px 8px; }
table { border-collapse: collapse; }</style></head>
<body><h1>fetch(FormData), mode: 'no-cors'</h1>
<table><thead><tr><th>file</th><th>response.type</th><th>response.status</th></tr></thead><tbody id="log"></tbody></table>
<script>
/** POSTs the policy fields and the file (last) as multipart/form-data. */
async function send(url, fields, name, bytes) {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/png" }), name);
  // mode: 'no-cors' because the bucket has no CORS configuration: the response is opaque (type
  // "opaque", status 0, no headers, an empty body), so the page cannot tell an upload from a
  // refusal. A cors-mode fetch to a bucket whose CORS rules allow this origin makes it readable
  // (tests/browser/cors.test.js, with bucket CORS).
  const r = await fetch(url, { method: "POST", body: form, mode: "no-cors" });
  const out = { type: r.type, status: r.status, ok: r.ok, body: await r.text(), headers: [...r.headers] };
  const tr = document.createElement("tr");
  for (const text of [name, out.type, String(out.status)]) {
    const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
  }
  document.getElementById("log").appendChild(tr);
  return out;
}
window.pageReady = true;
</script></body></html>`;

const OPAQUE = { type: "opaque", status: 0, ok: false, body: "", headers: [] };

test("browser: fetch(FormData) with mode no-cors from another origin uploads through a signed POST policy (opaque response); a tampered signature stores nothing", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("browser");
  await withServer(["--bucket", Bucket], async ({ endpoint, log }) => {
    const s3 = s3Client(endpoint);
    const site = await startStaticServer({ "/": FETCH_PAGE });
    try {
      const { url, fields } = await createPresignedPost(s3, {
        Bucket,
        Key: "uploads/${filename}",
        Fields: { success_action_status: "201" },
        Conditions: [["starts-with", "$key", "uploads/"], ["content-length-range", 1, MAX_SIZE]],
        Expires: 600,
      });
      const good = Object.entries(fields);
      const tampered = Object.entries({ ...fields, "X-Amz-Signature": tamper(fields["X-Amz-Signature"]) });
      assert.notEqual(tampered.at(-1)[1], fields["X-Amz-Signature"]);
      const file = pngish(3_000, 61);

      await withBrowser(async ({ page }) => {
        const resp = await page.goto(site.url("/"));
        assert.equal(resp.status(), 200);
        await page.waitForFunction(() => window.pageReady === true);

        /**
         * Runs send() in the page; also returns the server's status as Playwright saw it. Only the
         * status: Chromium's Opaque Response Blocking withholds an opaque XML response's headers
         * and body even from the DevTools protocol (the request is reported as net::ERR_ABORTED),
         * so Node checks the result with the SDK instead.
         */
        const post = async (formFields, name) => {
          const seen = page.waitForResponse((r) => r.request().method() === "POST" && r.url() === url);
          const inPage = await page.evaluate(
            ({ url, formFields, name, bytes }) => send(url, formFields, name, bytes),
            { url, formFields, name, bytes: [...file] },
          );
          const wire = await seen;
          return { inPage, wire, headers: wire.request().headers() };
        };

        // Negative twin first: the signature changed by one character.
        const bad = await post(tampered, "tampered.png");
        assert.deepEqual(bad.inPage, OPAQUE, "a no-cors response must be opaque to the page");
        assert.equal(bad.wire.status(), 403, "what the server answered (invisible to the page)");
        // The Code, which neither the page nor the DevTools protocol can read: the server's log line.
        assert.match(log(), new RegExp(`POST /${Bucket} → 403 SignatureDoesNotMatch .*op=PostObject`), log());
        assert.deepEqual(await listing(s3, Bucket), [], "the tampered form stored an object");

        const ok = await post(good, "from-fetch.png");
        assert.deepEqual(ok.inPage, OPAQUE, "a no-cors response must be opaque to the page");
        assert.equal(ok.wire.status(), 201, "success_action_status 201 (invisible to the page)");
        // What Chromium sent (the headers it reports before sending; the rest were never reported
        // for this aborted-by-ORB request): multipart/form-data from the page on the static origin.
        assert.match(ok.headers["content-type"], /^multipart\/form-data; boundary=/);
        assert.equal(ok.headers.referer, site.url("/"));

        await screenshot(page, "post-form-fetch");
      }, { name: "post-form-fetch" });

      // Node checks what the page could not see.
      assert.deepEqual(await listing(s3, Bucket), [`uploads/from-fetch.png ${file.length}`]);
      const { obj, bytes } = await objectBytes(s3, Bucket, "uploads/from-fetch.png");
      assert.equal(obj.ETag, md5etag(file));
      assert.equal(sha256hex(bytes), sha256hex(file));
    } finally {
      await site.close();
    }
  });
});
