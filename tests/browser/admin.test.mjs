// End-to-end test of the admin screens of the agent console: Security
// settings, account lockout and unlock, reset of two-factor, "sign out
// everywhere" and the Audit log.
//
//   KEFU_BIN=target/debug/kefu node --test tests/browser/admin.test.mjs
//
// Starts its own `KEFU_BIN serve --demo` (see server.mjs), drives Debian's
// Chromium (or $CHROMIUM) through playwright-core as the demo admin, and
// plays the other agents' part through the HTTP API with fetch. On failure a
// screenshot of every open page is written to tests/browser/artifacts/
// (file names start with "admin-"). Shared helpers: helpers.mjs.
//
// Every request comes from 127.0.0.1, and the server blocks an address after
// 20 failed sign-ins in 15 minutes: this file makes exactly
// LOCKOUT_ATTEMPTS (5) of them, all in the lockout scenario.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHarness, totpCode, text, waitForText, waitUntil, signIn, agentRow, toast } from './helpers.mjs';

const LOCKOUT_ATTEMPTS = 5; // the server's default account lockout threshold

// --- API client with a cookie jar (plays the other agents) -----------------------------

class ApiClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.cookies = new Map();
    this.csrf = null;
  }

  async request(method, apiPath, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const res = await fetch(`${this.baseUrl}/api/v1${apiPath}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value && !/max-age=0\b/i.test(c)) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    const textBody = await res.text();
    let json = null;
    try { json = textBody ? JSON.parse(textBody) : null; } catch { json = textBody; }
    return { status: res.status, body: json };
  }

  /** Sign in with e-mail and password; returns the raw answer. */
  async login({ email, password }) {
    const res = await this.request('POST', '/auth/login', { email, password });
    if (res.status === 200 && res.body && res.body.session) this.csrf = res.body.session.csrf_token;
    return res;
  }

  /** Sign in and insist on success. */
  async signIn(credentials) {
    const res = await this.login(credentials);
    assert.equal(res.status, 200, `sign-in of ${credentials.email}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.status, 'ok');
    assert.ok(this.cookies.has('kefu_session'), 'the session cookie is set');
    return res.body.session;
  }

  /** The status of GET /auth/session: 200 while the session lives, 401 after. */
  async sessionStatus() {
    return (await this.request('GET', '/auth/session')).status;
  }
}

// --- Browser helpers -----------------------------------------------------------------

const harness = createHarness({ artifactPrefix: 'admin-' });
const { pages, problems, newPage, step } = harness;
let server;

/** Open (or reload) the Agents page and wait for the table. */
async function openAgents(page) {
  await page.goto('/console/admin/agents');
  await waitForText(page.getByTestId('page-title'), 'Agents');
  await agentRow(page, server.credentials.admin.email).waitFor();
}

/** Pick an item of a row's "Actions" menu. */
async function rowAction(page, email, testid) {
  const row = agentRow(page, email);
  await row.getByTestId('agent-actions').click();
  const item = row.getByTestId(testid);
  await item.waitFor({ state: 'visible' });
  await item.click();
}

/** The actions the row's menu offers, by test id (opens and closes the menu). */
async function rowActionIds(page, email) {
  const row = agentRow(page, email);
  await row.getByTestId('agent-actions').click();
  const menu = row.locator('[role="menu"]');
  await menu.waitFor({ state: 'visible' });
  const ids = await menu.locator('[role="menuitem"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'hidden' });
  return ids;
}

// --- Shared state across the scenarios ---------------------------------------------------

let adminApi; // the admin through the API, to look up names and ids
const agentsByEmail = new Map();

before(async () => {
  server = await harness.start();
  adminApi = new ApiClient(server.baseUrl);
  await adminApi.signIn(server.credentials.admin);
  const list = await adminApi.request('GET', '/agents?limit=200');
  assert.equal(list.status, 200);
  for (const a of list.body.items) agentsByEmail.set(a.email, a);
  for (const role of ['admin', 'supervisor', 'agent']) {
    assert.ok(agentsByEmail.has(server.credentials[role].email), `the demo ${role} exists`);
  }
});

after(() => harness.stop());

// --- Scenarios ---------------------------------------------------------------------------

test('the admin signs in to the inbox and opens Agents', () => step('sign-in', async () => {
  const page = await newPage('admin');
  await page.goto('/console/login');
  await signIn(page, server.credentials.admin);
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-agents').click();
  await page.waitForURL('**/console/admin/agents');
  await waitForText(page.getByTestId('page-title'), 'Agents');
  await agentRow(page, server.credentials.agent.email).waitFor();
  await waitForText(agentRow(page, server.credentials.agent.email).getByTestId('agent-status'), 'Active');
  assert.equal(await agentRow(page, server.credentials.agent.email).getByTestId('agent-locked').count(), 0,
    'nobody is locked at the start');
}));

test('security settings: requiring two-factor for agents is saved and survives a reload', () => step('security settings', async () => {
  const page = pages.get('admin');
  await page.getByTestId('nav-security').click();
  await page.waitForURL('**/console/admin/security');
  await waitForText(page.getByTestId('page-title'), 'Security settings');
  await waitForText(page.getByTestId('security-demo-note'), /saved but not enforced/);

  const box = {
    admin: page.getByLabel('Require two-factor authentication for admins', { exact: true }),
    supervisor: page.getByLabel('Require two-factor authentication for supervisors', { exact: true }),
    agent: page.getByLabel('Require two-factor authentication for agents', { exact: true }),
  };
  await box.admin.waitFor();
  assert.equal(await box.admin.isChecked(), true, 'admins need two-factor by default');
  assert.equal(await box.supervisor.isChecked(), false);
  assert.equal(await box.agent.isChecked(), false);
  // The labels belong to the test ids the rest of the suite uses.
  assert.equal(await box.agent.getAttribute('data-testid'), 'require-2fa-agent');

  await box.agent.check();
  await page.getByTestId('security-save').click();
  await toast(page, 'Security settings saved.').waitFor();

  await page.reload();
  await waitForText(page.getByTestId('page-title'), 'Security settings');
  await box.agent.waitFor();
  assert.equal(await box.agent.isChecked(), true, 'the requirement for agents is persisted');
  assert.equal(await box.admin.isChecked(), true);
  assert.equal(await box.supervisor.isChecked(), false);
  // Demo mode: the admin is still let in (no enrolment page).
  assert.match(page.url(), /\/console\/admin\/security$/);

  await box.agent.uncheck();
  await page.getByTestId('security-save').click();
  await toast(page, 'Security settings saved.').waitFor();

  await page.reload();
  await box.agent.waitFor();
  assert.equal(await box.agent.isChecked(), false, 'the requirement for agents is off again');
  assert.equal(await box.admin.isChecked(), true);
}));

test('account lockout: a locked agent shows "Locked" until the admin unlocks them', () => step('lockout and unlock', async () => {
  const page = pages.get('admin');
  const { email, password } = server.credentials.agent;
  const agent = agentsByEmail.get(email);
  const client = new ApiClient(server.baseUrl);

  for (let i = 1; i <= LOCKOUT_ATTEMPTS; i++) {
    const res = await client.login({ email, password: `wrong-password-${i}` });
    if (i < LOCKOUT_ATTEMPTS) {
      assert.equal(res.status, 401, `attempt ${i}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_credentials');
    } else {
      assert.equal(res.status, 423, `attempt ${i}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'account_locked');
    }
  }

  await openAgents(page);
  const row = agentRow(page, email);
  await waitForText(row.getByTestId('agent-locked'), 'Locked');
  assert.match(await row.getByTestId('agent-locked').getAttribute('title'), /^Locked until /);
  await waitForText(row.getByTestId('agent-status'), 'Active');
  // Only the locked agent carries the badge.
  assert.equal(await page.locator('[data-testid="agent-row"] [data-testid="agent-locked"]').count(), 1);

  await rowAction(page, email, 'agent-unlock');
  await toast(page, `${agent.name} can sign in again.`).waitFor();
  await row.getByTestId('agent-locked').waitFor({ state: 'detached' });
  assert.ok(!(await rowActionIds(page, email)).includes('agent-unlock'), '"Unlock" is gone from the menu');

  // Not just the table: after a reload the badge stays away.
  await openAgents(page);
  await waitForText(row.getByTestId('agent-status'), 'Active');
  assert.equal(await row.getByTestId('agent-locked').count(), 0);

  const res = await client.login({ email, password });
  assert.equal(res.status, 200, `sign-in after the unlock: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.status, 'ok');
}));

test('reset two-factor: the supervisor\'s two-factor is removed and their session ends', () => step('reset 2fa', async () => {
  const page = pages.get('admin');
  const { email } = server.credentials.supervisor;
  const supervisor = agentsByEmail.get(email);
  const client = new ApiClient(server.baseUrl);
  await client.signIn(server.credentials.supervisor);

  const enrol = await client.request('POST', '/me/2fa/enrol');
  assert.equal(enrol.status, 200, `enrol: ${JSON.stringify(enrol.body)}`);
  assert.match(enrol.body.secret, /^[A-Z2-7]+=*$/i);
  const confirm = await client.request('POST', '/me/2fa/confirm', { code: totpCode(enrol.body.secret) });
  assert.equal(confirm.status, 200, `confirm: ${JSON.stringify(confirm.body)}`);
  assert.equal(await client.sessionStatus(), 200, 'the supervisor is still signed in after enrolling');

  await openAgents(page);
  const row = agentRow(page, email);
  await waitForText(row.getByTestId('agent-2fa'), 'On');

  await rowAction(page, email, 'agent-reset-2fa');
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.waitFor();
  await waitForText(dialog.locator('.modal-title'), `Reset two-factor authentication for ${supervisor.name}?`);
  await waitForText(dialog.getByTestId('confirm-ok'), 'Reset two-factor');
  await dialog.getByTestId('confirm-ok').click();
  await dialog.waitFor({ state: 'detached' });

  await toast(page, `Two-factor authentication has been reset for ${supervisor.name}.`).waitFor();
  await waitForText(row.getByTestId('agent-2fa'), 'Off');
  assert.ok(!(await rowActionIds(page, email)).includes('agent-reset-2fa'), '"Reset two-factor" is gone from the menu');

  assert.equal(await client.sessionStatus(), 401, 'the supervisor\'s old session has ended');

  // The server agrees after a reload.
  await openAgents(page);
  await waitForText(row.getByTestId('agent-2fa'), 'Off');
}));

test('sign out everywhere ends all of the agent\'s sessions', () => step('sign out everywhere', async () => {
  const page = pages.get('admin');
  const { email } = server.credentials.agent;
  const agent = agentsByEmail.get(email);
  const first = new ApiClient(server.baseUrl);
  const second = new ApiClient(server.baseUrl);
  await first.signIn(server.credentials.agent);
  await second.signIn(server.credentials.agent);
  assert.equal(await first.sessionStatus(), 200);
  assert.equal(await second.sessionStatus(), 200);

  await openAgents(page);
  await rowAction(page, email, 'agent-signout-all');
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.waitFor();
  await waitForText(dialog.locator('.modal-title'), `Sign ${agent.name} out everywhere?`);
  await dialog.getByTestId('confirm-ok').click();
  await dialog.waitFor({ state: 'detached' });
  await toast(page, `${agent.name} has been signed out everywhere.`).waitFor();

  assert.equal(await first.sessionStatus(), 401, 'the first session has ended');
  assert.equal(await second.sessionStatus(), 401, 'the second session has ended');

  // The admin's own session is untouched, and the agent may sign in again.
  await openAgents(page);
  assert.match(page.url(), /\/console\/admin\/agents$/);
  const again = new ApiClient(server.baseUrl);
  await again.signIn(server.credentials.agent);
  assert.equal(await again.sessionStatus(), 200);
}));

test('the audit log lists the events above and filters by action', () => step('audit log', async () => {
  const page = pages.get('admin');
  await page.getByTestId('nav-audit').click();
  await page.waitForURL('**/console/admin/audit');
  await waitForText(page.getByTestId('page-title'), 'Audit log');
  const rows = page.getByTestId('audit-row');
  await rows.first().waitFor();

  const actionsShown = async () => rows.evaluateAll((els) => els.map((e) => e.dataset.action));
  const all = await actionsShown();
  for (const action of ['auth.login', 'settings.security_updated', 'auth.account_locked', 'agent.unlocked',
    '2fa.enabled', '2fa.reset', 'agent.sessions_revoked']) {
    assert.ok(all.includes(action), `the log shows ${action} (it shows ${[...new Set(all)].join(', ')})`);
  }
  // What the person reads in the Action column matches.
  const unlockedRow = page.locator('[data-testid="audit-row"][data-action="agent.unlocked"]');
  assert.equal(await unlockedRow.count(), 1);
  await waitForText(unlockedRow.getByTestId('audit-action'), 'agent.unlocked');
  await waitForText(unlockedRow.getByTestId('audit-actor'), server.credentials.admin.email);
  assert.match(await text(unlockedRow), new RegExp(agentsByEmail.get(server.credentials.agent.email).id));
  assert.equal(await page.getByTestId('audit-filter-clear').isVisible(), false, 'nothing to clear yet');

  await page.getByTestId('audit-filter-action').fill('agent.unlocked');
  await page.getByTestId('audit-filter-submit').click();
  await page.waitForURL(/\/console\/admin\/audit\?action=agent\.unlocked$/);
  await waitUntil(async () => {
    const shown = await actionsShown();
    return shown.length > 0 && shown.every((a) => a === 'agent.unlocked');
  }, 'only agent.unlocked rows');
  assert.equal(await rows.count(), 1);
  await waitForText(rows.first().getByTestId('audit-action'), 'agent.unlocked');
  await page.getByTestId('audit-filter-clear').waitFor({ state: 'visible' });

  await page.getByTestId('audit-filter-clear').click();
  await page.waitForURL(/\/console\/admin\/audit$/);
  await waitUntil(async () => (await actionsShown()).length >= all.length, 'all rows again');
  const again = await actionsShown();
  for (const action of new Set(all)) assert.ok(again.includes(action), `${action} is back`);
  assert.equal(await page.getByTestId('audit-filter-action').inputValue(), '');
  assert.equal(await page.getByTestId('audit-filter-clear').isVisible(), false);
}));

test('no page hit a content-security-policy violation or a script error', () => {
  assert.deepEqual(problems, []);
});
