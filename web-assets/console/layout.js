// The console frame: top bar, navigation, page headers, language switcher.

import { h, icon, badge, alertBox } from '../shared/ui.js';
import { t, LANGUAGES, getLanguage, setLanguage } from '../shared/i18n.js';
import { app } from './context.js';
import { notificationBell } from './live.js';

export function roleLabel(role) {
  return t(`role.${role}`);
}

/** <select> switching the interface language (remembered in localStorage). */
export function languageSwitcher({ compact = false } = {}) {
  const select = h('select', {
    class: 'input select lang-select',
    testid: 'lang-switch',
    'aria-label': t('lang.label'),
    onChange: async (e) => {
      select.disabled = true;
      try {
        await setLanguage(e.target.value, { remember: true });
      } finally {
        select.disabled = false;
      }
    },
  }, LANGUAGES.map((l) => h('option', { value: l.code, selected: l.code === getLanguage(), lang: l.code }, t(l.labelKey))));
  return h('div', { class: ['lang-switch', compact && 'lang-switch-compact'] },
    icon('globe', 'lang-icon'), select);
}

function initials(name) {
  const s = String(name || '').trim();
  if (!s) return '?';
  const parts = s.split(/\s+/);
  const first = [...parts[0]][0] || '';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] || '' : '';
  return (first + last).toUpperCase();
}

function brand() {
  return h('a', { class: 'brand', href: app.landingPath(), 'data-route': '', 'aria-label': t('app.homeLink') },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'K'),
    h('span', { class: 'brand-name' }, t('app.name')),
    h('span', { class: 'brand-sub' }, t('app.console')));
}

function topbar() {
  const agent = app.session.agent;
  return h('header', { class: 'topbar', testid: 'topbar' },
    brand(),
    h('div', { class: 'topbar-spacer' }),
    agent && !app.session.two_factor_enrolment_required ? notificationBell() : null,
    languageSwitcher({ compact: true }),
    h('div', { class: 'current-agent' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(agent.name)),
      h('span', { class: 'current-agent-text' },
        h('span', { class: 'current-agent-name', testid: 'current-agent' }, agent.name),
        h('span', { class: 'current-agent-role', testid: 'current-role' }, roleLabel(agent.role)))),
    h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm signout', testid: 'signout', 'aria-label': t('nav.signOut'),
      onClick: () => app.signOut(),
    }, icon('logout'), h('span', { class: 'btn-label' }, t('nav.signOut'))));
}

const NAV = [
  { section: 'nav.sectionSupport' },
  { href: '/console/inbox', key: 'nav.inbox', testid: 'nav-inbox', icon: 'inbox' },
  { href: '/console/contacts', key: 'nav.contacts', testid: 'nav-contacts', icon: 'user' },
  { href: '/console/canned-responses', key: 'nav.canned', testid: 'nav-canned', icon: 'message' },
  { href: '/console/macros', key: 'nav.macros', testid: 'nav-macros', icon: 'zap' },
  { href: '/console/help-center', key: 'nav.helpCenter', testid: 'nav-help-center', icon: 'file' },
  { href: '/console/bot', key: 'nav.bot', testid: 'nav-bot', icon: 'message' },
  { href: '/console/shield', key: 'nav.shield', testid: 'nav-shield', icon: 'shield', admin: true },
  { section: 'nav.sectionPersonal' },
  { href: '/console/account', key: 'nav.account', testid: 'nav-account', icon: 'user' },
  { section: 'nav.sectionAdmin', admin: true },
  { href: '/console/admin/teams', key: 'nav.teams', testid: 'nav-teams', icon: 'folder', admin: true },
  { href: '/console/admin/agents', key: 'nav.agents', testid: 'nav-agents', icon: 'users', admin: true },
  { href: '/console/admin/security', key: 'nav.security', testid: 'nav-security', icon: 'shield', admin: true },
  { href: '/console/admin/channels', key: 'nav.channels', testid: 'nav-channels', icon: 'globe', admin: true },
  { href: '/console/admin/audit', key: 'nav.audit', testid: 'nav-audit', icon: 'list', admin: true },
];

function sidebar(activePath) {
  const admin = app.isAdmin();
  const items = NAV.filter((n) => !n.admin || admin);
  return h('nav', { class: 'sidebar', 'aria-label': t('nav.label') },
    h('ul', { class: 'nav-list' }, items.map((n) => {
      if (n.section) return h('li', { class: 'nav-section', 'aria-hidden': 'true' }, t(n.section));
      const active = activePath === n.href || activePath.startsWith(`${n.href}/`);
      return h('li', null, h('a', {
        href: n.href, 'data-route': '', class: ['nav-link', active && 'is-active'], testid: n.testid,
        'aria-current': active ? 'page' : null,
      }, icon(n.icon, 'nav-icon'), h('span', null, t(n.key))));
    })));
}

function demoBanner() {
  if (!app.session || !app.session.demo_mode) return null;
  return h('div', { class: 'demo-banner', testid: 'demo-banner', role: 'note' },
    icon('info'), h('span', null, t('app.demoBanner')));
}

/**
 * Render the signed-in frame into `root` and return the element the page
 * content goes into. `bare` omits the navigation (2FA enrolment gate).
 */
export function renderShell(root, { activePath, bare = false, wide = false }) {
  const page = h('div', { class: ['page', wide && 'page-wide'] });
  const main = h('main', { class: 'main', id: 'main', tabindex: '-1' }, demoBanner(), page);
  root.replaceChildren(
    h('a', { class: 'skip-link', href: '#main' }, t('app.skipToContent')),
    h('div', { class: ['shell', bare && 'shell-bare'] },
      topbar(),
      h('div', { class: 'shell-body' }, bare ? null : sidebar(activePath), main)));
  return page;
}

/** Page title block with optional description and action buttons. */
export function pageHeader(title, description, actions) {
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      h('h1', { class: 'page-title', testid: 'page-title', tabindex: '-1' }, title),
      description ? h('p', { class: 'page-description' }, description) : null),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}

export function roleBadge(role) {
  const variant = role === 'admin' ? 'brand' : role === 'supervisor' ? 'info' : 'neutral';
  return badge(roleLabel(role), variant);
}

export function messagePage(container, { title, message, kind = 'info', linkHref, linkLabel }) {
  container.replaceChildren(
    pageHeader(title),
    alertBox(kind, null, message),
    linkHref ? h('p', { class: 'mt-4' }, h('a', { href: linkHref, 'data-route': '', class: 'link' }, linkLabel)) : null);
}
