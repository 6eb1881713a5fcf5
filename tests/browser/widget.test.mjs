// End-to-end test of the embeddable live chat widget (web-assets/widget/widget.js) on the demo
// exchange page (/demo), against a real server:
//
//   1. the widget loads in a shadow root and leaves the host page's styles and globals alone;
//   2. a customer sends a text and an image, both acknowledged ("Sent");
//   3. an agent in the console sees the chat, the text and the image arrive live, takes it and
//      replies;
//   4. the customer sees the reply and the agent's name live; the agent resolves, the customer
//      rates 5 stars with a comment, and the rating is stored;
//   5. the socket drops: "Reconnecting…" shows, and messages sent while offline, or whose
//      acknowledgement was lost, are delivered exactly once after the reconnect; a reply while
//      the panel is closed shows as an unread badge;
//   6. a burst of messages is paced to the server's limits and arrives once, in order;
//   7. on a 375×667 phone the panel opens full screen, in the browser's language;
//   8. the demo page's switch chats as the signed-in (verified) demo customer;
//   9. embedded on another origin, the widget loads its configuration and uploads files from
//      the support host;
//  10. while the visitor types, help-center articles are suggested above the composer in the
//      widget's language; opening one records the click; sending (or "×") hides them.
//  11. on the home view, a help search lists articles as the visitor types; when none is found,
//      one button starts a new chat with the search already in the composer.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/widget.test.mjs
//
// Screenshots of failed steps go to artifacts/widget-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { createHarness, makePng, waitForText, waitUntil, text, apiSession as apiSessionAt } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'widget-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const shared = {};

// --- Helpers -----------------------------------------------------------------------------------

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

const signedInPage = (label, creds) => harness.consolePage(label, creds);

/**
 * Before any script of the page runs: keep every WebSocket the page opens, and let the test
 * (a) refuse new connections ("offline") and (b) drop the socket right after a `send` frame
 * went out, so that the message is stored but its ack is lost.
 */
function instrumentSockets() {
  const Native = window.WebSocket;
  const ctl = { sockets: [], offline: false, dropAfterSend: false, sends: [] };
  Object.defineProperty(window, '__kefuTest', { value: ctl, enumerable: false });
  class TestSocket extends Native {
    constructor(url, protocols) {
      // Offline: a same-origin address that refuses the upgrade (the page's CSP allows it).
      super(ctl.offline ? `${String(url).replace(/\/api\/v1\/chat\/ws$/, '')}/offline-test-socket` : url, protocols);
      ctl.sockets.push(this);
    }

    send(data) {
      super.send(data);
      try {
        const f = JSON.parse(data);
        if (f.type === 'send') {
          ctl.sends.push(f);
          if (ctl.dropAfterSend) {
            ctl.dropAfterSend = false;
            this.close();
          }
        }
      } catch { /* not JSON */ }
    }
  }
  window.WebSocket = TestSocket;
}

/** Computed styles of host page elements that a leaking widget stylesheet would change. */
function hostStyles() {
  const pick = (sel) => {
    const el = document.querySelector(sel);
    const s = getComputedStyle(el);
    return [s.fontFamily, s.fontSize, s.color, s.backgroundColor, s.lineHeight, s.margin, s.padding, s.boxSizing].join(' | ');
  };
  return {
    body: pick('body'),
    title: pick('[data-testid="hero-title"]'),
    table: pick('[data-testid="markets-table"] td'),
    button: pick('.btn-primary'),
    sheets: document.styleSheets.length,
    adopted: document.adoptedStyleSheets.length,
  };
}

const customerMessages = (page) => page.locator('[data-testid="kefu-message"][data-author="customer"]');

before(async () => {
  server = await harness.start();
  shared.admin = await apiSession(server.credentials.admin);
  shared.agent = await apiSession(server.credentials.agent);
  shared.settings = await shared.admin.ok('GET', '/settings/chat');
  shared.agentName = shared.agent.agent && shared.agent.agent.name;
  assert.ok(shared.settings.widget_id, 'the chat has a widget id');
  assert.ok(shared.agentName, 'the agent has a display name');
});

after(() => harness.stop());

// --- 1. The widget on the demo page --------------------------------------------------------------

test('the demo page loads the widget in a shadow root without touching the page', () => step('load', async () => {
  // An agent has the console open, so the team is online.
  const agent = await signedInPage('agent', server.credentials.agent);
  await agent.goto('/console/inbox?view=all');
  await agent.locator('[data-testid="conversation-row"]').first().waitFor();
  await waitUntil(async () => (await (await fetch(`${server.baseUrl}/api/v1/chat/widget/${shared.settings.widget_id}`)).json()).online === true,
    'the widget config to say the team is online');

  const page = await newPage('customer');
  await page.addInitScript(instrumentSockets);
  // Hold the widget back until the page's own styles have been measured.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/widget.js', async (route) => { await held; await route.continue(); });
  await page.goto('/demo', { waitUntil: 'domcontentloaded' }); // (the held async script delays `load`)
  await page.getByTestId('hero-title').waitFor();
  const before = await page.evaluate(hostStyles);
  const globalsBefore = await page.evaluate(() => Object.keys(window));
  assert.equal(await page.getByTestId('kefu-launcher').count(), 0, 'no widget before its script ran');
  release();

  const launcher = page.getByTestId('kefu-launcher');
  await launcher.waitFor();
  // The embed tag names this server's widget.
  const tag = await page.evaluate(() => document.querySelector('script[src="/widget.js"]').dataset.channel);
  assert.equal(tag, shared.settings.widget_id, 'the server put the widget id into the embed tag');

  // Everything is in one shadow root on one host element.
  const dom = await page.evaluate(() => {
    const hosts = [...document.body.querySelectorAll('*')].filter((el) => el.shadowRoot);
    return {
      hosts: hosts.length,
      inShadow: !!(hosts[0] && hosts[0].shadowRoot.querySelector('[data-testid="kefu-launcher"]')),
      inLight: !!document.querySelector('[data-testid="kefu-launcher"], [data-testid="kefu-panel"]'),
    };
  });
  assert.deepEqual(dom, { hosts: 1, inShadow: true, inLight: false });

  // The page's own styles and globals are as before (open the panel too: it adds the most).
  await launcher.click();
  await page.getByTestId('kefu-panel').waitFor();
  assert.deepEqual(await page.evaluate(hostStyles), before, 'the host page is not restyled');
  const added = (await page.evaluate(() => Object.keys(window))).filter((k) => !globalsBefore.includes(k));
  assert.deepEqual(added, ['KefuChat'], 'the widget adds window.KefuChat and nothing else');
  const api = await page.evaluate(() => ['open', 'close', 'identify', 'setLanguage'].map((k) => typeof window.KefuChat[k]));
  assert.deepEqual(api, ['function', 'function', 'function', 'function']);

  // The visitor key: 32 URL-safe characters, kept per widget.
  const key = await page.evaluate((wid) => localStorage.getItem(`kefu.visitor.${wid}`), shared.settings.widget_id);
  assert.match(key || '', /^[A-Za-z0-9_-]{32}$/);

  // A page in English gets the widget in English; the team is online.
  assert.equal(await page.getByTestId('kefu-input').getAttribute('placeholder'), 'Write a message…');
  await waitUntil(async () => (await page.getByTestId('kefu-panel').getAttribute('data-config')) === 'loaded', 'the widget config');
  await waitUntil(async () => (await page.getByTestId('kefu-availability').getAttribute('data-online')) === 'true', 'online in the header');
  assert.equal(await page.getByTestId('kefu-offline').count(), 0, 'no offline notice while an agent is online');

  // On a desktop the panel is a floating card, not full screen.
  const box = await page.getByTestId('kefu-panel').boundingBox();
  assert.ok(box.width < 500 && box.height < 900, `a floating panel on desktop (${JSON.stringify(box)})`);
  assert.deepEqual(problems, []);
}));

// --- 2 + 3. Text and image, acknowledged; the agent sees them live and replies ------------------------

test('the customer sends a text and an image; the agent sees both live and replies', () => step('send', async () => {
  const page = pages.get('customer');
  const agent = pages.get('agent');
  const body = `My USDT deposit has not arrived ${suffix}`;

  await page.getByTestId('kefu-input').fill(body);
  await page.getByTestId('kefu-send').click();
  const first = customerMessages(page).first();
  await waitForText(first.getByTestId('kefu-message-body'), body);
  await waitUntil(async () => (await first.getAttribute('data-state')) === 'sent', 'the text to be acknowledged');
  assert.equal(await page.getByTestId('kefu-input').inputValue(), '', 'the composer is cleared');
  const seq1 = Number(await first.getAttribute('data-seq'));
  assert.ok(seq1 >= 1, 'an acknowledged message has its seq');
  // Nobody has the chat yet: the customer sees their place in the queue.
  const queue = page.getByTestId('kefu-queue');
  await queue.waitFor();
  const position = Number(await queue.getAttribute('data-position'));
  assert.ok(Number.isInteger(position) && position >= 1, `a place in the queue (${position})`);
  assert.match(await text(queue), new RegExp(`You are number ${position} in line`));

  // The conversation, as the agents see it.
  const conv = await waitUntil(async () => {
    const list = (await shared.agent.ok('GET', '/conversations?view=all&limit=200')).items;
    return list.find((c) => c.channel === 'chat' && c.subject.includes(suffix));
  }, 'the chat in the conversation list');
  shared.conv = conv;
  assert.equal(conv.verified_identity, false, 'an anonymous visitor');

  // The agent's inbox shows it without a reload; they open it.
  const row = agent.locator(`[data-testid="conversation-row"][data-number="${conv.number}"]`);
  await row.waitFor();
  await row.getByTestId('conversation-subject').click();
  await agent.waitForURL(`**/console/conversations/${conv.number}`);
  const lastCustomer = () => agent.locator('[data-testid="timeline-message"][data-author="customer"]').last();
  await waitForText(lastCustomer().getByTestId('message-body'), body);

  // The image goes up through the widget's file input and arrives as its own message.
  const png = makePng(48, 32);
  await page.getByTestId('kefu-file-input').setInputFiles({ name: `receipt-${suffix}.png`, mimeType: 'image/png', buffer: png });
  const second = customerMessages(page).nth(1);
  // (The agent has the chat open, so it may be read as soon as it is acknowledged.)
  await waitUntil(async () => ['sent', 'read'].includes(await second.getAttribute('data-state')), 'the image to be acknowledged', 15_000);
  assert.ok(Number(await second.getAttribute('data-seq')) > seq1, 'the image message comes after the text');
  const thumb = second.getByTestId('kefu-attachment-thumb');
  await thumb.waitFor();
  assert.match(await thumb.getAttribute('src'), /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/chat\/attachments\/[^/?]+(\/thumbnail)?\?exp=/,
    'the image from the server\'s signed URL');
  await waitUntil(() => thumb.evaluate((img) => img.complete && img.naturalWidth > 0), 'the image to show');
  assert.equal(await customerMessages(page).count(), 2, 'two customer messages, no duplicates');

  // The agent sees the image live in the open conversation.
  const agentThumb = lastCustomer().getByTestId('attachment-thumb');
  await agentThumb.waitFor();
  assert.equal(await agentThumb.getAttribute('alt'), `receipt-${suffix}.png`);
  const timeline = await shared.agent.ok('GET', `/conversations/${conv.id}/timeline`);
  const stored = timeline.items.filter((i) => i.type === 'message' && (i.attachments || []).some((a) => a.filename === `receipt-${suffix}.png`));
  assert.equal(stored.length, 1, 'the image is stored once');

  // The customer types: the agent sees it, and it ends when they stop.
  const customerTyping = agent.getByTestId('customer-typing');
  assert.equal(await customerTyping.isVisible(), false);
  await page.getByTestId('kefu-input').pressSequentially('The TxID is', { delay: 20 });
  await waitUntil(() => customerTyping.isVisible(), '"Customer is typing…" in the console');
  await page.getByTestId('kefu-input').fill('');
  await waitUntil(async () => !(await customerTyping.isVisible()), 'the typing indicator to end when the input is cleared');

  // The agent takes the chat (the queue notice goes, their name comes) and replies.
  await agent.getByTestId('assign-me').click();
  await waitUntil(async () => (await shared.agent.ok('GET', `/conversations/${conv.id}`)).assignee_id === shared.agent.agent.id, 'the chat assigned to the agent');
  await waitUntil(async () => (await page.getByTestId('kefu-queue').count()) === 0, 'the queue notice to go');
  await waitForText(page.getByTestId('kefu-agent-name'), shared.agentName);
  shared.reply = `We are checking it now ${suffix}.`;
  const agentTyping = page.getByTestId('kefu-typing');
  assert.equal(await agentTyping.isVisible(), false);
  await agent.getByTestId('composer-input').pressSequentially('We are', { delay: 20 });
  await waitUntil(() => agentTyping.isVisible(), 'the agent typing in the widget');
  assert.match(await text(agentTyping), /is typing/);
  await agent.getByTestId('composer-input').fill(shared.reply);
  await agent.getByTestId('composer-send').click();
  await waitForText(agent.locator('[data-testid="timeline-message"][data-author="agent"]').last().getByTestId('message-body'), shared.reply);

  // The widget shows the image from its thumbnail (`url` + /thumbnail), not the full file.
  assert.match(await thumb.evaluate((img) => img.currentSrc), /\/api\/v1\/chat\/attachments\/[^/?]+\/thumbnail\?exp=/,
    'the inline image is the thumbnail');
  assert.deepEqual(problems, []);
}));

// --- 4. The reply, the agent's name, resolve and rate -------------------------------------------------

test('the customer sees the reply and the agent live, and rates the resolved chat', () => step('reply and rate', async () => {
  const page = pages.get('customer');
  const agent = pages.get('agent');

  const reply = page.locator('[data-testid="kefu-message"][data-author="agent"]').last();
  await waitForText(reply.getByTestId('kefu-message-body'), shared.reply);
  assert.equal(await text(reply.getByTestId('kefu-message-author')), shared.agentName);
  await waitUntil(async () => !(await page.getByTestId('kefu-typing').isVisible()), 'the typing indicator to end with the reply');
  await waitForText(page.getByTestId('kefu-agent-name'), shared.agentName);
  const avatar = page.locator('.head [data-testid="kefu-agent-avatar"]');
  const initials = await text(avatar);
  assert.ok(initials.length >= 1 && [...initials].length <= 2 && [...initials].every((ch) => shared.agentName.toUpperCase().includes(ch)),
    `the avatar shows initials of ${shared.agentName} (${initials})`);
  assert.notEqual(await avatar.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgba(0, 0, 0, 0)', 'a coloured avatar');
  assert.equal(await page.getByTestId('kefu-queue').count(), 0, 'no queue once an agent has the chat');

  // The panel is open and visible: the widget reports the reply as read, the console shows it.
  await waitUntil(async () => (await shared.agent.ok('GET', `/conversations/${shared.conv.id}`)).customer_read_seq
    >= Number(await reply.getAttribute('data-seq')), 'the customer read receipt');
  // And the agent's read receipt turns the customer's messages to "Read".
  await waitUntil(async () => (await customerMessages(page).last().getAttribute('data-state')) === 'read', 'the customer messages to be read');

  // No rating prompt while the chat is open; the agent resolves it.
  assert.equal(await page.getByTestId('kefu-csat').count(), 0);
  await agent.getByTestId('resolve-button').click();
  await agent.locator('[data-testid="conversation-status"][data-status="resolved"]').waitFor();
  const csat = page.getByTestId('kefu-csat');
  await csat.waitFor();
  assert.equal(await csat.getByTestId('kefu-csat-star').count(), 5);

  const comment = `Quick and kind, thanks ${suffix}`;
  await csat.locator('[data-testid="kefu-csat-star"][data-score="5"]').click();
  await page.getByTestId('kefu-csat-comment').fill(comment);
  await page.getByTestId('kefu-csat-submit').click();
  await page.getByTestId('kefu-csat-thanks').waitFor();
  await waitForText(page.getByTestId('kefu-rating'), /5 out of 5/);

  const stored = await shared.agent.ok('GET', `/conversations/${shared.conv.id}`);
  assert.equal(stored.status, 'resolved');
  assert.ok(stored.rating, 'the rating is on the conversation');
  assert.equal(stored.rating.score, 5);
  assert.equal(stored.rating.comment, comment);
  assert.deepEqual(problems, []);
}));

// --- 5. Reconnecting, exactly once -------------------------------------------------------------------

test('after the socket drops the widget reconnects and delivers every message exactly once', () => step('reconnect', async () => {
  const page = pages.get('customer');
  const banner = page.getByTestId('kefu-status');
  const bodies = async () => (await shared.agent.ok('GET', `/conversations/${shared.conv.id}/timeline`)).items
    .filter((i) => i.type === 'message').map((m) => m.body);

  // Offline: the socket closes and new ones cannot connect.
  await page.evaluate(() => {
    window.__kefuTest.offline = true;
    for (const s of window.__kefuTest.sockets) s.close();
  });
  await waitUntil(async () => (await banner.isVisible()) && (await banner.getAttribute('data-state')) === 'reconnecting', '"Reconnecting…"');
  assert.match(await text(banner), /Reconnecting/);

  // A message written while offline waits, also in localStorage.
  const offlineBody = `Sent while offline ${suffix}`;
  await page.getByTestId('kefu-input').fill(offlineBody);
  await page.getByTestId('kefu-send').click();
  const pending = customerMessages(page).filter({ hasText: offlineBody });
  await pending.waitFor();
  assert.equal(await pending.getAttribute('data-state'), 'sending');
  const outbox = await page.evaluate((wid) => JSON.parse(localStorage.getItem(`kefu.outbox.${wid}`) || 'null'), shared.settings.widget_id);
  assert.equal(outbox && outbox.items.length, 1, 'the unsent message is kept in localStorage');
  assert.equal(outbox.items[0].body, offlineBody);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await pending.getAttribute('data-state'), 'sending', 'still waiting while offline');
  assert.ok(!(await bodies()).includes(offlineBody), 'nothing reached the server while offline');
  // Meanwhile the agent writes: the resume after the reconnect brings it.
  const missedBody = `Written during the outage ${suffix}`;
  await shared.agent.ok('POST', `/conversations/${shared.conv.id}/messages`, { body: missedBody });

  // Back online: reconnect (with backoff), resume, and send it.
  await page.evaluate(() => { window.__kefuTest.offline = false; });
  await waitUntil(async () => (await banner.getAttribute('data-state')) === 'connected', '"Connected"', 20_000);
  await waitUntil(async () => ['sent', 'read'].includes(await pending.getAttribute('data-state')), 'the offline message to be acknowledged');
  assert.equal((await bodies()).filter((b) => b === offlineBody).length, 1, 'stored exactly once');
  assert.equal(await page.evaluate((wid) => localStorage.getItem(`kefu.outbox.${wid}`), shared.settings.widget_id), null, 'the outbox is empty');
  const missed = page.locator('[data-testid="kefu-message"][data-author="agent"]').filter({ hasText: missedBody });
  await missed.waitFor();
  assert.equal(await missed.count(), 1, 'the agent message of the outage arrives once');

  // A message whose ack is lost: the socket drops right after the send frame; the retry after the
  // reconnect carries the same client id and is answered from what was stored.
  const lostBody = `Ack lost ${suffix}`;
  const socketsBefore = await page.evaluate(() => window.__kefuTest.sockets.length);
  await page.evaluate(() => { window.__kefuTest.dropAfterSend = true; });
  await page.getByTestId('kefu-input').fill(lostBody);
  await page.getByTestId('kefu-send').click();
  const lost = customerMessages(page).filter({ hasText: lostBody });
  await waitUntil(async () => (await page.evaluate(() => window.__kefuTest.sockets.length)) > socketsBefore, 'a new socket', 15_000);
  await waitUntil(async () => ['sent', 'read'].includes(await lost.getAttribute('data-state')), 'the retried message to be acknowledged', 15_000);
  const sends = await page.evaluate((b) => window.__kefuTest.sends.filter((f) => f.body === b), lostBody);
  assert.ok(sends.length >= 2, `sent again after the reconnect (${sends.length} sends)`);
  assert.equal(new Set(sends.map((f) => f.client_id)).size, 1, 'with the same client id');
  assert.equal((await bodies()).filter((b) => b === lostBody).length, 1, 'stored exactly once');
  assert.equal(await customerMessages(page).filter({ hasText: lostBody }).count(), 1, 'shown once');
  assert.equal(await customerMessages(page).filter({ hasText: offlineBody }).count(), 1, 'shown once');
  // No seq is shown twice.
  const seqs = await page.locator('[data-testid="kefu-message"][data-seq]').evaluateAll((els) => els.map((e) => e.dataset.seq));
  assert.equal(new Set(seqs).size, seqs.length, `no duplicate seq (${seqs.join(',')})`);

  // With the panel closed, a reply shows as an unread badge; opening the chat reads it.
  const badge = page.getByTestId('kefu-unread');
  await page.getByTestId('kefu-close').click();
  await waitUntil(async () => !(await page.getByTestId('kefu-panel').isVisible()), 'the panel to close');
  assert.equal(await badge.isVisible(), false, 'nothing unread yet');
  const posted = await shared.agent.ok('POST', `/conversations/${shared.conv.id}/messages`, { body: `One more thing ${suffix}` });
  await waitUntil(() => badge.isVisible(), 'the unread badge');
  assert.equal(await text(badge), '1');
  await page.getByTestId('kefu-launcher').click();
  await waitUntil(async () => !(await badge.isVisible()), 'the badge to clear when the chat is open');
  const postedSeq = posted.seq || (posted.message && posted.message.seq);
  await waitUntil(async () => (await shared.agent.ok('GET', `/conversations/${shared.conv.id}`)).customer_read_seq >= postedSeq,
    'the read receipt of the new reply');
  assert.deepEqual(problems, []);
}));

// --- 6. A burst ------------------------------------------------------------------------------------

test('a burst of messages is paced to the server\'s limits and arrives once, in order', () => step('burst', async () => {
  const page = pages.get('customer');
  const input = page.getByTestId('kefu-input');
  const burst = Array.from({ length: 14 }, (_, i) => `Burst ${i + 1} ${suffix}`);
  for (const b of burst) {
    await input.fill(b);
    await input.press('Enter');
  }
  const mine = customerMessages(page).filter({ hasText: `${suffix}` }).filter({ hasText: 'Burst ' });
  await waitUntil(async () => {
    const states = await mine.evaluateAll((els) => els.map((e) => e.dataset.state));
    return states.length === burst.length && states.every((st) => st === 'sent' || st === 'read');
  }, 'every message of the burst to be acknowledged', 20_000);
  const stored = (await shared.agent.ok('GET', `/conversations/${shared.conv.id}/timeline`)).items
    .filter((i) => i.type === 'message' && i.body.startsWith('Burst ') && i.body.endsWith(suffix))
    .sort((a, b) => a.seq - b.seq).map((m) => m.body);
  assert.deepEqual(stored, burst, 'stored once each, in the order they were written');
  const shown = await mine.evaluateAll((els) => els.map((e) => e.querySelector('[data-testid="kefu-message-body"]').textContent));
  assert.deepEqual(shown, burst, 'shown once each, in order');
  assert.deepEqual(problems, []);
}));

// --- 7. Mobile ---------------------------------------------------------------------------------------

test('on a phone the panel opens full screen, in the browser\'s language', () => step('mobile', async () => {
  const page = await newPage('phone', { locale: 'zh-CN' });
  await page.setViewportSize({ width: 375, height: 667 });
  await page.goto('/demo');
  const launcher = page.getByTestId('kefu-launcher');
  await launcher.click();
  const panel = page.getByTestId('kefu-panel');
  await panel.waitFor();
  const box = await panel.boundingBox();
  assert.deepEqual({ x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.width), h: Math.round(box.height) },
    { x: 0, y: 0, w: 375, h: 667 }, 'the panel fills the screen');
  assert.equal(await launcher.isVisible(), false, 'the launcher is under the full-screen panel');
  // A Chinese browser gets the widget in Simplified Chinese; the page can switch it.
  assert.equal(await page.getByTestId('kefu-input').getAttribute('placeholder'), '输入消息…');
  await page.evaluate(() => window.KefuChat.setLanguage('zh-TW'));
  assert.equal(await page.getByTestId('kefu-input').getAttribute('placeholder'), '輸入訊息…');
  assert.equal(await page.getByTestId('kefu-close').getAttribute('aria-label'), '關閉');
  // The close button gives the page back.
  await page.getByTestId('kefu-close').click();
  await waitUntil(async () => !(await panel.isVisible()), 'the panel to close');
  assert.equal(await launcher.isVisible(), true);
  assert.deepEqual(problems, []);
}));

// --- 8. A signed-in customer of the demo exchange ------------------------------------------------------

test('the demo switch chats as the signed-in customer, verified by the signature', () => step('signed in', async () => {
  const page = await newPage('member');
  await page.goto('/demo');
  const asUser = page.getByTestId('demo-as-user');
  await asUser.waitFor();
  await waitForText(asUser, /Signed in as/);
  await asUser.click();
  await page.getByTestId('demo-user').waitFor();
  await page.getByTestId('kefu-launcher').click();
  const body = `Signed-in question ${suffix}`;
  await page.getByTestId('kefu-input').fill(body);
  await page.getByTestId('kefu-send').click();
  const sent = customerMessages(page).filter({ hasText: body });
  await waitUntil(async () => (await sent.getAttribute('data-state')) === 'sent', 'the message to be acknowledged');
  // (The demo customer may already have an ongoing chat: the widget continues it.)
  const convId = await page.getByTestId('kefu-chat').getAttribute('data-conversation-id');
  const conv = await shared.agent.ok('GET', `/conversations/${convId}`);
  assert.equal(conv.channel, 'chat');
  assert.equal(conv.verified_identity, true, 'the chat is from a verified customer');
  const timeline = await shared.agent.ok('GET', `/conversations/${convId}/timeline`);
  assert.equal(timeline.items.filter((i) => i.type === 'message' && i.body === body).length, 1, 'the message is in that chat');
  const identity = await (await fetch(`${server.baseUrl}/api/v1/chat/demo-identity`)).json();
  const contact = await shared.agent.ok('GET', `/contacts/${conv.contact_id || conv.contact.id}`);
  assert.equal(contact.name, identity.name);

  // After a reload the page hands the widget the identity before it loads: the chat is there.
  await page.reload();
  await page.getByTestId('kefu-launcher').click();
  await waitForText(customerMessages(page).filter({ hasText: body }).getByTestId('kefu-message-body'), body);

  // Back to an anonymous visitor: the signed-in customer's chat is not shown.
  await page.getByTestId('demo-as-visitor').click();
  await waitUntil(async () => (await customerMessages(page).filter({ hasText: body }).count()) === 0, 'the verified chat to go');
  assert.deepEqual(problems, []);
}));

// --- 9. Embedded on the exchange's own origin ----------------------------------------------------------

test('embedded on another origin, the widget reaches the support host for everything', () => step('cross origin', async () => {
  // The exchange's page on its own origin (another port: Chromium lets only a loopback page load
  // from a loopback server), with the one-line embed pointing at the support host.
  const exchange = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><title>Exchange</title></head><body>
      <h1 id="title">An exchange on its own domain</h1>
      <script src="${server.baseUrl}/widget.js" data-channel="${shared.settings.widget_id}" async></script>
    </body></html>`);
  });
  await new Promise((r) => exchange.listen(0, '127.0.0.1', r));
  after(() => new Promise((r) => exchange.close(r)));
  const origin = `http://127.0.0.1:${exchange.address().port}`;
  assert.notEqual(origin, server.baseUrl);
  const page = await newPage('exchange', { consoleErrors: 'all' });
  await page.goto(`${origin}/account`);
  await page.getByTestId('kefu-launcher').click();
  await page.getByTestId('kefu-panel').waitFor();

  // The public configuration comes from the support host (CORS): the team is online.
  await waitUntil(async () => (await page.getByTestId('kefu-panel').getAttribute('data-config')) === 'loaded',
    'the widget config from the support host (CORS)', 5_000);
  assert.equal(await page.getByTestId('kefu-availability').getAttribute('data-online'), 'true');
  const body = `From the exchange's domain ${suffix}`;
  await page.getByTestId('kefu-input').fill(body);
  await page.getByTestId('kefu-send').click();
  const sent = customerMessages(page).filter({ hasText: body });
  await waitUntil(async () => (await sent.getAttribute('data-state')) === 'sent', 'the message to be acknowledged');

  // An upload goes to the support host too, and its answer can be read.
  await page.getByTestId('kefu-file-input').setInputFiles({ name: `cross-${suffix}.png`, mimeType: 'image/png', buffer: makePng(20, 20) });
  const image = customerMessages(page).nth(1);
  await waitUntil(async () => ['sent', 'failed'].includes(await image.getAttribute('data-state')), 'the upload to finish', 15_000);
  assert.equal(await image.getAttribute('data-state'), 'sent',
    `the image is sent (${await text(image)})`);
  const img = image.getByTestId('kefu-attachment-thumb');
  await waitUntil(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the image to show');
  assert.ok((await img.getAttribute('src')).startsWith(`${server.baseUrl}/api/v1/chat/attachments/`), 'served by the support host');
  assert.deepEqual(problems, []);
}));

// --- 10. Help-center suggestions while typing -----------------------------------------------------------

test('while the visitor types, help-center articles are suggested in the widget\'s language', () => step('suggestions', async () => {
  const page = await newPage('suggest', { consoleErrors: 'all' });
  const searches = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/v1/help/search') searches.push(Object.fromEntries(u.searchParams));
  });
  await page.goto('/demo');
  await page.evaluate(() => window.KefuChat.setLanguage('zh-CN'));
  await page.getByTestId('kefu-launcher').click();
  const input = page.getByTestId('kefu-input');
  await input.waitFor();
  assert.equal(await input.getAttribute('placeholder'), '输入消息…');
  const list = page.getByTestId('kefu-suggestions');
  const links = page.getByTestId('kefu-suggestion');
  assert.equal(await list.isVisible(), false, 'no suggestions before anything is typed');

  // One character is not a question; typing on waits for a pause, then asks once.
  await input.click();
  await input.pressSequentially('忘', { delay: 60 });
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(searches.length, 0, 'no search for a single character');
  await input.pressSequentially('记密码', { delay: 60 });
  await list.waitFor();
  assert.equal(searches.length, 1, `one search after the pause (${JSON.stringify(searches)})`);
  assert.deepEqual(searches[0], { q: '忘记密码', locale: 'zh-CN', limit: '3', source: 'widget', track: 'false' });

  // The article that answers it, as the help center has it.
  const article = await (await fetch(`${server.baseUrl}/api/v1/help/articles/reset-password-zh-cn`)).json();
  assert.ok(article.title, 'the demo help center has the article');
  const reset = links.filter({ has: page.locator('.suggest-name', { hasText: article.title }) });
  await reset.waitFor();
  assert.equal(await text(reset.locator('.suggest-name')), article.title);
  assert.equal(await reset.getAttribute('href'), `${server.baseUrl}/help/zh-CN/articles/reset-password-zh-cn`);
  assert.equal(await reset.getAttribute('target'), '_blank');
  assert.match(await reset.getAttribute('rel'), /\bnoopener\b/);
  assert.ok((await links.count()) >= 1 && (await links.count()) <= 3, 'at most three suggestions');
  assert.equal(await list.getAttribute('role'), 'region');
  assert.equal(await list.getAttribute('aria-label'), '推荐文章');
  assert.equal(await page.getByTestId('kefu-suggestions-close').getAttribute('aria-label'), '隐藏推荐文章');
  // The list sits in the footer, right above the composer; the summary keeps to one line.
  const [listBox, composeBox] = [await list.boundingBox(), await page.locator('.compose').boundingBox()];
  assert.ok(listBox.y + listBox.height <= composeBox.y + 1, 'above the composer');
  const summary = reset.locator('.suggest-summary');
  if (await summary.count()) {
    assert.equal(await summary.evaluate((el) => getComputedStyle(el).whiteSpace), 'nowrap');
    assert.equal(await summary.evaluate((el) => getComputedStyle(el).textOverflow), 'ellipsis');
  }

  // Keyboard: Up from the start of the text goes into the list; Down at its end comes back.
  await input.press('Home');
  await input.press('ArrowUp');
  assert.equal(await page.evaluate(() => document.querySelector('kefu-chat').shadowRoot.activeElement?.dataset.testid), 'kefu-suggestion');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.querySelector('kefu-chat').shadowRoot.activeElement?.dataset.testid), 'kefu-input');

  // Opening one: the tab opens at once; the tracked search and the click follow on the side.
  const clicked = page.waitForResponse((res) => res.url() === `${server.baseUrl}/api/v1/help/clicks` && res.request().method() === 'POST');
  const [popup] = await Promise.all([page.waitForEvent('popup'), reset.click()]);
  assert.match(popup.url(), /\/help\/zh-CN\/articles\/reset-password-zh-cn$/);
  const click = await clicked;
  assert.equal(click.status(), 204);
  const tracked = searches.filter((q) => q.track === 'true');
  assert.deepEqual(tracked, [{ q: '忘记密码', locale: 'zh-CN', limit: '3', source: 'widget', track: 'true' }]);
  const posted = JSON.parse(click.request().postData());
  assert.equal(posted.article_id, (await reset.getAttribute('data-id')));
  assert.ok(posted.search_id, 'the click names the tracked search');
  await popup.close();
  // The help center's analytics count the search and its click (the untracked ones are not logged).
  await waitUntil(async () => {
    const stats = await shared.admin.ok('GET', '/kb/analytics?days=1');
    const row = stats.top_queries.find((r) => r.query === '忘记密码');
    return row && row.searches === 1 && row.clicks === 1;
  }, 'the click in the help-center analytics');
  assert.equal(await list.isVisible(), true, 'the list stays after an article was opened');

  // "×" hides the list while the question only grows; Escape too; a send hides it for good.
  await page.getByTestId('kefu-suggestions-close').click();
  await waitUntil(async () => !(await list.isVisible()), 'the suggestions to close');
  const before = searches.length;
  await input.pressSequentially(' 怎么办', { delay: 30 });
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(await list.isVisible(), false, 'still closed while the same question goes on');
  assert.equal(searches.length, before, 'and nothing is searched');
  await input.fill('');
  await input.fill('忘记密码');
  await list.waitFor();
  await input.press('Escape');
  await waitUntil(async () => !(await list.isVisible()), 'Escape to close the suggestions');
  assert.equal(await page.getByTestId('kefu-panel').isVisible(), true, 'the first Escape leaves the panel open');
  await input.fill('');
  await input.fill('忘记密码');
  await list.waitFor();
  const email = page.getByTestId('kefu-prechat-email');
  if (await email.isVisible()) await email.fill(`suggest-${suffix}@example.com`);
  await page.getByTestId('kefu-send').click();
  await waitUntil(async () => !(await list.isVisible()), 'sending to hide the suggestions');
  assert.equal(await input.inputValue(), '');
  const sent = customerMessages(page).filter({ hasText: '忘记密码' });
  await waitUntil(async () => ['sent', 'read'].includes(await sent.getAttribute('data-state')), 'the message to be acknowledged');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await list.isVisible(), false, 'no late answer brings the list back');

  // In English, for an English question; an older, slower answer never wins.
  await page.evaluate(() => window.KefuChat.setLanguage('en'));
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/v1/help/search?*', async (route) => {
    if (new URL(route.request().url()).searchParams.get('q') === 'deposit address') await held;
    await route.continue().catch(() => {}); // (aborted by the widget meanwhile)
  });
  await input.fill('deposit address');
  await waitUntil(() => searches.some((q) => q.q === 'deposit address'), 'the slow search to go out');
  await input.fill('withdrawal pending');
  await list.waitFor();
  await waitUntil(async () => /\/help\/en\/articles\/withdrawal-pending$/.test(await links.first().getAttribute('href')),
    'the withdrawal article first');
  assert.ok((await links.first().getAttribute('href')).endsWith('/help/en/articles/withdrawal-pending'));
  assert.equal(await list.getAttribute('aria-label'), 'Suggested articles');
  assert.equal(await text(list.locator('.suggest-heading')), 'Suggested articles');
  assert.equal(await page.getByTestId('kefu-suggestions-close').getAttribute('aria-label'), 'Hide suggested articles');
  assert.deepEqual(searches.at(-1), { q: 'withdrawal pending', locale: 'en', limit: '3', source: 'widget', track: 'false' });
  release();
  await new Promise((r) => setTimeout(r, 500));
  assert.ok((await links.first().getAttribute('href')).endsWith('/help/en/articles/withdrawal-pending'), 'the stale answer is dropped');
  await page.unroute('**/api/v1/help/search?*');

  // Clearing the composer hides the list; a question without an article shows none.
  await input.fill('');
  await waitUntil(async () => !(await list.isVisible()), 'clearing to hide the suggestions');
  await input.fill(`qzxv ${suffix}`);
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(await list.isVisible(), false, 'no list without hits');
  assert.deepEqual(problems, []);
}));

// --- 11. The help search on the home view ----------------------------------------------------------------

test('on the home view the visitor searches the help center, or starts a chat with the search', () => step('help search', async () => {
  const page = await newPage('help', { consoleErrors: 'all' });
  const searches = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/v1/help/search') searches.push(Object.fromEntries(u.searchParams));
  });
  await page.goto('/demo');
  await page.evaluate(() => window.KefuChat.setLanguage('zh-TW'));
  await page.getByTestId('kefu-launcher').click();

  // A first visit opens a new chat; the home view lists the visitor's chats once there are some.
  const input = page.getByTestId('kefu-input');
  await input.waitFor();
  const first = `我有一個問題 ${suffix}`;
  await input.fill(first);
  const email = page.getByTestId('kefu-prechat-email');
  if (await email.isVisible()) await email.fill(`help-${suffix}@example.com`);
  await page.getByTestId('kefu-send').click();
  const sent = customerMessages(page).filter({ hasText: first });
  await waitUntil(async () => ['sent', 'read'].includes(await sent.getAttribute('data-state')), 'the first message to be acknowledged');
  await page.getByTestId('kefu-back').click();
  await page.getByTestId('kefu-home').waitFor();
  await page.getByTestId('kefu-history-item').first().waitFor();
  searches.length = 0; // (what the composer suggested does not count here)

  // The card: a labelled search box in a search landmark, in the widget's language.
  const box = page.getByTestId('kefu-help-search');
  assert.equal(await box.isVisible(), true);
  assert.equal(await box.getAttribute('placeholder'), '搜尋幫助文章');
  assert.equal(await box.evaluate((el) => el.labels[0] && el.labels[0].textContent), '搜尋幫助文章');
  const card = page.locator('[role="search"]').filter({ has: box });
  assert.equal(await card.count(), 1, 'the box is in a role=search landmark');
  assert.equal(await card.getAttribute('aria-label'), '搜尋幫助文章');
  const status = card.locator('[role="status"][aria-live="polite"]');
  assert.equal(await status.count(), 1, 'a live region for the results count');
  const results = page.getByTestId('kefu-help-results');
  const links = page.getByTestId('kefu-help-result');
  const empty = page.getByTestId('kefu-help-empty');
  assert.equal(await results.isVisible(), false, 'no results before anything is typed');
  assert.equal(await empty.isVisible(), false);

  // Typing lists the articles once the typing pauses: one search, for up to five.
  await box.click();
  await box.pressSequentially('忘記密碼', { delay: 60 });
  const article = await (await fetch(`${server.baseUrl}/api/v1/help/articles/reset-password-zh-tw`)).json();
  assert.ok(article.title, 'the demo help center has the article');
  const reset = links.filter({ has: page.locator('.suggest-name', { hasText: article.title }) });
  await reset.waitFor();
  assert.equal(await results.isVisible(), true);
  assert.equal(await reset.getAttribute('href'), `${server.baseUrl}/help/zh-TW/articles/reset-password-zh-tw`);
  assert.equal(await reset.getAttribute('target'), '_blank');
  assert.match(await reset.getAttribute('rel'), /\bnoopener\b/);
  const count = await links.count();
  assert.ok(count >= 1 && count <= 5, `one to five results (${count})`);
  assert.equal(await empty.isVisible(), false, 'no "No articles found" with results');
  assert.deepEqual(searches, [{ q: '忘記密碼', locale: 'zh-TW', limit: '5', source: 'widget', track: 'false' }]);
  await waitForText(status, `找到 ${count} 篇文章`);

  // Enter submits nothing: still the home view, no message, no second search.
  const messagesBefore = await page.evaluate((wid) => localStorage.getItem(`kefu.outbox.${wid}`), shared.settings.widget_id);
  await box.press('Enter');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await page.getByTestId('kefu-home').isVisible(), true, 'Enter stays on the home view');
  assert.equal(await page.evaluate((wid) => localStorage.getItem(`kefu.outbox.${wid}`), shared.settings.widget_id), messagesBefore);
  assert.equal(searches.length, 1, 'the answer on screen is not asked for again');

  // Keyboard: Down into the results, Up back to the box.
  const focused = () => page.evaluate(() => document.querySelector('kefu-chat').shadowRoot.activeElement?.dataset.testid);
  await box.press('ArrowDown');
  assert.equal(await focused(), 'kefu-help-result');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focused(), 'kefu-help-search');

  // Opening one records the click, as the suggestions do.
  const clicked = page.waitForResponse((res) => res.url() === `${server.baseUrl}/api/v1/help/clicks` && res.request().method() === 'POST');
  const [popup] = await Promise.all([page.waitForEvent('popup'), reset.click()]);
  assert.match(popup.url(), /\/help\/zh-TW\/articles\/reset-password-zh-tw$/);
  assert.equal((await clicked).status(), 204);
  assert.deepEqual(searches.filter((q) => q.track === 'true'), [{ q: '忘記密碼', locale: 'zh-TW', limit: '5', source: 'widget', track: 'true' }]);
  await popup.close();

  // Nothing found: one button starts a new chat with the search in the composer.
  await box.fill('qwxzqwxz');
  await empty.waitFor();
  assert.match(await text(empty), /^沒有找到相關文章/);
  assert.equal(await results.isVisible(), false, 'no list without results');
  await waitForText(status, '沒有找到相關文章');
  const start = page.getByTestId('kefu-help-start-chat');
  assert.equal(await text(start), '開始對話');
  await start.click();
  await page.getByTestId('kefu-chat').waitFor();
  assert.equal(await page.getByTestId('kefu-home').isVisible(), false);
  assert.equal(await page.getByTestId('kefu-chat').getAttribute('data-conversation-id'), null, 'a new conversation');
  await waitUntil(async () => (await input.inputValue()) === 'qwxzqwxz', 'the search in the composer');
  assert.equal(await focused(), 'kefu-input');
  assert.deepEqual(problems, []);
}));
