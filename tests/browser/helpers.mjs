// Helpers shared by the browser tests (*.test.mjs in this folder): TOTP codes,
// the browser and its pages, screenshots on failure, and waiting for text.
//
//   const harness = createHarness({ artifactPrefix: 'admin-' });
//   before(async () => { server = await harness.start(); });
//   after(() => harness.stop());
//   test('…', () => harness.step('name', async () => {
//     const page = await harness.newPage('admin');
//     …
//   }));
//
// Not a test file itself: node --test only picks up the *.test.mjs files.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
export const UI_TIMEOUT_MS = 10_000;

// --- TOTP (RFC 6238 / RFC 4226), written out here on purpose ----------------

function base32Decode(input) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = input.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totpStep(ms = Date.now()) {
  return Math.floor(ms / 1000 / 30);
}

export function totpCode(secret, step = totpStep()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

// RFC 6238 appendix B test vector (SHA-1, T = 59 s, 8 digits -> 94287082; 6 digits -> 287082).
assert.equal(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', totpStep(59_000)), '287082');

// --- Browser, pages and screenshots on failure -------------------------------------------

/** Launch Debian's Chromium (or $CHROMIUM). */
// --- A valid PNG made here, for uploads --------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A width×height RGB PNG: a diagonal gradient, so that it is not a blank square. */
export function makePng(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * An e-mail or phone as the server shows it until revealed (kefu_domain::inbox::mask_email and
 * mask_phone): `z***@example.com`, `+861********42`.
 */
export function masked(value) {
  if (value.includes('@')) return `${value[0]}***@${value.split('@')[1]}`;
  const total = (value.match(/\d/g) || []).length;
  let seen = 0;
  return value.replace(/\d/g, (d) => (++seen <= 3 || seen > total - 2 ? d : '*'));
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * One test file's server, browser and pages.
 *
 * artifactPrefix starts the name of every screenshot the file writes to
 * artifacts/ (`${artifactPrefix}${step}--${label}.png`), so that the files
 * do not overwrite each other's. onFailure({ pages, screenshot }) may save
 * more screenshots when a step fails; screenshot(page, name) writes
 * `${artifactPrefix}${name}.png`.
 */
export function createHarness({ artifactPrefix, onFailure } = {}) {
  if (!artifactPrefix) throw new Error('createHarness needs an artifactPrefix');
  const harness = {
    server: null,
    browser: null,
    pages: new Map(), // label -> page
    problems: [], // CSP violations (or every console error) and uncaught page errors
  };

  /** Start the server and the browser; returns the server. */
  harness.start = async () => {
    harness.server = await startServer();
    harness.browser = await launchBrowser();
    return harness.server;
  };

  /** Close every page, the browser and the server. */
  harness.stop = async () => {
    for (const label of [...harness.pages.keys()]) await harness.closePage(label).catch(() => {});
    if (harness.browser) await harness.browser.close().catch(() => {});
    if (harness.server) await harness.server.stop();
  };

  /**
   * Open a page in a fresh context. Page errors always count as problems;
   * console errors only when they are CSP violations, or all of them with
   * { consoleErrors: 'all' }.
   */
  harness.newPage = async (label, { locale = 'en-US', consoleErrors = 'csp' } = {}) => {
    const context = await harness.browser.newContext({
      baseURL: harness.server.baseUrl, locale, viewport: { width: 1366, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (err) => harness.problems.push(`[${label}] page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (consoleErrors === 'all') {
        harness.problems.push(`[${label}] console error: ${msg.text()}`);
      } else if (/Content Security Policy|Refused to/i.test(msg.text())) {
        harness.problems.push(`[${label}] ${msg.text()}`);
      }
    });
    harness.pages.set(label, page);
    return page;
  };

  /** A new page signed in to the console as `creds`, on the inbox. */
  harness.consolePage = async (label, creds) => {
    const page = await harness.newPage(label);
    await page.goto('/console/login');
    await signIn(page, creds);
    await page.waitForURL(/\/console\/inbox/);
    return page;
  };

  harness.closePage = async (label) => {
    const page = harness.pages.get(label);
    if (!page) return;
    harness.pages.delete(label);
    await page.context().close();
  };

  const screenshot = (page, name) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${artifactPrefix}${name}.png`), fullPage: true }).catch(() => {});

  /** Run a step; on failure save a screenshot of every open page, then rethrow. */
  harness.step = async (name, fn) => {
    try {
      await fn();
    } catch (err) {
      await mkdir(ARTIFACTS, { recursive: true });
      const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      for (const [label, page] of harness.pages) {
        if (page.isClosed()) continue;
        await screenshot(page, `${slug}--${label}`);
      }
      if (onFailure) await onFailure({ pages: harness.pages, screenshot }).catch(() => {});
      throw err;
    }
  };

  return harness;
}

// --- Waiting and reading -------------------------------------------------------------------

/** The toast that says `message`. */
export function toast(page, message) {
  return page.getByTestId('toast').filter({ hasText: message });
}

export async function text(locator) {
  return ((await locator.textContent()) || '').trim();
}

/** Wait until the locator's text matches (string: equal after trim; RegExp: test). */
export async function waitForText(locator, expected, timeout = UI_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    try {
      last = await text(locator.first());
      if (typeof expected === 'string' ? last === expected : expected.test(last)) return last;
    } catch {
      // Not attached yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`expected ${locator} to have text ${expected}, last seen ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait until fn() (run in Node, may be async) returns a truthy value. */
export async function waitUntil(fn, describe, timeout = UI_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${describe}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- The console's login page and Agents table ---------------------------------------------

export async function signIn(page, { email, password }) {
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

export function agentRow(page, email) {
  return page.locator(`[data-testid="agent-row"][data-email="${email}"]`);
}

// --- A small REST client with a cookie session ---------------------------------------------

/** Signs in over the API; `call` answers {status, body}, `ok` asserts a 2xx and returns the body. */
export async function apiSession(base, creds) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: creds.email, password: creds.password }),
  });
  assert.equal(res.status, 200, `API sign-in of ${creds.email} failed: ${res.status} ${await res.clone().text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const body = await res.json();
  const session = body.session || body;
  const csrf = session.csrf_token;
  async function call(method, path, payload, headers = {}) {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        cookie, accept: 'application/json', 'x-csrf-token': csrf,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: payload !== undefined ? JSON.stringify(payload) : undefined,
    });
    const textBody = await r.text();
    let json = null;
    try { json = textBody ? JSON.parse(textBody) : null; } catch { json = textBody; }
    return { status: r.status, body: json };
  }
  const ok = async (method, path, payload) => {
    const r = await call(method, path, payload);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { call, ok, agent: session.agent };
}
