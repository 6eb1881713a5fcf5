// Contacts, shared by the contact pages and the conversation sidebar: the
// profile summary (identities, VIP tier, KYC level, tags, attributes), the
// edit dialog (PATCH /contacts/{id}), the path of a contact's page, and the
// data-protection actions: e-mails and phones (and the unverified e-mail a
// chat visitor typed, `unverified_email`) arrive partly masked
// (`pii_masked`); agents whose role grants full view (`session.pii_full_view`)
// may reveal them (POST /contacts/{id}/reveal) and export everything held
// about the customer (GET /contacts/{id}/export); admins may erase a
// customer (POST /contacts/{id}/erase). The server audits each of these.

import {
  h, field, button, bindForm, toast, toastProblem, openModal, badge, icon, fieldErrorState, alertBox, withBusy, downloadText,
} from '../shared/ui.js';
import { api, seg } from '../shared/api.js';
import { t } from '../shared/i18n.js';
import { app } from './context.js';
import { LOCALES, localeLabel } from './inbox-common.js';

export function contactPath(c) {
  return `/console/contacts/${encodeURIComponent(typeof c === 'string' ? c : c.id)}`;
}

/** Every channel identity of a contact as [{ kind, value }], in a stable order. */
export function identitiesOf(c) {
  const out = [];
  for (const e of c.emails || []) out.push({ kind: 'email', value: e });
  for (const p of c.phones || []) out.push({ kind: 'phone', value: p });
  if (c.exchange_user_id) out.push({ kind: 'exchange_user', value: c.exchange_user_id });
  if (c.telegram_id) out.push({ kind: 'telegram', value: c.telegram_id });
  return out;
}

export function identityKey(i) {
  return `${i.kind}:${i.value}`;
}

/** "a@example.com · +8613800000000 · uid 123" for lists. */
export function identitySummary(c) {
  return identitiesOf(c).map((i) => i.value).join(' · ');
}

// --- Masked e-mails and phones -----------------------------------------------------------------

/** True when some of the contact's e-mails or phones are shown partly masked. */
export function isMasked(c) {
  return !!(c && c.pii_masked && ((c.emails || []).length || (c.phones || []).length));
}

/** True when something of the contact is shown partly masked: e-mails, phones or the unverified e-mail. */
export function hasMaskedDetails(c) {
  return isMasked(c) || !!(c && c.pii_masked && c.unverified_email);
}

/** True when this identity of the contact is shown masked (e-mails and phones only). */
export function isMaskedIdentity(c, i) {
  return !!(c && c.pii_masked && (i.kind === 'email' || i.kind === 'phone'));
}

/** Whether the signed-in agent's role may see customers' e-mails and phones in full (and export). */
export function canViewFullPii() {
  return !!(app.session && app.session.pii_full_view);
}

/** Whether the signed-in agent may erase customers (admins). */
export function canEraseContact() {
  return app.isAdmin();
}

/** The small "masked" hint shown next to a masked value (or a list of them). */
export function maskedHint({ testid = 'contact-masked-hint' } = {}) {
  return badge(t('contact.masked'), 'neutral', { class: 'badge-compact pii-masked-hint', testid, title: t('contact.maskedHint') });
}

export function vipBadge(c) {
  return c.vip_tier ? badge(t('contact.vipValue', { n: c.vip_tier }), 'brand', { testid: 'contact-vip-badge' }) : null;
}

export function tagPills(tags) {
  return tags && tags.length ? h('span', { class: 'badge-list' }, tags.map((x) => h('span', { class: 'tag-pill' }, `#${x}`))) : null;
}

/** An attribute value as text: strings as they are, numbers and booleans written out. */
export function attributeText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

/**
 * The value to send for an attribute typed as `text`. A number or boolean
 * keeps its type while the text still reads as one; everything else is a string.
 */
function attributeValue(text, original) {
  const s = text.trim();
  if (typeof original === 'number' && s !== '' && Number.isFinite(Number(s))) return Number(s);
  if (typeof original === 'boolean' && (s === 'true' || s === 'false')) return s === 'true';
  if (original === null && s === '') return null;
  return text;
}

/** An editable list of custom attributes (key / value rows), usable as a form field. */
function attributesEditor(attributes) {
  const rows = [];
  const list = h('div', { class: 'attr-rows', testid: 'contact-form-attrs' });
  const errorEl = h('p', { class: 'field-error', hidden: true, testid: 'contact-form-attrs-error' });
  const legendId = `attrs-${Math.random().toString(36).slice(2, 9)}`;

  function addRow(key = '', value = '', original) {
    const keyInput = h('input', {
      class: 'input input-sm', testid: 'contact-form-attr-key', value: key, autocomplete: 'off',
      'aria-label': t('contact.attributeKey'), placeholder: t('contact.attributeKey'), maxlength: 64,
    });
    const valueInput = h('input', {
      class: 'input input-sm', testid: 'contact-form-attr-value', value: attributeText(value), autocomplete: 'off',
      'aria-label': t('contact.attributeValue'), placeholder: t('contact.attributeValue'),
    });
    const row = { keyInput, valueInput, original, el: null };
    const remove = h('button', {
      type: 'button', class: 'chip-remove attr-remove', testid: 'contact-form-attr-remove',
      'aria-label': t('contact.removeAttribute', { key: key || t('contact.attributeKey') }),
      onClick: () => {
        rows.splice(rows.indexOf(row), 1);
        row.el.remove();
        clearError();
      },
    }, icon('x'));
    row.el = h('div', { class: 'attr-row', testid: 'contact-form-attr-row', dataset: { key: key || null } }, keyInput, valueInput, remove);
    for (const input of [keyInput, valueInput]) input.addEventListener('input', () => clearError());
    rows.push(row);
    list.append(row.el);
    return row;
  }

  for (const [k, v] of Object.entries(attributes || {})) addRow(k, v, v);

  const add = button(t('contact.addAttribute'), {
    size: 'sm', variant: 'ghost', iconName: 'plus', testid: 'contact-form-attr-add',
    onClick: () => addRow().keyInput.focus(),
  });
  const el = h('fieldset', { class: 'fieldset attr-editor', 'aria-labelledby': legendId },
    h('legend', { class: 'field-label', id: legendId }, t('contact.attributes')),
    h('p', { class: 'field-hint' }, t('contact.attributesHint')),
    list, errorEl, h('div', null, add));

  const { setError, clearError } = fieldErrorState(el, errorEl);
  function validate() {
    const seen = new Set();
    for (const r of rows) {
      const k = r.keyInput.value.trim();
      if (!k && !r.valueInput.value.trim()) continue;
      if (!k) { setError(t('contact.attributeKeyRequired')); r.keyInput.focus(); return false; }
      if (seen.has(k)) { setError(t('contact.attributeKeyDuplicate', { key: k })); r.keyInput.focus(); return false; }
      seen.add(k);
    }
    return true;
  }
  /** The attributes as an object for the API. */
  function value() {
    const out = {};
    for (const r of rows) {
      const k = r.keyInput.value.trim();
      if (!k) continue;
      out[k] = attributeValue(r.valueInput.value, r.original);
    }
    return out;
  }
  // `input` is what showProblem focuses on a server field error.
  return { el, name: 'attributes', setError, clearError, validate, value, get input() { return (rows[0] && rows[0].keyInput) || add; } };
}

/**
 * The dialog editing a contact's profile, identities, tiers, tags,
 * attributes and notes. `onSaved(updated)` runs after a successful PATCH.
 */
export function contactEditModal({ contact: c, onSaved }) {
  const name = field({ name: 'name', label: t('contact.name'), testid: 'contact-form-name', value: c.name || '', required: true });
  // Masked values sent back unchanged keep the real ones on the server.
  const listHint = isMasked(c) ? `${t('contact.listHint')} ${t('contact.maskedEditHint')}` : t('contact.listHint');
  const emails = field({ name: 'emails', label: t('contact.emails'), testid: 'contact-form-emails', value: (c.emails || []).join(', '), hint: listHint });
  const phones = field({ name: 'phones', label: t('contact.phones'), testid: 'contact-form-phones', value: (c.phones || []).join(', '), hint: listHint });
  const uid = field({ name: 'exchange_user_id', label: t('contact.exchangeUserId'), testid: 'contact-form-uid', value: c.exchange_user_id || '' });
  const telegram = field({ name: 'telegram_id', label: t('contact.telegramId'), testid: 'contact-form-telegram', value: c.telegram_id || '' });
  const vip = field({ name: 'vip_tier', type: 'number', label: t('contact.vipTier'), testid: 'contact-form-vip', value: String(c.vip_tier || 0), attrs: { min: 0, max: 10 } });
  const kyc = field({ name: 'kyc_level', type: 'number', label: t('contact.kycLevel'), testid: 'contact-form-kyc', value: String(c.kyc_level || 0), attrs: { min: 0, max: 10 } });
  const lang = field({
    name: 'language', type: 'select', label: t('contact.language'), testid: 'contact-form-language', value: c.language || '',
    options: [{ value: '', label: t('common.none') }, ...LOCALES.map((l) => ({ value: l, label: localeLabel(l) }))],
  });
  const tags = field({ name: 'tags', label: t('contact.tags'), testid: 'contact-form-tags', value: (c.tags || []).join(', '), hint: t('contact.listHint') });
  const attrs = attributesEditor(c.attributes);
  const notes = field({ name: 'notes', type: 'textarea', label: t('contact.notes'), testid: 'contact-form-notes', value: c.notes || '', rows: 4 });
  const submit = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'contact-form-submit' });
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'contact-form-error' } });
  const split = (v) => v.split(/[,，;\n]+/).map((x) => x.trim()).filter(Boolean);
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'contact-form' },
    alertSlot, name.el, h('div', { class: 'grid-2' }, emails.el, phones.el), h('div', { class: 'grid-2' }, uid.el, telegram.el),
    h('div', { class: 'grid-2' }, vip.el, kyc.el), lang.el, tags.el, attrs.el, notes.el,
    h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
  bindForm(form, {
    fields: [name, emails, phones, uid, telegram, vip, kyc, lang, tags, attrs, notes], submitButton: submit, alertSlot,
    onSubmit: async () => {
      const updated = await api.patch(`/contacts/${seg(c.id)}`, {
        name: name.value.trim(),
        emails: split(emails.value),
        phones: split(phones.value),
        exchange_user_id: uid.value.trim() || null,
        telegram_id: telegram.value.trim() || null,
        vip_tier: Number(vip.value) || 0,
        kyc_level: Number(kyc.value) || 0,
        language: lang.value || null,
        tags: split(tags.value),
        attributes: attrs.value(),
        notes: notes.value,
      });
      m.close();
      toast(t('contact.saved', { name: updated.name }));
      onSaved(updated);
    },
  });
  const m = openModal({ title: t('contact.editTitle'), body: form, testid: 'contact-dialog', size: 'lg' });
  return m;
}

// --- Data protection: reveal, export, erase -----------------------------------------------------

/** POST /contacts/{id}/reveal: the contact with its e-mails and phones in full (audited). */
export function revealContact(c) {
  return api.post(`/contacts/${seg(typeof c === 'string' ? c : c.id)}/reveal`, {});
}

/**
 * The "Show full details" button, or null when nothing is masked or the agent's role may not
 * see contact details in full. On click it reveals the contact and calls `onRevealed(full)`
 * with the contact in full (`pii_masked: false`); a refusal is shown as a toast.
 */
export function revealButton(c, { onRevealed, size = 'sm', variant = 'secondary', testid = 'contact-reveal' } = {}) {
  if (!canViewFullPii() || !hasMaskedDetails(c)) return null;
  const btn = button(t('contact.reveal'), {
    size, variant, iconName: 'eye', testid,
    onClick: async () => {
      let full;
      try {
        full = await withBusy(btn, () => revealContact(c));
      } catch (err) {
        toastProblem(err);
        return;
      }
      if (onRevealed) onRevealed(full);
    },
  });
  return btn;
}

/** The note shown under revealed details: the view was recorded in the audit log. */
export function revealedNote({ testid = 'contact-revealed-note' } = {}) {
  return h('p', { class: 'pii-revealed-note', testid, role: 'status' }, icon('eye'), h('span', null, t('contact.revealedNote')));
}

/**
 * GET /contacts/{id}/export (audited) and save it as `contact-<id>.json`: the contact in full
 * and every conversation's timeline. Throws the ApiError when refused.
 */
export async function downloadContactExport(c) {
  const id = typeof c === 'string' ? c : c.id;
  const data = await api.get(`/contacts/${seg(id)}/export`);
  downloadText(`contact-${String(id).replace(/[^A-Za-z0-9_-]/g, '_')}.json`, `${JSON.stringify(data, null, 2)}\n`, 'application/json');
  return data;
}

/** The "Export data" button (roles with full view), or null. Downloads the export on click. */
export function exportButton(c, { size = 'md', variant = 'secondary', testid = 'contact-export' } = {}) {
  if (!canViewFullPii() || !c || c.merged_into) return null;
  const btn = button(t('contact.export'), {
    size, variant, iconName: 'download', testid,
    onClick: async () => {
      try {
        await withBusy(btn, () => downloadContactExport(c));
      } catch (err) {
        toastProblem(err);
        return;
      }
      toast(t('contact.exported', { name: c.name || t('common.unknown') }));
    },
  });
  return btn;
}

/**
 * The dialog erasing a customer (admins): explains that it cannot be undone and asks for the
 * contact's name to be typed. `onErased(erased)` runs with the server's answer (the contact now
 * named "Erased customer", without identities).
 */
export function eraseContactDialog({ contact: c, onErased }) {
  const expected = (c.name || '').trim() || c.id;
  const same = (v) => v.trim() === expected;
  const confirmName = field({
    name: 'confirm_name', label: t('contact.eraseTypeName', { name: expected }), testid: 'contact-erase-confirm',
    autocomplete: 'off', required: true, attrs: { spellcheck: 'false' },
    validate: (v) => (same(v) ? null : t('contact.eraseNameMismatch')),
  });
  const submit = button(t('contact.eraseSubmit'), { variant: 'danger', type: 'submit', testid: 'contact-erase-submit', disabled: true });
  confirmName.input.addEventListener('input', () => { submit.disabled = !same(confirmName.value); });
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'contact-erase-error' } });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'contact-erase-form' },
    alertBox('warning', t('contact.eraseWarningTitle'), t('contact.eraseWarning'), { testid: 'contact-erase-warning' }),
    alertSlot,
    confirmName.el,
    h('div', { class: 'button-row button-row-end' },
      button(t('common.cancel'), { testid: 'contact-erase-cancel', onClick: () => m.close() }), submit));
  bindForm(form, {
    fields: [confirmName], submitButton: submit, alertSlot,
    onSubmit: async () => {
      const erased = await api.post(`/contacts/${seg(c.id)}/erase`, {});
      m.close();
      toast(t('contact.erased', { name: expected }));
      if (onErased) onErased(erased);
    },
  });
  const m = openModal({ title: t('contact.eraseTitle', { name: expected }), body: form, testid: 'contact-erase-dialog' });
  return m;
}

/** The "Erase customer" button (admins), or null. Opens eraseContactDialog. */
export function eraseButton(c, { onErased, size = 'md', testid = 'contact-erase' } = {}) {
  if (!canEraseContact() || !c || c.merged_into) return null;
  return button(t('contact.erase'), {
    size, variant: 'danger', iconName: 'trash', testid,
    onClick: () => eraseContactDialog({ contact: c, onErased }),
  });
}
