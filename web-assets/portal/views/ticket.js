// /portal/tickets/<id>: one ticket. Its status and who handles it, the
// conversation (public messages only) with image thumbnails and file
// downloads, and a reply box with attachments. A reply carries a
// client_key chosen once per message, so retrying after a network failure
// never posts it twice. The conversation refreshes itself while open. When
// an agent asked the customer to prove who they are (a step-up identity
// check), a card asks for the 6-digit code above the conversation.

import { h, icon, spinner, problemAlert, alertBox, button, copyButton, toast, withBusy, describeProblem, dl } from '../../shared/ui.js';
import { portal, portalRequest, ApiError, uuid } from '../api.js';
import { getLanguage } from '../../shared/i18n.js';
import { state, setTitle, messagePage, routeLink, sessionEnded } from '../app.js';
import {
  tr, statusBadge, statusExplanation, categoryLabel, timeEl, attachmentList, filePicker,
  loadDraft, saveDraft, dropDraft, MAX_FILE_BYTES,
} from '../common.js';

const POLL_MS = 20_000;
const CHECK_REASONS = ['account_unlock', 'twofa_reset', 'contact_change', 'withdrawal_dispute', 'security_hacked', 'close_account', 'other'];
// How long "Identity confirmed" stays after a right answer.
const CHECK_DONE_MS = 6_000;

/** A pending check the customer can still answer (one past its time shows as expired). */
function checkIsOpen(c) {
  return !!c && c.status === 'pending' && !(Date.parse(c.expires_at) <= Date.now());
}

/** "14:32" today, else the date and the time. */
function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const opts = d.toDateString() === new Date().toDateString()
    ? { hour: '2-digit', minute: '2-digit' }
    : { dateStyle: 'medium', timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(getLanguage(), opts).format(d);
  } catch {
    return d.toLocaleString();
  }
}
/** Per ticket: files chosen for the reply and the client_key of the message being sent. */
const replies = new Map();

function replyState(id) {
  if (!replies.has(id)) replies.set(id, { files: [], clientKey: null });
  return replies.get(id);
}

function signedOutPage(main) {
  messagePage(main, {
    title: tr('ticket.signedOutTitle'),
    message: tr('ticket.signedOutMessage'),
    kind: 'info',
    testid: 'portal-signed-out',
    actions: [
      routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'portal-open-ticket', iconName: 'plus' }),
      routeLink('/portal', tr('notFound.back')),
    ],
  });
}

function privateLinkPanel(url) {
  const id = 'private-link-input';
  const input = h('input', {
    id, class: 'input private-link-input', readOnly: true, value: url, testid: 'private-link',
    'aria-describedby': 'private-link-help', spellcheck: 'false',
    onFocus: () => input.select(),
  });
  const panel = h('section', { class: 'private-link', testid: 'private-link-panel', 'aria-labelledby': 'private-link-title' },
    h('div', { class: 'private-link-head' },
      icon('check', 'private-link-icon'),
      h('h2', { id: 'private-link-title', class: 'private-link-title' }, tr('opened.title'))),
    h('p', { class: 'private-link-text' }, tr('opened.keepLink')),
    h('label', { htmlFor: id, class: 'field-label' }, tr('opened.linkLabel')),
    h('div', { class: 'private-link-row' },
      input,
      copyButton(url, { label: tr('common.copy'), testid: 'private-link-copy', variant: 'primary' })),
    h('p', { class: 'field-hint', id: 'private-link-help' }, tr('opened.linkWarning')),
    h('p', { class: 'private-link-actions' },
      button(tr('opened.saved'), {
        variant: 'ghost', size: 'sm', testid: 'private-link-dismiss',
        onClick: () => { state.justOpened = null; panel.remove(); },
      })));
  return panel;
}

function authorLabel(m) {
  if (m.author_kind === 'customer') return tr('message.you');
  if (m.author_kind === 'bot') return m.author_name || tr('message.assistant');
  if (m.author_kind === 'agent') return m.author_name || tr('message.support');
  return m.author_name || tr('message.system');
}

function messageItem(m) {
  const kind = m.author_kind || 'system';
  if (kind === 'system') {
    return h('li', { class: 'message message-system', testid: 'message', dataset: { id: m.id, authorKind: kind } },
      h('p', { class: 'message-body', testid: 'message-body' }, m.body), timeEl(m.created_at));
  }
  return h('li', { class: ['message', `message-${kind}`], testid: 'message', dataset: { id: m.id, authorKind: kind } },
    h('div', { class: 'message-bubble' },
      h('p', { class: 'message-meta' },
        h('span', { class: 'message-author', testid: 'message-author' }, authorLabel(m)),
        kind === 'agent' ? h('span', { class: 'message-role' }, tr('message.supportTeam')) : null,
        timeEl(m.created_at)),
      m.body ? h('div', { class: 'message-body', testid: 'message-body' }, m.body) : null,
      attachmentList(m.attachments)));
}

export function ticketView(main, ctx) {
  const id = decodeURIComponent(ctx.path.split('/').pop());
  if (!state.session) {
    signedOutPage(main);
    return;
  }
  setTitle(tr('ticket.loading'));
  main.replaceChildren(h('section', { class: 'page' }, spinner(tr('common.loading'))));

  let detail = null;
  let header = null;
  let messagesEl = null;
  let replyArea = null;
  let checkArea = null;

  const back = state.session.verified || !state.session.ticket_id
    ? h('a', { href: '/portal', class: 'back-link', 'data-route': '', testid: 'ticket-back' }, '← ', tr('ticket.back'))
    : null;

  function renderHeader(tk) {
    const handler = tk.handled_by || tr('ticket.notAssignedLong');
    const el = h('header', { class: 'ticket-head' },
      h('p', { class: 'ticket-head-top' },
        h('span', { class: 'ticket-number', testid: 'ticket-number' }, tr('ticket.number', { number: tk.number })),
        statusBadge(tk.status)),
      h('h1', { class: 'page-title', tabindex: '-1', testid: 'ticket-subject' }, tk.subject),
      h('p', { class: 'ticket-status-help', testid: 'ticket-status-help' }, statusExplanation(tk.status)),
      dl([
        [tr('ticket.handler'), h('span', { testid: 'ticket-handler' }, handler)],
        [tr('ticket.updated'), timeEl(tk.last_activity_at, 'ticket-updated')],
        [tr('ticket.opened'), timeEl(tk.created_at)],
        [tr('ticket.category'), tk.category ? categoryLabel(tk.category) : null],
      ], 'ticket-facts'));
    if (header) header.replaceWith(el);
    header = el;
    return el;
  }

  function renderMessages(list) {
    const el = h('ol', { class: 'messages', testid: 'messages', 'aria-label': tr('ticket.conversation') }, list.map(messageItem));
    if (messagesEl) messagesEl.replaceWith(el);
    messagesEl = el;
    return el;
  }

  // --- The identity check an agent asked for -----------------------------------------------

  // Kept across refreshes: the code being typed (one input per check), the last error, and
  // until when "Identity confirmed" shows.
  const checkUi = { id: null, input: null, error: null, doneUntil: 0, timer: null, sig: '' };
  ctx.onCleanup(() => clearTimeout(checkUi.timer));

  function codeInput(c) {
    if (checkUi.id !== c.id || !checkUi.input) {
      checkUi.id = c.id;
      checkUi.error = null;
      const input = h('input', {
        id: 'check-code', class: 'input check-code', testid: 'check-code', name: 'code', type: 'text',
        inputmode: 'numeric', autocomplete: 'one-time-code', spellcheck: 'false', placeholder: '000000',
        'aria-describedby': 'check-how check-error',
      });
      input.addEventListener('input', () => {
        // Digits only (a pasted "123 456" too), at most six.
        const digits = input.value.replace(/\D/g, '').slice(0, 6);
        if (digits !== input.value) input.value = digits;
        if (checkUi.error) {
          checkUi.error = null;
          if (detail) renderCheck(detail.ticket, { force: true });
        }
      });
      checkUi.input = input;
    }
    return checkUi.input;
  }

  function checkCard(c) {
    const code = c.method !== 'signed_session';
    const reason = CHECK_REASONS.includes(c.reason) ? c.reason : 'other';
    let how;
    if (c.method === 'email_code') how = c.destination ? tr('check.email', { destination: c.destination }) : tr('check.emailAny');
    else if (c.method === 'exchange_totp') how = tr('check.totp');
    else how = tr('check.session');
    const attempts = Number(c.attempts_left);
    const meta = h('p', { class: 'check-meta' },
      Number.isFinite(attempts) ? h('span', { testid: 'check-attempts', dataset: { left: String(attempts) } }, tr('check.attempts', { n: attempts })) : null,
      c.expires_at ? h('span', null, tr('check.validUntil', { time: clockTime(c.expires_at) })) : null);
    const errorEl = h('p', { class: 'field-error', id: 'check-error', testid: 'check-error', role: 'alert', hidden: !checkUi.error }, checkUi.error || '');
    let form = null;
    if (code) {
      const input = codeInput(c);
      if (checkUi.error) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'check-submit' },
        h('span', { class: 'btn-label' }, tr('check.submit')));
      form = h('form', { class: 'check-form', testid: 'check-form', noValidate: true },
        h('label', { htmlFor: 'check-code', class: 'field-label' }, tr('check.codeLabel')),
        h('div', { class: 'check-row' }, input, submit));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!submit.disabled) submitCheck(c, submit);
      });
    }
    return h('section', {
      class: 'panel check-card', testid: 'check-card', 'aria-labelledby': 'check-title',
      dataset: { checkId: c.id, method: c.method, status: c.status },
    },
    h('h2', { class: 'panel-title check-title', id: 'check-title' }, icon('shield'), h('span', null, tr('check.title'))),
    h('p', null, tr('check.why')),
    h('p', { class: 'muted', testid: 'check-reason' }, tr('check.for', { reason: tr(`check.reason.${reason}`) })),
    h('p', { class: 'check-how', id: 'check-how', testid: 'check-how' }, how),
    form,
    errorEl,
    meta,
    code ? h('p', { class: 'check-never' }, tr('check.never')) : null);
  }

  /** The card (or "Identity confirmed", or nothing) in its place above the conversation. */
  function renderCheck(tk, { force = false } = {}) {
    const c = tk.identity_check || null;
    const open = checkIsOpen(c);
    const done = !open && checkUi.doneUntil > Date.now();
    const sig = JSON.stringify([open ? [c.id, c.method, c.reason, c.destination, c.attempts_left, c.expires_at] : null,
      done, checkUi.error, getLanguage()]);
    if (checkArea && !force && sig === checkUi.sig) return checkArea;
    checkUi.sig = sig;
    clearTimeout(checkUi.timer);
    const refocus = !!checkUi.input && document.activeElement === checkUi.input;
    let el;
    if (open) {
      el = checkCard(c);
      // Shown as expired once its time is up.
      const left = Date.parse(c.expires_at) - Date.now();
      if (left > 0 && left < 2 ** 31) checkUi.timer = setTimeout(() => { if (ctx.alive && detail) renderCheck(detail.ticket); }, left + 100);
    } else if (done) {
      el = h('div', { class: 'check-area' }, alertBox('success', tr('check.doneTitle'), tr('check.done'), { testid: 'check-confirmed' }));
      checkUi.timer = setTimeout(() => { if (ctx.alive && detail) renderCheck(detail.ticket); }, checkUi.doneUntil - Date.now() + 100);
    } else {
      el = h('div', { class: 'check-area', hidden: true });
    }
    if (checkArea) checkArea.replaceWith(el);
    checkArea = el;
    if (refocus && open && checkUi.input.isConnected) checkUi.input.focus();
    return el;
  }

  async function submitCheck(c, submit) {
    const input = checkUi.input;
    const code = input ? input.value.replace(/\D/g, '') : '';
    if (code.length !== 6) {
      checkUi.error = tr('check.codeInvalid');
      renderCheck(detail.ticket, { force: true });
      if (checkUi.input) checkUi.input.focus();
      return;
    }
    await withBusy(submit, async () => {
      try {
        await portalRequest('POST', `/tickets/${encodeURIComponent(id)}/identity-checks/${encodeURIComponent(c.id)}`, { json: { code } });
        if (!ctx.alive) return;
        checkUi.error = null;
        checkUi.doneUntil = Date.now() + CHECK_DONE_MS;
        if (input) input.value = '';
        // The passed check, the system message, the status: all from the server.
        try {
          await refresh();
        } catch {
          if (detail && detail.ticket.identity_check && detail.ticket.identity_check.id === c.id) {
            detail.ticket.identity_check = { ...detail.ticket.identity_check, status: 'passed' };
          }
          if (detail) renderCheck(detail.ticket, { force: true });
        }
      } catch (err) {
        if (!ctx.alive) return;
        if (err instanceof ApiError && err.status === 401) { sessionEnded(); return; }
        const current = detail && detail.ticket.identity_check;
        if (err instanceof ApiError && err.code === 'identity_check_failed') {
          const n = Number.isInteger(err.problem.attempts_left) ? err.problem.attempts_left : null;
          if (current && current.id === c.id && n !== null) current.attempts_left = Math.min(Number(current.attempts_left) || n, n);
          checkUi.error = n ? tr('check.wrong', { n }) : tr('check.wrongNoCount');
          if (input) input.value = '';
        } else if (err instanceof ApiError && err.code === 'validation_failed') {
          checkUi.error = tr('check.codeInvalid');
        } else if (err instanceof ApiError && err.code === 'identity_check_closed') {
          checkUi.error = null;
          toast(tr('check.closed'), { kind: 'error' });
          await refresh().catch(() => {});
          return;
        } else {
          const { title, detail: d } = describeProblem(err);
          checkUi.error = d ? `${title} ${d}` : title;
        }
        if (detail) renderCheck(detail.ticket, { force: true });
        if (checkUi.input && checkUi.input.isConnected) checkUi.input.focus();
      }
    });
  }

  function closedNote() {
    return h('div', { class: 'reply-closed', testid: 'ticket-closed' },
      alertBox('info', tr('reply.closedTitle'), tr('reply.closedMessage')),
      h('p', { class: 'page-actions' },
        routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'portal-open-ticket', iconName: 'plus' })));
  }

  function renderReply(tk) {
    let el;
    if (tk.status === 'closed') {
      el = closedNote();
    } else {
      el = replyForm(tk);
    }
    if (replyArea) replyArea.replaceWith(el);
    replyArea = el;
    return el;
  }

  function replyForm(tk) {
    const rs = replyState(id);
    const draftKey = `reply.${id}`;
    const bodyId = `reply-body-${id}`;
    const errId = `${bodyId}-error`;
    const textarea = h('textarea', {
      id: bodyId, class: 'input textarea reply-textarea', rows: 4, testid: 'reply-body', name: 'body',
      placeholder: tr('reply.placeholder'),
    });
    textarea.value = (loadDraft(draftKey) || {}).body || '';
    const bodyError = h('p', { class: 'field-error', id: errId, hidden: true, testid: 'reply-body-error' });
    const picker = filePicker({ files: rs.files, testid: 'reply-files', label: tr('reply.attach') });
    const alertSlot = h('div', { class: 'form-alert', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'reply-submit' },
      h('span', { class: 'btn-label' }, tr('reply.send')));
    const setBodyError = (msg) => {
      bodyError.textContent = msg;
      bodyError.hidden = !msg;
      if (msg) textarea.setAttribute('aria-invalid', 'true');
      else textarea.removeAttribute('aria-invalid');
    };
    textarea.addEventListener('input', () => {
      saveDraft(draftKey, { body: textarea.value });
      if (!bodyError.hidden) setBodyError('');
    });
    textarea.setAttribute('aria-describedby', errId);

    const form = h('form', { class: 'reply', testid: 'reply-form', noValidate: true },
      h('h2', { class: 'reply-title' }, h('label', { htmlFor: bodyId }, tr('reply.title'))),
      tk.status === 'resolved' ? h('p', { class: 'note', testid: 'reply-reopens' }, tr('reply.reopens')) : null,
      textarea, bodyError, picker.el, alertSlot,
      h('div', { class: 'form-actions' }, submit));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      alertSlot.replaceChildren();
      setBodyError('');
      picker.clearError();
      const text = textarea.value;
      if (!text.trim()) {
        setBodyError(tr('validation.required'));
        textarea.focus();
        return;
      }
      if (picker.hasInvalid()) {
        picker.setError(tr('file.removeInvalid', { mb: MAX_FILE_BYTES / 1024 / 1024 }));
        picker.input.focus();
        return;
      }
      await withBusy(submit, async () => {
        if (!rs.clientKey) rs.clientKey = uuid();
        try {
          for (const item of rs.files) {
            if (!item.uploaded) item.uploaded = await portal.upload(item.file);
          }
          const msg = await portal.reply(id, {
            body: text, client_key: rs.clientKey, attachment_ids: rs.files.map((f) => f.uploaded.id),
          });
          rs.clientKey = null;
          rs.files.length = 0;
          dropDraft(draftKey);
          textarea.value = '';
          if (detail && !detail.messages.some((m) => m.id === msg.id)) {
            detail.messages.push(msg);
            renderMessages(detail.messages);
          }
          toast(tr('reply.sent'), { kind: 'success' });
          // Status, "last update" and the fresh form (empty file list).
          await refresh({ rebuildReply: true });
          const last = messagesEl && messagesEl.lastElementChild;
          if (last) last.scrollIntoView({ block: 'nearest' });
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) { sessionEnded(); return; }
          if (err instanceof ApiError && err.code === 'conversation_closed') {
            alertSlot.replaceChildren(alertBox('error', tr('reply.closedTitle'), tr('reply.closedMessage'), {
              testid: 'reply-error',
              extra: h('p', { class: 'mt-3' }, routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'reply-open-new' })),
            }));
            return;
          }
          if (err instanceof ApiError && err.code === 'attachment_too_large') {
            picker.setError(tr('file.tooLarge', { mb: MAX_FILE_BYTES / 1024 / 1024 }));
            return;
          }
          const { title, detail: d } = describeProblem(err);
          alertSlot.replaceChildren(alertBox('error', title, d, { testid: 'reply-error' }));
        }
      });
    });
    return form;
  }

  async function refresh({ rebuildReply = false } = {}) {
    const fresh = await portal.ticket(id, { signal: ctx.signal });
    if (!ctx.alive) return;
    const statusChanged = !detail || detail.ticket.status !== fresh.ticket.status;
    const lastOld = detail && detail.messages.length ? detail.messages[detail.messages.length - 1].id : null;
    const lastNew = fresh.messages.length ? fresh.messages[fresh.messages.length - 1].id : null;
    const grew = !detail || detail.messages.length !== fresh.messages.length || lastOld !== lastNew;
    detail = fresh;
    renderHeader(fresh.ticket);
    renderCheck(fresh.ticket);
    if (grew) renderMessages(fresh.messages);
    // Rebuild the reply box only when it must change; the form keeps what is typed anyway.
    if (rebuildReply || statusChanged) renderReply(fresh.ticket);
    setTitle(fresh.ticket.subject);
  }

  async function first() {
    try {
      detail = await portal.ticket(id, { signal: ctx.signal });
    } catch (err) {
      if (!ctx.alive || (err && err.name === 'AbortError')) return;
      if (err instanceof ApiError && err.status === 401) { sessionEnded(); return; }
      if (err instanceof ApiError && err.status === 404) {
        messagePage(main, {
          title: tr('ticket.notFoundTitle'), message: tr('ticket.notFoundMessage'), kind: 'warning', testid: 'portal-ticket-missing',
          actions: [routeLink('/portal', tr('notFound.back'), { variant: 'primary' })],
        });
        return;
      }
      main.replaceChildren(h('section', { class: 'page' }, problemAlert(err, 'ticket-error'),
        h('p', { class: 'mt-3' }, button(tr('common.retry'), { onClick: () => { main.replaceChildren(spinner()); first(); } }))));
      return;
    }
    if (!ctx.alive) return;
    const tk = detail.ticket;
    setTitle(tk.subject);
    const opened = state.justOpened && state.justOpened.ticketId === tk.id ? privateLinkPanel(state.justOpened.url) : null;
    main.replaceChildren(h('article', { class: 'page ticket', testid: 'ticket', dataset: { id: tk.id } },
      back,
      opened,
      renderHeader(tk),
      renderCheck(tk),
      h('section', { class: 'conversation', 'aria-labelledby': 'conversation-title' },
        h('h2', { id: 'conversation-title', class: 'section-title' }, tr('ticket.conversation')),
        renderMessages(detail.messages)),
      renderReply(tk)));

    // Keep the conversation current while the page is open and visible.
    const tick = async () => {
      if (document.visibilityState !== 'visible' || !ctx.alive) return;
      try {
        await refresh();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && ctx.alive) sessionEnded();
      }
    };
    const timer = setInterval(tick, POLL_MS);
    document.addEventListener('visibilitychange', tick);
    ctx.onCleanup(() => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    });
  }
  first();
}
