// What the console and the portal share about their client-side views: path
// normalising and the scope each view runs in (an abort signal and clean-ups
// that end when the next view starts).

/** The path without trailing slashes ("/" stays "/"). */
export function normalisePath(p) {
  return p.replace(/\/+$/, '') || '/';
}

/**
 * Returns `startView()`: ends the previous view (aborts its signal, runs its
 * clean-ups) and gives the new one its context.
 */
export function viewScopes() {
  let current = null; // { controller: AbortController, cleanups: [] }
  return function startView() {
    if (current) {
      current.controller.abort();
      for (const fn of current.cleanups) {
        try { fn(); } catch { /* keep tearing down */ }
      }
    }
    const controller = new AbortController();
    current = { controller, cleanups: [] };
    const mine = current;
    return {
      signal: controller.signal,
      /** False once the user has navigated away: async work should stop touching the DOM. */
      get alive() { return !controller.signal.aborted; },
      onCleanup: (fn) => mine.cleanups.push(fn),
      query: new URLSearchParams(window.location.search),
      path: normalisePath(window.location.pathname),
    };
  };
}
