// One subscription's delivery log: filter by state and time, each delivery's attempts and the exact request,
// resend one, and recover every failed delivery since a time (with its progress).
import { call, pagePath, query } from '../api.js';
import { attempt, badge, empty, field, fill, h, pager, shortId, table, time } from '../ui.js';

export function render(view, [webhookId], page) {
  let path = null;
  const open = new Set();  // deliveries whose details are shown
  const heading = h('h1', {}, 'Deliveries');
  const state = h('select', { name: 'state', id: 'state-filter', onchange: () => restart() },
    [['', 'every state'], ['pending', 'pending'], ['delivered', 'delivered'], ['failed', 'failed']]
      .map(([value, label]) => h('option', { value }, label)));
  const after = h('input', { type: 'datetime-local', name: 'after', id: 'after-filter', onchange: () => restart() });
  const before = h('input', { type: 'datetime-local', name: 'before', id: 'before-filter',
    onchange: () => restart() });
  const since = h('input', { type: 'datetime-local', name: 'since', id: 'recover-since', required: true });
  const progress = h('div', { class: 'progress', hidden: true, role: 'status' });
  const list = h('section', { 'aria-label': 'Deliveries' });

  view.append(
    h('p', {}, h('a', { href: '#/subscriptions' }, '← Subscriptions')),
    h('div', { class: 'page-head' }, heading),
    h('form', { class: 'toolbar', onsubmit: (event) => event.preventDefault() },
      field('State', state), field('Made after', after), field('Made before', before)),
    h('form', { class: 'toolbar', onsubmit: (event) => { event.preventDefault(); recover(); } },
      field('Recover failed deliveries made since', since),
      h('button', { type: 'submit', id: 'recover' }, 'Recover'), progress),
    list);

  call('GET', `/v1/webhooks/${webhookId}`).then((hook) => {
    fill(heading, 'Deliveries of ', hook.name, ' ', hook.enabled ? badge('enabled') : badge('disabled'));
  }).catch((error) => fill(list, empty(error.status === 404 ? 'No such subscription.' : error.message)));

  function firstPage() {
    const iso = (input) => (input.value ? new Date(input.value).toISOString() : undefined);
    return `/v1/webhooks/${webhookId}/deliveries${query({
      limit: 25, state: state.value, created_after: iso(after), created_before: iso(before),
    })}`;
  }

  function restart() {
    path = firstPage();
    load();
  }

  async function load() {
    const found = await attempt(() => call('GET', path));
    if (!found || page.stopped) return;
    const details = await Promise.all(found.results.map((delivery) =>
      (open.has(delivery.id) ? call('GET', `/v1/deliveries/${delivery.id}`).catch(() => null) : null)));
    if (page.stopped) return;
    if (!found.results.length) {
      fill(list, empty(state.value || after.value || before.value
        ? 'No deliveries match these filters.'
        : 'No deliveries yet — trigger a scan on the Accounts page, or send a test event from Subscriptions.'));
      return;
    }
    const rows = [];
    found.results.forEach((delivery, index) => {
      rows.push(summary(delivery));
      if (details[index]) rows.push(detail(details[index]));
    });
    fill(list, table(['Delivery', 'Event', 'State', 'Status', 'Attempts', 'Made', 'Next attempt', ''], rows,
      'Deliveries'), pager(found, (url) => { path = pagePath(url); load(); }));
  }

  function summary(delivery) {
    const shown = open.has(delivery.id);
    return h('tr', { 'data-id': delivery.id, class: `delivery state-${delivery.state}` },
      h('td', {}, shortId(delivery.id)),
      h('td', {}, delivery.event_type),
      h('td', {}, badge(delivery.state)),
      h('td', { class: 'status-code' }, delivery.last_status_code ?? (delivery.last_error ? 'error' : '—')),
      h('td', {}, String(delivery.attempt_count)),
      h('td', {}, time(delivery.created_at)),
      h('td', {}, time(delivery.next_attempt_at)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', 'aria-expanded': String(shown), onclick: () => {
          if (shown) open.delete(delivery.id);
          else open.add(delivery.id);
          load();
        } }, shown ? 'Hide' : 'Details'),
        h('button', { type: 'button', class: 'resend', onclick: async () => {
          if (await attempt(() => call('POST', `/v1/deliveries/${delivery.id}/retry`), 'Resent: due now.')) load();
        } }, 'Resend')));
  }

  function detail(delivery) {
    const attempts = delivery.attempts.length
      ? table(['Time', 'Status', 'Duration', 'Answer or error'], delivery.attempts.map((one) => h('tr', {},
        h('td', {}, time(one.attempted_at)),
        h('td', { class: 'status-code' }, one.status_code ?? 'no answer'),
        h('td', {}, `${one.duration_ms.toFixed(1)} ms`),
        h('td', {}, one.error ? h('span', { class: 'error' }, one.error) : h('pre', { class: 'excerpt' },
          one.response.slice(0, 1024) || '(empty body)')))), 'Attempts')
      : h('p', { class: 'muted' }, 'Not tried yet.');
    const last = delivery.attempts[delivery.attempts.length - 1];
    const headers = last && Object.keys(last.request_headers).length
      ? h('pre', { class: 'headers' }, Object.entries(last.request_headers).map(([name, value]) => `${name}: ${value}\n`))
      : h('p', { class: 'muted' }, 'Sent with each attempt; none recorded yet.');
    return h('tr', { class: 'detail' }, h('td', { colspan: '8' },
      h('h3', {}, 'Attempts'), attempts,
      h('div', { class: 'columns' },
        h('div', {}, h('h3', {}, 'Request headers (last attempt)'), headers),
        h('div', {}, h('h3', {}, 'Request body'), h('pre', { class: 'body' },
          JSON.stringify(delivery.payload, null, 2))))));
  }

  // Re-queues, then follows the subscription's backlog until what was re-queued has been tried again.
  async function recover() {
    if (!since.value) return;
    const before = await call('GET', `/v1/webhooks/${webhookId}/stats`).catch(() => ({ pending: 0 }));
    const answer = await attempt(() => call('POST', `/v1/webhooks/${webhookId}/recover`,
      { since: new Date(since.value).toISOString() }));
    if (!answer) return;
    const total = answer.requeued;
    progress.hidden = false;
    if (!total) {
      fill(progress, 'Nothing to recover: no failed deliveries since then.');
      return;
    }
    const bar = h('progress', { max: String(total), value: '0', 'aria-label': 'Recovered so far' });
    const text = h('span', {}, `0 of ${total} re-sent`);
    fill(progress, bar, ' ', text);
    for (let round = 0; round < 600 && !page.stopped; round += 1) {
      const stats = await call('GET', `/v1/webhooks/${webhookId}/stats`).catch(() => null);
      if (stats) {
        const left = Math.max(0, stats.pending - before.pending);
        const done = Math.min(total, total - Math.min(total, left));
        bar.value = done;
        text.textContent = `${done} of ${total} re-sent`;
        if (done >= total) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    load();
  }

  restart();
  page.poll(() => {
    if (!list.contains(document.activeElement)) load();
  });
}
