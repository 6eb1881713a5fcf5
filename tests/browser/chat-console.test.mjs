// End-to-end tests of live chat in the agent console, in a real browser:
// the Live chat card on the Channels page (widget id, greetings, pre-chat
// form, ES256 key and its field error), the verified / unverified identity
// badges in the inbox and the conversation, the read receipts the view sends
// (POST /conversations/{id}/read), and, with a visitor talking the widget's
// WebSocket protocol from a second page, "Customer is typing…" and the
// "Seen" marker.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/chat-console.test.mjs
//
// Screenshots of failed steps go to artifacts/chat-console-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, waitForText, waitUntil, signIn, text, apiSession as apiSessionAt } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'chat-console-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

function toast(page, message) {
  return page.getByTestId('toast').filter({ hasText: message });
}

/** Resolves with the next POST /conversations/{id}/read the page sends (and its JSON body). */
function nextReadRequest(page, conversationId, timeout = 10_000) {
  return page.waitForRequest(
    (req) => req.method() === 'POST' && new URL(req.url()).pathname === `/api/v1/conversations/${conversationId}/read`,
    { timeout },
  ).then((req) => ({ req, body: req.postDataJSON() }));
}

async function signedInPage(label, creds) {
  const page = await newPage(label);
  await page.goto('/console/login');
  await signIn(page, creds);
  await page.waitForURL(/\/console\/inbox/);
  return page;
}

// --- A widget visitor, speaking docs/chat-protocol.md over a WebSocket opened in a page ----------

async function openVisitor(page, { widgetId, visitorKey }) {
  // Any page of the server will do: the socket is same-origin.
  await page.goto('/console/login');
  await page.evaluate(({ widgetId: wid, visitorKey: key }) => new Promise((resolve, reject) => {
    const url = `${location.origin.replace(/^http/, 'ws')}/api/v1/chat/ws`;
    const ws = new WebSocket(url);
    window.chatFrames = [];
    window.chatSocket = ws;
    ws.addEventListener('message', (e) => {
      const frame = JSON.parse(e.data);
      window.chatFrames.push(frame);
      if (frame.type === 'welcome') resolve();
      if (frame.type === 'error') reject(new Error(`chat error frame: ${e.data}`));
    });
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'hello', widget_id: wid, visitor_key: key, language: 'en' })));
    ws.addEventListener('error', () => reject(new Error('the chat socket failed')));
  }), { widgetId, visitorKey });
}

function sendFrame(page, frame) {
  return page.evaluate((f) => window.chatSocket.send(JSON.stringify(f)), frame);
}

/** Wait for a frame the visitor received that matches `pred` (run in the page). */
async function waitForFrame(page, describe, pred) {
  return waitUntil(async () => {
    const frames = await page.evaluate(() => window.chatFrames);
    return frames.find(pred) || null;
  }, describe);
}

before(async () => {
  server = await harness.start();
  seeded.admin = await apiSession(server.credentials.admin);
  seeded.agent = await apiSession(server.credentials.agent);
  seeded.settings = await seeded.admin.ok('GET', '/settings/chat');
  // A demo chat (a verified customer) and a conversation of another channel, both visible to the agent.
  const list = (await seeded.agent.ok('GET', '/conversations?view=all&limit=200')).items;
  seeded.verifiedChat = list.find((c) => c.channel === 'chat' && c.verified_identity === true);
  seeded.otherChannel = list.find((c) => c.channel !== 'chat');
  assert.ok(seeded.verifiedChat, 'the demo data has a verified chat the agent can see');
  assert.ok(seeded.otherChannel, 'the demo data has a conversation of another channel');
  assert.equal(seeded.otherChannel.verified_identity, null);
});

after(() => harness.stop());

// --- (a) The Live chat card on the Channels page --------------------------------------------------

test('an admin sets the live chat greeting and the pre-chat form; a bad public key is refused', () => step('channels live chat', async () => {
  const page = await signedInPage('admin', server.credentials.admin);
  await page.getByTestId('nav-channels').click();
  await page.waitForURL('**/console/admin/channels');
  const cardEl = page.getByTestId('chat-settings-card');
  await cardEl.waitFor();

  // The widget id, read-only, with a copy button.
  const widgetId = page.getByTestId('chat-widget-id');
  await waitUntil(async () => (await widgetId.inputValue()) === seeded.settings.widget_id, 'the widget id in the card');
  assert.equal(await widgetId.evaluate((el) => el.readOnly), true, 'the widget id cannot be edited');
  await page.getByTestId('chat-widget-id-copy').waitFor();
  assert.equal(await page.getByTestId('chat-prechat').isChecked(), false);
  await waitForText(page.getByTestId('chat-prechat-status'), 'Pre-chat form off');
  for (const lang of ['zh-CN', 'zh-TW', 'en']) {
    assert.equal(await page.getByTestId(`chat-greeting-${lang}`).inputValue(), '', `no ${lang} greeting yet`);
  }
  // The help explains how the exchange signs identities.
  const help = await text(page.getByTestId('chat-signature-help'));
  for (const needle of ['HMAC-SHA256', 'HS256', 'ES256', 'sub', 'exp', 'vip_tier']) assert.ok(help.includes(needle), `help mentions ${needle}`);

  // Set an English greeting and the pre-chat form, save.
  const greeting = `Hi! Ask us anything about deposits ${suffix}`;
  await page.getByTestId('chat-greeting-en').fill(greeting);
  await page.getByTestId('chat-prechat').check();
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').waitFor();
  await waitForText(page.getByTestId('chat-prechat-status'), 'Pre-chat form on');
  const saved = await seeded.admin.ok('GET', '/settings/chat');
  assert.deepEqual(saved.greeting, { en: greeting }, 'only the filled-in language is stored');
  assert.equal(saved.prechat_form, true);
  assert.equal(saved.widget_id, seeded.settings.widget_id, 'the widget id never changes');

  // After a reload the page shows what was saved.
  await page.reload();
  await waitUntil(async () => (await page.getByTestId('chat-greeting-en').inputValue()) === greeting, 'the saved greeting after a reload');
  assert.equal(await page.getByTestId('chat-prechat').isChecked(), true);
  assert.equal(await page.getByTestId('chat-greeting-zh-CN').inputValue(), '');
  assert.equal(await page.getByTestId('chat-widget-id').inputValue(), seeded.settings.widget_id);

  // A key that is not a P-256 public key: the server's message next to the field, nothing saved.
  const badKey = '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----';
  await page.getByTestId('chat-public-key').fill(badKey);
  await page.getByTestId('chat-settings-save').click();
  const keyError = page.getByTestId('chat-public-key-error');
  await keyError.waitFor();
  await waitForText(keyError, /P-256 public key/);
  assert.equal(await page.getByTestId('chat-public-key').getAttribute('aria-invalid'), 'true');
  assert.equal((await seeded.admin.ok('GET', '/settings/chat')).jwt_public_key, null, 'the bad key is not stored');

  // A real ES256 public key is accepted.
  const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).trim();
  await page.getByTestId('chat-public-key').fill(pem);
  assert.equal(await keyError.isVisible(), false, 'typing clears the error');
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').last().waitFor();
  await waitForText(page.getByTestId('chat-key-status'), 'ES256 key set');
  const withKey = await seeded.admin.ok('GET', '/settings/chat');
  assert.equal(withKey.jwt_public_key.trim(), pem);
  assert.deepEqual(withKey.greeting, { en: greeting }, 'the greeting is kept');

  // A greeting over 500 characters is caught before it is sent.
  await page.getByTestId('chat-greeting-zh-TW').fill('您'.repeat(501));
  await page.getByTestId('chat-settings-save').click();
  await waitForText(page.getByTestId('chat-greeting-zh-TW-error'), /500/);
  assert.equal((await seeded.admin.ok('GET', '/settings/chat')).greeting['zh-TW'], undefined);
  assert.deepEqual(problems, []);
}));

// --- (b) A verified customer's chat: badge, read receipt ---------------------------------------------

test('an agent sees the verified badge on a demo chat, and opening it reports what was read', () => step('verified chat', async () => {
  const page = await signedInPage('agent', server.credentials.agent);
  const conv = seeded.verifiedChat;

  // The inbox row has the compact badge; a conversation of another channel has none.
  await page.goto('/console/inbox?view=all');
  const row = page.locator(`[data-testid="conversation-row"][data-number="${conv.number}"]`);
  await row.waitFor();
  const rowBadge = row.getByTestId('identity-badge');
  await waitForText(rowBadge, 'Verified');
  assert.equal(await rowBadge.getAttribute('data-verified'), 'true');
  const otherRow = page.locator(`[data-testid="conversation-row"][data-number="${seeded.otherChannel.number}"]`);
  await otherRow.waitFor();
  assert.equal(await otherRow.getByTestId('identity-badge').count(), 0, 'no identity badge outside live chat');

  // Opening the chat shows the badge next to the channel and sends the highest seq as read.
  const timeline = await seeded.agent.ok('GET', `/conversations/${conv.id}/timeline`);
  const topSeq = Math.max(...timeline.items.filter((i) => i.type === 'message').map((m) => m.seq));
  const read = nextReadRequest(page, conv.id);
  await row.getByTestId('conversation-subject').click();
  await page.waitForURL(`**/console/conversations/${conv.number}`);
  const badge = page.locator('.conv-title-badges').getByTestId('identity-badge');
  await waitForText(badge, 'Verified customer');
  assert.equal(await badge.getAttribute('data-verified'), 'true');
  assert.ok(await badge.evaluate((el) => el.classList.contains('badge-success')), 'the verified badge has the success tone');
  const { req, body } = await read;
  assert.deepEqual(body, { seq: topSeq });
  assert.equal((await req.response()).status(), 204);
  assert.equal(await page.getByTestId('customer-typing').isVisible(), false);

  // Opening another channel's conversation: no badge, no read receipt.
  let otherRead = false;
  const watch = (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === `/api/v1/conversations/${seeded.otherChannel.id}/read`) otherRead = true;
  };
  page.on('request', watch);
  await page.goto(`/console/conversations/${seeded.otherChannel.number}`);
  await waitForText(page.getByTestId('conversation-number'), `#${seeded.otherChannel.number}`);
  await page.locator('[data-testid="timeline-message"]').first().waitFor();
  await new Promise((r) => setTimeout(r, 500));
  page.off('request', watch);
  assert.equal(await page.getByTestId('identity-badge').count(), 0);
  assert.equal(otherRead, false, 'read receipts are for live chats only');
  assert.deepEqual(problems, []);
}));

// --- (c) An anonymous visitor: unverified badge, typing, read receipts both ways ----------------------

test('an anonymous visitor chats: the agent sees "Unverified visitor", the typing indicator and "Seen"', () => step('visitor chat', async () => {
  const visitor = await newPage('visitor');
  await openVisitor(visitor, { widgetId: seeded.settings.widget_id, visitorKey: `vk-${crypto.randomBytes(18).toString('hex')}` });
  const subject = `Where is my deposit ${suffix}`;
  await sendFrame(visitor, {
    type: 'send', client_id: `c-${suffix}-1`, body: subject,
    prechat: { name: `Visitor ${suffix}`, email: `visitor-${suffix}@example.com` },
  });
  const ack = await waitForFrame(visitor, 'the ack of the first message', (f) => f.type === 'ack');
  const convId = ack.conversation_id;
  const conv = await seeded.agent.ok('GET', `/conversations/${convId}`);
  assert.equal(conv.verified_identity, false, 'a visitor without a signature is unverified');

  const page = pages.get('agent') || await signedInPage('agent', server.credentials.agent);
  await page.goto('/console/inbox?view=all');
  const row = page.locator(`[data-testid="conversation-row"][data-number="${conv.number}"]`);
  await row.waitFor();
  await waitForText(row.getByTestId('identity-badge'), 'Unverified');
  assert.equal(await row.getByTestId('identity-badge').getAttribute('data-verified'), 'false');

  const firstRead = nextReadRequest(page, convId);
  await row.getByTestId('conversation-subject').click();
  await page.waitForURL(`**/console/conversations/${conv.number}`);
  const badge = page.locator('.conv-title-badges').getByTestId('identity-badge');
  await waitForText(badge, 'Unverified visitor');
  assert.ok(await badge.evaluate((el) => el.classList.contains('badge-warning')), 'the unverified badge has the warning tone');
  assert.match(await badge.getAttribute('title'), /not proven/);
  assert.deepEqual((await firstRead).body, { seq: ack.seq });

  // The customer types: the agent sees it; it goes away when they stop.
  const typing = page.getByTestId('customer-typing');
  assert.equal(await typing.isVisible(), false);
  await sendFrame(visitor, { type: 'typing', conversation_id: convId, typing: true });
  await waitUntil(() => typing.isVisible(), '"Customer is typing…"');
  assert.equal(await text(typing), 'Customer is typing…');
  await sendFrame(visitor, { type: 'typing', conversation_id: convId, typing: false });
  await waitUntil(async () => !(await typing.isVisible()), 'the typing indicator to go away on typing:false');

  // Typing, then a message: the indicator goes, the message shows and is reported read.
  await sendFrame(visitor, { type: 'typing', conversation_id: convId, typing: true });
  await waitUntil(() => typing.isVisible(), 'typing again');
  const secondRead = nextReadRequest(page, convId);
  await sendFrame(visitor, { type: 'send', client_id: `c-${suffix}-2`, conversation_id: convId, body: `It was 500 USDT ${suffix}` });
  const ack2 = await waitForFrame(visitor, 'the ack of the second message', (f) => f.type === 'ack' && f.client_id === `c-${suffix}-2`);
  await waitForText(page.locator('[data-testid="timeline-message"][data-author="customer"]').last().getByTestId('message-body'), `It was 500 USDT ${suffix}`);
  await waitUntil(async () => !(await typing.isVisible()), 'the typing indicator to go away with the new message');
  assert.deepEqual((await secondRead).body, { seq: ack2.seq }, 'new messages shown while visible are reported read');

  // The agent replies; nothing is "Seen" until the customer reads it.
  await page.getByTestId('composer-input').fill(`We are checking it, ${suffix}.`);
  await page.getByTestId('composer-send').click();
  const agentMsg = page.locator('[data-testid="timeline-message"][data-author="agent"][data-private="false"]').last();
  await waitForText(agentMsg.getByTestId('message-body'), `We are checking it, ${suffix}.`);
  const replyFrame = await waitForFrame(visitor, 'the reply at the visitor', (f) => f.type === 'message' && f.author_kind === 'agent');
  assert.equal(await agentMsg.getAttribute('data-seq'), String(replyFrame.seq));
  assert.equal(await page.getByTestId('message-seen').count(), 0, 'not seen yet');

  // The customer reads it: "Seen" appears right under that message.
  await sendFrame(visitor, { type: 'read', conversation_id: convId, seq: replyFrame.seq });
  const seen = page.getByTestId('message-seen');
  await seen.waitFor();
  assert.equal(await text(seen), 'Seen');
  assert.equal(await seen.getAttribute('data-seq'), String(replyFrame.seq));
  assert.equal(await agentMsg.evaluate((el) => el.nextElementSibling && el.nextElementSibling.dataset.testid), 'message-seen');
  assert.equal((await seeded.agent.ok('GET', `/conversations/${convId}`)).customer_read_seq, replyFrame.seq);

  // After a reload the marker comes from customer_read_seq.
  await page.reload();
  await page.getByTestId('message-seen').waitFor();
  assert.equal(await page.getByTestId('message-seen').getAttribute('data-seq'), String(replyFrame.seq));

  // A customer who says "typing" and then goes quiet: the indicator ends on its own after 8 s.
  await sendFrame(visitor, { type: 'typing', conversation_id: convId, typing: true });
  const indicator = page.getByTestId('customer-typing');
  await waitUntil(() => indicator.isVisible(), 'typing after the reload');
  const shownAt = Date.now();
  await waitUntil(async () => !(await indicator.isVisible()), 'the typing indicator to expire', 15_000);
  const shownFor = Date.now() - shownAt;
  assert.ok(shownFor > 6_000, `the indicator stays while the customer may still be typing (${shownFor} ms)`);
  assert.deepEqual(problems, []);
}));
