// End-to-end test of the security shield's web UI against a real demo server (the demo seeds the
// official channels of "Nebula Exchange": nebula.example, @NebulaExchange, …):
//
//   1. console: the admin opens "Security shield", adds @NebulaHelpDesk to the official Telegram
//      accounts (after a bad account and a bad pattern were refused next to their fields), saves,
//      and the "Check a link or contact" box says @NebulaHelpDesk is official and
//      @NebulaHe1pDesk a lookalike of it;
//   2. widget + console: a visitor sends a seed phrase and a lookalike link; the widget warns the
//      customer (the shield's message, and a red line under the link), the agent sees the message
//      with the phrase replaced, the redaction notice, the lookalike chip, the `secret-shared`
//      tag and the activity line, and the phrase is nowhere in the console page;
//   3. console: a reply linking to an unknown domain is refused with `link_not_allowed`, shown
//      in the composer, and the draft stays; the same text as a private note goes through.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/shield.test.mjs
//
// Screenshots of failed steps go to artifacts/shield-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, waitForText, waitUntil, text, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'shield-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const shared = {};
// A valid 12-word English BIP39 phrase (the checksum word is "about").
const SEED = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const LOOKALIKE = 'https://nebula-examp1e.com/login';

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

before(async () => {
  server = await harness.start();
  shared.admin = await apiSession(server.credentials.admin);
  shared.agent = await apiSession(server.credentials.agent);
  // The chat below is between a visitor and an agent: the demo's bot would answer first and add
  // messages of its own (tests/browser/bot.test.mjs covers the bot).
  const bot = await shared.admin.ok('GET', '/bot/settings');
  await shared.admin.ok('PUT', '/bot/settings', { ...bot, enabled: false });
});

after(() => harness.stop());

// --- 1. The settings page and the verification box ----------------------------------------------------

test('the admin adds an official Telegram account and checks it in the verification box', () => step('settings', async () => {
  const before = await shared.admin.ok('GET', '/shield/settings');
  assert.equal(before.domains_from_environment, false);
  assert.ok(!before.official_telegram.includes('@NebulaHelpDesk'));

  const page = await harness.consolePage('admin', server.credentials.admin);
  await page.getByTestId('nav-shield').click();
  await page.waitForURL('**/console/shield');
  await waitForText(page.getByTestId('page-title'), 'Security shield');
  const telegram = page.getByTestId('shield-official-telegram');
  await waitUntil(async () => (await telegram.inputValue()) === before.official_telegram.join('\n'), 'the saved Telegram accounts');
  assert.equal(await page.getByTestId('shield-official-domains').inputValue(), before.official_domains.join('\n'));
  assert.equal(await page.getByTestId('shield-official-domains').evaluate((el) => el.readOnly), false, 'domains editable without KEFU_OFFICIAL_DOMAINS');
  assert.equal(await page.getByTestId('shield-domains-env-note').count(), 0);
  const rows = page.getByTestId('shield-pattern');
  assert.equal(await rows.count(), before.secret_patterns.length);
  assert.equal(await rows.first().getByTestId('shield-pattern-name').inputValue(), before.secret_patterns[0].name);
  assert.equal(await rows.first().getByTestId('shield-pattern-regex').inputValue(), before.secret_patterns[0].pattern);

  // A Telegram account that is too short and a pattern that is no regular expression: the
  // server's messages next to each, nothing stored.
  await telegram.fill([...before.official_telegram, '@x'].join('\n'));
  await page.getByTestId('shield-pattern-add').click();
  const added = rows.nth(before.secret_patterns.length);
  await added.getByTestId('shield-pattern-name').fill(`Broken ${suffix}`);
  await added.getByTestId('shield-pattern-regex').fill('(');
  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/v1/shield/settings');
  await page.getByTestId('shield-save').click();
  const refused = await put;
  assert.equal(refused.status(), 422);
  const fields = (await refused.json()).errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['official_telegram', `secret_patterns[${before.secret_patterns.length}]`]);
  await page.getByTestId('shield-official-telegram-error').waitFor();
  assert.equal(await telegram.getAttribute('aria-invalid'), 'true');
  await added.getByTestId('shield-pattern-error').waitFor();
  assert.ok((await text(added.getByTestId('shield-pattern-error'))).length > 0, 'the pattern row says what is wrong');
  assert.equal(await rows.first().getByTestId('shield-pattern-error').isVisible(), false, 'only the bad row is marked');
  await page.getByTestId('shield-error').waitFor();
  assert.equal(await page.getByTestId('shield-error').locator('.alert-list').count(), 0, 'every field error found its field');
  assert.deepEqual((await shared.admin.ok('GET', '/shield/settings')).official_telegram, before.official_telegram, 'nothing stored');

  // Fixed: the bad row goes, @NebulaHelpDesk comes in; saved.
  await added.getByTestId('shield-pattern-remove').click();
  await telegram.fill([...before.official_telegram, '@NebulaHelpDesk'].join('\n'));
  assert.equal(await page.getByTestId('shield-official-telegram-error').isVisible(), false, 'typing clears the error');
  await page.getByTestId('shield-save').click();
  await toast(page, 'Security shield settings saved.').waitFor();
  const saved = await shared.admin.ok('GET', '/shield/settings');
  assert.deepEqual(saved.official_telegram, [...before.official_telegram, '@NebulaHelpDesk']);
  assert.deepEqual(saved.secret_patterns, before.secret_patterns, 'the patterns are kept');
  assert.deepEqual(saved.official_domains, before.official_domains);

  // After a reload the page shows what was saved.
  await page.reload();
  await waitUntil(async () => (await page.getByTestId('shield-official-telegram').inputValue()).includes('@NebulaHelpDesk'), 'the saved account after a reload');

  // The verification box: the new account is official, a lookalike of it is flagged.
  const input = page.getByTestId('shield-verify-input');
  const result = page.getByTestId('shield-verify-result');
  await input.fill('@NebulaHelpDesk');
  await page.getByTestId('shield-verify-submit').click();
  await waitUntil(async () => (await result.getAttribute('data-verdict')) === 'official', 'the "official" verdict');
  assert.equal(await result.getAttribute('data-kind'), 'telegram');
  assert.match(await text(result), /^Official: @NebulaHelpDesk/);
  assert.equal(await result.locator('.alert-success').count(), 1, 'official is green');

  await input.fill('@NebulaHe1pDesk');
  assert.equal(await result.getAttribute('data-verdict'), null, 'typing clears the old verdict');
  await page.getByTestId('shield-verify-submit').click();
  await waitUntil(async () => (await result.getAttribute('data-verdict')) === 'lookalike', 'the "lookalike" verdict');
  assert.equal((await result.getAttribute('data-lookalike-of')).toLowerCase(), '@nebulahelpdesk');
  assert.match(await text(result), /@NebulaHe1pDesk imitates @NebulaHelpDesk/i);
  assert.match(await text(result), /Reason: \S/, 'the reason in words');
  assert.equal(await result.locator('.alert-error').count(), 1, 'a lookalike is red');

  // Something that is none of the kinds: the server's message under the input.
  await input.fill('hello there');
  await page.getByTestId('shield-verify-submit').click();
  await page.getByTestId('shield-verify-input-error').waitFor();
  assert.equal(await result.getAttribute('data-verdict'), null);
  assert.deepEqual(problems, []);
}));

// --- 2. A customer shares a seed phrase and a lookalike link --------------------------------------------

test('a visitor sends a seed phrase and a lookalike link: the widget warns, the console shows the redaction and the flags', () => step('redaction', async () => {
  // An agent has the console open, so the team is online (no e-mail needed before the chat).
  const agent = await harness.consolePage('agent', server.credentials.agent);

  const customer = await newPage('customer');
  await customer.goto('/demo', { waitUntil: 'domcontentloaded' });
  await customer.getByTestId('kefu-launcher').click();
  await customer.getByTestId('kefu-panel').waitFor();
  const start = customer.getByTestId('kefu-new-conversation');
  if (await start.isVisible().catch(() => false)) await start.click();
  await customer.getByTestId('kefu-input').waitFor();
  const email = customer.getByTestId('kefu-prechat-email');
  if (await email.isVisible().catch(() => false)) await email.fill(`visitor-${suffix}@example.com`);
  const body = `Help ${suffix}: my wallet words are ${SEED} and I signed in at ${LOOKALIKE} yesterday`;
  await customer.getByTestId('kefu-input').fill(body);
  await customer.getByTestId('kefu-send').click();

  // The customer's own message, as stored: the phrase replaced, a red line under the link, and
  // the link no longer clickable.
  const mine = customer.locator('[data-testid="kefu-message"][data-author="customer"]').first();
  await waitForText(mine.getByTestId('kefu-message-body'), /\[REDACTED: seed phrase\]/, 15_000);
  const warning = mine.getByTestId('kefu-link-warning');
  await warning.waitFor();
  assert.equal(await warning.getAttribute('data-verdict'), 'lookalike');
  assert.equal(await warning.getAttribute('data-lookalike-of'), 'nebula.example');
  assert.equal(await text(warning), 'Warning: this link imitates nebula.example. Do not open it.');
  assert.equal(await mine.getByTestId('kefu-link-blocked').count(), 1, 'the lookalike link is plain text');
  assert.equal(await mine.locator('a[href*="nebula-examp1e"]').count(), 0);
  // The shield's warning to the customer.
  const system = customer.locator('[data-testid="kefu-message"][data-author="system"]');
  await waitForText(system.last().getByTestId('kefu-message-body'), /^Security warning: your message contained a seed phrase/);
  const panelHtml = await customer.getByTestId('kefu-panel').evaluate((el) => el.innerHTML);
  assert.ok(!panelHtml.includes('abandon'), 'the phrase is gone from the widget too');

  // The conversation, as the agents see it.
  const conv = await waitUntil(async () => {
    const list = (await shared.agent.ok('GET', '/conversations?view=all&limit=200')).items;
    return list.find((c) => c.channel === 'chat' && c.subject.includes(suffix));
  }, 'the chat in the conversation list');
  shared.conv = conv;
  assert.ok((conv.tags || []).includes('secret-shared'), `tagged secret-shared (${conv.tags})`);
  assert.equal(conv.priority, 'urgent');

  await agent.goto(`/console/conversations/${conv.number}`);
  await waitForText(agent.getByTestId('conversation-number'), `#${conv.number}`);
  const msg = agent.locator('[data-testid="timeline-message"][data-author="customer"]').first();
  await waitForText(msg.getByTestId('message-body'), /\[REDACTED: seed phrase\]/);
  assert.match(await text(msg.getByTestId('message-body')), new RegExp(`signed in at ${LOOKALIKE.replace(/[.]/g, '\\.')}`));
  const notice = msg.getByTestId('message-redacted');
  assert.equal(await text(notice), 'Secret removed before storing: seed phrase');
  assert.equal(await notice.getAttribute('data-kinds'), 'seed_phrase');
  const chip = msg.locator('[data-testid="link-flag"][data-verdict="lookalike"]');
  assert.equal(await chip.count(), 1);
  assert.equal(await chip.getAttribute('data-lookalike-of'), 'nebula.example');
  assert.match(await text(chip), /^Lookalike of nebula\.example: \S/);
  assert.ok(await chip.evaluate((el) => el.classList.contains('badge-danger')), 'the lookalike chip is red');

  // The tag, the activity line and the shield's message to the customer.
  await agent.locator('[data-testid="tag-chip"][data-tag="secret-shared"]').waitFor();
  const activity = agent.locator('[data-testid="timeline-activity"][data-kind="secret_redacted"]');
  assert.equal(await activity.count(), 1);
  assert.match(await text(activity.locator('.activity-text')),
    /^.+ removed a secret from the customer's message before storing it \(seed phrase\) and warned the customer$/);
  await waitForText(agent.locator('[data-testid="timeline-message"][data-author="system"]').last().getByTestId('message-body'), /^Security warning/);

  // The phrase is nowhere in the console page.
  const html = await agent.content();
  assert.ok(!html.includes('abandon'), 'the seed phrase never reaches the console page');

  // In Traditional Chinese, after a reload.
  await agent.evaluate(() => localStorage.setItem('kefu.lang', 'zh-TW'));
  await agent.reload();
  await waitForText(agent.locator('[data-testid="timeline-message"][data-author="customer"]').first().getByTestId('message-redacted'),
    '已在儲存前刪除機密資訊：助記詞');
  await waitForText(agent.locator('[data-testid="link-flag"][data-verdict="lookalike"]').first(), /^仿冒 nebula\.example：\S/);
  await agent.evaluate(() => localStorage.setItem('kefu.lang', 'en'));
  await agent.reload();
  await agent.getByTestId('composer-input').waitFor();
  assert.deepEqual(problems, []);
}));

// --- 3. An agent's reply with a link that is not allowed --------------------------------------------------

test('a reply linking to an unknown domain is refused in the composer and the draft stays', () => step('link refused', async () => {
  const agent = pages.get('agent') || await harness.consolePage('agent', server.credentials.agent);
  const conv = shared.conv;
  assert.ok(conv, 'the conversation of the previous test');
  if (!agent.url().endsWith(`/console/conversations/${conv.number}`)) await agent.goto(`/console/conversations/${conv.number}`);
  const input = agent.getByTestId('composer-input');
  await input.waitFor();
  const draft = `Please see https://evil-example.io for the steps ${suffix}`;
  await input.fill(draft);
  const post = agent.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1/conversations/${conv.id}/messages`);
  await agent.getByTestId('composer-send').click();
  const refused = await post;
  assert.equal(refused.status(), 422);
  const problem = await refused.json();
  assert.equal(problem.code, 'link_not_allowed');

  const error = agent.getByTestId('composer-error');
  await error.waitFor();
  assert.match(await text(error.locator('.alert-title')), /^This link cannot be sent to customers\.$/);
  assert.equal(await text(error.locator('.alert-detail')), problem.detail, 'the server\'s sentence');
  assert.match(problem.detail, /evil-example\.io/);
  assert.equal(await input.inputValue(), draft, 'the draft stays');
  const timeline = await shared.agent.ok('GET', `/conversations/${conv.id}/timeline`);
  assert.ok(!timeline.items.some((i) => i.type === 'message' && (i.body || '').includes('evil-example.io')), 'nothing was stored');

  // Private notes are not checked: the same text goes through as a note, and the error goes.
  await agent.getByTestId('composer-mode-note').click();
  assert.equal(await error.count(), 0, 'switching to a note clears the error');
  await agent.getByTestId('composer-send').click();
  const note = agent.locator('[data-testid="timeline-message"][data-private="true"]').last();
  await waitForText(note.getByTestId('message-body'), draft);
  assert.equal(await input.inputValue(), '', 'the composer is cleared after the note');
  assert.deepEqual(problems, []);
}));
