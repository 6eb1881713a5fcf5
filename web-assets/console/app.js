// Kefu agent console: start-up, session handling and client-side routing.
//
// Every /console/... URL is served index.html; this module decides what
// to show. Unauthenticated visits go to /console/login?next=<path>, agents
// who must enrol in two-factor authentication are held at
// /console/setup-2fa, and admin pages are only reachable by admins.

import { setLanguage, detectLanguage, onLanguageChange, t } from '../shared/i18n.js';
import { api, setCsrfToken, setApiHooks, ApiError } from '../shared/api.js';
import { h, spinner, alertBox, button } from '../shared/ui.js';
import { app } from './context.js';
import { renderShell, messagePage } from './layout.js';
import { loginView, resetLogin } from './views/login.js';
import { setupTwoFactorView } from './views/setup-2fa.js';
import { accountView } from './views/account.js';
import { agentsView } from './views/agents.js';
import { securityView } from './views/security.js';
import { auditView } from './views/audit.js';
import { inboxView } from './views/inbox.js';
import { conversationView } from './views/conversation.js';
import { teamsView } from './views/teams.js';
import { cannedView } from './views/canned.js';
import { macrosView } from './views/macros.js';
import { contactsView, contactView } from './views/contacts.js';
import { channelsView } from './views/channels.js';
import { kbArticlesView, kbCategoriesView, kbSynonymsView, kbAnalyticsView } from './views/help-center.js';
import { kbEditorView } from './views/kb-editor.js';
import { botAnalyticsView, botTryView, botTrainingView, botSettingsView } from './views/bot.js';
import { shieldView } from './views/shield.js';
import { startLive, stopLive } from './live.js';
import { forget } from './inbox-common.js';
import { normalisePath, viewScopes } from '../shared/views.js';

const LOGIN = '/console/login';
const SETUP_2FA = '/console/setup-2fa';

const ROUTES = [
  { path: LOGIN, view: loginView, public: true, title: 'login.pageTitle' },
  { path: SETUP_2FA, view: setupTwoFactorView, bare: true, title: 'setup2fa.title' },
  { path: '/console/inbox', view: inboxView, title: 'nav.inbox', wide: true },
  { pattern: /^\/console\/conversations\/([^/]+)$/, params: ['id'], view: conversationView, title: 'conversation.pageTitle', wide: true, activePath: '/console/inbox' },
  { path: '/console/contacts', view: contactsView, title: 'nav.contacts' },
  { pattern: /^\/console\/contacts\/([^/]+)$/, params: ['id'], view: contactView, title: 'contacts.pageTitle', activePath: '/console/contacts' },
  { path: '/console/canned-responses', view: cannedView, title: 'nav.canned' },
  { path: '/console/macros', view: macrosView, title: 'nav.macros' },
  { path: '/console/help-center', view: kbArticlesView, title: 'nav.helpCenter' },
  { path: '/console/help-center/categories', view: kbCategoriesView, title: 'kb.tab.categories', activePath: '/console/help-center' },
  { path: '/console/help-center/synonyms', view: kbSynonymsView, title: 'kb.tab.synonyms', activePath: '/console/help-center' },
  { path: '/console/help-center/analytics', view: kbAnalyticsView, title: 'kb.tab.analytics', activePath: '/console/help-center' },
  { path: '/console/help-center/articles/new', view: kbEditorView, title: 'kb.editor.newTitle', wide: true, activePath: '/console/help-center' },
  { pattern: /^\/console\/help-center\/articles\/([^/]+)$/, params: ['id'], view: kbEditorView, title: 'kb.editor.pageTitle', wide: true, activePath: '/console/help-center' },
  { path: '/console/bot', view: botAnalyticsView, title: 'nav.bot' },
  { path: '/console/bot/try', view: botTryView, title: 'bot.tab.try', activePath: '/console/bot' },
  { path: '/console/bot/training', view: botTrainingView, admin: true, title: 'bot.tab.training', activePath: '/console/bot' },
  { path: '/console/bot/settings', view: botSettingsView, admin: true, title: 'bot.tab.settings', activePath: '/console/bot' },
  { path: '/console/shield', view: shieldView, admin: true, title: 'nav.shield' },
  { path: '/console/admin/teams', view: teamsView, admin: true, title: 'nav.teams' },
  { path: '/console/account', view: accountView, title: 'nav.account' },
  { path: '/console/admin/agents', view: agentsView, admin: true, title: 'nav.agents' },
  { path: '/console/admin/security', view: securityView, admin: true, title: 'nav.security' },
  { path: '/console/admin/channels', view: channelsView, admin: true, title: 'nav.channels' },
  { path: '/console/admin/audit', view: auditView, admin: true, title: 'nav.audit' },
];

const root = document.getElementById('app');

/** A safe post-login target: only /console/... paths of this origin. */
function safeNext(next) {
  if (!next) return null;
  try {
    const u = new URL(next, window.location.origin);
    if (u.origin !== window.location.origin) return null;
    const path = normalisePath(u.pathname);
    if (!path.startsWith('/console/') || path === LOGIN || path === SETUP_2FA) return null;
    return path + u.search;
  } catch {
    return null;
  }
}

function landingPath() {
  return '/console/inbox';
}

/** The route for a path, with its parameters ({ route, params }) or null. */
function matchRoute(path) {
  for (const r of ROUTES) {
    if (r.path && r.path === path) return { route: r, params: {} };
    if (r.pattern) {
      const m = path.match(r.pattern);
      if (m) return { route: r, params: Object.fromEntries((r.params || []).map((name, i) => [name, m[i + 1]])) };
    }
  }
  return null;
}

function navigate(path, { replace = false } = {}) {
  const target = new URL(path, window.location.origin);
  const here = window.location.pathname + window.location.search;
  const next = target.pathname + target.search + target.hash;
  if (next !== here) {
    if (replace) window.history.replaceState(null, '', next);
    else window.history.pushState(null, '', next);
  }
  render();
}

function setSession(session) {
  const previous = app.session && app.session.agent ? app.session.agent.id : null;
  app.session = session || null;
  setCsrfToken(session ? session.csrf_token : null);
  const now = session && session.agent ? session.agent.id : null;
  if (previous !== now) {
    stopLive();
    forget();
  }
}

async function refreshSession() {
  try {
    const s = await api.get('/auth/session', { silent: true });
    setSession(s);
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setSession(null);
      return null;
    }
    throw err;
  }
}

function currentLocation() {
  return window.location.pathname + window.location.search;
}

function loginUrlFor(path) {
  const next = safeNext(path);
  return next ? `${LOGIN}?next=${encodeURIComponent(next)}` : LOGIN;
}

function sessionEnded(flash) {
  const wasSignedIn = !!app.session;
  const here = currentLocation();
  setSession(null);
  resetLogin(flash || (wasSignedIn ? { kind: 'info', title: t('login.sessionExpired') } : null));
  navigate(normalisePath(window.location.pathname) === LOGIN ? here : loginUrlFor(here), { replace: true });
}

async function signOut() {
  try {
    await api.post('/auth/logout', undefined, { silent: true });
  } catch {
    // The session may already be gone; the outcome is the same.
  }
  setSession(null);
  resetLogin({ kind: 'success', title: t('login.signedOut') });
  navigate(LOGIN, { replace: true });
}

Object.assign(app, { navigate, setSession, refreshSession, sessionEnded, signOut, landingPath });

setApiHooks({
  onUnauthenticated: () => {
    if (normalisePath(window.location.pathname) !== LOGIN) sessionEnded();
  },
  onEnrolmentRequired: () => {
    if (app.session) app.session.two_factor_enrolment_required = true;
    if (normalisePath(window.location.pathname) !== SETUP_2FA) navigate(SETUP_2FA, { replace: true });
  },
  refreshCsrf: async () => !!(await refreshSession()),
});

const startView = viewScopes();

function setTitle(key) {
  document.title = key ? `${t(key)} · ${t('app.name')}` : t('app.name');
}

function render() {
  // Close any modal or popover left open by the previous page.
  for (const d of document.querySelectorAll('dialog[open]')) d.remove();

  const path = normalisePath(window.location.pathname);
  const session = app.session;

  if (path === '/console' || path === '/') {
    navigate(session ? landingPath() : LOGIN, { replace: true });
    return;
  }

  const matched = matchRoute(path);
  const route = matched ? matched.route : null;

  if (route && route.public) {
    if (session) {
      let next = safeNext(new URLSearchParams(window.location.search).get('next'));
      // A deep link to an admin page is no use to an agent who is not an admin.
      const nextMatch = next && matchRoute(normalisePath(new URL(next, window.location.origin).pathname));
      if (nextMatch && nextMatch.route.admin && !app.isAdmin()) next = null;
      navigate(session.two_factor_enrolment_required ? SETUP_2FA : next || landingPath(), { replace: true });
      return;
    }
    const ctx = startView();
    setTitle(route.title);
    route.view(root, ctx);
    return;
  }

  if (!session) {
    navigate(loginUrlFor(currentLocation()), { replace: true });
    return;
  }

  if (session.two_factor_enrolment_required && path !== SETUP_2FA) {
    navigate(SETUP_2FA, { replace: true });
    return;
  }
  if (!session.two_factor_enrolment_required && path === SETUP_2FA) {
    navigate(landingPath(), { replace: true });
    return;
  }

  const ctx = startView();
  ctx.params = matched ? matched.params : {};
  if (!session.two_factor_enrolment_required) startLive();
  const page = renderShell(root, {
    activePath: (route && route.activePath) || path, bare: !!(route && route.bare), wide: !!(route && route.wide),
  });

  if (!route) {
    setTitle('notFound.title');
    messagePage(page, {
      title: t('notFound.title'), message: t('notFound.message'),
      linkHref: landingPath(), linkLabel: t('notFound.back'),
    });
    return;
  }
  if (route.admin && !app.isAdmin()) {
    setTitle('forbidden.title');
    messagePage(page, {
      title: t('forbidden.title'), message: t('forbidden.message'), kind: 'warning',
      linkHref: landingPath(), linkLabel: t('notFound.back'),
    });
    return;
  }
  setTitle(route.title);
  route.view(page, ctx);
  const heading = page.querySelector('.page-title');
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[data-route]');
  if (!a || (a.target && a.target !== '_self')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/console')) return;
  e.preventDefault();
  navigate(href);
}

function fatal(err) {
  const retry = button(t('common.retry'), { variant: 'primary', onClick: () => window.location.reload() });
  let message = '';
  if (err instanceof ApiError) message = err.problem.detail || err.problem.title || '';
  root.replaceChildren(h('div', { class: 'boot-error' },
    alertBox('error', t('app.loadFailed'), message, { extra: h('p', { class: 'mt-3' }, retry) })));
}

async function boot() {
  try {
    await setLanguage(detectLanguage());
  } catch {
    await setLanguage('en');
  }
  root.replaceChildren(spinner(t('common.loading')));
  try {
    await refreshSession();
  } catch (err) {
    fatal(err);
    return;
  }
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', onLinkClick);
  onLanguageChange(() => render());
  render();
}

boot().catch((err) => {
  // Last resort: the catalogue could not be loaded at all.
  root.textContent = String(err && err.message ? err.message : err);
});
