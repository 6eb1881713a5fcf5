// Security settings (admin): which roles must use two-factor
// authentication and which roles may see customers' e-mails and phones in
// full (both saved in one PUT), the retention policy for closed
// conversations, and the list of temporarily blocked IP addresses.

import {
  h, card, button, checkbox, table, toast, toastProblem, replace, spinner,
  problemAlert, alertBox, withBusy, timeCell, confirmDialog, showProblem, clearProblem, field,
} from '../../shared/ui.js';
import { api, seg } from '../../shared/api.js';
import { t, formatNumber } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader } from '../layout.js';

const ROLES = ['admin', 'supervisor', 'agent'];

/** One checkbox per role for a per-role policy ({admin, supervisor, agent} of booleans). */
function rolePolicyGroup({ policy, labelKey, testidPrefix, legend, hint, testid, children }) {
  const legendId = `${testidPrefix}-legend`;
  const boxes = ROLES.map((role) => checkbox({
    name: `${testidPrefix}-${role}`,
    label: t(`${labelKey}.${role}`),
    testid: `${testidPrefix}-${role}`,
    checked: !!(policy && policy[role]),
  }));
  const el = h('fieldset', { class: 'fieldset policy-group', 'aria-labelledby': legendId, testid },
    h('legend', { class: 'field-label policy-legend', id: legendId }, legend),
    h('p', { class: 'field-hint' }, hint),
    children || null,
    boxes.map((b) => b.el));
  return {
    el,
    value() { return Object.fromEntries(ROLES.map((role, i) => [role, boxes[i].checked])); },
    set(next) { if (next) ROLES.forEach((role, i) => { boxes[i].checked = !!next[role]; }); },
  };
}

function accessPolicyCard(ctx) {
  const body = h('div', null, spinner());
  const c = card({ title: t('security.policyTitle'), description: t('security.policyDescription'), testid: 'security-policy-card' }, body);

  function render(settings) {
    const twoFactor = rolePolicyGroup({
      policy: settings && settings.two_factor_required,
      labelKey: 'security.require',
      testidPrefix: 'require-2fa',
      legend: t('security.twoFactorTitle'),
      hint: t('security.twoFactorDescription'),
      testid: 'security-2fa-group',
      children: app.session.demo_mode ? alertBox('info', null, t('security.demoNote'), { testid: 'security-demo-note' }) : null,
    });
    const fullView = rolePolicyGroup({
      policy: settings && settings.pii_full_view,
      labelKey: 'security.piiFullView',
      testidPrefix: 'pii-full-view',
      legend: t('security.piiTitle'),
      hint: t('security.piiDescription'),
      testid: 'security-pii-group',
    });
    const save = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'security-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'security-error' } });
    const form = h('form', { class: 'form', method: 'post', action: '#' },
      alertSlot,
      twoFactor.el,
      fullView.el,
      h('div', { class: 'button-row' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearProblem({ alertSlot });
      const payload = { two_factor_required: twoFactor.value(), pii_full_view: fullView.value() };
      try {
        const saved = await withBusy(save, () => api.put('/settings/security', payload));
        toast(t('security.saved'));
        if (saved) {
          twoFactor.set(saved.two_factor_required);
          fullView.set(saved.pii_full_view);
        }
        // The policies may now apply to the current agent (2FA enrolment, full view).
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

/** The retention policy: closed conversations older than N days are anonymised or deleted. */
function retentionCard(ctx) {
  const body = h('div', null, spinner());
  const c = card({ title: t('security.retentionTitle'), description: t('security.retentionDescription'), testid: 'retention-card' }, body);

  function render(settings) {
    const enabled = checkbox({ name: 'retention-enabled', label: t('security.retentionEnabled'), testid: 'retention-enabled', checked: !!settings.enabled });
    const days = field({
      name: 'after_days', type: 'number', label: t('security.retentionDays'), testid: 'retention-days',
      value: String(settings.after_days ?? 365), hint: t('security.retentionDaysHint'), attrs: { min: 1, max: 3650, step: 1 },
    });
    const action = field({
      name: 'action', type: 'select', label: t('security.retentionAction'), testid: 'retention-action', value: settings.action || 'anonymise',
      options: [
        { value: 'anonymise', label: t('security.retentionAnonymise') },
        { value: 'delete', label: t('security.retentionDelete') },
      ],
    });
    const save = button(t('common.save'), { variant: 'primary', type: 'submit', testid: 'retention-save' });
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'retention-error' } });
    const form = h('form', { class: 'form', method: 'post', action: '#' },
      alertSlot, enabled.el, h('div', { class: 'grid-2' }, days.el, action.el), h('div', { class: 'button-row' }, save));
    // The server checks the bounds and names the field; its message shows next to it.
    form.noValidate = true;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearProblem({ alertSlot, fields: [days] });
      const payload = { enabled: enabled.checked, after_days: Number(days.value), action: action.value };
      if (payload.enabled && payload.action === 'delete') {
        const ok = await confirmDialog({
          title: t('security.retentionConfirmTitle'),
          message: t('security.retentionConfirmText', { days: payload.after_days }),
          confirmLabel: t('common.save'),
          danger: true,
        });
        if (!ok) return;
      }
      try {
        const saved = await withBusy(save, () => api.put('/settings/retention', payload));
        toast(t('security.retentionSaved'));
        if (saved && ctx.alive) render(saved);
      } catch (err) {
        showProblem(err, { alertSlot, fields: [days], fieldMap: { after_days: days } });
      }
    });
    replace(body, form);
  }

  api.get('/settings/retention').then((s) => { if (ctx.alive) render(s); }, (err) => { if (ctx.alive) replace(body, problemAlert(err)); });
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
    h('div', { class: 'stack' }, accessPolicyCard(ctx), retentionCard(ctx), ipLockoutsCard(ctx)));
}
