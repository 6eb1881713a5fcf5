// HTTP client for the customer portal API (/api/v1/portal/...).
//
// Portal visitors hold an HttpOnly `kefu_portal` cookie; every write sends
// `X-Kefu-Portal: 1`, a header other sites cannot send (the portal's CSRF
// guard). Non-2xx answers become the shared ApiError (RFC 9457 problem), so
// shared/ui.js can show them like everywhere else.

import { ApiError, readProblem, uuid } from '../shared/api.js';

const BASE = '/api/v1/portal';

export { ApiError, uuid };

/**
 * One request. `json` sends a JSON body, `form` a FormData (multipart).
 * Resolves to the parsed answer (null for 204), rejects with ApiError.
 */
export async function portalRequest(method, path, { json, form, signal } = {}) {
  const m = method.toUpperCase();
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method: m, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (m !== 'GET' && m !== 'HEAD') headers['X-Kefu-Portal'] = '1';
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form; // the browser sets the multipart boundary
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (cause) {
    if (cause && cause.name === 'AbortError') throw cause;
    throw new ApiError({
      type: 'about:blank', title: '', status: 0, detail: String((cause && cause.message) || ''),
      code: 'network_error', errors: [],
    });
  }
  if (res.ok) {
    if (res.status === 204) return null;
    const text = await res.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  throw new ApiError(await readProblem(res));
}

export const portal = {
  session: () => portalRequest('GET', '/session'),
  signInWithLink: (token) => portalRequest('POST', '/session', { json: { token } }),
  signInWithIdentity: (identity) => portalRequest('POST', '/session', { json: identity }),
  signOut: () => portalRequest('DELETE', '/session'),
  tickets: (opts) => portalRequest('GET', '/tickets', opts),
  ticket: (id, opts) => portalRequest('GET', `/tickets/${encodeURIComponent(id)}`, opts),
  openTicket: (form) => portalRequest('POST', '/tickets', { form }),
  reply: (id, body) => portalRequest('POST', `/tickets/${encodeURIComponent(id)}/messages`, { json: body }),
  upload: (file) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return portalRequest('POST', '/attachments', { form });
  },
};
