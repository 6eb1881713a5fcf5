// End-to-end test of the agent console in a real browser.
//
//   npm ci --prefix tests/browser
//   KEFU_BIN=target/debug/kefu node --test tests/browser/
//
// Starts `KEFU_BIN serve --demo` on a random loopback port with a fresh
// data directory, drives Debian's Chromium (or $CHROMIUM) through
// playwright-core, and stops the server at the end. On failure a
// screenshot of every open page is written to tests/browser/artifacts/
// (file names start with "console-"). Shared helpers: helpers.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  createHarness, totpStep, totpCode, text, waitForText, signIn, agentRow,
} from './helpers.mjs';

const harness = createHarness({
  artifactPrefix: 'console-',
  // The agents page is the most useful overview: capture it as well.
  async onFailure({ pages, screenshot }) {
    const admin = pages.get('admin');
    if (admin && !admin.isClosed() && admin.url().includes('/console/admin/')) {
      await screenshot(admin, 'agents-page');
    }
  },
});
const { pages, problems, newPage, closePage, step } = harness;
let server;

// --- Shared state across the scenarios ---------------------------------------------------

const suffix = crypto.randomBytes(3).toString('hex');
const newAgent = {
  name: `E2E Agent ${suffix}`,
  email: `e2e-${suffix}@nebula-ex.com`,
  password: `e2e-password-${suffix}`,
};
let totpSecret = null;
let lastTotpStep = null;

before(async () => {
  server = await harness.start();
});

after(() => harness.stop());

// --- Scenarios ---------------------------------------------------------------------------

test('an unauthenticated visit goes to the login page; the admin signs in to the inbox and opens Agents', () => step('admin sign-in', async () => {
  const page = await newPage('admin');
  await page.goto('/console/');
  await page.waitForURL('**/console/login');
  await waitForText(page.getByTestId('login-submit'), 'Sign in');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');

  await signIn(page, server.credentials.admin);
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-agents').click();
  await page.waitForURL('**/console/admin/agents');
  await waitForText(page.getByTestId('page-title'), 'Agents');
  await waitForText(page.getByTestId('current-role'), 'Admin');
  await page.getByTestId('demo-banner').waitFor();
  await waitForText(page.getByTestId('demo-banner'), /two-factor authentication is not enforced/);
  for (const id of ['nav-account', 'nav-agents', 'nav-security', 'nav-audit']) {
    await page.getByTestId(id).waitFor();
  }
  await agentRow(page, server.credentials.admin.email).waitFor();
}));

test('the admin creates an agent and sees it in the table', () => step('create agent', async () => {
  const page = pages.get('admin');
  await page.getByTestId('agent-new').click();
  await page.getByTestId('agent-form-name').fill(newAgent.name);
  await page.getByTestId('agent-form-email').fill(newAgent.email);
  await page.getByTestId('agent-form-role').selectOption('agent');
  await page.getByTestId('agent-form-password').fill(newAgent.password);
  await page.getByTestId('agent-form-submit').click();

  const row = agentRow(page, newAgent.email);
  await row.waitFor();
  await waitForText(row.getByTestId('agent-name'), newAgent.name);
  assert.equal(await row.getByTestId('agent-role').inputValue(), 'agent');
  await waitForText(row.getByTestId('agent-status'), 'Active');
  await waitForText(row.getByTestId('agent-2fa'), 'Off');
  await page.getByTestId('agent-dialog').waitFor({ state: 'detached' });
}));

test('the admin changes the new agent\'s role to supervisor', () => step('change role', async () => {
  const page = pages.get('admin');
  await agentRow(page, newAgent.email).getByTestId('agent-role').selectOption('supervisor');
  await page.locator(`[data-testid="agent-row"][data-email="${newAgent.email}"][data-role="supervisor"]`).waitFor();
  await page.getByTestId('toast').filter({ hasText: /supervisor/i }).waitFor();
}));

test('the admin deactivates and then reactivates the new agent', () => step('deactivate agent', async () => {
  const page = pages.get('admin');
  let row = agentRow(page, newAgent.email);
  await row.getByTestId('agent-actions').click();
  await row.getByTestId('agent-deactivate').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await page.getByTestId('confirm-ok').click();
  await page.locator(`[data-testid="agent-row"][data-email="${newAgent.email}"][data-active="false"]`).waitFor();
  row = agentRow(page, newAgent.email);
  await waitForText(row.getByTestId('agent-status'), 'Deactivated');

  await row.getByTestId('agent-actions').click();
  await row.getByTestId('agent-reactivate').click();
  await page.locator(`[data-testid="agent-row"][data-email="${newAgent.email}"][data-active="true"]`).waitFor();
  await waitForText(agentRow(page, newAgent.email).getByTestId('agent-status'), 'Active');
}));

test('the new agent signs in and enrols in two-factor authentication', () => step('enrol 2fa', async () => {
  const page = await newPage('new-agent');
  await page.goto('/console/login');
  await signIn(page, newAgent);
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-account').click();
  await page.waitForURL('**/console/account');
  await waitForText(page.getByTestId('page-title'), 'My account');
  await waitForText(page.getByTestId('profile-email'), newAgent.email);
  await waitForText(page.getByTestId('current-role'), 'Supervisor');
  assert.equal(await page.getByTestId('nav-agents').count(), 0, 'admin navigation must be hidden for non-admins');
  await waitForText(page.getByTestId('twofa-status'), 'Off');

  await page.getByTestId('twofa-enrol').click();
  await page.getByTestId('twofa-qr').waitFor();
  totpSecret = (await text(page.getByTestId('totp-secret'))).replace(/\s+/g, '');
  assert.match(totpSecret, /^[A-Z2-7]+=*$/i, 'the manual key is base32');

  lastTotpStep = totpStep();
  await page.getByTestId('twofa-confirm-code').fill(totpCode(totpSecret, lastTotpStep));
  await page.getByTestId('twofa-confirm-submit').click();

  await page.getByTestId('recovery-codes').waitFor();
  assert.equal(await page.getByTestId('recovery-code').count(), 10);
  assert.equal(await page.getByTestId('recovery-continue').isDisabled(), true, 'continue needs the "saved" tick');
  await page.getByTestId('recovery-saved').check();
  await page.getByTestId('recovery-continue').click();
  await page.getByTestId('recovery-codes').waitFor({ state: 'detached' });
  await waitForText(page.getByTestId('twofa-status'), 'On');
}));

test('the new agent creates an API token and sees its secret exactly once', () => step('api token', async () => {
  const page = pages.get('new-agent');
  await page.getByTestId('token-new').click();
  await page.getByTestId('token-form-name').fill('E2E token');
  await page.getByTestId('token-scope-write').check();
  await page.getByTestId('token-form-submit').click();

  const secretInput = page.getByTestId('token-secret');
  await secretInput.waitFor();
  const secret = await secretInput.inputValue();
  assert.match(secret, /^kefu_\S+$/);
  await page.getByTestId('token-secret-done').click();
  await page.getByTestId('token-secret-dialog').waitFor({ state: 'detached' });

  const row = page.locator('[data-testid="token-row"][data-name="E2E token"]');
  await row.waitFor();
  await waitForText(row.getByTestId('token-status'), 'Active');
  const html = await page.content();
  assert.ok(!html.includes(secret), 'the token secret must not stay on the page');
}));

test('the new agent signs out', () => step('agent sign-out', async () => {
  const page = pages.get('new-agent');
  await page.getByTestId('signout').click();
  await page.waitForURL('**/console/login');
  await waitForText(page.getByTestId('login-flash'), 'You have been signed out.');
  // The console is no longer reachable.
  await page.goto('/console/account');
  await page.waitForURL(/\/console\/login\?next=/);
}));

test('switching the language to Chinese shows Chinese labels on the login page', () => step('language', async () => {
  const page = await newPage('language');
  await page.goto('/console/login');
  await waitForText(page.getByTestId('login-submit'), 'Sign in');

  await page.getByTestId('lang-switch').selectOption('zh-CN');
  await waitForText(page.getByTestId('login-submit'), '登录');
  await waitForText(page.locator('label[for]').first(), '邮箱');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

  await page.getByTestId('lang-switch').selectOption('zh-TW');
  await waitForText(page.getByTestId('login-submit'), '登入');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-TW');

  // The choice is remembered.
  await page.reload();
  await waitForText(page.getByTestId('login-submit'), '登入');
  await closePage('language');
}));

test('a wrong password shows an error message', () => step('wrong password', async () => {
  const page = await newPage('wrong-password');
  await page.goto('/console/login');
  await signIn(page, { email: server.credentials.admin.email, password: 'definitely-not-the-password' });
  await waitForText(page.getByTestId('login-error'), /Incorrect email or password/);
  assert.match(page.url(), /\/console\/login/);
  assert.equal(await page.getByTestId('login-password').inputValue(), '', 'the password field is cleared');
  await closePage('wrong-password');
}));

test('the admin signs out; a deep link survives the trip through the login page', () => step('admin deep link', async () => {
  const page = pages.get('admin');
  await page.getByTestId('signout').click();
  await page.waitForURL('**/console/login');

  await page.goto('/console/admin/audit');
  await page.waitForURL(/\/console\/login\?next=%2Fconsole%2Fadmin%2Faudit/);
  await signIn(page, server.credentials.admin);
  await page.waitForURL('**/console/admin/audit');
  await waitForText(page.getByTestId('page-title'), 'Audit log');
  await page.locator('[data-testid="audit-row"], [data-testid="audit-table-empty"]').first().waitFor();

  await page.getByTestId('nav-security').click();
  await page.waitForURL('**/console/admin/security');
  await page.getByTestId('require-2fa-admin').waitFor();
  await page.goBack();
  await page.waitForURL('**/console/admin/audit');
  await waitForText(page.getByTestId('page-title'), 'Audit log');

  await page.getByTestId('signout').click();
  await page.waitForURL('**/console/login');
}));

test('the new agent signs in again and must pass the TOTP step', () => step('totp login', async () => {
  const page = pages.get('new-agent');
  await page.goto('/console/login');
  await signIn(page, newAgent);
  await page.getByTestId('totp-code').waitFor();

  // A code may be accepted once per time step: wait for a fresh step.
  while (totpStep() <= lastTotpStep) {
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.getByTestId('totp-code').fill(totpCode(totpSecret));
  await page.getByTestId('totp-submit').click();
  await page.waitForURL('**/console/inbox');
  await page.getByTestId('nav-account').click();
  await page.waitForURL('**/console/account');
  await waitForText(page.getByTestId('twofa-status'), 'On');
  await waitForText(page.getByTestId('current-agent'), newAgent.name);
}));

test('no page hit a content-security-policy violation or a script error', () => {
  assert.deepEqual(problems, []);
});
