// End-to-end tests of the console's data-protection features in a real
// browser: customers' e-mails and phones are shown masked; an agent whose
// role has no full view gets no "Show full details", export or erase
// button; the admin reveals a contact (and the reveal is audited), exports
// its data as a JSON download and erases it after typing its name; and the
// per-role "full view" policy on the Security settings page is saved with
// the two-factor policy and applies to the agent's next page; the retention
// policy is set on the same page.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/pii.test.mjs
//
// Data is seeded through the REST API with the demo accounts. Screenshots
// of failed steps go to artifacts/pii-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createHarness, waitForText, waitUntil, text, masked, apiSession as apiSessionAt, toast } from './helpers.mjs';

const harness = createHarness({ artifactPrefix: 'pii-' });
const { pages, problems, step } = harness;
let server;

const suffix = crypto.randomBytes(3).toString('hex');
const digits = String(crypto.randomInt(10_000_000, 99_999_999));
const seeded = {};

const apiSession = (creds) => apiSessionAt(server.baseUrl, creds);

function identity(page, kind) {
  return page.locator(`[data-testid="contact-identity"][data-kind="${kind}"]`);
}

async function openContact(page, id, name) {
  await page.goto(`/console/contacts/${id}`);
  await waitForText(page.getByTestId('page-title'), name);
  await page.getByTestId('contact-identities').waitFor();
}

before(async () => {
  server = await harness.start();
  const admin = await apiSession(server.credentials.admin);
  seeded.admin = admin;
  seeded.agent = await apiSession(server.credentials.agent);

  // The customer the admin will reveal, export and erase.
  seeded.email = `meiling-${suffix}@example.com`;
  seeded.phone = `+86138${digits}`;
  seeded.name = `Mei Ling ${suffix}`;
  const a = await admin.ok('POST', '/conversations', {
    subject: `Withdrawal stuck ${suffix}`, contact: { name: seeded.name, email: seeded.email },
    message: { body: `My withdrawal to my wallet is stuck, reference ${suffix}.` },
  });
  seeded.conv = a.conversation;
  seeded.contact = a.conversation.contact_id;
  await admin.ok('PATCH', `/contacts/${seeded.contact}`, { phones: [seeded.phone] });

  // A second customer, for the agent once the policy lets agents see details in full.
  seeded.otherEmail = `oliver-${suffix}@example.com`;
  seeded.otherName = `Oliver Grant ${suffix}`;
  const b = await admin.ok('POST', '/conversations', {
    subject: `Login alert ${suffix}`, contact: { name: seeded.otherName, email: seeded.otherEmail },
    message: { body: 'I got a login alert I do not recognise.' },
  });
  seeded.other = b.conversation.contact_id;
});

after(() => harness.stop());

// --- (a) An agent without full view -------------------------------------------------------------

test('an agent sees masked e-mails and phones and no reveal, export or erase button', () => step('agent masked', async () => {
  const session = await seeded.agent.ok('GET', '/auth/session');
  assert.equal(session.pii_full_view, false, 'agents have no full view by default');

  const page = await harness.consolePage('agent', server.credentials.agent);
  await openContact(page, seeded.contact, seeded.name);
  await waitUntil(async () => (await identity(page, 'email').getAttribute('data-value')) === masked(seeded.email), 'the masked e-mail');
  assert.equal(await identity(page, 'email').getAttribute('data-masked'), 'true');
  await waitForText(identity(page, 'email').getByTestId('contact-masked-hint'), 'masked');
  const phone = await identity(page, 'phone').getAttribute('data-value');
  assert.ok(phone.includes('*') && phone !== seeded.phone, `the phone is masked: ${phone}`);
  assert.ok(phone.startsWith('+86') && phone.endsWith(seeded.phone.slice(-2)), 'its start and end stay readable');
  const body = await text(page.locator('main'));
  assert.ok(!body.includes(seeded.email), 'the full e-mail is nowhere on the page');
  assert.ok(!body.includes(seeded.phone), 'the full phone is nowhere on the page');
  for (const id of ['contact-reveal', 'contact-export', 'contact-erase', 'contact-privacy-card']) {
    assert.equal(await page.getByTestId(id).count(), 0, `no ${id} for an agent`);
  }
  // The edit button is still there; the list shows the hint too.
  await page.getByTestId('contact-edit').waitFor();
  await page.goto(`/console/contacts?q=${encodeURIComponent(seeded.name)}`);
  const row = page.locator(`[data-testid="contact-row"][data-id="${seeded.contact}"]`);
  await row.waitFor();
  assert.match(await text(row.getByTestId('contact-identities')), new RegExp(masked(seeded.email).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await row.getByTestId('contact-masked-hint').waitFor();

  // The server refuses a reveal and an export to this role.
  assert.equal((await seeded.agent.call('POST', `/contacts/${seeded.contact}/reveal`, {})).status, 403);
  assert.equal((await seeded.agent.call('GET', `/contacts/${seeded.contact}/export`)).status, 403);
}));

test('saving an edit with the masked values keeps the real e-mail and phone', () => step('agent edit masked', async () => {
  const page = pages.get('agent');
  await openContact(page, seeded.contact, seeded.name);
  await page.getByTestId('contact-edit').click();
  const dialog = page.getByTestId('contact-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('contact-form-emails').inputValue(), masked(seeded.email), 'the form holds the masked value');
  await dialog.getByTestId('contact-form-kyc').fill('2');
  await dialog.getByTestId('contact-form-submit').click();
  await dialog.waitFor({ state: 'detached' });
  await waitForText(page.getByTestId('contact-kyc'), 'Level 2');
  const full = await seeded.admin.ok('POST', `/contacts/${seeded.contact}/reveal`, {});
  assert.deepEqual(full.emails, [seeded.email], 'the real e-mail is kept');
  assert.deepEqual(full.phones, [seeded.phone], 'the real phone is kept');
}));

// --- (b) The admin: reveal, export, erase ---------------------------------------------------------

test('the admin reveals a contact in full; the reveal is audited', () => step('admin reveal', async () => {
  const page = await harness.consolePage('admin', server.credentials.admin);
  await openContact(page, seeded.contact, seeded.name);
  assert.equal(await identity(page, 'email').getAttribute('data-value'), masked(seeded.email), 'masked until revealed');
  const before = await seeded.admin.ok('GET', '/audit?action=contact.pii_revealed&limit=100');
  const count = (before.items || []).length;

  await page.getByTestId('contact-reveal').click();
  await waitUntil(async () => (await identity(page, 'email').getAttribute('data-value')) === seeded.email, 'the full e-mail');
  assert.equal(await identity(page, 'phone').getAttribute('data-value'), seeded.phone);
  assert.equal(await identity(page, 'email').getAttribute('data-masked'), null);
  assert.equal(await identity(page, 'email').getByTestId('contact-masked-hint').count(), 0);
  await waitForText(page.getByTestId('contact-revealed-note'), /audit log/);
  assert.equal(await page.getByTestId('contact-reveal').count(), 0, 'nothing left to reveal');

  // The edit form now holds the real values.
  await page.getByTestId('contact-edit').click();
  const dialog = page.getByTestId('contact-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('contact-form-emails').inputValue(), seeded.email);
  assert.equal(await dialog.getByTestId('contact-form-phones').inputValue(), seeded.phone);
  await dialog.getByTestId('modal-close').click();
  await dialog.waitFor({ state: 'detached' });

  // "Hide again" masks the values without asking the server.
  await page.getByTestId('contact-hide').click();
  await waitUntil(async () => (await identity(page, 'email').getAttribute('data-value')) === masked(seeded.email), 'masked again');
  await page.getByTestId('contact-reveal').waitFor();

  const after = await seeded.admin.ok('GET', '/audit?action=contact.pii_revealed&limit=100');
  const entries = (after.items || []).filter((e) => e.target === seeded.contact || JSON.stringify(e).includes(seeded.contact));
  assert.ok((after.items || []).length > count, 'a reveal entry was added to the audit log');
  assert.ok(entries.length >= 1, 'the audit entry names the contact');
}));

test('the admin exports the contact as a JSON download with the full e-mail', () => step('admin export', async () => {
  const page = pages.get('admin');
  await openContact(page, seeded.contact, seeded.name);
  const exportButton = page.getByTestId('contact-export');
  await exportButton.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
  assert.equal(download.suggestedFilename(), `contact-${seeded.contact}.json`);
  const file = await download.path();
  const data = JSON.parse(await readFile(file, 'utf8'));
  assert.ok(data.exported_at, 'the export says when it was made');
  assert.equal(data.contact.id, seeded.contact);
  assert.deepEqual(data.contact.emails, [seeded.email], 'the export holds the full e-mail');
  assert.deepEqual(data.contact.phones, [seeded.phone]);
  assert.equal(data.contact.pii_masked, false);
  assert.ok(Array.isArray(data.conversations) && data.conversations.length >= 1, 'the conversations are included');
  assert.ok(JSON.stringify(data.conversations).includes(`reference ${suffix}`), 'with their messages');
  await toast(page, `The data of ${seeded.name} was downloaded.`).waitFor();
  // The page itself still shows the masked values.
  assert.equal(await identity(page, 'email').getAttribute('data-value'), masked(seeded.email));
}));

test('the admin erases the contact after typing its name; it becomes "Erased customer"', () => step('admin erase', async () => {
  const page = pages.get('admin');
  await openContact(page, seeded.contact, seeded.name);
  await page.getByTestId('contact-erase').click();
  const dialog = page.getByTestId('contact-erase-dialog');
  await dialog.waitFor();
  await waitForText(dialog.getByTestId('contact-erase-warning'), /cannot be undone/i);
  assert.match(await text(dialog), /\[erased\]/, 'the dialog says what happens to the conversations');
  const submit = dialog.getByTestId('contact-erase-submit');
  assert.equal(await submit.isDisabled(), true, 'nothing can be erased before the name is typed');

  // A wrong name keeps the button disabled; cancelling changes nothing.
  await dialog.getByTestId('contact-erase-confirm').fill(`Mei Lin ${suffix}`);
  assert.equal(await submit.isDisabled(), true);
  await dialog.getByTestId('contact-erase-cancel').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await seeded.admin.ok('GET', `/contacts/${seeded.contact}`)).name, seeded.name, 'cancelled: nothing erased');

  await page.getByTestId('contact-erase').click();
  await dialog.waitFor();
  await dialog.getByTestId('contact-erase-confirm').fill(seeded.name);
  assert.equal(await submit.isDisabled(), false);
  await submit.click();
  await dialog.waitFor({ state: 'detached' });
  await toast(page, `${seeded.name} was erased.`).waitFor();
  await waitForText(page.getByTestId('page-title'), 'Erased customer');
  await page.getByTestId('contact-erased-notice').waitFor();
  await page.getByTestId('contact-identities-empty').waitFor();
  const row = page.locator(`[data-testid="contact-conversation"][data-number="${seeded.conv.number}"]`);
  await waitForText(row.getByTestId('contact-conversation-link'), '[erased]');
  assert.ok(!(await text(page.locator('main'))).includes(seeded.name), 'the old name is gone from the page');

  // The server agrees, also after a reload.
  const stored = await seeded.admin.ok('GET', `/contacts/${seeded.contact}`);
  assert.equal(stored.name, 'Erased customer');
  assert.deepEqual(stored.emails, []);
  assert.deepEqual(stored.phones, []);
  const timeline = await seeded.admin.ok('GET', `/conversations/${seeded.conv.id}`);
  assert.equal((timeline.conversation || timeline).subject, '[erased]');
  await page.reload();
  await waitForText(page.getByTestId('page-title'), 'Erased customer');
}));

test('only admins can erase: the server refuses an agent', async () => {
  const res = await seeded.agent.call('POST', `/contacts/${seeded.other}/erase`, {});
  assert.equal(res.status, 403);
});

// --- (c) The full-view policy on the Security settings page ------------------------------------------

test('the full-view policy for agents is saved with the 2FA policy, survives a reload and applies to the agent', () => step('security policy', async () => {
  const page = pages.get('admin');
  await page.goto('/console/admin/security');
  await page.getByTestId('security-pii-group').waitFor();
  const box = {
    admin: page.getByTestId('pii-full-view-admin'),
    supervisor: page.getByTestId('pii-full-view-supervisor'),
    agent: page.getByTestId('pii-full-view-agent'),
  };
  await box.agent.waitFor();
  assert.equal(await box.admin.isChecked(), true, 'admins have full view by default');
  assert.equal(await box.supervisor.isChecked(), true, 'supervisors have full view by default');
  assert.equal(await box.agent.isChecked(), false);
  assert.equal(await page.getByLabel('Agents may see emails and phone numbers in full', { exact: true }).getAttribute('data-testid'), 'pii-full-view-agent');
  assert.equal(await page.getByTestId('require-2fa-admin').isChecked(), true, 'the 2FA policy is on the same form');

  const put = page.waitForRequest((r) => r.url().endsWith('/api/v1/settings/security') && r.method() === 'PUT');
  await box.agent.check();
  await page.getByTestId('security-save').click();
  const sent = JSON.parse((await put).postData());
  assert.deepEqual(sent, {
    two_factor_required: { admin: true, supervisor: false, agent: false },
    pii_full_view: { admin: true, supervisor: true, agent: true },
  }, 'both policies go in one PUT');
  await toast(page, 'Security settings saved.').waitFor();

  await page.reload();
  await box.agent.waitFor();
  assert.equal(await box.agent.isChecked(), true, 'full view for agents is persisted');
  assert.equal(await box.admin.isChecked(), true);
  assert.equal(await page.getByTestId('require-2fa-admin').isChecked(), true, 'the 2FA policy is unchanged');
  const stored = await seeded.admin.ok('GET', '/settings/security');
  assert.deepEqual(stored.pii_full_view, { admin: true, supervisor: true, agent: true });

  // The agent's next page load reads the new session: the reveal and export buttons are there, erase is not.
  const agentPage = pages.get('agent');
  await agentPage.reload();
  await openContact(agentPage, seeded.other, seeded.otherName);
  await agentPage.getByTestId('contact-reveal').click();
  await waitUntil(async () => (await identity(agentPage, 'email').getAttribute('data-value')) === seeded.otherEmail, 'the agent sees the full e-mail');
  await agentPage.getByTestId('contact-export').waitFor();
  assert.equal(await agentPage.getByTestId('contact-erase').count(), 0, 'erasing stays with admins');

  // Back to the default.
  await box.agent.uncheck();
  await page.getByTestId('security-save').click();
  await toast(page, 'Security settings saved.').waitFor();
  assert.equal((await seeded.admin.ok('GET', '/settings/security')).pii_full_view.agent, false);
}));

test('the retention policy is set on the Security page; deleting asks for confirmation first', () => step('retention policy', async () => {
  const page = pages.get('admin');
  await page.goto('/console/admin/security');
  const enabled = page.getByTestId('retention-enabled');
  await enabled.waitFor();
  assert.equal(await enabled.isChecked(), false, 'off until an admin sets it');

  // Out of bounds: the server's field error shows next to the days.
  await enabled.check();
  await page.getByTestId('retention-days').fill('0');
  await page.getByTestId('retention-save').click();
  await waitForText(page.getByTestId('retention-days-error'), 'must be 1 to 3650');

  await page.getByTestId('retention-days').fill('90');
  await page.getByTestId('retention-action').selectOption('anonymise');
  await page.getByTestId('retention-save').click();
  await toast(page, 'Retention policy saved').waitFor();
  assert.deepEqual(await seeded.admin.ok('GET', '/settings/retention'), { enabled: true, after_days: 90, action: 'anonymise' });

  // Deleting for good is confirmed first; cancelling keeps the saved policy.
  await page.getByTestId('retention-action').selectOption('delete');
  await page.getByTestId('retention-save').click();
  await page.getByTestId('confirm-cancel').click();
  assert.equal((await seeded.admin.ok('GET', '/settings/retention')).action, 'anonymise');
  await page.getByTestId('retention-save').click();
  await page.getByTestId('confirm-ok').click();
  // (The first save's toast may still show: the stored policy says when this one landed.)
  await waitUntil(async () => (await seeded.admin.ok('GET', '/settings/retention')).action === 'delete', 'the delete policy is saved');
  await page.reload();
  await page.getByTestId('retention-enabled').waitFor();
  assert.equal(await page.getByTestId('retention-action').inputValue(), 'delete', 'persisted');
  assert.equal(await page.getByTestId('retention-days').inputValue(), '90');
  await seeded.admin.ok('PUT', '/settings/retention', { enabled: false, after_days: 365, action: 'anonymise' });
}));

test('no data-protection page hit a content-security-policy violation or a script error', () => {
  assert.deepEqual(problems, []);
});
