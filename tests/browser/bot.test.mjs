// End-to-end test of the support bot's web UI against a real demo server (the demo has the bot
// enabled, named "Nebula Assistant"):
//
//   1. console: the admin opens /console/bot, tries the bot: an answer with an article link and
//      quick-reply buttons; after "Start over", "转人工" shows a handoff notice;
//   2. widget: a customer on the demo page asks about a missing USDT deposit, the bot asks for
//      the network, then for the TxID;
//   3. widget: a question the bot answers from the help center shows an article card and
//      quick-reply chips; clicking "No" sends it and the bot replies again.
//
//   KEFU_BIN=target/debug/kefu node --test tests/browser/bot.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, waitForText, waitUntil, text } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'bot-' });
const { problems, newPage, step } = harness;
let server;

before(async () => {
  server = await harness.start();
});

after(() => harness.stop());

const botMessages = (page) => page.locator('[data-testid="kefu-message"][data-author="bot"]');

async function openWidget(page) {
  await page.goto('/demo', { waitUntil: 'domcontentloaded' });
  await page.getByTestId('kefu-launcher').click();
  await page.getByTestId('kefu-panel').waitFor();
}

async function startChat(page) {
  // From the home view, a new conversation; in a chat that is already there, nothing to do.
  const start = page.getByTestId('kefu-new-conversation');
  if (await start.isVisible().catch(() => false)) await start.click();
  await page.getByTestId('kefu-input').waitFor();
}

async function sendWidget(page, body) {
  await page.getByTestId('kefu-input').fill(body);
  await page.getByTestId('kefu-send').click();
}

/** Waits for a bot message after the first `after` ones whose text matches `re`; returns its text. */
async function waitBotMessage(page, after, re, timeout = 15_000) {
  return waitUntil(async () => {
    const all = botMessages(page);
    const n = await all.count();
    for (let i = after; i < n; i++) {
      const body = await text(all.nth(i).getByTestId('kefu-message-body'));
      if (re.test(body)) return body;
    }
    return null;
  }, `a bot message matching ${re}`, timeout);
}

// --- 1. Console -----------------------------------------------------------------------------------

test('the admin tries the bot in the console', () => step('console', async () => {
  const page = await harness.consolePage('admin', server.credentials.admin);
  await page.getByTestId('nav-bot').click();
  await page.waitForURL(/\/console\/bot$/);
  await page.getByTestId('bot-analytics').waitFor();
  await page.getByTestId('bot-stat-conversations').waitFor();

  await page.getByTestId('bot-tab-try').click();
  await page.waitForURL(/\/console\/bot\/try$/);
  await page.getByTestId('bot-try-input').fill('how do I reset my password');
  await page.getByTestId('bot-try-send').click();
  const log = page.getByTestId('bot-try-messages');
  const article = log.getByTestId('bot-try-article').first();
  await article.waitFor();
  assert.match(await article.getAttribute('href'), /\/help\/en\/articles\//);
  await log.getByTestId('bot-try-button').first().waitFor();
  assert.ok(await log.getByTestId('bot-try-button').count() >= 2, 'quick-reply buttons');
  await waitForText(page.getByTestId('bot-try-intent'), 'password_reset');

  await page.getByTestId('bot-try-reset').click();
  assert.equal(await log.locator('li').count(), 0, 'start over clears the chat');
  await page.getByTestId('bot-try-input').fill('转人工');
  await page.getByTestId('bot-try-send').click();
  await page.getByTestId('bot-try-handoff').waitFor();
  await waitForText(page.getByTestId('bot-try-outcome'), 'handoff');

  // Settings and training render for the admin.
  await page.getByTestId('bot-tab-settings').click();
  await page.getByTestId('bot-settings-enabled').waitFor();
  assert.equal(await page.getByTestId('bot-settings-enabled').isChecked(), true);
  await page.getByTestId('bot-settings-threshold').fill('5');
  await page.getByTestId('bot-settings-save').click();
  await page.getByTestId('bot-settings-threshold-error').waitFor();
  await page.getByTestId('bot-tab-training').click();
  await page.getByTestId('bot-examples-list').waitFor();
  assert.deepEqual(problems, []);
}));

// --- 2. Widget: a flow ----------------------------------------------------------------------------

test('the bot asks for the network, then the TxID, in the widget', () => step('widget-flow', async () => {
  const page = await newPage('customer');
  await openWidget(page);
  await startChat(page);
  await sendWidget(page, "my USDT deposit hasn't arrived");
  await waitBotMessage(page, 0, /network/i);
  const before = await botMessages(page).count();
  await sendWidget(page, 'TRC20');
  await waitBotMessage(page, before, /TxID|transaction (hash|id)/i);
  assert.deepEqual(problems, []);
}));

// --- 3. Widget: article card and quick replies ----------------------------------------------------

test('an answer shows an article card and quick replies; "No" sends and hides them', () => step('widget-quick', async () => {
  const page = await newPage('customer2');
  await openWidget(page);
  await startChat(page);
  await sendWidget(page, 'what are the trading fees');
  const card = page.getByTestId('kefu-article-card').first();
  await card.waitFor({ timeout: 15_000 });
  assert.match(await card.getAttribute('href'), /^http:\/\/127\.0\.0\.1:\d+\/help\/en\/articles\//);
  assert.equal(await card.getAttribute('target'), '_blank');
  const chips = page.getByTestId('kefu-quick-reply');
  await chips.first().waitFor({ timeout: 15_000 });
  const labels = await chips.allTextContents();
  assert.ok(labels.includes('No'), `a "No" chip (${labels.join(', ')})`);

  const before = await botMessages(page).count();
  await chips.filter({ hasText: /^No$/ }).click();
  await waitForText(page.locator('[data-testid="kefu-message"][data-author="customer"]').last().getByTestId('kefu-message-body'), 'No');
  await waitUntil(async () => (await botMessages(page).count()) > before, 'another bot message', 15_000);
  assert.deepEqual(problems, []);
}));
