// Sign-in page: email + password, then (when the account has two-factor
// authentication) a second step for a TOTP or recovery code.

import { h, field, button, bindForm, alertBox, replace, icon } from '../../shared/ui.js';
import { api, ApiError } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { app } from '../context.js';
import { languageSwitcher } from '../layout.js';

// Kept across re-renders (language switch) within one visit.
const state = {
  step: 'credentials', // 'credentials' | 'totp'
  email: '',
  challenge: null,
  useRecovery: false,
  flash: null, // { kind, title, detail }
};

/** Back to the first step, optionally with a message shown above the form. */
export function resetLogin(flash) {
  state.step = 'credentials';
  state.challenge = null;
  state.useRecovery = false;
  state.flash = flash || null;
}

function finish(session) {
  const email = state.email;
  resetLogin(null);
  state.email = email;
  app.setSession(session);
  // Re-route the login URL: with a session the router goes on to `next`
  // (validated there), the 2FA-enrolment gate or the landing page.
  app.navigate(window.location.pathname + window.location.search, { replace: true });
}

function flashBox() {
  if (!state.flash) return null;
  const f = state.flash;
  return alertBox(f.kind || 'info', f.title, f.detail, { testid: 'login-flash' });
}

function credentialsStep(rerender) {
  const email = field({
    name: 'email', type: 'email', label: t('login.email'), testid: 'login-email',
    autocomplete: 'username', required: true, value: state.email, autofocus: !state.email,
  });
  const password = field({
    name: 'password', type: 'password', label: t('login.password'), testid: 'login-password',
    autocomplete: 'current-password', required: true, autofocus: !!state.email,
  });
  const submit = button(t('login.submit'), { variant: 'primary', type: 'submit', testid: 'login-submit' });
  submit.classList.add('btn-block');
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'login-error' } });
  const form = h('form', { class: 'form', testid: 'login-form', method: 'post', action: '#' },
    h('div', { class: 'auth-heading' },
      h('h1', { class: 'auth-title', testid: 'page-title' }, t('login.title')),
      h('p', { class: 'auth-subtitle' }, t('login.subtitle'))),
    flashBox(),
    alertSlot,
    email.el,
    password.el,
    submit);

  email.input.addEventListener('input', () => { state.email = email.value; });

  bindForm(form, {
    fields: [email, password],
    submitButton: submit,
    alertSlot,
    onSubmit: async () => {
      state.flash = null;
      state.email = email.value.trim();
      let res;
      try {
        res = await api.post('/auth/login', { email: state.email, password: password.value }, { silent: true });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') {
          password.value = '';
          password.input.focus();
        }
        throw err;
      }
      if (res && res.status === 'totp_required') {
        state.step = 'totp';
        state.challenge = res.challenge;
        state.useRecovery = false;
        rerender();
        return;
      }
      if (res && res.status === 'ok' && res.session) {
        finish(res.session);
        return;
      }
      throw new Error(t('problem.unexpected'));
    },
  });
  return form;
}

function totpStep(rerender) {
  const recovery = state.useRecovery;
  const code = field({
    name: 'code',
    label: recovery ? t('login.recoveryCode') : t('login.totpCode'),
    testid: 'totp-code',
    required: true,
    autofocus: true,
    autocomplete: recovery ? 'off' : 'one-time-code',
    inputmode: recovery ? 'text' : 'numeric',
    placeholder: recovery ? 'xxxx-xxxx-xxxx' : '123456',
    maxLength: recovery ? 64 : 7,
    className: 'field-code',
    validate: (v) => {
      const s = v.replace(/\s+/g, '');
      if (!recovery && !/^\d{6}$/.test(s)) return t('validation.totpFormat');
      return null;
    },
  });
  code.input.classList.add('input-code');
  const submit = button(t('login.verify'), { variant: 'primary', type: 'submit', testid: 'totp-submit' });
  submit.classList.add('btn-block');
  const toggle = h('button', {
    type: 'button', class: 'btn btn-link', testid: 'totp-use-recovery',
    onClick: () => { state.useRecovery = !state.useRecovery; rerender(); },
  }, recovery ? t('login.useAuthenticator') : t('login.useRecovery'));
  const back = h('button', {
    type: 'button', class: 'btn btn-link', testid: 'totp-back',
    onClick: () => { resetLogin(null); rerender(); },
  }, t('login.back'));
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'totp-error' } });
  const form = h('form', { class: 'form', testid: 'totp-form', method: 'post', action: '#' },
    h('div', { class: 'auth-heading' },
      h('span', { class: 'auth-icon', 'aria-hidden': 'true' }, icon('shield')),
      h('h1', { class: 'auth-title', testid: 'page-title' }, t('login.totpTitle')),
      h('p', { class: 'auth-subtitle' }, recovery ? t('login.recoveryHelp') : t('login.totpHelp'))),
    state.email ? h('p', { class: 'auth-account' }, t('login.signingInAs', { email: state.email })) : null,
    alertSlot,
    code.el,
    submit,
    h('div', { class: 'auth-links' }, toggle, back));

  bindForm(form, {
    fields: [code],
    submitButton: submit,
    alertSlot,
    onSubmit: async () => {
      const raw = code.value.trim();
      const value = recovery ? raw : raw.replace(/\s+/g, '');
      let res;
      try {
        res = await api.post('/auth/login/totp', { challenge: state.challenge, code: value }, { silent: true });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'login_challenge_expired') {
          resetLogin({ kind: 'warning', title: t('problem.login_challenge_expired') });
          rerender();
          return;
        }
        if (err instanceof ApiError && err.code === 'invalid_totp_code') {
          code.value = '';
          code.input.focus();
        }
        throw err;
      }
      if (res && res.status === 'ok' && res.session) {
        finish(res.session);
        return;
      }
      throw new Error(t('problem.unexpected'));
    },
  });
  return form;
}

export function loginView(root) {
  const cardBody = h('div', { class: 'auth-card-body' });
  function rerender() {
    replace(cardBody, state.step === 'totp' && state.challenge ? totpStep(rerender) : credentialsStep(rerender));
    const focus = cardBody.querySelector('[autofocus]');
    if (focus) focus.focus();
  }
  root.replaceChildren(h('div', { class: 'auth-page' },
    h('header', { class: 'auth-topbar' },
      h('div', { class: 'brand brand-static' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'K'),
        h('span', { class: 'brand-name' }, t('app.name'))),
      languageSwitcher()),
    h('main', { class: 'auth-main' },
      h('div', { class: 'auth-card' }, cardBody),
      h('p', { class: 'auth-footer' }, t('login.footer')))));
  rerender();
}
