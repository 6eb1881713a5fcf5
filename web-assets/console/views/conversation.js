// One conversation: the full timeline (messages, private notes, activity),
// the reply / note composer with canned responses (`/`), mentions (`@`, in
// notes) and attachments (button or drag and drop), the controls (status,
// priority, assignee, team, tags, macros) written with If-Match, the
// contact sidebar, keyboard shortcuts (j / k / r / n / e), live updates and
// the collision indicator (who else is viewing or typing). For live chats:
// whether the customer's identity is verified, "Customer is typing…", the
// "Seen" marker (what the customer has read), reporting what agents read, and
// the customer's rating of the chat (side panel and timeline, live); replies
// mailed to a customer who had not read them in the chat are tagged "Emailed".
// Step-up identity checks: the side panel shows where the customer's check
// stands, suggests one for sensitive requests and starts one; sensitive
// macros stay locked until the customer passed.

import {
  h, button, toast, toastProblem, replace, spinner, problemAlert,
  menu, timeCell, withBusy, icon, emptyState, alertBox, badge, describeProblem, dl,
} from '../../shared/ui.js';
import { api, seg, uuid, ApiError } from '../../shared/api.js';
import { t } from '../../shared/i18n.js';
import { app } from '../context.js';
import { onLive } from '../live.js';
import {
  STATUSES, PRIORITIES, statusLabel, priorityLabel, channelLabel, localeLabel, statusBadge,
  priorityBadge, conversationPath, loadAgents, loadTeams, getListOrder, setListOrder, myId, renderBody,
  formatBytes, identityBadge, shieldReasonLabel, secretKindLabel, CHECK_REASONS, checkMethodLabel, checkReasonLabel,
  checkState, checkVerifies, checkNextChange, clockTime, lockIcon,
} from '../inbox-common.js';
import { contactEditModal, contactPath, maskedHint, revealButton, revealedNote } from '../contact-common.js';
import { articleInsertButton } from '../kb-common.js';

const HEARTBEAT_MS = 10_000;
const TYPING_IDLE_MS = 6_000;
const TYPING_RESEND_MS = 5_000;
const PRESENCE_TTL_MS = 35_000;
const SUGGESTIONS = 8;
// A customer who said "typing" and then went quiet (closed the tab, lost the connection).
const CUSTOMER_TYPING_TTL_MS = 8_000;
// The reason an identity check is for, guessed from the conversation's intent.
const INTENT_CHECK_REASON = {
  account_locked: 'account_unlock',
  password_reset: 'account_unlock',
  twofa_reset: 'twofa_reset',
  security_hacked: 'security_hacked',
  withdrawal_failed: 'withdrawal_dispute',
  withdrawal_pending: 'withdrawal_dispute',
  close_account: 'close_account',
};
const CHECK_STATE_VARIANT = {
  verified: 'success', pending: 'warning', failed: 'danger', expired: 'neutral', cancelled: 'neutral', lapsed: 'neutral', none: 'neutral',
};

function authorLabel(m) {
  if (m.private) return t('conversation.note');
  return t(`conversation.author.${m.author.kind}`);
}

/** Who a customer's activity is by: their name, else "Customer". */
function customerName(a) {
  return a.actor && a.actor.name ? a.actor.name : t('conversation.author.customer');
}

/** The sentence for an activity entry, e.g. "Li Wei changed status Open → Resolved". */
function activityText(a, teams) {
  const actor = a.actor && a.actor.name ? a.actor.name : t('conversation.author.system');
  const d = a.data || {};
  const teamName = (id) => (teams.find((x) => x.id === id) || {}).name || id;
  switch (a.kind) {
    case 'created':
      return t('activity.created', { actor, channel: channelLabel(d.channel || '') });
    case 'status_changed':
      return t('activity.status', { actor, from: statusLabel(d.from), to: statusLabel(d.to) });
    case 'priority_changed':
      return t('activity.priority', { actor, from: priorityLabel(d.from), to: priorityLabel(d.to) });
    case 'assigned':
      return d.to ? t('activity.assigned', { actor, name: d.to_name || d.to }) : t('activity.unassigned', { actor });
    case 'team_changed':
      return d.to ? t('activity.team', { actor, team: teamName(d.to) }) : t('activity.teamRemoved', { actor });
    case 'tags_changed': {
      const parts = [];
      if (d.added && d.added.length) parts.push(t('activity.tagsAdded', { tags: d.added.map((x) => `#${x}`).join(' ') }));
      if (d.removed && d.removed.length) parts.push(t('activity.tagsRemoved', { tags: d.removed.map((x) => `#${x}`).join(' ') }));
      return t('activity.tags', { actor, changes: parts.join(t('activity.and')) });
    }
    case 'subject_changed':
      return t('activity.subject', { actor, to: d.to || '' });
    case 'fields_changed':
      return t('activity.fields', { actor, fields: Array.isArray(d.fields) ? d.fields.join(', ') : Object.keys(d.fields || {}).join(', ') });
    case 'merged_into':
      return t('activity.mergedInto', { actor, number: d.target_number });
    case 'merged_from':
      return t('activity.mergedFrom', { actor, number: d.source_number });
    case 'macro_applied':
      return t('activity.macro', { actor, name: d.macro || '' });
    case 'rated': {
      const who = a.actor && a.actor.name ? a.actor.name : t('conversation.author.customer');
      return d.comment
        ? t('activity.ratedComment', { actor: who, score: d.score, comment: d.comment })
        : t('activity.rated', { actor: who, score: d.score });
    }
    case 'secret_redacted':
      return t('activity.secretRedacted', { actor, kinds: secretKinds(d.kinds) });
    case 'identity_check_requested':
      return t('activity.identityCheckRequested', { actor, method: checkMethodLabel(d.method), reason: checkReasonLabel(d.reason) });
    case 'identity_check_passed':
      return t('activity.identityCheckPassed', { actor: customerName(a), method: checkMethodLabel(d.method) });
    case 'identity_check_failed':
      return t('activity.identityCheckFailed', { actor: customerName(a), method: checkMethodLabel(d.method), attempts: d.attempts ?? '' });
    case 'identity_check_expired':
      return t('activity.identityCheckExpired', { actor: customerName(a), method: checkMethodLabel(d.method) });
    default:
      return t('activity.other', { actor, kind: a.kind });
  }
}

function attachmentChip(a) {
  const thumb = a.has_thumbnail || (a.inline && a.content_type.startsWith('image/'));
  return h('a', {
    href: a.url, target: '_blank', rel: 'noopener', class: ['attachment', thumb && 'attachment-image'],
    testid: 'attachment', title: `${a.filename} · ${formatBytes(a.size)}`, download: a.inline ? null : a.filename,
  },
  thumb
    ? h('img', { src: a.has_thumbnail ? `${a.url}/thumbnail` : a.url, alt: a.filename, class: 'attachment-thumb', loading: 'lazy', testid: 'attachment-thumb' })
    : icon('file', 'attachment-icon'),
  h('span', { class: 'attachment-name' }, a.filename),
  h('span', { class: 'attachment-size' }, formatBytes(a.size)));
}

/** "seed phrase, private key": the kinds of secrets taken out, in words. */
function secretKinds(kinds) {
  const list = Array.isArray(kinds) ? kinds : [];
  return list.length ? list.map(secretKindLabel).join(t('shield.kindSeparator')) : t('shield.secret.unknown');
}

/** One link's verdict as a chip: red for a lookalike, amber for a shortened link, green when official. */
function linkFlag(l) {
  let variant;
  let text;
  if (l.verdict === 'lookalike') {
    variant = 'danger';
    text = l.reason
      ? t('shield.linkLookalike', { of: l.lookalike_of || l.host, reason: shieldReasonLabel(l.reason) })
      : t('shield.linkLookalikeNoReason', { of: l.lookalike_of || l.host });
  } else if (l.verdict === 'unknown' && l.reason === 'shortener') {
    variant = 'warning';
    text = t('shield.linkShortener', { host: l.host });
  } else if (l.verdict === 'official') {
    variant = 'success';
    text = t('shield.linkOfficial', { host: l.host });
  } else {
    return null;
  }
  return h('span', {
    class: ['badge', `badge-${variant}`, 'link-flag'], testid: 'link-flag', title: l.url,
    dataset: { verdict: l.verdict, host: l.host, reason: l.reason || null, lookalikeOf: l.lookalike_of || null },
  }, icon(variant === 'success' ? 'check' : 'alert'), h('span', null, text));
}

/** What the security shield noted on a message: secrets taken out, the verdict on its links. */
function shieldNotes(m) {
  const s = m.shield;
  if (!s) return null;
  const redacted = Array.isArray(s.redacted) && s.redacted.length
    ? h('p', { class: 'msg-redacted', testid: 'message-redacted', role: 'note', dataset: { kinds: s.redacted.join(' ') } },
      icon('shield'), h('span', null, t('shield.redactedNotice', { kinds: secretKinds(s.redacted) })))
    : null;
  const flags = (Array.isArray(s.links) ? s.links : []).map(linkFlag).filter(Boolean);
  if (!redacted && !flags.length) return null;
  return h('div', { class: 'msg-shield', testid: 'message-shield' },
    redacted,
    flags.length ? h('div', { class: 'link-flags', testid: 'link-flags' }, flags) : null);
}

/** "Emailed": the reply was mailed to the customer, who had not read it in the chat. */
function emailedTag(m) {
  if (!m.delivery || m.delivery.email !== 'sent') return null;
  return badge(t('conversation.emailed'), 'info', { class: 'badge-compact', testid: 'message-emailed', title: t('conversation.emailedHint') });
}

function messageItem(m) {
  const kind = m.author && m.author.kind ? m.author.kind : 'system';
  return h('li', {
    class: ['msg', `msg-${kind}`, m.private && 'msg-note'], testid: 'timeline-message',
    dataset: { id: m.id, author: kind, private: m.private ? 'true' : 'false', seq: m.seq },
  },
  h('div', { class: 'msg-head' },
    h('span', { class: 'msg-author' }, m.author ? m.author.name : ''),
    h('span', { class: ['msg-kind', m.private && 'msg-kind-note'] }, m.private ? [icon('note'), authorLabel(m)] : authorLabel(m)),
    emailedTag(m),
    h('span', { class: 'msg-time' }, timeCell(m.created_at))),
  h('div', { class: 'msg-body', testid: 'message-body' }, renderBody(m.body)),
  m.attachments && m.attachments.length ? h('div', { class: 'attachments' }, m.attachments.map(attachmentChip)) : null,
  shieldNotes(m));
}

const RATING_MAX = 5;

/** Five stars, `score` of them filled; one accessible label for the whole row. */
function ratingStars(score) {
  return h('span', { class: 'rating-stars', role: 'img', 'aria-label': t('conversation.ratingStars', { score, max: RATING_MAX }) },
    Array.from({ length: RATING_MAX }, (_, i) => h('span', {
      class: ['rating-star', i < score && 'is-filled'], 'aria-hidden': 'true',
    }, i < score ? '★' : '☆')));
}

/** The customer's rating of the chat, for the side panel (null when not rated). */
function ratingCard(rating) {
  if (!rating) return null;
  const score = Math.max(0, Math.min(RATING_MAX, Number(rating.score) || 0));
  const tone = score >= 4 ? 'good' : score === 3 ? 'neutral' : 'bad';
  return h('section', {
    class: ['card', 'side-card', 'rating-card', `rating-${tone}`], testid: 'conversation-rating',
    dataset: { score: String(score) },
  },
  h('header', { class: 'side-card-header' },
    h('h2', { class: 'card-title' }, t('conversation.rating'))),
  h('div', { class: 'side-card-body' },
    h('p', { class: 'rating-line' },
      ratingStars(score),
      h('span', { class: 'rating-score', testid: 'rating-score' }, t('conversation.ratingScore', { score, max: RATING_MAX }))),
    rating.comment
      ? h('blockquote', { class: 'rating-comment prewrap', testid: 'rating-comment' }, rating.comment)
      : h('p', { class: 'muted small', testid: 'rating-comment-none' }, t('conversation.ratingNoComment')),
    h('p', { class: 'muted small rating-time', testid: 'rating-time' }, t('conversation.ratedAt'), ' ', timeCell(rating.rated_at))));
}

function activityItem(a, teams) {
  return h('li', { class: 'activity', testid: 'timeline-activity', dataset: { kind: a.kind } },
    h('span', { class: 'activity-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'activity-text' }, activityText(a, teams)),
    h('span', { class: 'activity-time' }, timeCell(a.created_at)));
}

export function conversationView(page, ctx) {
  const ref = decodeURIComponent(ctx.params.id);
  let conv = null;
  let items = [];
  let agents = [];
  let teams = [];
  let contact = null;
  let mode = 'reply';

  const headerSlot = h('div', { class: 'conv-header' });
  const noticeSlot = h('div', { class: 'conv-notice', testid: 'conversation-notice' });
  const presenceSlot = h('div', { class: 'presence', testid: 'presence-indicator', 'aria-live': 'polite' });
  const timelineList = h('ol', { class: 'timeline', testid: 'timeline' });
  const timelineWrap = h('div', { class: 'timeline-wrap' }, timelineList);
  const controlsSlot = h('div', { class: 'conv-controls' });
  const ratingSlot = h('div', { class: 'conv-rating' });
  const identitySlot = h('div', { class: 'conv-identity' });
  const contactSlot = h('div', { class: 'contact-panel' });
  const customerTypingSlot = h('div', {
    class: 'customer-typing', testid: 'customer-typing', hidden: true, role: 'status', 'aria-live': 'polite',
  });

  page.replaceChildren(spinner());

  // --- Loading -------------------------------------------------------------------------

  async function loadAll() {
    let tl;
    try {
      [tl] = await Promise.all([
        api.get(`/conversations/${seg(ref)}/timeline`),
        loadAgents().then((a) => { agents = a; }).catch(() => {}),
        loadTeams().then((x) => { teams = x; }).catch(() => {}),
      ]);
    } catch (err) {
      if (!ctx.alive) return;
      page.replaceChildren(
        h('p', { class: 'back-link' }, h('a', { href: '/console/inbox', 'data-route': '', class: 'link' }, icon('chevronLeft'), t('conversation.backToInbox'))),
        problemAlert(err, 'conversation-error'));
      return;
    }
    if (!ctx.alive) return;
    conv = tl.conversation;
    items = tl.items || [];
    document.title = `#${conv.number} ${conv.subject} · ${t('app.name')}`;
    mount();
    startPresence();
    loadContact();
    loadChecks();
  }

  async function reloadTimeline() {
    try {
      const tl = await api.get(`/conversations/${seg(conv.id)}/timeline`);
      if (!ctx.alive) return;
      // A `messages_read` event may have arrived after the server answered.
      const readSeq = conv.customer_read_seq || 0;
      conv = tl.conversation;
      if ((conv.customer_read_seq || 0) < readSeq) conv.customer_read_seq = readSeq;
      items = tl.items || [];
      renderHeader();
      renderTimeline();
      renderControls();
      renderRating();
      renderIdentity();
      // The check moved on (an answer, an expiry) without its event reaching us: its history too.
      const known = checks && checks.checks && checks.checks[0];
      const now = conv.identity_check;
      if (checks && (now ? !known || known.id !== now.id || known.status !== now.status : false)) loadChecksSoon();
    } catch (err) {
      if (ctx.alive) toastProblem(err);
    }
  }

  let reloadTimer = null;
  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reloadTimeline, 200);
  }

  // --- Header --------------------------------------------------------------------------

  function renderHeader() {
    replace(headerSlot,
      h('p', { class: 'back-link' }, h('a', { href: '/console/inbox', 'data-route': '', class: 'link', testid: 'back-to-inbox' }, icon('chevronLeft'), t('conversation.backToInbox'))),
      h('div', { class: 'conv-title-row' },
        h('h1', { class: 'page-title conv-title', testid: 'page-title', tabindex: '-1' },
          h('span', { class: 'conv-number', testid: 'conversation-number' }, `#${conv.number}`), ' ',
          h('span', { testid: 'conversation-subject' }, conv.subject || t('inbox.noSubject'))),
        h('div', { class: 'conv-title-badges' },
          h('span', { testid: 'conversation-status', dataset: { status: conv.status } }, statusBadge(conv.status)),
          priorityBadge(conv.priority),
          badge(channelLabel(conv.channel), 'neutral', { testid: 'conversation-channel', dataset: { channel: conv.channel } }),
          identityBadge(conv)),
        h('div', { class: 'conv-title-actions' },
          conv.status !== 'resolved' && conv.status !== 'closed'
            ? button(t('conversation.resolve'), { variant: 'primary', size: 'sm', iconName: 'check', testid: 'resolve-button', title: t('conversation.resolveHint'), onClick: (e) => withBusy(e.currentTarget, () => patch({ status: 'resolved' })) })
            : button(t('conversation.reopen'), { size: 'sm', testid: 'reopen-button', onClick: (e) => withBusy(e.currentTarget, () => patch({ status: 'open' })) }),
          navButtons())),
      presenceSlot,
      noticeSlot);
  }

  function navButtons() {
    return h('span', { class: 'conv-nav' },
      button(null, { variant: 'ghost', size: 'sm', iconName: 'chevronLeft', ariaLabel: t('conversation.previous'), title: t('conversation.previousHint'), testid: 'conversation-prev', onClick: () => go(-1) }),
      button(null, { variant: 'ghost', size: 'sm', iconName: 'chevronRight', ariaLabel: t('conversation.next'), title: t('conversation.nextHint'), testid: 'conversation-next', onClick: () => go(1) }));
  }

  async function go(delta) {
    let order = getListOrder();
    if (!order.some((c) => c.id === conv.id)) {
      try {
        const res = await api.get('/conversations', { query: { view: 'all', limit: 200 } });
        setListOrder((res && res.items) || []);
        order = getListOrder();
      } catch (err) {
        toastProblem(err);
        return;
      }
    }
    if (!ctx.alive) return;
    const i = order.findIndex((c) => c.id === conv.id);
    const next = order[i + delta];
    if (!next) {
      toast(delta > 0 ? t('conversation.noNext') : t('conversation.noPrevious'), { kind: 'info' });
      return;
    }
    app.navigate(conversationPath(next));
  }

  // --- Timeline ------------------------------------------------------------------------

  function renderTimeline() {
    const atBottom = timelineWrap.scrollHeight - timelineWrap.scrollTop - timelineWrap.clientHeight < 40;
    replace(timelineList, items.length
      ? items.map((it) => (it.type === 'message' ? messageItem(it) : activityItem(it, teams)))
      : h('li', null, emptyState(t('conversation.emptyTimeline'))));
    renderSeen();
    if (atBottom || !timelineRendered) timelineWrap.scrollTop = timelineWrap.scrollHeight;
    timelineRendered = true;
    markRead();
  }
  let timelineRendered = false;

  // --- Live chat: what the customer has seen, what agents have seen, customer typing ------------

  const isChat = () => !!conv && conv.channel === 'chat';

  /** "Seen" under the last public agent message the customer has read. */
  function renderSeen() {
    for (const old of timelineList.querySelectorAll('.msg-seen')) old.remove();
    if (!isChat()) return;
    const readSeq = conv.customer_read_seq || 0;
    let last = null;
    for (const it of items) {
      if (it.type !== 'message' || it.private || !it.author || it.author.kind !== 'agent') continue;
      if (typeof it.seq === 'number' && it.seq <= readSeq && (!last || it.seq > last.seq)) last = it;
    }
    if (!last) return;
    const li = timelineList.querySelector(`.msg[data-seq="${last.seq}"]`);
    if (!li) return;
    li.after(h('li', { class: 'msg-seen', testid: 'message-seen', dataset: { seq: last.seq }, title: t('conversation.seenHint') },
      icon('check'), t('conversation.seen')));
  }

  let readSent = 0;
  /** Tell the customer (through the server) how far agents have read, when this view is visible. */
  function markRead() {
    if (!isChat() || document.hidden || !ctx.alive) return;
    let top = 0;
    for (const it of items) if (it.type === 'message' && typeof it.seq === 'number' && it.seq > top) top = it.seq;
    if (top <= readSent) return;
    readSent = top;
    api.post(`/conversations/${seg(conv.id)}/read`, { seq: top }, { silent: true }).catch(() => {
      // Best effort: try again with the next message or when the page is shown again.
      if (readSent === top) readSent = 0;
    });
  }
  const onVisible = () => { if (!document.hidden) markRead(); };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onCleanup(() => document.removeEventListener('visibilitychange', onVisible));

  let customerTypingTimer = null;
  function setCustomerTyping(on) {
    clearTimeout(customerTypingTimer);
    customerTypingTimer = null;
    if (on) customerTypingTimer = setTimeout(() => setCustomerTyping(false), CUSTOMER_TYPING_TTL_MS);
    if (customerTypingSlot.hidden === !on) return;
    customerTypingSlot.hidden = !on;
    replace(customerTypingSlot, on
      ? [h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')), t('conversation.customerTyping')]
      : []);
  }
  ctx.onCleanup(() => clearTimeout(customerTypingTimer));

  // --- The customer's rating -------------------------------------------------------------

  function renderRating() {
    const el = ratingCard(conv.rating);
    ratingSlot.hidden = !el;
    replace(ratingSlot, el);
  }

  // --- Step-up identity check ----------------------------------------------------------------

  let checks = null; // GET …/identity-checks: { checks (newest first), methods, verified, suggested }
  let checksError = null;
  let checksTimer = null;
  let checkTimer = null;
  // The form's choices, kept while the panel is redrawn (live updates).
  const checkChoice = { method: null, reason: null };
  let checkAlert = null; // why the last start was refused: { title, detail }

  /** The latest check: the conversation's or the panel's, whichever is newer news. */
  function latestCheck() {
    const a = conv && conv.identity_check;
    const b = checks && Array.isArray(checks.checks) ? checks.checks[0] : null;
    if (!a || !b) return a || b || null;
    if (a.id !== b.id) return (Date.parse(a.created_at) || 0) >= (Date.parse(b.created_at) || 0) ? a : b;
    if (a.status !== b.status) return a.status === 'pending' ? b : a; // an answer ends a pending check
    return (a.attempts_left ?? 0) <= (b.attempts_left ?? 0) ? a : b;
  }

  /** The customer passed a check recently enough for sensitive actions. */
  const isVerified = () => checkVerifies(latestCheck());

  async function loadChecks() {
    if (!conv) return;
    try {
      const res = await api.get(`/conversations/${seg(conv.id)}/identity-checks`);
      if (!ctx.alive) return;
      checks = {
        checks: Array.isArray(res && res.checks) ? res.checks : [],
        methods: Array.isArray(res && res.methods) ? res.methods : [],
        verified: !!(res && res.verified),
        suggested: !!(res && res.suggested),
      };
      checksError = null;
    } catch (err) {
      if (!ctx.alive) return;
      checksError = err;
    }
    renderIdentity();
    renderMacroMenu();
  }

  function loadChecksSoon() {
    clearTimeout(checksTimer);
    checksTimer = setTimeout(loadChecks, 200);
  }

  /** Redraw when the check changes by itself: a pending one expires, a pass runs out. */
  function scheduleCheckChange() {
    clearTimeout(checkTimer);
    const at = checkNextChange(latestCheck());
    if (at === null) return;
    checkTimer = setTimeout(() => {
      if (!ctx.alive) return;
      renderIdentity();
      renderMacroMenu();
      // The server notes an expiry when the checks are read.
      if (checkState(latestCheck()) === 'expired') loadChecksSoon();
    }, Math.min(Math.max(0, at - Date.now()) + 250, 2 ** 31 - 1));
  }

  function checkStateBadge(state) {
    return badge(t(`identityCheck.state.${state}`), CHECK_STATE_VARIANT[state] || 'neutral', {
      testid: 'identity-check-status', dataset: { status: state },
    });
  }

  /** Where the latest check stands, in a sentence or two. */
  function checkSummary(c, state) {
    const line = (iconName, text, extra) => h('p', { class: ['identity-line', `identity-line-${state}`] },
      iconName ? icon(iconName) : null, h('span', null, text), extra || null);
    let main;
    switch (state) {
      case 'verified':
        main = line('check', t('identityCheck.verifiedUntil', { time: clockTime(c.verified_until) }));
        break;
      case 'lapsed':
        main = line('info', t('identityCheck.lapsed', { time: clockTime(c.verified_until) }));
        break;
      case 'pending':
        main = [
          line('refresh', t('identityCheck.pendingLine', { method: checkMethodLabel(c.method) })),
          c.destination ? h('p', { class: 'muted small', testid: 'identity-check-destination' },
            t('identityCheck.sentTo', { destination: c.destination })) : null,
          h('p', { class: 'muted small' },
            h('span', { testid: 'identity-check-attempts', dataset: { left: String(c.attempts_left ?? '') } },
              t('identityCheck.attemptsLeft', { n: c.attempts_left ?? '' })),
            ' · ',
            h('span', { testid: 'identity-check-expires' }, t('identityCheck.expiresAt', { time: clockTime(c.expires_at) }))),
        ];
        break;
      case 'failed':
        main = line('alert', t('identityCheck.failedLine', { time: clockTime(c.completed_at || c.created_at) }));
        break;
      case 'expired':
        main = line('info', t('identityCheck.expiredLine', { time: clockTime(c.completed_at || c.expires_at) }));
        break;
      case 'cancelled':
        main = line('info', t('identityCheck.cancelledLine'));
        break;
      default:
        main = h('p', { class: 'muted small' }, t('identityCheck.none'));
    }
    return h('div', { class: 'identity-summary', testid: 'identity-check-summary', dataset: c ? { id: c.id, method: c.method } : null },
      main,
      c ? h('p', { class: 'muted small' }, t('identityCheck.requestedBy', {
        name: c.requested_by_name || t('common.unknown'), reason: checkReasonLabel(c.reason),
      })) : null);
  }

  /** The form that asks the customer: how (only the methods there are) and why. */
  function checkForm(state) {
    const methods = (checks && checks.methods) || [];
    const usable = methods.filter((m) => m.available);
    if (!usable.some((m) => m.method === checkChoice.method)) checkChoice.method = usable.length ? usable[0].method : null;
    if (!CHECK_REASONS.includes(checkChoice.reason)) checkChoice.reason = INTENT_CHECK_REASON[conv.intent] || 'other';
    const closed = conv.status === 'closed';

    const hint = h('p', { class: 'field-hint small', id: 'identity-check-method-hint', testid: 'identity-check-method-hint' });
    const showHint = () => {
      hint.textContent = checkChoice.method ? t(`identityCheck.methodHint.${checkChoice.method}`) : t('identityCheck.noMethod');
    };
    showHint();
    const methodSel = h('select', {
      class: 'input select select-sm', id: 'identity-check-method', testid: 'identity-check-method',
      'aria-describedby': 'identity-check-method-hint', disabled: !usable.length,
      onChange: () => { checkChoice.method = methodSel.value; showHint(); },
    }, methods.map((m) => h('option', {
      value: m.method, disabled: !m.available, selected: m.method === checkChoice.method,
      title: m.available ? null : (m.unavailable_reason || t('identityCheck.unavailableUnknown')),
      dataset: { available: m.available ? 'true' : 'false' },
    }, m.available ? checkMethodLabel(m.method) : t('identityCheck.methodUnavailable', { method: checkMethodLabel(m.method) }))));
    const reasonSel = h('select', {
      class: 'input select select-sm', id: 'identity-check-reason', testid: 'identity-check-reason',
      onChange: () => { checkChoice.reason = reasonSel.value; },
    }, CHECK_REASONS.map((r) => h('option', { value: r, selected: r === checkChoice.reason }, checkReasonLabel(r))));

    const unavailable = methods.filter((m) => !m.available);
    const startBtn = button(state === 'pending' ? t('identityCheck.startAgain') : t('identityCheck.start'), {
      variant: state === 'pending' ? 'secondary' : 'primary', size: 'sm', type: 'submit', iconName: 'shield',
      testid: 'identity-check-start', disabled: !checkChoice.method || closed,
    });
    const form = h('form', {
      class: 'identity-form', method: 'post', action: '#', testid: 'identity-check-form', noValidate: true,
      onSubmit: (e) => {
        e.preventDefault();
        if (!startBtn.disabled) withBusy(startBtn, startCheck);
      },
    },
    h('div', { class: 'control-row' }, h('label', { class: 'control-label', htmlFor: 'identity-check-method' }, t('identityCheck.methodLabel')), methodSel, hint),
    unavailable.length ? h('ul', { class: 'identity-unavailable muted small', testid: 'identity-check-unavailable' },
      unavailable.map((m) => h('li', { dataset: { method: m.method } }, t('identityCheck.unavailableLine', {
        method: checkMethodLabel(m.method), reason: m.unavailable_reason || t('identityCheck.unavailableUnknown'),
      })))) : null,
    h('div', { class: 'control-row' }, h('label', { class: 'control-label', htmlFor: 'identity-check-reason' }, t('identityCheck.reasonLabel')), reasonSel),
    checkAlert ? alertBox('error', checkAlert.title, checkAlert.detail, { testid: 'identity-check-error' }) : null,
    closed ? h('p', { class: 'muted small', testid: 'identity-check-closed' }, t('identityCheck.conversationClosed'))
      : state === 'pending' ? h('p', { class: 'muted small' }, t('identityCheck.replaceHint')) : null,
    h('div', { class: 'identity-actions' }, startBtn));
    return form;
  }

  function checkHistory(list) {
    // Passed (whether or not its window is over), pending, failed, expired (also a pending one
    // past its time), cancelled.
    const label = (c) => {
      const st = checkState(c);
      return st === 'verified' || st === 'lapsed' ? 'passed' : st;
    };
    const variant = { passed: 'success', pending: 'warning', failed: 'danger' };
    const known = ['passed', 'pending', 'failed', 'expired', 'cancelled'];
    return h('div', { class: 'identity-history' },
      h('h3', { class: 'rail-title' }, t('identityCheck.history')),
      h('ol', { class: 'identity-history-list', testid: 'identity-check-history' }, list.map((c) => {
        const st = label(c);
        return h('li', { class: 'identity-history-item', testid: 'identity-check-item', dataset: { id: c.id, status: st, method: c.method } },
          h('span', { class: 'identity-history-main' },
            h('span', { class: 'strong' }, checkMethodLabel(c.method)), ' · ', checkReasonLabel(c.reason)),
          badge(known.includes(st) ? t(`identityCheck.status.${st}`) : String(c.status || ''), variant[st] || 'neutral', { class: 'badge-compact' }),
          h('span', { class: 'identity-history-meta muted small' },
            c.requested_by_name ? `${c.requested_by_name} · ` : '', timeCell(c.created_at)));
      })));
  }

  /** The "Identity check" card in the side panel. */
  function renderIdentity() {
    if (!conv) return;
    const latest = latestCheck();
    const state = checkState(latest);
    const verified = state === 'verified';
    const suggested = !!(checks && checks.suggested);
    scheduleCheckChange();
    const active = document.activeElement;
    const focused = active && identitySlot.contains(active) ? active.dataset.testid : null;
    let form;
    if (checks) form = checkForm(state);
    else if (checksError) form = problemAlert(checksError, 'identity-check-load-error');
    else form = spinner();
    replace(identitySlot, h('section', {
      class: ['card', 'side-card', 'identity-card', `identity-${state}`], testid: 'identity-check-panel',
      dataset: { state, verified: String(verified), suggested: String(suggested) }, 'aria-labelledby': 'identity-check-title',
    },
    h('header', { class: 'side-card-header' },
      h('h2', { class: 'card-title identity-title', id: 'identity-check-title' }, icon('shield'), t('identityCheck.title')),
      checkStateBadge(state)),
    h('div', { class: 'side-card-body' },
      suggested && !verified
        ? alertBox('warning', t('identityCheck.suggestedTitle'), t('identityCheck.suggestedText'), { testid: 'identity-check-suggested' })
        : null,
      checkSummary(latest, state),
      form,
      checks && checks.checks.length ? checkHistory(checks.checks) : null)));
    if (focused) {
      const again = identitySlot.querySelector(`[data-testid="${focused}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  /** Why a start was refused, for the alert under the form. */
  function checkProblem(err) {
    const { title, detail } = describeProblem(err);
    if (err instanceof ApiError && err.code === 'identity_check_limited') {
      const at = err.problem.retry_after;
      return { title, detail: at ? t('identityCheck.limitedUntil', { time: clockTime(at) }) : detail };
    }
    if (err instanceof ApiError && err.code === 'validation_failed') {
      const fields = [...err.fieldErrors()].map(([f, msg]) => `${f}: ${msg}`);
      return { title, detail: fields.join('; ') || detail };
    }
    return { title, detail };
  }

  async function startCheck() {
    const method = checkChoice.method;
    if (!method || !conv) return;
    const reason = checkChoice.reason || 'other';
    checkAlert = null;
    try {
      const check = await api.post(`/conversations/${seg(conv.id)}/identity-checks`, { method, reason });
      if (!ctx.alive) return;
      if (check && check.id) {
        conv.identity_check = check;
        if (checks) {
          checks.checks = [check, ...checks.checks.filter((c) => c.id !== check.id)
            .map((c) => (c.status === 'pending' ? { ...c, status: 'cancelled' } : c))];
        }
      }
      toast(t('identityCheck.started', { method: checkMethodLabel(method) }));
      renderIdentity();
      renderMacroMenu();
      loadChecksSoon();
      reloadSoon();
    } catch (err) {
      if (!ctx.alive) return;
      checkAlert = checkProblem(err);
      renderIdentity();
      // The methods may have changed (an unavailable one), or the conversation (closed).
      if (err instanceof ApiError && (err.code === 'identity_check_unavailable' || err.code === 'conversation_closed')) {
        loadChecksSoon();
        if (err.code === 'conversation_closed') reloadSoon();
      }
    }
  }

  ctx.onCleanup(() => {
    clearTimeout(checksTimer);
    clearTimeout(checkTimer);
  });

  // --- Updates with If-Match ----------------------------------------------------------------

  async function conflict() {
    replace(noticeSlot, alertBox('warning', t('conversation.conflictTitle'), t('conversation.conflictText'), { testid: 'conflict-notice' }));
    await reloadTimeline();
  }

  async function patch(body) {
    try {
      const updated = await api.patch(`/conversations/${seg(conv.id)}`, body, { headers: { 'If-Match': `"${conv.version}"` } });
      if (!ctx.alive) return null;
      conv = updated;
      replace(noticeSlot);
      renderHeader();
      renderControls();
      renderRating();
      renderIdentity();
      reloadSoon();
      return updated;
    } catch (err) {
      if (!ctx.alive) return null;
      if (err instanceof ApiError && err.code === 'version_conflict') {
        await conflict();
      } else {
        toastProblem(err);
        renderControls();
      }
      return null;
    }
  }

  async function applyMacro(m) {
    try {
      await api.post(`/conversations/${seg(conv.id)}/apply-macro`, { macro_id: m.id, version: conv.version });
      toast(t('conversation.macroApplied', { name: m.name }));
      replace(noticeSlot);
      await reloadTimeline();
    } catch (err) {
      if (!ctx.alive) return;
      if (err instanceof ApiError && err.code === 'version_conflict') {
        await conflict();
      } else if (err instanceof ApiError && err.code === 'identity_check_required') {
        // Sensitive, and the customer has not (or no longer) passed a check: say so, and show
        // the check as it now stands.
        replace(noticeSlot, alertBox('warning', t('problem.identity_check_required'),
          t('conversation.macroNeedsCheckDetail', { name: m.name }), { testid: 'macro-check-required' }));
        loadChecksSoon();
        reloadSoon();
      } else {
        toastProblem(err);
      }
    }
  }

  // --- Controls ------------------------------------------------------------------------

  let macros = null;
  let macroSlot = null;

  /** A macro's name in the menu; sensitive ones carry a lock, and say why while locked. */
  function macroLabel(m, locked) {
    if (!m.sensitive) return m.name;
    return [
      lockIcon('macro-lock'),
      h('span', { class: 'macro-item-name' }, m.name),
      h('span', { class: 'visually-hidden' }, ` (${t('macros.sensitiveBadge')})`),
      locked ? h('span', { class: 'macro-item-hint', testid: 'macro-item-hint' }, t('conversation.macroNeedsCheck')) : null,
    ];
  }

  function renderMacroMenu() {
    if (!macroSlot) return;
    if (!macros || !macros.length) {
      replace(macroSlot, h('span', { class: 'muted small' }, macros ? t('conversation.noMacros') : t('common.loading')));
      return;
    }
    const verified = isVerified();
    const locked = (m) => !!m.sensitive && !verified;
    const el = menu({
      label: t('conversation.applyMacro'), testid: 'apply-macro',
      items: macros.map((m) => ({ label: macroLabel(m, locked(m)), testid: 'macro-item', onSelect: () => applyMacro(m) })),
    });
    // The shared menu has no disabled items: sensitive macros are locked here while the
    // customer has not passed an identity check.
    const buttons = el.querySelectorAll('.menu-item');
    macros.forEach((m, i) => {
      const b = buttons[i];
      if (!b) return;
      b.dataset.id = m.id;
      b.dataset.sensitive = m.sensitive ? 'true' : 'false';
      if (locked(m)) {
        b.disabled = true;
        b.setAttribute('aria-disabled', 'true');
        b.title = t('conversation.macroNeedsCheck');
        b.classList.add('is-locked');
      } else if (m.sensitive) {
        b.title = t('conversation.macroSensitiveReady');
      }
    });
    macroSlot.dataset.verified = String(verified);
    replace(macroSlot, el);
  }

  function renderControls() {
    const statusSel = h('select', {
      class: 'input select select-sm', testid: 'control-status', id: 'ctl-status',
      onChange: () => patch({ status: statusSel.value }),
    }, STATUSES.map((s) => h('option', { value: s, selected: s === conv.status }, statusLabel(s))));
    const prioSel = h('select', {
      class: 'input select select-sm', testid: 'control-priority', id: 'ctl-priority',
      onChange: () => patch({ priority: prioSel.value }),
    }, PRIORITIES.map((p) => h('option', { value: p, selected: p === conv.priority }, priorityLabel(p))));
    const activeAgents = agents.filter((a) => a.active || a.id === conv.assignee_id);
    const assigneeSel = h('select', {
      class: 'input select select-sm', testid: 'control-assignee', id: 'ctl-assignee',
      onChange: () => patch({ assignee_id: assigneeSel.value || null }),
    },
    h('option', { value: '', selected: !conv.assignee_id }, t('inbox.unassigned')),
    activeAgents.map((a) => h('option', { value: a.id, selected: a.id === conv.assignee_id }, a.name)),
    conv.assignee_id && !activeAgents.some((a) => a.id === conv.assignee_id)
      ? h('option', { value: conv.assignee_id, selected: true }, conv.assignee_name || conv.assignee_id) : null);
    const teamSel = h('select', {
      class: 'input select select-sm', testid: 'control-team', id: 'ctl-team',
      onChange: () => patch({ team_id: teamSel.value || null }),
    },
    h('option', { value: '', selected: !conv.team_id }, t('conversation.noTeam')),
    teams.map((tm) => h('option', { value: tm.id, selected: tm.id === conv.team_id }, tm.name)));

    const tagInput = h('input', {
      class: 'input input-sm tag-input', testid: 'tag-input', placeholder: t('conversation.addTag'),
      'aria-label': t('conversation.addTag'), autocomplete: 'off',
    });
    tagInput.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ',') return;
      e.preventDefault();
      const list = tagInput.value.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
      if (list.length) patch({ add_tags: list });
    });
    const tagChips = h('div', { class: 'tag-chips', testid: 'conversation-tags' },
      (conv.tags || []).map((tg) => h('span', { class: 'chip', testid: 'tag-chip', dataset: { tag: tg } },
        h('span', null, `#${tg}`),
        h('button', {
          type: 'button', class: 'chip-remove', testid: 'tag-remove', 'aria-label': t('conversation.removeTag', { tag: tg }),
          onClick: () => patch({ remove_tags: [tg] }),
        }, icon('x')))),
      tagInput);

    const me = myId();
    const assignMe = conv.assignee_id !== me
      ? h('button', { type: 'button', class: 'btn btn-link btn-inline', testid: 'assign-me', onClick: () => patch({ assignee_id: me }) }, t('inbox.assignToMe'))
      : null;

    macroSlot = h('div', { class: 'macro-slot', testid: 'macro-slot' });
    renderMacroMenu();
    if (!macros) {
      api.get('/macros').then((res) => { macros = (res && res.items) || []; if (ctx.alive) renderMacroMenu(); }).catch(() => { macros = []; renderMacroMenu(); });
    }

    const row = (label, forId, control, extra) => h('div', { class: 'control-row' },
      h('label', { class: 'control-label', htmlFor: forId }, label), control, extra || null);

    replace(controlsSlot, h('section', { class: 'card side-card', testid: 'conversation-controls' },
      h('div', { class: 'side-card-body' },
        row(t('conversation.status'), 'ctl-status', statusSel),
        row(t('conversation.priority'), 'ctl-priority', prioSel),
        row(t('conversation.assignee'), 'ctl-assignee', assigneeSel, assignMe),
        row(t('conversation.team'), 'ctl-team', teamSel),
        h('div', { class: 'control-row' }, h('span', { class: 'control-label' }, t('conversation.tags')), tagChips),
        h('div', { class: 'control-row' }, h('span', { class: 'control-label' }, t('conversation.macros')), macroSlot),
        h('p', { class: 'muted small' }, t('conversation.versionInfo', { version: conv.version })))));
  }

  // --- Contact sidebar ---------------------------------------------------------------------------

  async function loadContact() {
    replace(contactSlot, spinner());
    try {
      const [c, others] = await Promise.all([
        api.get(`/contacts/${seg(conv.contact_id)}`),
        api.get(`/contacts/${seg(conv.contact_id)}/conversations`).catch(() => ({ items: [] })),
      ]);
      if (!ctx.alive) return;
      contact = c;
      renderContact((others && others.items) || []);
    } catch (err) {
      if (ctx.alive) replace(contactSlot, problemAlert(err));
    }
  }

  function renderContact(others) {
    const c = contact;
    const list = others.filter((o) => o.id !== conv.id);
    // E-mails and phones come masked; a role with full view may reveal them (audited).
    const masked = (values) => (values && values.length
      ? h('span', null, values.join(', '), c.pii_masked ? [' ', maskedHint()] : null) : null);
    // The address the visitor typed in the chat: nobody proved it is theirs.
    const unverified = c.unverified_email
      ? h('span', { title: t('contact.unverifiedEmailHint') }, c.unverified_email, c.pii_masked ? [' ', maskedHint()] : null) : null;
    const reveal = revealButton(c, { variant: 'ghost', onRevealed: (full) => { if (!ctx.alive) return; contact = full; renderContact(others); } });
    replace(contactSlot, h('section', { class: 'card side-card', testid: 'contact-card', dataset: { contactId: c.id } },
      h('header', { class: 'side-card-header' },
        h('h2', { class: 'card-title', testid: 'contact-name' }, c.name || t('common.unknown')),
        reveal,
        button(t('contact.edit'), { size: 'sm', variant: 'ghost', iconName: 'edit', testid: 'contact-edit', onClick: () => editContact(others) })),
      h('div', { class: 'side-card-body' },
        c.pii_masked === false ? revealedNote() : null,
        dl([
          [t('contact.emails'), masked(c.emails), 'contact-emails'],
          c.unverified_email ? [t('contact.unverifiedEmail'), unverified, 'contact-unverified-email'] : null,
          [t('contact.phones'), masked(c.phones), 'contact-phones'],
          [t('contact.exchangeUserId'), c.exchange_user_id ? h('code', { class: 'mono' }, c.exchange_user_id) : null, 'contact-uid'],
          c.telegram_id ? [t('contact.telegramId'), h('code', { class: 'mono' }, c.telegram_id), 'contact-telegram'] : null,
          [t('contact.vipTier'), c.vip_tier ? badge(t('contact.vipValue', { n: c.vip_tier }), 'brand') : t('contact.vipNone'), 'contact-vip'],
          [t('contact.kycLevel'), t('contact.kycValue', { n: c.kyc_level }), 'contact-kyc'],
          [t('contact.language'), c.language ? localeLabel(c.language) : null, 'contact-language'],
          [t('contact.tags'), c.tags && c.tags.length ? h('span', { class: 'badge-list' }, c.tags.map((x) => h('span', { class: 'tag-pill' }, `#${x}`))) : null, 'contact-tags'],
          [t('contact.notes'), c.notes ? h('span', { class: 'prewrap' }, c.notes) : null, 'contact-notes'],
        ].filter(Boolean), 'dl-compact'),
        h('div', { class: 'contact-others' },
          h('h3', { class: 'rail-title' }, t('contact.otherConversations')),
          list.length
            ? h('ul', { class: 'other-list', testid: 'contact-conversations' }, list.map((o) => h('li', null,
              h('a', { href: conversationPath(o), 'data-route': '', class: 'link', testid: 'contact-conversation' }, `#${o.number} ${o.subject}`),
              ' ', statusBadge(o.status))))
            : h('p', { class: 'muted small', testid: 'contact-conversations-empty' }, t('contact.noOtherConversations'))),
        h('p', { class: 'small' }, h('a', { href: contactPath(c), 'data-route': '', class: 'link', testid: 'contact-open-page' }, t('contact.openPage'), icon('chevronRight'))))));
  }

  function editContact(others) {
    contactEditModal({
      contact,
      onSaved: (updated) => {
        if (!ctx.alive) return;
        contact = updated;
        renderContact(others);
      },
    });
  }

  // --- Composer ------------------------------------------------------------------------------------

  const textarea = h('textarea', {
    class: 'input textarea composer-input', testid: 'composer-input', rows: 4,
    'aria-label': t('conversation.replyLabel'), placeholder: t('conversation.replyPlaceholder'),
  });
  const suggest = h('div', { class: 'suggest', role: 'listbox', hidden: true, testid: 'composer-suggest' });
  const pending = h('div', { class: 'composer-attachments', testid: 'composer-attachments' });
  // Why the last send was refused, when the agent has to change the text (a link that may not be sent).
  const composerError = h('div', { class: 'form-alert composer-error', testid: 'composer-error-slot' });
  const fileInput = h('input', { type: 'file', multiple: true, class: 'visually-hidden', testid: 'composer-file', tabindex: '-1', 'aria-hidden': 'true' });
  const attachBtn = button(t('conversation.attach'), { variant: 'ghost', size: 'sm', iconName: 'paperclip', testid: 'composer-attach', onClick: () => fileInput.click() });
  const statusAfter = h('select', { class: 'input select select-sm', testid: 'composer-status', 'aria-label': t('conversation.statusAfter') },
    h('option', { value: '' }, t('conversation.keepStatus')),
    ['pending', 'on_hold', 'resolved'].map((s) => h('option', { value: s }, t('conversation.andSet', { status: statusLabel(s) }))));
  const sendBtn = button(t('conversation.sendReply'), { variant: 'primary', type: 'submit', testid: 'composer-send' });
  // "Insert article": search the help center in the conversation's language and insert a link or the text.
  const kbInsert = articleInsertButton({
    getLocale: () => (conv && conv.language) || (contact && contact.language) || null,
    onInsert: (text) => {
      const start = textarea.selectionStart;
      const end = textarea.selectionEnd;
      const before = textarea.value.slice(0, start);
      const after = textarea.value.slice(end);
      const lead = before && !/\s$/.test(before) ? (text.includes('\n') ? '\n\n' : ' ') : '';
      const trail = after && !/^\s/.test(after) ? ' ' : '';
      insertText(start, end, `${lead}${text}${trail}`);
    },
  });
  const modeReply = h('button', { type: 'button', class: 'composer-tab', testid: 'composer-mode-reply', onClick: () => setMode('reply', true) }, icon('message'), t('conversation.reply'));
  const modeNote = h('button', { type: 'button', class: 'composer-tab', testid: 'composer-mode-note', onClick: () => setMode('note', true) }, icon('note'), t('conversation.noteTab'));
  const composer = h('form', { class: 'composer', method: 'post', action: '#', testid: 'composer' },
    h('div', { class: 'composer-tabs', role: 'group', 'aria-label': t('conversation.composerMode') }, modeReply, modeNote,
      h('span', { class: 'composer-hint muted small', testid: 'composer-hint' })),
    h('div', { class: 'composer-field' }, textarea, suggest),
    composerError,
    pending,
    h('div', { class: 'composer-actions' }, attachBtn, fileInput, kbInsert,
      h('span', { class: 'composer-drop-hint muted small' }, t('conversation.dropHint')),
      h('span', { class: 'topbar-spacer' }), statusAfter, sendBtn));
  const composerHint = composer.querySelector('.composer-hint');

  function setMode(next, focus) {
    mode = next;
    composer.classList.toggle('composer-note', mode === 'note');
    modeReply.setAttribute('aria-pressed', String(mode === 'reply'));
    modeNote.setAttribute('aria-pressed', String(mode === 'note'));
    modeReply.classList.toggle('is-active', mode === 'reply');
    modeNote.classList.toggle('is-active', mode === 'note');
    sendBtn.querySelector('.btn-label').textContent = mode === 'note' ? t('conversation.addNote') : t('conversation.sendReply');
    textarea.placeholder = mode === 'note' ? t('conversation.notePlaceholder') : t('conversation.replyPlaceholder');
    textarea.setAttribute('aria-label', mode === 'note' ? t('conversation.noteLabel') : t('conversation.replyLabel'));
    composerHint.textContent = mode === 'note' ? t('conversation.noteHint') : t('conversation.replyHint');
    statusAfter.hidden = mode === 'note';
    replace(composerError);
    closeSuggest();
    if (focus) textarea.focus();
  }

  // Attachments -----------------------------------------------------------------------------

  const uploads = []; // { id?, file, chip, done }

  function uploadFiles(files) {
    for (const file of files) {
      const entry = { file, id: null, done: false };
      const remove = h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': t('conversation.removeAttachment', { name: file.name }),
        onClick: () => {
          const i = uploads.indexOf(entry);
          if (i >= 0) uploads.splice(i, 1);
          entry.chip.remove();
        },
      }, icon('x'));
      const state = h('span', { class: 'muted small' }, t('conversation.uploading'));
      entry.chip = h('span', { class: 'chip chip-file', testid: 'pending-attachment' }, icon('paperclip'), h('span', null, file.name), state, remove);
      pending.append(entry.chip);
      uploads.push(entry);
      const fd = new FormData();
      fd.append('file', file, file.name);
      entry.promise = api.upload('/attachments', fd, { create: true })
        .then((info) => {
          entry.id = info.id;
          entry.done = true;
          state.textContent = formatBytes(info.size);
          entry.chip.dataset.attachmentId = info.id;
        })
        .catch((err) => {
          entry.failed = true;
          entry.chip.classList.add('chip-error');
          const { title } = describeProblem(err);
          state.textContent = title;
        });
    }
  }

  fileInput.addEventListener('change', () => {
    uploadFiles([...fileInput.files]);
    fileInput.value = '';
  });
  composer.addEventListener('dragover', (e) => {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    composer.classList.add('is-dragging');
  });
  composer.addEventListener('dragleave', (e) => {
    if (!composer.contains(e.relatedTarget)) composer.classList.remove('is-dragging');
  });
  composer.addEventListener('drop', (e) => {
    composer.classList.remove('is-dragging');
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    uploadFiles([...e.dataTransfer.files]);
  });
  textarea.addEventListener('paste', (e) => {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    if (files.length) {
      e.preventDefault();
      uploadFiles(files);
    }
  });

  // Suggestions: `/` canned responses, `@` agents (notes) -----------------------------------------

  let canned = null;
  let suggestion = null; // { kind, start, end, items, index }

  function tokenAtCursor() {
    const pos = textarea.selectionStart;
    if (pos !== textarea.selectionEnd) return null;
    const before = textarea.value.slice(0, pos);
    let m = before.match(/(?:^|\s)\/([^\s/]*)$/);
    if (m) return { kind: 'canned', query: m[1], start: pos - m[1].length - 1, end: pos };
    if (mode === 'note') {
      m = before.match(/(?:^|\s)@([^\s@[\]()]*)$/);
      if (m) return { kind: 'mention', query: m[1], start: pos - m[1].length - 1, end: pos };
    }
    return null;
  }

  async function updateSuggest() {
    const tok = tokenAtCursor();
    if (!tok) { closeSuggest(); return; }
    const q = tok.query.toLowerCase();
    let list;
    if (tok.kind === 'canned') {
      if (!canned) {
        try {
          canned = ((await api.get('/canned-responses')) || {}).items || [];
        } catch (err) {
          toastProblem(err);
          canned = [];
        }
        if (!ctx.alive) return;
        // The text may have changed while loading.
        updateSuggest();
        return;
      }
      list = canned
        .map((c) => {
          const sc = c.shortcut.toLowerCase();
          const title = c.title.toLowerCase();
          const rank = !q ? 1 : sc.startsWith(q) ? 0 : sc.includes(q) ? 1 : title.includes(q) ? 2 : -1;
          return { c, rank };
        })
        .filter((x) => x.rank >= 0)
        .sort((a, b) => a.rank - b.rank || a.c.shortcut.localeCompare(b.c.shortcut))
        .slice(0, SUGGESTIONS)
        .map((x) => x.c);
    } else {
      list = agents.filter((a) => a.active && (!q || a.name.toLowerCase().includes(q) || (a.email || '').toLowerCase().startsWith(q))).slice(0, SUGGESTIONS);
    }
    suggestion = { ...tok, items: list, index: 0 };
    renderSuggest();
  }

  function renderSuggest() {
    if (!suggestion) return;
    const s = suggestion;
    suggest.hidden = false;
    suggest.dataset.testid = s.kind === 'canned' ? 'canned-picker' : 'mention-picker';
    replace(suggest,
      h('div', { class: 'suggest-title' }, s.kind === 'canned' ? t('conversation.cannedTitle') : t('conversation.mentionTitle')),
      s.items.length
        ? s.items.map((it, i) => h('button', {
          type: 'button', role: 'option', class: ['suggest-item', i === s.index && 'is-active'],
          'aria-selected': i === s.index ? 'true' : 'false',
          testid: s.kind === 'canned' ? 'canned-option' : 'mention-option',
          dataset: s.kind === 'canned' ? { shortcut: it.shortcut, id: it.id } : { agentId: it.id },
          onMousedown: (e) => e.preventDefault(),
          onClick: () => pick(i),
        },
        s.kind === 'canned'
          ? [h('span', { class: 'suggest-key' }, `/${it.shortcut}`), h('span', { class: 'suggest-label' }, it.title),
            h('span', { class: 'suggest-meta' }, it.locale, it.owner_id ? ` · ${t('canned.personal')}` : '')]
          : [h('span', { class: 'suggest-label' }, it.name), h('span', { class: 'suggest-meta' }, it.email || '')]))
        : h('div', { class: 'suggest-empty' }, s.kind === 'canned' ? t('conversation.cannedNone') : t('conversation.mentionNone')));
  }

  function closeSuggest() {
    suggestion = null;
    suggest.hidden = true;
    suggest.dataset.testid = 'composer-suggest';
    replace(suggest);
  }

  function insertText(start, end, text) {
    textarea.focus();
    textarea.setSelectionRange(start, end);
    // execCommand keeps the browser's undo history; fall back to setRangeText.
    let ok = false;
    try { ok = document.execCommand('insertText', false, text); } catch { ok = false; }
    if (!ok || textarea.value.slice(start, start + text.length) !== text) {
      textarea.setRangeText(text, start, end, 'end');
    }
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }

  async function pick(i) {
    const s = suggestion;
    if (!s || !s.items[i]) return;
    const item = s.items[i];
    closeSuggest();
    if (s.kind === 'mention') {
      insertText(s.start, s.end, `@[${item.name}](${item.id}) `);
      return;
    }
    textarea.disabled = true;
    try {
      const res = await api.get(`/canned-responses/${seg(item.id)}/render`, { query: { conversation_id: conv.id } });
      textarea.disabled = false;
      insertText(s.start, s.end, res.body);
    } catch (err) {
      textarea.disabled = false;
      toastProblem(err);
    }
  }

  textarea.addEventListener('keydown', (e) => {
    if (suggestion) {
      const n = suggestion.items.length;
      if (e.key === 'ArrowDown' && n) { e.preventDefault(); suggestion.index = (suggestion.index + 1) % n; renderSuggest(); return; }
      if (e.key === 'ArrowUp' && n) { e.preventDefault(); suggestion.index = (suggestion.index - 1 + n) % n; renderSuggest(); return; }
      if ((e.key === 'Enter' || e.key === 'Tab') && n && !e.ctrlKey && !e.metaKey) { e.preventDefault(); pick(suggestion.index); return; }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeSuggest(); return; }
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  textarea.addEventListener('input', () => { updateSuggest(); typing(); });
  textarea.addEventListener('click', () => updateSuggest());
  textarea.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== textarea) closeSuggest(); }, 150));

  // Sending -------------------------------------------------------------------------------------------

  let clientKey = uuid();
  composer.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sendBtn.disabled) return;
    const body = textarea.value.trim();
    if (!body) {
      textarea.focus();
      toast(t('conversation.emptyMessage'), { kind: 'info' });
      return;
    }
    await withBusy(sendBtn, async () => {
      await Promise.all(uploads.map((u) => u.promise));
      if (uploads.some((u) => u.failed)) {
        toast(t('conversation.attachmentFailed'), { kind: 'error' });
        return;
      }
      const payload = {
        body, private: mode === 'note', client_key: clientKey,
        attachment_ids: uploads.map((u) => u.id).filter(Boolean),
      };
      if (mode === 'reply' && statusAfter.value) payload.status = statusAfter.value;
      replace(composerError);
      try {
        await api.post(`/conversations/${seg(conv.id)}/messages`, payload);
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 'network_error' || err.status >= 500))) clientKey = uuid();
        if (err instanceof ApiError && err.code === 'link_not_allowed') {
          // The text has to change: say why next to it, and keep the draft.
          const { title, detail } = describeProblem(err);
          replace(composerError, alertBox('error', title, detail, { testid: 'composer-error' }));
          textarea.focus();
          return;
        }
        toastProblem(err);
        return;
      }
      clientKey = uuid();
      textarea.value = '';
      uploads.length = 0;
      replace(pending);
      statusAfter.value = '';
      toast(mode === 'note' ? t('conversation.noteAdded') : t('conversation.replySent'));
      stopTyping();
      if (ctx.alive) await reloadTimeline();
      timelineWrap.scrollTop = timelineWrap.scrollHeight;
    });
  });

  // --- Presence (collision detection) ---------------------------------------------------------------

  const others = new Map(); // agent_id -> { name, state, at }
  let myState = 'viewing';
  let lastTypingSent = 0;
  let typingTimer = null;
  let heartbeat = null;

  function renderPresence() {
    const now = Date.now();
    for (const [id, o] of others) if (now - o.at > PRESENCE_TTL_MS) others.delete(id);
    const list = [...others.entries()].sort((a, b) => a[1].name.localeCompare(b[1].name));
    presenceSlot.hidden = list.length === 0;
    replace(presenceSlot, list.map(([id, o]) => h('span', {
      class: ['presence-item', o.state === 'typing' && 'is-typing'], testid: 'presence-item',
      dataset: { agentId: id, state: o.state },
    },
    icon(o.state === 'typing' ? 'edit' : 'eye'),
    o.state === 'typing' ? t('presence.typing', { name: o.name }) : t('presence.viewing', { name: o.name }))));
  }

  async function report(state, { keepalive = false } = {}) {
    if (!conv) return;
    try {
      const res = await api.post(`/conversations/${seg(conv.id)}/presence`, { state }, { keepalive, silent: keepalive });
      if (!ctx.alive || state === 'left') return;
      const me = myId();
      const now = Date.now();
      others.clear();
      for (const v of (res && res.items) || []) {
        if (v.agent_id !== me) others.set(v.agent_id, { name: v.agent_name, state: v.state, at: now });
      }
      renderPresence();
    } catch {
      // Presence is best effort.
    }
  }

  function typing() {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
    if (myState !== 'typing' || Date.now() - lastTypingSent > TYPING_RESEND_MS) {
      myState = 'typing';
      lastTypingSent = Date.now();
      report('typing');
    }
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (myState === 'typing') {
      myState = 'viewing';
      report('viewing');
    }
  }

  function startPresence() {
    report('viewing');
    heartbeat = setInterval(() => { if (!document.hidden) report(myState); else renderPresence(); }, HEARTBEAT_MS);
  }

  const leave = () => { if (conv) report('left', { keepalive: true }); };
  window.addEventListener('pagehide', leave);
  ctx.onCleanup(() => {
    window.removeEventListener('pagehide', leave);
    clearInterval(heartbeat);
    clearTimeout(typingTimer);
    clearTimeout(reloadTimer);
    leave();
  });

  // --- Live events ---------------------------------------------------------------------------------------

  ctx.onCleanup(onLive((ev) => {
    if (!conv || !ctx.alive) return;
    if (ev.type === 'reconnected') { reloadSoon(); loadChecksSoon(); report(myState); return; }
    if (ev.conversation_id !== conv.id) return;
    if (ev.type === 'presence') {
      if (ev.agent_id === myId()) return;
      if (ev.state === 'left') others.delete(ev.agent_id);
      else others.set(ev.agent_id, { name: ev.agent_name, state: ev.state, at: Date.now() });
      renderPresence();
    } else if (ev.type === 'message_created') {
      if (ev.author_kind === 'customer') setCustomerTyping(false);
      if (!items.some((it) => it.id === ev.message_id)) reloadSoon();
    } else if (ev.type === 'customer_typing') {
      setCustomerTyping(!!ev.typing);
    } else if (ev.type === 'messages_read') {
      if (ev.reader === 'customer' && typeof ev.seq === 'number' && ev.seq > (conv.customer_read_seq || 0)) {
        conv.customer_read_seq = ev.seq;
        renderSeen();
      }
    } else if (ev.type === 'conversation_updated') {
      // A rating, and an identity check's steps, leave the version as it is (they are not an
      // agent's edit).
      const changes = Array.isArray(ev.changes) ? ev.changes.map(String) : [];
      const checkChanged = changes.some((c) => c.startsWith('identity_check'));
      if (ev.version > conv.version || changes.includes('rated') || checkChanged) reloadSoon();
      if (checkChanged) loadChecksSoon();
    }
  }));

  // --- Keyboard shortcuts -----------------------------------------------------------------------------

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const el = e.target;
    if (el && el.closest && (el.closest('input, textarea, select, [contenteditable="true"]') || el.closest('dialog, [popover]'))) return;
    if (document.querySelector('dialog[open]')) return;
    switch (e.key) {
      case 'r': e.preventDefault(); setMode('reply', true); break;
      case 'n': e.preventDefault(); setMode('note', true); break;
      case 'e': e.preventDefault(); if (conv.status !== 'resolved') patch({ status: 'resolved' }).then((c) => { if (c) toast(t('conversation.resolved', { number: c.number })); }); break;
      case 'j': e.preventDefault(); go(1); break;
      case 'k': e.preventDefault(); go(-1); break;
      default:
    }
  }
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));

  // --- Mount ---------------------------------------------------------------------------------------------

  function mount() {
    renderHeader();
    renderControls();
    renderRating();
    renderIdentity();
    renderTimeline();
    renderPresence();
    setMode('reply', false);
    page.replaceChildren(
      headerSlot,
      h('div', { class: 'conv-layout' },
        h('section', { class: 'conv-main card', 'aria-label': t('conversation.timeline') },
          timelineWrap,
          customerTypingSlot,
          composer,
          h('p', { class: 'shortcut-hint muted small' }, t('conversation.shortcuts'))),
        h('aside', { class: 'conv-side', 'aria-label': t('conversation.details') }, ratingSlot, identitySlot, controlsSlot, contactSlot)));
    timelineWrap.scrollTop = timelineWrap.scrollHeight;
    const heading = page.querySelector('.page-title');
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  }

  loadAll();
}
