// Agents (admin): list with cursor pagination, create, change role,
// deactivate / reactivate, reset 2FA, unlock, sign out everywhere.

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog,
  openModal, replace, spinner, problemAlert, menu, timeCell, withBusy,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey, ApiError } from '../../shared/api.js';
import { t, formatDateTimeFull } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader, roleLabel } from '../layout.js';

const ROLES = ['admin', 'supervisor', 'agent'];
const PAGE_SIZE = 50;
const PASSWORD_MIN = 10;

function isLocked(agent) {
  return !!agent.locked_until && new Date(agent.locked_until).getTime() > Date.now();
}

function isSelf(agent) {
  return !!(app.session && app.session.agent && app.session.agent.id === agent.id);
}

/** A random password for the "generate" helper (no look-alike characters). */
function generatePassword(length = 16) {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const out = [];
  const buf = new Uint32Array(length);
  crypto.getRandomValues(buf);
  for (let i = 0; i < length; i++) out.push(alphabet[buf[i] % alphabet.length]);
  return out.join('');
}

function newAgentModal(onCreated) {
  const name = field({ name: 'name', label: t('agents.name'), testid: 'agent-form-name', required: true, autocomplete: 'off', autofocus: true });
  const email = field({ name: 'email', type: 'email', label: t('agents.email'), testid: 'agent-form-email', required: true, autocomplete: 'off' });
  const role = field({
    name: 'role', type: 'select', label: t('agents.role'), testid: 'agent-form-role', value: 'agent',
    options: ROLES.map((r) => ({ value: r, label: roleLabel(r) })),
    hint: t('agents.roleHint'),
  });
  const password = field({
    name: 'password', type: 'password', label: t('agents.initialPassword'), testid: 'agent-form-password',
    required: true, minLength: PASSWORD_MIN, autocomplete: 'new-password',
    hint: t('agents.initialPasswordHint', { min: PASSWORD_MIN }),
  });
  const gen = h('button', {
    type: 'button', class: 'btn btn-link btn-inline', testid: 'agent-form-generate',
    onClick: () => {
      password.value = generatePassword();
      password.input.type = 'text';
      password.clearError();
      password.input.select();
    },
  }, t('agents.generatePassword'));
  password.el.querySelector('.field-label').after(gen);
  password.el.classList.add('field-with-action');

  const submit = button(t('agents.create'), { variant: 'primary', type: 'submit', testid: 'agent-form-submit' });
  const cancel = button(t('common.cancel'), { onClick: () => m.close() });
  const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'agent-form-error' } });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'agent-form' },
    alertSlot, name.el, email.el, role.el, password.el,
    h('div', { class: 'button-row button-row-end' }, cancel, submit));
  const idem = idempotencyKey();
  bindForm(form, {
    fields: [name, email, role, password],
    submitButton: submit,
    alertSlot,
    onSubmit: async () => {
      let agent;
      try {
        agent = await api.post('/agents', {
          email: email.value.trim(), name: name.value.trim(), role: role.value, password: password.value,
        }, { idempotencyKey: idem });
        idem.settle(null);
      } catch (err) {
        idem.settle(err);
        if (err instanceof ApiError && err.code === 'email_taken' && !(err.problem.errors || []).length) {
          email.setError(t('problem.email_taken'));
          email.input.focus();
          return;
        }
        throw err;
      }
      m.close();
      toast(t('agents.created', { name: agent.name }));
      onCreated(agent);
    },
  });
  const m = openModal({ title: t('agents.newTitle'), body: form, testid: 'agent-dialog' });
}

export function agentsView(page, ctx) {
  const listSlot = h('div', null, spinner());
  const loadMore = button(t('common.loadMore'), { testid: 'agents-load-more', onClick: () => loadPage(true) });
  const moreRow = h('div', { class: 'load-more', hidden: true }, loadMore);
  let cursor = null;
  let tbl = null;
  const rows = new Map(); // id -> <tr>

  function statusCell(a) {
    return h('span', { class: 'badge-list' },
      a.active
        ? badge(t('agents.active'), 'success', { testid: 'agent-status', dataset: { status: 'active' } })
        : badge(t('agents.deactivated'), 'neutral', { testid: 'agent-status', dataset: { status: 'deactivated' } }),
      isLocked(a)
        ? badge(t('agents.locked'), 'danger', { testid: 'agent-locked', title: t('agents.lockedUntil', { time: formatDateTimeFull(a.locked_until) }) })
        : null);
  }

  function roleCell(a) {
    const select = h('select', {
      class: 'input select select-sm', testid: 'agent-role', 'aria-label': t('agents.roleFor', { name: a.name }),
      onChange: async () => {
        const previous = a.role;
        const nextRole = select.value;
        if (isSelf(a) && previous === 'admin' && nextRole !== 'admin') {
          const ok = await confirmDialog({
            title: t('agents.demoteSelfTitle'), message: t('agents.demoteSelfText'),
            confirmLabel: t('agents.changeRole'), danger: true,
          });
          if (!ok) { select.value = previous; return; }
        }
        select.disabled = true;
        try {
          const updated = await api.patch(`/agents/${seg(a.id)}`, { role: nextRole });
          update(updated);
          toast(t('agents.roleChanged', { name: updated.name, role: roleLabel(updated.role) }));
          if (isSelf(updated)) await app.refreshSession().then(() => app.navigate(app.landingPath(), { replace: true })).catch(() => null);
        } catch (err) {
          select.value = previous;
          select.disabled = false;
          toastProblem(err);
        }
      },
    }, ROLES.map((r) => h('option', { value: r, selected: r === a.role }, roleLabel(r))));
    return select;
  }

  async function setActive(a, active) {
    if (!active) {
      const ok = await confirmDialog({
        title: t('agents.deactivateTitle', { name: a.name }),
        message: t('agents.deactivateText'),
        confirmLabel: t('agents.deactivate'),
        danger: true,
      });
      if (!ok) return;
    }
    try {
      const updated = await api.patch(`/agents/${seg(a.id)}`, { active });
      update(updated);
      toast(active ? t('agents.reactivated', { name: updated.name }) : t('agents.deactivatedToast', { name: updated.name }));
    } catch (err) {
      toastProblem(err);
    }
  }

  async function resetTwoFactor(a) {
    const ok = await confirmDialog({
      title: t('agents.reset2faTitle', { name: a.name }),
      message: t('agents.reset2faText'),
      confirmLabel: t('agents.reset2fa'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.post(`/agents/${seg(a.id)}/reset-2fa`);
      update({ ...a, two_factor_enabled: false });
      toast(t('agents.reset2faDone', { name: a.name }));
    } catch (err) {
      toastProblem(err);
    }
  }

  async function unlock(a) {
    try {
      await api.post(`/agents/${seg(a.id)}/unlock`);
      update({ ...a, locked_until: null });
      toast(t('agents.unlocked', { name: a.name }));
    } catch (err) {
      toastProblem(err);
    }
  }

  async function signOutEverywhere(a) {
    const self = isSelf(a);
    const ok = await confirmDialog({
      title: t('agents.signOutAllTitle', { name: a.name }),
      message: self ? t('agents.signOutAllSelfText') : t('agents.signOutAllText'),
      confirmLabel: t('agents.signOutAll'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/agents/${seg(a.id)}/sessions`);
    } catch (err) {
      toastProblem(err);
      return;
    }
    if (self) {
      app.sessionEnded({ kind: 'success', title: t('login.signedOut') });
      return;
    }
    toast(t('agents.signedOutAll', { name: a.name }));
  }

  function actionsCell(a) {
    return menu({
      label: t('common.actions'),
      testid: 'agent-actions',
      ariaLabel: t('agents.actionsFor', { name: a.name }),
      items: [
        { label: t('agents.unlock'), testid: 'agent-unlock', hidden: !isLocked(a), onSelect: () => unlock(a) },
        { label: t('agents.reactivate'), testid: 'agent-reactivate', hidden: a.active, onSelect: () => setActive(a, true) },
        { label: t('agents.reset2fa'), testid: 'agent-reset-2fa', hidden: !a.two_factor_enabled, onSelect: () => resetTwoFactor(a) },
        { label: t('agents.signOutAll'), testid: 'agent-signout-all', onSelect: () => signOutEverywhere(a) },
        { label: t('agents.deactivate'), testid: 'agent-deactivate', danger: true, hidden: !a.active, onSelect: () => setActive(a, false) },
      ],
    });
  }

  const columns = [
    {
      label: t('agents.name'),
      render: (a) => h('span', { class: 'cell-stack' },
        h('span', { class: 'strong', testid: 'agent-name' }, a.name),
        isSelf(a) ? badge(t('agents.you'), 'brand') : null),
    },
    { label: t('agents.email'), className: 'cell-nowrap', render: (a) => h('span', { testid: 'agent-email' }, a.email) },
    { label: t('agents.role'), render: roleCell },
    { label: t('agents.status'), render: statusCell },
    {
      label: t('agents.twoFactor'),
      render: (a) => (a.two_factor_enabled
        ? badge(t('agents.twoFactorOn'), 'success', { testid: 'agent-2fa', dataset: { enabled: 'true' } })
        : badge(t('agents.twoFactorOff'), 'neutral', { testid: 'agent-2fa', dataset: { enabled: 'false' } })),
    },
    { label: t('agents.lastLogin'), className: 'cell-nowrap', render: (a) => timeCell(a.last_login_at) },
    { label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions', render: actionsCell },
  ];

  const rowProps = (a) => ({
    testid: 'agent-row',
    class: a.active ? null : 'is-inactive',
    dataset: { agentId: a.id, email: a.email, role: a.role, active: a.active ? 'true' : 'false' },
  });

  function update(agent) {
    const old = rows.get(agent.id);
    const tr = tbl.renderRow(agent);
    rows.set(agent.id, tr);
    if (old) old.replaceWith(tr);
    return tr;
  }

  function prepend(agent) {
    if (rows.has(agent.id)) {
      update(agent);
      return;
    }
    const [tr] = tbl.prependRows([agent]);
    rows.set(agent.id, tr);
    tr.classList.add('is-new');
  }

  async function loadPage(more) {
    let res;
    try {
      res = await withBusy(more ? loadMore : null, () => api.get('/agents', { query: { limit: PAGE_SIZE, cursor: more ? cursor : null } }));
    } catch (err) {
      if (!ctx.alive) return;
      if (more) toastProblem(err);
      else replace(listSlot, problemAlert(err));
      return;
    }
    if (!ctx.alive) return;
    const items = (res && res.items) || [];
    cursor = res && res.next_cursor ? res.next_cursor : null;
    if (!more) {
      rows.clear();
      tbl = table({ columns, rows: [], rowProps, testid: 'agents-table', caption: t('nav.agents'), empty: t('agents.empty') });
      replace(listSlot, tbl.el);
    }
    const fresh = items.filter((a) => !rows.has(a.id));
    tbl.appendRows(fresh).forEach((tr, i) => rows.set(fresh[i].id, tr));
    moreRow.hidden = !cursor;
  }

  const newBtn = button(t('agents.new'), {
    variant: 'primary', iconName: 'plus', testid: 'agent-new',
    onClick: () => newAgentModal((agent) => { if (ctx.alive) prepend(agent); }),
  });

  page.replaceChildren(
    pageHeader(t('agents.title'), t('agents.description'), newBtn),
    h('div', { class: 'card card-flush' }, listSlot, moreRow));
  loadPage(false);
}
