// The console's shell: sign-in, navigation and the hash router (#/subscriptions, #/subscriptions/<id>, ...).
// Each page is one module whose render(view, params, page) draws it; page.poll(f) refreshes it while shown.
import { onSignedOut, keyId, signedIn, signOut } from './api.js';
import { fill, h } from './ui.js';
import * as accounts from './pages/accounts.js';
import * as deliveries from './pages/deliveries.js';
import * as events from './pages/events.js';
import * as overview from './pages/overview.js';
import * as signin from './pages/signin.js';
import * as subscriptions from './pages/subscriptions.js';

const POLL_MS = 5000;

const ROUTES = [
  { pattern: /^\/overview$/, page: overview, nav: 'overview', title: 'Overview' },
  { pattern: /^\/subscriptions$/, page: subscriptions, nav: 'subscriptions', title: 'Subscriptions' },
  { pattern: /^\/subscriptions\/([0-9a-f-]{36})$/, page: deliveries, nav: 'subscriptions', title: 'Deliveries' },
  { pattern: /^\/events$/, page: events, nav: 'events', title: 'Events' },
  { pattern: /^\/accounts$/, page: accounts, nav: 'accounts', title: 'Accounts' },
];

const NAV = [
  ['overview', 'Overview'],
  ['subscriptions', 'Subscriptions'],
  ['events', 'Events'],
  ['accounts', 'Accounts'],
];

let current = null;  // the shown page's timers, stopped when another is shown

function stopCurrent() {
  if (!current) return;
  for (const timer of current.timers) clearInterval(timer);
  current.stopped = true;
  current = null;
}

function shell(active) {
  const app = document.getElementById('app');
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(app,
    h('a', { class: 'skip', href: '#main', onclick: (event) => { event.preventDefault(); main.focus(); } },
      'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/overview' }, 'repute'),
      h('nav', { 'aria-label': 'Sections' }, h('ul', {}, NAV.map(([name, label]) => h('li', {},
        h('a', { href: `#/${name}`, 'aria-current': name === active ? 'page' : false }, label))))),
      h('div', { class: 'who' },
        h('span', { class: 'muted', title: 'API key id' }, keyId()),
        h('button', { type: 'button', id: 'sign-out', onclick: () => signOut() }, 'Sign out'))),
    h('div', { id: 'messages', 'aria-live': 'polite' }),
    main);
  return main;
}

function show() {
  stopCurrent();
  if (!signedIn()) {
    document.title = 'Sign in · repute';
    fill(document.getElementById('app'), h('div', { id: 'messages', 'aria-live': 'polite' }));
    const view = h('main', { id: 'main', class: 'signin' });
    document.getElementById('app').append(view);
    signin.render(view, [], { poll() {}, done: () => { location.hash = '#/overview'; show(); } });
    return;
  }
  const path = location.hash.replace(/^#/, '') || '/overview';
  const route = ROUTES.find((candidate) => candidate.pattern.test(path));
  if (!route) {
    location.hash = '#/overview';
    return;
  }
  const params = path.match(route.pattern).slice(1);
  document.title = `${route.title} · repute`;
  const view = shell(route.nav);
  const page = {
    timers: [],
    stopped: false,
    // Calls refresh every few seconds while this page is shown and the tab is visible.
    poll(refresh) {
      this.timers.push(setInterval(() => {
        if (!this.stopped && document.visibilityState === 'visible') refresh();
      }, POLL_MS));
    },
  };
  current = page;
  route.page.render(view, params, page);
}

onSignedOut(() => {
  location.hash = '';
  show();
});
window.addEventListener('hashchange', show);
show();
