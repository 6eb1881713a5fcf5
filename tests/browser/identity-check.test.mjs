// End-to-end test of step-up identity checks against a real demo server:
//
//   1. a signed-in customer of the demo exchange chats in the widget on /demo; an agent opens
//      the chat in the console: the "Identity check" panel lists the methods (unavailable ones
//      disabled, with the reason), and a sensitive macro (created through the API) is locked in
//      the macro menu;
//   2. the agent asks for a fresh sign-in (`signed_session`) to reset 2FA; the widget shows the
//      card, the customer clicks "Confirm it's me" (demo.html's KefuChat.stepUp gets a freshly
//      signed token), the card goes and "Identity confirmed" shows; the agent's panel turns
//      "Verified", the timeline says so, and the sensitive macro runs;
//   3. the macros page marks sensitive macros and saves the "Sensitive" box;
//   4. five wrong answers (a stepUp that returns a bad token) fail the next check: the widget says
//      each try was wrong, the panel shows "Failed", and a supervisor's bell has the alert;
//   5. a fourth check within the hour is refused (429 identity_check_limited), said under the form;
//   6. portal: an exchange user with a ticket is asked for their authenticator code
//      (`exchange_totp`, checked by a stand-in for the exchange started here); a wrong code is
//      refused with the tries left, the right one confirms and the ticket reloads.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/identity-check.test.mjs
//
// Screenshots of failed steps go to artifacts/identity-check-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { createHarness, waitForText, waitUntil, text, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'identity-check-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const shared = {};

// A stand-in for the exchange's authenticator check (KEFU_TOTP_CHECK_URL): its user's current
// code is TOTP_CODE. It keeps what Kefu asked.
const TOTP_CODE = '246810';
const exchange = { server: null, asked: [] };

function startExchange() {
  exchange.server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      let body = {};
      try { body = JSON.parse(raw); } catch { /* not JSON */ }
      exchange.asked.push({ body, timestamp: req.headers['x-kefu-timestamp'], signature: req.headers['x-kefu-signature'] });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ valid: body.code === TOTP_CODE }));
    });
  });
  return new Promise((resolve) => exchange.server.listen(0, '127.0.0.1', () => resolve(exchange.server.address().port)));
}

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

/** The sensitive macro's entry in the open conversation's macro menu (opened first). */
async function openMacroItem(agent) {
  const trigger = agent.getByTestId('apply-macro');
  await trigger.waitFor();
  await trigger.click();
  const item = agent.locator(`[data-testid="macro-item"][data-id="${shared.macro.id}"]`);
  await item.waitFor();
  return item;
}

async function closeMenu(agent) {
  await agent.keyboard.press('Escape');
}

const panel = (agent) => agent.getByTestId('identity-check-panel');

async function waitForPanelState(agent, state, timeout = 15_000) {
  await waitUntil(async () => (await panel(agent).getAttribute('data-state').catch(() => null)) === state,
    `the identity check panel to say "${state}"`, timeout);
}

before(async () => {
  // The server reads KEFU_TOTP_CHECK_URL from the environment it is started with.
  const port = await startExchange();
  process.env.KEFU_TOTP_CHECK_URL = `http://127.0.0.1:${port}/totp-check`;
  server = await harness.start();
  shared.admin = await apiSession(server.credentials.admin);
  shared.agent = await apiSession(server.credentials.agent);
  shared.agentName = shared.agent.agent && shared.agent.agent.name;
  // The chat is between the customer and an agent: the demo's bot would answer first.
  const bot = await shared.admin.ok('GET', '/bot/settings');
  await shared.admin.ok('PUT', '/bot/settings', { ...bot, enabled: false });
  // A shared macro that acts on the customer's account: it needs a passed identity check.
  shared.tag = `2fa-reset-${suffix}`;
  shared.macro = await shared.admin.ok('POST', '/macros', {
    name: `Reset 2FA ${suffix}`, shared: true, sensitive: true,
    actions: [{ type: 'add_tags', tags: [shared.tag] }],
  });
  assert.equal(shared.macro.sensitive, true, 'the macro is stored as sensitive');
});

after(async () => {
  await harness.stop();
  if (exchange.server) exchange.server.close();
});

// --- 1. The chat, the panel, and a locked macro -------------------------------------------------

test('a signed-in customer chats; the agent sees the identity check panel and the sensitive macro locked', () => step('panel', async () => {
  // An agent has the console open, so the team is online.
  const agent = await harness.consolePage('agent', server.credentials.agent);

  const customer = await newPage('customer');
  await customer.goto('/demo');
  const asUser = customer.getByTestId('demo-as-user');
  await asUser.waitFor();
  await waitForText(asUser, /Signed in as/);
  await asUser.click();
  await customer.getByTestId('demo-user').waitFor();
  assert.equal(await customer.evaluate(() => typeof window.KefuChat.stepUp), 'function', 'the demo page gives the widget its stepUp hook');
  await customer.getByTestId('kefu-launcher').click();
  await customer.getByTestId('kefu-panel').waitFor();
  const start = customer.getByTestId('kefu-new-conversation');
  if (await start.isVisible().catch(() => false)) await start.click();
  const body = `I lost my phone and need to reset my 2FA ${suffix}`;
  await customer.getByTestId('kefu-input').fill(body);
  await customer.getByTestId('kefu-send').click();
  const sent = customer.locator('[data-testid="kefu-message"][data-author="customer"]').filter({ hasText: body });
  await waitUntil(async () => ['sent', 'read'].includes(await sent.getAttribute('data-state').catch(() => null)), 'the message to be acknowledged', 15_000);
  // (The demo customer has an ongoing chat: the widget continues it.)
  const convId = await customer.getByTestId('kefu-chat').getAttribute('data-conversation-id');
  assert.ok(convId, 'the widget shows a conversation');
  const conv = await shared.agent.ok('GET', `/conversations/${convId}`);
  assert.equal(conv.channel, 'chat');
  assert.equal(conv.verified_identity, true, 'the chat is from the signed-in customer');
  assert.equal(conv.identity_check ?? null, null, 'no identity check yet');
  shared.conv = conv;
  assert.equal(await customer.getByTestId('check-card').count(), 0, 'no check card before the agent asks');

  const listed = await shared.agent.ok('GET', `/conversations/${convId}/identity-checks`);
  assert.equal(listed.verified, false);
  const session = listed.methods.find((m) => m.method === 'signed_session');
  assert.ok(session && session.available, `a fresh sign-in can be asked for (${JSON.stringify(listed.methods)})`);

  // The agent opens the chat: the panel, the methods, the suggestion for a sensitive intent.
  await agent.goto(`/console/conversations/${conv.number}`);
  await waitForText(agent.getByTestId('conversation-number'), `#${conv.number}`);
  await panel(agent).waitFor();
  await waitForPanelState(agent, 'none');
  const status = agent.getByTestId('identity-check-status');
  await waitForText(status, 'Not checked');
  if (listed.suggested) {
    await agent.getByTestId('identity-check-suggested').waitFor();
    assert.match(await text(agent.getByTestId('identity-check-suggested')), /Sensitive request/);
  } else {
    assert.equal(await agent.getByTestId('identity-check-suggested').count(), 0);
  }
  const method = agent.getByTestId('identity-check-method');
  await method.waitFor();
  const options = await method.locator('option').evaluateAll((els) => els.map((o) => ({
    value: o.value, disabled: o.disabled, title: o.title, text: o.textContent,
  })));
  assert.deepEqual(options.map((o) => o.value), listed.methods.map((m) => m.method), 'one option per method, in order');
  for (const m of listed.methods) {
    const o = options.find((x) => x.value === m.method);
    assert.equal(o.disabled, !m.available, `${m.method}: disabled exactly when unavailable`);
    if (!m.available) {
      assert.equal(o.title, m.unavailable_reason, `${m.method}: the reason as the option's title`);
      assert.match(o.text, /\(unavailable\)$/);
      assert.match(await text(agent.locator(`[data-testid="identity-check-unavailable"] li[data-method="${m.method}"]`)),
        new RegExp(m.unavailable_reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${m.method}: the reason in the hint list`);
    }
  }
  const reasons = await agent.getByTestId('identity-check-reason').locator('option').evaluateAll((els) => els.map((o) => o.value));
  assert.deepEqual(reasons, ['account_unlock', 'twofa_reset', 'contact_change', 'withdrawal_dispute', 'security_hacked', 'close_account', 'other']);

  // The sensitive macro is in the menu, locked, with the reason.
  const item = await openMacroItem(agent);
  assert.equal(await item.getAttribute('data-sensitive'), 'true');
  assert.equal(await item.isDisabled(), true, 'a sensitive macro is disabled before the check');
  assert.equal(await text(item.getByTestId('macro-item-hint')), 'Needs a passed identity check');
  assert.equal(await item.getAttribute('title'), 'Needs a passed identity check');
  assert.equal(await item.locator('.icon-lock').count(), 1, 'a lock marker');
  await closeMenu(agent);

  // The server agrees: applying it now is refused.
  const refused = await shared.agent.call('POST', `/conversations/${convId}/apply-macro`, { macro_id: shared.macro.id, version: conv.version });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'identity_check_required');
  assert.deepEqual(problems, []);
}));

// --- 2. A fresh sign-in to reset 2FA ----------------------------------------------------------------

test('the agent asks for a fresh sign-in; the customer confirms in the widget; the panel turns verified and the macro runs', () => step('signed session', async () => {
  const agent = pages.get('agent');
  const customer = pages.get('customer');
  const conv = shared.conv;
  assert.ok(agent && customer && conv, 'the pages and the chat of the previous test');

  await agent.getByTestId('identity-check-method').selectOption('signed_session');
  await agent.getByTestId('identity-check-reason').selectOption('twofa_reset');
  await waitForText(agent.getByTestId('identity-check-method-hint'), /signs in to the exchange again/);
  const post = agent.waitForResponse((r) => r.request().method() === 'POST'
    && new URL(r.url()).pathname === `/api/v1/conversations/${conv.id}/identity-checks`);
  await agent.getByTestId('identity-check-start').click();
  const started = await post;
  assert.equal(started.status(), 201, `the check starts (${await started.text()})`);
  const check = await started.json();
  assert.equal(check.method, 'signed_session');
  assert.equal(check.reason, 'twofa_reset');
  assert.equal(check.status, 'pending');
  await toast(agent, 'Identity check sent to the customer (Fresh sign-in).').waitFor();
  await waitForPanelState(agent, 'pending');
  await waitForText(agent.getByTestId('identity-check-status'), 'Waiting for customer');
  assert.match(await text(agent.getByTestId('identity-check-summary')), /Waiting for the customer to answer \(Fresh sign-in\)/);
  assert.match(await text(agent.getByTestId('identity-check-summary')), /Reset two-factor authentication/);
  await waitForText(agent.getByTestId('identity-check-attempts'), `Tries left: ${check.attempts_left}`);
  await agent.locator(`[data-testid="identity-check-item"][data-id="${check.id}"][data-status="pending"]`).waitFor();
  const requested = agent.locator('[data-testid="timeline-activity"][data-kind="identity_check_requested"]');
  await waitForText(requested.last().locator('.activity-text'),
    `${shared.agentName} asked the customer to verify their identity (Fresh sign-in, Reset two-factor authentication)`);
  // Still locked while the check is pending.
  const pendingItem = await openMacroItem(agent);
  assert.equal(await pendingItem.isDisabled(), true, 'still locked while the customer has not answered');
  await closeMenu(agent);

  // The widget asks the customer, in English, with the "Confirm it's me" button.
  const card = customer.getByTestId('check-card');
  await card.waitFor({ timeout: 15_000 });
  assert.equal(await card.getAttribute('data-method'), 'signed_session');
  assert.equal(await card.getAttribute('data-check-id'), check.id);
  assert.match(await text(card), /Confirm it's you/);
  assert.equal(await text(customer.getByTestId('check-reason')), 'Request: Resetting your two-factor authentication (2FA)');
  assert.equal(await text(customer.getByTestId('check-how')), 'Sign in to your account again to confirm.');
  assert.equal(await customer.getByTestId('check-code').count(), 0, 'no code box for a fresh sign-in');
  const confirm = customer.getByTestId('check-submit');
  assert.equal(await text(confirm), "Confirm it's me");
  // The system message that asks, in the chat.
  await waitUntil(async () => (await customer.locator('[data-testid="kefu-message"][data-author="system"]').count()) > 0,
    'the system message asking for the check');

  // The customer confirms: the page's stepUp hook fetches a freshly signed token.
  const fresh = customer.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/chat/demo-identity'
    && new URL(r.url()).searchParams.get('fresh') === '1');
  await confirm.click();
  const token = await fresh;
  assert.equal(token.status(), 200);
  assert.ok((await token.json()).token, 'the demo server signed a token');
  await customer.getByTestId('check-confirmed').waitFor({ timeout: 15_000 });
  assert.equal(await text(customer.getByTestId('check-confirmed')), 'Identity confirmed. Thank you!');
  assert.equal(await customer.getByTestId('check-card').count(), 0, 'the card is gone once passed');
  // "Identity confirmed" is brief.
  await waitUntil(async () => (await customer.getByTestId('check-confirmed').count()) === 0, 'the confirmation to go', 12_000);

  // The server has it passed, with a window for sensitive actions.
  const after = await shared.agent.ok('GET', `/conversations/${conv.id}/identity-checks`);
  assert.equal(after.verified, true);
  assert.equal(after.checks[0].id, check.id);
  assert.equal(after.checks[0].status, 'passed');
  assert.ok(Date.parse(after.checks[0].verified_until) > Date.now(), 'verified for a while');
  const latest = await shared.agent.ok('GET', `/conversations/${conv.id}`);
  assert.equal(latest.identity_check.status, 'passed');

  // The agent's panel turns "Verified" live, and the timeline says so.
  await waitForPanelState(agent, 'verified');
  await waitForText(agent.getByTestId('identity-check-status'), 'Verified');
  assert.match(await text(agent.getByTestId('identity-check-summary')), /^Verified until \S/);
  assert.equal(await agent.getByTestId('identity-check-suggested').count(), 0, 'no suggestion once verified');
  await agent.locator(`[data-testid="identity-check-item"][data-id="${check.id}"][data-status="passed"]`).waitFor();
  const passed = agent.locator('[data-testid="timeline-activity"][data-kind="identity_check_passed"]');
  await waitForText(passed.last().locator('.activity-text'), /^.+ passed the identity check \(Fresh sign-in\)$/);

  // The sensitive macro is unlocked and runs.
  const item = await openMacroItem(agent);
  await waitUntil(async () => !(await item.isDisabled()), 'the sensitive macro to be enabled');
  assert.equal(await item.getByTestId('macro-item-hint').count(), 0, 'no "needs a check" hint once verified');
  await item.click();
  await toast(agent, `Macro “${shared.macro.name}” applied.`).waitFor();
  await agent.locator(`[data-testid="tag-chip"][data-tag="${shared.tag}"]`).waitFor();
  assert.ok((await shared.agent.ok('GET', `/conversations/${conv.id}`)).tags.includes(shared.tag), 'the macro ran');
  assert.deepEqual(problems, []);
}));

// --- 3. The macros page -------------------------------------------------------------------------------

test('the macros page marks sensitive macros and saves the "Sensitive" box', () => step('macros page', async () => {
  const agent = pages.get('agent');
  await agent.goto('/console/macros');
  const row = agent.locator(`[data-testid="macro-row"][data-id="${shared.macro.id}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-sensitive'), 'true');
  assert.equal(await text(row.getByTestId('macro-sensitive')), 'Sensitive');

  const name = `Change e-mail ${suffix}`;
  await agent.getByTestId('macro-new').click();
  await agent.getByTestId('macro-dialog').waitFor();
  const box = agent.getByTestId('macro-form-sensitive');
  assert.equal(await box.isChecked(), false, 'not sensitive by default');
  await agent.getByTestId('macro-form-name').fill(name);
  await box.check();
  await agent.getByTestId('macro-form-submit').click();
  await toast(agent, `Macro “${name}” created.`).waitFor();
  const created = (await shared.agent.ok('GET', '/macros')).items.find((m) => m.name === name);
  assert.ok(created, 'the macro is stored');
  assert.equal(created.sensitive, true, 'saved as sensitive');
  const createdRow = agent.locator(`[data-testid="macro-row"][data-id="${created.id}"]`);
  await createdRow.getByTestId('macro-sensitive').waitFor();

  // Edited: the box shows what is stored, and unticking it is saved too.
  await createdRow.getByTestId('macro-actions-menu').click();
  await agent.locator('[data-testid="macro-edit"]:visible').click();
  await agent.getByTestId('macro-dialog').waitFor();
  assert.equal(await agent.getByTestId('macro-form-sensitive').isChecked(), true);
  await agent.getByTestId('macro-form-sensitive').uncheck();
  await agent.getByTestId('macro-form-submit').click();
  await toast(agent, `Macro “${name}” saved.`).waitFor();
  assert.equal((await shared.agent.ok('GET', '/macros')).items.find((m) => m.id === created.id).sensitive, false);
  await waitUntil(async () => (await createdRow.getAttribute('data-sensitive')) === 'false', 'the row to lose its marker');
  assert.equal(await createdRow.getByTestId('macro-sensitive').count(), 0);
  assert.deepEqual(problems, []);
}));

// --- 4. Five wrong answers ------------------------------------------------------------------------------

test('five wrong answers fail the check: the widget says so, the panel shows it, a supervisor is alerted', () => step('failed', async () => {
  const agent = pages.get('agent');
  const customer = pages.get('customer');
  const conv = shared.conv;
  const supervisor = await harness.consolePage('supervisor', server.credentials.supervisor);
  await agent.goto(`/console/conversations/${conv.number}`);
  await waitForPanelState(agent, 'verified');

  // A customer whose sign-in does not prove anything: the host page's hook gives a bad token.
  await customer.evaluate(() => { window.KefuChat.stepUp = () => Promise.resolve({ token: 'not-a-signed-token' }); });
  await agent.getByTestId('identity-check-method').selectOption('signed_session');
  await agent.getByTestId('identity-check-reason').selectOption('account_unlock');
  await agent.getByTestId('identity-check-start').click();
  await waitForPanelState(agent, 'pending');
  // A new check ends the verification: the macro is locked again.
  const item = await openMacroItem(agent);
  assert.equal(await item.isDisabled(), true, 'locked again while a new check is pending');
  await closeMenu(agent);

  const card = customer.getByTestId('check-card');
  await card.waitFor({ timeout: 15_000 });
  assert.equal(await text(customer.getByTestId('check-reason')), 'Request: Unlocking your account');
  const attempts = customer.getByTestId('check-attempts');
  await waitForText(attempts, '5 tries left');
  for (let left = 4; left >= 1; left--) {
    await customer.getByTestId('check-submit').click();
    await waitForText(customer.getByTestId('check-error'), 'We could not confirm your sign-in. Please try again.');
    await waitForText(attempts, `${left} ${left === 1 ? 'try' : 'tries'} left`);
    await waitUntil(async () => !(await customer.getByTestId('check-submit').isDisabled()), 'the button to be ready again');
  }
  await customer.getByTestId('check-submit').click();
  await waitUntil(async () => (await customer.getByTestId('check-card').count()) === 0, 'the card to go when the check failed', 15_000);
  assert.equal(await customer.getByTestId('check-confirmed').count(), 0, 'no "confirmed" for a failed check');

  // The panel, live.
  await waitForPanelState(agent, 'failed');
  await waitForText(agent.getByTestId('identity-check-status'), 'Failed');
  assert.match(await text(agent.getByTestId('identity-check-summary')), /too many wrong answers/);
  await waitForText(agent.locator('[data-testid="timeline-activity"][data-kind="identity_check_failed"]').last().locator('.activity-text'),
    /^.+ failed the identity check \(Fresh sign-in\) after 5 wrong answers$/);

  // The supervisor's bell.
  const contactName = (await shared.agent.ok('GET', `/contacts/${conv.contact_id}`)).name;
  const bell = supervisor.getByTestId('notifications-bell');
  await waitUntil(async () => (await supervisor.getByTestId('notifications-count').isVisible()), 'an unread notification', 15_000);
  await bell.click();
  const alertItem = supervisor.locator('[data-testid="notification-item"][data-kind="identity_check_failed"]');
  await alertItem.first().waitFor();
  assert.match(await text(alertItem.first().locator('.bell-item-title')),
    new RegExp(`^Identity check failed: ${contactName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in #${conv.number}$`));
  await alertItem.first().click();
  await supervisor.waitForURL(`**/console/conversations/${conv.number}`);
  await waitForPanelState(supervisor, 'failed');
  assert.deepEqual(problems, []);
}));

// --- 5. The hourly limit -----------------------------------------------------------------------------------

test('a fourth check within the hour is refused and the panel says until when', () => step('limited', async () => {
  const agent = pages.get('agent');
  const conv = shared.conv;
  // Two checks so far: the third goes out, the fourth is refused.
  await agent.getByTestId('identity-check-method').selectOption('signed_session');
  await agent.getByTestId('identity-check-start').click();
  await waitForPanelState(agent, 'pending');
  const post = agent.waitForResponse((r) => r.request().method() === 'POST'
    && new URL(r.url()).pathname === `/api/v1/conversations/${conv.id}/identity-checks`);
  await agent.getByTestId('identity-check-start').click();
  const refused = await post;
  assert.equal(refused.status(), 429);
  assert.equal((await refused.json()).code, 'identity_check_limited');
  const error = agent.getByTestId('identity-check-error');
  await error.waitFor();
  assert.equal(await text(error.locator('.alert-title')), 'Too many identity checks for this customer.');
  assert.match(await text(error.locator('.alert-detail')), /^At most 3 checks per customer in an hour\. You can start another at \S/);
  await waitForPanelState(agent, 'pending');
  assert.deepEqual(problems, []);
}));

// --- 6. The portal: an authenticator code ------------------------------------------------------------

test('in the portal an exchange user answers an authenticator-code check: a wrong code, then the right one', () => step('portal', async () => {
  // The exchange signs its users for the portal with this secret (the chat above is done).
  const secret = `identity-secret-${suffix}-0123456789`;
  const put = await shared.admin.call('PUT', '/settings/portal', { identity_secret: secret });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const userId = `NB-${suffix}`;
  const name = `Zhou Min ${suffix}`;
  const hash = crypto.createHmac('sha256', secret).update(userId).digest('hex');
  const q = new URLSearchParams({ user_id: userId, user_hash: hash, email: `zhou.${suffix}@example.com`, name }).toString();

  const page = await newPage('portal');
  await page.goto(`/portal/sso?${q}`);
  await page.waitForURL('**/portal');
  const subject = `Change my phone number ${suffix}`;
  await page.getByTestId('portal-open-ticket').click();
  await page.getByTestId('new-category').selectOption('account');
  await page.getByTestId('new-subject').fill(subject);
  await page.getByTestId('new-description').fill('I have a new phone number and cannot receive SMS codes any more.');
  await page.getByTestId('new-submit').click();
  await page.waitForURL('**/portal/tickets/*');
  await waitForText(page.getByTestId('ticket-subject'), subject);
  assert.equal(await page.getByTestId('check-card').count(), 0, 'no card before an agent asks');

  const conv = await waitUntil(async () => {
    const list = (await shared.agent.ok('GET', '/conversations?view=all&limit=200')).items;
    return list.find((c) => c.subject === subject);
  }, 'the ticket in the conversation list');
  assert.equal(conv.channel, 'portal');
  const methods = (await shared.agent.ok('GET', `/conversations/${conv.id}/identity-checks`)).methods;
  const totp = methods.find((m) => m.method === 'exchange_totp');
  assert.ok(totp && totp.available, `the authenticator check can be used (${JSON.stringify(methods)})`);
  const check = await shared.agent.ok('POST', `/conversations/${conv.id}/identity-checks`, { method: 'exchange_totp', reason: 'contact_change' });
  assert.equal(check.status, 'pending');

  // The ticket page (reloaded rather than waiting for its poll) asks for the code.
  await page.reload();
  const card = page.getByTestId('check-card');
  await card.waitFor();
  assert.equal(await card.getAttribute('data-method'), 'exchange_totp');
  assert.equal(await card.getAttribute('data-check-id'), check.id);
  assert.equal(await text(page.getByTestId('check-reason')), 'Request: Changing your email address or phone number');
  assert.equal(await text(page.getByTestId('check-how')), 'Enter the 6-digit code from the authenticator app linked to your exchange account.');
  const code = page.getByTestId('check-code');
  assert.equal(await code.getAttribute('inputmode'), 'numeric');
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  await waitForText(page.getByTestId('check-attempts'), 'Tries left: 5');

  // Too short: said here, nothing sent.
  await code.fill('2468');
  await page.getByTestId('check-submit').click();
  await waitForText(page.getByTestId('check-error'), 'Enter the 6 digits of the code.');
  assert.equal(exchange.asked.length, 0, 'nothing asked of the exchange');

  // A wrong code: the exchange says no; one try fewer.
  await code.fill('111111');
  const wrong = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/identity-checks/${check.id}`));
  await page.getByTestId('check-submit').click();
  const refused = await wrong;
  assert.equal(refused.status(), 422);
  assert.equal((await refused.json()).code, 'identity_check_failed');
  assert.equal(refused.request().headers()['x-kefu-portal'], '1', 'the portal\'s write header');
  await waitForText(page.getByTestId('check-error'), 'That code is not right. Tries left: 4.');
  await waitForText(page.getByTestId('check-attempts'), 'Tries left: 4');
  assert.equal(await code.inputValue(), '', 'the wrong code is cleared');
  assert.deepEqual(exchange.asked.map((a) => a.body), [{ user_id: userId, code: '111111' }]);
  assert.match(exchange.asked[0].signature || '', /^v1=[0-9a-f]{64}$/, 'Kefu signs its question to the exchange');

  // The right code, typed with a space: confirmed, and the ticket reloads with the system message.
  await code.fill('246 810');
  assert.equal(await code.inputValue(), TOTP_CODE, 'only the digits are kept');
  await code.press('Enter');
  await page.getByTestId('check-confirmed').waitFor();
  assert.match(await text(page.getByTestId('check-confirmed')), /^Identity confirmed/);
  assert.equal(await page.getByTestId('check-card').count(), 0);
  await waitUntil(async () => (await page.locator('[data-testid="message"][data-author-kind="system"]').count()) >= 2,
    'the system messages (asked, confirmed) on the ticket');
  const after = await shared.agent.ok('GET', `/conversations/${conv.id}/identity-checks`);
  assert.equal(after.verified, true);
  assert.equal(after.checks[0].status, 'passed');
  assert.deepEqual(problems, []);
}));
