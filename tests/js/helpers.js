// Shared helpers for the JavaScript SDK suites: the strict-s3 binary, clients, hashes, errors.
//
// Every test starts its own server (the real binary, port 0, --in-memory) and stops it with
// SIGTERM, asserting exit code 0 (graceful shutdown is a requirement). Nothing from the
// user's AWS setup may leak in: every AWS_* variable is removed from this process before any
// SDK reads it, and the shared config/credential files point at a path that does not exist.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
export const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const REGION = "us-east-1";
export const MiB = 1024 * 1024;

export const SIG_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
export const EXPIRED = "Request has expired";
export const NO_SUCH_KEY = "The specified key does not exist.";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, "..", "..");
const NO_SUCH_FILE = resolve(REPO_ROOT, ".test-deps", "no-such-aws-file");

for (const name of Object.keys(process.env)) {
  if (name.startsWith("AWS_")) delete process.env[name];
}
process.env.AWS_CONFIG_FILE = NO_SUCH_FILE;
process.env.AWS_SHARED_CREDENTIALS_FILE = NO_SUCH_FILE;
process.env.AWS_EC2_METADATA_DISABLED = "true";
// aws-sdk v2 prints a maintenance-mode notice on load; it is noise here.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
// ...and v3 warns that its releases after January 2027 will need Node 22; the pinned one runs on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const BANNER = /^strict-s3 listening on (http:\/\/\S+)\s*$/;

export function serverBinary() {
  const raw = process.env.STRICT_S3_BIN || "target/debug/strict-s3";
  const path = isAbsolute(raw) ? raw : resolve(REPO_ROOT, raw);
  if (!existsSync(path)) {
    throw new Error(`strict-s3 binary not found at ${path}: run \`cargo build\` (or set STRICT_S3_BIN)`);
  }
  return path;
}

/** Starts one strict-s3 process; resolves to { endpoint, log(), stop() }. */
export async function startServer(...extraArgs) {
  const args = [
    "--addr", "127.0.0.1:0",
    "--in-memory",
    "--region", REGION,
    "--access-key", ACCESS_KEY,
    "--secret-key", SECRET_KEY,
    ...extraArgs,
  ];
  // A clean environment: the server also reads AWS_* / S3_* / RUST_LOG.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AWS_|S3_|RUST_LOG)/.test(k)),
  );
  const child = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "pipe"], env });
  const lines = [];
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
  // Read everything, so the server never blocks on a full pipe; keep it for failure reports.
  createInterface({ input: child.stderr }).on("line", (l) => lines.push(l));
  const stdout = createInterface({ input: child.stdout });
  // Every line is kept from the start: the banner's later lines arrive in the same chunk
  // as the first, and a listener added after it would miss them.
  stdout.on("line", (l) => lines.push(l));
  const first = new Promise((res, rej) => {
    stdout.once("line", res);
    child.once("error", rej);
    exited.then(({ code, signal }) => rej(new Error(`strict-s3 exited (${code ?? signal}) before printing its endpoint`)));
  });
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error("strict-s3 printed nothing within 30 s")), 30_000);
  });
  let firstLine;
  try {
    firstLine = await Promise.race([first, timeout]);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${e.message}: ${args.join(" ")}\n${lines.join("\n")}`);
  } finally {
    clearTimeout(timer);
  }
  const m = BANNER.exec(firstLine);
  if (!m) {
    child.kill("SIGKILL");
    throw new Error(`unexpected first line from strict-s3: ${JSON.stringify(firstLine)}`);
  }
  let stopped = null;
  return {
    endpoint: m[1],
    log: (tail = 40) => lines.slice(-tail).join("\n"),
    /** SIGTERM, wait (15 s at most); asserts exit code 0. */
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        let kill;
        const result = await Promise.race([
          exited,
          new Promise((res) => {
            kill = setTimeout(() => {
              child.kill("SIGKILL");
              res({ code: null, signal: "timeout" });
            }, 15_000);
          }),
        ]);
        clearTimeout(kill);
        assert.equal(
          result.code,
          0,
          `strict-s3 exited ${result.code ?? result.signal} after SIGTERM (graceful shutdown must exit 0)\n${lines.slice(-40).join("\n")}`,
        );
      })();
      return stopped;
    },
  };
}

/**
 * `await withServer(args, async (srv) => { ... })`: a server for one test, always stopped;
 * its exit code is asserted unless the test body already failed (that error wins).
 */
export async function withServer(args, fn) {
  const srv = await startServer(...args);
  let result;
  try {
    result = await fn(srv);
  } catch (e) {
    await srv.stop().catch(() => {});
    if (e && typeof e === "object" && e.message) e.message += `\n--- server log ---\n${srv.log()}`;
    throw e;
  }
  await srv.stop();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Hashes

export const sha256hex = (buf) => createHash("sha256").update(buf).digest("hex");
export const md5hex = (buf) => createHash("md5").update(buf).digest("hex");
export const md5etag = (buf) => `"${md5hex(buf)}"`;

/** The ETag S3 gives a multipart object: md5 of the parts' binary md5s, "-" and the count. */
export function multipartEtag(parts) {
  const h = createHash("md5");
  for (const p of parts) h.update(createHash("md5").update(p).digest());
  return `"${h.digest("hex")}-${parts.length}"`;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function crc32bytes(buf) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(buf));
  return out;
}

export const crc32b64 = (buf) => crc32bytes(buf).toString("base64");

/** A composite (per-part) CRC32 of a multipart object: CRC32 of the parts' CRC32s, "-N". */
export function compositeCrc32(parts) {
  return `${crc32b64(Buffer.concat(parts.map(crc32bytes)))}-${parts.length}`;
}

/** Pseudo-random bytes, reproducible from a seed (cheaper than crypto for many MiB). */
export function randomBytes(size, seed = 1) {
  const buf = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

// ---------------------------------------------------------------------------------------------
// S3 XML errors (for raw fetch responses)

/** The children of an S3 <Error> document as an object of strings (flat; no nesting in S3 errors). */
export function parseError(xml) {
  const m = /<Error>([\s\S]*)<\/Error>/.exec(xml);
  assert.ok(m, `not an S3 error document: ${xml.slice(0, 2000)}`);
  const out = {};
  for (const [, name, value] of m[1].matchAll(/<([A-Za-z0-9-]+)>([\s\S]*?)<\/\1>/g)) {
    out[name] = value
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&#xA;|&#10;/gi, "\n")
      .replace(/&amp;/g, "&");
  }
  return out;
}

/** Asserts a fetch Response is the S3 error with this status and Code (and Message); returns the fields. */
export async function assertHttpError(resp, status, code, message) {
  const text = await resp.text();
  assert.equal(resp.status, status, `status ${resp.status} != ${status}: ${text.slice(0, 2000)}`);
  assert.match(resp.headers.get("content-type") ?? "", /^application\/xml/);
  const err = parseError(text);
  assert.equal(err.Code, code, `Code ${err.Code} != ${code}: ${JSON.stringify(err)}`);
  if (message !== undefined) assert.equal(err.Message, message, JSON.stringify(err));
  assert.ok(err.RequestId, `no RequestId: ${JSON.stringify(err)}`);
  assert.equal(resp.headers.get("x-amz-request-id"), err.RequestId);
  return err;
}

/** Asserts an SDK (v3) error: its HTTP status, its name (S3's Code) and, when given, its message. */
export function assertSdkError(err, status, name, message) {
  assert.equal(err?.$metadata?.httpStatusCode, status, `status of ${err?.name}: ${err?.stack}`);
  assert.equal(err.name, name, err.stack);
  if (message !== undefined) assert.equal(err.message, message);
  return err;
}

/** Runs an SDK call that must fail; returns the error for further checks. */
export async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("the call succeeded, an error was expected");
}

/** The URL with query parameters replaced, keeping their order and the others' encoding. */
export function replaceQuery(url, changes) {
  const u = new URL(url);
  const left = { ...changes };
  const pairs = u.search.slice(1).split("&").map((pair) => {
    const name = decodeURIComponent(pair.split("=", 1)[0]);
    if (name in left) {
      const v = left[name];
      delete left[name];
      return `${pair.split("=", 1)[0]}=${encodeURIComponent(v)}`;
    }
    return pair;
  });
  assert.deepEqual(Object.keys(left), [], `parameters not in the URL: ${Object.keys(left)}`);
  u.search = pairs.join("&");
  return u.toString();
}

/** Changes one character of a signature (hex or base64), keeping its shape. */
export const tamper = (sig) => (sig[0] === "a" ? "b" : "a") + sig.slice(1);

let counter = 0;
export const uniqueBucket = (prefix = "js") =>
  `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
