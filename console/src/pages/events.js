// Events, newest first: filter by type and account; each with its payload and what became of it at every
// subscription.
import { call, pagePath, query } from '../api.js';
import { attempt, badge, empty, field, fill, h, pager, shortId, table, time } from '../ui.js';

export function render(view, _params, page) {
  let path = null;
  const open = new Set();
  const type = h('select', { name: 'type', id: 'event-type', onchange: () => restart() },
    [['', 'every type'], ['reputations.added', 'reputations.added'], ['reputations.updated', 'reputations.updated']]
      .map(([value, label]) => h('option', { value }, label)));
  const account = h('input', { name: 'account', id: 'event-account', placeholder: 'account id', size: '38',
    pattern: '[0-9a-fA-F-]{36}', onchange: () => restart() });
  const list = h('section', { 'aria-label': 'Events' });
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Events')),
    h('form', { class: 'toolbar', onsubmit: (event) => { event.preventDefault(); restart(); } },
      field('Type', type), field('Account', account)),
    list);

  function restart() {
    path = `/v1/events${query({ limit: 25, type: type.value, account: account.value.trim() })}`;
    load();
  }

  async function load() {
    const found = await attempt(() => call('GET', path));
    if (!found || page.stopped) return;
    const details = await Promise.all(found.results.map((event) =>
      (open.has(event.id) ? call('GET', `/v1/events/${event.id}`).catch(() => null) : null)));
    if (page.stopped) return;
    if (!found.results.length) {
      fill(list, empty(type.value || account.value
        ? 'No events match these filters.'
        : 'No events yet — a scan that finds a new or changed reputation makes one (see Accounts).'));
      return;
    }
    const rows = [];
    found.results.forEach((event, index) => {
      rows.push(h('tr', { 'data-id': event.id },
        h('td', {}, shortId(event.id)),
        h('td', {}, event.event),
        h('td', {}, shortId(event.data.account)),
        h('td', {}, time(event.created_at)),
        h('td', {}, `${event.deliveries.delivered} delivered · ${event.deliveries.pending} pending · `,
          `${event.deliveries.failed} failed`),
        h('td', {}, h('button', { type: 'button', 'aria-expanded': String(open.has(event.id)), onclick: () => {
          if (open.has(event.id)) open.delete(event.id);
          else open.add(event.id);
          load();
        } }, open.has(event.id) ? 'Hide' : 'Details'))));
      if (details[index]) rows.push(detail(details[index]));
    });
    fill(list, table(['Event', 'Type', 'Account', 'Made', 'Deliveries', ''], rows, 'Events'),
      pager(found, (url) => { path = pagePath(url); load(); }));
  }

  restart();
  page.poll(() => {
    if (!list.contains(document.activeElement)) load();
  });
}

function detail(event) {
  const deliveries = event.subscriptions.length
    ? table(['Subscription', 'Delivery', 'State', 'Status', 'Attempts'], event.subscriptions.map((delivery) =>
      h('tr', {},
        h('td', {}, h('a', { href: `#/subscriptions/${delivery.webhook}` }, shortId(delivery.webhook))),
        h('td', {}, shortId(delivery.id)),
        h('td', {}, badge(delivery.state)),
        h('td', {}, delivery.last_status_code ?? '—'),
        h('td', {}, String(delivery.attempt_count)))), 'Deliveries of the event')
    : h('p', { class: 'muted' }, 'No subscription was listening for it.');
  return h('tr', { class: 'detail' }, h('td', { colspan: '6' },
    h('div', { class: 'columns' },
      h('div', {}, h('h3', {}, 'Payload'), h('pre', { class: 'body' }, JSON.stringify(
        { event: event.event, data: event.data }, null, 2))),
      h('div', {}, h('h3', {}, 'Per subscription'), deliveries))));
}
