// Vocabulary shared by the inbox, the conversation view and the library
// pages: labels and badges for statuses and priorities, waiting times,
// cached directories (agents, teams), the list order used by j/k, and
// search-snippet highlighting.

import { h, badge } from '../shared/ui.js';
import { api } from '../shared/api.js';
import { t, getLanguage, formatDateTime } from '../shared/i18n.js';
import { app } from './context.js';

export const STATUSES = ['open', 'pending', 'on_hold', 'resolved', 'closed'];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
export const LOCALES = ['zh-CN', 'zh-TW', 'en'];
export const CHANNELS = ['chat', 'email', 'telegram', 'api', 'portal', 'phone'];

const STATUS_VARIANT = { open: 'info', pending: 'warning', on_hold: 'neutral', resolved: 'success', closed: 'neutral' };
const PRIORITY_VARIANT = { low: 'neutral', normal: 'neutral', high: 'warning', urgent: 'danger' };

export function statusLabel(s) {
  return t(`status.${s}`);
}

export function priorityLabel(p) {
  return t(`priority.${p}`);
}

export function channelLabel(c) {
  const key = `channel.${c}`;
  const label = t(key);
  return label === key ? c : label;
}

export function localeLabel(l) {
  return t(`lang.${l}`);
}

export function statusBadge(s) {
  return badge(statusLabel(s), STATUS_VARIANT[s] || 'neutral', { testid: 'status-badge', dataset: { status: s } });
}

export function priorityBadge(p) {
  return badge(priorityLabel(p), PRIORITY_VARIANT[p] || 'neutral', { testid: 'priority-badge', dataset: { priority: p } });
}

/**
 * Who the customer of a live chat is: "Verified customer" when the exchange signed their
 * identity, "Unverified visitor" when they are anonymous (the name and e-mail they typed are
 * not proven), nothing for other channels (`verified_identity` null). `compact` for list rows.
 */
export function identityBadge(c, { compact = false } = {}) {
  if (!c || (c.verified_identity !== true && c.verified_identity !== false)) return null;
  const verified = c.verified_identity;
  const label = verified
    ? t(compact ? 'identity.verifiedShort' : 'identity.verified')
    : t(compact ? 'identity.unverifiedShort' : 'identity.unverified');
  return badge(label, verified ? 'success' : 'warning', {
    testid: 'identity-badge',
    class: compact ? 'badge-compact' : null,
    title: verified ? t('identity.verifiedHint') : t('identity.unverifiedHint'),
    dataset: { verified: verified ? 'true' : 'false' },
  });
}

// --- The security shield's vocabulary ----------------------------------------------------

const SHIELD_REASONS = ['homoglyph', 'typo', 'tld_swap', 'bitflip', 'added_words', 'subdomain', 'at_sign', 'shortener'];
const SECRET_KINDS = ['seed_phrase', 'private_key', 'wif_key', 'extended_key', 'keystore', 'api_secret'];

/** Why a link or account looks like an official one, in words ("look-alike characters"). */
export function shieldReasonLabel(reason) {
  return SHIELD_REASONS.includes(reason) ? t(`shield.reason.${reason}`) : String(reason || '');
}

/** A kind of secret the shield takes out of messages ("seed phrase"). */
export function secretKindLabel(kind) {
  return SECRET_KINDS.includes(kind) ? t(`shield.secret.${kind}`) : String(kind || '');
}

// --- Step-up identity checks --------------------------------------------------------------

export const CHECK_METHODS = ['email_code', 'exchange_totp', 'signed_session'];
export const CHECK_REASONS = ['account_unlock', 'twofa_reset', 'contact_change', 'withdrawal_dispute', 'security_hacked', 'close_account', 'other'];

/** How the customer proves who they are, in words ("E-mail code"). */
export function checkMethodLabel(method) {
  return CHECK_METHODS.includes(method) ? t(`identityCheck.method.${method}`) : String(method || '');
}

/** Why the agent asks, in words ("Reset two-factor authentication"). */
export function checkReasonLabel(reason) {
  return CHECK_REASONS.includes(reason) ? t(`identityCheck.reason.${reason}`) : String(reason || '');
}

const ms = (iso) => {
  const v = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(v) ? null : v;
};

/**
 * Where a check stands now: `verified` (passed, sensitive actions allowed), `lapsed` (passed,
 * but its window is over), `pending`, `expired` (also a pending one past `expires_at`),
 * `failed`, `cancelled`, or `none` (no check).
 */
export function checkState(check, now = Date.now()) {
  if (!check) return 'none';
  switch (check.status) {
    case 'passed': {
      const until = ms(check.verified_until);
      return until !== null && until > now ? 'verified' : 'lapsed';
    }
    case 'pending': {
      const exp = ms(check.expires_at);
      return exp !== null && exp <= now ? 'expired' : 'pending';
    }
    case 'failed':
    case 'expired':
    case 'cancelled':
      return check.status;
    default:
      return 'none';
  }
}

/** True while the conversation's latest check lets sensitive actions (macros) run. */
export function checkVerifies(check, now = Date.now()) {
  return checkState(check, now) === 'verified';
}

/** When the state of `check` changes by itself (a pending one expires, a pass runs out), or null. */
export function checkNextChange(check, now = Date.now()) {
  const state = checkState(check, now);
  const at = state === 'verified' ? ms(check.verified_until) : state === 'pending' ? ms(check.expires_at) : null;
  return at !== null && at > now ? at : null;
}

/** "14:32" today, else the date and the time. */
export function clockTime(iso) {
  const v = ms(iso);
  if (v === null) return '';
  const d = new Date(v);
  if (d.toDateString() !== new Date().toDateString()) return formatDateTime(d);
  try {
    return new Intl.DateTimeFormat(getLanguage(), { hour: '2-digit', minute: '2-digit' }).format(d);
  } catch {
    return formatDateTime(d);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A small padlock (aria-hidden): the marker of sensitive macros. */
export function lockIcon(extraClass) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', ['icon', 'icon-lock', extraClass].filter(Boolean).join(' '));
  for (const d of ['M6 11h12v9H6z', 'M8.5 11V8a3.5 3.5 0 0 1 7 0v3']) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

export function conversationPath(c) {
  return `/console/conversations/${encodeURIComponent(c.number || c.id)}`;
}

export function isSupervisor() {
  const role = app.session && app.session.agent && app.session.agent.role;
  return role === 'admin' || role === 'supervisor';
}

export function myId() {
  return app.session && app.session.agent ? app.session.agent.id : null;
}

/** "5 min", "3 h", "2 d" since `since`. */
export function durationSince(since, now = Date.now()) {
  const ms = Math.max(0, now - new Date(since).getTime());
  const min = Math.floor(ms / 60000);
  if (min < 1) return t('duration.justNow');
  if (min < 60) return t('duration.minutes', { n: min });
  const hours = Math.floor(min / 60);
  if (hours < 48) return t('duration.hours', { n: hours });
  return t('duration.days', { n: Math.floor(hours / 24) });
}

export function waitingCell(c) {
  if (!c.waiting_since) return h('span', { class: 'muted' }, '—');
  const ms = Date.now() - new Date(c.waiting_since).getTime();
  const cls = ms > 4 * 3600_000 ? 'waiting waiting-long' : ms > 3600_000 ? 'waiting waiting-mid' : 'waiting';
  return h('span', { class: cls, testid: 'waiting', title: t('inbox.waitingSince', { time: durationSince(c.waiting_since) }) },
    durationSince(c.waiting_since));
}

// --- Directories, fetched once per console session --------------------------------------

const cache = new Map();

function cached(key, loader) {
  if (!cache.has(key)) {
    const p = loader().catch((err) => {
      cache.delete(key);
      throw err;
    });
    cache.set(key, p);
  }
  return cache.get(key);
}

export function forget(key) {
  if (key) cache.delete(key);
  else cache.clear();
}

/** Active agents: [{id, name, email, role, active}]. */
export function loadAgents() {
  return cached('agents', async () => {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 20; i++) {
      const res = await api.get('/agents', { query: { limit: 200, cursor } });
      out.push(...((res && res.items) || []));
      cursor = res && res.next_cursor;
      if (!cursor) break;
    }
    return out;
  });
}

export function loadTeams() {
  return cached('teams', async () => ((await api.get('/teams')) || {}).items || []);
}

// --- The order of the conversation list, for j / k in the conversation view -------------

let listOrder = []; // [{id, number}]

export function setListOrder(items) {
  listOrder = items.map((c) => ({ id: c.id, number: c.number }));
}

export function getListOrder() {
  return listOrder;
}

// --- Search snippets ---------------------------------------------------------------------

/**
 * The snippet with its matches in <mark>. `highlights` are byte ranges of
 * the UTF-8 encoding, converted here to string positions.
 */
export function highlightedSnippet(snippet, highlights) {
  const text = String(snippet || '');
  const byteToIndex = new Map();
  let byte = 0;
  let index = 0;
  for (const ch of text) {
    byteToIndex.set(byte, index);
    byte += new TextEncoder().encode(ch).length;
    index += ch.length;
  }
  byteToIndex.set(byte, index);
  const ranges = (highlights || [])
    .map(([a, b]) => [byteToIndex.get(a), byteToIndex.get(b)])
    .filter(([a, b]) => a !== undefined && b !== undefined && b > a)
    .sort((x, y) => x[0] - y[0]);
  const parts = [];
  let pos = 0;
  for (const [a, b] of ranges) {
    if (a < pos) continue;
    if (a > pos) parts.push(text.slice(pos, a));
    parts.push(h('mark', { class: 'hit' }, text.slice(a, b)));
    pos = b;
  }
  if (pos < text.length) parts.push(text.slice(pos));
  return h('span', { class: 'snippet', testid: 'search-snippet' }, parts);
}

/** Message text with `@[Name](id)` mentions shown as "@Name". */
export function renderBody(body) {
  const text = String(body || '');
  const re = /@\[([^\]\n]{1,200})\]\(([0-9A-Za-z]{10,40})\)/g;
  const parts = [];
  let pos = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > pos) parts.push(text.slice(pos, m.index));
    parts.push(h('span', { class: 'mention', testid: 'mention', dataset: { agentId: m[2] } }, `@${m[1]}`));
    pos = m.index + m[0].length;
  }
  if (pos < text.length) parts.push(text.slice(pos));
  return parts;
}

export function formatBytes(n) {
  if (n < 1024) return t('bytes.b', { n });
  if (n < 1024 * 1024) return t('bytes.kb', { n: (n / 1024).toFixed(1) });
  return t('bytes.mb', { n: (n / 1024 / 1024).toFixed(1) });
}
