// The help center (knowledge base) in the console: the article list with
// filters, categories and their sections, search synonyms, and search
// analytics (supervisors and admins). The article editor is in kb-editor.js.

import {
  h, field, button, bindForm, badge, table, toast, toastProblem, confirmDialog, openModal, replace,
  spinner, problemAlert, menu, timeCell, alertBox, withBusy, fieldErrorState, emptyState, clearProblem, showProblem, icon,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey, ApiError } from '../../shared/api.js';
import { t, formatNumber, getLanguage } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { app } from '../context.js';
import { localeLabel, isSupervisor } from '../inbox-common.js';
import {
  KB_BASE, KB_LOCALES, KB_STATUSES, KB_KINDS, articlePath, newArticlePath, categoryName, statusLabel, kindLabel,
  articleStatusBadge, localeBadge, splitList, sortCategories, loadCategories, kbTabs,
} from '../kb-common.js';

const PAGE_SIZE = 50;

function header(description, actions) {
  return pageHeader(t('nav.helpCenter'), description, actions);
}

function filterSelect({ name, label, value, options, testid, onChange }) {
  const select = h('select', { class: 'input select select-sm', testid, name, onChange },
    options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  return { el: h('label', { class: 'search-filter' }, h('span', { class: 'muted small' }, label), select), select };
}

// --- Articles -----------------------------------------------------------------------------------------

export function kbArticlesView(page, ctx) {
  const params = ctx.query;
  const filters = {
    q: params.get('q') || '',
    locale: params.get('locale') || '',
    status: params.get('status') || '',
    kind: params.get('kind') || '',
    category: params.get('category') || '',
  };
  let categories = [];
  let offset = 0;
  let tbl = null;
  let shown = [];
  const listSlot = h('div', null, spinner());
  const totalSlot = h('span', { class: 'muted small kb-total', testid: 'kb-article-total', role: 'status' });
  const loadMore = button(t('common.loadMore'), { testid: 'kb-load-more', onClick: () => load(true) });
  const moreRow = h('div', { class: 'load-more', hidden: true }, loadMore);

  const q = h('input', {
    type: 'search', class: 'input input-sm kb-filter-q', testid: 'kb-filter-q', value: filters.q,
    placeholder: t('kb.list.searchPlaceholder'), 'aria-label': t('kb.list.search'),
  });
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => apply({ q: q.value.trim() }), 250); });
  ctx.onCleanup(() => clearTimeout(timer));

  const locale = filterSelect({
    name: 'locale', label: t('kb.field.locale'), value: filters.locale, testid: 'kb-filter-locale',
    options: [{ value: '', label: t('kb.list.allLocales') }, ...KB_LOCALES.map((l) => ({ value: l, label: localeLabel(l) }))],
    onChange: (e) => apply({ locale: e.target.value }),
  });
  const status = filterSelect({
    name: 'status', label: t('kb.field.status'), value: filters.status, testid: 'kb-filter-status',
    options: [{ value: '', label: t('kb.list.allStatuses') }, ...KB_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))],
    onChange: (e) => apply({ status: e.target.value }),
  });
  const kind = filterSelect({
    name: 'kind', label: t('kb.field.kind'), value: filters.kind, testid: 'kb-filter-kind',
    options: [{ value: '', label: t('kb.list.allKinds') }, ...KB_KINDS.map((k) => ({ value: k, label: kindLabel(k) }))],
    onChange: (e) => apply({ kind: e.target.value }),
  });
  const category = filterSelect({
    name: 'category', label: t('kb.field.category'), value: filters.category, testid: 'kb-filter-category',
    options: [{ value: '', label: t('kb.list.allCategories') }],
    onChange: (e) => apply({ category: e.target.value }),
  });
  const clearBtn = h('button', {
    type: 'button', class: 'btn btn-link btn-inline search-filters-clear', testid: 'kb-filter-clear',
    onClick: () => { q.value = ''; locale.select.value = ''; status.select.value = ''; kind.select.value = ''; category.select.value = ''; apply({ q: '', locale: '', status: '', kind: '', category: '' }); },
  }, t('kb.list.clearFilters'));

  function fillCategoryOptions() {
    const top = categories.filter((c) => !c.parent);
    replace(category.select,
      h('option', { value: '', selected: !filters.category }, t('kb.list.allCategories')),
      top.map((c) => h('option', { value: c.slug, selected: c.slug === filters.category }, categoryName(c))),
      filters.category && !top.some((c) => c.slug === filters.category)
        ? h('option', { value: filters.category, selected: true }, filters.category) : null);
  }

  function syncUrl() {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) s.set(k, v);
    const qs = s.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${qs ? `?${qs}` : ''}`);
  }

  function apply(next) {
    Object.assign(filters, next);
    syncUrl();
    clearBtn.hidden = !Object.values(filters).some(Boolean);
    load(false);
  }

  const bySlug = () => new Map(categories.map((c) => [c.slug, c]));

  function categoryCell(a) {
    if (!a.category) return null;
    const map = bySlug();
    const cat = map.get(a.category);
    const sec = a.section ? map.get(a.section) : null;
    return h('span', { class: 'cell-stack-vertical', testid: 'kb-article-category', dataset: { category: a.category } },
      h('span', null, cat ? categoryName(cat) : a.category),
      a.section ? h('span', { class: 'muted small' }, sec ? categoryName(sec) : a.section) : null);
  }

  function translationsCell(a) {
    const list = [...(a.translations || [])].sort((x, y) => KB_LOCALES.indexOf(x.locale) - KB_LOCALES.indexOf(y.locale));
    if (!list.length) return h('span', { class: 'muted small' }, t('kb.list.noTranslations'));
    return h('span', { class: 'badge-list', testid: 'kb-article-translations' }, list.map((tr) => h('a', {
      href: articlePath(tr.id), 'data-route': '', class: 'kb-locale-link', testid: 'kb-article-translation',
      title: `${tr.title} · ${statusLabel(tr.status)}`, dataset: { locale: tr.locale, id: tr.id },
    }, localeBadge(tr.locale, { class: tr.status === 'draft' ? 'kb-badge-draft' : null }))));
  }

  const columns = [
    {
      label: t('kb.field.title'),
      render: (a) => h('div', { class: 'cell-stack-vertical' },
        h('span', { class: 'kb-title-line' },
          h('a', { href: articlePath(a.id), 'data-route': '', class: 'link strong', testid: 'kb-article-title' }, a.title),
          a.kind === 'announcement' ? badge(kindLabel('announcement'), 'brand', { class: 'badge-compact', testid: 'kb-article-kind' }) : null),
        h('code', { class: 'muted small mono', testid: 'kb-article-slug' }, a.slug)),
    },
    { label: t('kb.field.locale'), className: 'cell-nowrap', render: (a) => h('span', { testid: 'kb-article-locale', dataset: { locale: a.locale } }, localeLabel(a.locale)) },
    { label: t('kb.field.status'), className: 'cell-nowrap', render: (a) => articleStatusBadge(a.status) },
    { label: t('kb.field.category'), render: categoryCell },
    { label: t('kb.list.updated'), className: 'cell-nowrap', render: (a) => timeCell(a.updated_at) },
    { label: t('kb.list.translations'), render: translationsCell },
  ];

  let gen = 0;
  async function load(more) {
    const mine = ++gen;
    if (!more) {
      offset = 0;
      moreRow.hidden = true;
    }
    let res;
    try {
      res = await withBusy(more ? loadMore : null, () => api.get('/kb/articles', {
        query: { ...filters, limit: PAGE_SIZE, offset },
      }));
    } catch (err) {
      if (!ctx.alive || mine !== gen) return;
      if (more) toastProblem(err);
      else replace(listSlot, problemAlert(err, 'kb-articles-error'));
      return;
    }
    if (!ctx.alive || mine !== gen) return;
    const items = (res && res.items) || [];
    const total = (res && res.total) || 0;
    if (!more) {
      const filtered = Object.values(filters).some(Boolean);
      tbl = table({
        columns, rows: [], testid: 'kb-articles-table', caption: t('kb.tab.articles'),
        empty: filtered ? t('kb.list.emptyFiltered') : t('kb.list.empty'),
        rowProps: (a) => ({ testid: 'kb-article-row', dataset: { id: a.id, slug: a.slug, locale: a.locale, status: a.status } }),
      });
      replace(listSlot, tbl.el);
      shown = [];
    }
    shown.push(...items);
    tbl.appendRows(items);
    offset += items.length;
    totalSlot.textContent = t('kb.list.total', { n: formatNumber(total) });
    moreRow.hidden = offset >= total || items.length === 0;
  }

  const newBtn = h('a', {
    href: newArticlePath(), 'data-route': '', class: 'btn btn-primary', testid: 'kb-new-article',
  }, icon('plus'), h('span', { class: 'btn-label' }, t('kb.list.new')));

  replace(page, 
    header(t('kb.description'), newBtn),
    kbTabs('articles'),
    h('div', { class: 'card card-flush' },
      h('div', { class: 'card-toolbar' },
        h('div', { class: 'filter-bar', role: 'search', testid: 'kb-filters' },
          h('label', { class: 'search-filter kb-filter-search' }, h('span', { class: 'muted small' }, t('kb.list.search')), q),
          locale.el, status.el, kind.el, category.el, clearBtn, h('span', { class: 'topbar-spacer' }), totalSlot)),
      listSlot,
      moreRow));
  clearBtn.hidden = !Object.values(filters).some(Boolean);
  fillCategoryOptions();
  loadCategories().then((list) => {
    if (!ctx.alive) return;
    categories = list;
    fillCategoryOptions();
    // Show category names instead of slugs in the rows already there.
    if (tbl) tbl.setRows(shown);
  }).catch(() => {});
  load(false);
}

// --- Categories -------------------------------------------------------------------------------------

const ICONS = ['shield', 'wallet', 'chart', 'coins', 'people', 'code', 'alert', 'megaphone'];

function categoryModal({ item, parent, categories, onSaved }) {
  const editing = !!item;
  const top = categories.filter((c) => !c.parent && (!item || c.id !== item.id));
  const hasSections = item && categories.some((c) => c.parent === item.slug);
  const slug = field({
    name: 'slug', label: t('kb.category.slug'), testid: 'kb-category-slug', required: true, autocomplete: 'off',
    value: item ? item.slug : '', hint: t('kb.category.slugHint'),
    validate: (v) => (/^[a-z0-9]+(-[a-z0-9]+)*$/.test(v.trim()) ? null : t('kb.editor.slugInvalid')),
  });
  const parentField = field({
    name: 'parent', type: 'select', label: t('kb.category.parent'), testid: 'kb-category-parent',
    value: item ? (item.parent || '') : (parent || ''), hint: t('kb.category.parentHint'),
    options: [{ value: '', label: t('kb.category.noParent') }, ...top.map((c) => ({ value: c.slug, label: categoryName(c) }))],
    disabled: !!hasSections,
  });
  const position = field({
    name: 'position', type: 'number', label: t('kb.category.position'), testid: 'kb-category-position',
    value: String(item ? item.position : (categories.filter((c) => (c.parent || '') === (parent || '')).length + 1) * 10),
    attrs: { step: '1' },
  });
  const iconField = field({
    name: 'icon', type: 'select', label: t('kb.category.icon'), testid: 'kb-category-icon', value: item ? item.icon : '',
    options: [{ value: '', label: t('kb.category.noIcon') }, ...ICONS.map((x) => ({ value: x, label: t(`kb.icon.${x}`) })),
      ...(item && item.icon && !ICONS.includes(item.icon) ? [{ value: item.icon, label: item.icon }] : [])],
  });
  const names = KB_LOCALES.map((l) => field({
    name: `names.${l}`, label: t('kb.category.nameIn', { language: localeLabel(l) }), testid: `kb-category-name-${l}`,
    value: item ? (item.names || {})[l] || '' : '', autocomplete: 'off', attrs: { lang: l },
  }));
  const descriptions = KB_LOCALES.map((l) => field({
    name: `descriptions.${l}`, type: 'textarea', rows: 2, label: t('kb.category.descriptionIn', { language: localeLabel(l) }),
    testid: `kb-category-description-${l}`, value: item ? (item.descriptions || {})[l] || '' : '', optional: true, attrs: { lang: l },
  }));
  const submit = button(editing ? t('common.save') : t('kb.category.create'), { variant: 'primary', type: 'submit', testid: 'kb-category-submit' });
  const alertSlot = h('div', { class: 'form-alert' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'kb-category-form' },
    alertSlot,
    h('div', { class: 'grid-2' }, slug.el, parentField.el),
    h('div', { class: 'grid-2' }, position.el, iconField.el),
    h('fieldset', { class: 'fieldset' }, h('legend', { class: 'field-label' }, t('kb.category.names')), names.map((f) => f.el)),
    h('details', { class: 'kb-details', open: descriptions.some((f) => f.value) },
      h('summary', null, t('kb.category.descriptions')),
      h('div', { class: 'form' }, descriptions.map((f) => f.el))),
    h('div', { class: 'button-row button-row-end' }, button(t('common.cancel'), { onClick: () => m.close() }), submit));
  const idem = idempotencyKey();
  const fields = [slug, parentField, position, iconField, ...names, ...descriptions];
  bindForm(form, {
    fields, submitButton: submit, alertSlot,
    fieldMap: { names: names[0], descriptions: descriptions[0] },
    validate: () => {
      if (names.some((f) => f.value.trim())) return true;
      names[0].setError(t('kb.category.needName'));
      names[0].input.focus();
      return false;
    },
    onSubmit: async () => {
      const pick = (list) => Object.fromEntries(KB_LOCALES.map((l, i) => [l, list[i].value.trim()]).filter(([, v]) => v));
      const payload = {
        slug: slug.value.trim(), parent: parentField.value || null, position: Number.parseInt(position.value, 10) || 0,
        icon: iconField.value, names: pick(names), descriptions: pick(descriptions),
      };
      let saved;
      try {
        if (editing) {
          saved = await api.put(`/kb/categories/${seg(item.id)}`, payload);
        } else {
          saved = await api.post('/kb/categories', payload, { idempotencyKey: idem });
          idem.settle(null);
        }
      } catch (err) {
        if (!editing) idem.settle(err);
        if (err instanceof ApiError && err.code === 'slug_taken') {
          slug.setError(t('kb.category.slugTaken'));
          slug.input.focus();
          return;
        }
        throw err;
      }
      m.close();
      toast(editing ? t('kb.category.saved', { name: categoryName(saved) }) : t('kb.category.created', { name: categoryName(saved) }));
      onSaved(saved);
    },
  });
  const m = openModal({
    title: editing ? t('kb.category.editTitle') : (parent ? t('kb.category.newSectionTitle') : t('kb.category.newTitle')),
    body: form, testid: 'kb-category-dialog', size: 'lg',
  });
}

export function kbCategoriesView(page, ctx) {
  const manager = isSupervisor();
  const listSlot = h('div', null, spinner());
  let categories = [];

  async function remove(c) {
    const isSection = !!c.parent;
    const ok = await confirmDialog({
      title: t(isSection ? 'kb.category.deleteSectionTitle' : 'kb.category.deleteTitle', { name: categoryName(c) }),
      message: t(isSection ? 'kb.category.deleteSectionText' : 'kb.category.deleteText'),
      confirmLabel: t('kb.category.delete'), danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/kb/categories/${seg(c.id)}`);
      toast(t('kb.category.deleted', { name: categoryName(c) }));
      load();
    } catch (err) {
      toastProblem(err);
    }
  }

  const reload = () => { if (ctx.alive) load(); };

  const columns = [
    {
      label: t('kb.category.name'),
      render: (c) => h('div', { class: ['cell-stack-vertical', c.parent && 'kb-section-cell'] },
        h('span', { class: ['strong', c.parent && 'kb-section-name'], testid: 'kb-category-name' },
          c.parent ? h('span', { class: 'muted', 'aria-hidden': 'true' }, '↳ ') : null, categoryName(c)),
        h('code', { class: 'muted small mono', testid: 'kb-category-slug-text' }, c.slug)),
    },
    {
      label: t('kb.category.type'), className: 'cell-nowrap',
      render: (c) => (c.parent ? badge(t('kb.category.section'), 'neutral') : badge(t('kb.category.category'), 'info')),
    },
    {
      label: t('kb.category.names'),
      render: (c) => h('ul', { class: 'kb-name-list' }, KB_LOCALES.map((l) => h('li', { lang: l, dataset: { locale: l } },
        h('span', { class: 'muted small' }, `${t(`kb.localeShort.${l}`)} `),
        (c.names || {})[l] || h('span', { class: 'muted' }, '—')))),
    },
    { label: t('kb.category.position'), className: 'cell-number', render: (c) => String(c.position) },
    {
      label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
      render: (c) => (manager ? menu({
        label: t('common.actions'), testid: 'kb-category-actions', ariaLabel: t('kb.category.actionsFor', { name: categoryName(c) }),
        items: [
          { label: t('kb.category.edit'), testid: 'kb-category-edit', onSelect: () => categoryModal({ item: c, categories, onSaved: reload }) },
          { label: t('kb.category.addSection'), testid: 'kb-category-add-section', hidden: !!c.parent, onSelect: () => categoryModal({ parent: c.slug, categories, onSaved: reload }) },
          { label: t('kb.category.viewArticles'), testid: 'kb-category-articles', hidden: !!c.parent, onSelect: () => app.navigate(`${KB_BASE}?category=${encodeURIComponent(c.slug)}`) },
          { label: t('kb.category.delete'), testid: 'kb-category-delete', danger: true, onSelect: () => remove(c) },
        ],
      }) : null),
    },
  ];

  async function load() {
    try {
      const list = await loadCategories();
      if (!ctx.alive) return;
      categories = list;
      // Each category followed by its sections.
      const rows = [];
      const top = sortCategories(list.filter((c) => !c.parent));
      for (const c of top) {
        rows.push(c);
        rows.push(...sortCategories(list.filter((s) => s.parent === c.slug)));
      }
      rows.push(...list.filter((s) => s.parent && !top.some((c) => c.slug === s.parent)));
      replace(listSlot, table({
        columns, rows, testid: 'kb-categories-table', caption: t('kb.tab.categories'), empty: t('kb.category.empty'),
        rowProps: (c) => ({ testid: 'kb-category-row', class: c.parent ? 'kb-section-row' : null, dataset: { id: c.id, slug: c.slug, parent: c.parent || '' } }),
      }).el);
    } catch (err) {
      if (ctx.alive) replace(listSlot, problemAlert(err));
    }
  }

  const newBtn = manager ? button(t('kb.category.new'), {
    variant: 'primary', iconName: 'plus', testid: 'kb-new-category',
    onClick: () => categoryModal({ categories, onSaved: reload }),
  }) : null;
  replace(page, 
    header(t('kb.category.description'), newBtn),
    kbTabs('categories'),
    manager ? null : alertBox('info', null, t('kb.category.readOnly'), { testid: 'kb-categories-readonly' }),
    h('div', { class: 'card card-flush' }, listSlot));
  load();
}

// --- Synonyms ----------------------------------------------------------------------------------------

/** Groups from the textarea: one per non-empty line, with the line number each came from. */
function parseGroups(text) {
  const groups = [];
  const lines = [];
  String(text || '').split('\n').forEach((line, i) => {
    const words = splitList(line);
    if (words.length) {
      groups.push(words);
      lines.push(i + 1);
    }
  });
  return { groups, lines };
}

function formatGroups(groups) {
  return (groups || []).map((g) => g.join(', ')).join('\n');
}

export function kbSynonymsView(page, ctx) {
  const manager = isSupervisor();
  const slot = h('div', null, spinner());

  const textarea = h('textarea', {
    class: 'input textarea kb-synonyms-input', testid: 'kb-synonyms', id: 'kb-synonyms', rows: 16, spellcheck: 'false',
    readOnly: !manager, 'aria-describedby': 'kb-synonyms-hint',
  });
  const errorEl = h('div', { class: 'field-error', hidden: true, testid: 'kb-synonyms-error', role: 'alert' });
  const fieldEl = h('div', { class: 'field' },
    h('label', { class: 'field-label', htmlFor: 'kb-synonyms' }, t('kb.synonyms.label')),
    textarea,
    h('p', { class: 'field-hint', id: 'kb-synonyms-hint' }, t('kb.synonyms.hint')),
    errorEl);
  const state = fieldErrorState(fieldEl, errorEl);
  const count = h('span', { class: 'muted small', testid: 'kb-synonyms-count', role: 'status' });
  const updateCount = () => { count.textContent = t('kb.synonyms.count', { n: parseGroups(textarea.value).groups.length }); };
  textarea.addEventListener('input', () => { updateCount(); state.clearError(); });
  const alertSlot = h('div', { class: 'form-alert' });
  const save = button(t('kb.synonyms.save'), { variant: 'primary', type: 'submit', testid: 'kb-synonyms-save' });
  const form = h('form', { class: 'form', method: 'post', action: '#', testid: 'kb-synonyms-form' },
    alertSlot, fieldEl,
    manager ? h('div', { class: 'button-row' }, save, count) : count);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!manager || save.disabled) return;
    clearProblem({ alertSlot });
    state.clearError();
    const { groups, lines } = parseGroups(textarea.value);
    const bad = groups.findIndex((g) => new Set(g.map((w) => w.toLowerCase())).size < 2);
    if (bad >= 0) {
      state.setError(t('kb.synonyms.lineError', { line: lines[bad], message: t('kb.synonyms.needTwo') }));
      textarea.focus();
      return;
    }
    await withBusy(save, async () => {
      try {
        const res = await api.put('/kb/synonyms', { groups });
        if (!ctx.alive) return;
        textarea.value = formatGroups(res && res.groups);
        updateCount();
        toast(t('kb.synonyms.saved'));
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && err.problem.errors.length) {
          const messages = err.problem.errors.map((x) => {
            const m = /^groups\[(\d+)\]$/.exec(x.field || '');
            return m && lines[Number(m[1])] ? t('kb.synonyms.lineError', { line: lines[Number(m[1])], message: x.message }) : `${x.field}: ${x.message}`;
          });
          state.setError([...new Set(messages)].join(' · '));
          textarea.focus();
        } else {
          showProblem(err, { alertSlot });
        }
      }
    });
  });

  async function load() {
    try {
      const res = await api.get('/kb/synonyms');
      if (!ctx.alive) return;
      textarea.value = formatGroups(res && res.groups);
      updateCount();
      replace(slot, form);
    } catch (err) {
      if (ctx.alive) replace(slot, problemAlert(err));
    }
  }

  replace(page, 
    header(t('kb.synonyms.description')),
    kbTabs('synonyms'),
    manager ? null : alertBox('info', null, t('kb.synonyms.readOnly'), { testid: 'kb-synonyms-readonly' }),
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, slot)));
  load();
}

// --- Analytics ----------------------------------------------------------------------------------------

const DAY_CHOICES = [7, 30, 90];

function percent(part, whole) {
  if (!whole) return null;
  return new Intl.NumberFormat(getLanguage(), { style: 'percent', maximumFractionDigits: 1 }).format(part / whole);
}

function stat(label, value, testid, sub) {
  return h('div', { class: 'kb-stat', testid },
    h('span', { class: 'kb-stat-label' }, label),
    h('span', { class: 'kb-stat-value', testid: `${testid}-value` }, value),
    sub ? h('span', { class: 'kb-stat-sub muted small' }, sub) : null);
}

export function kbAnalyticsView(page, ctx) {
  if (!isSupervisor()) {
    replace(page, 
      header(null),
      kbTabs('analytics'),
      alertBox('warning', t('forbidden.title'), t('kb.analytics.forbidden'), { testid: 'kb-analytics-forbidden' }));
    return;
  }
  let days = Number.parseInt(ctx.query.get('days'), 10);
  if (!DAY_CHOICES.includes(days)) days = 30;
  const slot = h('div', { class: 'stack' }, spinner());
  const daysSel = h('select', {
    class: 'input select select-sm', testid: 'kb-analytics-days', id: 'kb-analytics-days',
    onChange: () => {
      days = Number(daysSel.value);
      window.history.replaceState(null, '', `${window.location.pathname}?days=${days}`);
      load();
    },
  }, DAY_CHOICES.map((d) => h('option', { value: String(d), selected: d === days }, t('kb.analytics.lastDays', { n: d }))));

  function queryTable(rows, testid, empty, { write = false, caption } = {}) {
    return table({
      testid, empty, caption,
      rows,
      rowProps: (r) => ({ testid: `${testid}-row`, dataset: { query: r.query } }),
      columns: [
        { label: t('kb.analytics.query'), render: (r) => h('span', { class: 'strong' }, r.query) },
        { label: t('kb.analytics.searches'), className: 'cell-number', render: (r) => formatNumber(r.searches) },
        write ? null : { label: t('kb.analytics.avgResults'), className: 'cell-number', render: (r) => formatNumber(Math.round(r.avg_results * 10) / 10) },
        write ? null : { label: t('kb.analytics.clicks'), className: 'cell-number', render: (r) => formatNumber(r.clicks) },
        write ? {
          label: h('span', { class: 'visually-hidden' }, t('common.actions')), className: 'cell-actions',
          render: (r) => h('a', { href: newArticlePath({ title: r.query }), 'data-route': '', class: 'link small', testid: 'kb-write-article' }, t('kb.analytics.writeArticle')),
        } : null,
      ].filter(Boolean),
    }).el;
  }

  function render(a) {
    const cardOf = (title, description, body, testid) => h('section', { class: 'card card-flush', testid },
      h('header', { class: 'card-header' }, h('div', { class: 'card-heading' },
        h('h2', { class: 'card-title' }, title), description ? h('p', { class: 'card-description' }, description) : null)),
      h('div', { class: 'kb-card-table' }, body));
    replace(slot,
      h('div', { class: 'kb-stats', testid: 'kb-analytics-totals' },
        stat(t('kb.analytics.totalSearches'), formatNumber(a.searches), 'kb-stat-searches'),
        stat(t('kb.analytics.totalClicks'), formatNumber(a.clicks), 'kb-stat-clicks', a.searches ? t('kb.analytics.clickRate', { rate: percent(a.clicks, a.searches) }) : null),
        stat(t('kb.analytics.zeroResults'), formatNumber(a.zero_result_searches), 'kb-stat-zero', a.searches ? t('kb.analytics.ofSearches', { rate: percent(a.zero_result_searches, a.searches) }) : null)),
      h('div', { class: 'grid-2 kb-analytics-grid' },
        cardOf(t('kb.analytics.topQueries'), null, queryTable(a.top_queries || [], 'kb-top-queries', t('kb.analytics.noSearches'), { caption: t('kb.analytics.topQueries') }), 'kb-top-queries-card'),
        cardOf(t('kb.analytics.noResultQueries'), t('kb.analytics.noResultHint'),
          queryTable(a.no_result_queries || [], 'kb-no-result-queries', t('kb.analytics.noZero'), { write: true, caption: t('kb.analytics.noResultQueries') }), 'kb-no-result-card')),
      cardOf(t('kb.analytics.poorArticles'), t('kb.analytics.poorHint'), table({
        testid: 'kb-poor-articles', caption: t('kb.analytics.poorArticles'), empty: t('kb.analytics.noPoor'),
        rows: a.poor_articles || [],
        rowProps: (r) => ({ testid: 'kb-poor-article', dataset: { id: r.id, slug: r.slug } }),
        columns: [
          {
            label: t('kb.field.title'),
            render: (r) => h('span', { class: 'cell-stack-vertical' },
              h('a', { href: articlePath(r.id), 'data-route': '', class: 'link strong' }, r.title),
              h('code', { class: 'muted small mono' }, r.slug)),
          },
          { label: t('kb.field.locale'), className: 'cell-nowrap', render: (r) => localeLabel(r.locale) },
          { label: t('kb.analytics.helpfulYes'), className: 'cell-number', render: (r) => formatNumber(r.helpful_yes) },
          { label: t('kb.analytics.helpfulNo'), className: 'cell-number', render: (r) => formatNumber(r.helpful_no) },
          { label: t('kb.analytics.helpfulRate'), className: 'cell-number', render: (r) => percent(r.helpful_yes, r.helpful_yes + r.helpful_no) || '—' },
        ],
      }).el, 'kb-poor-card'),
      cardOf(t('kb.analytics.recentComments'), null, (a.recent_comments || []).length
        ? h('ul', { class: 'kb-comments', testid: 'kb-recent-comments' }, a.recent_comments.map((c) => h('li', { class: 'kb-comment', testid: 'kb-comment', dataset: { slug: c.article_slug } },
          h('div', { class: 'kb-comment-head' },
            badge(c.helpful ? t('kb.analytics.helpful') : t('kb.analytics.notHelpful'), c.helpful ? 'success' : 'danger', { class: 'badge-compact' }),
            h('span', { class: 'strong' }, c.article_title || c.article_slug),
            h('code', { class: 'muted small mono' }, c.article_slug),
            h('span', { class: 'topbar-spacer' }),
            h('span', { class: 'muted small' }, timeCell(c.created_at))),
          h('p', { class: 'prewrap kb-comment-text' }, c.comment))))
        : emptyState(t('kb.analytics.noComments'), 'kb-recent-comments-empty'), 'kb-comments-card'));
  }

  let gen = 0;
  async function load() {
    const mine = ++gen;
    replace(slot, spinner());
    try {
      const a = await api.get('/kb/analytics', { query: { days } });
      if (!ctx.alive || mine !== gen) return;
      render(a);
    } catch (err) {
      if (ctx.alive && mine === gen) replace(slot, problemAlert(err, 'kb-analytics-error'));
    }
  }

  replace(page, 
    header(t('kb.analytics.description'),
      h('label', { class: 'kb-days', htmlFor: 'kb-analytics-days' }, h('span', { class: 'muted small' }, t('kb.analytics.period')), daysSel)),
    kbTabs('analytics'),
    slot);
  load();
}
