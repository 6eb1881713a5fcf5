// /portal/new: the form to open a ticket. What the customer types is kept
// in sessionStorage (and chosen files in memory) so a failed send, a
// language switch or a reload never loses it.

import { getLanguage } from '../../shared/i18n.js';
import { h, field, bindForm, clearProblem } from '../../shared/ui.js';
import { portal, ApiError } from '../api.js';
import { state, setTitle, navigate, refreshSession } from '../app.js';
import {
  tr, filePicker, localiseFieldErrors, loadDraft, saveDraft, dropDraft, MAX_FILE_BYTES,
} from '../common.js';

export const CATEGORIES = ['account', 'deposit', 'withdrawal', 'trading', 'security', 'other'];
const DRAFT_KEY = 'new-ticket';
// Chosen files survive re-renders (language switch) but not a reload: File objects cannot be stored.
const chosenFiles = [];

export function newTicketView(main) {
  setTitle(tr('new.title'));
  const draft = loadDraft(DRAFT_KEY) || {};
  const signedIn = !!state.session;

  const name = field({
    name: 'name', label: tr('new.name'), testid: 'new-name', required: true, autocomplete: 'name',
    value: draft.name ?? (signedIn ? state.session.contact_name : ''), attrs: { maxlength: '200' },
  });
  const email = field({
    name: 'email', label: tr('new.email'), type: 'email', testid: 'new-email', required: !signedIn,
    optional: signedIn, autocomplete: 'email', inputmode: 'email', value: draft.email || '',
    hint: signedIn ? tr('new.emailHintSignedIn') : tr('new.emailHint'),
  });
  const category = field({
    name: 'category', label: tr('new.category'), type: 'select', testid: 'new-category', required: true,
    value: draft.category || '',
    options: [{ value: '', label: tr('new.categoryPlaceholder') }, ...CATEGORIES.map((c) => ({ value: c, label: tr(`category.${c}`) }))],
  });
  const subject = field({
    name: 'subject', label: tr('new.subject'), testid: 'new-subject', required: true, value: draft.subject || '',
    placeholder: tr('new.subjectPlaceholder'), attrs: { maxlength: '300' },
  });
  const description = field({
    name: 'description', label: tr('new.description'), type: 'textarea', testid: 'new-description', required: true,
    rows: 7, value: draft.description || '', hint: tr('new.descriptionHint'),
  });
  const picker = filePicker({ files: chosenFiles, testid: 'new-files' });
  const fields = [name, email, category, subject, description];

  const save = () => saveDraft(DRAFT_KEY, {
    name: name.value, email: email.value, category: category.value, subject: subject.value, description: description.value,
  });
  for (const f of fields) {
    f.input.addEventListener('input', save);
    f.input.addEventListener('change', save);
  }

  const alertSlot = h('div', { class: 'form-alert', 'aria-live': 'polite' });
  alertSlot.dataset.alertTestid = 'new-error';
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'new-submit' },
    h('span', { class: 'btn-label' }, tr('new.submit')));
  const form = h('form', { class: 'form', testid: 'new-ticket-form', 'aria-describedby': 'new-safety' },
    h('p', { class: 'note note-warning', id: 'new-safety' }, tr('new.safety')),
    name.el, email.el, category.el, subject.el, description.el, picker.el,
    alertSlot,
    h('div', { class: 'form-actions' }, submit,
      h('p', { class: 'field-hint' }, tr('new.afterSubmit'))));

  const fieldMap = { files: { setError: picker.setError, input: picker.input, el: picker.el, clearError: picker.clearError } };
  bindForm(form, {
    fields,
    submitButton: submit,
    alertSlot,
    fieldMap,
    validate: () => {
      if (picker.hasInvalid()) {
        picker.setError(tr('file.removeInvalid', { mb: MAX_FILE_BYTES / 1024 / 1024 }));
        picker.input.focus();
        return false;
      }
      return true;
    },
    onSubmit: async () => {
      const data = new FormData();
      data.append('name', name.value.trim());
      data.append('email', email.value.trim());
      data.append('subject', subject.value.trim());
      data.append('description', description.value);
      data.append('category', category.value);
      data.append('language', getLanguage());
      for (const item of chosenFiles) data.append('files', item.file, item.file.name);
      let res;
      try {
        res = await portal.openTicket(data);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'attachment_too_large') {
          clearProblem({ fields, alertSlot });
          picker.setError(tr('file.tooLarge', { mb: MAX_FILE_BYTES / 1024 / 1024 }));
          picker.input.focus();
          return;
        }
        throw localiseFieldErrors(err);
      }
      dropDraft(DRAFT_KEY);
      chosenFiles.length = 0;
      state.justOpened = { ticketId: res.ticket.id, url: new URL(res.link, window.location.origin).href };
      await refreshSession().catch(() => {});
      navigate(`/portal/tickets/${encodeURIComponent(res.ticket.id)}`);
    },
  });
  main.replaceChildren(h('section', { class: 'page page-narrow', testid: 'portal-new' },
    h('h1', { class: 'page-title', tabindex: '-1' }, tr('new.title')),
    h('p', { class: 'lead' }, tr('new.intro')),
    form));
}
