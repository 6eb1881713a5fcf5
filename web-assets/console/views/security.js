// Security settings (admin): which roles must use two-factor
// authentication, and the list of temporarily blocked IP addresses.

import {
  h, card, button, checkbox, table, toast, toastProblem, replace, spinner,
  problemAlert, alertBox, withBusy, timeCell, confirmDialog, showProblem, clearProblem,
} from '../../shared/ui.js';
import { api, seg } from '../../shared/api.js';
import { t, formatNumber } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader } from '../layout.js';

const ROLES = ['admin', 'supervisor', 'agent'];

function twoFactorPolicyCard(ctx) {
  const body = h('div', null, spinner());
  const c = card({ title: t('security.twoFactorTitle'), description: t('security.twoFactorDescription'), testid: 'security-2fa-card' }, body);

  function render(settings) {
    const req = (settings && settings.two_factor_required) || {};
    const boxes = ROLES.map((role) => checkbox({
      name: `require-${role}`,
      label: t(`security.require.${role}`),
      testid: `require-2fa-${role}`,
      checked: !!req[role],
    }));
    const save = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'security-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'security-error' } });
    const form = h('form', { class: 'form', method: 'post', action: '#' },
      app.session.demo_mode ? alertBox('info', null, t('security.demoNote'), { testid: 'security-demo-note' }) : null,
      alertSlot,
      h('fieldset', { class: 'fieldset' },
        h('legend', { class: 'visually-hidden' }, t('security.twoFactorTitle')),
        boxes.map((b) => b.el)),
      h('div', { class: 'button-row' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearProblem({ alertSlot });
      const payload = { two_factor_required: {} };
      ROLES.forEach((role, i) => { payload.two_factor_required[role] = boxes[i].checked; });
      try {
        const saved = await withBusy(save, () => api.put('/settings/security', payload));
        toast(t('security.saved'));
        if (saved && saved.two_factor_required) {
          ROLES.forEach((role, i) => { boxes[i].checked = !!saved.two_factor_required[role]; });
        }
        // The policy may now apply to the current agent.
        await app.refreshSession().catch(() => null);
        if (app.session && app.session.two_factor_enrolment_required) app.navigate('/console/setup-2fa', { replace: true });
      } catch (err) {
        showProblem(err, { alertSlot });
      }
    });
    replace(body, form);
  }

  api.get('/settings/security').then((s) => { if (ctx.alive) render(s); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
  return c;
}

function ipLockoutsCard(ctx) {
  const body = h('div', null, spinner());
  const refresh = button(t('common.refresh'), { size: 'sm', iconName: 'refresh', testid: 'ip-lockouts-refresh', onClick: () => load() });
  const c = card({ title: t('security.ipTitle'), description: t('security.ipDescription'), testid: 'ip-lockouts-card', actions: refresh }, body);

  async function lift(item, btn) {
    const ok = await confirmDialog({
      title: t('security.liftTitle'),
      message: t('security.liftText', { ip: item.ip }),
      confirmLabel: t('security.lift'),
    });
    if (!ok) return;
    try {
      await withBusy(btn, () => api.del(`/admin/ip-lockouts/${seg(item.ip)}`));
    } catch (err) {
      toastProblem(err);
      return;
    }
    toast(t('security.lifted', { ip: item.ip }));
    load();
  }

  async function load() {
    let res;
    try {
      res = await withBusy(refresh, () => api.get('/admin/ip-lockouts'));
    } catch (err) {
      if (ctx.alive) replace(body, problemAlert(err));
      return;
    }
    if (!ctx.alive) return;
    const tbl = table({
      testid: 'ip-lockouts-table',
      caption: t('security.ipTitle'),
      empty: t('security.ipEmpty'),
      columns: [
        { label: t('security.ip'), render: (i) => h('code', { class: 'mono' }, i.ip) },
        { label: t('security.failures'), className: 'cell-number', render: (i) => formatNumber(i.failures ?? 0) },
        { label: t('security.lockedUntil'), render: (i) => timeCell(i.locked_until, 'common.unknown') },
        {
          label: h('span', { class: 'visually-hidden' }, t('common.actions')),
          className: 'cell-actions',
          render: (i) => {
            const btn = button(t('security.lift'), { size: 'sm', testid: 'ip-lift', onClick: () => lift(i, btn) });
            return btn;
          },
        },
      ],
      rows: (res && res.items) || [],
      rowProps: (i) => ({ testid: 'ip-lockout-row', dataset: { ip: i.ip } }),
    });
    replace(body, tbl.el);
  }

  load();
  return c;
}

export function securityView(page, ctx) {
  page.replaceChildren(
    pageHeader(t('security.title'), t('security.description')),
    h('div', { class: 'stack' }, twoFactorPolicyCard(ctx), ipLockoutsCard(ctx)));
}
