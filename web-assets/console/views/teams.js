// Teams (admin): create, rename, make private or public, choose members,
// delete. Agents outside a private team do not see its conversations.

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog, openModal, replace,
  spinner, problemAlert, menu, checkbox,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { loadAgents, forget } from '../inbox-common.js';

function teamModal({ team, agents, onSaved }) {
  const editing = !!team;
  const name = field({ name: 'name', label: t('teams.name'), testid: 'team-form-name', required: true, value: team ? team.name : '', autocomplete: 'off' });
  const priv = checkbox({ name: 'private', label: t('teams.private'), hint: t('teams.privateHint'), testid: 'team-form-private', checked: team ? team.private : false });
  const members = new Set(team ? team.member_ids : []);
  const memberList = h('fieldset', { class: 'fieldset member-list', testid: 'team-form-members' },
    h('legend', { class: 'field-label' }, t('teams.members')),
    agents.filter((a) => a.active || members.has(a.id)).map((a) => checkbox({
      name: `member-${a.id}`, label: a.name, hint: a.email, testid: 'team-form-member', checked: members.has(a.id),
      onChange: (e) => { if (e.target.checked) members.add(a.id); else members.delete(a.id); },
    }).el));
  const submit = button(editing ? t('common.save') : t('teams.create'), { variant: 'primary', type: 'submit', testid: 'team-form-submit' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'team-form' },
    alertSlot, name.el, priv.el, memberList,
    h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
  const idem = idempotencyKey();
  bindForm(form, {
    fields: [name], submitButton: submit, alertSlot,
    onSubmit: async () => {
      const body = { name: name.value.trim(), private: priv.checked, member_ids: [...members] };
      let saved;
      if (editing) {
        saved = await api.patch(`/teams/${seg(team.id)}`, body);
      } else {
        try {
          saved = await api.post('/teams', body, { idempotencyKey: idem });
          idem.settle(null);
        } catch (err) {
          idem.settle(err);
          throw err;
        }
      }
      m.close();
      toast(editing ? t('teams.saved', { name: saved.name }) : t('teams.created', { name: saved.name }));
      onSaved(saved);
    },
  });
  const m = openModal({ title: editing ? t('teams.editTitle', { name: team.name }) : t('teams.newTitle'), body: form, testid: 'team-dialog' });
}

export function teamsView(page, ctx) {
  const listSlot = h('div', null, spinner());
  let agents = [];

  const nameOf = (id) => (agents.find((a) => a.id === id) || {}).name || id;

  async function remove(team) {
    const ok = await confirmDialog({
      title: t('teams.deleteTitle', { name: team.name }), message: t('teams.deleteText'),
      confirmLabel: t('teams.delete'), danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/teams/${seg(team.id)}`);
      toast(t('teams.deleted', { name: team.name }));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  async function togglePrivate(team) {
    try {
      await api.patch(`/teams/${seg(team.id)}`, { private: !team.private });
      toast(t('teams.saved', { name: team.name }));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  const columns = [
    { label: t('teams.name'), render: (tm) => h('span', { class: 'strong', testid: 'team-name' }, tm.name) },
    {
      label: t('teams.visibility'),
      render: (tm) => (tm.private ? badge(t('teams.privateBadge'), 'warning', { testid: 'team-private' }) : badge(t('teams.publicBadge'), 'neutral', { testid: 'team-private' })),
    },
    {
      label: t('teams.members'),
      render: (tm) => (tm.member_ids.length
        ? h('span', { class: 'small', testid: 'team-members' }, tm.member_ids.map(nameOf).join(', '))
        : h('span', { class: 'muted', testid: 'team-members' }, t('teams.noMembers'))),
    },
    {
      label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
      render: (tm) => menu({
        label: t('common.actions'), testid: 'team-actions', ariaLabel: t('teams.actionsFor', { name: tm.name }),
        items: [
          { label: t('teams.edit'), testid: 'team-edit', onSelect: () => teamModal({ team: tm, agents, onSaved: () => { forget('teams'); load(); } }) },
          { label: tm.private ? t('teams.makePublic') : t('teams.makePrivate'), testid: 'team-toggle-private', onSelect: () => togglePrivate(tm) },
          { label: t('teams.delete'), testid: 'team-delete', danger: true, onSelect: () => remove(tm) },
        ],
      }),
    },
  ];

  async function load() {
    forget('teams');
    try {
      const [res, list] = await Promise.all([api.get('/teams'), loadAgents().catch(() => [])]);
      if (!ctx.alive) return;
      agents = list;
      const tbl = table({
        columns, rows: (res && res.items) || [], testid: 'teams-table', caption: t('teams.title'), empty: t('teams.empty'),
        rowProps: (tm) => ({ testid: 'team-row', dataset: { id: tm.id, name: tm.name } }),
      });
      replace(listSlot, tbl.el);
    } catch (err) {
      if (ctx.alive) replace(listSlot, problemAlert(err));
    }
  }

  const newBtn = button(t('teams.new'), {
    variant: 'primary', iconName: 'plus', testid: 'team-new',
    onClick: () => teamModal({ agents, onSaved: () => { if (ctx.alive) load(); } }),
  });
  page.replaceChildren(pageHeader(t('teams.title'), t('teams.description'), newBtn), h('div', { class: 'card card-flush' }, listSlot));
  load();
}
