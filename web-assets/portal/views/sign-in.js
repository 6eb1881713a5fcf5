// /portal/t/<token> (a ticket's private link) and /portal/sso (sign-in
// vouched for by the exchange): both exchange what is in the URL for a
// portal session, then show the ticket or the list of tickets. The token
// is removed from the address bar and history as soon as it is used.

import { h, spinner, describeProblem } from '../../shared/ui.js';
import { portal, ApiError } from '../api.js';
import { state, setTitle, navigate, messagePage, routeLink } from '../app.js';
import { tr } from '../common.js';

function working(main, text) {
  setTitle(text);
  main.replaceChildren(h('section', { class: 'page page-narrow', testid: 'portal-signing-in' },
    h('h1', { class: 'page-title', tabindex: '-1' }, text),
    spinner(tr('common.loading'))));
}

function failure(main, err, { titleKey, messageKey, testid }) {
  const known = err instanceof ApiError && (err.code === 'portal_link_invalid' || err.code === 'invalid_signature' || err.status === 401 || err.status === 422);
  const { title, detail } = describeProblem(err);
  messagePage(main, {
    title: known ? tr(titleKey) : title,
    message: known ? tr(messageKey) : (detail || tr('problem.unexpected')),
    kind: 'error',
    testid,
    actions: [
      routeLink('/portal/new', tr('home.openTicket'), { variant: 'primary', testid: 'portal-open-ticket', iconName: 'plus' }),
      routeLink('/portal', tr('notFound.back')),
    ],
  });
}

export function linkView(main, ctx) {
  const token = decodeURIComponent(ctx.path.split('/').pop() || '');
  working(main, tr('link.opening'));
  portal.signInWithLink(token).then((session) => {
    state.session = session;
    if (!ctx.alive) return;
    navigate(session.ticket_id ? `/portal/tickets/${encodeURIComponent(session.ticket_id)}` : '/portal', { replace: true });
  }).catch((err) => {
    if (!ctx.alive) return;
    // Keep the spent or wrong token out of the address bar.
    window.history.replaceState(null, '', '/portal/t/invalid');
    failure(main, err, { titleKey: 'link.invalidTitle', messageKey: 'link.invalidMessage', testid: 'portal-link-invalid' });
  });
}

export function ssoView(main, ctx) {
  const q = ctx.query;
  const userId = q.get('user_id') || '';
  const userHash = q.get('user_hash') || '';
  working(main, tr('sso.signingIn'));
  if (!userId || !userHash) {
    failure(main, new ApiError({ status: 422, code: 'invalid_signature', title: '', detail: '', errors: [] }),
      { titleKey: 'sso.failedTitle', messageKey: 'sso.failedMessage', testid: 'portal-sso-error' });
    return;
  }
  const identity = { user_id: userId, user_hash: userHash };
  if (q.get('email')) identity.email = q.get('email');
  if (q.get('name')) identity.name = q.get('name');
  portal.signInWithIdentity(identity).then((session) => {
    state.session = session;
    if (!ctx.alive) return;
    navigate('/portal', { replace: true });
  }).catch((err) => {
    if (!ctx.alive) return;
    window.history.replaceState(null, '', '/portal/sso');
    failure(main, err, { titleKey: 'sso.failedTitle', messageKey: 'sso.failedMessage', testid: 'portal-sso-error' });
  });
}
