// Mandatory two-factor enrolment. While the session says
// two_factor_enrolment_required, the router keeps the agent here; only this
// page, the language switcher and signing out are available.

import { h, card } from '../../shared/ui.js';
import { t } from '../../shared/i18n.js';
import { app } from '../context.js';
import { pageHeader } from '../layout.js';
import { enrolmentFlow } from '../twofactor.js';

export function setupTwoFactorView(page, ctx) {
  const flow = h('div', { class: 'enrol-flow' });
  function begin() {
    enrolmentFlow(flow, {
      ctx,
      onDone: async () => {
        // The server decides whether the gate is lifted; the router follows.
        await app.refreshSession().catch(() => null);
        app.navigate(app.landingPath(), { replace: true });
      },
    });
  }

  page.replaceChildren(
    h('div', { class: 'narrow' },
      pageHeader(t('setup2fa.title'), t('setup2fa.description')),
      card({ title: t('twofa.title'), testid: 'twofa-card' }, flow)));
  begin();
}
