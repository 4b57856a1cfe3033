// Subscriptions: each with its health (state, last hour and day, last 2xx, backlog) and what can be done to it.
import { call, pagePath } from '../api.js';
import {
  ago, attempt, badge, confirmAction, dialog, empty, field, fill, h, pager, percent, shortId, table, time,
} from '../ui.js';

const EVENTS = ['reputations.added', 'reputations.updated'];

export function render(view, _params, page) {
  let path = '/v1/webhooks?limit=20';
  const list = h('section', { 'aria-label': 'Subscriptions' });
  view.append(
    h('div', { class: 'page-head' },
      h('h1', {}, 'Subscriptions'),
      h('button', { type: 'button', class: 'primary', id: 'new-subscription', onclick: () => edit(null, load) },
        'New subscription')),
    list);

  async function load() {
    const found = await attempt(() => call('GET', path));
    if (!found || page.stopped) return;
    const stats = await Promise.all(found.results.map((hook) =>
      call('GET', `/v1/webhooks/${hook.id}/stats`).catch(() => null)));
    if (page.stopped) return;
    if (!found.results.length) {
      fill(list, empty('No subscriptions yet — create one to start receiving reputations events.',
        h('button', { type: 'button', class: 'primary', onclick: () => edit(null, load) }, 'Create a subscription')));
      return;
    }
    fill(list,
      table(['Subscription', 'State', 'Last hour', 'Last day', 'Last 2xx', 'Backlog', 'Actions'],
        found.results.map((hook, index) => row(hook, stats[index], load)), 'Subscriptions'),
      pager(found, (url) => { path = pagePath(url); load(); }));
  }

  load();
  page.poll(() => {
    if (!list.contains(document.activeElement) && !document.querySelector('dialog[open]')) load();
  });
}

function tally(part) {
  if (!part) return '—';
  return h('span', { title: `${part.delivered} delivered, ${part.failed} failed, ${part.waiting} waiting` },
    `${part.total}\u00a0sent · ${percent(part.success_rate)}`);
}

function row(hook, stats, reload) {
  const state = hook.enabled ? badge('enabled') : badge(`disabled: ${hook.disabled_reason ?? 'manual'}`, 'disabled');
  return h('tr', { 'data-id': hook.id },
    h('td', {},
      h('a', { href: `#/subscriptions/${hook.id}`, class: 'strong' }, hook.name),
      h('div', { class: 'muted small url' }, hook.url),
      h('div', { class: 'small' }, shortId(hook.id), ' ', hook.events.join(', '))),
    h('td', {}, state),
    h('td', {}, tally(stats?.last_hour)),
    h('td', {}, tally(stats?.last_day)),
    h('td', {}, hook.last_sent_at ? h('span', { title: hook.last_sent_at }, ago(hook.last_sent_at)) : 'never'),
    h('td', {}, stats ? h('span', { title: stats.oldest_pending_at ? `oldest ${stats.oldest_pending_at}` : '' },
      String(stats.pending)) : '—'),
    h('td', { class: 'actions' },
      h('a', { class: 'button', href: `#/subscriptions/${hook.id}` }, 'Deliveries'),
      h('button', { type: 'button', onclick: () => edit(hook, reload) }, 'Edit'),
      h('button', { type: 'button', onclick: () => toggle(hook, reload) }, hook.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', onclick: () => rotate(hook, reload) }, 'Rotate secret'),
      h('button', { type: 'button', onclick: () => sendTest(hook, reload), disabled: !hook.enabled }, 'Send test'),
      h('button', { type: 'button', class: 'danger', onclick: () => remove(hook, reload) }, 'Delete')));
}

// The create and edit form, in a dialog; hook is null when creating.
async function edit(hook, reload) {
  const name = h('input', { name: 'name', required: true, maxlength: '255', value: hook?.name ?? '' });
  const url = h('input', { name: 'url', type: 'url', required: true, value: hook?.url ?? '',
    placeholder: 'https://example.org/webhooks' });
  const all = h('input', { type: 'checkbox', name: 'event-all', checked: !hook || hook.events.includes('*') });
  const boxes = EVENTS.map((event) => h('input', { type: 'checkbox', name: `event-${event}`, value: event,
    checked: Boolean(hook?.events.includes(event)) }));
  const resource = h('input', { type: 'checkbox', name: 'include_resource',
    checked: Boolean(hook?.config?.include_resource) });
  const secret = hook ? null : h('input', { name: 'secret', autocomplete: 'off',
    placeholder: 'whsec_… (optional)' });
  const problems = h('p', { class: 'error', role: 'alert' });
  const content = h('div', {},
    field('Name', name),
    field('URL', url, 'Where deliveries are POSTed.'),
    h('fieldset', {}, h('legend', {}, 'Events'),
      h('label', { class: 'check' }, all, ' All events (*)'),
      EVENTS.map((event, index) => h('label', { class: 'check' }, boxes[index], ` ${event}`))),
    h('label', { class: 'check' }, resource, ' Include the whole reputation (config.include_resource)'),
    secret ? field('Secret', secret, 'Leave empty for unsigned deliveries; it can be rotated later.') : null,
    problems);
  for (;;) {
    const pressed = await dialog(hook ? `Edit ${hook.name}` : 'New subscription', content,
      ['Cancel', hook ? 'Save' : 'Create']);
    if (pressed === null || pressed === 'Cancel') return;
    const events = all.checked ? ['*'] : boxes.filter((box) => box.checked).map((box) => box.value);
    const body = { name: name.value, url: url.value, events, config: { include_resource: resource.checked } };
    if (secret && secret.value) body.secret = secret.value;
    try {
      if (hook) await call('PATCH', `/v1/webhooks/${hook.id}`, body);
      else await call('POST', '/v1/webhooks', body);
      reload();
      return;
    } catch (error) {
      problems.textContent = error.message;  // shown when the dialog opens again with what was typed
    }
  }
}

function toggle(hook, reload) {
  return attempt(() => call('PATCH', `/v1/webhooks/${hook.id}`, { enabled: !hook.enabled }),
    hook.enabled ? `${hook.name} disabled.` : `${hook.name} enabled.`).then(reload);
}

async function rotate(hook, reload) {
  const grace = h('select', { name: 'grace' },
    [['0', 'none: stop at once'], ['3600', '1 hour'], ['86400', '24 hours'], ['604800', '7 days']]
      .map(([value, label]) => h('option', { value, selected: value === '86400' }, label)));
  const pressed = await dialog(`Rotate the secret of ${hook.name}`, h('div', {},
    h('p', {}, 'A new secret is made. During the grace period every delivery carries a signature with both, so ',
      'the receiver can switch over without losing a webhook.'),
    field('Old secret keeps signing for', grace)), ['Cancel', 'Rotate']);
  if (pressed !== 'Rotate') return;
  const rotated = await attempt(() => call('POST', `/v1/webhooks/${hook.id}/rotate-secret`,
    { grace_period: Number(grace.value) }));
  if (!rotated) return;
  await dialog('New secret', h('div', {},
    h('p', {}, 'Give this secret to the receiver. ', rotated.previous_secret_expires_at
      ? h('span', {}, 'The old one signs too until ', time(rotated.previous_secret_expires_at), '.')
      : 'The old one no longer signs.'),
    h('pre', { class: 'secret', id: 'new-secret' }, rotated.secret)), ['Done']);
  reload();
}

async function sendTest(hook, reload) {
  const delivery = await attempt(() => call('POST', `/v1/webhooks/${hook.id}/test`),
    `Test event queued for ${hook.name}; its attempt appears in the deliveries.`);
  if (delivery) reload();
}

async function remove(hook, reload) {
  if (!await confirmAction(`Delete ${hook.name}?`,
    'The subscription and its whole delivery log are deleted. This cannot be undone.', 'Delete')) return;
  await attempt(() => call('DELETE', `/v1/webhooks/${hook.id}`), `${hook.name} deleted.`);
  reload();
}

