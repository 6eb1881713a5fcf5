// My account: profile, password, two-factor authentication, active
// sessions and personal API tokens.

import {
  h, card, dl, field, button, bindForm, badge, table, toast, toastProblem,
  confirmDialog, openModal, checkbox, alertBox, replace, spinner, problemAlert,
  copyButton, withBusy, timeCell,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader, roleBadge } from '../layout.js';
import {
  enrolmentFlow, hasPendingEnrolment, promptForCode, showRecoveryCodesModal,
} from '../twofactor.js';

const PASSWORD_MIN = 10;

// --- Profile -----------------------------------------------------------------

function profileCard() {
  const a = app.session.agent;
  return card({ title: t('account.profileTitle'), testid: 'profile-card' },
    dl([
      [t('account.name'), a.name, 'profile-name'],
      [t('account.email'), a.email, 'profile-email'],
      [t('account.role'), roleBadge(a.role), 'profile-role'],
      [t('account.memberSince'), timeCell(a.created_at, 'common.unknown')],
    ]));
}

// --- Password ------------------------------------------------------------------

function passwordCard() {
  const current = field({
    name: 'current_password', type: 'password', label: t('account.currentPassword'),
    testid: 'password-current', autocomplete: 'current-password', required: true,
  });
  const next = field({
    name: 'new_password', type: 'password', label: t('account.newPassword'),
    testid: 'password-new', autocomplete: 'new-password', required: true, minLength: PASSWORD_MIN,
    hint: t('account.passwordHint', { min: PASSWORD_MIN }),
  });
  const confirm = field({
    name: 'confirm_password', type: 'password', label: t('account.confirmPassword'),
    testid: 'password-confirm', autocomplete: 'new-password', required: true,
    validate: (v) => (v !== next.value ? t('validation.passwordMismatch') : null),
  });
  const submit = button(t('account.changePassword'), { variant: 'primary', type: 'submit', testid: 'password-submit' });
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'password-error' } });
  const form = h('form', { class: 'form form-narrow', method: 'post', action: '#' },
    // A hidden username helps password managers file the new password.
    h('input', { type: 'email', class: 'visually-hidden', autocomplete: 'username', value: app.session.agent.email, tabindex: '-1', 'aria-hidden': 'true', readOnly: true }),
    alertSlot, current.el, next.el, confirm.el,
    h('div', { class: 'button-row' }, submit));
  bindForm(form, {
    fields: [current, next, confirm],
    submitButton: submit,
    alertSlot,
    onSubmit: async () => {
      try {
        await api.post('/me/password', { current_password: current.value, new_password: next.value });
      } catch (err) {
        if (err.code === 'invalid_credentials') {
          current.setError(t('account.currentPasswordWrong'));
          current.input.focus();
          return;
        }
        throw err;
      }
      form.reset();
      toast(t('account.passwordChanged'));
    },
  });
  return card({ title: t('account.passwordTitle'), description: t('account.passwordDescription'), testid: 'password-card' }, form);
}

// --- Two-factor ------------------------------------------------------------------

function twoFactorCard(ctx) {
  const body = h('div');
  const statusSlot = h('span');
  const c = card({
    title: t('twofa.title'), description: t('twofa.description'), testid: 'twofa-card', actions: statusSlot,
  }, body);

  function renderStatus() {
    const on = !!app.session.agent.two_factor_enabled;
    replace(statusSlot, badge(on ? t('twofa.statusOn') : t('twofa.statusOff'), on ? 'success' : 'neutral', { testid: 'twofa-status' }));
    if (hasPendingEnrolment()) {
      startEnrolment();
      return;
    }
    if (!on) {
      replace(body,
        h('p', { class: 'muted' }, t('twofa.offText')),
        h('div', { class: 'button-row' },
          button(t('twofa.enrolStart'), { variant: 'primary', testid: 'twofa-enrol', onClick: startEnrolment })));
      return;
    }
    // Where the role requires two-factor, it cannot be turned off: do not offer it.
    const mandatory = !!(app.session && app.session.two_factor_required);
    replace(body,
      h('p', { class: 'muted' }, t('twofa.onText')),
      mandatory ? h('p', { class: 'muted', 'data-testid': 'twofa-mandatory' }, t('twofa.mandatory')) : null,
      h('div', { class: 'button-row' },
        button(t('twofa.regenerate'), { testid: 'twofa-regenerate', onClick: regenerate }),
        mandatory ? null : button(t('twofa.disable'), { variant: 'danger', testid: 'twofa-disable', onClick: disable })));
  }

  function startEnrolment() {
    enrolmentFlow(body, {
      ctx,
      onDone: async () => {
        await app.refreshSession().catch(() => null);
        if (ctx.alive) renderStatus();
      },
      onCancel: () => renderStatus(),
    });
  }

  async function regenerate() {
    const codes = await promptForCode({
      title: t('twofa.regenerateTitle'),
      message: t('twofa.regenerateText'),
      submitLabel: t('twofa.regenerateSubmit'),
      action: async (code) => {
        const res = await api.post('/me/2fa/recovery-codes', { code });
        return (res && res.recovery_codes) || [];
      },
    });
    if (codes) await showRecoveryCodesModal(codes);
  }

  async function disable() {
    const done = await promptForCode({
      title: t('twofa.disableTitle'),
      message: t('twofa.disableText'),
      submitLabel: t('twofa.disableSubmit'),
      danger: true,
      action: async (code) => {
        await api.del('/me/2fa', { code });
        return true;
      },
    });
    if (!done) return;
    toast(t('twofa.disabledToast'));
    await app.refreshSession().catch(() => null);
    if (app.session && app.session.two_factor_enrolment_required) {
      app.navigate('/console/setup-2fa', { replace: true });
      return;
    }
    if (app.session && app.session.agent) app.session.agent.two_factor_enabled = false;
    if (ctx.alive) renderStatus();
  }

  renderStatus();
  return c;
}

// --- Sessions ------------------------------------------------------------------------

/** "Chrome · macOS" from a User-Agent string; the raw string when unknown. */
export function describeUserAgent(ua) {
  if (!ua) return t('account.unknownDevice');
  const browsers = [
    [/Edg\//, 'Edge'], [/OPR\/|Opera/, 'Opera'], [/Firefox\//, 'Firefox'],
    [/Chrome\/|Chromium\/|CriOS\//, 'Chrome'], [/Safari\//, 'Safari'],
  ];
  const systems = [
    [/Windows/, 'Windows'], [/iPhone|iPad|iPod/, 'iOS'], [/Android/, 'Android'],
    [/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
  ];
  const b = browsers.find(([re]) => re.test(ua));
  const s = systems.find(([re]) => re.test(ua));
  if (!b && !s) return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua;
  return [b && b[1], s && s[1]].filter(Boolean).join(' · ');
}

function sessionsCard(ctx) {
  const body = h('div', null, spinner());
  const refresh = button(t('common.refresh'), { size: 'sm', iconName: 'refresh', testid: 'sessions-refresh', onClick: () => load() });
  const c = card({ title: t('account.sessionsTitle'), description: t('account.sessionsDescription'), testid: 'sessions-card', actions: refresh }, body);

  async function revoke(s, btn) {
    const ok = await confirmDialog({
      title: s.current ? t('account.revokeCurrentTitle') : t('account.revokeTitle'),
      message: s.current ? t('account.revokeCurrentText') : t('account.revokeText'),
      confirmLabel: s.current ? t('nav.signOut') : t('account.revoke'),
      danger: true,
    });
    if (!ok) return;
    try {
      await withBusy(btn, () => api.del(`/me/sessions/${seg(s.id)}`));
    } catch (err) {
      toastProblem(err);
      return;
    }
    if (s.current) {
      app.sessionEnded({ kind: 'success', title: t('login.signedOut') });
      return;
    }
    toast(t('account.revoked'));
    load();
  }

  async function load() {
    let res;
    try {
      res = await api.get('/me/sessions');
    } catch (err) {
      if (ctx.alive) replace(body, problemAlert(err));
      return;
    }
    if (!ctx.alive) return;
    const items = (res && res.items) || [];
    const tbl = table({
      testid: 'sessions-table',
      caption: t('account.sessionsTitle'),
      empty: t('account.noSessions'),
      columns: [
        {
          label: t('account.device'),
          render: (s) => h('span', { class: 'cell-stack' },
            h('span', { title: s.user_agent || '' }, describeUserAgent(s.user_agent)),
            s.current ? badge(t('account.thisSession'), 'success', { testid: 'session-current' }) : null),
        },
        { label: t('account.ip'), render: (s) => (s.ip ? h('code', { class: 'mono' }, s.ip) : null) },
        { label: t('account.signedIn'), render: (s) => timeCell(s.created_at, 'common.unknown') },
        { label: t('account.lastSeen'), render: (s) => timeCell(s.last_seen_at, 'common.unknown') },
        {
          label: h('span', { class: 'visually-hidden' }, t('common.actions')),
          className: 'cell-actions',
          render: (s) => {
            const btn = button(s.current ? t('nav.signOut') : t('account.revoke'), {
              size: 'sm', variant: s.current ? 'secondary' : 'danger', testid: 'session-revoke',
              onClick: () => revoke(s, btn),
            });
            return btn;
          },
        },
      ],
      rows: items,
      rowProps: (s) => ({ testid: 'session-row', dataset: { sessionId: s.id, current: s.current ? 'true' : 'false' } }),
    });
    replace(body, tbl.el);
  }

  load();
  return c;
}

// --- API tokens ----------------------------------------------------------------------

const SCOPES = ['read', 'write', 'admin'];
const EXPIRY_CHOICES = ['7', '30', '90', '365', ''];

function tokenStatus(tok) {
  if (tok.revoked_at) return badge(t('tokens.revoked'), 'neutral', { testid: 'token-status' });
  if (tok.expires_at && new Date(tok.expires_at).getTime() <= Date.now()) return badge(t('tokens.expired'), 'warning', { testid: 'token-status' });
  return badge(t('tokens.active'), 'success', { testid: 'token-status' });
}

function isActive(tok) {
  return !tok.revoked_at && !(tok.expires_at && new Date(tok.expires_at).getTime() <= Date.now());
}

function showSecret(secret, tokenName) {
  return new Promise((resolve) => {
    const input = h('input', {
      type: 'text', class: 'input input-mono secret-input', readOnly: true, value: secret,
      testid: 'token-secret', 'aria-label': t('tokens.secretLabel'), spellcheck: 'false',
      onFocus: (e) => e.target.select(),
    });
    const done = button(t('tokens.secretDone'), { variant: 'primary', testid: 'token-secret-done', onClick: () => m.close() });
    const m = openModal({
      title: t('tokens.secretTitle', { name: tokenName }),
      testid: 'token-secret-dialog',
      dismissible: false,
      body: [
        alertBox('warning', t('tokens.secretWarningTitle'), t('tokens.secretWarning')),
        h('div', { class: 'secret-row' }, input, copyButton(secret, { testid: 'token-secret-copy' })),
      ],
      footer: [done],
      onClose: resolve,
    });
    done.focus();
  });
}

function newTokenModal(onCreated) {
  const isAdmin = app.isAdmin();
  const name = field({
    name: 'name', label: t('tokens.name'), testid: 'token-form-name', required: true,
    hint: t('tokens.nameHint'), autofocus: true, attrs: { maxlength: 100 },
  });
  const scopeBoxes = SCOPES.filter((s) => s !== 'admin' || isAdmin).map((s) => checkbox({
    name: `scope-${s}`, label: t(`tokens.scope.${s}`), hint: t(`tokens.scopeHint.${s}`),
    testid: `token-scope-${s}`, checked: s === 'read',
  }));
  const scopesError = h('p', { class: 'field-error', hidden: true, testid: 'token-form-scopes-error' });
  const scopesGroup = h('fieldset', { class: 'fieldset' },
    h('legend', { class: 'field-label' }, t('tokens.scopes')),
    scopeBoxes.map((b) => b.el),
    scopesError);
  const expiry = field({
    name: 'expires_in_days', type: 'select', label: t('tokens.expiry'), testid: 'token-form-expiry', value: '90',
    options: EXPIRY_CHOICES.map((d) => ({ value: d, label: d ? t('tokens.expiryDays', { days: d }) : t('tokens.expiryNever') })),
  });
  const submit = button(t('tokens.create'), { variant: 'primary', type: 'submit', testid: 'token-form-submit' });
  const cancel = button(t('common.cancel'), { onClick: () => m.close() });
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'token-form-error' } });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'token-form' },
    alertSlot, name.el, scopesGroup, expiry.el,
    h('div', { class: 'button-row button-row-end' }, cancel, submit));
  const idem = idempotencyKey();
  const scopesField = {
    name: 'scopes', input: scopeBoxes[0].input, el: scopesGroup,
    setError: (msg) => { scopesError.textContent = msg; scopesError.hidden = false; },
    clearError: () => { scopesError.textContent = ''; scopesError.hidden = true; },
    validate: () => true,
  };
  bindForm(form, {
    fields: [name, expiry],
    submitButton: submit,
    alertSlot,
    fieldMap: { scopes: scopesField },
    validate: () => {
      scopesField.clearError();
      if (!scopeBoxes.some((b) => b.checked)) {
        scopesField.setError(t('tokens.scopesRequired'));
        return false;
      }
      return true;
    },
    onSubmit: async () => {
      const scopes = scopeBoxes.filter((b) => b.checked).map((b) => b.input.name.slice('scope-'.length));
      const body = {
        name: name.value.trim(),
        scopes,
        expires_in_days: expiry.value ? Number(expiry.value) : null,
      };
      let res;
      try {
        res = await api.post('/me/tokens', body, { idempotencyKey: idem });
        idem.settle(null);
      } catch (err) {
        idem.settle(err);
        throw err;
      }
      m.close();
      await showSecret(res.secret, (res.token && res.token.name) || body.name);
      onCreated(res.token);
    },
  });
  const m = openModal({ title: t('tokens.newTitle'), body: form, testid: 'token-dialog' });
}

function tokensCard(ctx) {
  const body = h('div', null, spinner());
  const newBtn = button(t('tokens.new'), { variant: 'primary', size: 'sm', iconName: 'plus', testid: 'token-new', onClick: () => newTokenModal(() => load()) });
  const c = card({ title: t('tokens.title'), description: t('tokens.description'), testid: 'tokens-card', actions: newBtn }, body);

  async function revoke(tok, btn) {
    const ok = await confirmDialog({
      title: t('tokens.revokeTitle'),
      message: t('tokens.revokeText', { name: tok.name }),
      confirmLabel: t('tokens.revoke'),
      danger: true,
    });
    if (!ok) return;
    try {
      await withBusy(btn, () => api.del(`/me/tokens/${seg(tok.id)}`));
    } catch (err) {
      toastProblem(err);
      return;
    }
    toast(t('tokens.revokedToast'));
    load();
  }

  async function load() {
    let res;
    try {
      res = await api.get('/me/tokens');
    } catch (err) {
      if (ctx.alive) replace(body, problemAlert(err));
      return;
    }
    if (!ctx.alive) return;
    const tbl = table({
      testid: 'tokens-table',
      caption: t('tokens.title'),
      empty: t('tokens.empty'),
      columns: [
        { label: t('tokens.name'), render: (tok) => h('span', { class: 'strong', testid: 'token-name' }, tok.name) },
        { label: t('tokens.prefix'), render: (tok) => (tok.prefix ? h('code', { class: 'mono' }, `${tok.prefix}…`) : null) },
        {
          label: t('tokens.scopes'),
          render: (tok) => h('span', { class: 'badge-list' }, (tok.scopes || []).map((s) => badge(t(`tokens.scope.${s}`), s === 'admin' ? 'warning' : 'neutral'))),
        },
        { label: t('tokens.created'), render: (tok) => timeCell(tok.created_at, 'common.unknown') },
        { label: t('tokens.lastUsed'), render: (tok) => timeCell(tok.last_used_at) },
        { label: t('tokens.expires'), render: (tok) => timeCell(tok.expires_at) },
        { label: t('tokens.status'), render: (tok) => tokenStatus(tok) },
        {
          label: h('span', { class: 'visually-hidden' }, t('common.actions')),
          className: 'cell-actions',
          render: (tok) => {
            if (!isActive(tok)) return h('span');
            const btn = button(t('tokens.revoke'), { size: 'sm', variant: 'danger', testid: 'token-revoke', onClick: () => revoke(tok, btn) });
            return btn;
          },
        },
      ],
      rows: (res && res.items) || [],
      rowProps: (tok) => ({ testid: 'token-row', dataset: { tokenId: tok.id, name: tok.name } }),
    });
    replace(body, tbl.el);
  }

  load();
  return c;
}

export function accountView(page, ctx) {
  page.replaceChildren(
    pageHeader(t('account.title'), t('account.description')),
    h('div', { class: 'stack' },
      h('div', { class: 'grid-2' }, profileCard(), passwordCard()),
      twoFactorCard(ctx),
      sessionsCard(ctx),
      tokensCard(ctx)));
}
