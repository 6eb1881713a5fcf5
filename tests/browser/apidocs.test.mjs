// End-to-end test of the API reference page (/api/docs) in a real browser.
//
//   KEFU_BIN=target/debug/kefu node --test tests/browser/apidocs.test.mjs
//
// Starts `KEFU_BIN serve --demo` (see server.mjs), opens the page in Debian's
// Chromium (or $CHROMIUM) through playwright-core and checks that the
// OpenAPI document is rendered. On failure a screenshot is written to
// tests/browser/artifacts/ (file names start with "apidocs-"). Shared
// helpers: helpers.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'apidocs-' });
const { problems, step } = harness; // every console error counts here, CSP violations included
let page;

before(async () => {
  await harness.start();
  page = await harness.newPage('docs', { consoleErrors: 'all' });
});

after(() => harness.stop());

const navLink = (method, apiPath) => page.locator(`[data-testid="nav-op"][data-method="${method}"][data-path="${apiPath}"]`);

test('the API reference lists the operations by tag', () => step('list', async () => {
  await page.goto('/api/docs');
  await page.getByTestId('operation').first().waitFor();
  assert.equal(((await page.getByTestId('apidocs-heading').textContent()) || '').trim(), 'Kefu API');

  for (const [method, apiPath] of [['POST', '/api/v1/auth/login'], ['GET', '/api/v1/agents']]) {
    const link = navLink(method, apiPath);
    await link.waitFor();
    const label = ((await link.textContent()) || '').replace(/\s+/g, '');
    assert.equal(label, `${method}${apiPath}`);
    assert.equal(await page.locator(`[data-testid="operation"][data-method="${method}"][data-path="${apiPath}"]`).count(), 1);
  }
  assert.equal(await page.getByTestId('apidocs-download').getAttribute('href'), '/api/openapi.json');
}));

test('clicking an operation shows its request body fields', () => step('login', async () => {
  await navLink('POST', '/api/v1/auth/login').click();
  await page.waitForURL('**/api/docs#login');
  const op = page.locator('#login');
  const body = op.getByTestId('request-body');
  for (const name of ['email', 'password']) {
    const row = body.locator(`[data-testid="schema-field"][data-name="${name}"]`);
    await row.waitFor({ state: 'visible' });
    assert.match((await row.textContent()) || '', /string.*required/);
  }
  const box = await op.boundingBox();
  assert.ok(box && box.y >= 0 && box.y < 300, `the operation is scrolled into view (y = ${box && box.y})`);
  assert.equal(await navLink('POST', '/api/v1/auth/login').getAttribute('aria-current'), 'location');
}));

test('the filter box narrows the sidebar', () => step('filter', async () => {
  await page.getByTestId('apidocs-filter').fill('agents get');
  await navLink('POST', '/api/v1/auth/login').waitFor({ state: 'hidden' });
  assert.ok(await navLink('GET', '/api/v1/agents').isVisible());
  await page.getByTestId('apidocs-filter').fill('');
  await navLink('POST', '/api/v1/auth/login').waitFor({ state: 'visible' });
}));

test('a deep link opens at its operation', () => step('deep link', async () => {
  await page.goto('about:blank'); // a fresh load, not a same-document hash change
  await page.goto('/api/docs#list');
  await page.locator('#list [data-testid="response"][data-status="200"] [data-name="items"]').waitFor({ state: 'visible' });
  const box = await page.locator('#list').boundingBox();
  assert.ok(box && box.y >= 0 && box.y < 300, `the operation is scrolled into view (y = ${box && box.y})`);
}));

test('the page hit no console error, script error or CSP violation', () => {
  assert.deepEqual(problems, []);
});
