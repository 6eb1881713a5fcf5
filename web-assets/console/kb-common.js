// What the help-center pages and the conversation view share: the tabs of
// the Help center page, category names, status badges, rendering the
// server's sanitized article HTML, and the "Insert article" search popover
// of the reply box.

import { h, badge, icon, replace, button, toastProblem } from '../shared/ui.js';
import { api, seg } from '../shared/api.js';
import { t, getLanguage } from '../shared/i18n.js';
import { LOCALES, localeLabel, isSupervisor, highlightedSnippet } from './inbox-common.js';

export const KB_BASE = '/console/help-center';
export const KB_LOCALES = LOCALES;
export const KB_STATUSES = ['draft', 'published'];
export const KB_KINDS = ['article', 'announcement'];

export function articlePath(id) {
  return `${KB_BASE}/articles/${encodeURIComponent(id)}`;
}

/** The editor for a new article, prefilled from `params` (translation_of, category, section, tags, locale, kind, title). */
export function newArticlePath(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const qs = q.toString();
  return `${KB_BASE}/articles/new${qs ? `?${qs}` : ''}`;
}

/** A category's (or section's) name in the interface language, else English, else any, else its slug. */
export function categoryName(c, lang = getLanguage()) {
  if (!c) return '';
  const names = c.names || {};
  return names[lang] || names.en || Object.values(names).find(Boolean) || c.slug;
}

export function statusLabel(s) {
  return t(`kb.status.${s}`);
}

export function kindLabel(k) {
  return t(`kb.kind.${k}`);
}

export function articleStatusBadge(s, props = {}) {
  return badge(statusLabel(s), s === 'published' ? 'success' : 'neutral', { testid: 'kb-status-badge', dataset: { status: s }, ...props });
}

/** A small locale badge ("EN", "简", "繁"-style label from the catalogue). */
export function localeBadge(locale, props = {}) {
  return badge(t(`kb.localeShort.${locale}`), 'info', { title: localeLabel(locale), dataset: { locale }, ...props });
}

/** Words from a comma (or Chinese comma) separated list. */
export function splitList(v) {
  return String(v || '').split(/[,，、\n]+/).map((x) => x.trim()).filter(Boolean);
}

/** Categories sorted by position, then slug. */
export function sortCategories(list) {
  return [...(list || [])].sort((a, b) => (a.position - b.position) || a.slug.localeCompare(b.slug));
}

export async function loadCategories() {
  const res = await api.get('/kb/categories');
  return sortCategories((res && res.items) || []);
}

/** The tabs of the Help center page; the Analytics tab only for supervisors and admins. */
export function kbTabs(active) {
  const tabs = [
    { key: 'articles', href: KB_BASE, label: t('kb.tab.articles') },
    { key: 'categories', href: `${KB_BASE}/categories`, label: t('kb.tab.categories') },
    { key: 'synonyms', href: `${KB_BASE}/synonyms`, label: t('kb.tab.synonyms') },
    { key: 'analytics', href: `${KB_BASE}/analytics`, label: t('kb.tab.analytics'), manager: true },
  ].filter((x) => !x.manager || isSupervisor());
  return h('nav', { class: 'kb-tabs', 'aria-label': t('kb.tabsLabel'), testid: 'kb-tabs' },
    tabs.map((x) => h('a', {
      href: x.href, 'data-route': '', class: ['kb-tab', x.key === active && 'is-active'],
      testid: `kb-tab-${x.key}`, 'aria-current': x.key === active ? 'page' : null,
    }, x.label)));
}

const DROP_TAGS = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'LINK', 'META', 'BASE', 'FORM', 'FRAME', 'FRAMESET']);

/**
 * Show article HTML in `container`. The server has already sanitized it
 * (ammonia); it is parsed inertly with DOMParser and checked once more
 * (no scripts, event handlers, inline styles or javascript: links) before
 * its nodes are moved into the page. Links open in a new tab.
 */
export function renderArticleHtml(container, html) {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${String(html || '')}</body>`, 'text/html');
  for (const el of [...doc.body.querySelectorAll('*')]) {
    if (DROP_TAGS.has(el.tagName)) { el.remove(); continue; }
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'srcdoc'
        || ((name === 'href' || name === 'src' || name === 'action' || name === 'xlink:href') && /^(javascript|data|vbscript):/.test(value.replace(/\s+/g, '')))) {
        el.removeAttribute(attr.name);
      }
    }
    if (el.tagName === 'A' && el.hasAttribute('href')) {
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
  }
  replace(container, ...doc.body.childNodes);
}

// --- "Insert article" in the reply box ---------------------------------------------------------------

let popoverSeq = 0;

/**
 * The reply box's "Insert article" button and its search popover.
 * `getLocale()` gives the conversation's language (or null); `onInsert(text)`
 * puts text into the reply at the cursor.
 */
export function articleInsertButton({ getLocale, onInsert }) {
  const id = `kb-insert-${++popoverSeq}`;
  const trigger = h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', testid: 'kb-insert-open', popovertarget: id,
    'aria-haspopup': 'dialog', title: t('kb.insert.hint'),
  }, icon('file'), h('span', { class: 'btn-label' }, t('kb.insert.open')));

  const input = h('input', {
    type: 'search', class: 'input input-sm', testid: 'kb-insert-q', autocomplete: 'off', maxlength: '200',
    placeholder: t('kb.insert.placeholder'), 'aria-label': t('kb.insert.search'),
  });
  const status = h('p', { class: 'kb-insert-status muted small', role: 'status', 'aria-live': 'polite', testid: 'kb-insert-status' }, t('kb.insert.typeToSearch'));
  const results = h('ul', { class: 'kb-insert-results', testid: 'kb-insert-results' });
  const panel = h('div', {
    id, popover: 'auto', class: 'kb-insert-popover', role: 'dialog', 'aria-label': t('kb.insert.title'), testid: 'kb-insert-popover',
  },
  h('div', { class: 'kb-insert-head' },
    h('span', { class: 'suggest-title' }, t('kb.insert.title')),
    h('button', { type: 'button', class: 'modal-close', 'aria-label': t('common.close'), onClick: () => panel.hidePopover() }, icon('x'))),
  input, status, results);

  let timer = null;
  let gen = 0;

  async function search() {
    const q = input.value.trim();
    const mine = ++gen;
    if (!q) {
      replace(results);
      status.textContent = t('kb.insert.typeToSearch');
      return;
    }
    status.textContent = t('common.loading');
    try {
      const locale = getLocale ? getLocale() : null;
      const res = await api.get('/kb/search', { query: { q, locale: KB_LOCALES.includes(locale) ? locale : null, limit: 8 } });
      if (mine !== gen) return;
      const hits = (res && res.hits) || [];
      status.textContent = hits.length ? t('kb.insert.count', { n: hits.length }) : t('kb.insert.none', { q });
      replace(results, hits.map(resultItem));
    } catch (err) {
      if (mine !== gen) return;
      replace(results);
      status.textContent = t('kb.insert.failed');
      toastProblem(err);
    }
  }

  function done(text) {
    panel.hidePopover();
    onInsert(text);
  }

  function resultItem(hit) {
    const linkBtn = button(t('kb.insert.link'), {
      size: 'sm', testid: 'kb-insert-link',
      onClick: () => done(`${hit.title}: ${window.location.origin}${hit.url}`),
    });
    const textBtn = button(t('kb.insert.text'), {
      size: 'sm', testid: 'kb-insert-text',
      onClick: async () => {
        textBtn.disabled = true;
        try {
          const a = await api.get(`/kb/articles/${seg(hit.id)}`);
          done([a.title, a.summary, a.body].map((x) => String(x || '').trim()).filter(Boolean).join('\n\n'));
        } catch (err) {
          toastProblem(err);
        } finally {
          textBtn.disabled = false;
        }
      },
    });
    return h('li', { class: 'kb-insert-hit', testid: 'kb-insert-result', dataset: { id: hit.id, slug: hit.slug, locale: hit.locale } },
      h('div', { class: 'kb-insert-hit-head' },
        localeBadge(hit.locale, { class: 'badge-compact' }),
        h('span', { class: 'kb-insert-hit-title strong' }, hit.title)),
      hit.snippet ? h('p', { class: 'kb-insert-snippet muted small' }, highlightedSnippet(hit.snippet, hit.highlights))
        : (hit.summary ? h('p', { class: 'kb-insert-snippet muted small' }, hit.summary) : null),
      h('div', { class: 'kb-insert-actions' }, linkBtn, textBtn));
  }

  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); search(); }
  });

  function place() {
    const r = trigger.getBoundingClientRect();
    const w = panel.offsetWidth;
    const ht = panel.offsetHeight;
    const gap = 6;
    let top = r.top - gap - ht;
    if (top < 8) top = Math.min(r.bottom + gap, Math.max(8, window.innerHeight - ht - 8));
    let left = r.left;
    if (left + w > window.innerWidth - 8) left = window.innerWidth - 8 - w;
    if (left < 8) left = 8;
    // Positioning a top-layer popover needs coordinates; CSSOM writes are allowed by the CSP.
    panel.style.top = `${Math.round(top)}px`;
    panel.style.left = `${Math.round(left)}px`;
  }
  const onResize = () => { if (panel.matches(':popover-open')) place(); };
  const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(onResize) : null;
  panel.addEventListener('toggle', (e) => {
    trigger.setAttribute('aria-expanded', String(e.newState === 'open'));
    if (e.newState === 'open') {
      place();
      if (observer) observer.observe(panel);
      window.addEventListener('resize', onResize, { passive: true });
      input.focus();
      input.select();
    } else {
      if (observer) observer.disconnect();
      window.removeEventListener('resize', onResize);
      clearTimeout(timer);
    }
  });
  return h('span', { class: 'kb-insert' }, trigger, panel);
}
