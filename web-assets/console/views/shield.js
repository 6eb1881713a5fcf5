// The security shield (admins): the exchange's official channels (domains, e-mail addresses,
// Telegram accounts, phone numbers, agent ids), the other domains agents may link customers
// to, the patterns of the exchange's API secrets (redacted like keys), and a box to check a
// link or contact against them with the public verification service.

import {
  h, field, button, bindForm, toast, replace, spinner, problemAlert, alertBox, icon,
  clearProblem, showProblem, fieldErrorState, card,
} from '../../shared/ui.js';
import { api, ApiError } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { app } from '../context.js';
import { shieldReasonLabel } from '../inbox-common.js';

const LISTS = [
  { key: 'official_domains', testid: 'shield-official-domains', label: 'shield.field.officialDomains', hint: 'shield.hint.officialDomains' },
  { key: 'official_emails', testid: 'shield-official-emails', label: 'shield.field.officialEmails', hint: 'shield.hint.officialEmails' },
  { key: 'official_telegram', testid: 'shield-official-telegram', label: 'shield.field.officialTelegram', hint: 'shield.hint.officialTelegram' },
  { key: 'official_phones', testid: 'shield-official-phones', label: 'shield.field.officialPhones', hint: 'shield.hint.officialPhones' },
  { key: 'official_agent_ids', testid: 'shield-official-agent-ids', label: 'shield.field.officialAgentIds', hint: 'shield.hint.officialAgentIds' },
  { key: 'allowed_link_domains', testid: 'shield-allowed-link-domains', label: 'shield.field.allowedLinkDomains', hint: 'shield.hint.allowedLinkDomains' },
];

const KINDS = ['url', 'domain', 'email', 'telegram', 'phone', 'agent_id'];

function lines(v) {
  return String(v || '').split('\n').map((x) => x.trim()).filter(Boolean);
}

// --- Secret patterns: name + regular expression rows --------------------------------------------

function patternEditor(initial) {
  const rows = [];
  const list = h('ol', { class: 'action-list', testid: 'shield-patterns' });
  const empty = h('p', { class: 'muted small', testid: 'shield-patterns-empty' }, t('shield.patternsEmpty'));

  function sync() {
    empty.hidden = rows.length > 0;
  }

  function addRow(p, { focus = false } = {}) {
    const name = h('input', {
      type: 'text', class: 'input', testid: 'shield-pattern-name', maxlength: '100', autocomplete: 'off',
      placeholder: t('shield.patternNamePlaceholder'), 'aria-label': t('shield.patternName'), value: p.name || '',
    });
    const pattern = h('input', {
      type: 'text', class: 'input input-mono', testid: 'shield-pattern-regex', autocomplete: 'off', spellcheck: 'false',
      placeholder: t('shield.patternRegexPlaceholder'), 'aria-label': t('shield.patternRegex'), value: p.pattern || '',
    });
    const errorEl = h('p', { class: 'field-error shield-pattern-error', hidden: true, testid: 'shield-pattern-error' });
    const remove = h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm', testid: 'shield-pattern-remove', 'aria-label': t('shield.patternRemove'),
      title: t('shield.patternRemove'),
      onClick: () => {
        rows.splice(rows.indexOf(row), 1);
        row.el.remove();
        sync();
      },
    }, icon('trash'));
    const el = h('li', { class: 'action-row shield-pattern-row', testid: 'shield-pattern' }, name, pattern, remove, errorEl);
    const state = fieldErrorState(el, errorEl);
    const row = {
      el, name, pattern,
      input: name,
      setError(message) {
        state.setError(message);
        for (const inp of [name, pattern]) inp.setAttribute('aria-invalid', 'true');
      },
      clearError() {
        state.clearError();
        for (const inp of [name, pattern]) inp.removeAttribute('aria-invalid');
      },
      read: () => ({ name: name.value.trim(), pattern: pattern.value.trim() }),
    };
    for (const inp of [name, pattern]) inp.addEventListener('input', () => { if (el.classList.contains('has-error')) row.clearError(); });
    rows.push(row);
    list.append(el);
    sync();
    if (focus) name.focus();
  }

  for (const p of initial || []) addRow(p);
  sync();
  const add = button(t('shield.patternAdd'), {
    size: 'sm', iconName: 'plus', testid: 'shield-pattern-add', onClick: () => addRow({}, { focus: true }),
  });
  const legendId = `shield-patterns-legend-${Math.random().toString(36).slice(2, 9)}`;
  return {
    el: h('fieldset', { class: 'fieldset', 'aria-labelledby': legendId },
      h('legend', { class: 'field-label', id: legendId }, t('shield.patternsTitle')),
      h('p', { class: 'field-hint' }, t('shield.patternsHint')),
      list, empty, h('div', null, add)),
    rows,
    /** Rows with something in them, in order (empty rows are dropped). */
    filled: () => rows.filter((r) => {
      const v = r.read();
      return v.name || v.pattern;
    }),
  };
}

// --- The settings form ---------------------------------------------------------------------------

function settingsCard(ctx) {
  const slot = h('div', null, spinner());

  function render(s) {
    const fromEnv = !!s.domains_from_environment;
    const fields = LISTS.map((l) => {
      const env = fromEnv && l.key === 'official_domains';
      const f = field({
        name: l.key, type: 'textarea', rows: 4, label: t(l.label), hint: env ? t('shield.domainsFromEnvHint') : t(l.hint),
        testid: l.testid, value: (s[l.key] || []).join('\n'),
        attrs: { spellcheck: 'false', autocapitalize: 'none', readOnly: env, dataset: env ? { readonly: 'env' } : null },
      });
      f.input.classList.add('input-mono');
      return f;
    });
    const byKey = Object.fromEntries(LISTS.map((l, i) => [l.key, fields[i]]));
    const patterns = patternEditor(s.secret_patterns || []);
    const save = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'shield-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'shield-error' } });
    const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'shield-settings-form' },
      alertSlot,
      fromEnv ? alertBox('info', null, t('shield.domainsFromEnv'), { testid: 'shield-domains-env-note' }) : null,
      h('div', { class: 'grid-2' }, fields.slice(0, 5).map((f) => f.el)),
      byKey.allowed_link_domains.el,
      patterns.el,
      h('div', { class: 'button-row' }, save));

    let sent = [];
    bindForm(form, {
      fields, submitButton: save, alertSlot,
      validate: () => {
        let ok = true;
        for (const r of patterns.rows) r.clearError();
        for (const r of patterns.filled()) {
          const v = r.read();
          if (!v.name || !v.pattern) {
            r.setError(t('shield.patternIncomplete'));
            if (ok) (v.name ? r.pattern : r.name).focus();
            ok = false;
          }
        }
        return ok;
      },
      onSubmit: async () => {
        sent = patterns.filled();
        const payload = {};
        for (const l of LISTS) payload[l.key] = lines(byKey[l.key].value);
        payload.secret_patterns = sent.map((r) => r.read());
        let saved;
        try {
          saved = await api.put('/shield/settings', payload);
        } catch (err) {
          // Field errors name the list (official_telegram, official_domains[2]) or the pattern
          // row (secret_patterns[0]).
          if (err instanceof ApiError && err.status === 422) {
            const map = {};
            for (const [f] of err.fieldErrors()) {
              const row = f.match(/^secret_patterns\[(\d+)\]/);
              if (row) {
                if (sent[Number(row[1])]) map[f] = sent[Number(row[1])];
              } else {
                const list = f.match(/^([a-z_]+)/);
                if (list && byKey[list[1]]) map[f] = byKey[list[1]];
              }
            }
            clearProblem({ fields: [...fields, ...patterns.rows], alertSlot });
            showProblem(err, { fields, alertSlot, fieldMap: map });
            return;
          }
          throw err;
        }
        if (!ctx.alive) return;
        toast(t('shield.saved'));
        if (saved && typeof saved === 'object' && Array.isArray(saved.official_domains)) render(saved);
      },
    });
    replace(slot, form);
  }

  let gen = 0;
  async function load() {
    const mine = ++gen;
    replace(slot, spinner());
    try {
      const s = await api.get('/shield/settings');
      if (!ctx.alive || mine !== gen) return;
      render(s || {});
    } catch (err) {
      if (ctx.alive && mine === gen) replace(slot, problemAlert(err, 'shield-load-error'));
    }
  }

  load();
  return card({ title: t('shield.settingsTitle'), description: t('shield.settingsDescription'), testid: 'shield-settings-card' }, slot);
}

// --- Check a link or contact ------------------------------------------------------------------------

function kindLabel(kind) {
  return KINDS.includes(kind) ? t(`shield.kind.${kind}`) : kind || '';
}

/** The verdict on one query: official (green), lookalike (red), unknown (amber). */
export function verdictAlert(v) {
  const q = v.query || '';
  const kind = kindLabel(v.kind);
  let el;
  if (v.verdict === 'official') {
    el = alertBox('success', t('shield.verify.official', { q }), t('shield.verify.officialDetail', { kind }));
  } else if (v.verdict === 'lookalike') {
    el = alertBox('error', t('shield.verify.lookalike', { q, of: v.lookalike_of || '?' }),
      v.reason ? t('shield.verify.reason', { reason: shieldReasonLabel(v.reason) }) : null);
  } else {
    el = alertBox('warning', t('shield.verify.unknown', { q }),
      v.reason === 'shortener' ? t('shield.verify.shortener') : t('shield.verify.unknownDetail', { kind }));
  }
  return el;
}

function verifyCard(ctx) {
  const q = field({
    name: 'q', label: t('shield.verify.label'), hint: t('shield.verify.hint'), testid: 'shield-verify-input',
    placeholder: t('shield.verify.placeholder'), autocomplete: 'off', required: true, maxLength: 500,
    attrs: { spellcheck: 'false', autocapitalize: 'none' },
  });
  const check = button(t('shield.verify.check'), { variant: 'primary', type: 'submit', testid: 'shield-verify-submit', iconName: 'shield' });
  // The button sits next to the input; label, hint and error stay where field() puts them.
  const row = h('div', { class: 'shield-verify-row' });
  q.input.replaceWith(row);
  row.append(q.input, check);
  const result = h('div', { class: 'shield-verify-result', testid: 'shield-verify-result', 'aria-live': 'polite' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'shield-verify-form' }, alertSlot, q.el, result);

  let gen = 0;
  bindForm(form, {
    fields: [q], submitButton: check, alertSlot,
    onSubmit: async () => {
      const mine = ++gen;
      replace(result);
      delete result.dataset.verdict;
      let v;
      try {
        v = await api.get('/verify', { query: { q: q.value.trim() } });
      } catch (err) {
        if (!ctx.alive || mine !== gen) return;
        throw err;
      }
      if (!ctx.alive || mine !== gen) return;
      Object.assign(result.dataset, {
        verdict: v.verdict || '', kind: v.kind || '', reason: v.reason || '', lookalikeOf: v.lookalike_of || '',
      });
      replace(result, verdictAlert(v));
    },
  });
  q.input.addEventListener('input', () => {
    if (!result.firstChild) return;
    replace(result);
    delete result.dataset.verdict;
  });

  return card({ title: t('shield.verify.title'), description: t('shield.verify.description'), testid: 'shield-verify-card' }, form);
}

// --- The page --------------------------------------------------------------------------------------

export function shieldView(page, ctx) {
  if (!app.isAdmin()) {
    replace(page, pageHeader(t('shield.title')), alertBox('warning', t('forbidden.title'), t('forbidden.message'), { testid: 'shield-forbidden' }));
    return;
  }
  replace(page,
    pageHeader(t('shield.title'), t('shield.description')),
    h('div', { class: 'stack' }, settingsCard(ctx), verifyCard(ctx)));
}
