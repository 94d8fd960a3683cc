// The request inspector (GET /_strict/, polling GET /_strict/requests) in a real browser, and the
// `strict-s3 presign post --format html` form submitted from one.
//
// 1. One server whose clock runs two hours ahead (--clock-offset 7200) gets four requests from
//    Node: an accepted PutObject (the SDK signs at the server's time: systemClockOffset), a URL
//    presigned for GET (at the server's time) used once for GET (200) and then sent as PUT → 403
//    SignatureDoesNotMatch, and a GET
//    URL presigned at this machine's time for one hour → expired an hour ago at the server's time
//    → 403 AccessDenied. Chromium opens /_strict/ and the test reads what a user would: the list
//    newest first, the refused request's status, code, "Why:" reason naming the method, the
//    checklist (signature failed, every earlier step passed, the later ones not reached), and for
//    the expired URL the validity window's state "expired". The JSON never holds the secret key.
// 2. `strict-s3 presign post s3://BUCKET/uploads/ --max-size 1MB --content-type image/ --format html`
//    prints a page with a form; served from a second origin, Chromium picks a PNG and submits it
//    (201 PostResponse), and Node finds the object with its bytes and the file's Content-Type.
//    Negative twins: a file over the limit (400 EntityTooLarge) and a non-image (403, the
//    Content-Type condition) store nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";

import {
  ACCESS_KEY,
  REGION,
  SECRET_KEY,
  SIG_MISMATCH,
  EXPIRED,
  assertHttpError,
  md5etag,
  parseError,
  presign,
  randomBytes,
  s3Client,
  screenshot,
  serverBinary,
  startStaticServer,
  uniqueBucket,
  withBrowser,
  withServer,
} from "./helpers.js";

const TEST_TIMEOUT = 60_000;
const OFFSET_S = 7200;

/** The steps of the inspector's checklist, in the server's order (error::Check::ALL, then the
 * operation): the authentication checks, the access decision, the payload. */
const STEPS = [
  "parameters",
  "credential scope",
  "access key",
  "time",
  "security token",
  "signed headers",
  "signature",
  "access",
  "payload",
  "operation",
];

/** The checklist the server should show for a request refused at step `failed`. */
const expectedChecks = (failed) =>
  STEPS.map((name, i) => [name, i < STEPS.indexOf(failed) ? "passed" : i === STEPS.indexOf(failed) ? "failed" : "notreached"]);

/** Polls fn() until it returns a truthy value (the page re-renders every second). */
async function eventually(fn, what, timeout = 5_000) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) assert.fail(`${what}: not so within ${timeout} ms (last: ${last?.message ?? JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the detail pane shows: heading, status line, reason, checklist, window state. */
const readDetail = (page) =>
  page.evaluate(() => {
    const d = document.getElementById("detail");
    const statusLine = d.querySelector(":scope > p:has(> .status)");
    return {
      heading: d.querySelector("h2")?.textContent ?? null,
      meta: d.querySelector(".meta")?.textContent ?? null,
      status: statusLine?.querySelector(".status")?.textContent ?? null,
      statusClass: statusLine?.querySelector(".status")?.className ?? null,
      statusLine: statusLine?.textContent.replace(/\s+/g, " ").trim() ?? null,
      reason: document.getElementById("reason")?.textContent.replace(/\s+/g, " ").trim() ?? null,
      reasonVisible: (() => {
        const r = document.getElementById("reason")?.getBoundingClientRect();
        return !!r && r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight;
      })(),
      checks: [...d.querySelectorAll("ol.checks > li")].map((li) => [li.firstChild.textContent.trim(), li.className]),
      windowState: document.getElementById("window-state")?.textContent ?? null,
    };
  });

/**
 * Clicks the row of this request id until the detail pane shows it (the list is re-rendered every
 * second, so a click can land on a row that is replaced between mousedown and mouseup); returns
 * readDetail's result.
 */
async function select(page, id) {
  return eventually(async () => {
    const d = await readDetail(page);
    if (d.meta?.includes(` ${id} `)) return d;
    await page.click(`#list > li[data-id="${id}"]`, { timeout: 2_000 });
    return false;
  }, `the detail shows request ${id}`);
}

/** The list's rows, top to bottom: [request id, text]. */
const readList = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("#list > li")].map((li) => [li.dataset.id, li.textContent.replace(/\s+/g, " ").trim()]),
  );

test("inspector page: newest first, a refused request's reason, checklist and validity window", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("insp");
  await withServer(["--bucket", Bucket, "--clock-offset", String(OFFSET_S)], async (srv) => {
    const serverNow = () => new Date(Date.now() + OFFSET_S * 1000);
    // Signs as a client whose clock agrees with the server's.
    const s3 = s3Client(srv.endpoint, { systemClockOffset: OFFSET_S * 1000 });
    const Key = "reports/q1.txt";

    // 1. Accepted.
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: "quarterly numbers", ContentType: "text/plain" }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    const putId = put.$metadata.requestId;
    assert.match(putId, /^[0-9A-F]{16}$/);

    // 2. Presigned for GET, sent as PUT.
    const getUrl = await presign(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 900, signingDate: serverNow() });
    assert.equal((await fetch(getUrl)).status, 200, "the URL itself is good for GET");
    const asPut = await fetch(getUrl, { method: "PUT", body: "overwritten" });
    const mismatchId = asPut.headers.get("x-amz-request-id");
    const mismatchErr = await assertHttpError(asPut, 403, "SignatureDoesNotMatch", SIG_MISMATCH);
    assert.equal(mismatchErr.RequestId, mismatchId);

    // 3. Presigned at this machine's time for an hour: at the server's time (+2 h) it expired an hour ago.
    const staleUrl = await presign(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 3600, signingDate: new Date() });
    const stale = await fetch(staleUrl);
    const expiredId = stale.headers.get("x-amz-request-id");
    await assertHttpError(stale, 403, "AccessDenied", EXPIRED);

    // The JSON, as Node sees it: the four requests newest first, and no secret anywhere.
    const jsonResp = await fetch(`${srv.endpoint}/_strict/requests`);
    assert.equal(jsonResp.status, 200);
    assert.equal(jsonResp.headers.get("content-type"), "application/json");
    const jsonText = await jsonResp.text();
    for (const secret of [SECRET_KEY, encodeURIComponent(SECRET_KEY), SECRET_KEY.slice(0, 12)]) {
      assert.ok(!jsonText.includes(secret), `/_strict/requests contains the secret key (${secret})`);
    }
    assert.ok(!/authorization/i.test(jsonText), "/_strict/requests contains an Authorization header");
    const records = JSON.parse(jsonText);
    const okGetId = records[2]?.request_id;
    assert.deepEqual(
      records.map((r) => [r.method, r.status, r.code, r.verdict]),
      [
        ["GET", 403, "AccessDenied", "refused"],
        ["PUT", 403, "SignatureDoesNotMatch", "refused"],
        ["GET", 200, null, "accepted"],
        ["PUT", 200, null, "accepted"],
      ],
      jsonText.slice(0, 3000),
    );
    assert.deepEqual(records.map((r) => r.request_id), [expiredId, mismatchId, okGetId, putId]);

    await withBrowser(
      async ({ page, events }) => {
        // Tall enough that the screenshots also show the server's canonical request.
        await page.setViewportSize({ width: 1280, height: 1000 });
        const resp = await page.goto(`${srv.endpoint}/_strict/`);
        assert.equal(resp.status(), 200);
        assert.match(resp.headers()["content-type"], /^text\/html/);
        assert.ok(!(await resp.text()).includes(SECRET_KEY));

        // The list, newest first. Opening the page makes Chromium ask the server for
        // /favicon.ico (the page names no icon): an anonymous GET, refused 403 and recorded, so
        // it may sit on top of ours. Nothing else may.
        const rows = await eventually(async () => {
          const r = await readList(page);
          return r.some(([id]) => id === putId) && r;
        }, "the list shows the SDK's PUT");
        const ours = rows.filter(([id]) => [expiredId, mismatchId, okGetId, putId].includes(id));
        const others = rows.filter(([id]) => !ours.some(([o]) => o === id));
        assert.deepEqual(others, [], "the page asks for no favicon and nothing else lands in the list");
        assert.deepEqual(ours.map(([id]) => id), [expiredId, mismatchId, okGetId, putId], JSON.stringify(rows));
        const text = Object.fromEntries(ours);
        assert.match(text[expiredId], new RegExp(`^403 GET /${Bucket}/${Key} AccessDenied sigv4-presigned`));
        assert.match(text[mismatchId], new RegExp(`^403 PUT /${Bucket}/${Key} SignatureDoesNotMatch sigv4-presigned`));
        assert.match(text[okGetId], new RegExp(`^200 GET /${Bucket}/${Key} sigv4-presigned`));
        assert.match(text[putId], new RegExp(`^200 PUT /${Bucket}/${Key} sigv4`));
        assert.match(await page.textContent("#count"), /recent request\(s\), newest first/);
        const colors = await page.evaluate(() =>
          [...document.querySelectorAll("#list > li .status")].map((e) => [e.textContent, getComputedStyle(e).color]),
        );
        for (const [status, color] of colors) {
          assert.equal(color, Number(status) < 400 ? "rgb(26, 127, 55)" : "rgb(207, 34, 46)", `status ${status} colored ${color}`);
        }

        // The refused PUT: click it.
        const mismatch = await select(page, mismatchId);
        assert.equal(mismatch.heading, `PUT /${Bucket}/${Key}`);
        assert.deepEqual(
          await page.evaluate(() => [...document.querySelectorAll("#list > li.sel")].map((li) => li.dataset.id)),
          [mismatchId],
          "the clicked row is the one highlighted",
        );
        assert.equal(mismatch.status, "403");
        assert.match(mismatch.statusClass, /\bbad\b/);
        assert.equal(mismatch.statusLine, `403 SignatureDoesNotMatch — ${SIG_MISMATCH}`);
        // A refused request still names the operation it asked for and the key it claimed.
        assert.match(mismatch.meta, new RegExp(`· ${mismatchId} · PutObject · path-style · auth sigv4-presigned · key ${ACCESS_KEY}`), mismatch.meta);
        assert.match(mismatch.reason, /^Why: /);
        assert.match(mismatch.reason, /signed for GET and sent as PUT/, mismatch.reason);
        assert.ok(mismatch.reasonVisible, "the reason is on screen without scrolling");
        assert.deepEqual(mismatch.checks, expectedChecks("signature"));
        assert.equal(mismatch.windowState, "valid", "signed at the server's time, 15 minutes");
        // The server's canonical request, for comparing with the client's: it starts with the method sent.
        const canonical = await page.evaluate(() => document.querySelector("#detail pre")?.textContent ?? "");
        assert.ok(canonical.startsWith(`PUT\n/${Bucket}/${Key}\n`), canonical);
        assert.ok(!canonical.includes(SECRET_KEY));
        await screenshot(page, "inspector");

        // The expired GET.
        const expired = await select(page, expiredId);
        assert.equal(expired.heading, `GET /${Bucket}/${Key}`);
        assert.equal(expired.status, "403");
        assert.equal(expired.statusLine, `403 AccessDenied — ${EXPIRED}`);
        assert.match(expired.reason, /^Why: the URL expired 36\d\d seconds ago/, expired.reason);
        assert.equal(expired.windowState, "expired");
        // Read in one evaluate: the page re-renders the detail every second, so an element
        // handle taken in one round trip may be detached by the next.
        const geo = await page.evaluate(() => {
          const t = document.querySelector("#detail .timeline");
          const v = t.querySelector(".valid").getBoundingClientRect();
          const n = t.querySelector(".now").getBoundingClientRect();
          return {
            stateColor: getComputedStyle(document.getElementById("window-state")).color,
            validRight: v.right,
            now: n.left,
            validWidth: v.width,
            times: document.getElementById("window-times").textContent,
          };
        });
        assert.equal(geo.stateColor, "rgb(207, 34, 46)", "expired is shown in red");
        assert.deepEqual(expired.checks, expectedChecks("time"));
        // The marker for the server's time lies right of the valid span.
        assert.ok(geo.validWidth > 10 && geo.now > geo.validRight, JSON.stringify(geo));
        assert.match(geo.times, /^signed \S+Z · expires \S+Z · server \S+Z \(\d+ s after expiry\)$/, geo.times);
        await screenshot(page, "inspector-expired");

        // The accepted PUT: every check passed, no reason.
        const ok = await select(page, putId);
        assert.equal(ok.heading, `PUT /${Bucket}/${Key}`);
        assert.equal(ok.reason, null);
        assert.equal(ok.statusLine, "200 OK");
        assert.deepEqual(ok.checks, STEPS.map((n) => [n, "passed"]));
        assert.equal(ok.windowState, null, "a header-signed request has no validity window");

        assert.deepEqual(events.filter((e) => e.startsWith("pageerror")), []);
      },
      { name: "inspector" },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 2. strict-s3 presign post --format html

const run = promisify(execFile);

/** A PNG-ish file: the signature, then reproducible bytes. */
const pngish = (size, seed) => Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), randomBytes(size - 8, seed)]);

async function listing(s3, Bucket) {
  const out = await s3.send(new ListObjectsV2Command({ Bucket }));
  return (out.Contents ?? []).map((o) => `${o.Key} ${o.Size}`);
}

/** Opens the form, picks the file, clicks Upload; resolves to the response the browser landed on. */
async function upload(page, site, file) {
  assert.equal((await page.goto(site.url("/upload.html"))).status(), 200);
  await page.setInputFiles("#file", file);
  const nav = page.waitForNavigation({ waitUntil: "load" });
  await page.click("button[type=submit]");
  const landed = await nav;
  assert.ok(landed, "clicking Upload did not navigate");
  assert.equal(landed.request().method(), "POST");
  return landed;
}

test("presign post --format html: Chromium submits the printed form from another origin", { timeout: TEST_TIMEOUT }, async () => {
  const Bucket = uniqueBucket("form");
  await withServer(["--bucket", Bucket], async (srv) => {
    const { stdout, stderr } = await run(
      serverBinary(),
      [
        "presign", "post", `s3://${Bucket}/uploads/`,
        "--max-size", "1MB",
        "--content-type", "image/",
        "--format", "html",
        "--endpoint", srv.endpoint,
        "--region", REGION,
        "--access-key", ACCESS_KEY,
        "--secret-key", SECRET_KEY,
      ],
      { env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|S3_)/.test(k))) },
    );
    assert.match(stdout, /^<!DOCTYPE html>/i, stderr);
    assert.ok(stdout.includes(`action="${srv.endpoint}/${Bucket}"`), stdout);
    assert.ok(!stdout.includes(SECRET_KEY), "the form never holds the secret key");

    const site = await startStaticServer({ "/upload.html": stdout });
    const s3 = s3Client(srv.endpoint);
    try {
      await withBrowser(
        async ({ page }) => {
          // A 3 KB PNG: 201 with S3's PostResponse, stored under uploads/ with the file's type.
          const png = pngish(3000, 7);
          const landed = await upload(page, site, { name: "avatar.png", mimeType: "image/png", buffer: png });
          const xml = await landed.text();
          assert.equal(landed.status(), 201, xml);
          assert.equal(landed.url(), `${srv.endpoint}/${Bucket}`);
          // S3 form-encodes the key in Location ("/" as %2F), not in Key.
          assert.ok(xml.includes(`<Location>${srv.endpoint}/${Bucket}/uploads%2Favatar.png</Location>`), xml);
          assert.ok(xml.includes(`<Bucket>${Bucket}</Bucket><Key>uploads/avatar.png</Key>`), xml);
          assert.ok(xml.includes(`<ETag>${md5etag(png).replace(/"/g, "&quot;")}</ETag>`), xml);
          await screenshot(page, "presign-post-201");

          const obj = await s3.send(new GetObjectCommand({ Bucket, Key: "uploads/avatar.png" }));
          assert.ok(Buffer.from(await obj.Body.transformToByteArray()).equals(png), "stored bytes differ");
          assert.equal(obj.ContentType, "image/png", "the page copies the file's type into the Content-Type field");
          assert.equal(obj.ETag, md5etag(png));

          // Over --max-size: 400 EntityTooLarge.
          const big = await upload(page, site, { name: "big.png", mimeType: "image/png", buffer: pngish(1024 * 1024 + 1, 8) });
          assert.equal(big.status(), 400);
          const bigErr = parseError(await big.text());
          assert.equal(bigErr.Code, "EntityTooLarge", JSON.stringify(bigErr));
          assert.equal(bigErr.MaxSizeAllowed, "1048576");

          // Not an image: the Content-Type condition fails.
          const txt = await upload(page, site, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
          assert.equal(txt.status(), 403);
          const txtErr = parseError(await txt.text());
          assert.equal(txtErr.Code, "AccessDenied");
          assert.equal(txtErr.Message, 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]');

          assert.deepEqual(await listing(s3, Bucket), [`uploads/avatar.png ${png.length}`], "only the good upload is stored");
        },
        { name: "presign-post" },
      );
    } finally {
      await site.close();
    }
  });
});
