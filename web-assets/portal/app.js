// Kefu customer portal: start-up, session and client-side routing.
//
// Every /portal/... URL is served index.html; this module decides what to
// show:
//   /portal                 my tickets (signed in) or a short introduction
//   /portal/new             open a ticket
//   /portal/t/<token>       a private link: exchanged for a session, then the ticket
//   /portal/sso?user_id=…   sign-in vouched for by the exchange (HMAC)
//   /portal/tickets/<id>    one ticket: its conversation and a reply box

import {
  configureCatalogues, setLanguage, detectLanguage, onLanguageChange, getLanguage, LANGUAGES,
} from '../shared/i18n.js';
import { h, icon, spinner, alertBox, button, toastProblem } from '../shared/ui.js';
import { portal, ApiError } from './api.js';
import { tr } from './common.js';
import { homeView } from './views/home.js';
import { newTicketView } from './views/new-ticket.js';
import { linkView, ssoView } from './views/sign-in.js';
import { ticketView } from './views/ticket.js';
import { normalisePath, viewScopes } from '../shared/views.js';

const root = document.getElementById('app');

/** Shared state of the portal page. */
export const state = {
  session: null, // PortalSession or null
  /** The private link of a ticket opened just now: { ticketId, url }; shown once. */
  justOpened: null,
};


export function navigate(path, { replace = false } = {}) {
  const target = new URL(path, window.location.origin);
  const next = target.pathname + target.search + target.hash;
  if (next !== window.location.pathname + window.location.search + window.location.hash) {
    if (replace) window.history.replaceState(null, '', next);
    else window.history.pushState(null, '', next);
  }
  render();
}

export async function refreshSession() {
  try {
    state.session = await portal.session();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) state.session = null;
    else throw err;
  }
  return state.session;
}

/** The server no longer knows this visitor (signed out elsewhere, expired). */
export function sessionEnded() {
  state.session = null;
  render();
}

async function signOut(btn) {
  btn.disabled = true;
  try {
    await portal.signOut();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      btn.disabled = false;
      toastProblem(err);
      return;
    }
  }
  state.session = null;
  state.justOpened = null;
  navigate('/portal', { replace: true });
}

const ROUTES = [
  { match: (p) => p === '/portal', view: homeView },
  { match: (p) => p === '/portal/new', view: newTicketView },
  { match: (p) => p === '/portal/sso', view: ssoView },
  { match: (p) => /^\/portal\/t\/[^/]+$/.test(p), view: linkView },
  { match: (p) => /^\/portal\/tickets\/[^/]+$/.test(p), view: ticketView },
];

function languageSwitcher() {
  const id = 'portal-language';
  const select = h('select', {
    id, class: 'lang-select', testid: 'portal-language',
    onChange: async () => {
      select.disabled = true;
      try {
        await setLanguage(select.value, { remember: true });
      } finally {
        select.disabled = false;
      }
    },
  }, LANGUAGES.map((l) => h('option', { value: l.code, selected: l.code === getLanguage(), lang: l.code }, tr(l.labelKey))));
  return h('div', { class: 'lang' },
    h('label', { htmlFor: id, class: 'lang-label' }, icon('globe'), h('span', { class: 'visually-hidden' }, tr('lang.label'))),
    select);
}

function shell() {
  const main = h('main', { id: 'main', class: 'portal-main', tabindex: '-1' });
  const signOutBtn = state.session ? h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', testid: 'portal-sign-out',
    onClick: () => signOut(signOutBtn),
  }, icon('logout'), h('span', { class: 'btn-label' }, tr('nav.signOut'))) : null;
  root.replaceChildren(
    h('a', { href: '#main', class: 'skip-link' }, tr('app.skipToContent')),
    h('header', { class: 'portal-header' },
      h('div', { class: 'portal-header-inner' },
        h('a', { href: '/portal', class: 'portal-brand', 'data-route': '', testid: 'portal-home-link' },
          h('span', { class: 'portal-brand-mark', 'aria-hidden': 'true' }, icon('shield')),
          h('span', { class: 'portal-brand-name' }, tr('app.name'))),
        h('div', { class: 'portal-header-actions' }, languageSwitcher(), signOutBtn))),
    main,
    h('footer', { class: 'portal-footer' },
      h('p', null, tr('app.safety')),
      h('p', { class: 'portal-footer-small' }, tr('app.footer'))));
  return main;
}

const startView = viewScopes();

/** Set the tab title from a catalogue key (or plain text). */
export function setTitle(text) {
  document.title = text ? `${text} · ${tr('app.name')}` : tr('app.name');
}

/** A full-page message with links onwards. */
export function messagePage(main, { title, message, kind = 'info', actions = [], testid }) {
  main.replaceChildren(h('section', { class: 'page page-narrow', testid },
    h('h1', { class: 'page-title', tabindex: '-1' }, title),
    alertBox(kind, null, message),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null));
  setTitle(title);
}

let lastPath = null;

export function render() {
  for (const d of document.querySelectorAll('dialog[open]')) d.remove();
  const path = normalisePath(window.location.pathname);
  if (path === '/portal/index.html') {
    navigate('/portal', { replace: true });
    return;
  }
  // The private link of a just-opened ticket is shown once, on that ticket's page.
  if (state.justOpened && path !== `/portal/tickets/${encodeURIComponent(state.justOpened.ticketId)}`) state.justOpened = null;
  const ctx = startView();
  const main = shell();
  const route = ROUTES.find((r) => r.match(path));
  if (!route) {
    messagePage(main, {
      title: tr('notFound.title'), message: tr('notFound.message'), kind: 'warning', testid: 'portal-not-found',
      actions: [h('a', { href: '/portal', class: 'btn btn-primary', 'data-route': '' }, tr('notFound.back'))],
    });
    return;
  }
  route.view(main, ctx);
  // Move focus to the new page's heading on navigation (not on first load).
  if (lastPath !== null && lastPath !== path) {
    const heading = main.querySelector('.page-title');
    if (heading) heading.focus({ preventScroll: false });
  }
  lastPath = path;
}

function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[data-route]');
  if (!a || (a.target && a.target !== '_self')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/portal')) return;
  e.preventDefault();
  navigate(href);
}

/** An action link styled as a button that routes on the client. */
export function routeLink(href, label, { variant = 'secondary', testid, iconName } = {}) {
  return h('a', { href, class: ['btn', `btn-${variant}`], 'data-route': '', testid },
    iconName ? icon(iconName) : null, h('span', { class: 'btn-label' }, label));
}

async function boot() {
  configureCatalogues({ base: new URL('./i18n/', import.meta.url), storageKey: 'kefu.portal.lang' });
  try {
    await setLanguage(detectLanguage());
  } catch {
    await setLanguage('en');
  }
  root.replaceChildren(spinner(tr('common.loading')));
  try {
    await refreshSession();
  } catch (err) {
    const retry = button(tr('common.retry'), { variant: 'primary', onClick: () => window.location.reload() });
    root.replaceChildren(h('div', { class: 'boot-error' },
      alertBox('error', tr('app.loadFailed'), err && err.message ? String(err.message) : '', { extra: h('p', { class: 'mt-3' }, retry) })));
    return;
  }
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', onLinkClick);
  onLanguageChange(() => {
    render();
    const sel = document.querySelector('[data-testid="portal-language"]');
    if (sel) sel.focus();
  });
  render();
}

boot().catch((err) => {
  root.textContent = String(err && err.message ? err.message : err);
});
