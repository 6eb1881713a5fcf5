// JSON client for the Kefu HTTP API.
//
// - Sends cookies (same-origin) and, on writes, the X-CSRF-Token header.
// - Adds an Idempotency-Key to requests that create something.
// - Turns every non-2xx answer into an ApiError carrying the RFC 9457
//   problem object ({type, title, status, detail, code, errors?}).
// - Tells the application when the session is gone (401 unauthenticated)
//   or when two-factor enrolment is mandatory (403 two_factor_enrolment_required).

const BASE = '/api/v1';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// 401 answers that reject what the user typed rather than the session.
const CREDENTIAL_CODES = new Set(['invalid_credentials', 'invalid_totp_code', 'login_challenge_expired']);

let csrfToken = null;
const hooks = {
  onUnauthenticated: null,
  onEnrolmentRequired: null,
  refreshCsrf: null,
};

export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.name = 'ApiError';
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
  }

  /** Field errors as a Map field -> message. */
  fieldErrors() {
    const map = new Map();
    for (const e of this.problem.errors || []) {
      if (e && e.field && !map.has(e.field)) map.set(e.field, e.message || '');
    }
    return map;
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function setApiHooks(next) {
  Object.assign(hooks, next);
}

/** A random UUID v4, also outside secure contexts (plain-HTTP intranet installs). */
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * An Idempotency-Key holder for one create form. The key stays the same
 * while a submission may be retried (network failure, 5xx) and is replaced
 * once the server has given a definitive answer.
 */
export function idempotencyKey() {
  let key = uuid();
  return {
    get value() {
      return key;
    },
    settle(err) {
      const retriable = err instanceof ApiError && (err.code === 'network_error' || err.status >= 500);
      if (!retriable) key = uuid();
    },
  };
}

function buildUrl(path, query) {
  const url = new URL(BASE + path, window.location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url.pathname + url.search;
}

/** The RFC 9457 problem in a non-2xx response (a plain one when the body is not JSON). */
export async function readProblem(res) {
  const type = res.headers.get('content-type') || '';
  let body = null;
  if (type.includes('json')) {
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  }
  if (body && typeof body === 'object') {
    // Extension members (`retry_after`, `attempts_left`…) are kept.
    return {
      ...body,
      type: body.type || 'about:blank',
      title: body.title || res.statusText || '',
      status: body.status || res.status,
      detail: body.detail || '',
      code: body.code || `http_${res.status}`,
      errors: Array.isArray(body.errors) ? body.errors : [],
    };
  }
  return {
    type: 'about:blank',
    title: res.statusText || '',
    status: res.status,
    detail: '',
    code: `http_${res.status}`,
    errors: [],
  };
}

/**
 * Perform a request.
 * @param {string} method
 * @param {string} path  path below /api/v1, e.g. "/agents"
 * @param {{body?: any, query?: object, idempotencyKey?: string|{value:string},
 *          create?: boolean, silent?: boolean, retried?: boolean}} [opts]
 *   `create: true` adds a fresh Idempotency-Key when none is given.
 *   `silent: true` skips the global 401/403 handlers (used by auth calls).
 *   `headers` adds request headers (e.g. If-Match); `formData` sends a
 *   multipart body instead of JSON; `keepalive` lets the request outlive the page.
 */
export async function request(method, path, opts = {}) {
  const m = method.toUpperCase();
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method: m, headers, credentials: 'same-origin', cache: 'no-store' };
  if (opts.headers) Object.assign(headers, opts.headers);
  if (opts.formData) {
    init.body = opts.formData;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (opts.keepalive) init.keepalive = true;
  if (WRITE_METHODS.has(m) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const idem = opts.idempotencyKey
    ? (typeof opts.idempotencyKey === 'string' ? opts.idempotencyKey : opts.idempotencyKey.value)
    : opts.create ? uuid() : null;
  if (idem) headers['Idempotency-Key'] = idem;

  let res;
  try {
    res = await fetch(buildUrl(path, opts.query), init);
  } catch (cause) {
    throw new ApiError({
      type: 'about:blank', title: '', status: 0, detail: String(cause && cause.message || ''),
      code: 'network_error', errors: [],
    });
  }

  if (res.ok) {
    if (res.status === 204 || res.status === 205) return null;
    const text = await res.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  const problem = await readProblem(res);
  const err = new ApiError(problem);

  // A stale CSRF token (for example after a session rotation): fetch a new
  // one once and replay the request.
  if (res.status === 403 && /csrf/i.test(problem.code) && WRITE_METHODS.has(m) && !opts.retried && hooks.refreshCsrf) {
    const ok = await hooks.refreshCsrf().catch(() => false);
    if (ok) return request(method, path, { ...opts, retried: true, idempotencyKey: idem || undefined });
  }

  if (!opts.silent) {
    if (res.status === 401 && !CREDENTIAL_CODES.has(problem.code) && hooks.onUnauthenticated) {
      hooks.onUnauthenticated(problem);
    }
    if (res.status === 403 && problem.code === 'two_factor_enrolment_required' && hooks.onEnrolmentRequired) {
      hooks.onEnrolmentRequired(problem);
    }
  }
  throw err;
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts) => request('POST', path, { ...opts, body }),
  put: (path, body, opts) => request('PUT', path, { ...opts, body }),
  patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
  del: (path, body, opts) => request('DELETE', path, { ...opts, body }),
  /** Multipart upload of a FormData body (e.g. a `file` field). */
  upload: (path, formData, opts) => request('POST', path, { ...opts, formData }),
};

/** Encode one path segment (ids, IP addresses such as IPv6 with colons). */
export function seg(value) {
  return encodeURIComponent(String(value));
}
