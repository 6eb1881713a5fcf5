// The help-center article editor: metadata, Markdown body with a live
// preview (rendered by the server), status, translations, saved versions
// (load one into the form and save to restore it), optimistic concurrency
// with `version` (409 version_conflict offers to reload).

import {
  h, field, button, bindForm, badge, toast, toastProblem, confirmDialog, replace, spinner, problemAlert,
  timeCell, alertBox, icon, dl, copyButton, withBusy,
} from '../../shared/ui.js';
import { api, seg, idempotencyKey, ApiError } from '../../shared/api.js';
import { t, formatNumber } from '../../shared/i18n.js';
import { app } from '../context.js';
import { localeLabel, isSupervisor } from '../inbox-common.js';
import {
  KB_BASE, KB_LOCALES, KB_STATUSES, KB_KINDS, articlePath, newArticlePath, categoryName, statusLabel, kindLabel,
  articleStatusBadge, localeBadge, splitList, loadCategories, renderArticleHtml,
} from '../kb-common.js';

const PREVIEW_DELAY_MS = 300;
const SLUG_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A slug for a translation of `of` into `locale`: "withdraw-crypto" → "withdraw-crypto-zh-cn". */
function translationSlug(of, locale) {
  const base = String(of || '').replace(/-(zh-cn|zh-tw|en)$/, '');
  return base ? `${base}-${String(locale).toLowerCase()}` : '';
}

/** A slug from a Latin-script title ("How to withdraw" → "how-to-withdraw"), or '' for other scripts. */
function slugFromTitle(title) {
  return String(title || '').toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '');
}

export function kbEditorView(page, ctx) {
  const id = ctx.params && ctx.params.id ? decodeURIComponent(ctx.params.id) : null;
  const isNew = !id;
  const manager = isSupervisor();
  page.replaceChildren(spinner());

  Promise.all([
    id ? api.get(`/kb/articles/${seg(id)}`) : Promise.resolve(null),
    loadCategories().catch(() => []),
    isNew ? api.get('/kb/articles', { query: { limit: 200 } }).catch(() => null) : Promise.resolve(null),
  ]).then(([article, categories, all]) => {
    if (!ctx.alive) return;
    mount(article, categories, ((all && all.items) || []).map((a) => a.slug));
  }).catch((err) => {
    if (!ctx.alive) return;
    page.replaceChildren(backLink(), problemAlert(err, 'kb-editor-error'));
  });

  function backLink() {
    return h('p', { class: 'back-link' },
      h('a', { href: KB_BASE, 'data-route': '', class: 'link', testid: 'kb-back' }, icon('chevronLeft'), t('kb.editor.back')));
  }

  function mount(initial, categories, slugs) {
    let article = initial;
    const pre = ctx.query;
    const src = article || {
      slug: pre.get('slug') || '',
      title: pre.get('title') || '',
      locale: KB_LOCALES.includes(pre.get('locale')) ? pre.get('locale') : 'zh-CN',
      kind: KB_KINDS.includes(pre.get('kind')) ? pre.get('kind') : 'article',
      category: pre.get('category') || '',
      section: pre.get('section') || '',
      tags: splitList(pre.get('tags')),
      related: splitList(pre.get('related')),
      summary: '',
      body: '',
      status: 'draft',
    };
    const translationOfPre = isNew ? (pre.get('translation_of') || '') : '';
    if (isNew && translationOfPre && !src.slug) src.slug = translationSlug(translationOfPre, src.locale);
    if (article) document.title = `${article.title} · ${t('nav.helpCenter')} · ${t('app.name')}`;

    // --- Fields -------------------------------------------------------------------------------------

    const slug = field({
      name: 'slug', label: t('kb.field.slug'), testid: 'kb-field-slug', required: true, autocomplete: 'off', value: src.slug,
      hint: t('kb.editor.slugHint'), attrs: { spellcheck: 'false', autocapitalize: 'none' },
      validate: (v) => (SLUG_RE.test(v.trim()) ? null : t('kb.editor.slugInvalid')),
    });
    const title = field({ name: 'title', label: t('kb.field.title'), testid: 'kb-field-title', required: true, value: src.title, maxLength: 200 });
    const locale = field({
      name: 'locale', type: 'select', label: t('kb.field.locale'), testid: 'kb-field-locale', value: src.locale,
      options: KB_LOCALES.map((l) => ({ value: l, label: localeLabel(l) })),
    });
    const kind = field({
      name: 'kind', type: 'select', label: t('kb.field.kind'), testid: 'kb-field-kind', value: src.kind,
      options: KB_KINDS.map((k) => ({ value: k, label: kindLabel(k) })),
    });
    const top = categories.filter((c) => !c.parent);
    const category = field({
      name: 'category', type: 'select', label: t('kb.field.category'), testid: 'kb-field-category', value: src.category || '',
      options: [{ value: '', label: t('kb.editor.noCategory') }, ...top.map((c) => ({ value: c.slug, label: categoryName(c) })),
        ...(src.category && !top.some((c) => c.slug === src.category) ? [{ value: src.category, label: src.category }] : [])],
    });
    const section = field({ name: 'section', type: 'select', label: t('kb.field.section'), testid: 'kb-field-section', options: [] });
    function fillSections(selected) {
      const list = categories.filter((c) => c.parent && c.parent === category.value);
      const keep = selected && (list.some((c) => c.slug === selected) || !categories.length) ? selected : '';
      replace(section.input,
        h('option', { value: '', selected: !keep }, list.length ? t('kb.editor.noSection') : t('kb.editor.noSections')),
        list.map((c) => h('option', { value: c.slug, selected: c.slug === keep }, categoryName(c))),
        keep && !list.some((c) => c.slug === keep) ? h('option', { value: keep, selected: true }, keep) : null);
      section.input.disabled = !category.value || (!list.length && !keep);
    }
    fillSections(src.section || '');
    category.input.addEventListener('change', () => { fillSections(section.value); markDirty(); });

    const tags = field({
      name: 'tags', label: t('kb.field.tags'), testid: 'kb-field-tags', value: (src.tags || []).join(', '),
      hint: t('kb.editor.tagsHint'), autocomplete: 'off', optional: true,
    });
    const related = field({
      name: 'related', label: t('kb.field.related'), testid: 'kb-field-related', value: (src.related || []).join(', '),
      hint: t('kb.editor.relatedHint'), autocomplete: 'off', optional: true, attrs: { spellcheck: 'false' },
    });
    const summary = field({
      name: 'summary', type: 'textarea', rows: 2, label: t('kb.field.summary'), testid: 'kb-field-summary', value: src.summary,
      hint: t('kb.editor.summaryHint'), optional: true, attrs: { maxlength: '500' },
    });
    const body = field({
      name: 'body', type: 'textarea', rows: 22, label: t('kb.field.body'), testid: 'kb-field-body', value: src.body,
      hint: t('kb.editor.bodyHint'), attrs: { spellcheck: 'false' }, className: 'kb-body-field',
    });
    body.input.className = 'input textarea kb-body-input';
    const status = field({
      name: 'status', type: 'select', label: t('kb.field.status'), testid: 'kb-status', value: src.status,
      options: KB_STATUSES.map((s) => ({ value: s, label: statusLabel(s) })),
      hint: manager ? null : t('kb.editor.publishHint'),
    });
    if (!manager && src.status !== 'published') {
      const opt = status.input.querySelector('option[value="published"]');
      if (opt) opt.disabled = true;
    }
    const translationOf = isNew ? field({
      name: 'translation_of', label: t('kb.field.translationOf'), testid: 'kb-field-translation-of', value: translationOfPre,
      hint: t('kb.editor.translationOfHint'), autocomplete: 'off', optional: true, attrs: { list: 'kb-slug-list', spellcheck: 'false' },
    }) : null;
    const slugList = isNew ? h('datalist', { id: 'kb-slug-list' }, slugs.map((s) => h('option', { value: s }))) : null;

    // Suggest a slug while the author has not typed one: from a translation's source, or a Latin title.
    let slugTouched = !isNew || (!!src.slug && src.slug !== translationSlug(translationOfPre, src.locale));
    slug.input.addEventListener('input', () => { slugTouched = slug.value.trim() !== ''; });
    function suggestSlug() {
      if (slugTouched) return;
      const of = translationOf ? translationOf.value.trim() : '';
      slug.value = of ? translationSlug(of, locale.value) : slugFromTitle(title.value);
    }
    if (isNew) {
      title.input.addEventListener('input', suggestSlug);
      locale.input.addEventListener('change', suggestSlug);
      if (translationOf) translationOf.input.addEventListener('input', suggestSlug);
      if (src.title && !src.slug) suggestSlug();
    }

    const fields = [slug, title, locale, kind, category, section, tags, related, summary, body, status, translationOf].filter(Boolean);

    // --- Live preview ---------------------------------------------------------------------------------

    const preview = h('div', { class: 'kb-preview kb-prose', testid: 'kb-preview', lang: src.locale, 'aria-labelledby': 'kb-preview-label' });
    const previewState = h('span', { class: 'muted small', testid: 'kb-preview-state', role: 'status' });
    let previewTimer = null;
    let previewGen = 0;
    function emptyPreview() {
      replace(preview, h('p', { class: 'muted kb-preview-empty' }, t('kb.editor.previewEmpty')));
    }
    async function updatePreview() {
      const mine = ++previewGen;
      const text = body.value;
      preview.lang = locale.value;
      if (!text.trim()) {
        emptyPreview();
        previewState.textContent = '';
        return;
      }
      previewState.textContent = t('kb.editor.previewUpdating');
      try {
        const res = await api.post('/kb/preview', { body: text, locale: locale.value });
        if (!ctx.alive || mine !== previewGen) return;
        renderArticleHtml(preview, res && res.html);
        previewState.textContent = '';
      } catch (err) {
        if (!ctx.alive || mine !== previewGen) return;
        previewState.textContent = t('kb.editor.previewFailed');
        if (!(err instanceof ApiError) || err.status !== 422) toastProblem(err);
      }
    }
    function schedulePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(updatePreview, PREVIEW_DELAY_MS);
    }
    ctx.onCleanup(() => clearTimeout(previewTimer));
    body.input.addEventListener('input', schedulePreview);
    locale.input.addEventListener('change', schedulePreview);
    if (article && article.html) renderArticleHtml(preview, article.html);
    else if (src.body.trim()) updatePreview();
    else emptyPreview();

    // --- Dirty state (shown next to the Save button) ------------------------------------------------------------

    const dirtyNote = h('span', { class: 'muted small kb-dirty', testid: 'kb-dirty', hidden: true }, t('kb.editor.unsaved'));
    function markDirty() { dirtyNote.hidden = false; }
    for (const f of fields) f.input.addEventListener('input', markDirty);
    for (const f of [locale, kind, section, status]) f.input.addEventListener('change', markDirty);

    // --- Header, side panels ---------------------------------------------------------------------------------

    const headerSlot = h('div');
    const alertSlot = h('div', { class: 'form-alert', testid: 'kb-editor-alert' });
    const infoSlot = h('div');
    const translationsSlot = h('div', { class: 'kb-side-panel' });
    const versionsSlot = h('div', { class: 'kb-side-panel' });

    function renderHeader() {
      const actions = [];
      if (article && article.status === 'published' && article.url) {
        actions.push(h('a', {
          href: article.url, target: '_blank', rel: 'noopener', class: 'btn btn-secondary', testid: 'kb-view-public',
        }, icon('eye'), h('span', { class: 'btn-label' }, t('kb.editor.viewPublic'))));
      }
      replace(headerSlot,
        backLink(),
        h('header', { class: 'page-header kb-editor-header' },
          h('div', { class: 'page-heading' },
            h('h1', { class: 'page-title', testid: 'page-title', tabindex: '-1' }, article ? article.title : t('kb.editor.newTitle')),
            h('p', { class: 'page-description kb-editor-badges' },
              article ? [
                articleStatusBadge(article.status, { testid: 'kb-editor-status' }),
                localeBadge(article.locale),
                article.kind === 'announcement' ? badge(kindLabel('announcement'), 'brand') : null,
                h('span', { class: 'muted small', testid: 'kb-editor-version' }, t('kb.editor.versionN', { n: article.version })),
              ] : t('kb.editor.newDescription'))),
          actions.length ? h('div', { class: 'page-actions' }, actions) : null));
    }

    function renderInfo() {
      if (!article) { replace(infoSlot); return; }
      replace(infoSlot, dl([
        [t('kb.editor.version'), String(article.version), 'kb-info-version'],
        [t('kb.editor.savedBy'), article.author_name || null, 'kb-info-author'],
        [t('kb.editor.updated'), timeCell(article.updated_at), 'kb-info-updated'],
        [t('kb.editor.published'), timeCell(article.published_at, 'kb.editor.notPublished'), 'kb-info-published'],
        [t('kb.editor.feedback'), t('kb.editor.feedbackValue', { yes: formatNumber(article.helpful_yes), no: formatNumber(article.helpful_no) }), 'kb-info-feedback'],
      ], 'dl-compact'));
    }

    function renderTranslations() {
      if (!article) {
        replace(translationsSlot, h('p', { class: 'muted small' }, translationOfPre
          ? t('kb.editor.newTranslationOf', { slug: translationOfPre }) : t('kb.editor.translationsAfterSave')));
        return;
      }
      const list = [...(article.translations || [])].sort((a, b) => KB_LOCALES.indexOf(a.locale) - KB_LOCALES.indexOf(b.locale));
      const used = new Set([article.locale, ...list.map((x) => x.locale)]);
      const next = KB_LOCALES.find((l) => !used.has(l));
      const add = button(t('kb.editor.addTranslation'), {
        size: 'sm', iconName: 'plus', testid: 'kb-add-translation', disabled: !next,
        title: next ? null : t('kb.editor.allTranslated'),
        onClick: () => app.navigate(newArticlePath({
          translation_of: article.slug, category: article.category, section: article.section, tags: article.tags,
          kind: article.kind, locale: next, slug: next ? translationSlug(article.slug, next) : '',
        })),
      });
      replace(translationsSlot,
        list.length
          ? h('ul', { class: 'kb-side-list', testid: 'kb-translations' }, list.map((tr) => h('li', null,
            h('a', {
              href: articlePath(tr.id), 'data-route': '', class: 'kb-side-link', testid: 'kb-translation', dataset: { id: tr.id, locale: tr.locale },
            }, localeBadge(tr.locale, { class: 'badge-compact' }), h('span', { class: 'kb-side-link-text' }, tr.title)),
            articleStatusBadge(tr.status, { class: 'badge-compact' }))))
          : h('p', { class: 'muted small', testid: 'kb-translations-empty' }, t('kb.editor.noTranslations')),
        h('div', null, add));
    }

    // Versions --------------------------------------------------------------------------------------------

    let versions = null;
    let loadedVersion = null;
    async function loadVersions() {
      if (!article) { replace(versionsSlot, h('p', { class: 'muted small' }, t('kb.editor.versionsAfterSave'))); return; }
      replace(versionsSlot, spinner());
      try {
        const res = await api.get(`/kb/articles/${seg(article.id)}/versions`);
        if (!ctx.alive) return;
        versions = ((res && res.items) || []).slice().sort((a, b) => b.version - a.version);
        renderVersions();
      } catch (err) {
        if (ctx.alive) replace(versionsSlot, problemAlert(err));
      }
    }
    function renderVersions() {
      if (!versions || !versions.length) { replace(versionsSlot, h('p', { class: 'muted small' }, t('kb.editor.noVersions'))); return; }
      replace(versionsSlot, h('ul', { class: 'kb-side-list kb-versions', testid: 'kb-versions' }, versions.map((v) => {
        const current = article && v.version === article.version;
        return h('li', null, h('button', {
          type: 'button', class: ['kb-version', v.version === loadedVersion && 'is-active'], testid: 'kb-version',
          dataset: { version: String(v.version) }, 'aria-pressed': v.version === loadedVersion ? 'true' : 'false',
          title: t('kb.editor.loadVersionHint'),
          onClick: () => loadVersion(v),
        },
        h('span', { class: 'kb-version-head' },
          h('span', { class: 'strong' }, t('kb.editor.versionN', { n: v.version })),
          current ? badge(t('kb.editor.current'), 'info', { class: 'badge-compact' }) : null,
          articleStatusBadge(v.status, { class: 'badge-compact', testid: null })),
        h('span', { class: 'muted small' }, v.author_name || '', v.author_name ? ' · ' : '', timeCell(v.created_at))));
      })));
    }
    function loadVersion(v) {
      title.value = v.title || '';
      summary.value = v.summary || '';
      body.value = v.body || '';
      loadedVersion = v.version;
      renderVersions();
      markDirty();
      updatePreview();
      replace(alertSlot, alertBox('info', t('kb.editor.versionLoaded', { n: v.version }), t('kb.editor.versionLoadedText'), { testid: 'kb-version-loaded' }));
    }

    // --- Save, delete ----------------------------------------------------------------------------------------

    const saveBtn = button(isNew ? t('kb.editor.create') : t('kb.editor.save'), { variant: 'primary', type: 'submit', testid: 'kb-save' });
    const deleteBtn = !isNew && manager ? button(t('kb.editor.delete'), { variant: 'danger', testid: 'kb-delete', iconName: 'trash', onClick: remove }) : null;

    function payload() {
      const p = {
        slug: slug.value.trim(),
        kind: kind.value,
        locale: locale.value,
        title: title.value.trim(),
        summary: summary.value.trim(),
        body: body.value,
        category: category.value || null,
        section: (category.value && section.value) || null,
        tags: splitList(tags.value),
        related: splitList(related.value),
        status: status.value,
      };
      if (translationOf && translationOf.value.trim()) p.translation_of = translationOf.value.trim();
      if (article) p.version = article.version;
      return p;
    }

    function showConflict() {
      const reload = button(t('kb.editor.reload'), {
        variant: 'primary', size: 'sm', iconName: 'refresh', testid: 'kb-conflict-reload',
        onClick: () => app.navigate(window.location.pathname, { replace: true }),
      });
      const copy = copyButton(() => body.value, { label: t('kb.editor.copyBody'), size: 'sm', testid: 'kb-conflict-copy' });
      replace(alertSlot, alertBox('warning', t('kb.editor.conflictTitle'), t('kb.editor.conflictText'), {
        testid: 'kb-conflict', extra: h('div', { class: 'button-row mt-3' }, reload, copy),
      }));
      alertSlot.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }

    const idem = idempotencyKey();
    async function submit() {
      const data = payload();
      let saved;
      try {
        if (isNew) {
          saved = await api.post('/kb/articles', data, { idempotencyKey: idem });
          idem.settle(null);
        } else {
          saved = await api.put(`/kb/articles/${seg(article.id)}`, data);
        }
      } catch (err) {
        if (isNew) idem.settle(err);
        if (!(err instanceof ApiError)) throw err;
        if (err.code === 'version_conflict') { showConflict(); return; }
        if (err.code === 'slug_taken') {
          slug.setError(t('kb.editor.slugTaken'));
          slug.input.focus();
          return;
        }
        if (err.code === 'forbidden') {
          replace(alertSlot, alertBox('error', t('problem.forbidden'), t('kb.editor.forbiddenText'), { testid: 'kb-forbidden' }));
          return;
        }
        throw err;
      }
      if (!ctx.alive) return;
      if (isNew) {
        toast(t('kb.editor.created', { title: saved.title }));
        app.navigate(articlePath(saved.id), { replace: true });
        return;
      }
      article = saved;
      loadedVersion = null;
      dirtyNote.hidden = true;
      document.title = `${article.title} · ${t('nav.helpCenter')} · ${t('app.name')}`;
      if (!manager) {
        const opt = status.input.querySelector('option[value="published"]');
        if (opt) opt.disabled = article.status !== 'published';
      }
      replace(alertSlot);
      renderHeader();
      renderInfo();
      renderTranslations();
      loadVersions();
      toast(t('kb.editor.saved', { title: saved.title }));
    }

    async function remove() {
      const ok = await confirmDialog({
        title: t('kb.editor.deleteTitle', { title: article.title }), message: t('kb.editor.deleteText'),
        confirmLabel: t('kb.editor.delete'), danger: true,
      });
      if (!ok) return;
      await withBusy(deleteBtn, async () => {
        try {
          await api.del(`/kb/articles/${seg(article.id)}`);
          toast(t('kb.editor.deleted', { title: article.title }));
          app.navigate(KB_BASE);
        } catch (err) {
          toastProblem(err);
        }
      });
    }

    // --- Layout ------------------------------------------------------------------------------------------------

    const sideCard = (titleText, testid, ...content) => h('section', { class: 'card side-card', testid },
      h('header', { class: 'side-card-header' }, h('h2', { class: 'card-title' }, titleText)),
      h('div', { class: 'side-card-body' }, content));

    const form = h('form', { class: 'kb-editor', method: 'post', action: '#', testid: 'kb-editor-form' },
      h('div', { class: 'kb-editor-main' },
        alertSlot,
        h('section', { class: 'card' }, h('div', { class: 'card-body' },
          h('div', { class: 'kb-grid-3' }, slug.el, locale.el, kind.el),
          title.el,
          h('div', { class: 'grid-2' }, category.el, section.el),
          h('div', { class: 'grid-2' }, tags.el, related.el),
          translationOf ? h('div', { class: 'grid-2' }, translationOf.el, slugList) : null,
          summary.el)),
        h('section', { class: 'card' }, h('div', { class: 'card-body' },
          h('div', { class: 'kb-body-grid' },
            body.el,
            h('div', { class: 'field kb-preview-field' },
              h('div', { class: 'kb-preview-head' },
                h('span', { class: 'field-label', id: 'kb-preview-label' }, t('kb.editor.preview')),
                previewState),
              preview))))),
      h('aside', { class: 'kb-editor-side', 'aria-label': t('kb.editor.details') },
        sideCard(t('kb.editor.publishing'), 'kb-publish-card',
          status.el,
          infoSlot,
          h('div', { class: 'button-row' }, saveBtn, deleteBtn),
          dirtyNote),
        sideCard(t('kb.editor.translations'), 'kb-translations-card', translationsSlot),
        sideCard(t('kb.editor.versions'), 'kb-versions-card',
          article ? h('p', { class: 'muted small' }, t('kb.editor.versionsHint')) : null,
          versionsSlot)));

    bindForm(form, {
      fields, submitButton: saveBtn, alertSlot,
      fieldMap: { translation_of: translationOf || undefined },
      onSubmit: submit,
    });

    renderHeader();
    renderInfo();
    renderTranslations();
    loadVersions();
    page.replaceChildren(headerSlot, form);
    const heading = page.querySelector('.page-title');
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
    if (isNew) (src.title ? slug : title).input.focus();
  }
}
