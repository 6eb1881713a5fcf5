// Two-factor authentication building blocks shared by "My account" and the
// mandatory enrolment gate: enrolment (QR + manual key + confirm), the
// one-time display of recovery codes, and the code prompt used before
// sensitive changes.

import {
  h, field, button, bindForm, alertBox, replace, svgImage, copyButton,
  downloadText, checkbox, openModal, toast, spinner, problemAlert,
} from '../shared/ui.js';
import { api } from '../shared/api.js';
import { t, formatDateTime } from '../shared/i18n.js';
import { app } from './context.js';

/** Group a base32 secret in blocks of four for reading it aloud or typing it. */
function groupSecret(secret) {
  return String(secret).replace(/\s+/g, '').replace(/(.{4})/g, '$1 ').trim();
}

function codeField({ testid, label, hint, allowRecovery = false }) {
  const f = field({
    name: 'code',
    label: label || t('twofa.codeLabel'),
    hint,
    testid,
    required: true,
    autocomplete: 'one-time-code',
    inputmode: allowRecovery ? 'text' : 'numeric',
    placeholder: '123456',
    maxLength: allowRecovery ? 64 : 7,
    className: 'field-code',
    validate: (v) => {
      const s = v.replace(/\s+/g, '');
      if (!allowRecovery && !/^\d{6}$/.test(s)) return t('validation.totpFormat');
      return null;
    },
  });
  f.input.classList.add('input-code');
  return f;
}

function cleanCode(v) {
  const s = v.trim();
  return /^[\d\s]+$/.test(s) ? s.replace(/\s+/g, '') : s;
}

/**
 * Recovery codes, shown once. `onDone` runs when the agent has ticked
 * "I have saved them" and pressed Continue.
 */
export function recoveryCodesPanel(codes, { onDone, doneLabel } = {}) {
  const email = app.session && app.session.agent ? app.session.agent.email : '';
  const text = () => [
    t('twofa.recoveryFileTitle', { email }),
    t('twofa.recoveryFileGenerated', { date: formatDateTime(new Date()) }),
    t('twofa.recoveryFileNote'),
    '',
    ...codes,
    '',
  ].join('\n');
  const done = button(doneLabel || t('common.continue'), {
    variant: 'primary', testid: 'recovery-continue', disabled: true,
    onClick: () => { if (onDone) onDone(); },
  });
  const saved = checkbox({
    name: 'recovery-saved', label: t('twofa.recoverySaved'), testid: 'recovery-saved',
    onChange: (e) => { done.disabled = !e.target.checked; },
  });
  return h('div', { class: 'recovery-panel', testid: 'recovery-panel' },
    alertBox('warning', t('twofa.recoveryTitle'), t('twofa.recoveryWarning')),
    h('ol', { class: 'recovery-codes', testid: 'recovery-codes', 'aria-label': t('twofa.recoveryListLabel') },
      codes.map((c) => h('li', { class: 'recovery-code', testid: 'recovery-code' }, h('code', null, c)))),
    h('div', { class: 'button-row' },
      copyButton(() => codes.join('\n'), { label: t('twofa.copyCodes'), testid: 'recovery-copy' }),
      button(t('twofa.downloadCodes'), {
        iconName: 'download', testid: 'recovery-download',
        onClick: () => downloadText('kefu-recovery-codes.txt', text()),
      })),
    saved.el,
    h('div', { class: 'button-row button-row-end' }, done));
}

/**
 * The enrolment flow rendered into `container`:
 *   start -> POST /me/2fa/enrol -> QR + key + code -> POST /me/2fa/confirm
 *   -> recovery codes -> onDone()
 */
// An enrolment in progress survives re-renders (language switch, leaving
// and coming back to the page): the secret the agent may already have
// scanned is reused, and recovery codes stay visible until acknowledged.
let pending = null; // { agentId, setup?: {secret, otpauth_url, qr_svg}, codes?: string[] }

function agentId() {
  return app.session && app.session.agent ? app.session.agent.id : null;
}

function pendingForMe() {
  return pending && pending.agentId === agentId() ? pending : null;
}

/** True while an enrolment was started (or its codes not yet acknowledged) in this page load. */
export function hasPendingEnrolment() {
  return !!pendingForMe();
}

export function enrolmentFlow(container, { onDone, onCancel, ctx }) {
  replace(container, spinner(t('twofa.preparing')));

  const finish = () => {
    pending = null;
    if (onDone) onDone();
  };
  const cancel = onCancel ? () => { pending = null; onCancel(); } : null;

  async function start() {
    const mine = pendingForMe();
    if (mine && mine.codes) {
      replace(container, recoveryCodesPanel(mine.codes, { onDone: finish }));
      return;
    }
    if (mine && mine.setup) {
      showSetup(mine.setup);
      return;
    }
    let data;
    try {
      data = await api.post('/me/2fa/enrol');
      pending = { agentId: agentId(), setup: data };
    } catch (err) {
      if (ctx && !ctx.alive) return;
      replace(container, problemAlert(err),
        h('div', { class: 'button-row' },
          button(t('common.retry'), { variant: 'primary', onClick: () => enrolmentFlow(container, { onDone, onCancel, ctx }) }),
          cancel ? button(t('common.cancel'), { onClick: cancel }) : null));
      return;
    }
    if (ctx && !ctx.alive) return;
    showSetup(data);
  }

  function showSetup({ secret, otpauth_url: otpauthUrl, qr_svg: qrSvg }) {
    const qr = svgImage(qrSvg, { alt: t('twofa.qrAlt'), className: 'qr-image', testid: 'twofa-qr' });
    const code = codeField({ testid: 'twofa-confirm-code', label: t('twofa.confirmCodeLabel') });
    const submit = button(t('twofa.confirmSubmit'), { variant: 'primary', type: 'submit', testid: 'twofa-confirm-submit' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'twofa-confirm-error' } });
    const openLink = typeof otpauthUrl === 'string' && otpauthUrl.startsWith('otpauth://')
      ? h('a', { href: otpauthUrl, class: 'link otpauth-link' }, t('twofa.openInApp'))
      : null;
    const form = h('form', { class: 'form enrol-form', method: 'post', action: '#' },
      h('ol', { class: 'steps' },
        h('li', { class: 'step' },
          h('h3', { class: 'step-title' }, t('twofa.step1Title')),
          h('p', { class: 'step-text' }, t('twofa.step1Text')),
          h('div', { class: 'enrol-grid' },
            h('div', { class: 'qr-frame' }, qr || alertBox('warning', null, t('twofa.qrUnavailable'))),
            h('div', { class: 'enrol-manual' },
              h('p', { class: 'step-text' }, t('twofa.manualText')),
              h('code', { class: 'secret', testid: 'totp-secret', dataset: { secret: String(secret).replace(/\s+/g, '') } }, groupSecret(secret)),
              h('div', { class: 'button-row' },
                copyButton(() => String(secret).replace(/\s+/g, ''), { label: t('twofa.copyKey'), testid: 'totp-secret-copy', size: 'sm' }),
                openLink)))),
        h('li', { class: 'step' },
          h('h3', { class: 'step-title' }, t('twofa.step2Title')),
          h('p', { class: 'step-text' }, t('twofa.step2Text')),
          alertSlot,
          code.el)),
      h('div', { class: 'button-row button-row-end' },
        cancel ? button(t('common.cancel'), { testid: 'twofa-cancel', onClick: cancel }) : null,
        submit));
    bindForm(form, {
      fields: [code],
      submitButton: submit,
      alertSlot,
      fieldMap: { code },
      onSubmit: async () => {
        const res = await api.post('/me/2fa/confirm', { code: cleanCode(code.value) });
        const codes = (res && res.recovery_codes) || [];
        pending = { agentId: agentId(), codes };
        if (app.session && app.session.agent) app.session.agent.two_factor_enabled = true;
        toast(t('twofa.enabledToast'));
        if (ctx && !ctx.alive) return;
        replace(container, recoveryCodesPanel(codes, { onDone: finish }));
      },
    });
    replace(container, form);
    code.input.focus({ preventScroll: true });
    container.scrollIntoView({ block: 'nearest' });
  }

  start();
}

/**
 * Ask for a current authenticator code in a modal, then run `action(code)`.
 * `action` may return a value; a thrown ApiError is shown in the modal.
 * Resolves with the action's result, or undefined when cancelled.
 */
export function promptForCode({ title, message, submitLabel, danger = false, allowRecovery = true, action }) {
  return new Promise((resolve) => {
    let result;
    const code = codeField({
      testid: 'twofa-action-code', allowRecovery,
      hint: allowRecovery ? t('twofa.codeOrRecoveryHint') : null,
    });
    const submit = button(submitLabel, { variant: danger ? 'danger' : 'primary', type: 'submit', testid: 'twofa-action-submit' });
    const cancel = button(t('common.cancel'), { onClick: () => m.close() });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'twofa-action-error' } });
    const form = h('form', { class: 'form', method: 'post', action: '#' },
      message ? h('p', null, message) : null, alertSlot, code.el,
      h('div', { class: 'button-row button-row-end' }, cancel, submit));
    bindForm(form, {
      fields: [code], submitButton: submit, alertSlot, fieldMap: { code },
      onSubmit: async () => {
        result = await action(cleanCode(code.value));
        m.close();
      },
    });
    const m = openModal({ title, body: form, testid: 'twofa-action-dialog', size: 'sm', onClose: () => resolve(result) });
  });
}

/** Show freshly generated recovery codes in a modal. */
export function showRecoveryCodesModal(codes) {
  return new Promise((resolve) => {
    const m = openModal({
      title: t('twofa.recoveryTitle'),
      body: recoveryCodesPanel(codes, { onDone: () => m.close(), doneLabel: t('common.done') }),
      testid: 'recovery-dialog',
      dismissible: false,
      onClose: resolve,
    });
  });
}
