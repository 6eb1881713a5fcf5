// End-to-end tests of the agent inbox in a real browser: replying with a
// canned response, private notes with mentions, resolving with the `e`
// shortcut, the collision indicator between two agents, live updates of the
// list, and full-text search in Chinese.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/inbox.test.mjs
//
// Data is seeded through the REST API with the demo accounts (cookie
// session + X-CSRF-Token), so the tests do not depend on demo content.
// Screenshots of failed steps go to artifacts/inbox-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, waitForText, waitUntil, signIn, text, apiSession as apiSessionAt } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'inbox-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const shortcut = `wd${suffix}`;
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

async function createConversation(api, { subject, body, name, email, tags = [] }) {
  const created = await api.ok('POST', '/conversations', {
    subject, contact: { name, email }, message: { body }, tags,
  });
  return created.conversation;
}

/** Text typed into the composer, as an agent would (fires input events). */
async function typeInComposer(page, value) {
  await page.getByTestId('composer-input').pressSequentially(value, { delay: 15 });
}

/** Move focus out of text fields so single-key shortcuts apply. */
async function blurFields(page) {
  await page.evaluate(() => { if (document.activeElement) document.activeElement.blur(); });
}

before(async () => {
  server = await harness.start();
  const admin = await apiSession(server.credentials.admin);
  seeded.admin = admin;
  const agents = (await admin.ok('GET', '/agents?limit=200')).items;
  seeded.agentsByEmail = Object.fromEntries(agents.map((a) => [a.email, a]));

  await admin.ok('POST', '/canned-responses', {
    shortcut, title: `Withdrawal delay ${suffix}`, locale: 'en', shared: true,
    body: 'Hello {{contact.name}}, we are checking ticket #{{conversation.number}} for you.',
  });
  seeded.withdrawal = await createConversation(admin, {
    subject: `Withdrawal not received ${suffix}`,
    body: `我的提币已经两个小时还没到账，交易哈希 0x${suffix}。`,
    name: `Wang Xiaoming ${suffix}`, email: `wang-${suffix}@example.com`, tags: ['withdrawal'],
  });
  seeded.collision = await createConversation(admin, {
    subject: `Deposit question ${suffix}`,
    body: 'My USDT deposit shows pending, can you check?',
    name: `Alice ${suffix}`, email: `alice-${suffix}@example.com`,
  });
});

after(() => harness.stop());

// --- (a) Reply with a canned response, add a note, resolve with `e` -----------------------------

test('an agent signs in to the inbox, replies with a canned response, adds a note and resolves with `e`', () => step('reply note resolve', async () => {
  const page = await newPage('agent');
  await page.goto('/console/login');
  await signIn(page, server.credentials.agent);
  await page.waitForURL(/\/console\/inbox/);
  await waitForText(page.getByTestId('page-title'), 'Inbox');

  // The conversation is unassigned: open it from that view of the list.
  await page.getByTestId('view-unassigned').click();
  await page.waitForURL(/view=unassigned/);
  const row = page.locator(`[data-testid="conversation-row"][data-number="${seeded.withdrawal.number}"]`);
  await row.waitFor();
  await row.getByTestId('conversation-subject').click();
  await page.waitForURL(`**/console/conversations/${seeded.withdrawal.number}`);
  await waitForText(page.getByTestId('conversation-number'), `#${seeded.withdrawal.number}`);
  await page.locator('[data-testid="timeline-message"][data-author="customer"]').first().waitFor();

  // `/` + shortcut opens the canned-response picker; Enter inserts the rendered body.
  await page.getByTestId('composer-input').click();
  await typeInComposer(page, `/${shortcut.slice(0, 5)}`);
  const option = page.locator(`[data-testid="canned-option"][data-shortcut="${shortcut}"]`);
  await option.waitFor();
  await page.getByTestId('composer-input').press('Enter');
  const expectedReply = `Hello Wang Xiaoming ${suffix}, we are checking ticket #${seeded.withdrawal.number} for you.`;
  await waitUntil(async () => (await page.getByTestId('composer-input').inputValue()) === expectedReply,
    'the rendered canned response in the reply box');
  assert.equal(await page.getByTestId('canned-picker').count(), 0, 'the picker closes after a pick');
  await page.getByTestId('composer-send').click();
  const reply = page.locator('[data-testid="timeline-message"][data-author="agent"][data-private="false"]');
  await waitForText(reply.last().getByTestId('message-body'), expectedReply);
  assert.equal(await page.getByTestId('composer-input').inputValue(), '', 'the reply box is emptied after sending');

  // `n` switches to a private note; `@` mentions a colleague.
  await blurFields(page);
  await page.keyboard.press('n');
  await waitUntil(async () => (await page.getByTestId('composer-mode-note').getAttribute('aria-pressed')) === 'true', 'note mode');
  assert.equal(await page.getByTestId('composer').evaluate((el) => el.classList.contains('composer-note')), true);
  const adminAgent = seeded.agentsByEmail[server.credentials.admin.email];
  await typeInComposer(page, `Checked the chain for ${suffix}, please confirm @`);
  await page.locator(`[data-testid="mention-option"][data-agent-id="${adminAgent.id}"]`).click();
  await typeInComposer(page, 'thanks');
  const noteText = await page.getByTestId('composer-input').inputValue();
  assert.ok(noteText.includes(`@[${adminAgent.name}](${adminAgent.id})`), `the mention is inserted in the text form: ${noteText}`);
  await page.getByTestId('composer-send').click();
  const note = page.locator('[data-testid="timeline-message"][data-private="true"]');
  await note.last().waitFor();
  await waitForText(note.last().getByTestId('mention'), `@${adminAgent.name}`);
  assert.ok(await note.last().evaluate((el) => el.classList.contains('msg-note')), 'notes are styled differently');

  // `e` resolves (focus outside the text fields).
  await blurFields(page);
  await page.keyboard.press('e');
  await page.locator('[data-testid="conversation-status"][data-status="resolved"]').waitFor();
  await page.locator('[data-testid="timeline-activity"][data-kind="status_changed"]').last().waitFor();
  await waitForText(page.locator('[data-testid="timeline-activity"][data-kind="status_changed"]').last(), /Open → Resolved/);

  // The server agrees.
  const api = seeded.admin;
  const conv = await api.ok('GET', `/conversations/${seeded.withdrawal.id}`);
  assert.equal(conv.status, 'resolved');
  const timeline = await api.ok('GET', `/conversations/${seeded.withdrawal.id}/timeline`);
  const messages = timeline.items.filter((i) => i.type === 'message');
  const storedReply = messages.find((m) => m.body === expectedReply);
  assert.ok(storedReply, 'the canned reply is stored');
  assert.equal(storedReply.private, false);
  assert.equal(storedReply.author.kind, 'agent');
  const storedNote = messages.find((m) => m.body.includes(`Checked the chain for ${suffix}`));
  assert.ok(storedNote, 'the note is stored');
  assert.equal(storedNote.private, true, 'the note is private');
  assert.deepEqual(storedNote.mentions, [adminAgent.id]);
  const notifications = await api.ok('GET', '/me/notifications?unread=true');
  assert.ok(notifications.items.some((n) => n.conversation_id === seeded.withdrawal.id), 'the mentioned admin got a notification');
}));

// --- (b) Collision indicator ---------------------------------------------------------------------------

test('a second agent opening the same conversation sees who is viewing and typing', () => step('collision', async () => {
  const agentPage = pages.get('agent');
  const agentName = seeded.agentsByEmail[server.credentials.agent.email].name;
  const supervisorName = seeded.agentsByEmail[server.credentials.supervisor.email].name;
  await agentPage.goto(`/console/conversations/${seeded.collision.number}`);
  await waitForText(agentPage.getByTestId('conversation-number'), `#${seeded.collision.number}`);
  assert.equal(await agentPage.getByTestId('presence-item').count(), 0, 'nobody else is there yet');

  const sup = await newPage('supervisor');
  await sup.goto(`/console/login?next=${encodeURIComponent(`/console/conversations/${seeded.collision.number}`)}`);
  await signIn(sup, server.credentials.supervisor);
  await sup.waitForURL(`**/console/conversations/${seeded.collision.number}`);

  // The supervisor learns from the presence answer that the agent is viewing.
  const seenBySup = sup.locator(`[data-testid="presence-item"][data-agent-id="${seeded.agentsByEmail[server.credentials.agent.email].id}"]`);
  await waitForText(seenBySup, `${agentName} is viewing`);
  // The agent learns it from the live feed.
  const seenByAgent = agentPage.locator(`[data-testid="presence-item"][data-agent-id="${seeded.agentsByEmail[server.credentials.supervisor.email].id}"]`);
  await waitForText(seenByAgent, `${supervisorName} is viewing`);

  // Typing shows up on the other side while the supervisor writes.
  await sup.getByTestId('composer-input').click();
  await sup.getByTestId('composer-input').pressSequentially('Looking into it', { delay: 20 });
  await agentPage.locator(`[data-testid="presence-item"][data-state="typing"]`).waitFor();
  await waitForText(seenByAgent, `${supervisorName} is typing…`);

  // Leaving clears the indicator.
  await sup.goto('/console/inbox');
  await waitUntil(async () => (await seenByAgent.count()) === 0, 'the indicator to disappear after the supervisor left');
}));

// --- (c) Live list ------------------------------------------------------------------------------------------

test('a conversation created through the API appears in the open inbox without a reload', () => step('live list', async () => {
  const page = pages.get('agent');
  await page.goto('/console/inbox?view=all');
  await page.getByTestId('conversation-table').waitFor();
  const before = Number(await text(page.getByTestId('view-all-count')));
  await page.evaluate(() => { window.__kefuNoReload = true; });

  const fresh = await createConversation(seeded.admin, {
    subject: `Live ${suffix} 账户冻结`, body: 'My account is frozen after a login from a new device.',
    name: `Bob ${suffix}`, email: `bob-${suffix}@example.com`,
  });
  const row = page.locator(`[data-testid="conversation-row"][data-number="${fresh.number}"]`);
  await row.waitFor();
  await waitForText(row.getByTestId('conversation-subject'), `Live ${suffix} 账户冻结`);
  await waitForText(page.getByTestId('view-all-count'), String(before + 1));
  assert.equal(await page.evaluate(() => window.__kefuNoReload), true, 'the page was not reloaded');
  // Newest activity first: the new conversation leads the list.
  assert.equal(await page.locator('[data-testid="conversation-row"]').first().getAttribute('data-number'), String(fresh.number));
}));

// --- (d) Search ---------------------------------------------------------------------------------------------

test('search finds a conversation by a Chinese word and highlights it', () => step('search', async () => {
  const page = pages.get('agent');
  await page.getByTestId('search-input').fill('提币');
  const hit = page.locator(`[data-testid="search-result"][data-number="${seeded.withdrawal.number}"]`);
  await hit.waitFor();
  await waitForText(hit.locator('mark').first(), '提币');
  assert.equal(await page.locator(`[data-testid="search-result"][data-number="${seeded.collision.number}"]`).count(), 0,
    'a conversation without the word is not a hit');
  await hit.getByTestId('search-result-link').click();
  await page.waitForURL(`**/console/conversations/${seeded.withdrawal.number}`);
}));

// --- (e) Search filters --------------------------------------------------------------------------------------

/** The conversation numbers of the search hits on the page. */
async function hitNumbers(page) {
  return page.locator('[data-testid="search-result"]').evaluateAll((els) => els.map((e) => Number(e.dataset.number)).sort((a, b) => a - b));
}

test('search filters narrow the results and are kept in the URL', () => step('search filters', async () => {
  const api = seeded.admin;
  const word = `ledger${suffix}`;
  const open = await createConversation(api, {
    subject: `Open ${word}`, body: `Please check ${word} for my account.`,
    name: `Carol ${suffix}`, email: `carol-${suffix}@example.com`, tags: [`fltag${suffix}`],
  });
  const done = await createConversation(api, {
    subject: `Resolved ${word}`, body: `Thanks, ${word} is fine now.`,
    name: `Dave ${suffix}`, email: `dave-${suffix}@example.com`,
  });
  await api.ok('PATCH', `/conversations/${done.id}`, { status: 'resolved' });
  // The index is written in the background: wait until it knows both and the new status.
  const both = [open.number, done.number].sort((a, b) => a - b);
  await waitUntil(async () => {
    const all = await api.ok('GET', `/search?q=${word}`);
    const resolved = await api.ok('GET', `/search?q=${word}&status=resolved`);
    return all.conversations.length === 2
      && resolved.conversations.length === 1 && resolved.conversations[0].conversation.id === done.id;
  }, 'the search index to hold both conversations with their status');

  const page = pages.get('agent');
  await page.goto('/console/inbox?view=all');
  await page.getByTestId('conversation-table').waitFor();
  await page.getByTestId('search-input').fill(word);
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify(both), 'both conversations as hits');

  // Status: resolved leaves the open conversation out.
  await page.getByTestId('search-filter-status').selectOption('resolved');
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([done.number]), 'only the resolved hit');
  await waitForText(page.getByTestId('search-summary'), `1 conversations match “${word}” with these filters`);
  let url = new URL(page.url());
  assert.equal(url.searchParams.get('q'), word);
  assert.equal(url.searchParams.get('q_status'), 'resolved', 'the filter is in the URL');
  assert.equal(url.searchParams.get('view'), 'all', 'the list view is kept');

  // A reload restores the search and its filter.
  await page.reload();
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([done.number]), 'the filtered hit after a reload');
  assert.equal(await page.getByTestId('search-filter-status').inputValue(), 'resolved');

  // Status open and priority urgent: nothing matches.
  await page.getByTestId('search-filter-status').selectOption('open');
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([open.number]), 'only the open hit');
  await page.getByTestId('search-filter-priority').selectOption('urgent');
  await page.getByTestId('search-empty').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('q_priority'), 'urgent');

  // Clearing the filters brings both back; a tag narrows to the tagged one.
  await page.getByTestId('search-filters-clear').click();
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify(both), 'both hits after clearing');
  url = new URL(page.url());
  assert.equal(url.searchParams.get('q_status'), null);
  assert.equal(url.searchParams.get('q_priority'), null);
  await page.getByTestId('search-filter-tag').fill(`fltag${suffix}`);
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([open.number]), 'only the tagged hit');
  assert.equal(new URL(page.url()).searchParams.get('q_tag'), `fltag${suffix}`);

  // Assignee: neither is assigned to the agent, until one is.
  await page.getByTestId('search-filter-tag').fill('');
  await page.getByTestId('search-filter-assignee').selectOption('me');
  await page.getByTestId('search-empty').waitFor();
  const me = seeded.agentsByEmail[server.credentials.agent.email];
  await api.ok('PATCH', `/conversations/${done.id}`, { assignee_id: me.id });
  await waitUntil(async () => {
    const r = await api.ok('GET', `/search?q=${word}&assignee=${me.id}`);
    return r.conversations.length === 1;
  }, 'the index to know the new assignee');
  await page.getByTestId('search-input').press('Enter');
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([done.number]), 'only the hit assigned to me');
  assert.equal(new URL(page.url()).searchParams.get('q_assignee'), 'me');
  // Unassigned: the other one.
  await page.getByTestId('search-filter-assignee').selectOption('none');
  await waitUntil(async () => JSON.stringify(await hitNumbers(page)) === JSON.stringify([open.number]), 'only the unassigned hit');
  assert.equal(new URL(page.url()).searchParams.get('q_assignee'), 'none');

  // Clearing the search text hides the results and drops the filters from the URL.
  await page.getByTestId('search-clear').click();
  await page.getByTestId('conversation-table').waitFor();
  url = new URL(page.url());
  assert.equal(url.searchParams.get('q'), null);
  assert.equal(url.searchParams.get('q_assignee'), null);
}));

test('no inbox page hit a content-security-policy violation or a script error', () => {
  assert.deepEqual(problems, []);
});
