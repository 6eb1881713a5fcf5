// /portal: my tickets when signed in, otherwise a short introduction.

import { h, spinner, problemAlert, button } from '../../shared/ui.js';
import { portal, ApiError } from '../api.js';
import { state, setTitle, routeLink, sessionEnded } from '../app.js';
import { tr, statusBadge, timeEl, categoryLabel } from '../common.js';

function intro(main) {
  setTitle(tr('home.introTitle'));
  main.replaceChildren(h('section', { class: 'page page-narrow', testid: 'portal-intro' },
    h('h1', { class: 'page-title', tabindex: '-1' }, tr('home.introTitle')),
    h('p', { class: 'lead' }, tr('home.introText')),
    h('div', { class: 'page-actions' },
      routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'portal-open-ticket', iconName: 'plus' })),
    h('section', { class: 'panel panel-muted' },
      h('h2', { class: 'panel-title' }, tr('home.returningTitle')),
      h('p', null, tr('home.returningLink')),
      h('p', null, tr('home.returningExchange')))));
}

function ticketItem(tk) {
  const handled = tk.handled_by
    ? tr('ticket.handledBy', { name: tk.handled_by })
    : tr('ticket.notAssigned');
  return h('li', { class: 'ticket-item', testid: 'ticket-item', dataset: { id: tk.id, status: tk.status } },
    h('a', { href: `/portal/tickets/${encodeURIComponent(tk.id)}`, class: 'ticket-link', 'data-route': '' },
      h('span', { class: 'ticket-item-top' },
        h('span', { class: 'ticket-number' }, tr('ticket.number', { number: tk.number })),
        statusBadge(tk.status, 'ticket-item-status')),
      h('span', { class: 'ticket-item-subject', testid: 'ticket-item-subject' }, tk.subject),
      h('span', { class: 'ticket-item-meta' },
        h('span', null, tr('ticket.updated'), ' ', timeEl(tk.last_activity_at)),
        h('span', { testid: 'ticket-item-handler' }, handled),
        tk.category ? h('span', null, categoryLabel(tk.category)) : null)));
}

export function homeView(main, ctx) {
  if (!state.session) {
    intro(main);
    return;
  }
  setTitle(tr('home.title'));
  const body = h('div', { class: 'ticket-list-wrap' }, spinner(tr('common.loading')));
  main.replaceChildren(h('section', { class: 'page', testid: 'portal-home' },
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, tr('home.title')),
        h('p', { class: 'muted', testid: 'portal-contact' }, tr('home.signedInAs', { name: state.session.contact_name }))),
      routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'portal-open-ticket', iconName: 'plus' })),
    state.session.verified ? null : h('p', { class: 'note', testid: 'portal-link-note' }, tr('home.linkScopeNote')),
    body));

  const load = async () => {
    body.replaceChildren(spinner(tr('common.loading')));
    try {
      const res = await portal.tickets({ signal: ctx.signal });
      if (!ctx.alive) return;
      const items = res.items || [];
      if (!items.length) {
        body.replaceChildren(h('div', { class: 'empty-state', testid: 'ticket-list-empty' }, tr('home.empty')));
        return;
      }
      body.replaceChildren(h('ul', { class: 'ticket-list', testid: 'ticket-list' }, items.map(ticketItem)));
    } catch (err) {
      if (!ctx.alive || (err && err.name === 'AbortError')) return;
      if (err instanceof ApiError && err.status === 401) { sessionEnded(); return; }
      body.replaceChildren(problemAlert(err, 'ticket-list-error'),
        h('p', { class: 'mt-3' }, button(tr('common.retry'), { onClick: load })));
    }
  };
  load();
}
