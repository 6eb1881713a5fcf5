// The support bot in the console: analytics (supervisors and admins), a
// playground to try the bot (every agent), training examples and settings
// (admins).

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog, replace,
  spinner, problemAlert, timeCell, alertBox, withBusy, emptyState, checkbox, clearProblem, showProblem,
} from '../../shared/ui.js';
import { api, seg, ApiError } from '../../shared/api.js';
import { t, formatNumber, getLanguage } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { app } from '../context.js';
import { isSupervisor, conversationPath } from '../inbox-common.js';

const BOT_BASE = '/console/bot';

export const BOT_INTENTS = [
  'account_register', 'account_login', 'password_reset', 'account_locked', 'twofa_reset', 'kyc_verification',
  'deposit_missing', 'deposit_wrong_network', 'withdrawal_pending', 'withdrawal_failed', 'withdrawal_limit',
  'trade_failed', 'fees', 'p2p_dispute', 'api_keys', 'futures_liquidation', 'phishing_report', 'security_hacked',
  'anti_phishing_code', 'official_verify', 'staking_earn', 'promotions_rewards', 'tax_statement', 'close_account',
  'complaint', 'feedback_suggestion', 'talk_to_human', 'greeting', 'thanks_bye', 'out_of_scope',
];
const BOT_LANGS = ['en', 'zh-CN', 'zh-TW'];
const DAY_CHOICES = [7, 30, 90];

function header(description, actions) {
  return pageHeader(t('nav.bot'), description, actions);
}

function botTabs(active) {
  const tabs = [
    { key: 'analytics', href: BOT_BASE, label: t('bot.tab.analytics'), manager: true },
    { key: 'try', href: `${BOT_BASE}/try`, label: t('bot.tab.try') },
    { key: 'training', href: `${BOT_BASE}/training`, label: t('bot.tab.training'), admin: true },
    { key: 'settings', href: `${BOT_BASE}/settings`, label: t('bot.tab.settings'), admin: true },
  ].filter((x) => (!x.manager || isSupervisor()) && (!x.admin || app.isAdmin()));
  return h('nav', { class: 'kb-tabs', 'aria-label': t('bot.tabsLabel'), testid: 'bot-tabs' },
    tabs.map((x) => h('a', {
      href: x.href, 'data-route': '', class: ['kb-tab', x.key === active && 'is-active'],
      testid: `bot-tab-${x.key}`, 'aria-current': x.key === active ? 'page' : null,
    }, x.label)));
}

function pct(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(getLanguage(), { style: 'percent', maximumFractionDigits: 1 }).format(n);
}

function langLabel(l) {
  return { en: 'English', 'zh-CN': '简体中文', 'zh-TW': '繁體中文' }[l] || l || '—';
}

function intentSelect({ value, testid, name = 'intent', label }) {
  return field({
    name, type: 'select', label: label || t('bot.field.intent'), testid, value: value || '',
    options: [{ value: '', label: t('bot.pickIntent') }, ...BOT_INTENTS.map((i) => ({ value: i, label: i }))],
    required: true,
  });
}

function forbidden(page, active, message) {
  replace(page, header(null), botTabs(active),
    alertBox('warning', t('forbidden.title'), message, { testid: 'bot-forbidden' }));
}

// --- Analytics ----------------------------------------------------------------------------------------

function stat(label, value, testid) {
  return h('div', { class: 'kb-stat', testid },
    h('span', { class: 'kb-stat-label' }, label),
    h('span', { class: 'kb-stat-value', testid: `${testid}-value` }, value));
}

function countList(items, testid, empty) {
  if (!items || !items.length) return emptyState(empty, `${testid}-empty`);
  return h('ul', { class: 'bot-count-list', testid }, items.map((x) => h('li', { testid: `${testid}-item`, dataset: { name: x.name } },
    h('span', { class: 'bot-count-name' }, x.name), h('span', { class: 'bot-count-value strong' }, formatNumber(x.count)))));
}

function addExampleControl(r) {
  const select = h('select', { class: 'input select select-sm', testid: 'bot-unanswered-intent', 'aria-label': t('bot.field.intent') },
    h('option', { value: '' }, t('bot.pickIntent')),
    BOT_INTENTS.map((i) => h('option', { value: i, selected: i === r.intent }, i)));
  const save = button(t('bot.analytics.addExample'), { size: 'sm', testid: 'bot-unanswered-add' });
  const wrap = h('div', { class: 'bot-add-example' }, select, save);
  save.addEventListener('click', async () => {
    if (!select.value) { select.focus(); return; }
    await withBusy(save, async () => {
      try {
        await api.post('/bot/examples', { text: r.text, intent: select.value, lang: BOT_LANGS.includes(r.language) ? r.language : 'en' });
        replace(wrap, badge(t('bot.analytics.added'), 'success', { testid: 'bot-unanswered-added' }));
        toast(t('bot.examples.added'));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'example_taken') {
          replace(wrap, badge(t('bot.examples.taken'), 'neutral'));
          return;
        }
        toastProblem(err);
      }
    });
  });
  return wrap;
}

export function botAnalyticsView(page, ctx) {
  if (!isSupervisor()) {
    botTryView(page, ctx);
    return;
  }
  let days = Number.parseInt(ctx.query.get('days'), 10);
  if (!DAY_CHOICES.includes(days)) days = 30;
  const slot = h('div', { class: 'stack', testid: 'bot-analytics' }, spinner());
  const daysSel = h('select', {
    class: 'input select select-sm', testid: 'bot-analytics-days', id: 'bot-analytics-days',
    onChange: () => {
      days = Number(daysSel.value);
      window.history.replaceState(null, '', `${window.location.pathname}?days=${days}`);
      load();
    },
  }, DAY_CHOICES.map((d) => h('option', { value: String(d), selected: d === days }, t('kb.analytics.lastDays', { n: d }))));

  const cardOf = (title, body, testid) => h('section', { class: 'card card-flush', testid },
    h('header', { class: 'card-header' }, h('div', { class: 'card-heading' }, h('h2', { class: 'card-title' }, title))),
    h('div', { class: 'kb-card-table' }, body));

  function render(a) {
    const admin = app.isAdmin();
    const unanswered = table({
      testid: 'bot-unanswered', caption: t('bot.analytics.unanswered'), empty: t('bot.analytics.noUnanswered'),
      rows: a.unanswered || [],
      rowProps: (r) => ({ testid: 'bot-unanswered-row', dataset: { id: r.message_id } }),
      columns: [
        { label: t('bot.analytics.message'), render: (r) => h('span', { class: 'prewrap' }, r.text) },
        {
          label: t('bot.analytics.bestGuess'), className: 'cell-nowrap',
          render: (r) => h('span', { class: 'cell-stack-vertical' }, h('code', null, r.intent || '—'), h('span', { class: 'muted small' }, pct(r.confidence))),
        },
        { label: t('bot.field.lang'), className: 'cell-nowrap', render: (r) => langLabel(r.language) },
        { label: t('bot.analytics.reason'), className: 'cell-nowrap', render: (r) => r.reason },
        { label: t('bot.analytics.when'), className: 'cell-nowrap', render: (r) => timeCell(r.created_at) },
        {
          label: t('bot.analytics.conversation'), className: 'cell-nowrap',
          render: (r) => h('a', { href: conversationPath({ number: r.number, id: r.conversation_id }), 'data-route': '', class: 'link', testid: 'bot-unanswered-link' },
            r.number ? `#${r.number}` : t('bot.analytics.open')),
        },
        admin ? { label: t('bot.analytics.addExample'), render: addExampleControl } : null,
      ].filter(Boolean),
    });
    replace(slot,
      h('div', { class: 'kb-stats', testid: 'bot-analytics-totals' },
        stat(t('bot.analytics.conversations'), formatNumber(a.conversations), 'bot-stat-conversations'),
        stat(t('bot.analytics.containmentRate'), pct(a.containment_rate), 'bot-stat-containment'),
        stat(t('bot.analytics.handoffRate'), pct(a.handoff_rate), 'bot-stat-handoff')),
      h('div', { class: 'kb-stats' },
        stat(t('bot.analytics.contained'), formatNumber(a.contained), 'bot-stat-contained'),
        stat(t('bot.analytics.handedOff'), formatNumber(a.handed_off), 'bot-stat-handed-off'),
        stat(t('bot.analytics.takenByAgent'), formatNumber(a.taken_by_agent), 'bot-stat-taken'),
        stat(t('bot.analytics.active'), formatNumber(a.active), 'bot-stat-active')),
      h('div', { class: 'grid-2 kb-analytics-grid' },
        cardOf(t('bot.analytics.handoffReasons'), countList(a.handoff_reasons, 'bot-handoff-reasons', t('bot.analytics.none')), 'bot-handoff-reasons-card'),
        cardOf(t('bot.analytics.topIntents'), countList(a.top_intents, 'bot-top-intents', t('bot.analytics.none')), 'bot-top-intents-card')),
      cardOf(t('bot.analytics.unansweredCount', { n: formatNumber(a.unanswered_messages || 0), total: formatNumber(a.messages || 0) }),
        unanswered.el, 'bot-unanswered-card'));
  }

  let gen = 0;
  async function load() {
    const mine = ++gen;
    replace(slot, spinner());
    try {
      const a = await api.get('/bot/analytics', { query: { days } });
      if (!ctx.alive || mine !== gen) return;
      render(a);
    } catch (err) {
      if (ctx.alive && mine === gen) replace(slot, problemAlert(err, 'bot-analytics-error'));
    }
  }

  replace(page,
    header(t('bot.analytics.description'),
      h('label', { class: 'kb-days', htmlFor: 'bot-analytics-days' }, h('span', { class: 'muted small' }, t('kb.analytics.period')), daysSel)),
    botTabs('analytics'),
    slot);
  load();
}

// --- Try ----------------------------------------------------------------------------------------------

export function botTryView(page, ctx) {
  let state = null;
  let busy = false;
  const log = h('ol', { class: 'bot-try-log', testid: 'bot-try-messages', 'aria-live': 'polite' });
  const info = h('div', { class: 'bot-try-info', testid: 'bot-try-info' });
  const input = h('input', {
    type: 'text', class: 'input', testid: 'bot-try-input', maxlength: '2000', autocomplete: 'off',
    placeholder: t('bot.try.placeholder'), 'aria-label': t('bot.try.placeholder'),
  });
  const send = button(t('bot.try.send'), { variant: 'primary', type: 'submit', testid: 'bot-try-send' });
  const vip = checkbox({ name: 'vip', label: t('bot.try.vip'), testid: 'bot-try-vip' });
  const reset = button(t('bot.try.startOver'), {
    testid: 'bot-try-reset',
    onClick: () => {
      state = null;
      log.replaceChildren();
      info.replaceChildren();
      input.focus();
    },
  });

  function scroll() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(who, text, extra) {
    return h('li', { class: ['bot-try-msg', `bot-try-${who}`], testid: `bot-try-${who}` },
      h('div', { class: 'bot-try-bubble prewrap' }, text), extra);
  }

  function removeButtons() {
    for (const el of log.querySelectorAll('.bot-try-buttons')) el.remove();
  }

  async function say(text) {
    text = String(text || '').trim();
    if (!text || busy) return;
    busy = true;
    removeButtons();
    log.append(bubble('customer', text));
    scroll();
    const body = { text };
    if (state) body.state = state;
    if (vip.checked) body.vip = true;
    try {
      const res = await withBusy(send, () => api.post('/bot/try', body));
      if (!ctx.alive) return;
      state = res.state || null;
      const msgs = res.messages || [];
      msgs.forEach((m, i) => {
        const a = m.actions || {};
        const extra = [];
        if (a.article) {
          extra.push(h('a', {
            class: 'bot-try-article link', href: a.article.url, target: '_blank', rel: 'noopener', testid: 'bot-try-article',
          }, a.article.title || a.article.url));
        }
        if (a.buttons && a.buttons.length && i === msgs.length - 1) {
          extra.push(h('div', { class: 'bot-try-buttons', testid: 'bot-try-buttons' }, a.buttons.map((b) => h('button', {
            type: 'button', class: 'btn btn-secondary btn-sm', testid: 'bot-try-button', onClick: () => say(b),
          }, b))));
        }
        log.append(bubble('bot', m.text, extra));
      });
      if (res.handoff) {
        log.append(h('li', { class: 'bot-try-msg bot-try-system', testid: 'bot-try-handoff' },
          alertBox('warning', t('bot.try.handoff', { reason: res.handoff.reason }), res.handoff.summary || '')));
      }
      const c = res.classification || {};
      info.replaceChildren(h('dl', { class: 'bot-try-dl' },
        h('dt', null, t('bot.field.intent')), h('dd', { testid: 'bot-try-intent' }, h('code', null, c.intent || '—')),
        h('dt', null, t('bot.try.confidence')), h('dd', { testid: 'bot-try-confidence' }, pct(c.confidence)),
        h('dt', null, t('bot.field.lang')), h('dd', { testid: 'bot-try-language' }, langLabel(c.language)),
        h('dt', null, t('bot.try.outcome')), h('dd', { testid: 'bot-try-outcome' }, res.outcome || '—'),
        res.resolved ? [h('dt', null, t('bot.try.resolved')), h('dd', null, '✓')] : null,
        h('dt', null, t('bot.try.took')), h('dd', null, `${formatNumber(Math.round(res.took_ms || 0))} ms`)),
        (c.ranked || []).length ? h('ul', { class: 'bot-try-ranked muted small', testid: 'bot-try-ranked' },
          c.ranked.map((r) => h('li', null, h('code', null, r.intent), ` ${pct(r.confidence)}`))) : null);
      scroll();
    } catch (err) {
      if (ctx.alive) log.append(h('li', { class: 'bot-try-msg bot-try-system' }, problemAlert(err, 'bot-try-error')));
    } finally {
      busy = false;
    }
  }

  const form = h('form', { class: 'bot-try-form', method: 'post', action: '#', testid: 'bot-try-form' }, input, send);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    input.value = '';
    say(text);
  });

  replace(page,
    header(t('bot.try.description')),
    botTabs('try'),
    h('div', { class: 'bot-try' },
      h('section', { class: 'card bot-try-chat' }, h('div', { class: 'card-body stack' },
        log, form, h('div', { class: 'button-row' }, vip.el, reset))),
      h('section', { class: 'card bot-try-side' }, h('div', { class: 'card-body' },
        h('h2', { class: 'card-title' }, t('bot.try.classification')), info))));
  input.focus();
}

// --- Training -----------------------------------------------------------------------------------------

export function botTrainingView(page, ctx) {
  if (!app.isAdmin()) {
    forbidden(page, 'training', t('forbidden.message'));
    return;
  }
  const listSlot = h('div', { testid: 'bot-examples-list' }, spinner());
  const reportSlot = h('div', { testid: 'bot-train-report' });

  async function remove(x) {
    const ok = await confirmDialog({
      title: t('bot.examples.deleteTitle'), message: x.text, confirmLabel: t('bot.examples.delete'), danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/bot/examples/${seg(x.id)}`);
      toast(t('bot.examples.deleted'));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  async function load() {
    try {
      const res = await api.get('/bot/examples');
      if (!ctx.alive) return;
      replace(listSlot, table({
        testid: 'bot-examples-table', caption: t('bot.examples.title'), empty: t('bot.examples.empty'),
        rows: (res && res.items) || [],
        rowProps: (x) => ({ testid: 'bot-example-row', dataset: { id: x.id, intent: x.intent } }),
        columns: [
          { label: t('bot.field.text'), render: (x) => h('span', { class: 'prewrap' }, x.text) },
          { label: t('bot.field.intent'), className: 'cell-nowrap', render: (x) => h('code', null, x.intent) },
          { label: t('bot.field.lang'), className: 'cell-nowrap', render: (x) => langLabel(x.lang) },
          { label: t('bot.examples.addedAt'), className: 'cell-nowrap', render: (x) => timeCell(x.created_at) },
          {
            label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
            render: (x) => button(t('bot.examples.delete'), { size: 'sm', variant: 'danger', testid: 'bot-example-delete', onClick: () => remove(x) }),
          },
        ],
      }).el);
    } catch (err) {
      if (ctx.alive) replace(listSlot, problemAlert(err));
    }
  }

  const text = field({ name: 'text', type: 'textarea', rows: 2, label: t('bot.field.text'), testid: 'bot-example-text', required: true });
  const intent = intentSelect({ testid: 'bot-example-intent' });
  const lang = field({
    name: 'lang', type: 'select', label: t('bot.field.lang'), testid: 'bot-example-lang', value: getLanguage(),
    options: BOT_LANGS.map((l) => ({ value: l, label: langLabel(l) })),
  });
  const submit = button(t('bot.examples.add'), { variant: 'primary', type: 'submit', testid: 'bot-example-submit' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'bot-example-form' },
    alertSlot, text.el, h('div', { class: 'grid-2' }, intent.el, lang.el), h('div', { class: 'button-row' }, submit));
  bindForm(form, {
    fields: [text, intent, lang], submitButton: submit, alertSlot,
    onSubmit: async () => {
      try {
        await api.post('/bot/examples', { text: text.value.trim(), intent: intent.value, lang: lang.value });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'example_taken') {
          text.setError(t('bot.examples.taken'));
          text.input.focus();
          return;
        }
        throw err;
      }
      text.value = '';
      toast(t('bot.examples.added'));
      load();
    },
  });

  const train = button(t('bot.train.now'), {
    variant: 'primary', testid: 'bot-train',
    onClick: () => withBusy(train, async () => {
      try {
        const r = await api.post('/bot/train', {});
        if (!ctx.alive) return;
        replace(reportSlot, alertBox('success', t('bot.train.done'), t('bot.train.report', {
          examples: formatNumber(r.examples), added: formatNumber(r.added_examples), intents: formatNumber(r.intents),
          ms: formatNumber(Math.round(r.took_ms || 0)),
        }), { testid: 'bot-train-done' }));
      } catch (err) {
        if (ctx.alive) replace(reportSlot, problemAlert(err, 'bot-train-error'));
      }
    }),
  });

  replace(page,
    header(t('bot.examples.description'), train),
    botTabs('training'),
    reportSlot,
    h('section', { class: 'card' }, h('div', { class: 'card-body' },
      h('h2', { class: 'card-title' }, t('bot.examples.new')), form)),
    h('section', { class: 'card card-flush' },
      h('header', { class: 'card-header' }, h('div', { class: 'card-heading' }, h('h2', { class: 'card-title' }, t('bot.examples.title')))),
      listSlot));
  load();
}

// --- Settings -----------------------------------------------------------------------------------------

export function botSettingsView(page, ctx) {
  if (!app.isAdmin()) {
    forbidden(page, 'settings', t('forbidden.message'));
    return;
  }
  const slot = h('div', null, spinner());

  function render(s) {
    const enabled = checkbox({ name: 'enabled', label: t('bot.settings.enabled'), hint: t('bot.settings.enabledHint'), testid: 'bot-settings-enabled', checked: s.enabled });
    const name = field({ name: 'name', label: t('bot.settings.name'), testid: 'bot-settings-name', value: s.name || '', required: true, maxLength: 60 });
    const threshold = field({
      name: 'threshold', type: 'number', label: t('bot.settings.threshold'), hint: t('bot.settings.thresholdHint'),
      testid: 'bot-settings-threshold', value: String(s.threshold ?? 0.4), attrs: { step: '0.05', min: '0.1', max: '0.9' },
    });
    const channels = field({
      name: 'official_channels', type: 'textarea', rows: 4, label: t('bot.settings.channels'), hint: t('bot.settings.channelsHint'),
      testid: 'bot-settings-channels', value: (s.official_channels || []).join('\n'),
    });
    const generated = checkbox({ name: 'generated_answers', label: t('bot.settings.generated'), hint: t('bot.settings.generatedHint'), testid: 'bot-settings-generated', checked: s.generated_answers });
    const save = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'bot-settings-save' });
    const alertSlot = h('div', { class: 'form-alert' });
    alertSlot.dataset.alertTestid = 'bot-settings-error';
    const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'bot-settings-form' },
      alertSlot, enabled.el, name.el, threshold.el, channels.el, generated.el, h('div', { class: 'button-row' }, save));
    const fields = [name, threshold, channels];
    bindForm(form, {
      fields, submitButton: save, alertSlot,
      fieldMap: { official_channels: channels },
      onSubmit: async () => {
        const payload = {
          enabled: enabled.checked,
          name: name.value.trim(),
          threshold: Number(threshold.value),
          official_channels: channels.value.split('\n').map((x) => x.trim()).filter(Boolean),
          generated_answers: generated.checked,
        };
        let saved;
        try {
          saved = await api.put('/bot/settings', payload);
        } catch (err) {
          // Field errors for list items (official_channels[2]) go to the textarea.
          if (err instanceof ApiError && err.status === 422) {
            const map = { official_channels: channels };
            for (const [f] of err.fieldErrors()) if (/^official_channels\b/.test(f)) map[f] = channels;
            clearProblem({ fields, alertSlot });
            showProblem(err, { fields, alertSlot, fieldMap: map });
            return;
          }
          throw err;
        }
        if (!ctx.alive) return;
        toast(t('bot.settings.saved'));
        if (saved && typeof saved === 'object' && 'enabled' in saved) render(saved);
      },
    });
    replace(slot, form);
  }

  async function load() {
    try {
      const s = await api.get('/bot/settings');
      if (ctx.alive) render(s);
    } catch (err) {
      if (ctx.alive) replace(slot, problemAlert(err, 'bot-settings-load-error'));
    }
  }

  replace(page,
    header(t('bot.settings.description')),
    botTabs('settings'),
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, slot)));
  load();
}
