// Shared application state for the console views. app.js fills in the
// functions at start-up; views import this object instead of app.js so the
// module graph has no cycles.

export const app = {
  /** The current Session ({agent, csrf_token, two_factor_enrolment_required, pii_full_view, demo_mode}) or null. */
  session: null,

  /** Navigate to a /console path (pushState unless `replace`). */
  navigate: (_path, _opts) => {},

  /** Store a session returned by login or GET /auth/session. */
  setSession: (_session) => {},

  /** Re-read the session from the server; resolves to the session or null. */
  refreshSession: async () => null,

  /** The session ended (signed out, revoked): forget it and show the login page. */
  sessionEnded: (_flash) => {},

  /** Sign out through the API, then show the login page. */
  signOut: async () => {},

  /** Where an agent lands after signing in. */
  landingPath: () => '/console/inbox',

  isAdmin() {
    return !!(this.session && this.session.agent && this.session.agent.role === 'admin');
  },
};
