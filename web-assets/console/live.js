// The live feed and the notifications bell.
//
// One connection per signed-in console: the agents' WebSocket
// (/api/v1/agent/ws, docs/chat-protocol.md), reconnecting with backoff; when
// a socket cannot be opened at all (a proxy that does not pass WebSockets)
// the console falls back to Server-Sent Events from /api/v1/events, which
// carry the same events. Views subscribe with onLive(fn) and unsubscribe in
// their cleanup. After every reconnection listeners get a synthetic
// { type: 'reconnected' } event so that they can re-read what they may have
// missed.

import { h, icon, toastProblem, replace, emptyState } from '../shared/ui.js';
import { api, seg } from '../shared/api.js';
import { t, formatDateTime } from '../shared/i18n.js';
import { app } from './context.js';

const listeners = new Set();
let socket = null;
let source = null;
let retryTimer = null;
let connectedOnce = false;
let useSse = false;
let backoff = 1000;
// Frames that answer the console's own requests, not events for the views.
const REPLIES = new Set(['ack', 'pong', 'error']);

function emit(event) {
  for (const fn of [...listeners]) {
    try {
      fn(event);
    } catch {
      // One broken listener must not stop the others.
    }
  }
}

function connected() {
  if (connectedOnce) emit({ type: 'reconnected' });
  connectedOnce = true;
  backoff = 1000;
  notifications.refresh();
}

function received(raw) {
  let data;
  try {
    data = JSON.parse(raw);
  } catch {
    return;
  }
  if (!data || typeof data.type !== 'string' || REPLIES.has(data.type)) return;
  if (data.type === 'notification_created') notifications.refresh();
  emit(data);
}

function retryLater() {
  clearTimeout(retryTimer);
  const wait = backoff + Math.floor(Math.random() * 500);
  backoff = Math.min(backoff * 2, 30000);
  retryTimer = setTimeout(() => { if (app.session) startLive(); }, wait);
}

function startSse() {
  source = new EventSource('/api/v1/events', { withCredentials: true });
  source.addEventListener('open', connected);
  source.addEventListener('message', (e) => received(e.data));
  source.addEventListener('error', () => {
    // EventSource reconnects by itself; when the server refused the stream
    // (a 401 after sign-out, say) it gives up, and we try again later.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      retryLater();
    }
  });
}

/** Open the feed (idempotent). */
export function startLive() {
  if (socket || source) return;
  clearTimeout(retryTimer);
  if (useSse || typeof WebSocket === 'undefined') {
    if (typeof EventSource !== 'undefined') startSse();
    return;
  }
  let opened = false;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/agent/ws`);
  socket = ws;
  ws.addEventListener('open', () => { opened = true; connected(); });
  ws.addEventListener('message', (e) => received(e.data));
  ws.addEventListener('close', () => {
    if (socket !== ws) return; // closed on purpose
    socket = null;
    if (!app.session) return;
    // Never opened on this page: WebSockets do not get through; use the
    // event stream instead.
    if (!opened && !connectedOnce) useSse = true;
    retryLater();
  });
}

/** Close the feed (sign-out). */
export function stopLive() {
  clearTimeout(retryTimer);
  if (socket) {
    const ws = socket;
    socket = null;
    ws.close();
  }
  if (source) source.close();
  source = null;
  connectedOnce = false;
  backoff = 1000;
  notifications.reset();
}

/** Subscribe to live events; returns the unsubscribe function. */
export function onLive(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// --- Notifications (mentions, failed identity checks) ------------------------------

const notifications = {
  items: [],
  loaded: false,
  watchers: new Set(),
  pending: null,

  reset() {
    this.items = [];
    this.loaded = false;
    this.changed();
  },

  changed() {
    for (const fn of [...this.watchers]) fn();
  },

  refresh() {
    if (!app.session) return Promise.resolve();
    if (this.pending) return this.pending;
    this.pending = api.get('/me/notifications', { query: { unread: true } })
      .then((res) => {
        this.items = (res && res.items) || [];
        this.loaded = true;
        this.changed();
      })
      .catch(() => {})
      .finally(() => { this.pending = null; });
    return this.pending;
  },

  async markRead(n) {
    this.items = this.items.filter((x) => x.id !== n.id);
    this.changed();
    try {
      await api.post(`/me/notifications/${seg(n.id)}/read`);
    } catch (err) {
      toastProblem(err);
      this.refresh();
    }
  },

  async markAllRead() {
    this.items = [];
    this.changed();
    try {
      await api.post('/me/notifications/read-all');
    } catch (err) {
      toastProblem(err);
      this.refresh();
    }
  },
};

/** The bell in the top bar: unread mentions and alerts, click one to open its conversation. */
export function notificationBell() {
  const id = `notif-${Math.random().toString(36).slice(2, 9)}`;
  const count = h('span', { class: 'bell-count', testid: 'notifications-count', hidden: true });
  const trigger = h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm bell', testid: 'notifications-bell',
    popovertarget: id, 'aria-haspopup': 'true', 'aria-label': t('notifications.title'),
  }, icon('bell'), count);
  const list = h('div', { class: 'bell-list' });
  let mounted = false;
  const readAll = h('button', {
    type: 'button', class: 'btn btn-link btn-inline', testid: 'notifications-read-all',
    onClick: () => notifications.markAllRead(),
  }, t('notifications.readAll'));
  const panel = h('div', { id, popover: 'auto', class: 'menu-popover bell-popover', testid: 'notifications-panel' },
    h('div', { class: 'bell-header' }, h('span', { class: 'strong' }, t('notifications.title')), readAll),
    list);

  /** The headline of a notification: a mention, or a customer who failed an identity check. */
  function title(n) {
    if (n.kind === 'identity_check_failed') {
      return t('notifications.identityCheckFailed', { name: n.actor_name, number: n.conversation_number });
    }
    return t('notifications.mention', { name: n.actor_name, number: n.conversation_number });
  }

  function item(n) {
    const alert = n.kind === 'identity_check_failed';
    return h('button', {
      type: 'button', class: ['bell-item', alert && 'bell-item-alert'], testid: 'notification-item',
      dataset: { conversationId: n.conversation_id, kind: n.kind || 'mention' },
      onClick: () => {
        panel.hidePopover();
        notifications.markRead(n);
        app.navigate(`/console/conversations/${encodeURIComponent(n.conversation_number || n.conversation_id)}`);
      },
    },
    h('span', { class: 'bell-item-title' }, alert ? icon('shield') : null, h('span', null, title(n))),
    n.excerpt ? h('span', { class: 'bell-item-excerpt' }, n.excerpt) : null,
    h('span', { class: 'bell-item-time' }, formatDateTime(n.created_at)));
  }

  function render() {
    if (mounted && !trigger.isConnected) {
      // The top bar was replaced: stop following.
      notifications.watchers.delete(render);
      return;
    }
    if (trigger.isConnected) mounted = true;
    const n = notifications.items.length;
    count.hidden = n === 0;
    count.textContent = n > 99 ? '99+' : String(n);
    trigger.setAttribute('aria-label', n ? t('notifications.titleCount', { count: n }) : t('notifications.title'));
    trigger.classList.toggle('has-unread', n > 0);
    readAll.hidden = n === 0;
    replace(list, n ? notifications.items.map(item) : emptyState(t('notifications.empty'), 'notifications-empty'));
  }

  function place() {
    const r = trigger.getBoundingClientRect();
    const w = panel.offsetWidth;
    let left = r.right - w;
    if (left < 8) left = 8;
    panel.style.top = `${Math.round(r.bottom + 4)}px`;
    panel.style.left = `${Math.round(left)}px`;
  }
  panel.addEventListener('toggle', (e) => {
    if (e.newState === 'open') {
      place();
      notifications.refresh();
    }
  });

  notifications.watchers.add(render);
  render();
  if (!notifications.loaded) notifications.refresh();
  return h('div', { class: 'bell-wrap' }, trigger, panel);
}
