// End-to-end tests of live chat in the agent console, in a real browser:
// the Live chat card on the Channels page (widget id, embed code, greetings,
// pre-chat form, ES256 key and its field error; business hours, the offline
// message, the promised reply time and the live status), the verified / unverified identity
// badges in the inbox and the conversation, the read receipts the view sends
// (POST /conversations/{id}/read), and, with a visitor talking the widget's
// WebSocket protocol from a second page, "Customer is typing…" and the
// "Seen" marker, and the customer's rating of a resolved chat arriving live in
// the agent's open conversation (side panel and timeline).
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/chat-console.test.mjs
//
// Screenshots of failed steps go to artifacts/chat-console-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, signIn, waitForText, waitUntil, text, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'chat-console-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

/** Resolves with the next POST /conversations/{id}/read the page sends (and its JSON body). */
function nextReadRequest(page, conversationId, timeout = 10_000) {
  return page.waitForRequest(
    (req) => req.method() === 'POST' && new URL(req.url()).pathname === `/api/v1/conversations/${conversationId}/read`,
    { timeout },
  ).then((req) => ({ req, body: req.postDataJSON() }));
}

const signedInPage = (label, creds) => harness.consolePage(label, creds);

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
  // These chats are between visitors and agents: the demo's bot would answer first and add
  // messages of its own (tests/browser/bot.test.mjs covers the bot).
  const bot = await seeded.admin.ok('GET', '/bot/settings');
  await seeded.admin.ok('PUT', '/bot/settings', { ...bot, enabled: false });
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

// --- (a2) Business hours, offline message, reply time, embed code ----------------------------------

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

test('an admin sets business hours, the offline message and the reply time; a day closing before it opens is refused', () => step('channels business hours', async () => {
  const page = pages.get('admin') || await signedInPage('admin', server.credentials.admin);
  const before = await seeded.admin.ok('GET', '/settings/chat');
  assert.equal(before.business_hours, null, 'around the clock to begin with');
  assert.equal(before.reply_within_hours, 12, 'the default reply time');

  // Through the menu, so that the console's live feed (this admin counts as online) is long connected.
  await page.goto('/console/inbox');
  await page.getByTestId('nav-channels').click();
  await page.waitForURL('**/console/admin/channels');
  await page.getByTestId('chat-settings-card').waitFor();
  await waitUntil(async () => (await page.getByTestId('chat-widget-id').inputValue()) === before.widget_id, 'the card to load');

  // The embed code for the exchange's pages, with a copy button, and the demo page.
  const snippet = `<script src="${server.baseUrl}/widget.js" data-channel="${before.widget_id}" async></script>`;
  assert.equal(await text(page.getByTestId('chat-embed-snippet')), snippet);
  await page.getByTestId('chat-embed-copy').waitFor();
  const demo = page.getByTestId('chat-demo-link');
  assert.equal(await text(demo), 'Try it on the demo page');
  assert.equal(await demo.getAttribute('href'), '/demo');
  assert.equal((await fetch(new URL('/demo', server.baseUrl))).status, 200, 'the demo page exists');

  // Around the clock, and this admin has the console open: online.
  const status = page.getByTestId('chat-live-status');
  await waitUntil(async () => (await status.getAttribute('data-online')) === 'true', 'the live status "online"', 20_000);
  assert.match(await text(status), /^Online now/);
  const always = page.getByTestId('chat-hours-always');
  assert.equal(await always.isChecked(), true);
  assert.equal(await page.getByTestId('chat-hours-schedule').isVisible(), false, 'no schedule around the clock');
  assert.equal(await page.getByTestId('chat-reply-hours').inputValue(), '12');

  // A schedule: one weekday that is not today (in UTC), 09:00–17:00 at UTC+00:00.
  await always.uncheck();
  await page.getByTestId('chat-hours-schedule').waitFor();
  const offsets = await page.getByTestId('chat-hours-offset').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.equal(offsets.length, 53, 'UTC-12:00 to UTC+14:00 in 30-minute steps');
  assert.deepEqual([offsets[0], offsets[24], offsets[52]], ['-12:00', '+00:00', '+14:00']);
  await page.getByTestId('chat-hours-offset').selectOption('+00:00');
  const day = WEEKDAYS[(new Date().getUTCDay() + 6 + 2) % 7]; // the day after tomorrow
  for (const d of WEEKDAYS) await page.getByTestId(`chat-hours-${d}`).setChecked(d === day);
  assert.equal(await page.getByTestId(`chat-hours-${WEEKDAYS.find((d) => d !== day)}-from`).isVisible(), false, 'a closed day has no times');
  await page.getByTestId(`chat-hours-${day}-from`).fill('09:00');
  await page.getByTestId(`chat-hours-${day}-to`).fill('17:00');
  const offlineEn = `We are away. Leave your e-mail and we answer soon ${suffix}`;
  const offlineZh = `我们暂时不在，请留下邮箱 ${suffix}`;
  await page.getByTestId('chat-offline-en').fill(offlineEn);
  await page.getByTestId('chat-offline-zh-CN').fill(offlineZh);
  await page.getByTestId('chat-reply-hours').fill('24');
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').last().waitFor();

  const saved = await seeded.admin.ok('GET', '/settings/chat');
  assert.deepEqual(saved.business_hours, { utc_offset: '+00:00', days: { [day]: { open: '09:00', close: '17:00' } } });
  assert.deepEqual(saved.offline_message, { en: offlineEn, 'zh-CN': offlineZh }, 'the empty zh-TW text is not stored');
  assert.equal(saved.reply_within_hours, 24);
  assert.deepEqual(saved.greeting, before.greeting, 'the greeting is sent back unchanged');
  assert.equal(saved.prechat_form, before.prechat_form);
  assert.equal(saved.jwt_public_key, before.jwt_public_key, 'the key is sent back unchanged');

  // Outside the hours now: offline, with the next opening the widget is told.
  const widget = await (await fetch(new URL(`/api/v1/chat/widget/${before.widget_id}`, server.baseUrl))).json();
  assert.equal(widget.online, false);
  assert.equal(WEEKDAYS[(new Date(widget.next_open_at).getUTCDay() + 6) % 7], day);
  await waitUntil(async () => (await status.getAttribute('data-online')) === 'false', 'the live status "offline"');
  assert.equal(await status.getAttribute('data-next-open-at'), widget.next_open_at);
  assert.match(await text(status), /^Offline now \(next opening .+\)$/);

  // After a reload the card shows what was saved.
  await page.reload();
  await waitUntil(async () => (await page.getByTestId('chat-offline-en').inputValue()) === offlineEn, 'the saved offline message after a reload');
  assert.equal(await page.getByTestId('chat-offline-zh-CN').inputValue(), offlineZh);
  assert.equal(await page.getByTestId('chat-offline-zh-TW').inputValue(), '');
  assert.equal(await page.getByTestId('chat-reply-hours').inputValue(), '24');
  assert.equal(await page.getByTestId('chat-hours-always').isChecked(), false);
  assert.equal(await page.getByTestId('chat-hours-offset').inputValue(), '+00:00');
  for (const d of WEEKDAYS) assert.equal(await page.getByTestId(`chat-hours-${d}`).isChecked(), d === day, `${d} open?`);
  assert.equal(await page.getByTestId(`chat-hours-${day}-from`).inputValue(), '09:00');
  assert.equal(await page.getByTestId(`chat-hours-${day}-to`).inputValue(), '17:00');

  // Closing before opening: the server's 422 names the day, shown on that day's row.
  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/v1/settings/chat');
  await page.getByTestId(`chat-hours-${day}-to`).fill('08:00');
  await page.getByTestId('chat-settings-save').click();
  const refused = await put;
  assert.equal(refused.status(), 422);
  assert.ok((await refused.json()).errors.some((e) => e.field === `business_hours.days.${day}`));
  const dayError = page.getByTestId(`chat-hours-${day}-error`);
  await waitForText(dayError, /open before it closes/);
  assert.equal(await page.getByTestId(`chat-hours-${day}-to`).getAttribute('aria-invalid'), 'true');
  await page.getByTestId('chat-settings-error').waitFor();
  assert.equal(await page.getByTestId('chat-settings-error').locator('.alert-list').count(), 0, 'every field error found its field');
  assert.deepEqual((await seeded.admin.ok('GET', '/settings/chat')).business_hours.days[day], { open: '09:00', close: '17:00' }, 'nothing stored');
  await page.getByTestId(`chat-hours-${day}-to`).fill('17:00');
  assert.equal(await dayError.isVisible(), false, 'typing clears the error');

  // A reply time outside 1–168 is caught before anything is sent.
  let puts = 0;
  const countPuts = (r) => { if (r.method() === 'PUT' && new URL(r.url()).pathname === '/api/v1/settings/chat') puts += 1; };
  page.on('request', countPuts);
  await page.getByTestId('chat-reply-hours').fill('0');
  await page.getByTestId('chat-settings-save').click();
  await waitForText(page.getByTestId('chat-reply-hours-error'), 'Enter a whole number from 1 to 168.');
  await new Promise((r) => setTimeout(r, 300));
  page.off('request', countPuts);
  assert.equal(puts, 0, 'nothing was sent');
  await page.getByTestId('chat-reply-hours').fill('24');

  // Back to around the clock: business_hours null, the schedule is hidden, online again.
  await page.getByTestId('chat-hours-always').check();
  assert.equal(await page.getByTestId('chat-hours-schedule').isVisible(), false);
  await page.getByTestId('chat-settings-save').click();
  await toast(page, 'Live chat settings saved.').last().waitFor();
  const back = await seeded.admin.ok('GET', '/settings/chat');
  assert.equal(back.business_hours, null);
  assert.deepEqual(back.offline_message, { en: offlineEn, 'zh-CN': offlineZh }, 'the offline message is kept');
  assert.equal(back.reply_within_hours, 24);
  await waitUntil(async () => (await status.getAttribute('data-online')) === 'true', 'online again around the clock');
  assert.equal(await status.getAttribute('data-next-open-at'), null);
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
  // The timeline may redraw as the read mark arrives; the marker ends up right under the message.
  await waitUntil(async () => (await agentMsg.evaluate((el) => el.nextElementSibling && el.nextElementSibling.dataset.testid)) === 'message-seen',
    '"Seen" right under the message the customer read');
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

// --- (d) The customer rates a resolved chat: the agent sees it live ---------------------------------

test('a visitor rates a resolved chat: the open conversation shows the rating and the timeline line without a reload', () => step('rating', async () => {
  const visitor = await newPage('visitor-rating');
  await openVisitor(visitor, { widgetId: seeded.settings.widget_id, visitorKey: `vk-${crypto.randomBytes(18).toString('hex')}` });
  await sendFrame(visitor, {
    type: 'send', client_id: `r-${suffix}-1`, body: `Withdrawal stuck ${suffix}`,
    prechat: { name: `Rater ${suffix}`, email: `rater-${suffix}@example.com` },
  });
  const ack = await waitForFrame(visitor, 'the ack of the first message', (f) => f.type === 'ack' && f.client_id === `r-${suffix}-1`);
  const convId = ack.conversation_id;
  const conv = await seeded.agent.ok('GET', `/conversations/${convId}`);
  assert.equal(conv.rating, null, 'not rated yet');

  // Rating an open chat is refused.
  await sendFrame(visitor, { type: 'rate', conversation_id: convId, score: 2 });
  const early = await waitForFrame(visitor, 'the refusal of an early rating', (f) => f.type === 'error' && f.code === 'not_resolved');
  assert.equal(early.code, 'not_resolved');

  const page = pages.get('agent') || await signedInPage('agent', server.credentials.agent);
  await page.goto(`/console/conversations/${conv.number}`);
  await waitForText(page.getByTestId('conversation-number'), `#${conv.number}`);
  assert.equal(await page.getByTestId('conversation-rating').count(), 0, 'no rating block before a rating');
  assert.equal(await page.locator('[data-testid="timeline-activity"][data-kind="rated"]').count(), 0);

  // The agent resolves it (API, with the version); the open view follows.
  const resolved = await seeded.agent.call('PATCH', `/conversations/${convId}`, { status: 'resolved' }, { 'If-Match': `"${conv.version}"` });
  assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
  await waitUntil(async () => (await page.getByTestId('conversation-status').getAttribute('data-status')) === 'resolved', 'the view to show "resolved"');

  // The visitor rates it; the rating reaches the open view without a reload.
  await page.evaluate(() => { window.ratingMarker = 'same document'; });
  const comment = `Fast and friendly, 谢谢 ${suffix}`;
  await sendFrame(visitor, { type: 'rate', conversation_id: convId, score: 4, comment });
  const rated = await waitForFrame(visitor, 'the rated frame', (f) => f.type === 'rated');
  assert.deepEqual({ id: rated.conversation_id, score: rated.score, comment: rated.comment }, { id: convId, score: 4, comment });

  const block = page.getByTestId('conversation-rating');
  await block.waitFor();
  assert.equal(await block.getAttribute('data-score'), '4');
  assert.equal(await text(block.getByTestId('rating-score')), '4/5');
  assert.equal(await block.locator('.rating-star.is-filled').count(), 4);
  assert.equal(await block.locator('.rating-stars').getAttribute('aria-label'), 'Rated 4 out of 5');
  assert.equal(await text(block.getByTestId('rating-comment')), comment);
  const ratedAt = (await seeded.agent.ok('GET', `/conversations/${convId}`)).rating;
  assert.equal(ratedAt.score, 4);
  assert.equal(await block.getByTestId('rating-time').locator('time').getAttribute('datetime'), ratedAt.rated_at);
  assert.ok(await block.evaluate((el) => !!el.closest('.conv-side')), 'the rating is in the details panel');

  const line = page.locator('[data-testid="timeline-activity"][data-kind="rated"]');
  await line.waitFor();
  assert.equal(await line.count(), 1);
  assert.match(await text(line.locator('.activity-text')), new RegExp(`^.+ rated the chat 4/5: “${comment}”$`));
  assert.equal(await page.evaluate(() => window.ratingMarker), 'same document', 'no reload');

  // Rating again replaces it; a rating without a comment says so.
  await sendFrame(visitor, { type: 'rate', conversation_id: convId, score: 1 });
  await waitUntil(async () => (await block.getAttribute('data-score')) === '1', 'the new score');
  await block.getByTestId('rating-comment-none').waitFor();
  assert.equal(await page.locator('[data-testid="timeline-activity"][data-kind="rated"]').count(), 2, 'both ratings are on the timeline');
  assert.match(await text(page.locator('[data-testid="timeline-activity"][data-kind="rated"]').last().locator('.activity-text')), /^.+ rated the chat 1\/5$/);

  // The same in Chinese (Traditional), after a reload.
  await page.evaluate(() => localStorage.setItem('kefu.lang', 'zh-TW'));
  await page.reload();
  await page.getByTestId('conversation-rating').waitFor();
  assert.equal(await text(page.getByTestId('conversation-rating').locator('.card-title')), '客戶評分');
  assert.match(await text(page.locator('[data-testid="timeline-activity"][data-kind="rated"]').first().locator('.activity-text')),
    new RegExp(`為此次聊天評分 4/5：「${comment}」$`));
  await page.evaluate(() => localStorage.setItem('kefu.lang', 'en'));
  assert.deepEqual(problems, []);
}));

test('the console follows the live feed over the agents\' WebSocket', () => step('agent socket', async () => {
  const page = await newPage('agent-socket');
  const opened = page.waitForEvent('websocket', (ws) => new URL(ws.url()).pathname === '/api/v1/agent/ws');
  await page.goto('/console/login');
  await signIn(page, server.credentials.agent);
  const ws = await opened;
  // An event of the agent's inbox arrives as a frame on that socket.
  const subject = `socket check ${suffix}`;
  const frame = ws.waitForEvent('framereceived', {
    predicate: (f) => {
      try { return JSON.parse(f.payload).type === 'conversation_created'; } catch { return false; }
    },
    timeout: 10_000,
  });
  await seeded.agent.ok('POST', '/conversations', {
    channel: 'api', subject, contact: { name: 'Socket Check', email: `socket-${suffix}@example.com` },
    message: { body: 'Is the feed live?' },
  });
  const created = JSON.parse((await frame).payload);
  assert.equal(created.type, 'conversation_created');
  assert.equal(ws.isClosed(), false, 'the socket stays open');
}));
