// Macros: named lists of actions (reply, note, tags, status, priority,
// assignee, team) that an agent runs on a conversation in one click.
// List, create, edit (with an action editor) and delete. A sensitive macro
// acts on the customer's account: it runs only after the customer passed a
// step-up identity check in the conversation.

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog, openModal, replace,
  spinner, problemAlert, menu, checkbox, timeCell, icon,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import {
  STATUSES, PRIORITIES, statusLabel, priorityLabel, isSupervisor, myId, loadAgents, loadTeams, lockIcon,
} from '../inbox-common.js';

const ACTION_TYPES = ['reply', 'note', 'add_tags', 'remove_tags', 'set_status', 'set_priority', 'assign', 'set_team'];

function splitTags(v) {
  return String(v || '').split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
}

/** One line of text per action, for the list. */
export function describeAction(a, { agents = [], teams = [] } = {}) {
  switch (a.type) {
    case 'reply': return t('macros.desc.reply', { text: a.body });
    case 'note': return t('macros.desc.note', { text: a.body });
    case 'add_tags': return t('macros.desc.addTags', { tags: a.tags.map((x) => `#${x}`).join(' ') });
    case 'remove_tags': return t('macros.desc.removeTags', { tags: a.tags.map((x) => `#${x}`).join(' ') });
    case 'set_status': return t('macros.desc.status', { status: statusLabel(a.status) });
    case 'set_priority': return t('macros.desc.priority', { priority: priorityLabel(a.priority) });
    case 'assign': return a.agent_id
      ? t('macros.desc.assign', { name: (agents.find((x) => x.id === a.agent_id) || {}).name || a.agent_id })
      : t('macros.desc.unassign');
    case 'set_team': return a.team_id
      ? t('macros.desc.team', { team: (teams.find((x) => x.id === a.team_id) || {}).name || a.team_id })
      : t('macros.desc.noTeam');
    default: return a.type;
  }
}

function actionEditor(initial, { agents, teams }) {
  const rows = [];
  const list = h('ol', { class: 'action-list', testid: 'macro-actions' });

  function valueControl(type, a) {
    const sel = (options, value, testid) => h('select', { class: 'input select select-sm', testid, 'aria-label': t('macros.value') },
      options.map((o) => h('option', { value: o.value, selected: o.value === (value ?? '') }, o.label)));
    switch (type) {
      case 'reply':
      case 'note': {
        const ta = h('textarea', { class: 'input textarea', rows: 3, testid: 'macro-action-body', 'aria-label': t('macros.text') });
        ta.value = a.body || '';
        return { el: ta, read: () => ({ body: ta.value }) };
      }
      case 'add_tags':
      case 'remove_tags': {
        const inp = h('input', { class: 'input', testid: 'macro-action-tags', placeholder: t('macros.tagsPlaceholder'), 'aria-label': t('macros.tags'), value: (a.tags || []).join(', ') });
        return { el: inp, read: () => ({ tags: splitTags(inp.value) }) };
      }
      case 'set_status': {
        const s = sel(STATUSES.map((x) => ({ value: x, label: statusLabel(x) })), a.status || 'resolved', 'macro-action-status');
        return { el: s, read: () => ({ status: s.value }) };
      }
      case 'set_priority': {
        const s = sel(PRIORITIES.map((x) => ({ value: x, label: priorityLabel(x) })), a.priority || 'high', 'macro-action-priority');
        return { el: s, read: () => ({ priority: s.value }) };
      }
      case 'assign': {
        const s = sel([{ value: '', label: t('inbox.unassign') }, ...agents.filter((x) => x.active).map((x) => ({ value: x.id, label: x.name }))], a.agent_id || '', 'macro-action-agent');
        return { el: s, read: () => ({ agent_id: s.value || null }) };
      }
      case 'set_team': {
        const s = sel([{ value: '', label: t('conversation.noTeam') }, ...teams.map((x) => ({ value: x.id, label: x.name }))], a.team_id || '', 'macro-action-team');
        return { el: s, read: () => ({ team_id: s.value || null }) };
      }
      default:
        return { el: h('span'), read: () => ({}) };
    }
  }

  function addRow(a) {
    const row = { type: a.type };
    const typeSel = h('select', { class: 'input select select-sm', testid: 'macro-action-type', 'aria-label': t('macros.actionType') },
      ACTION_TYPES.map((x) => h('option', { value: x, selected: x === a.type }, t(`macros.type.${x}`))));
    const valueSlot = h('div', { class: 'action-value' });
    function setType(type, data) {
      row.type = type;
      row.control = valueControl(type, data || {});
      replace(valueSlot, row.control.el);
    }
    typeSel.addEventListener('change', () => setType(typeSel.value));
    const removeBtn = h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm', testid: 'macro-action-remove', 'aria-label': t('macros.removeAction'),
      onClick: () => { rows.splice(rows.indexOf(row), 1); row.el.remove(); },
    }, icon('trash'));
    row.el = h('li', { class: 'action-row', testid: 'macro-action' }, typeSel, valueSlot, removeBtn);
    setType(a.type, a);
    rows.push(row);
    list.append(row.el);
  }

  for (const a of initial) addRow(a);
  const addBtn = button(t('macros.addAction'), { size: 'sm', iconName: 'plus', testid: 'macro-add-action', onClick: () => addRow({ type: 'add_tags', tags: [] }) });
  return {
    el: h('fieldset', { class: 'fieldset' }, h('legend', { class: 'field-label' }, t('macros.actions')), list, h('div', null, addBtn)),
    read: () => rows.map((r) => ({ type: r.type, ...r.control.read() })),
  };
}

function macroModal({ item, agents, teams, onSaved }) {
  const editing = !!item;
  const name = field({ name: 'name', label: t('macros.name'), testid: 'macro-form-name', required: true, value: item ? item.name : '', autocomplete: 'off' });
  const shared = isSupervisor()
    ? checkbox({ name: 'shared', label: t('macros.shared'), hint: t('macros.sharedHint'), testid: 'macro-form-shared', checked: item ? !item.owner_id : true })
    : null;
  const sensitive = checkbox({
    name: 'sensitive', label: t('macros.sensitive'), hint: t('macros.sensitiveHint'), testid: 'macro-form-sensitive',
    checked: item ? !!item.sensitive : false,
  });
  const editor = actionEditor(item ? item.actions : [{ type: 'set_status', status: 'resolved' }], { agents, teams });
  const submit = button(editing ? t('common.save') : t('macros.create'), { variant: 'primary', type: 'submit', testid: 'macro-form-submit' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'macro-form' },
    alertSlot, name.el, shared ? shared.el : null, sensitive.el, editor.el,
    h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
  const idem = idempotencyKey();
  bindForm(form, {
    fields: [name], submitButton: submit, alertSlot,
    validate: () => {
      if (editor.read().length) return true;
      replace(alertSlot, h('p', { class: 'field-error' }, t('macros.needAction')));
      return false;
    },
    onSubmit: async () => {
      const payload = {
        name: name.value.trim(), actions: editor.read(), shared: shared ? shared.checked : false, sensitive: sensitive.checked,
      };
      let saved;
      if (editing) {
        saved = await api.put(`/macros/${seg(item.id)}`, payload);
      } else {
        try {
          saved = await api.post('/macros', payload, { idempotencyKey: idem });
          idem.settle(null);
        } catch (err) {
          idem.settle(err);
          throw err;
        }
      }
      m.close();
      toast(editing ? t('macros.saved', { name: saved.name }) : t('macros.created', { name: saved.name }));
      onSaved(saved);
    },
  });
  const m = openModal({ title: editing ? t('macros.editTitle') : t('macros.newTitle'), body: form, testid: 'macro-dialog', size: 'lg' });
}

export function macrosView(page, ctx) {
  const listSlot = h('div', null, spinner());
  let agents = [];
  let teams = [];
  const canEdit = (m) => (m.owner_id ? m.owner_id === myId() : isSupervisor());

  async function remove(m) {
    const ok = await confirmDialog({ title: t('macros.deleteTitle', { name: m.name }), message: t('macros.deleteText'), confirmLabel: t('macros.delete'), danger: true });
    if (!ok) return;
    try {
      await api.del(`/macros/${seg(m.id)}`);
      toast(t('macros.deleted', { name: m.name }));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  const columns = [
    {
      label: t('macros.name'),
      render: (m) => h('span', { class: 'macro-name-cell' },
        h('span', { class: 'strong', testid: 'macro-name' }, m.name),
        m.sensitive ? badge([lockIcon(), h('span', null, t('macros.sensitiveBadge'))], 'warning', {
          testid: 'macro-sensitive', class: 'macro-sensitive-badge', title: t('macros.sensitiveHint'),
        }) : null),
    },
    {
      label: t('macros.actions'),
      render: (m) => h('ol', { class: 'action-summary', testid: 'macro-summary' }, m.actions.map((a) => h('li', null, describeAction(a, { agents, teams })))),
    },
    { label: t('canned.scope'), render: (m) => (m.owner_id ? badge(t('canned.personal'), 'neutral') : badge(t('canned.sharedBadge'), 'info')) },
    { label: t('canned.updated'), className: 'cell-nowrap', render: (m) => timeCell(m.updated_at) },
    {
      label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
      render: (m) => (canEdit(m) ? menu({
        label: t('common.actions'), testid: 'macro-actions-menu', ariaLabel: t('macros.actionsFor', { name: m.name }),
        items: [
          { label: t('macros.edit'), testid: 'macro-edit', onSelect: () => macroModal({ item: m, agents, teams, onSaved: () => { if (ctx.alive) load(); } }) },
          { label: t('macros.delete'), testid: 'macro-delete', danger: true, onSelect: () => remove(m) },
        ],
      }) : null),
    },
  ];

  async function load() {
    try {
      const [res, a, tm] = await Promise.all([api.get('/macros'), loadAgents().catch(() => []), loadTeams().catch(() => [])]);
      if (!ctx.alive) return;
      agents = a;
      teams = tm;
      replace(listSlot, table({
        columns, rows: (res && res.items) || [], testid: 'macros-table', caption: t('macros.title'), empty: t('macros.empty'),
        rowProps: (m) => ({ testid: 'macro-row', dataset: { id: m.id, sensitive: m.sensitive ? 'true' : 'false' } }),
      }).el);
    } catch (err) {
      if (ctx.alive) replace(listSlot, problemAlert(err));
    }
  }

  const newBtn = button(t('macros.new'), {
    variant: 'primary', iconName: 'plus', testid: 'macro-new',
    onClick: () => macroModal({ agents, teams, onSaved: () => { if (ctx.alive) load(); } }),
  });
  page.replaceChildren(pageHeader(t('macros.title'), t('macros.description'), newBtn), h('div', { class: 'card card-flush' }, listSlot));
  load();
}
