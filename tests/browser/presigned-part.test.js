// Presigned URLs used by a real browser: headless Chromium PUTs parts and objects with fetch().
//
// Bucket CORS is not implemented yet, so the page is same-origin with the S3 endpoint: it is an
// HTML object, uploaded by the SDK in Node and opened through a presigned GET URL. Its fetch()
// calls are then same-origin requests carrying everything Chromium adds on its own (Origin,
// Referer, Sec-Fetch-*, sec-ch-ua, Accept-Language, a Blob's Content-Type), and it can read the
// ETag header and the error XML. Node creates the presigned URLs and checks the results with the
// SDK. Every positive has a negative twin asserting the status and S3 error Code seen by the page.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

import {
  MiB,
  PATTERN_JS,
  assertPageError,
  md5etag,
  multipartEtag,
  presign,
  randomBytes,
  rejects,
  s3Client,
  screenshot,
  sha256hex,
  uniqueBucket,
  withBrowser,
  withServer,
} from "./helpers.js";

const TEST_TIMEOUT = 60_000;

/** The test page: a table of the requests it made, and put() / sha256() for page.evaluate. */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>strict-s3: presigned uploads from Chromium</title>
<style>
  body { font: 14px/1.4 sans-serif; margin: 24px; }
  table { border-collapse: collapse; margin-top: 12px; }
  th, td { border: 1px solid #999; padding: 4px 8px; text-align: left; vertical-align: top; }
  td.detail { font-family: monospace; font-size: 12px; max-width: 640px; word-break: break-all; }
  tr.ok { background: #e3f6e3; } tr.refused { background: #fbe3e3; }
</style></head>
<body>
<h1>Presigned uploads from Chromium</h1>
<p id="origin"></p>
<table><thead><tr><th>request</th><th>expected</th><th>status</th><th>ETag / error Code</th></tr></thead>
<tbody id="log"></tbody></table>
<script>
${PATTERN_JS}
document.getElementById("origin").textContent = "page origin: " + location.origin;

function row(label, expected, out) {
  const tr = document.createElement("tr");
  tr.className = out.status === 200 ? "ok" : "refused";
  for (const [text, cls] of [[label], [expected], [String(out.status)], [out.etag ?? out.code ?? "", "detail"]]) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  document.getElementById("log").appendChild(tr);
}

/** PUT a Blob to a URL; the status, ETag and (for an error) the fields of S3's XML. */
async function put(label, expected, url, blob) {
  const r = await fetch(url, { method: "PUT", body: blob });
  const text = await r.text();
  const out = { status: r.status, etag: r.headers.get("ETag"), contentType: r.headers.get("Content-Type"), code: null };
  if (r.status !== 200) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    const field = (name) => doc.querySelector("Error > " + name)?.textContent ?? null;
    out.code = field("Code");
    out.message = field("Message");
    out.canonicalRequest = field("CanonicalRequest");
    out.body = text.slice(0, 4000);
  }
  row(label, expected, out);
  return out;
}

async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

window.pageReady = true;
</script>
</body></html>`;

/**
 * Uploads PAGE as an object of the bucket and opens it in Chromium through a presigned GET URL,
 * so the page's origin is the strict-s3 endpoint. Records the PUTs the page sends.
 */
async function openPageOnS3({ s3, endpoint, Bucket, page }) {
  await s3.send(
    new PutObjectCommand({ Bucket, Key: "pages/presigned.html", Body: PAGE, ContentType: "text/html; charset=utf-8" }),
  );
  const pageUrl = await presign(s3, new GetObjectCommand({ Bucket, Key: "pages/presigned.html" }));
  // Every PUT the page sends, with all its headers (allHeaders(): Origin, Sec-Fetch-* included).
  const pending = [];
  page.on("request", (req) => {
    if (req.method() === "PUT") pending.push(req.allHeaders().then((headers) => ({ url: req.url(), headers })));
  });
  const puts = () => Promise.all(pending);
  const resp = await page.goto(pageUrl);
  assert.equal(resp.status(), 200, `GET of the page: ${resp.status()} ${await resp.text()}`);
  assert.equal(resp.headers()["content-type"], "text/html; charset=utf-8");
  await page.waitForFunction(() => window.pageReady === true);
  assert.equal(await page.evaluate(() => location.origin), new URL(endpoint).origin);
  return puts;
}

/** part 1's URL with its (signed) partNumber edited to 2, nothing else touched. */
const editPartNumber = (url, to) => {
  const edited = url.replace(/([?&]partNumber=)1(?=&|$)/, (_, p) => `${p}${to}`);
  assert.notEqual(edited, url, `no partNumber=1 in ${url}`);
  return edited;
};

test("browser: presigned UploadPart URLs PUT from Chromium; part 1's URL edited to part 2 is SignatureDoesNotMatch", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("browser");
  await withServer(["--bucket", Bucket], async ({ endpoint }) => {
    const s3 = s3Client(endpoint);
    const Key = "uploads/from-browser.bin";
    // The bytes the page builds (pattern() in the page is randomBytes() here).
    const specs = [
      { size: 5 * MiB, seed: 31 },
      { size: 1234, seed: 32 },
    ];
    const parts = specs.map(({ size, seed }) => randomBytes(size, seed));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key, ContentType: "application/x-browser-parts" }),
    );
    const urls = [];
    for (const PartNumber of [1, 2]) {
      urls.push(await presign(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber })));
    }
    assert.equal(new URL(urls[0]).searchParams.get("partNumber"), "1");
    assert.equal(new URL(urls[0]).searchParams.get("X-Amz-SignedHeaders"), "host");

    await withBrowser(async ({ page }) => {
      const puts = await openPageOnS3({ s3, endpoint, Bucket, page });

      // Negative twin first: part 1's URL edited to part 2, with part 2's bytes.
      const misuse = await page.evaluate(
        ({ url, spec }) => put("part 1's URL edited to partNumber=2", "403 SignatureDoesNotMatch", url, new Blob([pattern(spec.size, spec.seed)])),
        { url: editPartNumber(urls[0], 2), spec: specs[1] },
      );
      assertPageError(misuse, 403, "SignatureDoesNotMatch");
      assert.match(misuse.contentType ?? "", /^application\/xml/);
      assert.match(misuse.canonicalRequest ?? "", /^PUT\n/, misuse.body);
      assert.match(misuse.canonicalRequest, /[\n&]partNumber=2&/, misuse.canonicalRequest);
      const none = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      assert.deepEqual(none.Parts ?? [], [], "the refused PUT stored no part");

      // The two parts, each through its own URL; the page reads the ETags (same origin).
      const got = await page.evaluate(
        async ({ urls, specs }) => {
          const out = [];
          for (const [i, url] of urls.entries()) {
            const blob = new Blob([pattern(specs[i].size, specs[i].seed)]);
            const r = await put(`UploadPart ${i + 1} (${blob.size} bytes)`, "200 + ETag", url, blob);
            out.push({ ...r, sha256: await sha256(blob), size: blob.size });
          }
          return out;
        },
        { urls, specs },
      );
      for (const [i, r] of got.entries()) {
        assert.equal(r.status, 200, `part ${i + 1}: ${JSON.stringify(r)}`);
        assert.equal(r.size, parts[i].length);
        assert.equal(r.sha256, sha256hex(parts[i]), `the page's part ${i + 1} is not randomBytes(${specs[i].size}, ${specs[i].seed})`);
        assert.equal(r.etag, md5etag(parts[i]), `ETag of part ${i + 1} as the page read it`);
      }

      // What Chromium actually sent: its own unsigned headers rode along and were accepted.
      const partPuts = (await puts()).filter((p) => p.url.includes("uploadId="));
      assert.equal(partPuts.length, 3, JSON.stringify(partPuts, null, 1));
      for (const p of partPuts) {
        assert.equal(p.headers.origin, new URL(endpoint).origin, JSON.stringify(p.headers));
        assert.equal(p.headers["content-type"], undefined, "a Blob without a type sends no Content-Type");
      }

      // Complete in Node; the object is the page's bytes.
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket, Key, UploadId,
          MultipartUpload: { Parts: got.map((r, i) => ({ ETag: r.etag, PartNumber: i + 1 })) },
        }),
      );
      assert.equal(done.ETag, multipartEtag(parts));
      const obj = await s3.send(new GetObjectCommand({ Bucket, Key }));
      assert.equal(obj.ContentType, "application/x-browser-parts");
      const bytes = Buffer.from(await obj.Body.transformToByteArray());
      assert.equal(bytes.length, parts[0].length + parts[1].length);
      assert.equal(sha256hex(bytes), sha256hex(Buffer.concat(parts)));

      await screenshot(page, "presigned-part");
    }, { name: "presigned-part" });
  });
});

test("browser: presigned PutObject with a signed Content-Type from Chromium; another Content-Type is SignatureDoesNotMatch", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("browser");
  await withServer(["--bucket", Bucket], async ({ endpoint }) => {
    const s3 = s3Client(endpoint);
    const Key = "uploads/picture.png";
    const spec = { size: 200_000, seed: 41 };
    const data = randomBytes(spec.size, spec.seed);
    // The presigner signs only host unless told to sign content-type too.
    const url = await presign(s3, new PutObjectCommand({ Bucket, Key, ContentType: "image/png" }), {
      signableHeaders: new Set(["content-type"]),
    });
    assert.equal(new URL(url).searchParams.get("X-Amz-SignedHeaders"), "content-type;host");

    await withBrowser(async ({ page }) => {
      const puts = await openPageOnS3({ s3, endpoint, Bucket, page });

      // Negative twin first: the same URL, a Blob of another type.
      const wrong = await page.evaluate(
        ({ url, spec }) => put("PutObject as image/jpeg (signed: image/png)", "403 SignatureDoesNotMatch", url, new Blob([pattern(spec.size, spec.seed)], { type: "image/jpeg" })),
        { url, spec },
      );
      assertPageError(wrong, 403, "SignatureDoesNotMatch");
      assert.match(wrong.canonicalRequest ?? "", /\ncontent-type:image\/jpeg\n/, wrong.body);
      const head = await rejects(s3.send(new HeadObjectCommand({ Bucket, Key })));
      assert.equal(head?.$metadata?.httpStatusCode, 404, `the refused PUT stored an object: ${head?.stack}`);

      const ok = await page.evaluate(
        ({ url, spec }) => put("PutObject as image/png (signed)", "200 + ETag", url, new Blob([pattern(spec.size, spec.seed)], { type: "image/png" })),
        { url, spec },
      );
      assert.equal(ok.status, 200, JSON.stringify(ok));
      assert.equal(ok.etag, md5etag(data));
      assert.deepEqual(
        (await puts()).map((p) => p.headers["content-type"]),
        ["image/jpeg", "image/png"],
        "Chromium sent each Blob's type as Content-Type",
      );

      const obj = await s3.send(new GetObjectCommand({ Bucket, Key }));
      assert.equal(obj.ContentType, "image/png");
      assert.equal(sha256hex(Buffer.from(await obj.Body.transformToByteArray())), sha256hex(data));

      await screenshot(page, "presigned-put");
    }, { name: "presigned-put" });
  });
});
