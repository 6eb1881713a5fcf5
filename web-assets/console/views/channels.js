// Channel settings (admin): the API channel's webhook (where agents' replies
// to API conversations are delivered, signed with a shared secret), the
// customer portal's identity secret (signed sign-in from the exchange) and
// the live chat widget (greetings, pre-chat form, ES256 key for signed
// identities). Secrets are write-only: the server only says whether one is set.

import {
  h, card, field, button, bindForm, badge, toast, toastProblem, confirmDialog, replace, spinner,
  problemAlert, withBusy, checkbox, copyButton, fieldErrorState,
} from '../../shared/ui.js';
import { api } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { LOCALES, localeLabel } from '../inbox-common.js';

const SECRET_MIN = 16;
const SECRET_MAX = 256;
const GREETING_MAX = 500;

/** A random secret (32 bytes, hex) for the admin to copy into the other system. */
function randomSecret() {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function secretValidator(v) {
  if (!v) return null;
  if (v.length < SECRET_MIN || v.length > SECRET_MAX) return t('channels.secretLength', { min: SECRET_MIN, max: SECRET_MAX });
  return null;
}

/** A secret input with a "Generate" link that fills in (and reveals) a random secret. */
function secretField(opts) {
  const f = field({
    ...opts, type: 'password', autocomplete: 'new-password',
    attrs: { spellcheck: 'false', autocapitalize: 'none' }, validate: secretValidator,
  });
  f.input.classList.add('input-mono');
  const gen = h('button', {
    type: 'button', class: 'btn btn-link btn-inline', testid: `${opts.testid}-generate`,
    onClick: () => {
      f.value = randomSecret();
      f.input.type = 'text';
      f.clearError();
      f.input.select();
    },
  }, t('channels.generate'));
  f.el.querySelector('.field-label').after(gen);
  f.el.classList.add('field-with-action');
  return f;
}

function helpBlock(title, text, code, testid) {
  return h('div', { class: 'help-block', testid },
    h('h3', { class: 'help-title' }, title),
    h('p', { class: 'muted small' }, text),
    h('pre', { class: 'code-block' }, h('code', null, code)));
}

function statusBadge(on, onLabel, offLabel, testid) {
  return badge(on ? onLabel : offLabel, on ? 'success' : 'neutral', { testid, dataset: { on: on ? 'true' : 'false' } });
}

// --- API channel ---------------------------------------------------------------------------------

function apiChannelCard(ctx) {
  const body = h('div', null, spinner());
  const statusSlot = h('span', { class: 'badge-list' });
  const c = card({ title: t('channels.apiTitle'), description: t('channels.apiDescription'), testid: 'api-channel-card', actions: statusSlot }, body);

  function render(s) {
    replace(statusSlot,
      statusBadge(!!s.webhook_url, t('channels.webhookOn'), t('channels.webhookOff'), 'api-webhook-status'),
      statusBadge(!!s.has_secret, t('channels.secretSet'), t('channels.secretNotSet'), 'api-secret-status'));
    const url = field({
      name: 'webhook_url', label: t('channels.webhookUrl'), testid: 'api-webhook-url', value: s.webhook_url || '',
      placeholder: 'https://example.com/kefu/webhook', autocomplete: 'off', hint: t('channels.webhookUrlHint'),
      inputmode: 'url', attrs: { spellcheck: 'false', autocapitalize: 'none' },
    });
    const secret = secretField({
      name: 'webhook_secret', label: t('channels.webhookSecret'), testid: 'api-webhook-secret',
      hint: s.has_secret ? t('channels.webhookSecretHintKeep') : t('channels.webhookSecretHintNew', { min: SECRET_MIN, max: SECRET_MAX }),
    });
    const save = button(t('channels.apiSave'), { variant: 'primary', type: 'submit', testid: 'api-channel-save' });
    const disable = s.webhook_url
      ? button(t('channels.webhookDisable'), { variant: 'danger', testid: 'api-channel-disable', onClick: () => turnOff(s, disable) })
      : null;
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'api-channel-error' } });
    const form = h('form', { class: 'form form-narrow', method: 'post', action: '#', testid: 'api-channel-form' },
      alertSlot, url.el, secret.el,
      h('div', { class: 'button-row' }, save, disable));
    bindForm(form, {
      fields: [url, secret], submitButton: save, alertSlot,
      onSubmit: async () => {
        const payload = { webhook_url: url.value.trim() || null };
        // Leaving the secret empty keeps the current one.
        if (secret.value) payload.webhook_secret = secret.value;
        const saved = await api.put('/settings/api-channel', payload);
        toast(saved.webhook_url ? t('channels.apiSaved') : t('channels.webhookDisabled'));
        if (ctx.alive) render(saved);
      },
    });
    replace(body, form,
      helpBlock(t('channels.signatureTitle'), t('channels.signatureText'),
        'X-Kefu-Timestamp: <timestamp>\nX-Kefu-Signature: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>"))',
        'api-signature-help'));
  }

  async function turnOff(s, btn) {
    const ok = await confirmDialog({
      title: t('channels.webhookDisableTitle'), message: t('channels.webhookDisableText', { url: s.webhook_url }),
      confirmLabel: t('channels.webhookDisable'), danger: true,
    });
    if (!ok) return;
    let saved;
    try {
      saved = await withBusy(btn, () => api.put('/settings/api-channel', { webhook_url: null }));
    } catch (err) {
      toastProblem(err);
      return;
    }
    toast(t('channels.webhookDisabled'));
    if (ctx.alive) render(saved);
  }

  api.get('/settings/api-channel').then((s) => { if (ctx.alive) render(s || {}); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
  return c;
}

// --- Customer portal -------------------------------------------------------------------------------

function portalCard(ctx) {
  const body = h('div', null, spinner());
  const statusSlot = h('span');
  const c = card({ title: t('channels.portalTitle'), description: t('channels.portalDescription'), testid: 'portal-settings-card', actions: statusSlot }, body);

  function render(s) {
    replace(statusSlot, statusBadge(!!s.has_identity_secret, t('channels.portalOn'), t('channels.portalOff'), 'portal-secret-status'));
    const secret = secretField({
      name: 'identity_secret', label: t('channels.identitySecret'), testid: 'portal-identity-secret', required: true,
      hint: s.has_identity_secret ? t('channels.identitySecretHintSet', { min: SECRET_MIN, max: SECRET_MAX }) : t('channels.identitySecretHintNew', { min: SECRET_MIN, max: SECRET_MAX }),
    });
    const save = button(t('channels.portalSave'), { variant: 'primary', type: 'submit', testid: 'portal-save' });
    const disable = s.has_identity_secret
      ? button(t('channels.portalDisable'), { variant: 'danger', testid: 'portal-disable', onClick: () => turnOff(disable) })
      : null;
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'portal-settings-error' } });
    const form = h('form', { class: 'form form-narrow', method: 'post', action: '#', testid: 'portal-settings-form' },
      alertSlot, secret.el, h('div', { class: 'button-row' }, save, disable));
    bindForm(form, {
      fields: [secret], submitButton: save, alertSlot,
      onSubmit: async () => {
        const saved = await api.put('/settings/portal', { identity_secret: secret.value });
        toast(t('channels.portalSaved'));
        if (ctx.alive) render(saved);
      },
    });
    replace(body, form,
      helpBlock(t('channels.portalHelpTitle'), t('channels.portalHelpText'),
        'user_hash = hex(HMAC-SHA256(secret, user_id))\n/portal/sso?user_id=<user_id>&user_hash=<user_hash>&email=<email>&name=<name>',
        'portal-signature-help'));
  }

  async function turnOff(btn) {
    const ok = await confirmDialog({
      title: t('channels.portalDisableTitle'), message: t('channels.portalDisableText'),
      confirmLabel: t('channels.portalDisable'), danger: true,
    });
    if (!ok) return;
    let saved;
    try {
      saved = await withBusy(btn, () => api.put('/settings/portal', { identity_secret: null }));
    } catch (err) {
      toastProblem(err);
      return;
    }
    toast(t('channels.portalDisabled'));
    if (ctx.alive) render(saved);
  }

  api.get('/settings/portal').then((s) => { if (ctx.alive) render(s || {}); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
  return c;
}

// --- Live chat ----------------------------------------------------------------------------------------

/** The greeting per language; one error slot for what concerns the greeting as a whole. */
function greetingFields(greeting) {
  const legendId = `chat-greeting-legend-${Math.random().toString(36).slice(2, 9)}`;
  const fields = LOCALES.map((lang) => field({
    name: `greeting.${lang}`, label: localeLabel(lang), type: 'textarea', rows: 2, testid: `chat-greeting-${lang}`,
    value: (greeting && greeting[lang]) || '', placeholder: t('channels.chatGreetingPlaceholder'),
    attrs: { lang },
    // The server counts characters (code points), not UTF-16 units.
    validate: (v) => ([...v.trim()].length > GREETING_MAX ? t('channels.chatGreetingTooLong', { max: GREETING_MAX }) : null),
  }));
  const errorEl = h('p', { class: 'field-error', hidden: true, testid: 'chat-greeting-error' });
  const el = h('fieldset', { class: 'fieldset', 'aria-labelledby': legendId, testid: 'chat-greeting' },
    h('legend', { class: 'field-label', id: legendId }, t('channels.chatGreeting')),
    h('p', { class: 'field-hint' }, t('channels.chatGreetingHint')),
    fields.map((f) => f.el), errorEl);
  const { setError, clearError } = fieldErrorState(el, errorEl);
  const group = {
    el, name: 'greeting', setError, clearError, validate: () => true,
    // `input` is what showProblem focuses on a server field error.
    get input() { return fields[0].input; },
    /** Only the languages with a text: an empty one gets the widget's built-in greeting. */
    value() {
      const out = {};
      LOCALES.forEach((lang, i) => {
        const v = fields[i].value.trim();
        if (v) out[lang] = v;
      });
      return out;
    },
  };
  return { group, fields };
}

function chatCard(ctx) {
  const body = h('div', null, spinner());
  const statusSlot = h('span', { class: 'badge-list' });
  const c = card({ title: t('channels.chatTitle'), description: t('channels.chatDescription'), testid: 'chat-settings-card', actions: statusSlot }, body);

  function render(s) {
    replace(statusSlot,
      statusBadge(!!s.prechat_form, t('channels.chatPrechatOn'), t('channels.chatPrechatOff'), 'chat-prechat-status'),
      statusBadge(!!s.jwt_public_key, t('channels.chatKeySet'), t('channels.chatKeyNotSet'), 'chat-key-status'));

    const widgetIdInput = h('input', {
      type: 'text', id: `chat-widget-id-${Math.random().toString(36).slice(2, 9)}`, class: 'input input-mono secret-input',
      readOnly: true, value: s.widget_id || '', testid: 'chat-widget-id', spellcheck: 'false',
      onFocus: (e) => e.target.select(),
    });
    const widgetId = h('div', { class: 'field' },
      h('label', { class: 'field-label', htmlFor: widgetIdInput.id }, t('channels.chatWidgetId')),
      h('div', { class: 'secret-row' }, widgetIdInput, copyButton(() => widgetIdInput.value, { testid: 'chat-widget-id-copy' })),
      h('p', { class: 'field-hint' }, t('channels.chatWidgetIdHint')));

    const { group: greeting, fields: greetingInputs } = greetingFields(s.greeting);
    const prechat = checkbox({
      name: 'prechat_form', label: t('channels.chatPrechat'), hint: t('channels.chatPrechatHint'),
      testid: 'chat-prechat', checked: !!s.prechat_form,
    });
    const key = field({
      name: 'jwt_public_key', label: t('channels.chatPublicKey'), type: 'textarea', rows: 5, optional: true,
      testid: 'chat-public-key', value: s.jwt_public_key || '', hint: t('channels.chatPublicKeyHint'),
      placeholder: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----',
      attrs: { spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off' },
    });
    key.input.classList.add('input-mono');

    const save = button(t('channels.chatSave'), { variant: 'primary', type: 'submit', testid: 'chat-settings-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'chat-settings-error' } });
    const form = h('form', { class: 'form form-narrow', method: 'post', action: '#', testid: 'chat-settings-form' },
      alertSlot, widgetId, greeting.el, prechat.el, key.el, h('div', { class: 'button-row' }, save));
    bindForm(form, {
      fields: [...greetingInputs, greeting, key], submitButton: save, alertSlot,
      onSubmit: async () => {
        const saved = await api.put('/settings/chat', {
          greeting: greeting.value(),
          prechat_form: prechat.checked,
          jwt_public_key: key.value.trim() || null,
        });
        toast(t('channels.chatSaved'));
        if (ctx.alive) render(saved);
      },
    });
    replace(body, form,
      helpBlock(t('channels.chatHelpTitle'), t('channels.chatHelpText'),
        'user_hash = hex(HMAC-SHA256(identity_secret, user_id))\n\n'
        + 'JWT: HS256 (identity_secret) | ES256 (this public key)\n'
        + '{ "sub": "<user_id>", "exp": <now + 24 h at most>,\n'
        + '  "email": "…", "name": "…", "vip_tier": 0–10, "language": "zh-CN" | "zh-TW" | "en" }',
        'chat-signature-help'));
  }

  api.get('/settings/chat').then((s) => { if (ctx.alive) render(s || {}); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
  return c;
}

export function channelsView(page, ctx) {
  page.replaceChildren(
    pageHeader(t('channels.title'), t('channels.description')),
    h('div', { class: 'stack' }, apiChannelCard(ctx), portalCard(ctx), chatCard(ctx)));
}
