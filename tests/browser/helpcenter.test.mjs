// The public help center in a real browser: a reader searches from the home page, opens an
// article, switches its language and rates it; the same works with JavaScript turned off; and
// an editor writes an article in the console, with its live preview, that readers then find.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, waitUntil, text } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'helpcenter-' });
let server;

before(async () => { server = await harness.start(); });
after(() => harness.stop());

async function article(slug) {
  const res = await fetch(`${server.baseUrl}/api/v1/help/articles/${slug}`);
  assert.equal(res.status, 200, `article ${slug}`);
  return res.json();
}

test('a reader searches, opens an article, switches its language and rates it', () => harness.step('reader', async () => {
  const zh = await article('reset-password-zh-cn');
  const en = await article('reset-password');
  const tw = await article('reset-password-zh-tw');
  const page = await harness.newPage('reader', { locale: 'zh-CN' });

  // The browser's language picks the help center's.
  await page.goto('/help');
  await page.waitForURL(/\/help\/zh-CN$/);
  await waitUntil(async () => (await text(page.getByTestId('hc-categories'))).includes('账户与安全'), 'categories in Chinese');

  await page.getByTestId('hc-search-input').fill('忘记密码');
  await page.getByTestId('hc-search-submit').click();
  await page.waitForURL(/\/help\/zh-CN\/search\?q=/);
  const first = page.getByTestId('hc-results').locator('li a').first();
  assert.equal(await text(first), zh.title);
  assert.ok((await page.getByTestId('hc-results').locator('mark').count()) > 0, 'the match is highlighted');

  await first.click();
  await page.waitForURL(/\/help\/zh-CN\/articles\/reset-password-zh-cn\?sid=/);
  assert.equal(await text(page.getByTestId('hc-article-title')), zh.title);
  assert.ok((await text(page.getByTestId('hc-breadcrumbs'))).includes('账户与安全'));

  // The language switcher goes to the same article in the other languages.
  await page.getByTestId('hc-languages').locator('[data-locale="en"]').click();
  await page.waitForURL(/\/help\/en\/articles\/reset-password$/);
  assert.equal(await text(page.getByTestId('hc-article-title')), en.title);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByTestId('hc-languages').locator('[data-locale="zh-TW"]').click();
  await page.waitForURL(/\/help\/zh-TW\/articles\/reset-password-zh-tw$/);
  assert.equal(await text(page.getByTestId('hc-article-title')), tw.title);

  // "Was this helpful?", then a comment.
  await page.getByTestId('hc-helpful-yes').click();
  await page.getByTestId('hc-feedback-thanks').waitFor();
  await page.getByTestId('hc-feedback-comment').fill('步驟很清楚，謝謝');
  await page.getByTestId('hc-feedback-send').click();
  await page.getByTestId('hc-feedback-done').waitFor();
  const after = await article('reset-password-zh-tw');
  assert.equal(after.helpful_yes, tw.helpful_yes + 1);
  assert.deepEqual(harness.problems, []);
}));

test('the help center works with JavaScript turned off', () => harness.step('no-script', async () => {
  const context = await harness.browser.newContext({ baseURL: server.baseUrl, javaScriptEnabled: false, locale: 'en-US' });
  try {
    const page = await context.newPage();
    await page.goto('/help/en');
    await page.getByTestId('hc-search-input').fill('withdrawl pending');
    await page.getByTestId('hc-search-submit').click();
    await page.waitForURL(/\/help\/en\/search/);
    const href = await page.getByTestId('hc-results').locator('li a').first().getAttribute('href');
    assert.match(href, /^\/help\/en\/articles\/withdrawal-pending\?sid=/);
    await page.goto(href);
    await page.getByTestId('hc-helpful-no').click();
    await page.getByTestId('hc-feedback-comment').waitFor();
  } finally {
    await context.close();
  }
}));

test('an editor writes and publishes an article that readers then find', () => harness.step('editor', async () => {
  const page = await harness.consolePage('editor', server.credentials.supervisor);
  await page.goto('/console/help-center/articles/new');
  await page.getByTestId('kb-field-slug').fill('ton-memo-guide');
  await page.getByTestId('kb-field-title').fill('Sending TON with a memo');
  await page.getByTestId('kb-field-locale').selectOption('en');
  await page.getByTestId('kb-field-category').selectOption('deposits-withdrawals');
  await page.getByTestId('kb-field-body').fill('## Steps\n\n1. Copy the **memo**\n2. Paste it as the comment of your TON transfer');
  // The live preview renders the Markdown as the help center will.
  await waitUntil(async () => (await page.getByTestId('kb-preview').locator('strong').count()) === 1, 'the preview shows bold text');
  await page.getByTestId('kb-status').selectOption('published');
  await page.getByTestId('kb-save').click();
  await page.waitForURL(/\/console\/help-center\/articles\/[0-9A-Z]{26}/);

  const reader = await harness.newPage('reader2');
  await waitUntil(async () => {
    const res = await fetch(`${server.baseUrl}/api/v1/help/search?q=ton+memo+comment&locale=en&track=false`);
    const body = await res.json();
    return body.hits.some((h) => h.slug === 'ton-memo-guide');
  }, 'the new article is found');
  await reader.goto('/help/en/articles/ton-memo-guide');
  assert.equal(await text(reader.getByTestId('hc-article-title')), 'Sending TON with a memo');
  assert.equal(await reader.locator('.hc-body strong').textContent(), 'memo');
  assert.deepEqual(harness.problems, []);
}));
