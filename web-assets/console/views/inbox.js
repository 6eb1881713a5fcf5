// The unified inbox: views with live counts on the left (Mine, Unassigned,
// All open, All, by status, by team, by tag, saved views), the conversation
// list with sorting, selection and bulk actions, cursor pagination, and
// full-text search (Chinese and English) with filters on status, channel,
// priority, assignee and tag. The filter lives in the URL
// (?view=&status=&team=&tag=&sort=) so a view can be bookmarked, and so does
// the search (?q= and its filters ?q_status=&q_channel=&q_priority=
// &q_assignee=&q_tag=, named apart from the list's own status and tag).

import {
  h, field, button, bindForm, table, toast, toastProblem, confirmDialog, openModal, replace,
  spinner, problemAlert, menu, timeCell, withBusy, icon, checkbox, emptyState,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey } from '../../shared/api.js';
import { t, formatNumber } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader } from '../layout.js';
import { onLive } from '../live.js';
import { contactPath } from '../contact-common.js';
import {
  STATUSES, PRIORITIES, CHANNELS, statusLabel, priorityLabel, channelLabel, statusBadge, priorityBadge,
  conversationPath, waitingCell, loadAgents, loadTeams, setListOrder, highlightedSnippet, isSupervisor, myId,
  identityBadge,
} from '../inbox-common.js';

const PAGE_SIZE = 50;
const SORTS = ['last_activity', 'priority', 'waiting', 'created'];
const BUILTIN = ['mine', 'unassigned', 'open', 'all'];
const TOP_TAGS = 8;

// Search filters: the API's parameter and the URL's key for each.
const SEARCH_FILTERS = [
  { param: 'status', key: 'q_status' },
  { param: 'channel', key: 'q_channel' },
  { param: 'priority', key: 'q_priority' },
  { param: 'assignee', key: 'q_assignee' },
  { param: 'tag', key: 'q_tag' },
];

function readSearchFilters(query) {
  const pick = (key, allowed) => {
    const v = (query.get(key) || '').trim();
    return !allowed || allowed.includes(v) ? v : '';
  };
  return {
    status: pick('q_status', STATUSES),
    channel: pick('q_channel', CHANNELS),
    priority: pick('q_priority', PRIORITIES),
    assignee: pick('q_assignee'),
    tag: pick('q_tag').replace(/^#/, ''),
  };
}

function readFilters(query) {
  return {
    view: query.get('view') || 'mine',
    status: query.get('status') || '',
    team: query.get('team') || '',
    tag: query.get('tag') || '',
    sort: SORTS.includes(query.get('sort')) ? query.get('sort') : 'last_activity',
  };
}

export function inboxView(page, ctx) {
  const filters = readFilters(ctx.query);
  let counts = null;
  let teams = [];
  let tags = [];
  let views = [];
  let cursor = null;
  let tbl = null;
  let pagesLoaded = 0;
  const rows = new Map(); // id -> { tr, conversation }
  const order = []; // conversation ids in list order
  const selected = new Set();
  let focusIndex = -1;

  // --- Left column: views with counts ----------------------------------------------------

  const rail = h('nav', { class: 'inbox-rail', testid: 'inbox-views', 'aria-label': t('inbox.viewsLabel') }, spinner());

  function isActive(item) {
    return item.view === filters.view && (item.status || '') === filters.status
      && (item.team || '') === filters.team && (item.tag || '') === filters.tag;
  }

  function railLink(item) {
    const active = isActive(item);
    return h('li', null, h('a', {
      href: hrefFor(item), 'data-route': '', class: ['rail-link', active && 'is-active'],
      testid: item.testid, 'aria-current': active ? 'page' : null,
      dataset: { view: item.view },
    },
    h('span', { class: 'rail-label' }, item.label),
    item.count === undefined || item.count === null ? null
      : h('span', { class: 'rail-count', testid: `${item.testid}-count` }, formatNumber(item.count)),
    item.extra || null));
  }

  function hrefFor(item) {
    const q = new URLSearchParams();
    q.set('view', item.view);
    if (item.status) q.set('status', item.status);
    if (item.team) q.set('team', item.team);
    if (item.tag) q.set('tag', item.tag);
    if (filters.sort !== 'last_activity') q.set('sort', filters.sort);
    return `/console/inbox?${q}`;
  }

  function railSection(title, items, extra) {
    return h('div', { class: 'rail-section' },
      h('h2', { class: 'rail-title' }, title),
      items.length ? h('ul', { class: 'rail-list' }, items.map(railLink)) : h('p', { class: 'rail-empty' }, t('inbox.noneYet')),
      extra || null);
  }

  function renderRail() {
    const c = counts || {};
    const byStatus = c.by_status || {};
    const byTeam = c.by_team || {};
    const byView = c.views || {};
    const me = myId();
    const saveBtn = h('button', {
      type: 'button', class: 'btn btn-link btn-inline rail-action', testid: 'save-view',
      onClick: () => saveViewModal(),
    }, icon('plus'), h('span', null, t('inbox.saveView')));
    replace(rail,
      railSection(t('inbox.sectionViews'), [
        { view: 'mine', label: t('inbox.view.mine'), count: c.mine, testid: 'view-mine' },
        { view: 'unassigned', label: t('inbox.view.unassigned'), count: c.unassigned, testid: 'view-unassigned' },
        { view: 'open', label: t('inbox.view.open'), count: c.open, testid: 'view-open' },
        { view: 'all', label: t('inbox.view.all'), count: c.all, testid: 'view-all' },
      ]),
      railSection(t('inbox.sectionStatus'), STATUSES.map((s) => ({
        view: 'all', status: s, label: statusLabel(s), count: byStatus[s] ?? 0, testid: `view-status-${s}`,
      }))),
      teams.length ? railSection(t('inbox.sectionTeams'), teams.map((tm) => ({
        view: 'all', team: tm.id, label: tm.name, count: byTeam[tm.id] ?? 0, testid: 'view-team',
      }))) : null,
      railSection(t('inbox.sectionTags'), tags.slice(0, TOP_TAGS).map((tg) => ({
        view: 'all', tag: tg.tag, label: `#${tg.tag}`, count: tg.count, testid: 'view-tag',
      }))),
      railSection(t('inbox.sectionSaved'), views.map((v) => ({
        view: v.id, label: v.name, count: byView[v.id] ?? null, testid: 'view-saved',
        extra: v.owner_id === me ? h('button', {
          type: 'button', class: 'rail-remove', testid: 'view-delete', title: t('inbox.deleteView'),
          'aria-label': t('inbox.deleteViewNamed', { name: v.name }),
          onClick: (e) => { e.preventDefault(); e.stopPropagation(); deleteView(v); },
        }, icon('x')) : null,
      })), saveBtn));
  }

  async function loadRail() {
    const [cRes, vRes, tRes, teamRes] = await Promise.allSettled([
      api.get('/conversations/counts'), api.get('/views'), api.get('/tags'), loadTeams(),
    ]);
    if (!ctx.alive) return;
    if (cRes.status === 'fulfilled') counts = cRes.value;
    if (vRes.status === 'fulfilled') views = (vRes.value && vRes.value.items) || [];
    if (tRes.status === 'fulfilled') tags = (tRes.value && tRes.value.items) || [];
    if (teamRes.status === 'fulfilled') teams = teamRes.value;
    renderRail();
    renderTagList();
    updateTitle();
  }

  let countsTimer = null;
  function refreshCountsSoon() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(async () => {
      try {
        const [c, tg] = await Promise.all([api.get('/conversations/counts'), api.get('/tags')]);
        if (!ctx.alive) return;
        counts = c;
        tags = (tg && tg.items) || [];
        renderRail();
      } catch {
        // Counts are a convenience; the next event tries again.
      }
    }, 250);
  }

  // --- Saved views -------------------------------------------------------------------------

  function currentFilterObject() {
    const f = {};
    if (filters.view === 'mine') { f.assignee = 'me'; f.status = ['open', 'pending', 'on_hold']; }
    if (filters.view === 'unassigned') { f.assignee = 'none'; f.status = ['open', 'pending', 'on_hold']; }
    if (filters.view === 'open') f.status = ['open'];
    const saved = views.find((v) => v.id === filters.view);
    if (saved) Object.assign(f, saved.filters || {});
    if (filters.status) f.status = filters.status.split(',');
    if (filters.team) f.team = filters.team;
    if (filters.tag) f.tag = filters.tag;
    for (const k of Object.keys(f)) if (f[k] === null || f[k] === undefined) delete f[k];
    return f;
  }

  function saveViewModal() {
    const name = field({ name: 'name', label: t('inbox.viewName'), testid: 'view-form-name', required: true, autocomplete: 'off' });
    const shared = isSupervisor()
      ? checkbox({ name: 'shared', label: t('inbox.viewShared'), hint: t('inbox.viewSharedHint'), testid: 'view-form-shared' })
      : null;
    const summary = h('p', { class: 'muted small' }, t('inbox.viewSummary', { summary: describeFilter(currentFilterObject()) }));
    const submit = button(t('inbox.saveView'), { variant: 'primary', type: 'submit', testid: 'view-form-submit' });
    const cancel = button(t('common.cancel'), { onClick: () => m.close() });
    const alertSlot = h('div', { class: 'form-alert' });
    const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'view-form' },
      alertSlot, summary, name.el, shared ? shared.el : null, h('div', { class: 'button-row button-row-end' }, cancel, submit));
    const idem = idempotencyKey();
    bindForm(form, {
      fields: [name], submitButton: submit, alertSlot,
      onSubmit: async () => {
        let v;
        try {
          v = await api.post('/views', { name: name.value.trim(), shared: shared ? shared.checked : false, filters: currentFilterObject() }, { idempotencyKey: idem });
          idem.settle(null);
        } catch (err) {
          idem.settle(err);
          throw err;
        }
        m.close();
        toast(t('inbox.viewSaved', { name: v.name }));
        app.navigate(`/console/inbox?view=${encodeURIComponent(v.id)}`);
      },
    });
    const m = openModal({ title: t('inbox.saveViewTitle'), body: form, testid: 'view-dialog' });
  }

  function describeFilter(f) {
    const parts = [];
    if (f.status) parts.push(f.status.map(statusLabel).join(', '));
    if (f.assignee === 'me') parts.push(t('inbox.filter.assignedToMe'));
    else if (f.assignee === 'none') parts.push(t('inbox.filter.unassigned'));
    if (f.team) parts.push(t('inbox.filter.team', { team: (teams.find((x) => x.id === f.team) || {}).name || f.team }));
    if (f.tag) parts.push(`#${f.tag}`);
    return parts.length ? parts.join(' · ') : t('inbox.filter.everything');
  }

  async function deleteView(v) {
    const ok = await confirmDialog({
      title: t('inbox.deleteViewTitle', { name: v.name }), message: t('inbox.deleteViewText'),
      confirmLabel: t('inbox.deleteView'), danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/views/${seg(v.id)}`);
      toast(t('inbox.viewDeleted', { name: v.name }));
      if (filters.view === v.id) app.navigate('/console/inbox');
      else loadRail();
    } catch (err) {
      toastProblem(err);
    }
  }

  // --- Conversation list ---------------------------------------------------------------------

  const listSlot = h('div', { class: 'inbox-list' }, spinner());
  const loadMore = button(t('common.loadMore'), { testid: 'inbox-load-more', onClick: () => load(true) });
  const moreRow = h('div', { class: 'load-more', hidden: true }, loadMore);
  const selectAll = h('input', {
    type: 'checkbox', class: 'checkbox-input', testid: 'select-all', 'aria-label': t('inbox.selectAll'),
    onChange: () => {
      if (selectAll.checked) order.forEach((id) => selected.add(id));
      else selected.clear();
      for (const [id, r] of rows) {
        const cb = r.tr.querySelector('[data-testid="select-conversation"]');
        if (cb) cb.checked = selected.has(id);
        r.tr.classList.toggle('is-selected', selected.has(id));
      }
      renderBulk();
    },
  });

  function subjectCell(c) {
    return h('div', { class: 'conv-cell' },
      h('div', { class: 'conv-line' },
        h('span', { class: 'conv-number', testid: 'conversation-number' }, `#${c.number}`),
        h('a', { href: conversationPath(c), 'data-route': '', class: 'conv-subject', testid: 'conversation-subject' }, c.subject || t('inbox.noSubject'))),
      h('div', { class: 'conv-meta' },
        h('span', { testid: 'conversation-contact' }, c.contact_name || t('common.unknown')),
        identityBadge(c, { compact: true }),
        (c.tags || []).slice(0, 4).map((tg) => h('span', { class: 'tag-pill' }, `#${tg}`))));
  }

  const columns = [
    {
      label: h('span', { class: 'visually-hidden' }, t('inbox.select')), className: 'cell-check',
      render: (c) => h('input', {
        type: 'checkbox', class: 'checkbox-input', testid: 'select-conversation', checked: selected.has(c.id),
        'aria-label': t('inbox.selectOne', { number: c.number }),
        onChange: (e) => {
          if (e.target.checked) selected.add(c.id);
          else selected.delete(c.id);
          const r = rows.get(c.id);
          if (r) r.tr.classList.toggle('is-selected', e.target.checked);
          renderBulk();
        },
      }),
    },
    { label: t('inbox.col.conversation'), render: subjectCell },
    {
      label: t('inbox.col.status'),
      render: (c) => h('span', { class: 'badge-list' }, statusBadge(c.status), c.priority !== 'normal' ? priorityBadge(c.priority) : null),
    },
    {
      label: t('inbox.col.assignee'),
      render: (c) => (c.assignee_name ? h('span', { testid: 'conversation-assignee' }, c.assignee_name)
        : h('span', { class: 'muted', testid: 'conversation-assignee' }, t('inbox.unassigned'))),
    },
    { label: t('inbox.col.lastActivity'), className: 'cell-nowrap', render: (c) => timeCell(c.last_activity_at) },
    { label: t('inbox.col.waiting'), className: 'cell-nowrap', render: waitingCell },
  ];

  const rowProps = (c) => ({
    testid: 'conversation-row',
    class: [selected.has(c.id) && 'is-selected', c.waiting_since && 'is-waiting'].filter(Boolean).join(' ') || null,
    dataset: { id: c.id, number: c.number, status: c.status },
  });

  function newTable() {
    tbl = table({ columns, rows: [], rowProps, testid: 'conversation-table', caption: t('inbox.title'), empty: t('inbox.empty') });
    const th = tbl.table.querySelector('thead th');
    if (th) replace(th, selectAll);
    tbl.tbody.addEventListener('click', (e) => {
      // A click anywhere on a row (not on a control) opens the conversation.
      if (e.target.closest('a, button, input, select, label')) return;
      const tr = e.target.closest('tr[data-id]');
      const r = tr && rows.get(tr.dataset.id);
      if (r) app.navigate(conversationPath(r.conversation));
    });
    replace(listSlot, tbl.el);
    rows.clear();
    order.length = 0;
  }

  function syncOrder() {
    order.length = 0;
    for (const tr of tbl.tbody.children) if (tr.dataset.id) order.push(tr.dataset.id);
    setListOrder(order.map((id) => rows.get(id).conversation));
    for (const id of [...selected]) if (!rows.has(id)) selected.delete(id);
    renderBulk();
  }

  function upsert(c, { prepend = false, highlight = false } = {}) {
    const old = rows.get(c.id);
    const tr = tbl.renderRow(c);
    if (old) {
      old.tr.replaceWith(tr);
    } else if (prepend) {
      tbl.tbody.prepend(tr);
    } else {
      tbl.tbody.append(tr);
    }
    rows.set(c.id, { tr, conversation: c });
    if (highlight) tr.classList.add('is-new');
    tbl.sync();
  }

  function listQuery(more) {
    // A saved view's id goes in `view` like the built-in ones.
    return {
      view: filters.view,
      status: filters.status || null,
      team: filters.team || null,
      tag: filters.tag || null,
      sort: filters.sort,
      limit: PAGE_SIZE,
      cursor: more ? cursor : null,
    };
  }

  let generation = 0;
  async function load(more) {
    const mine = ++generation;
    if (!more) {
      cursor = null;
      pagesLoaded = 0;
      replace(listSlot, spinner());
      moreRow.hidden = true;
    }
    let res;
    try {
      res = await withBusy(more ? loadMore : null, () => api.get('/conversations', { query: listQuery(more) }));
    } catch (err) {
      if (!ctx.alive || mine !== generation) return;
      if (more) toastProblem(err);
      else replace(listSlot, problemAlert(err, 'inbox-error'));
      return;
    }
    if (!ctx.alive || mine !== generation) return;
    if (!more) newTable();
    for (const c of (res && res.items) || []) upsert(c);
    cursor = res && res.next_cursor ? res.next_cursor : null;
    pagesLoaded += 1;
    moreRow.hidden = !cursor;
    syncOrder();
  }

  /** Re-read the first page after a live event and merge it in without losing the scroll position. */
  let refreshTimer = null;
  function refreshListSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      if (!tbl || searchActive) return;
      const mine = generation;
      let res;
      try {
        res = await api.get('/conversations', { query: listQuery(false) });
      } catch {
        return;
      }
      if (!ctx.alive || mine !== generation || !tbl) return;
      const items = (res && res.items) || [];
      if (pagesLoaded <= 1) {
        // Only the first page is shown: mirror it exactly (order, membership).
        const known = new Set(rows.keys());
        const keep = new Set(items.map((c) => c.id));
        for (const id of known) {
          if (!keep.has(id)) {
            rows.get(id).tr.remove();
            rows.delete(id);
          }
        }
        for (const c of items) {
          const isNew = !known.has(c.id);
          upsert(c, { highlight: isNew });
          tbl.tbody.append(rows.get(c.id).tr);
        }
        cursor = res.next_cursor || null;
        moreRow.hidden = !cursor;
      } else {
        for (const c of [...items].reverse()) upsert(c, { prepend: !rows.has(c.id), highlight: !rows.has(c.id) });
      }
      tbl.sync();
      syncOrder();
      applyFocus();
    }, 300);
  }

  async function refreshOne(id) {
    if (!rows.has(id)) return;
    try {
      const c = await api.get(`/conversations/${seg(id)}`);
      if (ctx.alive && rows.has(id)) upsert(c);
    } catch {
      // Gone or no longer visible: the next list refresh sorts it out.
    }
  }

  // --- Bulk actions ------------------------------------------------------------------------------

  const bulkBar = h('div', { class: 'bulk-bar', testid: 'bulk-bar', hidden: true });

  function renderBulk() {
    const n = selected.size;
    bulkBar.hidden = n === 0;
    selectAll.checked = n > 0 && n === order.length;
    selectAll.indeterminate = n > 0 && n < order.length;
    if (!n) return;
    replace(bulkBar,
      h('span', { class: 'bulk-count', testid: 'bulk-count' }, t('inbox.selectedCount', { count: n })),
      bulkAssignMenu(),
      button(t('inbox.bulk.addTag'), { size: 'sm', testid: 'bulk-add-tag', iconName: 'tag', onClick: bulkAddTag }),
      button(t('inbox.bulk.resolve'), { size: 'sm', testid: 'bulk-resolve', iconName: 'check', onClick: () => runBulk({ type: 'set_status', status: 'resolved' }) }),
      n > 1 ? button(t('inbox.bulk.merge'), { size: 'sm', testid: 'bulk-merge', onClick: bulkMerge }) : null,
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', testid: 'bulk-clear', onClick: () => { selected.clear(); selectAll.checked = false; selectAll.dispatchEvent(new Event('change')); } }, t('inbox.bulk.clear')));
  }

  let agents = [];
  function bulkAssignMenu() {
    return menu({
      label: t('inbox.bulk.assign'), testid: 'bulk-assign',
      items: [
        { label: t('inbox.assignToMe'), testid: 'bulk-assign-me', onSelect: () => runBulk({ type: 'assign', agent_id: myId() }) },
        { label: t('inbox.unassign'), testid: 'bulk-unassign', onSelect: () => runBulk({ type: 'assign', agent_id: null }) },
        ...agents.filter((a) => a.active && a.id !== myId()).map((a) => ({
          label: a.name, testid: 'bulk-assign-agent', onSelect: () => runBulk({ type: 'assign', agent_id: a.id }),
        })),
      ],
    });
  }

  function bulkAddTag() {
    const tag = field({ name: 'tag', label: t('inbox.tagName'), testid: 'bulk-tag-input', required: true, autocomplete: 'off', hint: t('inbox.tagHint') });
    const submit = button(t('inbox.bulk.addTag'), { variant: 'primary', type: 'submit', testid: 'bulk-tag-submit' });
    const alertSlot = h('div', { class: 'form-alert' });
    const form = h('form', { class: 'form', method: 'post', action: '#' }, alertSlot, tag.el,
      h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
    bindForm(form, {
      fields: [tag], submitButton: submit, alertSlot,
      onSubmit: async () => {
        const list = tag.value.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
        await runBulk({ type: 'add_tags', tags: list }, { rethrow: true });
        m.close();
      },
    });
    const m = openModal({ title: t('inbox.bulk.addTagTitle', { count: selected.size }), body: form, testid: 'bulk-tag-dialog', size: 'sm' });
  }

  function bulkMerge() {
    const ids = order.filter((id) => selected.has(id));
    const target = field({
      name: 'target', type: 'select', label: t('inbox.mergeTarget'), testid: 'bulk-merge-target', value: ids[0],
      hint: t('inbox.mergeHint'),
      options: ids.map((id) => {
        const c = rows.get(id).conversation;
        return { value: id, label: `#${c.number} ${c.subject}` };
      }),
    });
    const submit = button(t('inbox.bulk.merge'), { variant: 'danger', type: 'submit', testid: 'bulk-merge-submit' });
    const alertSlot = h('div', { class: 'form-alert' });
    const form = h('form', { class: 'form', method: 'post', action: '#' }, alertSlot, target.el,
      h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
    bindForm(form, {
      fields: [target], submitButton: submit, alertSlot,
      onSubmit: async () => {
        await runBulk({ type: 'merge_into', target_id: target.value }, { rethrow: true, ids: ids.filter((id) => id !== target.value) });
        m.close();
      },
    });
    const m = openModal({ title: t('inbox.mergeTitle', { count: ids.length }), body: form, testid: 'bulk-merge-dialog' });
  }

  async function runBulk(action, { rethrow = false, ids } = {}) {
    const list = ids || order.filter((id) => selected.has(id));
    let res;
    try {
      res = await api.post('/conversations/bulk', { ids: list, action });
    } catch (err) {
      if (rethrow) throw err;
      toastProblem(err);
      return;
    }
    const items = (res && res.items) || [];
    const failed = items.filter((r) => !r.ok);
    if (failed.length) {
      toast(t('inbox.bulk.partial', { ok: items.length - failed.length, failed: failed.length }), {
        kind: 'error', detail: [...new Set(failed.map((f) => f.error).filter(Boolean))].join(', '),
      });
    } else {
      toast(t('inbox.bulk.done', { count: items.length }));
    }
    selected.clear();
    if (!ctx.alive) return;
    load(false);
    refreshCountsSoon();
  }

  // --- Search --------------------------------------------------------------------------------------

  let searchActive = false;
  const searchFilters = readSearchFilters(ctx.query);
  const searchInput = h('input', {
    type: 'search', class: 'input search-input', testid: 'search-input', placeholder: t('inbox.searchPlaceholder'),
    'aria-label': t('inbox.search'), autocomplete: 'off', value: ctx.query.get('q') || '',
  });
  const searchForm = h('form', { class: 'search-form', role: 'search', method: 'get', action: '#' },
    icon('search', 'search-icon'), searchInput);
  const searchFiltersBar = h('div', { class: 'filter-bar search-filters', testid: 'search-filters', role: 'group', 'aria-label': t('inbox.searchFilters') });
  const searchResults = h('div', { class: 'search-results-body' });
  const searchSlot = h('div', { class: 'search-results', testid: 'search-results', hidden: true }, searchFiltersBar, searchResults);
  let searchTimer = null;
  let searchGen = 0;

  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    runSearch();
  });
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 300);
  });
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && searchInput.value) {
      e.preventDefault();
      searchInput.value = '';
      runSearch();
    }
  });

  function setSearchFilter(name, value) {
    if (searchFilters[name] === value) return;
    searchFilters[name] = value;
    clearTimeout(searchTimer);
    clearFiltersBtn.hidden = !anySearchFilter();
    runSearch();
  }

  function filterSelect(name, label, options) {
    const select = h('select', {
      class: 'input select select-sm', testid: `search-filter-${name}`,
      onChange: () => setSearchFilter(name, select.value),
    }, options.map((o) => h('option', { value: o.value, selected: o.value === searchFilters[name] }, o.label)));
    return h('label', { class: 'search-filter' }, h('span', { class: 'muted small' }, label), select);
  }

  // The tag box, its suggestions and "Clear filters" stay put while the selects are redrawn.
  let tagTimer = null;
  const tagList = h('datalist', { id: 'search-filter-tags' });
  const tagInput = h('input', {
    type: 'text', class: 'input input-sm', testid: 'search-filter-tag', value: searchFilters.tag, autocomplete: 'off',
    list: 'search-filter-tags', placeholder: t('inbox.searchFilter.anyTag'),
  });
  function applyTag() {
    clearTimeout(tagTimer);
    searchFilters.tag = tagInput.value.trim().replace(/^#/, '');
    clearFiltersBtn.hidden = !anySearchFilter();
    runSearch();
  }
  tagInput.addEventListener('input', () => {
    clearTimeout(tagTimer);
    tagTimer = setTimeout(applyTag, 300);
  });
  tagInput.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    applyTag();
  });
  const tagField = h('label', { class: 'search-filter' }, h('span', { class: 'muted small' }, t('inbox.searchFilter.tag')), tagInput);
  const clearFiltersBtn = h('button', {
    type: 'button', class: 'btn btn-link btn-inline search-filters-clear', testid: 'search-filters-clear',
    onClick: () => {
      for (const f of SEARCH_FILTERS) searchFilters[f.param] = '';
      clearTimeout(tagTimer);
      tagInput.value = '';
      renderSearchFilters();
      runSearch();
    },
  }, t('inbox.searchFilter.clear'));

  function renderTagList() {
    replace(tagList, tags.map((tg) => h('option', { value: tg.tag })));
  }

  function renderSearchFilters() {
    const me = myId();
    const assigneeOptions = [
      { value: '', label: t('inbox.searchFilter.anyone') },
      { value: 'me', label: t('inbox.searchFilter.me') },
      { value: 'none', label: t('inbox.unassigned') },
      ...agents.filter((a) => (a.active && a.id !== me) || a.id === searchFilters.assignee).map((a) => ({ value: a.id, label: a.name })),
    ];
    if (searchFilters.assignee && !assigneeOptions.some((o) => o.value === searchFilters.assignee)) {
      assigneeOptions.push({ value: searchFilters.assignee, label: searchFilters.assignee });
    }
    clearFiltersBtn.hidden = !anySearchFilter();
    replace(searchFiltersBar,
      filterSelect('status', t('inbox.searchFilter.status'),
        [{ value: '', label: t('inbox.searchFilter.any') }, ...STATUSES.map((x) => ({ value: x, label: statusLabel(x) }))]),
      filterSelect('channel', t('inbox.searchFilter.channel'),
        [{ value: '', label: t('inbox.searchFilter.any') }, ...CHANNELS.map((x) => ({ value: x, label: channelLabel(x) }))]),
      filterSelect('priority', t('inbox.searchFilter.priority'),
        [{ value: '', label: t('inbox.searchFilter.any') }, ...PRIORITIES.map((x) => ({ value: x, label: priorityLabel(x) }))]),
      filterSelect('assignee', t('inbox.searchFilter.assignee'), assigneeOptions),
      tagField, tagList, clearFiltersBtn);
  }

  function anySearchFilter() {
    return SEARCH_FILTERS.some((f) => searchFilters[f.param]);
  }

  async function runSearch() {
    const q = searchInput.value.trim();
    const mine = ++searchGen;
    const url = new URL(window.location.href);
    if (q) url.searchParams.set('q', q);
    else url.searchParams.delete('q');
    for (const f of SEARCH_FILTERS) {
      // The filters belong to a search: the URL keeps them only while there is one.
      if (q && searchFilters[f.param]) url.searchParams.set(f.key, searchFilters[f.param]);
      else url.searchParams.delete(f.key);
    }
    window.history.replaceState(null, '', url.pathname + url.search);
    if (!q) {
      searchActive = false;
      searchSlot.hidden = true;
      listCard.hidden = false;
      return;
    }
    searchActive = true;
    searchSlot.hidden = false;
    listCard.hidden = true;
    replace(searchResults, spinner(t('inbox.searching')));
    const query = { q, limit: 30 };
    for (const f of SEARCH_FILTERS) if (searchFilters[f.param]) query[f.param] = searchFilters[f.param];
    let res;
    try {
      res = await api.get('/search', { query });
    } catch (err) {
      if (ctx.alive && mine === searchGen) replace(searchResults, problemAlert(err, 'search-error'));
      return;
    }
    if (!ctx.alive || mine !== searchGen) return;
    const convs = res.conversations || [];
    const contacts = res.contacts || [];
    replace(searchResults,
      h('div', { class: 'search-head' },
        h('span', { class: 'strong', testid: 'search-summary' }, t(anySearchFilter() ? 'inbox.searchSummaryFiltered' : 'inbox.searchSummary', { count: convs.length, q })),
        h('span', { class: 'muted small' }, t('inbox.searchTook', { ms: Math.round(res.took_ms || 0) })),
        h('button', { type: 'button', class: 'btn btn-link btn-inline', testid: 'search-clear', onClick: () => { searchInput.value = ''; runSearch(); } }, t('inbox.clearSearch'))),
      convs.length
        ? h('ul', { class: 'search-list' }, convs.map((m) => h('li', { class: 'search-hit', testid: 'search-result', dataset: { id: m.conversation.id, number: m.conversation.number, status: m.conversation.status } },
          h('div', { class: 'conv-line' },
            h('span', { class: 'conv-number' }, `#${m.conversation.number}`),
            h('a', { href: conversationPath(m.conversation), 'data-route': '', class: 'conv-subject', testid: 'search-result-link' }, m.conversation.subject || t('inbox.noSubject')),
            statusBadge(m.conversation.status),
            m.conversation.priority !== 'normal' ? priorityBadge(m.conversation.priority) : null),
          h('div', { class: 'conv-meta' },
            h('span', null, m.conversation.contact_name),
            h('span', null, channelLabel(m.conversation.channel)),
            identityBadge(m.conversation, { compact: true }),
            m.conversation.assignee_name ? h('span', null, m.conversation.assignee_name) : null,
            (m.conversation.tags || []).slice(0, 4).map((tg) => h('span', { class: 'tag-pill' }, `#${tg}`))),
          m.snippet ? highlightedSnippet(m.snippet, m.highlights) : null)))
        : emptyState(anySearchFilter() ? t('inbox.searchEmptyFiltered') : t('inbox.searchEmpty'), 'search-empty'),
      contacts.length ? h('div', { class: 'search-contacts' },
        h('h3', { class: 'rail-title' }, t('inbox.searchContacts')),
        h('ul', { class: 'search-list' }, contacts.map((c) => h('li', { class: 'search-hit', testid: 'search-contact' },
          h('a', { href: contactPath(c), 'data-route': '', class: 'strong link', testid: 'search-contact-link' }, c.name),
          h('span', { class: 'muted small' }, [...(c.emails || []), ...(c.phones || []), c.exchange_user_id].filter(Boolean).join(' · ')))))) : null);
  }

  // --- Toolbar and page ---------------------------------------------------------------------------

  const sortSelect = h('select', {
    class: 'input select select-sm', testid: 'inbox-sort', 'aria-label': t('inbox.sort'),
    onChange: () => {
      filters.sort = sortSelect.value;
      const url = new URL(window.location.href);
      if (filters.sort === 'last_activity') url.searchParams.delete('sort');
      else url.searchParams.set('sort', filters.sort);
      window.history.replaceState(null, '', url.pathname + url.search);
      renderRail();
      load(false);
    },
  }, SORTS.map((s) => h('option', { value: s, selected: s === filters.sort }, t(`inbox.sort.${s}`))));

  const heading = h('span', { testid: 'inbox-heading' });
  function updateTitle() {
    let label;
    if (BUILTIN.includes(filters.view)) label = t(`inbox.view.${filters.view}`);
    else label = (views.find((v) => v.id === filters.view) || {}).name || t('inbox.view.saved');
    const extra = [];
    if (filters.status) extra.push(filters.status.split(',').map(statusLabel).join(', '));
    if (filters.team) extra.push((teams.find((x) => x.id === filters.team) || {}).name || '');
    if (filters.tag) extra.push(`#${filters.tag}`);
    heading.textContent = extra.length && filters.view === 'all' ? extra.join(' · ') : [label, ...extra].join(' · ');
  }

  const toolbar = h('div', { class: 'inbox-toolbar' },
    h('h2', { class: 'inbox-heading' }, heading),
    h('div', { class: 'inbox-toolbar-end' },
      h('label', { class: 'sort-label' }, h('span', { class: 'muted small' }, t('inbox.sort')), sortSelect),
      button(null, { variant: 'ghost', size: 'sm', iconName: 'refresh', ariaLabel: t('common.refresh'), title: t('common.refresh'), testid: 'inbox-refresh', onClick: () => { load(false); loadRail(); } })));

  const listCard = h('div', { class: 'card card-flush inbox-card' }, toolbar, bulkBar, listSlot, moreRow);

  page.replaceChildren(
    pageHeader(t('inbox.title'), null, searchForm),
    h('div', { class: 'inbox-layout' },
      rail,
      h('section', { class: 'inbox-main', 'aria-label': t('inbox.listLabel') }, listCard, searchSlot)));

  // --- Keyboard: j / k move, Enter / o opens, x selects ------------------------------------------

  function applyFocus() {
    for (const r of rows.values()) r.tr.classList.remove('is-focused');
    if (focusIndex < 0 || focusIndex >= order.length) return;
    const r = rows.get(order[focusIndex]);
    if (!r) return;
    r.tr.classList.add('is-focused');
    r.tr.scrollIntoView({ block: 'nearest' });
  }

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const el = e.target;
    if (el && (el.closest('input, textarea, select, [contenteditable="true"]') || el.closest('dialog'))) return;
    if (searchActive) return;
    if (e.key === 'j' || e.key === 'k') {
      e.preventDefault();
      focusIndex = Math.max(0, Math.min(order.length - 1, focusIndex + (e.key === 'j' ? 1 : -1)));
      applyFocus();
    } else if ((e.key === 'Enter' || e.key === 'o') && focusIndex >= 0 && order[focusIndex]) {
      e.preventDefault();
      app.navigate(conversationPath(rows.get(order[focusIndex]).conversation));
    } else if (e.key === 'x' && focusIndex >= 0 && order[focusIndex]) {
      e.preventDefault();
      const cb = rows.get(order[focusIndex]).tr.querySelector('[data-testid="select-conversation"]');
      if (cb) cb.click();
    } else if (e.key === '/') {
      e.preventDefault();
      searchInput.focus();
    }
  }
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));

  // --- Live updates ----------------------------------------------------------------------------------

  ctx.onCleanup(onLive((ev) => {
    if (!ctx.alive) return;
    switch (ev.type) {
      case 'conversation_created':
      case 'message_created':
        refreshListSoon();
        refreshCountsSoon();
        break;
      case 'conversation_updated':
        refreshOne(ev.conversation_id);
        refreshListSoon();
        refreshCountsSoon();
        break;
      case 'reconnected':
        refreshListSoon();
        refreshCountsSoon();
        break;
      default:
    }
  }));
  ctx.onCleanup(() => { clearTimeout(refreshTimer); clearTimeout(countsTimer); clearTimeout(searchTimer); clearTimeout(tagTimer); });

  updateTitle();
  loadRail();
  load(false);
  renderSearchFilters();
  loadAgents().then((list) => { agents = list; if (ctx.alive) { renderBulk(); renderSearchFilters(); } }).catch(() => {});
  if (searchInput.value) runSearch();
}
