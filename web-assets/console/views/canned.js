// Canned responses: list, search, create, edit, delete. Shared ones (for
// everyone) are managed by supervisors and admins; every agent can keep
// personal ones. Agents insert them in the reply box by typing `/`.

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog, openModal, replace,
  spinner, problemAlert, menu, checkbox, timeCell,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey } from '../../shared/api.js';
import { t, getLanguage } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { LOCALES, localeLabel, isSupervisor, myId } from '../inbox-common.js';

function cannedModal({ item, onSaved }) {
  const editing = !!item;
  const shortcut = field({
    name: 'shortcut', label: t('canned.shortcut'), testid: 'canned-form-shortcut', required: true, autocomplete: 'off',
    value: item ? item.shortcut : '', hint: t('canned.shortcutHint'),
  });
  const title = field({ name: 'title', label: t('canned.titleField'), testid: 'canned-form-title', required: true, value: item ? item.title : '' });
  const locale = field({
    name: 'locale', type: 'select', label: t('canned.locale'), testid: 'canned-form-locale',
    value: item ? item.locale : getLanguage(), options: LOCALES.map((l) => ({ value: l, label: localeLabel(l) })),
  });
  const body = field({ name: 'body', type: 'textarea', label: t('canned.body'), testid: 'canned-form-body', required: true, rows: 6, value: item ? item.body : '', hint: t('canned.bodyHint') });
  const shared = isSupervisor()
    ? checkbox({ name: 'shared', label: t('canned.shared'), hint: t('canned.sharedHint'), testid: 'canned-form-shared', checked: item ? !item.owner_id : true })
    : null;
  const submit = button(editing ? t('common.save') : t('canned.create'), { variant: 'primary', type: 'submit', testid: 'canned-form-submit' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'canned-form' },
    alertSlot, h('div', { class: 'grid-2' }, shortcut.el, locale.el), title.el, body.el, shared ? shared.el : null,
    h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
  const idem = idempotencyKey();
  bindForm(form, {
    fields: [shortcut, title, locale, body], submitButton: submit, alertSlot,
    onSubmit: async () => {
      const payload = {
        shortcut: shortcut.value.trim().replace(/^\//, ''), title: title.value.trim(), locale: locale.value,
        body: body.value, shared: shared ? shared.checked : false,
      };
      let saved;
      if (editing) {
        saved = await api.put(`/canned-responses/${seg(item.id)}`, payload);
      } else {
        try {
          saved = await api.post('/canned-responses', payload, { idempotencyKey: idem });
          idem.settle(null);
        } catch (err) {
          idem.settle(err);
          throw err;
        }
      }
      m.close();
      toast(editing ? t('canned.saved', { title: saved.title }) : t('canned.created', { title: saved.title }));
      onSaved(saved);
    },
  });
  const m = openModal({ title: editing ? t('canned.editTitle') : t('canned.newTitle'), body: form, testid: 'canned-dialog', size: 'lg' });
}

export function cannedView(page, ctx) {
  const listSlot = h('div', null, spinner());
  const q = h('input', { type: 'search', class: 'input', testid: 'canned-search', placeholder: t('canned.searchPlaceholder'), 'aria-label': t('canned.search') });
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  ctx.onCleanup(() => clearTimeout(timer));

  const canEdit = (c) => (c.owner_id ? c.owner_id === myId() : isSupervisor());

  async function remove(c) {
    const ok = await confirmDialog({
      title: t('canned.deleteTitle', { title: c.title }), message: t('canned.deleteText'), confirmLabel: t('canned.delete'), danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/canned-responses/${seg(c.id)}`);
      toast(t('canned.deleted', { title: c.title }));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  const columns = [
    { label: t('canned.shortcut'), className: 'cell-nowrap', render: (c) => h('code', { class: 'code-chip', testid: 'canned-shortcut' }, `/${c.shortcut}`) },
    {
      label: t('canned.titleField'),
      render: (c) => h('div', { class: 'cell-stack-vertical' },
        h('span', { class: 'strong', testid: 'canned-title' }, c.title),
        h('span', { class: 'muted small clamp-2' }, c.body)),
    },
    { label: t('canned.locale'), className: 'cell-nowrap', render: (c) => localeLabel(c.locale) },
    {
      label: t('canned.scope'),
      render: (c) => (c.owner_id ? badge(t('canned.personal'), 'neutral', { testid: 'canned-scope' }) : badge(t('canned.sharedBadge'), 'info', { testid: 'canned-scope' })),
    },
    { label: t('canned.updated'), className: 'cell-nowrap', render: (c) => timeCell(c.updated_at) },
    {
      label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
      render: (c) => (canEdit(c) ? menu({
        label: t('common.actions'), testid: 'canned-actions', ariaLabel: t('canned.actionsFor', { title: c.title }),
        items: [
          { label: t('canned.edit'), testid: 'canned-edit', onSelect: () => cannedModal({ item: c, onSaved: () => { if (ctx.alive) load(); } }) },
          { label: t('canned.delete'), testid: 'canned-delete', danger: true, onSelect: () => remove(c) },
        ],
      }) : null),
    },
  ];

  let gen = 0;
  async function load() {
    const mine = ++gen;
    try {
      const res = await api.get('/canned-responses', { query: { q: q.value.trim() } });
      if (!ctx.alive || mine !== gen) return;
      replace(listSlot, table({
        columns, rows: (res && res.items) || [], testid: 'canned-table', caption: t('canned.title'),
        empty: q.value.trim() ? t('canned.emptySearch') : t('canned.empty'),
        rowProps: (c) => ({ testid: 'canned-row', dataset: { id: c.id, shortcut: c.shortcut } }),
      }).el);
    } catch (err) {
      if (ctx.alive && mine === gen) replace(listSlot, problemAlert(err));
    }
  }

  const newBtn = button(t('canned.new'), {
    variant: 'primary', iconName: 'plus', testid: 'canned-new',
    onClick: () => cannedModal({ onSaved: () => { if (ctx.alive) load(); } }),
  });
  page.replaceChildren(
    pageHeader(t('canned.title'), t('canned.description'), newBtn),
    h('div', { class: 'card card-flush' }, h('div', { class: 'card-toolbar' }, h('div', { class: 'field-inline' }, q)), listSlot));
  load();
}
