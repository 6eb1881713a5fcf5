// Pieces shared by the portal's pages: status badges, file pickers,
// attachments, localised field errors and drafts that survive a reload.
//
// The portal's strings live in its own catalogues (portal/i18n/*.json), so
// the translator is imported as `tr` here to keep it apart from the
// console's `t(...)` keys.

import { t as tr, has, formatDateTime, formatDateTimeFull } from '../shared/i18n.js';
import { h, icon, badge, fieldErrorState } from '../shared/ui.js';
import { ApiError } from './api.js';

export { tr };

/** The server's per-file limit (bytes); shown to customers as "20 MB". */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;
export const MAX_FILES = 20;

const STATUS_VARIANT = {
  open: 'info', pending: 'warning', on_hold: 'neutral', resolved: 'success', closed: 'neutral',
};

export function statusBadge(status, testid = 'ticket-status') {
  const key = `status.${status}`;
  return badge(has(key) ? tr(key) : status, STATUS_VARIANT[status] || 'neutral', {
    testid, dataset: { status },
  });
}

export function statusExplanation(status) {
  const key = `status.${status}.help`;
  return has(key) ? tr(key) : '';
}

export function categoryLabel(category) {
  if (!category) return '';
  const key = `category.${category}`;
  return has(key) ? tr(key) : category;
}

export function timeEl(value, testid) {
  if (!value) return null;
  return h('time', { datetime: value, title: formatDateTimeFull(value), testid }, formatDateTime(value));
}

export function formatSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return tr('file.bytes', { n });
  if (n < 1024 * 1024) return tr('file.kb', { n: (n / 1024).toFixed(n < 10 * 1024 ? 1 : 0) });
  return tr('file.mb', { n: (n / 1024 / 1024).toFixed(1) });
}

// --- Field errors in the customer's language -------------------------------------

/** A localised message for a server field error (the server writes English). */
export function fieldMessage(field, message) {
  const m = String(message || '').toLowerCase();
  if (/must not be empty|is required|needs at least|required/.test(m)) return tr('validation.required');
  if (/at most|too long/.test(m)) return tr('validation.tooLong');
  if (field === 'email' || /e-?mail/.test(m)) return tr('validation.email');
  if (field === 'category') return tr('validation.category');
  if (field === 'files' && /too many/.test(m)) return tr('validation.tooManyFiles', { max: MAX_FILES });
  if (/control characters/.test(m)) return tr('validation.controlChars');
  return tr('validation.invalid');
}

/** A copy of an ApiError whose field messages are localised (for showProblem). */
export function localiseFieldErrors(err) {
  if (!(err instanceof ApiError) || !err.problem.errors || !err.problem.errors.length) return err;
  const problem = {
    ...err.problem,
    errors: err.problem.errors.map((e) => ({ ...e, message: fieldMessage(e.field, e.message) })),
  };
  return new ApiError(problem);
}

// --- Drafts (sessionStorage; lost only when the tab is closed) -------------------

export function loadDraft(key) {
  try {
    const raw = sessionStorage.getItem(`kefu.portal.draft.${key}`);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function saveDraft(key, value) {
  try {
    sessionStorage.setItem(`kefu.portal.draft.${key}`, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the draft still lives in memory.
  }
}

export function dropDraft(key) {
  try {
    sessionStorage.removeItem(`kefu.portal.draft.${key}`);
  } catch {
    // Nothing to do.
  }
}

// --- File picker with drag and drop -------------------------------------------------

/**
 * A file picker with a drop zone and a list of chosen files.
 * `files` is an array the caller owns (kept across re-renders); items are
 * { file, error?, uploaded? }. Returns { el, setError, clearError, onChange }.
 */
export function filePicker({ files, testid, label, onChange }) {
  const inputId = `files-${Math.random().toString(36).slice(2, 9)}`;
  const hintId = `${inputId}-hint`;
  const errId = `${inputId}-error`;
  const input = h('input', {
    type: 'file', id: inputId, multiple: true, class: 'file-input', testid: `${testid}-input`,
    'aria-describedby': hintId,
    onChange: () => {
      add([...input.files]);
      input.value = '';
    },
  });
  const list = h('ul', { class: 'file-list', testid: `${testid}-list` });
  const errorEl = h('p', { class: 'field-error', id: errId, hidden: true, testid: `${testid}-error` });
  const zone = h('div', { class: 'dropzone', testid: `${testid}-dropzone` },
    icon('plus', 'dropzone-icon'),
    h('label', { htmlFor: inputId, class: 'dropzone-label' },
      h('span', { class: 'dropzone-action' }, tr('file.choose')),
      h('span', { class: 'dropzone-or' }, ` ${tr('file.orDrop')}`)),
    input);
  const el = h('div', { class: 'field file-field' },
    h('p', { class: 'field-label', id: `${inputId}-label` }, label || tr('file.label'),
      h('span', { class: 'field-optional' }, ` ${tr('common.optional')}`)),
    zone,
    h('p', { class: 'field-hint', id: hintId }, tr('file.hint', { mb: MAX_FILE_BYTES / 1024 / 1024, max: MAX_FILES })),
    errorEl,
    list);

  function add(chosen) {
    clearError();
    for (const file of chosen) {
      if (files.length >= MAX_FILES) {
        setError(tr('validation.tooManyFiles', { max: MAX_FILES }));
        break;
      }
      files.push({ file, error: file.size > MAX_FILE_BYTES ? tr('file.tooLarge', { mb: MAX_FILE_BYTES / 1024 / 1024 }) : null });
    }
    render();
    if (onChange) onChange();
  }

  function render() {
    list.replaceChildren(...files.map((item, i) => h('li', {
      class: ['file-item', item.error && 'has-error'], testid: `${testid}-item`,
    },
    icon('list', 'file-item-icon'),
    h('span', { class: 'file-item-name' }, item.file.name),
    h('span', { class: 'file-item-size' }, formatSize(item.file.size)),
    item.error ? h('span', { class: 'file-item-error', role: 'alert' }, item.error) : null,
    h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm file-item-remove', testid: `${testid}-remove`,
      'aria-label': tr('file.remove', { name: item.file.name }),
      onClick: () => {
        files.splice(i, 1);
        clearError();
        render();
        if (onChange) onChange();
        input.focus();
      },
    }, icon('x')))));
    list.hidden = files.length === 0;
  }

  const { setError, clearError } = fieldErrorState(el, errorEl);

  // Drag and drop onto the zone (the whole zone is the target).
  let depth = 0;
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth += 1; zone.classList.add('is-over'); });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
  zone.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove('is-over'); });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('is-over');
    if (e.dataTransfer && e.dataTransfer.files) add([...e.dataTransfer.files]);
  });

  render();
  return { el, input, setError, clearError, hasInvalid: () => files.some((f) => f.error) };
}

// --- Attachments on messages ------------------------------------------------------------

export function attachmentList(attachments) {
  if (!attachments || !attachments.length) return null;
  return h('ul', { class: 'attachments' }, attachments.map((a) => {
    if (a.inline && a.has_thumbnail) {
      return h('li', { class: 'attachment attachment-image', testid: 'attachment' },
        h('a', { href: a.url, target: '_blank', rel: 'noopener', class: 'attachment-thumb-link', 'aria-label': tr('file.open', { name: a.filename }) },
          h('img', {
            src: `${a.url}/thumbnail`, alt: a.filename, class: 'attachment-thumb', loading: 'lazy', testid: 'attachment-thumbnail',
          })));
    }
    return h('li', { class: 'attachment attachment-file', testid: 'attachment' },
      h('a', { href: a.url, download: a.filename, class: 'attachment-download', testid: 'attachment-download' },
        icon('download'),
        h('span', { class: 'attachment-name' }, a.filename),
        h('span', { class: 'attachment-size' }, formatSize(a.size))));
  }));
}
