// Channel settings (admin): the API channel's webhook (where agents' replies
// to API conversations are delivered, signed with a shared secret), the
// customer portal's identity secret (signed sign-in from the exchange) and
// the live chat widget (embed code, greetings, pre-chat form, business hours,
// offline message and promised reply time, e-mailing replies the customer
// missed, ES256 key for signed identities, and whether the chat is staffed
// right now). Secrets are write-only: the
// server only says whether one is set.

import {
  h, card, field, button, bindForm, badge, toast, toastProblem, confirmDialog, replace, spinner,
  problemAlert, withBusy, checkbox, copyButton, fieldErrorState, describeProblem,
} from '../../shared/ui.js';
import { api, seg } from '../../shared/api.js';
import { t, getLanguage, formatDateTime, formatDateTimeFull } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { LOCALES, localeLabel } from '../inbox-common.js';

const SECRET_MIN = 16;
const SECRET_MAX = 256;
const GREETING_MAX = 500;
const OFFLINE_MAX = 500;
const REPLY_HOURS_MIN = 1;
const REPLY_HOURS_MAX = 168;
const REPLY_HOURS_DEFAULT = 12;
const FOLLOW_UP_MIN = 0;
const FOLLOW_UP_MAX = 1440;
const FOLLOW_UP_DEFAULT = 5;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
// A schedule to start from when an admin turns "around the clock" off.
const DEFAULT_DAY = { open: '09:00', close: '18:00' };
const DEFAULT_OPEN_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
// How often the card asks whether the chat is staffed right now.
const STATUS_REFRESH_MS = 15_000;

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

/**
 * A text per language (the greeting, the offline message): one textarea per language and one
 * error slot for what concerns the group as a whole (server field `name`).
 */
function perLanguageFields({ name, testid, legend, hint, placeholder, values, max, tooLong }) {
  const legendId = `${testid}-legend-${Math.random().toString(36).slice(2, 9)}`;
  const fields = LOCALES.map((lang) => field({
    name: `${name}.${lang}`, label: localeLabel(lang), type: 'textarea', rows: 2, testid: `${testid}-${lang}`,
    value: (values && values[lang]) || '', placeholder,
    attrs: { lang },
    // The server counts characters (code points), not UTF-16 units.
    validate: (v) => ([...v.trim()].length > max ? tooLong : null),
  }));
  const errorEl = h('p', { class: 'field-error', hidden: true, testid: `${testid}-error` });
  const el = h('fieldset', { class: 'fieldset', 'aria-labelledby': legendId, testid },
    h('legend', { class: 'field-label', id: legendId }, legend),
    h('p', { class: 'field-hint' }, hint),
    fields.map((f) => f.el), errorEl);
  const { setError, clearError } = fieldErrorState(el, errorEl);
  const group = {
    el, name, setError, clearError, validate: () => true,
    // `input` is what showProblem focuses on a server field error.
    get input() { return fields[0].input; },
    /** Only the languages with a text: an empty one gets the widget's built-in text. */
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

/** `+08:00` for a number of minutes east of UTC. */
function formatOffset(mins) {
  const sign = mins < 0 ? '-' : '+';
  const a = Math.abs(mins);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** The offsets the schedule can be in: UTC-12:00 to UTC+14:00 in 30-minute steps. */
function offsetOptions(current) {
  const list = [];
  for (let m = -12 * 60; m <= 14 * 60; m += 30) list.push(formatOffset(m));
  // An offset stored by other means (e.g. +05:45 through the API) stays selectable.
  if (current && !list.includes(current)) list.push(current);
  return list;
}

/** This browser's offset, rounded to the list's 30-minute steps. */
function browserOffset() {
  const mins = Math.round(-new Date().getTimezoneOffset() / 30) * 30;
  return formatOffset(Math.max(-12 * 60, Math.min(14 * 60, mins)));
}

/** The weekday's name in the console's language (2024-01-01 was a Monday). */
function weekdayName(i) {
  return new Intl.DateTimeFormat(getLanguage(), { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + i)));
}

/**
 * The business hours: "around the clock" (`business_hours: null`), or a weekly schedule in one
 * UTC offset with, per weekday, whether it is open and from when to when. A time input cannot
 * say 24:00, so closing at 00:00 means the end of the day.
 */
function businessHoursFields(hours) {
  const always = checkbox({
    name: 'business_hours_always', label: t('channels.chatAlwaysOpen'), hint: t('channels.chatAlwaysOpenHint'),
    testid: 'chat-hours-always', checked: !hours,
  });
  const offsetValue = hours ? hours.utc_offset : browserOffset();
  const offset = field({
    name: 'business_hours.utc_offset', label: t('channels.chatUtcOffset'), type: 'select', testid: 'chat-hours-offset',
    hint: t('channels.chatUtcOffsetHint'), value: offsetValue,
    options: offsetOptions(offsetValue).map((o) => ({ value: o, label: `UTC${o}` })),
  });

  const days = WEEKDAYS.map((day, i) => {
    const saved = hours ? hours.days && hours.days[day] : (DEFAULT_OPEN_DAYS.includes(day) ? DEFAULT_DAY : null);
    const shown = saved || DEFAULT_DAY;
    const name = weekdayName(i);
    const id = `chat-hours-${day}-${Math.random().toString(36).slice(2, 9)}`;
    const errId = `${id}-error`;
    const open = h('input', { type: 'checkbox', id, class: 'checkbox-input', testid: `chat-hours-${day}`, checked: !!saved });
    const time = (value, which) => h('input', {
      type: 'time', class: 'input input-sm hours-time', step: 60, value,
      testid: `chat-hours-${day}-${which}`,
      'aria-label': t(which === 'from' ? 'channels.chatHoursFrom' : 'channels.chatHoursTo', { day: name }),
    });
    const from = time(shown.open, 'from');
    const to = time(shown.close === '24:00' ? '00:00' : shown.close, 'to');
    const closed = h('span', { class: 'muted small hours-closed', testid: `chat-hours-${day}-closed` }, t('channels.chatHoursClosed'));
    const errorEl = h('p', { class: 'field-error hours-error', id: errId, hidden: true, testid: `chat-hours-${day}-error` });
    const el = h('div', { class: 'hours-row', testid: 'chat-hours-day', dataset: { day } },
      h('div', { class: 'checkbox hours-day' }, open, h('label', { htmlFor: id, class: 'checkbox-label' }, h('span', { class: 'checkbox-text' }, name))),
      h('div', { class: 'hours-times' }, from, h('span', { class: 'hours-dash', 'aria-hidden': 'true' }, '–'), to, closed),
      errorEl);
    function sync() {
      from.disabled = !open.checked;
      to.disabled = !open.checked;
      from.hidden = !open.checked;
      to.hidden = !open.checked;
      el.querySelector('.hours-dash').hidden = !open.checked;
      closed.hidden = open.checked;
      el.classList.toggle('is-closed', !open.checked);
    }
    const state = fieldErrorState(el, errorEl);
    const setError = (message) => {
      state.setError(message);
      for (const x of [from, to]) {
        x.setAttribute('aria-invalid', 'true');
        x.setAttribute('aria-describedby', errId);
      }
    };
    const clearError = () => {
      state.clearError();
      for (const x of [from, to]) {
        x.removeAttribute('aria-invalid');
        x.removeAttribute('aria-describedby');
      }
    };
    open.addEventListener('change', () => { sync(); clearError(); });
    for (const x of [from, to]) x.addEventListener('input', () => { if (el.classList.contains('has-error')) clearError(); });
    sync();
    return {
      day, el, name: `business_hours.days.${day}`, setError, clearError,
      get input() { return open.checked ? from : open; },
      validate() {
        // Nothing to check while the whole schedule is off.
        if (always.checked || !open.checked) return true;
        if (!from.value || !to.value) { setError(t('channels.chatHoursMissing')); return false; }
        return true;
      },
      /** `{open, close}` or null when closed that day. */
      value() {
        if (!open.checked) return null;
        return { open: from.value, close: to.value === '00:00' ? '24:00' : to.value };
      },
    };
  });

  const legendId = `chat-hours-legend-${Math.random().toString(36).slice(2, 9)}`;
  const daysError = h('p', { class: 'field-error', hidden: true, testid: 'chat-hours-error' });
  const schedule = h('div', { class: 'hours-schedule', testid: 'chat-hours-schedule' },
    offset.el,
    h('div', { class: 'field' },
      h('span', { class: 'field-label', id: legendId }, t('channels.chatHoursDays')),
      h('div', { class: 'hours-grid', role: 'group', 'aria-labelledby': legendId }, days.map((d) => d.el)),
      h('p', { class: 'field-hint' }, t('channels.chatHoursMidnightHint')),
      daysError));
  const syncAlways = () => { schedule.hidden = always.checked; };
  always.input.addEventListener('change', syncAlways);
  syncAlways();
  // Errors about the schedule as a whole (`business_hours`, `business_hours.days`).
  const scheduleState = fieldErrorState(schedule, daysError);
  const scheduleGroup = {
    el: schedule, name: 'business_hours.days', ...scheduleState, validate: () => true,
    get input() { return always.checked ? always.input : days[0].input; },
  };

  return {
    always, offset, days, schedule, scheduleGroup,
    /** The fields bindForm validates and shows server errors on. */
    fields: [offset, ...days, scheduleGroup],
    fieldMap: { business_hours: scheduleGroup },
    value() {
      if (always.checked) return null;
      const out = {};
      for (const d of days) {
        const v = d.value();
        if (v) out[d.day] = v;
      }
      return { utc_offset: offset.value, days: out };
    },
  };
}

/**
 * E-mailing chat replies the customer has not read (`email_follow_up_minutes`): a checkbox, and
 * how many minutes after the last reply; off is `null` (never).
 */
function followUpFields(minutes) {
  const on = checkbox({
    name: 'email_follow_up', label: t('channels.chatFollowUp'), hint: t('channels.chatFollowUpHint'),
    testid: 'chat-follow-up', checked: minutes !== null, // (not set yet: the default)
  });
  const after = field({
    name: 'email_follow_up_minutes', label: t('channels.chatFollowUpMinutes'), type: 'number', testid: 'chat-follow-up-minutes',
    value: String(minutes ?? FOLLOW_UP_DEFAULT), hint: t('channels.chatFollowUpMinutesHint', { min: FOLLOW_UP_MIN, max: FOLLOW_UP_MAX }),
    inputmode: 'numeric', attrs: { min: FOLLOW_UP_MIN, max: FOLLOW_UP_MAX, step: 1 }, className: 'field-short',
    validate: (v) => {
      if (!on.checked) return null;
      const n = Number(v.trim());
      return v.trim() !== '' && Number.isInteger(n) && n >= FOLLOW_UP_MIN && n <= FOLLOW_UP_MAX
        ? null : t('channels.chatFollowUpRange', { min: FOLLOW_UP_MIN, max: FOLLOW_UP_MAX });
    },
  });
  const sync = () => {
    after.input.disabled = !on.checked;
    if (!on.checked) after.clearError();
  };
  on.input.addEventListener('change', sync);
  sync();
  return {
    on, after, el: h('div', { class: 'fieldset', testid: 'chat-follow-up-group' }, on.el, after.el),
    /** Minutes, or null for never. */
    value: () => (on.checked ? Number(after.value.trim()) : null),
  };
}

/** The embed tag for the exchange's pages, with a copy button and the demo page. */
function embedBlock(widgetId) {
  const snippet = `<script src="${window.location.origin}/widget.js" data-channel="${widgetId}" async></script>`;
  const labelId = `chat-embed-${Math.random().toString(36).slice(2, 9)}`;
  return h('div', { class: 'field', testid: 'chat-embed' },
    h('span', { class: 'field-label', id: labelId }, t('channels.chatEmbed')),
    h('pre', { class: 'code-block code-block-wrap', testid: 'chat-embed-snippet', 'aria-labelledby': labelId }, h('code', null, snippet)),
    h('div', { class: 'button-row embed-actions' },
      copyButton(snippet, { testid: 'chat-embed-copy', size: 'sm', label: t('channels.chatEmbedCopy') }),
      h('a', { href: '/demo', target: '_blank', rel: 'noopener', class: 'link', testid: 'chat-demo-link' }, t('channels.chatDemoLink'))),
    h('p', { class: 'field-hint' }, t('channels.chatEmbedHint')));
}

function chatCard(ctx) {
  const body = h('div', null, spinner());
  const statusSlot = h('span', { class: 'badge-list' });
  const c = card({ title: t('channels.chatTitle'), description: t('channels.chatDescription'), testid: 'chat-settings-card', actions: statusSlot }, body);

  // Whether a visitor would find someone right now: what the widget itself is told.
  const liveStatus = h('p', { class: 'chat-live-status', testid: 'chat-live-status', role: 'status', 'aria-live': 'polite' });
  let current = null;
  let statusSeq = 0;

  async function refreshStatus() {
    if (!current || !current.widget_id || !ctx.alive) return;
    const seq = ++statusSeq;
    let w;
    try {
      w = await api.get(`/chat/widget/${seg(current.widget_id)}`, { silent: true });
    } catch (err) {
      if (!ctx.alive || seq !== statusSeq) return;
      liveStatus.dataset.online = 'unknown';
      delete liveStatus.dataset.nextOpenAt;
      replace(liveStatus, h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
        h('span', null, t('channels.chatStatusError'), ' ', h('span', { class: 'muted' }, describeProblem(err).title)));
      return;
    }
    if (!ctx.alive || seq !== statusSeq) return;
    liveStatus.dataset.online = w.online ? 'true' : 'false';
    if (w.next_open_at) liveStatus.dataset.nextOpenAt = w.next_open_at;
    else delete liveStatus.dataset.nextOpenAt;
    let text;
    if (w.online) {
      text = t('channels.chatStatusOnline');
    } else if (w.next_open_at) {
      text = t('channels.chatStatusOfflineNext', { time: formatDateTime(w.next_open_at) });
    } else {
      const hours = current.business_hours;
      text = hours && Object.keys(hours.days || {}).length === 0
        ? t('channels.chatStatusOfflineClosed')
        : t('channels.chatStatusOfflineNobody', { hours: w.reply_within_hours });
    }
    replace(liveStatus,
      h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'chat-live-text', testid: 'chat-live-text', title: w.next_open_at ? formatDateTimeFull(w.next_open_at) : null }, text));
  }
  const timer = setInterval(() => { if (!document.hidden) refreshStatus(); }, STATUS_REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));

  function render(s) {
    current = s;
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

    const { group: greeting, fields: greetingInputs } = perLanguageFields({
      name: 'greeting', testid: 'chat-greeting', legend: t('channels.chatGreeting'), hint: t('channels.chatGreetingHint'),
      placeholder: t('channels.chatGreetingPlaceholder'), values: s.greeting,
      max: GREETING_MAX, tooLong: t('channels.chatGreetingTooLong', { max: GREETING_MAX }),
    });
    const prechat = checkbox({
      name: 'prechat_form', label: t('channels.chatPrechat'), hint: t('channels.chatPrechatHint'),
      testid: 'chat-prechat', checked: !!s.prechat_form,
    });

    const hours = businessHoursFields(s.business_hours || null);
    const replyHours = field({
      name: 'reply_within_hours', label: t('channels.chatReplyHours'), type: 'number', testid: 'chat-reply-hours', required: true,
      value: String(s.reply_within_hours ?? REPLY_HOURS_DEFAULT), hint: t('channels.chatReplyHoursHint', { min: REPLY_HOURS_MIN, max: REPLY_HOURS_MAX }),
      inputmode: 'numeric', attrs: { min: REPLY_HOURS_MIN, max: REPLY_HOURS_MAX, step: 1 }, className: 'field-short',
      validate: (v) => {
        const n = Number(v.trim());
        return Number.isInteger(n) && n >= REPLY_HOURS_MIN && n <= REPLY_HOURS_MAX
          ? null : t('channels.chatReplyHoursRange', { min: REPLY_HOURS_MIN, max: REPLY_HOURS_MAX });
      },
    });
    const followUp = followUpFields(s.email_follow_up_minutes);
    const { group: offline, fields: offlineInputs } = perLanguageFields({
      name: 'offline_message', testid: 'chat-offline', legend: t('channels.chatOffline'), hint: t('channels.chatOfflineHint'),
      placeholder: t('channels.chatOfflinePlaceholder'), values: s.offline_message,
      max: OFFLINE_MAX, tooLong: t('channels.chatGreetingTooLong', { max: OFFLINE_MAX }),
    });

    const availabilityLegend = `chat-availability-${Math.random().toString(36).slice(2, 9)}`;
    const availability = h('fieldset', { class: 'fieldset', 'aria-labelledby': availabilityLegend, testid: 'chat-availability' },
      h('legend', { class: 'field-label', id: availabilityLegend }, t('channels.chatAvailability')),
      h('p', { class: 'field-hint' }, t('channels.chatAvailabilityHint')),
      liveStatus,
      hours.always.el,
      hours.schedule,
      replyHours.el);

    const key = field({
      name: 'jwt_public_key', label: t('channels.chatPublicKey'), type: 'textarea', rows: 5, optional: true,
      testid: 'chat-public-key', value: s.jwt_public_key || '', hint: t('channels.chatPublicKeyHint'),
      placeholder: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----',
      attrs: { spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off' },
    });
    key.input.classList.add('input-mono');

    const save = button(t('channels.chatSave'), { variant: 'primary', type: 'submit', testid: 'chat-settings-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'chat-settings-error' } });
    const form = h('form', { class: 'form form-narrow chat-settings-form', method: 'post', action: '#', testid: 'chat-settings-form' },
      alertSlot, widgetId, embedBlock(s.widget_id || ''), greeting.el, prechat.el, availability, followUp.el, offline.el, key.el,
      h('div', { class: 'button-row' }, save));
    bindForm(form, {
      fields: [...greetingInputs, greeting, ...hours.fields, replyHours, followUp.after, ...offlineInputs, offline, key],
      fieldMap: hours.fieldMap,
      submitButton: save, alertSlot,
      onSubmit: async () => {
        // PUT replaces the whole settings object: everything the card shows goes back.
        const saved = await api.put('/settings/chat', {
          greeting: greeting.value(),
          prechat_form: prechat.checked,
          jwt_public_key: key.value.trim() || null,
          business_hours: hours.value(),
          offline_message: offline.value(),
          reply_within_hours: Number(replyHours.value.trim()),
          email_follow_up_minutes: followUp.value(),
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
    refreshStatus();
  }

  api.get('/settings/chat').then((s) => { if (ctx.alive) render(s || {}); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
  return c;
}

export function channelsView(page, ctx) {
  page.replaceChildren(
    pageHeader(t('channels.title'), t('channels.description')),
    h('div', { class: 'stack' }, apiChannelCard(ctx), portalCard(ctx), chatCard(ctx)));
}
