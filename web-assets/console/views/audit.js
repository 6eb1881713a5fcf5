// Audit log (admin): newest first, filter by action and by actor, cursor
// pagination. Filters live in the URL (?action=...&actor_id=...) so a
// filtered view can be bookmarked or shared.

import {
  h, field, button, table, toastProblem, replace, spinner, problemAlert,
  timeCell, withBusy, icon,
} from '../../shared/ui.js';
import { api } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';

const PAGE_SIZE = 50;

function detailsCell(details) {
  if (!details || typeof details !== 'object' || Object.keys(details).length === 0) return null;
  const json = JSON.stringify(details, null, 2);
  return h('details', { class: 'json-details' },
    h('summary', null, t('audit.showDetails')),
    h('pre', { class: 'json' }, json));
}

function actorTypeLabel(type) {
  const key = `audit.actorType.${type}`;
  const label = t(key);
  return label === key ? type : label;
}

export function auditView(page, ctx) {
  const params = ctx.query;
  const filters = {
    action: params.get('action') || '',
    actor_id: params.get('actor_id') || '',
    actor_label: params.get('actor') || '',
  };
  const seenActions = new Set();

  const listSlot = h('div', null, spinner());
  const loadMore = button(t('common.loadMore'), { testid: 'audit-load-more', onClick: () => load(true) });
  const moreRow = h('div', { class: 'load-more', hidden: true }, loadMore);
  let cursor = null;
  let tbl = null;

  const datalist = h('datalist', { id: 'audit-actions' });
  const action = field({
    name: 'action', label: t('audit.filterAction'), testid: 'audit-filter-action', value: filters.action,
    placeholder: t('audit.filterActionPlaceholder'), autocomplete: 'off', attrs: { list: 'audit-actions' },
    className: 'field-inline',
  });
  const submit = button(t('audit.filter'), { variant: 'primary', type: 'submit', testid: 'audit-filter-submit' });
  const clearBtn = button(t('audit.clearFilters'), { variant: 'ghost', testid: 'audit-filter-clear', onClick: () => applyFilters({ action: '', actor_id: '', actor_label: '' }) });
  const actorChipSlot = h('div', { class: 'filter-chips' });
  const form = h('form', { class: 'filter-bar', method: 'get', action: '#', role: 'search' },
    action.el, datalist, h('div', { class: 'filter-buttons' }, submit, clearBtn), actorChipSlot);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters({ ...filters, action: action.value.trim() });
  });

  function renderChips() {
    replace(actorChipSlot, filters.actor_id
      ? h('span', { class: 'chip', testid: 'audit-actor-filter' },
        h('span', null, t('audit.actorFilter', { actor: filters.actor_label || filters.actor_id })),
        h('button', {
          type: 'button', class: 'chip-remove', 'aria-label': t('audit.removeActorFilter'),
          onClick: () => applyFilters({ ...filters, actor_id: '', actor_label: '' }),
        }, icon('x')))
      : null);
    clearBtn.hidden = !filters.action && !filters.actor_id;
  }

  function syncUrl() {
    const q = new URLSearchParams();
    if (filters.action) q.set('action', filters.action);
    if (filters.actor_id) q.set('actor_id', filters.actor_id);
    if (filters.actor_id && filters.actor_label) q.set('actor', filters.actor_label);
    const qs = q.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${qs ? `?${qs}` : ''}`);
  }

  function applyFilters(next) {
    Object.assign(filters, next);
    action.value = filters.action;
    syncUrl();
    renderChips();
    load(false);
  }

  function actorCell(e) {
    const label = e.actor_label || e.actor_id || actorTypeLabel(e.actor_type);
    const main = e.actor_id
      ? h('button', {
        type: 'button', class: 'btn-link-inline', title: t('audit.filterByActor'), testid: 'audit-actor',
        onClick: () => applyFilters({ ...filters, actor_id: e.actor_id, actor_label: e.actor_label || '' }),
      }, label)
      : h('span', null, label);
    return h('span', { class: 'cell-stack cell-stack-vertical' }, main,
      e.actor_type ? h('span', { class: 'muted small' }, actorTypeLabel(e.actor_type)) : null);
  }

  function actionCell(e) {
    return h('button', {
      type: 'button', class: 'code-chip', title: t('audit.filterByAction'), testid: 'audit-action',
      onClick: () => applyFilters({ ...filters, action: e.action }),
    }, e.action);
  }

  const columns = [
    { label: t('audit.time'), className: 'cell-nowrap', render: (e) => timeCell(e.at, 'common.unknown') },
    { label: t('audit.actor'), render: actorCell },
    { label: t('audit.action'), render: actionCell },
    {
      label: t('audit.target'),
      render: (e) => (e.target ? h('span', { class: 'mono small break' }, typeof e.target === 'string' ? e.target : JSON.stringify(e.target)) : null),
    },
    { label: t('audit.ip'), render: (e) => (e.ip ? h('code', { class: 'mono' }, e.ip) : null) },
    { label: t('audit.details'), render: (e) => detailsCell(e.details) },
  ];

  // Only the newest request may fill the table: a slow answer to an older filter is dropped.
  let generation = 0;

  async function load(more) {
    const mine = ++generation;
    if (!more) {
      cursor = null;
      replace(listSlot, spinner());
      moreRow.hidden = true;
    }
    let res;
    try {
      res = await withBusy(more ? loadMore : submit, () => api.get('/audit', {
        query: { limit: PAGE_SIZE, cursor: more ? cursor : null, action: filters.action, actor_id: filters.actor_id },
      }));
    } catch (err) {
      if (!ctx.alive || mine !== generation) return;
      if (more) toastProblem(err);
      else replace(listSlot, problemAlert(err));
      return;
    }
    if (!ctx.alive || mine !== generation) return;
    const items = (res && res.items) || [];
    cursor = res && res.next_cursor ? res.next_cursor : null;
    if (!more) {
      tbl = table({
        columns, rows: [], testid: 'audit-table', caption: t('nav.audit'),
        empty: filters.action || filters.actor_id ? t('audit.emptyFiltered') : t('audit.empty'),
        rowProps: (e) => ({ testid: 'audit-row', dataset: { seq: e.seq, action: e.action } }),
      });
      replace(listSlot, tbl.el);
    }
    tbl.appendRows(items);
    for (const e of items) {
      if (e.action && !seenActions.has(e.action)) {
        seenActions.add(e.action);
        datalist.append(h('option', { value: e.action }));
      }
    }
    moreRow.hidden = !cursor;
  }

  page.replaceChildren(
    pageHeader(t('audit.title'), t('audit.description')),
    h('div', { class: 'card card-flush' },
      h('div', { class: 'card-toolbar' }, form),
      listSlot,
      moreRow));
  renderChips();
  load(false);
}
