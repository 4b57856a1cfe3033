// Overview: the last hour of deliveries minute by minute, the queue, and the endpoints that fail most and answer
// slowest. Refreshes itself.
import { call } from '../api.js';
import { deliveriesChart } from '../chart.js';
import { ago, attempt, empty, fill, h, percent, shortId, table } from '../ui.js';

const MINUTES = 60;

export function render(view, _params, page) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview')), body);

  async function load() {
    const found = await attempt(() => call('GET', `/v1/overview?minutes=${MINUTES}`));
    if (!found || page.stopped) return;
    const ids = [...new Set([...found.most_failing, ...found.slowest].map((rank) => rank.webhook))];
    const hooks = await Promise.all(ids.map((id) => call('GET', `/v1/webhooks/${id}`).catch(() => null)));
    const names = new Map(ids.map((id, index) => [id, hooks[index]?.name]));
    if (page.stopped) return;
    const total = found.minutes.reduce((sum, point) => sum + point.total, 0);
    const delivered = found.minutes.reduce((sum, point) => sum + point.delivered, 0);
    const failed = found.minutes.reduce((sum, point) => sum + point.failed, 0);
    fill(body,
      h('div', { class: 'tiles' },
        tile('Deliveries, last hour', String(total)),
        tile('Success rate', percent(delivered + failed ? delivered / (delivered + failed) : null)),
        tile('Queue depth', String(found.pending), 'pending deliveries', 'queue-depth'),
        tile('Oldest pending', found.oldest_pending_at ? ago(found.oldest_pending_at) : 'none')),
      h('section', { class: 'card' }, h('h2', {}, 'Deliveries per minute'),
        total ? deliveriesChart(found.minutes, found.since, MINUTES)
          : empty('No deliveries in the last hour — subscribe an endpoint and scan an account to see traffic.'),
        h('p', { class: 'legend small' }, h('span', { class: 'key key-delivered' }), ' delivered ',
          h('span', { class: 'key key-failed' }), ' failing ', h('span', { class: 'key key-waiting' }), ' waiting ',
          h('span', { class: 'key key-rate' }), ' success rate')),
      h('div', { class: 'columns' },
        h('section', { class: 'card' }, h('h2', {}, 'Most failing endpoints'), ranks(found.most_failing, names,
          (rank) => `${rank.failed} of ${rank.attempts} attempts failed`, 'Nothing failing in the last hour.')),
        h('section', { class: 'card' }, h('h2', {}, 'Slowest endpoints'), ranks(found.slowest, names,
          (rank) => `${rank.mean_duration_ms.toFixed(1)} ms mean over ${rank.attempts} attempts`,
          'No attempts in the last hour.'))));
  }

  load();
  page.poll(load);
}

function tile(label, value, hint, id) {
  return h('div', { class: 'tile card', id }, h('div', { class: 'small muted' }, label),
    h('div', { class: 'tile-value' }, value), hint ? h('div', { class: 'small muted' }, hint) : null);
}

function ranks(list, names, describe, none) {
  if (!list.length) return h('p', { class: 'muted' }, none);
  return table(['Subscription', ''], list.map((rank) => h('tr', {},
    h('td', {}, h('a', { href: `#/subscriptions/${rank.webhook}` }, names.get(rank.webhook) ?? 'deleted'), ' ',
      shortId(rank.webhook)),
    h('td', {}, describe(rank)))));
}
