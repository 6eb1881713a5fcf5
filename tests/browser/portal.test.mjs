// End-to-end test of the customer ticket portal (/portal) in a real browser.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/portal.test.mjs
//
// Starts `KEFU_BIN serve --demo` (see server.mjs), drives Debian's Chromium
// through playwright-core as a customer, and plays the support agent and the
// admin through the REST API. Screenshots of failing steps go to
// artifacts/portal-*.png. The scenarios build on each other (the ticket
// opened in the first one is answered in the second, ...).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHarness, makePng, waitForText, waitUntil } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const harness = createHarness({ artifactPrefix: 'portal-' });
const { pages, problems, newPage, closePage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const customer = {
  name: `Li Wei ${suffix}`,
  email: `li.wei.${suffix}@example.com`,
  subject: `USDT withdrawal not received ${suffix}`,
  description: `I withdrew 250 USDT on TRON two hours ago.\nTXID: ${suffix}abc`,
};
let ticketId = null;
let privateLink = null;

// --- The agent and the admin, through the REST API ----------------------------------------

/** Sign in with e-mail and password; returns a small client that keeps the cookie and CSRF token. */
async function apiSignIn({ email, password }) {
  const res = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `login ${email}: ${JSON.stringify(body)}`);
  assert.equal(body.status, 'ok', `login ${email} needs a second factor: ${JSON.stringify(body)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = body.session.csrf_token;
  const call = async (method, p, json) => {
    const r = await fetch(`${server.baseUrl}/api/v1${p}`, {
      method,
      headers: {
        Cookie: cookie, Accept: 'application/json',
        ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(method !== 'GET' ? { 'X-CSRF-Token': csrf } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
    const t = await r.text();
    return { status: r.status, body: t ? JSON.parse(t) : null };
  };
  return { agent: body.session.agent, call };
}

before(async () => {
  server = await harness.start();
});

after(() => harness.stop());

// --- Catalogues (no browser needed) --------------------------------------------------------

const LANGS = ['en', 'zh-CN', 'zh-TW'];
const loadCatalogue = async (lang) =>
  JSON.parse(await readFile(path.join(ROOT, 'web-assets/portal/i18n', `${lang}.json`), 'utf8'));
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('the portal catalogues have the same keys and placeholders, translated, covering every key the portal uses', async () => {
  const en = await loadCatalogue('en');
  for (const lang of LANGS) {
    const cat = await loadCatalogue(lang);
    assert.deepEqual(Object.keys(cat).sort(), Object.keys(en).sort(), `${lang}: keys differ from en.json`);
    for (const [key, value] of Object.entries(cat)) {
      assert.ok(typeof value === 'string' && value.trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(en[key]), `${lang}: ${key} placeholders differ`);
    }
    if (lang !== 'en') {
      for (const key of ['home.openTicket', 'new.submit', 'opened.keepLink', 'status.open', 'reply.send']) {
        assert.match(cat[key], /[\u4e00-\u9fff]/, `${lang}: ${key} is not translated`);
      }
    }
  }
  assert.notEqual((await loadCatalogue('zh-CN'))['category.withdrawal'], (await loadCatalogue('zh-TW'))['category.withdrawal']);
  // Every literal key in the portal's code and every key shared/ui.js looks up.
  const files = [path.join(ROOT, 'web-assets/shared/ui.js')];
  const walk = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.js')) files.push(p);
    }
  };
  await walk(path.join(ROOT, 'web-assets/portal'));
  const missing = [];
  for (const f of files) {
    const src = await readFile(f, 'utf8');
    for (const m of src.matchAll(/\b(?:tr|t)\(\s*'([^']+)'/g)) if (!(m[1] in en)) missing.push(`${path.relative(ROOT, f)}: ${m[1]}`);
  }
  for (const s of ['open', 'pending', 'on_hold', 'resolved', 'closed']) {
    for (const k of [`status.${s}`, `status.${s}.help`]) if (!(k in en)) missing.push(k);
  }
  for (const c of ['account', 'deposit', 'withdrawal', 'trading', 'security', 'other']) if (!(`category.${c}` in en)) missing.push(`category.${c}`);
  assert.deepEqual(missing, []);
});

// --- Scenarios -----------------------------------------------------------------------------

test('a customer opens a ticket with a screenshot, sees the private link once and then the ticket', () => step('open ticket', async () => {
  const page = await newPage('customer');
  await page.goto('/portal');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByTestId('portal-intro').waitFor();
  await page.getByTestId('portal-open-ticket').click();
  await page.waitForURL('**/portal/new');
  await page.getByTestId('new-ticket-form').waitFor();

  // Sending an incomplete form shows errors next to the fields and keeps what was typed.
  await page.getByTestId('new-subject').fill(customer.subject);
  await page.getByTestId('new-submit').click();
  await waitForText(page.getByTestId('new-name-error'), 'Please fill in this field.');
  await waitForText(page.getByTestId('new-email-error'), 'Please fill in this field.');
  await waitForText(page.getByTestId('new-description-error'), 'Please fill in this field.');
  assert.equal(await page.getByTestId('new-subject').inputValue(), customer.subject);
  assert.equal(await page.getByTestId('new-subject-error').isVisible(), false);

  // A server-side field error (an address the server rejects) lands next to its field, typed text kept.
  await page.getByTestId('new-name').fill(customer.name);
  await page.getByTestId('new-email').fill('li.wei@example');
  await page.getByTestId('new-category').selectOption('withdrawal');
  await page.getByTestId('new-description').fill(customer.description);
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/portal/tickets') && r.request().method() === 'POST');
  await page.getByTestId('new-submit').click();
  assert.equal((await refused).status(), 422);
  await waitForText(page.getByTestId('new-email-error'), /valid email/);
  assert.equal(await page.getByTestId('new-name').inputValue(), customer.name);
  assert.equal(await page.getByTestId('new-description').inputValue(), customer.description);

  await page.getByTestId('new-email').fill(customer.email);
  await page.getByTestId('new-files-input').setInputFiles({ name: 'screenshot.png', mimeType: 'image/png', buffer: makePng(8, 8) });
  await waitForText(page.getByTestId('new-files-item'), /screenshot\.png/);
  await page.getByTestId('new-submit').click();

  await page.waitForURL('**/portal/tickets/*');
  ticketId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  const panel = page.getByTestId('private-link-panel');
  await panel.waitFor();
  await waitForText(panel, /Keep this link to come back/);
  privateLink = await page.getByTestId('private-link').inputValue();
  assert.match(privateLink, new RegExp(`^${server.baseUrl.replace(/[.]/g, '\\.')}/portal/t/[^/]+$`));
  await page.getByTestId('private-link-copy').waitFor();

  await waitForText(page.getByTestId('ticket-subject'), customer.subject);
  await waitForText(page.getByTestId('ticket-status'), 'Open');
  await waitForText(page.getByTestId('ticket-handler'), /Not yet assigned/);
  const first = page.getByTestId('message').first();
  assert.equal(await first.getAttribute('data-author-kind'), 'customer');
  // Browsers send multipart text with CRLF line breaks; compare the text, not the line-break bytes.
  const shown = await waitUntil(async () => {
    const t = (await first.getByTestId('message-body').textContent()) || '';
    return t.includes(suffix) ? t : null;
  }, 'the description in the first message');
  assert.equal(shown.replace(/\r\n/g, '\n').trim(), customer.description);
  const thumb = first.getByTestId('attachment-thumbnail');
  await thumb.waitFor();
  assert.equal(await thumb.getAttribute('alt'), 'screenshot.png');
  await waitUntil(() => thumb.evaluate((img) => img.complete && img.naturalWidth > 0), 'the thumbnail to load');

  // The link is shown once: after a reload the ticket is still there, the link panel is not.
  await page.reload();
  await waitForText(page.getByTestId('ticket-subject'), customer.subject);
  assert.equal(await page.getByTestId('private-link-panel').count(), 0);
}));

test('an agent answers and resolves through the API; the customer sees it with the agent\'s name and replies, reopening the ticket', () => step('agent reply', async () => {
  assert.ok(ticketId, 'needs the ticket from the previous scenario');
  const agent = await apiSignIn(server.credentials.agent);
  const conv = await agent.call('GET', `/conversations/${ticketId}`);
  assert.equal(conv.status, 200, JSON.stringify(conv.body));
  const assign = await agent.call('PATCH', `/conversations/${ticketId}`, { version: conv.body.version, assignee_id: agent.agent.id });
  assert.equal(assign.status, 200, JSON.stringify(assign.body));
  const agentText = `Hello, the withdrawal ${suffix} was completed on the TRON network.`;
  const posted = await agent.call('POST', `/conversations/${ticketId}/messages`, { body: agentText, status: 'resolved', client_key: `agent-${suffix}` });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));

  const page = pages.get('customer');
  await page.reload();
  const agentMsg = page.locator('[data-testid="message"][data-author-kind="agent"]').last();
  await waitForText(agentMsg.getByTestId('message-body'), agentText);
  await waitForText(agentMsg.getByTestId('message-author'), agent.agent.name);
  await waitForText(page.getByTestId('ticket-handler'), agent.agent.name);
  await waitForText(page.getByTestId('ticket-status'), 'Resolved');
  await waitForText(page.getByTestId('reply-reopens'), /opens it again/);

  const reply = `Thanks! TXID again: ${suffix}abc`;
  await page.getByTestId('reply-body').fill(reply);
  await page.getByTestId('reply-submit').click();
  const mine = page.locator('[data-testid="message"][data-author-kind="customer"]').last();
  await waitForText(mine.getByTestId('message-body'), reply);
  await waitForText(page.getByTestId('ticket-status'), 'Open');
  assert.equal(await page.getByTestId('reply-body').inputValue(), '');
  assert.equal(await page.locator('[data-testid="message"][data-author-kind="customer"]').count(), 2);

  const after = await agent.call('GET', `/conversations/${ticketId}`);
  assert.equal(after.body.status, 'open');
  const timeline = await agent.call('GET', `/conversations/${ticketId}/timeline`);
  assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
  const dump = JSON.stringify(timeline.body);
  assert.ok(dump.includes(reply), 'the customer\'s reply is in the conversation');
  assert.equal(dump.split(reply).length - 1, 1, 'the reply is stored exactly once');

  // The list shows the ticket with its status, who handles it and the last update.
  await page.goto('/portal');
  const item = page.locator(`[data-testid="ticket-item"][data-id="${ticketId}"]`);
  await waitForText(item.getByTestId('ticket-item-subject'), customer.subject);
  await waitForText(item.getByTestId('ticket-item-status'), 'Open');
  await waitForText(item.getByTestId('ticket-item-handler'), `Handled by ${agent.agent.name}`);
}));

test('the private link signs a fresh browser in to the ticket; without it the ticket stays hidden', () => step('magic link', async () => {
  assert.ok(privateLink, 'needs the link from the first scenario');
  const page = await newPage('magic');
  await page.goto(privateLink);
  await page.waitForURL(`**/portal/tickets/${ticketId}`);
  await waitForText(page.getByTestId('ticket-subject'), customer.subject);
  assert.ok(!page.url().includes('/portal/t/'), 'the token leaves the address bar');

  const stranger = await newPage('stranger');
  await stranger.goto(`/portal/tickets/${ticketId}`);
  await stranger.getByTestId('portal-signed-out').waitFor();
  assert.equal(await stranger.getByTestId('ticket-subject').count(), 0);
  assert.equal(await stranger.getByText(customer.description).count(), 0);
  const direct = await stranger.request.get(`/api/v1/portal/tickets/${ticketId}`);
  assert.equal(direct.status(), 401);

  await stranger.goto('/portal/t/not-a-real-token');
  await waitForText(stranger.getByTestId('portal-link-invalid'), /invalid or has expired/);
  await stranger.getByTestId('portal-open-ticket').waitFor();

  // Signing out ends the magic-link session.
  await page.getByTestId('portal-sign-out').click();
  await page.waitForURL('**/portal');
  await page.getByTestId('portal-intro').waitFor();
  await page.goto(`/portal/tickets/${ticketId}`);
  await page.getByTestId('portal-signed-out').waitFor();
  await closePage('magic');
  await closePage('stranger');
}));

test('the portal speaks the browser\'s language (zh-CN) and the switcher changes it', () => step('zh-CN', async () => {
  const page = await newPage('zh', { locale: 'zh-CN' });
  await page.goto('/portal');
  await page.getByTestId('portal-intro').waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await waitForText(page.getByTestId('portal-open-ticket'), '提交工单');
  await waitForText(page.locator('h1'), '需要什么帮助？');
  await page.getByTestId('portal-open-ticket').click();
  await waitForText(page.locator('label[for^="f-category"]'), '问题类型');
  await page.getByTestId('portal-language').selectOption('zh-TW');
  await waitForText(page.locator('label[for^="f-category"]'), '問題類型');
  await page.getByTestId('portal-language').selectOption('en');
  await waitForText(page.locator('label[for^="f-category"]'), 'Topic');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await closePage('zh');
}));

test('an exchange user signs in with a signed identity and sees their tickets; a wrong signature is refused', () => step('exchange sso', async () => {
  const admin = await apiSignIn(server.credentials.admin);
  const secret = `portal-secret-${suffix}-0123456789`;
  const put = await admin.call('PUT', '/settings/portal', { identity_secret: secret });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.has_identity_secret, true);

  const userId = `uid-${suffix}`;
  const hash = crypto.createHmac('sha256', secret).update(userId).digest('hex');
  const name = `Chen Jing ${suffix}`;
  const q = (h) => new URLSearchParams({ user_id: userId, user_hash: h, email: `chen.${suffix}@example.com`, name }).toString();

  const page = await newPage('exchange-user');
  await page.goto(`/portal/sso?${q(hash)}`);
  await page.waitForURL('**/portal');
  await waitForText(page.getByTestId('portal-contact'), `Signed in as ${name}`);
  await page.getByTestId('ticket-list-empty').waitFor();

  // A ticket opened while signed in joins the user's tickets.
  const subject = `Deposit missing ${suffix}`;
  await page.getByTestId('portal-open-ticket').click();
  assert.equal(await page.getByTestId('new-name').inputValue(), name);
  await page.getByTestId('new-category').selectOption('deposit');
  await page.getByTestId('new-subject').fill(subject);
  await page.getByTestId('new-description').fill('My BTC deposit has 3 confirmations but is not credited.');
  await page.getByTestId('new-submit').click();
  await page.waitForURL('**/portal/tickets/*');
  await waitForText(page.getByTestId('ticket-subject'), subject);
  await closePage('exchange-user');

  // Signing in again (new browser) lists the ticket: the identity, not a link, is what counts.
  const again = await newPage('exchange-user-2');
  await again.goto(`/portal/sso?${q(hash)}`);
  await again.waitForURL('**/portal');
  const items = again.getByTestId('ticket-item');
  await waitForText(items.first().getByTestId('ticket-item-subject'), subject);
  assert.equal(await items.count(), 1);
  assert.equal(await again.getByText(customer.subject).count(), 0, 'another customer\'s ticket is not listed');
  await closePage('exchange-user-2');

  const forged = await newPage('forged');
  const wrong = crypto.createHmac('sha256', 'not-the-secret-at-all').update(userId).digest('hex');
  await forged.goto(`/portal/sso?${q(wrong)}`);
  await waitForText(forged.getByTestId('portal-sso-error'), /could not sign you in/);
  assert.equal(await forged.getByTestId('ticket-list').count(), 0);
  assert.equal(await forged.getByTestId('portal-sign-out').count(), 0);
  const session = await forged.request.get('/api/v1/portal/session');
  assert.equal(session.status(), 401);
  await closePage('forged');
}));

test('no page broke the content security policy or threw', () => {
  assert.deepEqual(problems, []);
});
