// End-to-end tests of the console's contact pages and channel settings in a
// real browser: searching the contact list, editing a contact's custom
// attributes (and a rejected edit), merging two contacts (identities and
// conversations move to the one kept), the link from the conversation
// sidebar, and the admin's channel settings (API webhook URL and secret,
// portal identity secret, a 422 shown next to its field).
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/contacts.test.mjs
//
// Data is seeded through the REST API with the demo accounts (cookie
// session + X-CSRF-Token), so the tests do not depend on demo content.
// Screenshots of failed steps go to artifacts/contacts-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, waitForText, waitUntil, signIn, text, masked, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'contacts-' });
const { pages, problems, newPage, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const digits = String(crypto.randomInt(10_000_000, 99_999_999));
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

function contactRow(page, id) {
  return page.locator(`[data-testid="contact-row"][data-id="${id}"]`);
}

function identity(page, value) {
  return page.locator(`[data-testid="contact-identity"][data-value="${value}"]`);
}

function conversationRow(page, number) {
  return page.locator(`[data-testid="contact-conversation"][data-number="${number}"]`);
}

/** The numbers of the conversations listed on a contact page. */
async function listedConversations(page) {
  return page.locator('[data-testid="contact-conversation"]').evaluateAll((els) => els.map((e) => Number(e.dataset.number)).sort((a, b) => a - b));
}

before(async () => {
  server = await harness.start();
  const admin = await apiSession(server.credentials.admin);
  seeded.admin = admin;

  // Two records of one customer: e-mail on the web, and a Telegram chat with a phone number.
  const a = await admin.ok('POST', '/conversations', {
    subject: `KYC documents ${suffix}`, contact: { name: `Zhang Wei ${suffix}`, email: `zhang-${suffix}@example.com` },
    message: { body: 'I uploaded my passport yesterday, is my KYC approved?' },
  });
  seeded.convA = a.conversation;
  seeded.contactA = a.conversation.contact_id;
  await admin.ok('PATCH', `/contacts/${seeded.contactA}`, { attributes: { orders: 12 } });

  const b = await admin.ok('POST', '/conversations', {
    subject: `Telegram deposit ${suffix}`, contact: { name: `Wei Z ${suffix}`, email: `wz-tg-${suffix}@example.com` },
    message: { body: 'Deposit of 500 USDT not credited.' },
  });
  seeded.convB = b.conversation;
  seeded.contactB = b.conversation.contact_id;
  assert.notEqual(seeded.contactA, seeded.contactB, 'two different contacts to start with');
  await admin.ok('PATCH', `/contacts/${seeded.contactB}`, { phones: [`+86139${digits}`], telegram_id: `tg${suffix}` });
});

after(() => harness.stop());

// --- (a) The list and its search -------------------------------------------------------------

test('the contact list searches by a whole e-mail and by name prefix, kept in the URL', () => step('list search', async () => {
  const page = await newPage('admin');
  await page.goto('/console/login');
  await signIn(page, server.credentials.admin);
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-contacts').click();
  await page.waitForURL('**/console/contacts');
  await waitForText(page.getByTestId('page-title'), 'Contacts');
  await page.getByTestId('contacts-table').waitFor();
  assert.ok(await page.locator('[data-testid="contact-row"]').count() >= 2, 'the list shows contacts before any search');

  // The whole e-mail address (in any case) finds exactly that contact.
  const email = `Zhang-${suffix}@Example.com`;
  await page.getByTestId('contacts-search').fill(email);
  await waitUntil(async () => (await page.locator('[data-testid="contact-row"]').count()) === 1
    && (await contactRow(page, seeded.contactA).count()) === 1, 'only Zhang Wei to be listed');
  await waitForText(contactRow(page, seeded.contactA).getByTestId('contact-identities'), masked(`zhang-${suffix}@example.com`));
  assert.equal(new URL(page.url()).searchParams.get('q'), email, 'the search is kept in the URL');
  // Identities are sealed and found whole only: the start of the address finds nobody.
  await page.getByTestId('contacts-search').fill(`zhang-${suffix}@exa`);
  await waitForText(page.getByTestId('contacts-table-empty'), `No contact matches “zhang-${suffix}@exa”.`);

  // The start of the name, in another case, finds it too; the other contact does not match.
  await page.getByTestId('contacts-search').fill(`zhang wei ${suffix}`);
  await waitUntil(async () => (await page.locator('[data-testid="contact-row"]').count()) === 1
    && (await contactRow(page, seeded.contactA).count()) === 1, 'a name-prefix match');

  // Nothing matches: the empty state says so.
  await page.getByTestId('contacts-search').fill(`nobody-${suffix}`);
  await waitForText(page.getByTestId('contacts-table-empty'), `No contact matches “nobody-${suffix}”.`);

  // A reload keeps the search; the name opens the contact's page.
  await page.goto(`/console/contacts?q=${encodeURIComponent(`wei z ${suffix}`)}`);
  assert.equal(await page.getByTestId('contacts-search').inputValue(), `wei z ${suffix}`);
  await contactRow(page, seeded.contactB).waitFor();
  assert.equal(await contactRow(page, seeded.contactA).count(), 0);
  await contactRow(page, seeded.contactB).getByTestId('contact-link').click();
  await page.waitForURL(`**/console/contacts/${seeded.contactB}`);
  await waitForText(page.getByTestId('page-title'), `Wei Z ${suffix}`);
  await identity(page, `tg${suffix}`).waitFor();
  await identity(page, masked(`+86139${digits}`)).waitFor();
  await conversationRow(page, seeded.convB.number).waitFor();
}));

// --- (b) Editing a contact ---------------------------------------------------------------------

test('editing a contact adds a custom attribute and keeps the others; a bad phone number is refused', () => step('edit attribute', async () => {
  const page = pages.get('admin');
  await page.goto(`/console/contacts/${seeded.contactA}`);
  await waitForText(page.getByTestId('page-title'), `Zhang Wei ${suffix}`);
  await waitForText(page.locator('[data-testid="contact-attribute"][data-key="orders"]'), '12');
  await waitForText(page.getByTestId('contact-vip'), 'Regular');

  await page.getByTestId('contact-edit').click();
  const dialog = page.getByTestId('contact-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('contact-form-attr-row').count(), 1, 'the existing attribute is in the form');
  await dialog.getByTestId('contact-form-attr-add').click();
  await dialog.getByTestId('contact-form-attr-key').last().fill('region');
  await dialog.getByTestId('contact-form-attr-value').last().fill('Shanghai');
  await dialog.getByTestId('contact-form-vip').fill('3');

  // The server refuses a malformed phone number: the error shows next to the field, nothing is saved.
  await dialog.getByTestId('contact-form-phones').fill('not-a-phone');
  await dialog.getByTestId('contact-form-submit').click();
  await waitForText(dialog.getByTestId('contact-form-phones-error'), /not a phone number/);
  let stored = await seeded.admin.ok('GET', `/contacts/${seeded.contactA}`);
  assert.equal(stored.attributes.region, undefined, 'a refused edit changes nothing');

  await dialog.getByTestId('contact-form-phones').fill('');
  await dialog.getByTestId('contact-form-submit').click();
  await toast(page, `Contact Zhang Wei ${suffix} saved.`).waitFor();
  await dialog.waitFor({ state: 'detached' });
  await waitForText(page.locator('[data-testid="contact-attribute"][data-key="region"]'), 'Shanghai');
  await waitForText(page.locator('[data-testid="contact-attribute"][data-key="orders"]'), '12');
  await waitForText(page.getByTestId('contact-vip'), 'VIP 3');

  stored = await seeded.admin.ok('GET', `/contacts/${seeded.contactA}`);
  assert.deepEqual(stored.attributes, { orders: 12, region: 'Shanghai' }, 'the number keeps its type');
  assert.equal(stored.vip_tier, 3);

  // Changing the value of an attribute and removing another.
  await page.getByTestId('contact-edit').click();
  await dialog.waitFor();
  const regionRow = dialog.locator('[data-testid="contact-form-attr-row"][data-key="region"]');
  await regionRow.getByTestId('contact-form-attr-value').fill('Hangzhou');
  const ordersRow = dialog.locator('[data-testid="contact-form-attr-row"][data-key="orders"]');
  await ordersRow.getByTestId('contact-form-attr-remove').click();
  await dialog.getByTestId('contact-form-submit').click();
  await dialog.waitFor({ state: 'detached' });
  await waitForText(page.locator('[data-testid="contact-attribute"][data-key="region"]'), 'Hangzhou');
  assert.equal(await page.locator('[data-testid="contact-attribute"][data-key="orders"]').count(), 0);
  stored = await seeded.admin.ok('GET', `/contacts/${seeded.contactA}`);
  assert.deepEqual(stored.attributes, { region: 'Hangzhou' });
}));

// --- (c) Merging --------------------------------------------------------------------------------

test('merging another contact moves its identities and conversations to this one', () => step('merge', async () => {
  const page = pages.get('admin');
  await page.goto(`/console/contacts/${seeded.contactA}`);
  await waitForText(page.getByTestId('page-title'), `Zhang Wei ${suffix}`);
  await conversationRow(page, seeded.convA.number).waitFor();
  assert.deepEqual(await listedConversations(page), [seeded.convA.number], 'only its own conversation before the merge');
  assert.equal(await identity(page, `tg${suffix}`).count(), 0);

  await page.getByTestId('contact-merge').click();
  const dialog = page.getByTestId('merge-dialog');
  await dialog.waitFor();
  await dialog.getByTestId('merge-search').fill(`wz-tg-${suffix}@example.com`);
  const candidate = dialog.locator(`[data-testid="merge-candidate"][data-id="${seeded.contactB}"]`);
  await candidate.waitFor();
  await waitUntil(async () => (await dialog.getByTestId('merge-candidate').count()) === 1, 'one candidate');
  // The contact itself is never offered.
  await dialog.getByTestId('merge-search').fill(`zhang-${suffix}`);
  await dialog.getByTestId('merge-empty').waitFor();
  await dialog.getByTestId('merge-search').fill(`wz-tg-${suffix}@example.com`);
  await candidate.waitFor();

  // Cancelling the confirmation changes nothing.
  await candidate.getByTestId('merge-choose').click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.waitFor();
  const explanation = await text(confirm);
  assert.match(explanation, new RegExp(`Merge Wei Z ${suffix} into Zhang Wei ${suffix}\\?`));
  assert.match(explanation, /identities/);
  assert.match(explanation, /conversations/);
  assert.match(explanation, /cannot be undone/);
  assert.ok(explanation.includes(`tg${suffix}`), 'the identities that move are named');
  await confirm.getByTestId('confirm-cancel').click();
  await confirm.waitFor({ state: 'detached' });
  assert.equal((await seeded.admin.ok('GET', `/contacts/${seeded.contactB}`)).merged_into, null);

  await candidate.getByTestId('merge-choose').click();
  await confirm.waitFor();
  await confirm.getByTestId('confirm-ok').click();
  await dialog.waitFor({ state: 'detached' });
  await toast(page, `Wei Z ${suffix} was merged into Zhang Wei ${suffix}.`).waitFor();

  // The result: the source's identities are here, marked, and its conversation is listed.
  await page.getByTestId('merge-result').waitFor();
  assert.ok((await text(page.getByTestId('merge-result'))).includes(masked(`wz-tg-${suffix}@example.com`)), 'the moved identities are named, masked');
  for (const value of [masked(`wz-tg-${suffix}@example.com`), masked(`+86139${digits}`), `tg${suffix}`]) {
    assert.equal(await identity(page, value).getAttribute('data-merged'), 'true', `${value} arrived with the merge`);
  }
  assert.equal(await identity(page, masked(`zhang-${suffix}@example.com`)).getAttribute('data-merged'), null, 'its own identity is not marked');
  await conversationRow(page, seeded.convB.number).waitFor();
  assert.deepEqual(await listedConversations(page), [seeded.convA.number, seeded.convB.number].sort((x, y) => x - y));

  // The server agrees.
  const source = await seeded.admin.ok('GET', `/contacts/${seeded.contactB}`);
  assert.equal(source.merged_into, seeded.contactA);
  const target = await seeded.admin.ok('POST', `/contacts/${seeded.contactA}/reveal`, {});
  assert.deepEqual(target.emails.sort(), [`wz-tg-${suffix}@example.com`, `zhang-${suffix}@example.com`].sort());
  assert.equal(target.telegram_id, `tg${suffix}`);
  assert.equal((await seeded.admin.ok('GET', `/conversations/${seeded.convB.id}`)).contact_id, seeded.contactA);

  // After a reload the conversation is still listed under the contact kept.
  await page.reload();
  await conversationRow(page, seeded.convB.number).waitFor();
  await identity(page, `tg${suffix}`).waitFor();

  // The merged-away contact says where it went and cannot be edited any more.
  await page.goto(`/console/contacts/${seeded.contactB}`);
  await page.getByTestId('contact-merged-notice').waitFor();
  assert.equal(await page.getByTestId('contact-edit').count(), 0);
  assert.equal(await page.getByTestId('contact-merge').count(), 0);
  await page.getByTestId('contact-merged-target').click();
  await page.waitForURL(`**/console/contacts/${seeded.contactA}`);

  // Searching the list by the moved e-mail now finds the contact kept.
  await page.goto(`/console/contacts?q=${encodeURIComponent(`wz-tg-${suffix}@example.com`)}`);
  await contactRow(page, seeded.contactA).waitFor();
  assert.equal(await contactRow(page, seeded.contactB).count(), 0, 'the merged-away contact is no longer listed');
}));

test('the conversation sidebar links to the contact page', () => step('sidebar link', async () => {
  const page = pages.get('admin');
  await page.goto(`/console/conversations/${seeded.convB.number}`);
  const card = page.getByTestId('contact-card');
  await card.waitFor();
  assert.equal(await card.getAttribute('data-contact-id'), seeded.contactA, 'the conversation now belongs to the contact kept');
  await card.getByTestId('contact-open-page').click();
  await page.waitForURL(`**/console/contacts/${seeded.contactA}`);
  await waitForText(page.getByTestId('page-title'), `Zhang Wei ${suffix}`);
  assert.equal(await page.getByTestId('nav-contacts').getAttribute('aria-current'), 'page');
}));

// --- (d) Channel settings -------------------------------------------------------------------------

test('channel settings: a bad webhook URL is refused next to the field, a good one and its secret are saved', () => step('api channel', async () => {
  const page = pages.get('admin');
  await page.getByTestId('nav-channels').click();
  await page.waitForURL('**/console/admin/channels');
  await waitForText(page.getByTestId('page-title'), 'Channel settings');
  await page.getByTestId('api-channel-form').waitFor();
  assert.equal(await page.getByTestId('api-webhook-status').getAttribute('data-on'), 'false');
  assert.equal(await page.getByTestId('api-secret-status').getAttribute('data-on'), 'false');
  await waitForText(page.getByTestId('api-signature-help'), /X-Kefu-Signature: v1=hex\(HMAC-SHA256\(secret, "<timestamp>\.<body>"\)\)/);

  const secret = `whsec-${suffix}-0123456789`;
  // The server answers 422 for a URL that is not http(s): shown next to the URL field.
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/settings/api-channel') && r.request().method() === 'PUT');
  await page.getByTestId('api-webhook-url').fill('ftp://hooks.example.com/kefu');
  await page.getByTestId('api-webhook-secret').fill(secret);
  await page.getByTestId('api-channel-save').click();
  assert.equal((await answered).status(), 422);
  await waitForText(page.getByTestId('api-webhook-url-error'), 'must be an http(s) URL');
  let stored = await seeded.admin.ok('GET', '/settings/api-channel');
  assert.equal(stored.webhook_url, null, 'nothing was saved');
  assert.equal(stored.has_secret, false);

  // A too-short secret is caught before it is sent.
  await page.getByTestId('api-webhook-url').fill('https://hooks.example.com/kefu');
  await page.getByTestId('api-webhook-secret').fill('short');
  await page.getByTestId('api-channel-save').click();
  await waitForText(page.getByTestId('api-webhook-secret-error'), 'Use 16 to 256 characters.');

  await page.getByTestId('api-webhook-secret').fill(secret);
  await page.getByTestId('api-channel-save').click();
  await toast(page, 'Webhook settings saved.').waitFor();
  await waitUntil(async () => (await page.getByTestId('api-webhook-status').getAttribute('data-on')) === 'true', 'deliveries on');
  assert.equal(await page.getByTestId('api-secret-status').getAttribute('data-on'), 'true');
  assert.equal(await page.getByTestId('api-webhook-secret').inputValue(), '', 'the secret is never shown back');
  stored = await seeded.admin.ok('GET', '/settings/api-channel');
  assert.equal(stored.webhook_url, 'https://hooks.example.com/kefu');
  assert.equal(stored.has_secret, true);
  assert.equal(stored.webhook_secret, undefined, 'reads never return the secret');

  // Changing the URL with the secret left empty keeps the secret.
  await page.reload();
  await waitUntil(async () => (await page.getByTestId('api-webhook-url').inputValue()) === 'https://hooks.example.com/kefu', 'the stored URL in the form');
  await page.getByTestId('api-webhook-url').fill('https://hooks.example.com/kefu/v2');
  await page.getByTestId('api-channel-save').click();
  await toast(page, 'Webhook settings saved.').waitFor();
  stored = await seeded.admin.ok('GET', '/settings/api-channel');
  assert.equal(stored.webhook_url, 'https://hooks.example.com/kefu/v2');
  assert.equal(stored.has_secret, true, 'the secret was kept');

  // Turning deliveries off sends webhook_url: null.
  await page.getByTestId('api-channel-disable').click();
  await page.getByTestId('confirm-ok').click();
  await toast(page, 'Webhook deliveries turned off.').waitFor();
  await waitUntil(async () => (await page.getByTestId('api-webhook-status').getAttribute('data-on')) === 'false', 'deliveries off');
  stored = await seeded.admin.ok('GET', '/settings/api-channel');
  assert.equal(stored.webhook_url, null);
}));

test('channel settings: the portal identity secret is saved, signs customers in, and can be turned off', () => step('portal secret', async () => {
  const page = pages.get('admin');
  await page.goto('/console/admin/channels');
  await page.getByTestId('portal-settings-form').waitFor();
  assert.equal(await page.getByTestId('portal-secret-status').getAttribute('data-on'), 'false');
  await waitForText(page.getByTestId('portal-signature-help'), /user_hash = hex\(HMAC-SHA256\(secret, user_id\)\)/);

  // Saving nothing is caught in the form.
  await page.getByTestId('portal-save').click();
  await waitForText(page.getByTestId('portal-identity-secret-error'), 'This field is required.');

  const secret = `portal-${suffix}-abcdefghij`;
  await page.getByTestId('portal-identity-secret').fill(secret);
  await page.getByTestId('portal-save').click();
  await toast(page, 'Portal identity secret saved.').waitFor();
  await waitUntil(async () => (await page.getByTestId('portal-secret-status').getAttribute('data-on')) === 'true', 'signed sign-in on');
  assert.equal((await seeded.admin.ok('GET', '/settings/portal')).has_identity_secret, true);

  // The exchange's signature with that exact secret signs a customer in to the portal.
  const userId = `uid-${suffix}`;
  const portalSignIn = (hash) => fetch(`${server.baseUrl}/api/v1/portal/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-kefu-portal': '1' },
    body: JSON.stringify({ user_id: userId, user_hash: hash }),
  });
  const good = crypto.createHmac('sha256', secret).update(userId).digest('hex');
  assert.equal((await portalSignIn(good)).status, 200, 'a correctly signed user is let in');
  const bad = crypto.createHmac('sha256', 'some-other-secret-value').update(userId).digest('hex');
  assert.equal((await portalSignIn(bad)).status, 401, 'a wrong signature is refused');

  // Turning signed sign-in off sends identity_secret: null.
  await page.getByTestId('portal-disable').click();
  await page.getByTestId('confirm-ok').click();
  await toast(page, 'Signed sign-in turned off.').waitFor();
  await waitUntil(async () => (await page.getByTestId('portal-secret-status').getAttribute('data-on')) === 'false', 'signed sign-in off');
  assert.equal((await seeded.admin.ok('GET', '/settings/portal')).has_identity_secret, false);
  assert.notEqual((await portalSignIn(good)).status, 200, 'the old signature no longer works');
}));

test('channel settings are for admins only', () => step('admin only', async () => {
  const page = await newPage('agent');
  await page.goto('/console/login');
  await signIn(page, server.credentials.agent);
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-contacts').waitFor();
  assert.equal(await page.getByTestId('nav-channels').count(), 0, 'agents do not see the admin page in the navigation');
  await page.goto('/console/admin/channels');
  await waitForText(page.getByTestId('page-title'), 'No access');
  assert.equal(await page.getByTestId('api-channel-form').count(), 0);
}));

test('no contacts or channel page hit a content-security-policy violation or a script error', () => {
  assert.deepEqual(problems, []);
});
