// Users and accounts: each account's connection and last scan, its reputation now and the events that changed
// it, a periodic scan button, and a quick way to make a sandbox account to try things with.
import { call, pagePath } from '../api.js';
import { attempt, badge, empty, fill, h, pager, shortId, table, time } from '../ui.js';

export function render(view, _params, page) {
  let path = '/v1/accounts?limit=20';
  const open = new Set();
  const list = h('section', { 'aria-label': 'Accounts' });
  view.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Accounts'),
      h('button', { type: 'button', class: 'primary', id: 'new-account', onclick: () => create() },
        'New sandbox account')),
    list);

  async function create() {
    const made = await attempt(async () => {
      const user = await call('POST', '/v1/users', { external_id: `console-${Date.now()}` });
      return call('POST', '/v1/accounts', { user: user.id, employer: 'sandbox' });
    }, 'Sandbox account made; its initial scan runs now.');
    if (made) load();
  }

  async function load() {
    const found = await attempt(() => call('GET', path));
    if (!found || page.stopped) return;
    const details = await Promise.all(found.results.map((account) => (open.has(account.id) ? Promise.all([
      call('GET', `/v1/reputations?account=${account.id}&limit=1`).catch(() => null),
      call('GET', `/v1/events?account=${account.id}&limit=10`).catch(() => null),
    ]) : null)));
    if (page.stopped) return;
    if (!found.results.length) {
      fill(list, empty('No accounts yet — make a sandbox account, or create one with POST /v1/accounts.',
        h('button', { type: 'button', class: 'primary', onclick: () => create() }, 'New sandbox account')));
      return;
    }
    const rows = [];
    found.results.forEach((account, index) => {
      const connection = account.connection.status;
      rows.push(h('tr', { 'data-id': account.id },
        h('td', {}, shortId(account.id), h('div', { class: 'small muted' }, 'user ', shortId(account.user))),
        h('td', {}, account.employer, h('div', { class: 'small muted' }, account.source?.type ?? 'sandbox')),
        h('td', {}, badge(connection, connection === 'connected' ? 'delivered' : connection === 'error' ? 'failed'
          : 'pending'), account.connection.error_message
          ? h('div', { class: 'small error' }, account.connection.error_message) : null),
        h('td', {}, time(account.scanned_at)),
        h('td', {}, account.ongoing_refresh.status === 'enabled'
          ? `every ${Math.round(account.refresh_frequency / 3600)} h` : 'off'),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'scan', onclick: async () => {
            if (await attempt(() => call('POST', `/v1/accounts/${account.id}/periodic-scan`), 'Scan started.')) {
              setTimeout(load, 500);
            }
          } }, 'Periodic scan'),
          h('button', { type: 'button', 'aria-expanded': String(open.has(account.id)), onclick: () => {
            if (open.has(account.id)) open.delete(account.id);
            else open.add(account.id);
            load();
          } }, open.has(account.id) ? 'Hide' : 'Reputation'))));
      if (details[index]) rows.push(detail(details[index]));
    });
    fill(list, table(['Account', 'Employer', 'Connection', 'Last scan', 'Schedule', ''], rows, 'Accounts'),
      pager(found, (url) => { path = pagePath(url); load(); }));
  }

  load();
  page.poll(() => {
    if (!list.contains(document.activeElement)) load();
  });
}

function detail([reputations, events]) {
  const reputation = reputations?.results?.[0];
  const now = reputation
    ? h('dl', { class: 'facts' },
      h('dt', {}, 'Rating'), h('dd', {}, reputation.rating ?? '—'),
      h('dt', {}, 'Acceptance rate'), h('dd', {}, reputation.acceptance_rate ?? '—'),
      h('dt', {}, 'On-time rate'), h('dd', {}, reputation.ontime_rate ?? '—'),
      h('dt', {}, 'Achievements'), h('dd', {}, String(reputation.achievements.length)),
      h('dt', {}, 'Updated'), h('dd', {}, time(reputation.updated_at)))
    : h('p', { class: 'muted' }, 'No reputation yet: the first scan that reads one makes it.');
  const history = events?.results?.length
    ? table(['Event', 'Type', 'When'], events.results.map((event) => h('tr', {},
      h('td', {}, shortId(event.id)), h('td', {}, event.event), h('td', {}, time(event.created_at)))),
    'History of changes')
    : h('p', { class: 'muted' }, 'No changes recorded yet.');
  return h('tr', { class: 'detail' }, h('td', { colspan: '6' }, h('div', { class: 'columns' },
    h('div', {}, h('h3', {}, 'Reputation now'), now),
    h('div', {}, h('h3', {}, 'Scans that changed it'), history, h('p', { class: 'small' },
      h('a', { href: '#/events' }, 'All events'))))));
}

