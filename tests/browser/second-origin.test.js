// A page served from a second origin (the static test server, not strict-s3): with no CORS
// configuration on the bucket, as on AWS, Chromium lets the page neither read a presigned GET
// nor send a presigned PUT, though both URLs work outside a browser. This is the baseline the
// bucket-CORS tests build on, and it exercises startStaticServer.

import { test } from "node:test";
import assert from "node:assert/strict";

import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";

import { presign, rejects, s3Client, startStaticServer, uniqueBucket, withBrowser, withServer } from "./helpers.js";

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>second origin</title></head>
<body><h1>A page on a second origin</h1>
<script>
async function attempt(url, init) {
  try {
    const r = await fetch(url, init);
    return { ok: true, status: r.status, body: await r.text() };
  } catch (e) {
    return { ok: false, error: e.name + ": " + e.message };
  }
}
window.pageReady = true;
</script></body></html>`;

test("browser: a page on another origin cannot use presigned GET/PUT URLs of a bucket without CORS configuration", { timeout: 60_000 }, async () => {
  const Bucket = uniqueBucket("browser");
  await withServer(["--bucket", Bucket], async ({ endpoint }) => {
    const s3 = s3Client(endpoint);
    await s3.send(new PutObjectCommand({ Bucket, Key: "readable.txt", Body: "secret-ish", ContentType: "text/plain" }));
    const getUrl = await presign(s3, new GetObjectCommand({ Bucket, Key: "readable.txt" }));
    const putUrl = await presign(s3, new PutObjectCommand({ Bucket, Key: "written-cross-origin.txt" }));
    // Outside a browser the GET URL works (the refusals below are the browser's CORS checks).
    const direct = await fetch(getUrl);
    assert.equal(direct.status, 200);
    assert.equal(await direct.text(), "secret-ish");

    const site = await startStaticServer({ "/": PAGE });
    try {
      assert.notEqual(site.origin, new URL(endpoint).origin);
      await withBrowser(async ({ page }) => {
        const resp = await page.goto(site.url("/"));
        assert.equal(resp.status(), 200);
        await page.waitForFunction(() => window.pageReady === true);
        assert.equal(await page.evaluate(() => location.origin), site.origin);

        // A simple GET is sent, but its response carries no Access-Control-Allow-Origin: blocked.
        const read = await page.evaluate((url) => attempt(url), getUrl);
        assert.equal(read.ok, false, `the page read a cross-origin object: ${JSON.stringify(read)}`);
        assert.match(read.error, /^TypeError: /);

        // A PUT needs a preflight, which a bucket without CORS configuration does not grant.
        const write = await page.evaluate(
          (url) => attempt(url, { method: "PUT", body: new Blob(["from another origin"]) }),
          putUrl,
        );
        assert.equal(write.ok, false, `the page wrote cross-origin: ${JSON.stringify(write)}`);
        assert.match(write.error, /^TypeError: /);
      }, { name: "second-origin" });
      const head = await rejects(s3.send(new HeadObjectCommand({ Bucket, Key: "written-cross-origin.txt" })));
      assert.equal(head?.$metadata?.httpStatusCode, 404, "the preflight failed, so no PUT may have been sent");
      assert.deepEqual(
        site.requests.map((r) => `${r.method} ${r.url}`).filter((l) => l !== "GET /favicon.ico"),
        ["GET /"],
      );
    } finally {
      await site.close();
    }
  });
});
