// End-to-end tests of chats answered by e-mail (replies a customer misses in the live chat are
// mailed to them), in a real browser:
//
//   1. an admin sets when missed replies are mailed on the Channels page (3 minutes, then off),
//      and an out-of-range value is refused next to the field;
//   2. offline, with replies mailed, the widget asks an anonymous visitor for an e-mail address
//      with a line saying why (a bad address is refused in the widget); the console shows the
//      typed address on the contact as "Unverified e-mail", masked until revealed;
//   3. a reply that was mailed is tagged "Emailed" in the conversation's timeline.
//
// The test server has no outbound mail server ([smtp]), so the widget is told `email_follow_up:
// false`, and nothing is ever mailed: (2) rewrites the widget's configuration in the page to say
// the team is offline and replies are mailed, and (3) marks one reply of the real timeline answer
// as mailed (`delivery.email: "sent"`), to check what the console makes of it.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/chat-follow-up.test.mjs
//
// Screenshots of failed steps go to artifacts/chat-follow-up-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, masked, waitForText, waitUntil, text, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'chat-follow-up-' });
const { problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

const customerMessages = (page) => page.locator('[data-testid="kefu-message"][data-author="customer"]');

before(async () => {
  server = await harness.start();
  seeded.admin = await apiSession(server.credentials.admin);
  seeded.agent = await apiSession(server.credentials.agent);
  seeded.settings = await seeded.admin.ok('GET', '/settings/chat');
  assert.ok(seeded.settings.widget_id, 'the chat has a widget id');
});

after(() => harness.stop());

// --- 1. The setting on the Channels page -------------------------------------------------------------

test('an admin sets when missed chat replies are mailed, turns it off, and a value out of range is refused', () => step('channels follow-up', async () => {
  assert.equal(seeded.settings.email_follow_up_minutes, 5, 'five minutes by default');
  const page = await harness.consolePage('admin', server.credentials.admin);
  await page.getByTestId('nav-channels').click();
  await page.waitForURL('**/console/admin/channels');
  const box = page.getByTestId('chat-follow-up');
  const minutes = page.getByTestId('chat-follow-up-minutes');
  await minutes.waitFor();
  assert.equal(await box.isChecked(), true);
  assert.equal(await minutes.inputValue(), '5');
  assert.equal(await minutes.isDisabled(), false);
  // Labelled controls; the hint says a mail server is needed.
  assert.equal(await box.evaluate((el) => el.labels[0].textContent.trim().startsWith('E-mail replies the customer misses')), true);
  assert.match(await minutes.evaluate((el) => el.labels[0].textContent), /minutes/);
  assert.match(await text(page.getByTestId('chat-follow-up-group')), /\[smtp\] in kefu\.toml/);

  // 3 minutes: saved, and shown again after a reload.
  await minutes.fill('3');
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').waitFor();
  assert.equal((await seeded.admin.ok('GET', '/settings/chat')).email_follow_up_minutes, 3);
  await page.reload();
  await waitUntil(async () => (await minutes.inputValue()) === '3', 'the saved 3 minutes after a reload');
  assert.equal(await box.isChecked(), true);

  // Off: the number cannot be edited and the server stores null (never).
  await box.uncheck();
  assert.equal(await minutes.isDisabled(), true, 'no minutes while it is off');
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').waitFor();
  assert.equal((await seeded.admin.ok('GET', '/settings/chat')).email_follow_up_minutes, null);
  await page.reload();
  await minutes.waitFor();
  await waitUntil(async () => !(await box.isChecked()), 'off after a reload');
  assert.equal(await minutes.isDisabled(), true);

  // 5000 minutes: refused next to the field, nothing saved.
  await box.check();
  assert.equal(await minutes.isDisabled(), false);
  await minutes.fill('5000');
  await page.getByTestId('chat-settings-save').click();
  const error = page.getByTestId('chat-follow-up-minutes-error');
  await waitForText(error, 'Enter a whole number from 0 to 1440.');
  assert.equal(await minutes.getAttribute('aria-invalid'), 'true');
  assert.match(await minutes.getAttribute('aria-describedby'), new RegExp(await error.getAttribute('id')));
  assert.equal((await seeded.admin.ok('GET', '/settings/chat')).email_follow_up_minutes, null, 'nothing saved');
  // The server refuses it as well, naming the field the form shows the error on.
  const refused = await seeded.admin.call('PUT', '/settings/chat', { ...seeded.settings, email_follow_up_minutes: 5000 });
  assert.equal(refused.status, 422);
  assert.ok(refused.body.errors.some((e) => e.field === 'email_follow_up_minutes'), JSON.stringify(refused.body));
  // Turning it off clears the error.
  await box.uncheck();
  assert.equal(await error.isVisible(), false);

  await seeded.admin.ok('PUT', '/settings/chat', seeded.settings); // back to 5 minutes
  await harness.closePage('admin');
  assert.deepEqual(problems, []);
}));

// --- 2. The widget asks for an e-mail address; the console shows it ----------------------------------

test('offline with replies mailed, the widget asks a visitor for an e-mail; the console shows it unverified and masked', () => step('widget e-mail', async () => {
  const page = await newPage('visitor', { consoleErrors: 'all' });
  // The widget's configuration, as a server with a mail server and nobody online answers it.
  const configs = [];
  await page.route((url) => /^\/api\/v1\/chat\/widget\/[^/]+$/.test(url.pathname), async (route) => {
    const res = await route.fetch();
    const config = await res.json();
    configs.push(config);
    await route.fulfill({ response: res, json: { ...config, online: false, email_follow_up: true } });
  });
  await page.goto('/demo');
  await page.getByTestId('kefu-launcher').click();
  const input = page.getByTestId('kefu-input');
  await input.waitFor();
  await waitUntil(async () => (await page.getByTestId('kefu-panel').getAttribute('data-config')) === 'loaded', 'the widget config');
  assert.equal(configs[0].email_follow_up, false, 'the test server has no mail server: the real answer says false');
  assert.equal(configs[0].prechat_form, false, 'the pre-chat form is off');

  // The e-mail field alone (the pre-chat form is off), labelled, with the line saying why.
  const email = page.getByTestId('kefu-prechat-email');
  const intro = page.getByTestId('kefu-prechat-intro');
  await email.waitFor();
  await waitForText(intro, 'We\'re away. Leave your e-mail and we\'ll send the answer there too.');
  assert.equal(await intro.getAttribute('data-follow-up'), 'true');
  assert.equal(await page.getByTestId('kefu-prechat-name').isVisible(), false, 'no name field without the pre-chat form');
  assert.equal(await page.getByTestId('kefu-prechat-topic').isVisible(), false, 'no topic field without the pre-chat form');
  assert.equal(await email.evaluate((el) => el.labels[0] && el.labels[0].textContent), 'E-mail');
  assert.equal(await email.getAttribute('type'), 'email');
  assert.equal(await email.getAttribute('aria-describedby'), 'kc-prechat-intro');
  // In the widget's other languages too.
  await page.evaluate(() => window.KefuChat.setLanguage('zh-CN'));
  await waitForText(intro, '我们暂时不在线。请留下您的邮箱，我们也会把回复发送到那里。');
  await page.evaluate(() => window.KefuChat.setLanguage('zh-TW'));
  await waitForText(intro, '我們暫時不在線上。請留下您的電子郵件，我們也會把回覆寄到那裡。');
  await page.evaluate(() => window.KefuChat.setLanguage('en'));
  await waitForText(intro, /^We're away/);

  // A bad address is refused in the widget: nothing is sent.
  const body = `Is my withdrawal through? ${suffix}`;
  await input.fill(body);
  await email.fill('not-an-address');
  await page.getByTestId('kefu-send').click();
  const error = page.getByTestId('kefu-prechat-email-error');
  await waitForText(error, 'Please enter an e-mail address like name@example.com.');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.equal(await email.getAttribute('aria-describedby'), 'kc-prechat-intro kc-email-error');
  assert.equal(await customerMessages(page).count(), 0, 'nothing sent');
  assert.equal(await input.inputValue(), body, 'the message stays in the composer');

  // A good one goes with the first message.
  const address = `visitor-${suffix}@example.com`;
  await email.fill(address);
  assert.equal(await error.isVisible(), false, 'typing clears the error');
  assert.equal(await email.getAttribute('aria-invalid'), null);
  await page.getByTestId('kefu-send').click();
  const sent = customerMessages(page).filter({ hasText: body });
  await waitUntil(async () => ['sent', 'read'].includes(await sent.getAttribute('data-state')), 'the message to be acknowledged');
  await waitUntil(async () => !(await page.getByTestId('kefu-prechat').isVisible()), 'the e-mail field to go once the chat started');
  const convId = await page.getByTestId('kefu-chat').getAttribute('data-conversation-id');
  assert.ok(convId, 'the chat has a conversation');

  // The contact keeps the address as unverified, masked like e-mails.
  const conv = await seeded.admin.ok('GET', `/conversations/${convId}`);
  const contact = await seeded.admin.ok('GET', `/contacts/${conv.contact_id}`);
  assert.equal(contact.unverified_email, masked(address));
  assert.equal(masked(address), 'v***@example.com');
  assert.deepEqual(contact.emails, [], 'a typed address is no identity');
  assert.equal((await seeded.admin.ok('GET', '/auth/session')).pii_full_view, true, 'admins may reveal');

  // The conversation's contact card.
  const admin = await harness.consolePage('admin-contact', server.credentials.admin);
  await admin.goto(`/console/conversations/${conv.number}`);
  const card = admin.getByTestId('contact-card');
  const unverified = card.getByTestId('contact-unverified-email');
  await waitForText(unverified, /^v\*\*\*@example\.com/);
  assert.equal(await text(card.locator('dt').filter({ hasText: 'Unverified e-mail' })), 'Unverified e-mail');
  assert.equal(await unverified.getByTestId('contact-masked-hint').count(), 1, 'marked as masked');
  // Revealed (audited): the address in full.
  await card.getByTestId('contact-reveal').click();
  await waitForText(card.getByTestId('contact-unverified-email'), address);
  await card.getByTestId('contact-revealed-note').waitFor();

  // The contact's page: masked, revealed, hidden again.
  await admin.goto(`/console/contacts/${conv.contact_id}`);
  const profile = admin.getByTestId('contact-profile');
  await waitForText(profile.getByTestId('contact-unverified-email'), /^v\*\*\*@example\.com/);
  await profile.getByTestId('contact-reveal').click();
  await waitForText(profile.getByTestId('contact-unverified-email'), address);
  await profile.getByTestId('contact-hide').click();
  await waitForText(profile.getByTestId('contact-unverified-email'), /^v\*\*\*@example\.com/);
  assert.deepEqual(problems, []);
}));

// --- 3. "Emailed" on a mailed reply ------------------------------------------------------------------

test('a reply that was mailed to the customer is tagged "Emailed" in the timeline', () => step('emailed tag', async () => {
  const created = await seeded.admin.ok('POST', '/conversations', {
    subject: `Deposit question ${suffix}`, contact: { name: `Customer ${suffix}`, email: `customer-${suffix}@example.com` },
    message: { body: `Where is my deposit? ${suffix}` },
  });
  const conv = created.conversation;
  const replies = [`We are looking into it ${suffix}.`, `It has arrived ${suffix}.`];
  for (const [i, body] of replies.entries()) {
    await seeded.agent.ok('POST', `/conversations/${conv.id}/messages`, { body, client_key: `follow-up-${suffix}-${i}` });
  }
  // The server says how each message was delivered; nothing was mailed here (no mail server).
  const timeline = await seeded.agent.ok('GET', `/conversations/${conv.id}/timeline`);
  const messages = timeline.items.filter((it) => it.type === 'message');
  assert.ok(messages.length >= 3, `the question and both replies (${messages.length} messages)`);
  for (const m of messages) {
    assert.equal(typeof m.delivery, 'object', `message ${m.id} has its delivery`);
    assert.notEqual(m.delivery && m.delivery.email, 'sent');
  }

  // As if the first reply had been mailed: the server's answer, with that one marked.
  const page = await harness.consolePage('agent', server.credentials.agent);
  await page.route('**/api/v1/conversations/*/timeline', async (route) => {
    const res = await route.fetch();
    const json = await res.json();
    for (const it of json.items || []) {
      if (it.type === 'message' && it.body === replies[0]) it.delivery = { ...(it.delivery || {}), email: 'sent' };
    }
    await route.fulfill({ response: res, json });
  });
  await page.goto(`/console/conversations/${conv.number}`);
  const agentMessages = page.locator('[data-testid="timeline-message"][data-author="agent"]');
  await waitForText(agentMessages.last().getByTestId('message-body'), replies[1]);
  const mailed = agentMessages.filter({ hasText: replies[0] });
  const tag = mailed.getByTestId('message-emailed');
  await waitForText(tag, 'Emailed');
  assert.equal(await tag.getAttribute('title'), 'Mailed to the customer, who had not read it in the chat');
  assert.equal(await page.getByTestId('message-emailed').count(), 1, 'only the mailed reply is tagged');
  assert.equal(await agentMessages.filter({ hasText: replies[1] }).getByTestId('message-emailed').count(), 0);
  assert.deepEqual(problems, []);
}));
