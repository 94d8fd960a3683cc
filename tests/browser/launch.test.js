// The harness itself: Chromium launches from Debian's package with the suite's flags, and a
// Chromium that is missing or does not start is a test failure whose message says why (the suite
// never skips for want of a browser).

import { test } from "node:test";
import assert from "node:assert/strict";

import { CHROMIUM, CHROMIUM_ARGS, launchBrowser, withBrowser } from "./helpers.js";

test("harness: Chromium launches headless with the suite's flags", { timeout: 60_000 }, async () => {
  await withBrowser(async ({ browser, page }) => {
    assert.match(browser.version(), /^\d+\.\d+\.\d+\.\d+$/);
    await page.setContent("<title>t</title><p>hello</p>");
    assert.equal(await page.textContent("p"), "hello");
    const ua = await page.evaluate(() => navigator.userAgent);
    assert.match(ua, /HeadlessChrome\//, ua);
  });
  assert.ok(CHROMIUM_ARGS.includes("--disable-background-networking"));
  assert.ok(CHROMIUM.length > 0);
});

test("harness: a Chromium executable that does not exist is a failure naming the path", async () => {
  await assert.rejects(launchBrowser({ executablePath: "/nonexistent/chromium" }), (e) => {
    assert.match(e.message, /^Chromium failed to launch: \/nonexistent\/chromium does not exist/);
    assert.match(e.message, /apt-get install -y chromium/);
    return true;
  });
});

test("harness: an executable that is not a browser is a failure naming it and the cause", { timeout: 60_000 }, async () => {
  await assert.rejects(launchBrowser({ executablePath: "/bin/false", timeout: 20_000 }), (e) => {
    assert.match(e.message, /^Chromium failed to launch \(\/bin\/false\): /);
    return true;
  });
});
