// Contacts: the list of customers with search (name, e-mail, phone, exchange
// user id or Telegram id, by prefix) and cursor pagination, and one
// contact's page: profile and identities, VIP tier, KYC level, tags, custom
// attributes and notes (edited in the same dialog as in the conversation
// sidebar), the contact's conversations, and merging another contact (the
// same person seen on another channel) into this one. E-mails and phones
// (and the unverified e-mail a chat visitor typed) are shown partly masked;
// roles with full view reveal them, and the
// "Customer data" card exports (full view) or erases (admins) a customer.

import {
  h, card, dl, button, table, toast, toastProblem, confirmDialog, openModal, replace, spinner,
  problemAlert, alertBox, timeCell, withBusy, icon, badge, emptyState, showProblem, clearProblem,
} from '../../shared/ui.js';
import { api, seg } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { pageHeader } from '../layout.js';
import { statusBadge, priorityBadge, channelLabel, localeLabel, conversationPath } from '../inbox-common.js';
import {
  contactPath, identitiesOf, identityKey, identitySummary, vipBadge, tagPills, attributeText, contactEditModal,
  isMasked, isMaskedIdentity, hasMaskedDetails, maskedHint, revealButton, revealedNote, exportButton, eraseButton,
} from '../contact-common.js';

const PAGE_SIZE = 50;
const CONVERSATIONS_PAGE = 50;
const MERGE_CANDIDATES = 20;

function identityKindLabel(kind) {
  return t(`contacts.identity.${kind}`);
}

function backLink() {
  return h('p', { class: 'back-link' },
    h('a', { href: '/console/contacts', 'data-route': '', class: 'link', testid: 'back-to-contacts' }, icon('chevronLeft'), t('contacts.backToList')));
}

// --- The list ------------------------------------------------------------------------------

export function contactsView(page, ctx) {
  const listSlot = h('div', null, spinner());
  const loadMore = button(t('common.loadMore'), { testid: 'contacts-load-more', onClick: () => load(true) });
  const moreRow = h('div', { class: 'load-more', hidden: true }, loadMore);
  const q = h('input', {
    type: 'search', class: 'input search-input', testid: 'contacts-search', placeholder: t('contacts.searchPlaceholder'),
    'aria-label': t('contacts.search'), autocomplete: 'off', value: ctx.query.get('q') || '',
  });
  const searchForm = h('form', { class: 'search-form', role: 'search', method: 'get', action: '#' }, icon('search', 'search-icon'), q);
  let timer = null;
  let cursor = null;
  let tbl = null;
  searchForm.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); load(false); });
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => load(false), 250); });
  ctx.onCleanup(() => clearTimeout(timer));

  const columns = [
    {
      label: t('contacts.col.name'),
      render: (c) => h('div', { class: 'cell-stack-vertical' },
        h('a', { href: contactPath(c), 'data-route': '', class: 'strong link', testid: 'contact-link' }, c.name || t('common.unknown')),
        c.language ? h('span', { class: 'muted small' }, localeLabel(c.language)) : null),
    },
    {
      label: t('contacts.col.identities'),
      render: (c) => (identitiesOf(c).length
        ? h('span', { class: 'identity-summary-cell' },
          h('span', { class: 'small', testid: 'contact-identities' }, identitySummary(c)),
          isMasked(c) ? maskedHint() : null)
        : h('span', { class: 'muted small', testid: 'contact-identities' }, t('contacts.noIdentities'))),
    },
    {
      label: t('contacts.col.tier'),
      render: (c) => h('span', { class: 'badge-list' },
        vipBadge(c) || badge(t('contact.vipNone'), 'neutral'),
        badge(t('contact.kycValue', { n: c.kyc_level }), 'neutral', { testid: 'contact-kyc-badge' })),
    },
    { label: t('contacts.col.tags'), render: (c) => tagPills(c.tags) },
    { label: t('contacts.col.updated'), className: 'cell-nowrap', render: (c) => timeCell(c.updated_at) },
  ];

  let gen = 0;
  async function load(more) {
    const mine = ++gen;
    const text = q.value.trim();
    if (!more) {
      const url = new URL(window.location.href);
      if (text) url.searchParams.set('q', text);
      else url.searchParams.delete('q');
      window.history.replaceState(null, '', url.pathname + url.search);
      cursor = null;
    }
    let res;
    try {
      res = await withBusy(more ? loadMore : null, () => api.get('/contacts', { query: { q: text, limit: PAGE_SIZE, cursor: more ? cursor : null } }));
    } catch (err) {
      if (!ctx.alive || mine !== gen) return;
      if (more) toastProblem(err);
      else replace(listSlot, problemAlert(err, 'contacts-error'));
      return;
    }
    if (!ctx.alive || mine !== gen) return;
    const items = (res && res.items) || [];
    if (more && tbl) {
      tbl.appendRows(items);
    } else {
      tbl = table({
        columns, rows: items, testid: 'contacts-table', caption: t('contacts.title'),
        empty: text ? t('contacts.emptySearch', { q: text }) : t('contacts.empty'),
        rowProps: (c) => ({ testid: 'contact-row', dataset: { id: c.id, name: c.name } }),
      });
      replace(listSlot, tbl.el);
    }
    cursor = res && res.next_cursor ? res.next_cursor : null;
    moreRow.hidden = !cursor;
  }

  page.replaceChildren(
    pageHeader(t('contacts.title'), t('contacts.description'), searchForm),
    h('div', { class: 'card card-flush' }, listSlot, moreRow));
  load(false);
}

// --- One contact ---------------------------------------------------------------------------

export function contactView(page, ctx) {
  const id = decodeURIComponent(ctx.params.id);
  let contact = null; // what is shown: as the server sent it, or in full after a reveal
  let maskedContact = null; // the last answer with e-mails and phones masked
  let mergedIdentities = new Set(); // identity keys that arrived with the last merge
  const noticeSlot = h('div', { class: 'contact-notice', testid: 'contact-notice' });
  const conversationsSlot = h('div', { class: 'card-table-slot' }, spinner());
  const convMore = button(t('common.loadMore'), { testid: 'contact-conversations-more', onClick: () => loadConversations(true) });
  const convMoreRow = h('div', { class: 'load-more', hidden: true }, convMore);
  let convCursor = null;
  let convTable = null;

  page.replaceChildren(spinner());

  async function load() {
    try {
      contact = await api.get(`/contacts/${seg(id)}`);
      maskedContact = contact;
    } catch (err) {
      if (!ctx.alive) return;
      page.replaceChildren(backLink(), problemAlert(err, 'contact-error'));
      return;
    }
    if (!ctx.alive) return;
    render();
    loadConversations(false);
  }

  // Profile ---------------------------------------------------------------------------------

  function identityList(c) {
    const list = identitiesOf(c);
    if (!list.length) return h('p', { class: 'muted small', testid: 'contact-identities-empty' }, t('contacts.noIdentities'));
    return h('ul', { class: 'identity-list', testid: 'contact-identities' }, list.map((i) => {
      const fresh = mergedIdentities.has(identityKey(i));
      const masked = isMaskedIdentity(c, i);
      return h('li', {
        class: ['identity', fresh && 'is-merged'], testid: 'contact-identity',
        dataset: { kind: i.kind, value: i.value, merged: fresh ? 'true' : null, masked: masked ? 'true' : null },
      },
      h('span', { class: 'identity-kind' }, identityKindLabel(i.kind)),
      h('span', { class: 'identity-value' },
        h(i.kind === 'email' ? 'span' : 'code', { class: i.kind !== 'email' ? 'mono' : null }, i.value),
        masked ? maskedHint() : null,
        fresh ? badge(t('contacts.mergedIn'), 'success') : null));
    }));
  }

  function profileCard(c) {
    const revealed = c !== maskedContact && !c.pii_masked;
    const hide = revealed && hasMaskedDetails(maskedContact)
      ? button(t('contact.hideFull'), {
        size: 'sm', variant: 'ghost', iconName: 'x', testid: 'contact-hide',
        onClick: () => {
          contact = maskedContact;
          render();
          const again = page.querySelector('[data-testid="contact-reveal"]');
          if (again) again.focus({ preventScroll: true });
        },
      })
      : null;
    const reveal = revealButton(c, {
      onRevealed: (full) => {
        if (!ctx.alive || !contact || full.id !== contact.id) return;
        contact = full;
        render();
        // The button is gone: keep the keyboard focus next to where it was.
        const next = page.querySelector('[data-testid="contact-hide"]');
        if (next) next.focus({ preventScroll: true });
      },
    });
    return card({ title: t('contacts.profile'), testid: 'contact-profile', actions: reveal || hide },
      h('section', { class: 'identity-section', 'aria-label': t('contacts.identities') },
        h('h3', { class: 'rail-title' }, t('contacts.identities')),
        identityList(c),
        revealed ? revealedNote() : null),
      dl([
        // The address a chat visitor typed: kept apart from the identities, as nobody proved it.
        c.unverified_email ? [t('contact.unverifiedEmail'), h('span', { title: t('contact.unverifiedEmailHint') },
          c.unverified_email, c.pii_masked ? [' ', maskedHint()] : null), 'contact-unverified-email'] : null,
        [t('contact.vipTier'), c.vip_tier ? badge(t('contact.vipValue', { n: c.vip_tier }), 'brand') : t('contact.vipNone'), 'contact-vip'],
        [t('contact.kycLevel'), t('contact.kycValue', { n: c.kyc_level }), 'contact-kyc'],
        [t('contact.language'), c.language ? localeLabel(c.language) : null, 'contact-language'],
        [t('contact.tags'), tagPills(c.tags), 'contact-tags'],
        [t('contacts.created'), timeCell(c.created_at, 'common.unknown')],
        [t('contacts.updated'), timeCell(c.updated_at, 'common.unknown')],
      ].filter(Boolean)));
  }

  function attributesCard(c) {
    const entries = Object.entries(c.attributes || {});
    return card({ title: t('contact.attributes'), testid: 'contact-attributes-card' },
      entries.length
        ? h('dl', { class: 'dl', testid: 'contact-attributes' }, entries.map(([k, v]) => [
          h('dt', { testid: 'contact-attribute-key' }, k),
          h('dd', { testid: 'contact-attribute', dataset: { key: k } }, attributeText(v) || h('span', { class: 'muted' }, '—')),
        ]))
        : h('p', { class: 'muted', testid: 'contact-attributes-empty' }, t('contacts.attributesEmpty')));
  }

  function notesCard(c) {
    return card({ title: t('contact.notes'), testid: 'contact-notes-card' },
      c.notes
        ? h('p', { class: 'prewrap', testid: 'contact-notes' }, c.notes)
        : h('p', { class: 'muted', testid: 'contact-notes-empty' }, t('contacts.notesEmpty')));
  }

  /** Export (full view) and erasure (admins) of the customer's data, or null when neither is allowed. */
  function privacyCard(c) {
    const exportBtn = exportButton(c);
    const eraseBtn = eraseButton(c, {
      onErased: (erased) => {
        if (!ctx.alive) return;
        contact = erased;
        maskedContact = erased;
        mergedIdentities = new Set();
        replace(noticeSlot, alertBox('success', t('contacts.erasedNoticeTitle'), t('contacts.erasedNotice'), { testid: 'contact-erased-notice' }));
        render();
        loadConversations(false);
      },
    });
    if (!exportBtn && !eraseBtn) return null;
    return card({ title: t('contacts.privacyTitle'), description: t('contacts.privacyDescription'), testid: 'contact-privacy-card' },
      h('div', { class: 'privacy-actions' },
        exportBtn ? h('div', { class: 'privacy-action' }, exportBtn, h('p', { class: 'field-hint' }, t('contacts.exportHint'))) : null,
        eraseBtn ? h('div', { class: 'privacy-action' }, eraseBtn, h('p', { class: 'field-hint' }, t('contacts.eraseHint'))) : null));
  }

  function render() {
    const c = contact;
    document.title = `${c.name} · ${t('app.name')}`;
    const merged = !!c.merged_into;
    const actions = merged ? null : [
      button(t('contact.edit'), { iconName: 'edit', testid: 'contact-edit', onClick: edit }),
      button(t('contacts.merge'), { iconName: 'users', testid: 'contact-merge', onClick: mergePicker }),
    ];
    const header = pageHeader(h('span', { testid: 'contact-name' }, c.name || t('common.unknown')), identitySummary(c) || null, actions);
    if (merged) {
      replace(noticeSlot, alertBox('warning', t('contacts.mergedNoticeTitle'), t('contacts.mergedNotice'), {
        testid: 'contact-merged-notice',
        extra: h('p', { class: 'mt-3' }, h('a', { href: contactPath(c.merged_into), 'data-route': '', class: 'link', testid: 'contact-merged-target' }, t('contacts.openMergedTarget'))),
      }));
    }
    page.replaceChildren(
      backLink(),
      header,
      noticeSlot,
      h('div', { class: 'stack' },
        h('div', { class: 'contact-layout' },
          profileCard(c),
          h('div', { class: 'stack' }, attributesCard(c), notesCard(c))),
        card({ title: t('contacts.conversations'), testid: 'contact-conversations-card', className: 'card-flush' }, conversationsSlot, convMoreRow),
        merged ? null : privacyCard(c)));
  }

  function edit() {
    contactEditModal({
      contact,
      onSaved: (updated) => {
        if (!ctx.alive) return;
        contact = updated;
        maskedContact = updated;
        mergedIdentities = new Set();
        replace(noticeSlot);
        render();
      },
    });
  }

  // Conversations ---------------------------------------------------------------------------

  const convColumns = [
    {
      label: t('inbox.col.conversation'),
      render: (c) => h('div', { class: 'conv-line' },
        h('span', { class: 'conv-number', testid: 'conversation-number' }, `#${c.number}`),
        h('a', { href: conversationPath(c), 'data-route': '', class: 'conv-subject', testid: 'contact-conversation-link' }, c.subject || t('inbox.noSubject'))),
    },
    {
      label: t('inbox.col.status'),
      render: (c) => h('span', { class: 'badge-list' }, statusBadge(c.status), c.priority !== 'normal' ? priorityBadge(c.priority) : null),
    },
    { label: t('contacts.col.channel'), className: 'cell-nowrap', render: (c) => channelLabel(c.channel) },
    { label: t('inbox.col.lastActivity'), className: 'cell-nowrap', render: (c) => timeCell(c.last_activity_at) },
  ];

  let convGen = 0;
  async function loadConversations(more) {
    const mine = ++convGen;
    if (!more) convCursor = null;
    let res;
    try {
      res = await withBusy(more ? convMore : null, () => api.get('/conversations', {
        query: { view: 'all', contact_id: contact.id, limit: CONVERSATIONS_PAGE, cursor: more ? convCursor : null },
      }));
    } catch (err) {
      if (!ctx.alive || mine !== convGen) return;
      if (more) toastProblem(err);
      else replace(conversationsSlot, problemAlert(err, 'contact-conversations-error'));
      return;
    }
    if (!ctx.alive || mine !== convGen) return;
    const items = (res && res.items) || [];
    if (more && convTable) {
      convTable.appendRows(items);
    } else {
      convTable = table({
        columns: convColumns, rows: items, testid: 'contact-conversations', caption: t('contacts.conversations'),
        empty: t('contacts.conversationsEmpty'),
        rowProps: (c) => ({ testid: 'contact-conversation', dataset: { id: c.id, number: c.number, status: c.status } }),
      });
      replace(conversationsSlot, convTable.el);
    }
    convCursor = res && res.next_cursor ? res.next_cursor : null;
    convMoreRow.hidden = !convCursor;
  }

  // Merge -----------------------------------------------------------------------------------

  function mergePicker() {
    const target = contact;
    // What the merge answers is masked: compare it with the masked identities.
    const targetMasked = maskedContact || contact;
    const q = h('input', {
      type: 'search', class: 'input', testid: 'merge-search', autocomplete: 'off', id: 'merge-search-input',
      placeholder: t('contacts.searchPlaceholder'), 'aria-label': t('contacts.mergeSearch'),
    });
    const results = h('div', { class: 'merge-results', testid: 'merge-candidates', 'aria-live': 'polite' }, spinner());
    const alertSlot = h('div', { class: 'form-alert', dataset: { alertTestid: 'merge-error' } });
    let timer = null;
    let gen = 0;

    async function search() {
      const mine = ++gen;
      let res;
      try {
        res = await api.get('/contacts', { query: { q: q.value.trim(), limit: MERGE_CANDIDATES + 1 } });
      } catch (err) {
        if (mine === gen) replace(results, problemAlert(err));
        return;
      }
      if (mine !== gen) return;
      const items = ((res && res.items) || []).filter((c) => c.id !== target.id).slice(0, MERGE_CANDIDATES);
      replace(results, items.length
        ? h('ul', { class: 'merge-list' }, items.map((c) => h('li', { class: 'merge-candidate', testid: 'merge-candidate', dataset: { id: c.id, name: c.name } },
          h('div', { class: 'cell-stack-vertical' },
            h('span', { class: 'strong' }, c.name || t('common.unknown')),
            h('span', { class: 'muted small' }, identitySummary(c) || t('contacts.noIdentities'))),
          button(t('contacts.mergeChoose'), { size: 'sm', testid: 'merge-choose', onClick: (e) => confirmMerge(c, e.currentTarget) }))))
        : emptyState(t('contacts.mergeNoCandidates'), 'merge-empty'));
    }

    async function confirmMerge(source, btn) {
      clearProblem({ alertSlot });
      const ids = identitiesOf(source).map((i) => i.value);
      const ok = await confirmDialog({
        title: t('contacts.mergeConfirmTitle', { source: source.name, target: target.name }),
        message: t('contacts.mergeConfirmText', {
          source: source.name, target: target.name,
          identities: ids.length ? ids.join(', ') : t('contacts.noIdentities'),
        }),
        confirmLabel: t('contacts.mergeConfirm'),
        danger: true,
      });
      if (!ok) return;
      let merged;
      try {
        merged = await withBusy(btn, () => api.post(`/contacts/${seg(target.id)}/merge`, { source_id: source.id }));
      } catch (err) {
        showProblem(err, { alertSlot });
        return;
      }
      m.close();
      toast(t('contacts.merged', { source: source.name, target: merged.name }));
      if (!ctx.alive) return;
      const before = new Set(identitiesOf(targetMasked).map(identityKey));
      const moved = identitiesOf(merged).filter((i) => !before.has(identityKey(i)));
      mergedIdentities = new Set(moved.map(identityKey));
      contact = merged;
      maskedContact = merged;
      render();
      replace(noticeSlot, alertBox('success', t('contacts.mergeResultTitle', { source: source.name }),
        moved.length
          ? t('contacts.mergeResultText', { identities: moved.map((i) => i.value).join(', ') })
          : t('contacts.mergeResultNone'),
        { testid: 'merge-result' }));
      loadConversations(false);
    }

    q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
    q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); search(); } });
    const m = openModal({
      title: t('contacts.mergeTitle', { name: target.name }),
      testid: 'merge-dialog',
      size: 'lg',
      body: [
        h('p', { class: 'muted' }, t('contacts.mergeIntro', { name: target.name })),
        alertSlot,
        h('div', { class: 'field' }, h('label', { class: 'field-label', htmlFor: 'merge-search-input' }, t('contacts.mergeSearch')), q),
        results,
      ],
      footer: [button(t('common.cancel'), { testid: 'merge-cancel', onClick: () => m.close() })],
      onClose: () => clearTimeout(timer),
    });
    search();
  }

  load();
}
