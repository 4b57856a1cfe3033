// Small building blocks every page shares: elements, times, ids, badges, dialogs and messages.

// An element: h('button', {class: 'x', onclick: f}, 'text', child...). Attributes named on* become listeners;
// false, null and undefined attributes and children are left out.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === false || child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces what element holds.
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// A time in the browser's zone, with UTC on hover; "—" when absent.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  const local = date.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return h('time', { datetime: iso, title: `${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} UTC` }, local);
}

// How long ago a time was, in words.
export function ago(iso) {
  if (!iso) return 'never';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

// A long id shortened to its last 8 characters, the whole of it on hover, with a button that copies it.
export function shortId(id) {
  if (!id) return h('span', { class: 'muted' }, '—');
  const button = h('button', {
    class: 'copy', type: 'button', title: `Copy ${id}`, 'aria-label': `Copy id ${id}`,
    onclick: async (event) => {
      event.stopPropagation();
      await copyText(id);
      button.textContent = 'copied';
      setTimeout(() => { button.textContent = 'copy'; }, 1200);
    },
  }, 'copy');
  return h('span', { class: 'id' }, h('code', { title: id }, `…${id.slice(-8)}`), button);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h('textarea', { class: 'offscreen', readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

// A coloured word for a state ("delivered", "failed", "pending", "enabled", "disabled").
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

// A percentage of a share from 0 to 1, or "—".
export function percent(share) {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(share === 1 ? 0 : 1)}\u00a0%`;
}

// What to show where a list has nothing: what it is and what to do next.
export function empty(text, action) {
  return h('div', { class: 'empty', role: 'status' }, h('p', {}, text), action ?? null);
}

// A message at the top of the page; errors stay until closed, others fade.
export function notify(text, kind = 'info') {
  const area = document.getElementById('messages');
  const message = h('div', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, text),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => message.remove() }, '×'));
  area.append(message);
  if (kind !== 'error') setTimeout(() => message.remove(), 5000);
}

// Runs an action, reporting its failure as a message; resolves to its result or undefined.
export async function attempt(action, success) {
  try {
    const result = await action();
    if (success) notify(success, 'ok');
    return result;
  } catch (error) {
    notify(error.message, 'error');
    return undefined;
  }
}

// A modal dialog with content and buttons; resolves to the label of the button pressed (null on Escape).
export function dialog(title, content, buttons = ['Cancel', 'OK']) {
  return new Promise((resolve) => {
    const box = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' });
    const close = (label) => {
      box.close();
      box.remove();
      resolve(label);
    };
    const form = h('form', { method: 'dialog', onsubmit: (event) => {
      event.preventDefault();
      if (form.reportValidity()) close(buttons[buttons.length - 1]);
    } },
      h('h2', { id: 'dialog-title' }, title),
      content,
      h('div', { class: 'actions' },
        buttons.slice(0, -1).map((label) => h('button', { type: 'button', onclick: () => close(label) }, label)),
        h('button', { type: 'submit', class: 'primary' }, buttons[buttons.length - 1])));
    box.append(form);
    box.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(null);
    });
    document.body.append(box);
    box.showModal();
  });
}

// Asks before something that cannot be undone; true when confirmed.
export async function confirmAction(title, text, label) {
  return (await dialog(title, h('p', {}, text), ['Cancel', label])) === label;
}

// A labelled form field.
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('small', {}, hint) : null);
}

// Pager buttons for a list answer ({next, previous}); go(path) loads a page.
export function pager(page, go) {
  if (!page.next && !page.previous) return null;
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: !page.previous, onclick: () => go(page.previous) }, '← Newer'),
    h('button', { type: 'button', disabled: !page.next, onclick: () => go(page.next) }, 'Older →'));
}

// A table from a header row and body rows; each cell is labelled with its heading, so that on a phone a row can
// be shown as a card of labelled values.
export function table(headings, rows, caption) {
  for (const row of [rows].flat(Infinity)) {
    if (!(row instanceof Element) || row.classList.contains('detail')) continue;
    [...row.children].forEach((cell, index) => {
      if (headings[index]) cell.setAttribute('data-label', headings[index]);
    });
  }
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'offscreen' }, caption) : null,
    h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
    h('tbody', {}, rows)));
}
