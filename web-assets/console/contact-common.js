// Contacts, shared by the contact pages and the conversation sidebar: the
// profile summary (identities, VIP tier, KYC level, tags, attributes), the
// edit dialog (PATCH /contacts/{id}) and the path of a contact's page.

import { h, field, button, bindForm, toast, openModal, badge, icon, fieldErrorState } from '../shared/ui.js';
import { api, seg } from '../shared/api.js';
import { t } from '../shared/i18n.js';
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
  const emails = field({ name: 'emails', label: t('contact.emails'), testid: 'contact-form-emails', value: (c.emails || []).join(', '), hint: t('contact.listHint') });
  const phones = field({ name: 'phones', label: t('contact.phones'), testid: 'contact-form-phones', value: (c.phones || []).join(', '), hint: t('contact.listHint') });
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
