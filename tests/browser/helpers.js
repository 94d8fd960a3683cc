// Shared helpers for the real-browser suite: the strict-s3 binary, headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), a static origin for test pages, SDK clients.
//
// The server lifecycle, hashes, byte patterns and S3 error parsing are the JavaScript SDK suite's
// (tests/js/helpers.js, re-exported below), so both suites start and stop the binary the same way:
// port 0, --in-memory, the first stdout line parsed, SIGTERM and exit code 0 asserted. Importing
// it also removes every AWS_* variable from this process, as that suite does. It imports only
// node: built-ins, so it loads without tests/js/node_modules.
//
// Chromium is never downloaded: it is Debian's package (scripts/test.sh installs it as root).
// A browser that is missing or fails to start is a test FAILURE with the reason, never a skip.

import { mkdirSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

import { chromium } from "playwright-core";
import { S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { ACCESS_KEY, REGION, SECRET_KEY } from "../js/helpers.js";

export * from "../js/helpers.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, "..", "..");
/** Screenshots and other evidence: .test-deps/artifacts (gitignored). */
export const ARTIFACTS = resolve(REPO_ROOT, ".test-deps", "artifacts");

// ---------------------------------------------------------------------------------------------
// SDK clients

/** An S3 client for this endpoint: path-style, the server's credentials, one attempt (no retry hides a refusal). */
export function s3Client(endpoint, overrides = {}) {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
    ...overrides,
  });
}

/**
 * A presigned URL for an SDK command (SigV4 query, the SDK's own presigner). Options go to
 * getSignedUrl: the presigner signs only `host` unless told, so a URL bound to a Content-Type
 * needs `{ signableHeaders: new Set(["content-type"]) }`.
 */
export const presign = (s3, command, { expiresIn = 300, ...options } = {}) =>
  getSignedUrl(s3, command, { expiresIn, ...options });

// ---------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

/**
 * The flags every launch uses. The background-networking ones matter: without them Chromium keeps
 * trying to reach Google's services, and this machine's network is closed. Even with them it
 * still looked up update.googleapis.com and accounts.google.com through the system resolver
 * (seen with strace), so its resolver answers NOTFOUND for every name but the loopback ones the
 * tests use: 127.0.0.1, localhost and *.localhost (virtual-hosted-style buckets). No proxy either:
 * the tests talk to this machine only.
 */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-proxy-server",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.localhost",
];

const LAUNCH_TIMEOUT_MS = 30_000;

/**
 * Launches headless Chromium with a fresh temporary profile (playwright-core creates a new
 * user-data-dir for every launch() and deletes it on close()). Rejects with a message that names
 * the executable and the cause: the caller's test fails, it is never skipped.
 */
export async function launchBrowser({ executablePath = CHROMIUM, timeout = LAUNCH_TIMEOUT_MS } = {}) {
  const hint =
    "install Debian's package (`apt-get update && apt-get install -y chromium`; scripts/test.sh does this as root) " +
    "or point CHROMIUM_BIN at a Chromium binary. Never download one.";
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium failed to launch: ${executablePath} does not exist: ${hint}`);
  }
  try {
    return await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
      timeout,
      // Playwright's own SIGINT/SIGTERM/SIGHUP handlers close the browser if the runner is killed.
      handleSIGINT: true,
      handleSIGTERM: true,
      handleSIGHUP: true,
    });
  } catch (e) {
    throw new Error(`Chromium failed to launch (${executablePath}): ${e?.message ?? e}\n${hint}`, { cause: e });
  }
}

/** The page's console and errors, appended to a failing test's message. */
function watchPage(page, sink) {
  page.on("console", (m) => sink.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => sink.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => sink.push(`requestfailed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on("crash", () => sink.push("page crashed"));
}

/**
 * `await withBrowser(async ({ browser, page, events }) => { ... })`: one browser and one page for
 * one test, always closed. When the body fails, a screenshot goes to
 * .test-deps/artifacts/failure-<name>.png and the page's console lines join the error message.
 */
export async function withBrowser(fn, { name = "page" } = {}) {
  const browser = await launchBrowser();
  const events = [];
  try {
    const context = await browser.newContext();
    context.setDefaultTimeout(30_000);
    context.setDefaultNavigationTimeout(30_000);
    const page = await context.newPage();
    watchPage(page, events);
    try {
      return await fn({ browser, context, page, events });
    } catch (e) {
      let shot = "";
      try {
        shot = `\n--- screenshot: ${await screenshot(page, `failure-${name}`)}`;
      } catch (se) {
        shot = `\n--- no screenshot: ${se.message}`;
      }
      if (e && typeof e === "object" && typeof e.message === "string") {
        e.message += `${shot}\n--- browser events ---\n${events.slice(-40).join("\n") || "(none)"}`;
      }
      throw e;
    }
  } finally {
    await browser.close().catch(() => {});
  }
}

/** Saves a full-page PNG under .test-deps/artifacts/; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = resolve(ARTIFACTS, `${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// ---------------------------------------------------------------------------------------------
// A second origin for test pages (CORS and POST-form tests serve their pages from here)

/**
 * A static HTTP server on 127.0.0.1:0. `routes` maps a path ("/form.html") to a string body
 * (served as text/html), to { body, type, status, headers }, or to a handler (req, res). Resolves
 * to { origin, url(path), requests, route(path, value), close() }; `requests` records
 * { method, url, headers } of each request it received. Unknown paths are 404.
 */
export async function startStaticServer(routes = {}) {
  const table = new Map(Object.entries(routes));
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    const path = new URL(req.url, "http://x").pathname;
    const entry = table.get(path);
    if (entry === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    if (typeof entry === "function") {
      entry(req, res);
      return;
    }
    const { body = "", type = "text/html; charset=utf-8", status = 200, headers = {} } =
      typeof entry === "string" ? { body: entry } : entry;
    res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(0, "127.0.0.1", res);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path = "/") => `${origin}${path}`,
    requests,
    route: (path, value) => table.set(path, value),
    close: () =>
      new Promise((res) => {
        server.closeAllConnections?.();
        server.close(() => res());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Small pieces for in-page code

/**
 * The source of a function that makes the same bytes as randomBytes(size, seed) (tests/js/helpers.js),
 * for pages that build their upload Blobs themselves. Define it in a page with
 * `<script>${PATTERN_JS}</script>`; the page then has `pattern(size, seed)` → Uint8Array.
 */
export const PATTERN_JS = `
function pattern(size, seed) {
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let x = (Math.imul(seed, 2654435761) >>> 0) || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    view.setUint32(i, x, true);
  }
  for (; i < size; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}`;

/** Asserts an in-page fetch result ({ status, code, ... }) is the S3 error with this status and Code. */
export function assertPageError(result, status, code) {
  assert.equal(result.status, status, `status ${result.status} != ${status}: ${JSON.stringify(result).slice(0, 2000)}`);
  assert.equal(result.code, code, `Code ${result.code} != ${code}: ${JSON.stringify(result).slice(0, 2000)}`);
}
