// The live feed (Server-Sent Events from /api/v1/events) and the
// notifications bell.
//
// One EventSource per signed-in console. Views subscribe with onLive(fn)
// and unsubscribe in their cleanup. EventSource reconnects by itself after
// a dropped connection; when the server refused the stream (for example a
// 401 after sign-out) the browser gives up, and we try again a little later
// while a session exists. After every (re)connection listeners get a
// synthetic { type: 'reconnected' } event so that they can re-read what they
// may have missed.

import { h, icon, toastProblem, replace, emptyState } from '../shared/ui.js';
import { api, seg } from '../shared/api.js';
import { t, formatDateTime } from '../shared/i18n.js';
import { app } from './context.js';

const listeners = new Set();
let source = null;
let retryTimer = null;
let connectedOnce = false;

function emit(event) {
  for (const fn of [...listeners]) {
    try {
      fn(event);
    } catch {
      // One broken listener must not stop the others.
    }
  }
}

/** Open the feed (idempotent). */
export function startLive() {
  if (source || typeof EventSource === 'undefined') return;
  clearTimeout(retryTimer);
  source = new EventSource('/api/v1/events', { withCredentials: true });
  source.addEventListener('open', () => {
    if (connectedOnce) emit({ type: 'reconnected' });
    connectedOnce = true;
    notifications.refresh();
  });
  source.addEventListener('message', (e) => {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!data || typeof data.type !== 'string') return;
    if (data.type === 'notification_created') notifications.refresh();
    emit(data);
  });
  source.addEventListener('error', () => {
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => { if (app.session) startLive(); }, 5000);
    }
  });
}

/** Close the feed (sign-out). */
export function stopLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  connectedOnce = false;
  notifications.reset();
}

/** Subscribe to live events; returns the unsubscribe function. */
export function onLive(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// --- Notifications (mentions) ------------------------------------------------------

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

/** The bell in the top bar: unread mentions, click one to open its conversation. */
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

  function item(n) {
    return h('button', {
      type: 'button', class: 'bell-item', testid: 'notification-item', dataset: { conversationId: n.conversation_id },
      onClick: () => {
        panel.hidePopover();
        notifications.markRead(n);
        app.navigate(`/console/conversations/${encodeURIComponent(n.conversation_number || n.conversation_id)}`);
      },
    },
    h('span', { class: 'bell-item-title' }, t('notifications.mention', { name: n.actor_name, number: n.conversation_number })),
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
