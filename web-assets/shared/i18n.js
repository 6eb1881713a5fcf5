// Message catalogues and language selection.
//
// Catalogues are flat JSON objects ("section.key": "text") under
// /assets/i18n/<lang>.json. `t(key, vars)` looks the key up in the active
// catalogue, falls back to English, and finally to the key itself, so a
// missing translation is visible but never breaks the page.
// Placeholders are written `{name}` and replaced with `vars.name`.

export const LANGUAGES = [
  { code: 'en', labelKey: 'lang.en' },
  { code: 'zh-CN', labelKey: 'lang.zh-CN' },
  { code: 'zh-TW', labelKey: 'lang.zh-TW' },
];

const STORAGE_KEY = 'kefu.lang';
const SUPPORTED = new Set(LANGUAGES.map((l) => l.code));

// Where catalogues come from and where the user's choice is remembered.
// By default /assets/i18n/<lang>.json and 'kefu.lang' (the console); another
// page (the customer portal) may point at its own catalogues with
// configureCatalogues() before the first setLanguage().
let catalogueBase = null;
let storageKey = STORAGE_KEY;

let current = 'en';
let messages = {};
let fallback = {};
const cache = new Map();
const listeners = new Set();

/** Map a BCP 47 tag to one of the supported catalogues. */
export function matchLanguage(tag) {
  if (!tag) return 'en';
  const lower = String(tag).toLowerCase().replace(/_/g, '-');
  if (!lower.startsWith('zh')) return 'en';
  if (lower.includes('hans')) return 'zh-CN';
  if (lower.includes('hant') || /^zh-(tw|hk|mo)\b/.test(lower)) return 'zh-TW';
  return 'zh-CN';
}

/**
 * Use another set of catalogues: `base` is the folder URL holding
 * <lang>.json (string or URL, resolved against the page), `storageKey` the
 * localStorage key remembering the choice. Either may be omitted.
 */
export function configureCatalogues({ base, storageKey: key } = {}) {
  if (base) {
    const href = String(base instanceof URL ? base.href : new URL(base, window.location.href).href);
    catalogueBase = href.endsWith('/') ? href : `${href}/`;
  }
  if (key) storageKey = key;
}

/** The language to use before the user has chosen one explicitly. */
export function detectLanguage() {
  try {
    const stored = localStorage.getItem(storageKey);
    if (stored && SUPPORTED.has(stored)) return stored;
  } catch {
    // Storage may be unavailable (private mode, disabled cookies).
  }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language;
  return matchLanguage(nav);
}

async function fetchCatalogue(lang) {
  const url = catalogueBase ? new URL(`${lang}.json`, catalogueBase) : new URL(`../i18n/${lang}.json`, import.meta.url);
  if (cache.has(url.href)) return cache.get(url.href);
  const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`could not load catalogue ${lang}: HTTP ${res.status}`);
  const data = await res.json();
  cache.set(url.href, data);
  return data;
}

/**
 * Load and activate a language. Persists the choice when `remember` is set
 * and updates <html lang>. Listeners are told after the switch.
 */
export async function setLanguage(lang, { remember = false } = {}) {
  const code = SUPPORTED.has(lang) ? lang : 'en';
  const [main, en] = await Promise.all([
    fetchCatalogue(code),
    code === 'en' ? null : fetchCatalogue('en').catch(() => ({})),
  ]);
  current = code;
  messages = main;
  fallback = en || main;
  document.documentElement.lang = code;
  if (remember) {
    try {
      localStorage.setItem(storageKey, code);
    } catch {
      // Ignore: the choice simply is not remembered.
    }
  }
  for (const fn of listeners) fn(code);
  return code;
}

export function getLanguage() {
  return current;
}

/** Register a callback run after every language switch; returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(messages, key) ||
    Object.prototype.hasOwnProperty.call(fallback, key);
}

export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(messages, key)
    ? messages[key]
    : Object.prototype.hasOwnProperty.call(fallback, key)
      ? fallback[key]
      : key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(vars, name) && vars[name] != null ? String(vars[name]) : whole);
  }
  return text;
}

// --- Formatting helpers bound to the active language -----------------------

export function formatDateTime(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatDateTimeFull(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(current, { dateStyle: 'full', timeStyle: 'long' }).format(d);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}
