// Sign-in: an API key id and secret, checked against the API and kept for this browser session only.
import { signIn } from '../api.js';
import { field, h } from '../ui.js';

export function render(view, _params, page) {
  const id = h('input', { name: 'key-id', id: 'key-id', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', {
    name: 'key-secret', id: 'key-secret', type: 'password', autocomplete: 'current-password', required: true,
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'card signin-card',
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      button.disabled = true;
      try {
        await signIn(id.value, secret.value);
        page.done();
      } catch (failure) {
        error.textContent = failure.status === 401
          ? 'That key id and secret were not accepted. Check both (repute keys create prints them) and try again.'
          : failure.message;
        secret.select();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h1', {}, 'repute console'),
  h('p', { class: 'muted' }, 'Sign in with an API key. It is kept in this tab only and forgotten when you sign out.'),
  field('Key id', id),
  field('Key secret', secret),
  error,
  button);
  view.append(form);
  id.focus();
}
