// Small DOM component helpers shared by the Kefu web pages.
//
// Everything is built with the DOM API: text from the server is only ever
// set through textContent / attributes, never parsed as HTML. No inline
// style attributes are produced (the CSP forbids them); looks come from
// classes in the stylesheets.

import { t, has, formatDateTime, formatDateTimeFull } from './i18n.js';
import { ApiError } from './api.js';

const PROPS = new Set([
  'value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate',
  'multiple', 'readOnly', 'required', 'open', 'noValidate',
]);

/**
 * Create an element.
 *   h('button', { class: 'btn', testid: 'save', onClick: fn }, t('common.save'))
 * props: `class` (string or array), `testid` (data-testid), `dataset`,
 * `on<Event>` listeners, DOM properties listed in PROPS, anything else is an
 * attribute. `null`, `undefined` and `false` props and children are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class' || k === 'className') {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      } else if (k === 'testid') {
        el.dataset.testid = v;
      } else if (k === 'dataset') {
        for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[dk] = dv;
      } else if (k === 'style') {
        throw new Error('inline styles are not allowed by the content security policy; use a class');
      } else if (k === 'text') {
        el.textContent = v;
      } else if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (PROPS.has(k)) {
        el[k] = v;
      } else {
        el.setAttribute(k === 'htmlFor' ? 'for' : k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false || c === true) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace the content of `el` with `children`. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = {
  copy: ['M8 8h11v11H8z', 'M5 16V5h11'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
  logout: ['M15 17l5-5-5-5', 'M20 12H9', 'M12 20H5V4h7'],
  user: ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M4 21c0-4 4-6 8-6s8 2 8 6'],
  users: ['M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M2 21c0-4 3-6 7-6s7 2 7 6', 'M16 3.5a4 4 0 0 1 0 7', 'M18 15c2.5.6 4 2.6 4 6'],
  shield: ['M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z', 'M9 12l2 2 4-4'],
  list: ['M8 6h13', 'M8 12h13', 'M8 18h13', 'M3 6h.01', 'M3 12h.01', 'M3 18h.01'],
  globe: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M3 12h18', 'M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z'],
  plus: ['M12 5v14', 'M5 12h14'],
  x: ['M6 6l12 12', 'M18 6L6 18'],
  alert: ['M12 3l9.5 17h-19z', 'M12 10v4', 'M12 17h.01'],
  check: ['M5 12l5 5 9-10'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 11v5', 'M12 8h.01'],
  refresh: ['M20 11a8 8 0 1 0-2.3 5.7', 'M20 4v7h-7'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  inbox: ['M3 13l3-8h12l3 8', 'M3 13v6h18v-6', 'M3 13h5l1 3h6l1-3h5'],
  bell: ['M6 16V11a6 6 0 1 1 12 0v5l2 2H4z', 'M10 20a2 2 0 0 0 4 0'],
  search: ['M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z', 'M20 20l-4-4'],
  paperclip: ['M20 11l-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7'],
  message: ['M4 5h16v11H9l-5 4z'],
  note: ['M5 4h10l4 4v12H5z', 'M15 4v4h4', 'M8 13h8', 'M8 17h5'],
  tag: ['M3 12V4h8l10 10-8 8z', 'M7.5 8h.01'],
  zap: ['M13 3L4 14h7l-1 7 9-11h-7z'],
  eye: ['M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z', 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z'],
  chevronLeft: ['M15 6l-6 6 6 6'],
  chevronRight: ['M9 6l6 6-6 6'],
  folder: ['M3 6h6l2 2h10v11H3z'],
  edit: ['M4 20h4L19 9l-4-4L4 16z', 'M13 7l4 4'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13'],
  file: ['M6 3h8l4 4v14H6z', 'M14 3v4h4'],
};

/** A decorative stroke icon (aria-hidden). */
export function icon(name, extraClass) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', ['icon', extraClass].filter(Boolean).join(' '));
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

// --- Buttons, badges, layout blocks ----------------------------------------

/**
 * variant: primary | secondary | danger | ghost | link; size: md | sm
 */
export function button(label, { variant = 'secondary', size = 'md', type = 'button', testid, onClick, disabled, iconName, title, ariaLabel } = {}) {
  return h('button', {
    type,
    class: ['btn', `btn-${variant}`, size === 'sm' && 'btn-sm'],
    testid,
    onClick,
    disabled: !!disabled,
    title,
    'aria-label': ariaLabel,
  }, iconName ? icon(iconName) : null, label ? h('span', { class: 'btn-label' }, label) : null);
}

/** variant: neutral | success | danger | warning | info | brand */
export function badge(text, variant = 'neutral', props = {}) {
  return h('span', { ...props, class: ['badge', `badge-${variant}`, props.class] }, text);
}

export function card({ title, description, actions, testid, className } = {}, ...body) {
  return h('section', { class: ['card', className], testid },
    (title || actions) ? h('header', { class: 'card-header' },
      h('div', { class: 'card-heading' },
        title ? h('h2', { class: 'card-title' }, title) : null,
        description ? h('p', { class: 'card-description' }, description) : null),
      actions ? h('div', { class: 'card-actions' }, actions) : null) : null,
    h('div', { class: 'card-body' }, body));
}

/** A definition list from [[label, value], ...]; value may be a node. */
export function dl(pairs, className) {
  return h('dl', { class: ['dl', className] },
    pairs.map(([label, value, testid]) => [
      h('dt', null, label),
      h('dd', { testid }, value === null || value === undefined || value === '' ? dash() : value),
    ]));
}

export function dash() {
  return h('span', { class: 'muted', 'aria-label': t('common.none') }, '—');
}

/** A <time> element, or a muted placeholder (default "Never") when empty. */
export function timeCell(value, emptyKey = 'common.never') {
  if (!value) return h('span', { class: 'muted' }, t(emptyKey));
  return h('time', { datetime: value, title: formatDateTimeFull(value) }, formatDateTime(value));
}

export function emptyState(text, testid) {
  return h('div', { class: 'empty-state', testid }, text);
}

export function spinner(label) {
  return h('div', { class: 'loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'loading-label' }, label || t('common.loading')));
}

/** Disable `btn` and mark it busy while `fn` runs. */
export async function withBusy(btn, fn) {
  if (!btn) return fn();
  btn.disabled = true;
  btn.classList.add('is-busy');
  btn.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.classList.remove('is-busy');
    btn.removeAttribute('aria-busy');
  }
}

// --- Problems (RFC 9457) -----------------------------------------------------

/**
 * Human text for an error: a localised headline for known problem codes
 * (falling back to the server's title) and the server's detail.
 */
export function describeProblem(err) {
  if (!(err instanceof ApiError)) {
    return { title: t('problem.unexpected'), detail: err && err.message ? String(err.message) : '' };
  }
  const p = err.problem;
  const key = `problem.${p.code}`;
  let title;
  if (has(key)) title = t(key);
  else if (p.title) title = p.title;
  else if (p.status >= 500) title = t('problem.server_error');
  else title = t('problem.generic', { status: p.status });
  let detail = p.code === 'network_error' ? '' : (p.detail || '');
  if (detail && detail.trim().toLowerCase() === title.trim().toLowerCase()) detail = '';
  return { title, detail };
}

/** kind: error | success | warning | info */
export function alertBox(kind, title, detail, { testid, extra } = {}) {
  const iconName = kind === 'error' || kind === 'warning' ? 'alert' : kind === 'success' ? 'check' : 'info';
  return h('div', { class: ['alert', `alert-${kind}`], role: kind === 'error' ? 'alert' : 'status', testid },
    icon(iconName, 'alert-icon'),
    h('div', { class: 'alert-content' },
      title ? h('p', { class: 'alert-title' }, title) : null,
      detail ? h('p', { class: 'alert-detail' }, detail) : null,
      extra || null));
}

export function problemAlert(err, testid) {
  const { title, detail } = describeProblem(err);
  return alertBox('error', title, detail, { testid });
}

// --- Toasts -------------------------------------------------------------------

let toastRegion = null;

function region() {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h('div', { class: 'toast-region', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    document.body.append(toastRegion);
  }
  return toastRegion;
}

/** Show a transient message. kind: success | error | info */
export function toast(message, { kind = 'success', detail, timeout } = {}) {
  const el = h('div', { class: ['toast', `toast-${kind}`], testid: 'toast', role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' ? 'alert' : kind === 'success' ? 'check' : 'info', 'toast-icon'),
    h('div', { class: 'toast-content' },
      h('p', { class: 'toast-message' }, message),
      detail ? h('p', { class: 'toast-detail' }, detail) : null),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.dismiss'), onClick: () => remove() }, icon('x')));
  let timer = null;
  function remove() {
    clearTimeout(timer);
    el.classList.add('is-leaving');
    setTimeout(() => el.remove(), 180);
  }
  region().append(el);
  timer = setTimeout(remove, timeout || (kind === 'error' ? 8000 : 4000));
  return { close: remove };
}

export function toastProblem(err) {
  const { title, detail } = describeProblem(err);
  return toast(title, { kind: 'error', detail });
}

// --- Modals -------------------------------------------------------------------

/**
 * Open a modal dialog (<dialog> with showModal: focus is trapped and
 * Escape closes it). Returns { dialog, body, footer, close }.
 */
export function openModal({ title, body, footer, testid, size = 'md', onClose, dismissible = true } = {}) {
  const titleId = `modal-title-${Math.random().toString(36).slice(2, 9)}`;
  const bodyEl = h('div', { class: 'modal-body' }, body);
  const footerEl = footer ? h('footer', { class: 'modal-footer' }, footer) : null;
  const dialog = h('dialog', { class: ['modal', `modal-${size}`], testid, 'aria-labelledby': titleId },
    h('header', { class: 'modal-header' },
      h('h2', { class: 'modal-title', id: titleId }, title),
      dismissible ? h('button', {
        type: 'button', class: 'modal-close', testid: 'modal-close', 'aria-label': t('common.close'),
        onClick: () => close(),
      }, icon('x')) : null),
    bodyEl,
    footerEl);
  let closed = false;
  function close(result) {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    if (onClose) onClose(result);
  }
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    if (dismissible) close();
  });
  dialog.addEventListener('click', (e) => {
    // A click on the backdrop lands on the <dialog> element itself.
    if (!dismissible || e.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  const autofocus = dialog.querySelector('[autofocus], input:not([type=hidden]):not([disabled]), select, textarea');
  if (autofocus) autofocus.focus();
  return { dialog, body: bodyEl, footer: footerEl, close };
}

/** Ask for confirmation; resolves to true (confirmed) or false. */
export function confirmDialog({ title, message, confirmLabel, cancelLabel, danger = false } = {}) {
  return new Promise((resolve) => {
    let result = false;
    const ok = button(confirmLabel || t('common.confirm'), {
      variant: danger ? 'danger' : 'primary', testid: 'confirm-ok',
      onClick: () => { result = true; m.close(); },
    });
    const cancel = button(cancelLabel || t('common.cancel'), {
      variant: 'secondary', testid: 'confirm-cancel', onClick: () => m.close(),
    });
    const m = openModal({
      title,
      body: h('p', { class: 'confirm-message' }, message),
      footer: [cancel, ok],
      testid: 'confirm-dialog',
      size: 'sm',
      onClose: () => resolve(result),
    });
    ok.focus();
  });
}

// --- Tables -------------------------------------------------------------------

/**
 * columns: [{ label, render(row) -> node|string, className }]
 * rowProps(row) -> props for the <tr> (testid, dataset, ...)
 */
export function table({ columns, rows, rowProps, empty, testid, caption }) {
  const tbody = h('tbody');
  const tableEl = h('table', { class: 'table', testid },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, tableEl);
  const emptyEl = emptyState(empty || t('common.empty'), testid ? `${testid}-empty` : undefined);

  function renderRow(row) {
    return h('tr', rowProps ? rowProps(row) : null,
      columns.map((c) => {
        const v = c.render(row);
        return h('td', { class: c.className, 'data-label': c.label }, v === null || v === undefined || v === '' ? dash() : v);
      }));
  }

  function setRows(list) {
    clear(tbody);
    const trs = list.map(renderRow);
    tbody.append(...trs);
    sync();
    return trs;
  }

  function appendRows(list) {
    const trs = list.map(renderRow);
    tbody.append(...trs);
    sync();
    return trs;
  }

  function prependRows(list) {
    const trs = list.map(renderRow);
    tbody.prepend(...trs);
    sync();
    return trs;
  }

  /** Show the table or the empty state depending on the number of rows. */
  function sync() {
    const n = tbody.children.length;
    tableEl.hidden = n === 0;
    if (n === 0 && !emptyEl.isConnected) wrap.append(emptyEl);
    if (n > 0 && emptyEl.isConnected) emptyEl.remove();
  }

  setRows(rows || []);
  return { el: wrap, table: tableEl, tbody, setRows, appendRows, prependRows, renderRow, sync };
}

// --- Form fields ----------------------------------------------------------------

let fieldSeq = 0;

/**
 * The error state of a field-like control that is not a single input (a list of rows, a file
 * picker): `errorEl` shows the message and `el` is marked `has-error`.
 */
export function fieldErrorState(el, errorEl) {
  return {
    setError(message) {
      errorEl.textContent = message;
      errorEl.hidden = false;
      el.classList.add('has-error');
    },
    clearError() {
      errorEl.textContent = '';
      errorEl.hidden = true;
      el.classList.remove('has-error');
    },
  };
}

/**
 * A labelled control with hint and error slot.
 * opts: name, label, type (text|email|password|select|textarea|number), testid,
 *       hint, required, minLength, autocomplete, value, placeholder,
 *       inputmode, maxLength, options ([{value, label}] for select), attrs
 * Returns { el, input, setError(msg), clearError(), validate(), get value() }.
 */
export function field(opts) {
  const id = `f-${opts.name}-${++fieldSeq}`;
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  let input;
  const common = {
    id,
    name: opts.name,
    testid: opts.testid,
    class: 'input',
    required: !!opts.required,
    autocomplete: opts.autocomplete,
    placeholder: opts.placeholder,
    inputmode: opts.inputmode,
    autofocus: opts.autofocus,
    disabled: !!opts.disabled,
    'aria-describedby': opts.hint ? hintId : null,
    ...(opts.attrs || {}),
  };
  if (opts.type === 'select') {
    input = h('select', { ...common, class: 'input select' },
      (opts.options || []).map((o) => h('option', { value: o.value, selected: o.value === opts.value }, o.label)));
  } else if (opts.type === 'textarea') {
    input = h('textarea', { ...common, class: 'input textarea', rows: opts.rows || 3 });
    if (opts.value) input.value = opts.value;
  } else {
    input = h('input', {
      ...common,
      type: opts.type || 'text',
      value: opts.value ?? null,
      maxlength: opts.maxLength,
      spellcheck: opts.type === 'email' || opts.type === 'password' ? 'false' : null,
      autocapitalize: opts.type === 'email' ? 'none' : null,
    });
  }
  const errorEl = h('p', { class: 'field-error', id: errId, hidden: true, testid: opts.testid ? `${opts.testid}-error` : null });
  const el = h('div', { class: ['field', opts.className] },
    h('label', { class: 'field-label', htmlFor: id }, opts.label,
      opts.optional ? h('span', { class: 'field-optional' }, ` ${t('common.optional')}`) : null),
    input,
    opts.hint ? h('p', { class: 'field-hint', id: hintId }, opts.hint) : null,
    errorEl);

  function setError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    el.classList.add('has-error');
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [opts.hint ? hintId : null, errId].filter(Boolean).join(' '));
  }
  function clearError() {
    errorEl.textContent = '';
    errorEl.hidden = true;
    el.classList.remove('has-error');
    input.removeAttribute('aria-invalid');
    if (opts.hint) input.setAttribute('aria-describedby', hintId);
    else input.removeAttribute('aria-describedby');
  }
  function validate() {
    const v = input.value;
    const trimmed = typeof v === 'string' ? v.trim() : v;
    if (opts.required && !trimmed) { setError(t('validation.required')); return false; }
    if (trimmed && opts.type === 'email' && !/^[^\s@]+@[^\s@]+$/.test(trimmed)) { setError(t('validation.email')); return false; }
    if (trimmed && opts.minLength && v.length < opts.minLength) {
      setError(t('validation.minLength', { min: opts.minLength })); return false;
    }
    if (opts.validate) {
      const msg = opts.validate(v);
      if (msg) { setError(msg); return false; }
    }
    return true;
  }
  input.addEventListener('input', () => { if (el.classList.contains('has-error')) clearError(); });
  return {
    el, input, setError, clearError, validate, name: opts.name,
    get value() { return input.value; },
    set value(v) { input.value = v; },
  };
}

/** A checkbox with label and optional hint. Returns { el, input, get checked }. */
export function checkbox({ name, label, hint, testid, checked, disabled, onChange }) {
  const id = `c-${name}-${++fieldSeq}`;
  const input = h('input', { type: 'checkbox', id, name, testid, checked: !!checked, disabled: !!disabled, class: 'checkbox-input', onChange });
  const el = h('div', { class: 'checkbox' },
    input,
    h('label', { htmlFor: id, class: 'checkbox-label' },
      h('span', { class: 'checkbox-text' }, label),
      hint ? h('span', { class: 'checkbox-hint' }, hint) : null));
  return { el, input, get checked() { return input.checked; }, set checked(v) { input.checked = v; } };
}

/**
 * Wire a <form>: client-side validation of `fields`, busy state on
 * `submitButton`, and problem+json display (field errors next to their
 * inputs, everything else in `alertSlot`). `fieldMap` maps server field
 * names to fields when they differ from the field's own name.
 */
export function bindForm(form, { fields = [], submitButton, alertSlot, onSubmit, fieldMap = {}, validate }) {
  form.noValidate = true;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submitButton && submitButton.disabled) return;
    clearProblem({ fields, alertSlot });
    let ok = true;
    for (const f of fields) if (!f.validate()) ok = false;
    if (ok && validate) ok = validate() !== false;
    if (!ok) {
      const firstBad = fields.find((f) => f.el.classList.contains('has-error'));
      if (firstBad) firstBad.input.focus();
      return;
    }
    try {
      await withBusy(submitButton, () => onSubmit());
    } catch (err) {
      showProblem(err, { fields, alertSlot, fieldMap });
    }
  });
}

export function clearProblem({ fields = [], alertSlot }) {
  for (const f of fields) f.clearError();
  if (alertSlot) clear(alertSlot);
}

/** Show an error on a form: field errors inline, the rest in alertSlot. */
export function showProblem(err, { fields = [], alertSlot, fieldMap = {} }) {
  const unmatched = [];
  let focused = false;
  if (err instanceof ApiError) {
    for (const [name, message] of err.fieldErrors()) {
      const f = fieldMap[name] || fields.find((x) => x.name === name);
      if (f) {
        f.setError(message || t('validation.invalid'));
        if (!focused) { f.input.focus(); focused = true; }
      } else {
        unmatched.push(`${name}: ${message}`);
      }
    }
  }
  if (!alertSlot) {
    if (!focused || unmatched.length) toastProblem(err);
    return;
  }
  const { title, detail } = describeProblem(err);
  const extra = unmatched.length ? h('ul', { class: 'alert-list' }, unmatched.map((m) => h('li', null, m))) : null;
  const testid = alertSlot.dataset.alertTestid || null;
  replace(alertSlot, alertBox('error', title, detail, { testid, extra }));
}

// --- Clipboard and downloads ------------------------------------------------------

export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the legacy path.
  }
  const ta = h('textarea', { class: 'clipboard-helper', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function copyButton(getText, { label, testid, variant = 'secondary', size = 'md' } = {}) {
  const btn = button(label || t('common.copy'), {
    variant, size, testid, iconName: 'copy',
    onClick: async () => {
      const ok = await copyText(typeof getText === 'function' ? getText() : getText);
      if (ok) toast(t('common.copied'), { kind: 'success' });
      else toast(t('common.copyFailed'), { kind: 'error' });
    },
  });
  return btn;
}

/** Save `text` as a file through a temporary <a download> link. */
export function downloadText(filename, text, type = 'text/plain;charset=utf-8') {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- SVG from the server ----------------------------------------------------------

/**
 * Turn an SVG document string (the 2FA QR code generated by our server)
 * into an <img> with a data: URL. As an image the SVG cannot run script or
 * touch the page, and its own styling is not subject to the page CSP.
 * Returns null when the string is not a well-formed SVG document.
 */
export function svgImage(svgText, { alt, className, testid } = {}) {
  if (typeof svgText !== 'string' || !svgText.trim()) return null;
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName.toLowerCase() !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
  if (!root.getAttribute('xmlns')) root.setAttribute('xmlns', SVG_NS);
  if (!root.getAttribute('viewBox')) {
    const w = parseFloat(root.getAttribute('width'));
    const hgt = parseFloat(root.getAttribute('height'));
    if (w > 0 && hgt > 0) root.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  }
  const xml = new XMLSerializer().serializeToString(root);
  const bytes = new TextEncoder().encode(xml);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return h('img', { src: `data:image/svg+xml;base64,${btoa(bin)}`, alt: alt || '', class: className, testid });
}

// --- Action menus -------------------------------------------------------------------

let menuSeq = 0;

/**
 * A button that opens a list of actions in a popover (top layer, so it is
 * never clipped by scrolling table containers).
 * items: [{ label, testid, onSelect, danger, hidden }]
 */
export function menu({ label, testid, items, ariaLabel }) {
  const id = `menu-${++menuSeq}`;
  const trigger = h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm menu-trigger', testid,
    popovertarget: id, 'aria-haspopup': 'menu', 'aria-label': ariaLabel,
  }, h('span', { class: 'btn-label' }, label), h('span', { class: 'menu-caret', 'aria-hidden': 'true' }));
  const list = h('div', { id, popover: 'auto', class: 'menu-popover', role: 'menu' },
    items.filter((it) => !it.hidden).map((it) => h('button', {
      type: 'button', role: 'menuitem', class: ['menu-item', it.danger && 'menu-item-danger'], testid: it.testid,
      onClick: () => {
        list.hidePopover();
        it.onSelect();
      },
    }, it.label)));

  function place() {
    const r = trigger.getBoundingClientRect();
    const w = list.offsetWidth;
    const ht = list.offsetHeight;
    const gap = 4;
    let top = r.bottom + gap;
    if (top + ht > window.innerHeight - 8 && r.top - gap - ht > 8) top = r.top - gap - ht;
    let left = r.right - w;
    if (left < 8) left = 8;
    // Positioning a top-layer popover needs coordinates; CSSOM writes are allowed by the CSP.
    list.style.top = `${Math.round(top)}px`;
    list.style.left = `${Math.round(left)}px`;
  }
  const closeOnScroll = () => list.hidePopover();
  list.addEventListener('toggle', (e) => {
    trigger.setAttribute('aria-expanded', String(e.newState === 'open'));
    if (e.newState === 'open') {
      place();
      window.addEventListener('scroll', closeOnScroll, { capture: true, passive: true });
      window.addEventListener('resize', closeOnScroll, { passive: true });
      const first = list.querySelector('.menu-item');
      if (first) first.focus();
    } else {
      window.removeEventListener('scroll', closeOnScroll, { capture: true });
      window.removeEventListener('resize', closeOnScroll);
    }
  });
  list.addEventListener('keydown', (e) => {
    const itemsEls = [...list.querySelectorAll('.menu-item')];
    const i = itemsEls.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); itemsEls[(i + 1) % itemsEls.length].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); itemsEls[(i - 1 + itemsEls.length) % itemsEls.length].focus(); }
  });
  return h('div', { class: 'menu' }, trigger, list);
}
