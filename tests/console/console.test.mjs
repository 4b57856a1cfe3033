// The operator console end to end in Debian's chromium: the real repute binary, a receiver on loopback, and a
// person's path through the pages — sign in (a wrong key first), create a subscription, scan an account, see the
// delivery arrive and appear in the log, make the receiver fail and see its status code, resend, rotate the secret
// and verify both signatures at the receiver with the standardwebhooks library, disable, sign out. A
// screenshot of each page goes to docs/console/ (REPUTE_SCREENSHOTS=DIR: to DIR instead). Only
// loopback addresses are used; the browser and the server are stopped (by the handles that started them) also
// when a step fails.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { Webhook } from 'standardwebhooks';

import { startRepute } from '../interop/lib/repute.mjs';
import { launch, openPage } from './lib/browser.mjs';
import { startReceiver } from './lib/receiver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.resolve(
  process.env.REPUTE_SCREENSHOTS || path.join(process.env.REPUTE_SOURCE_DIR || path.join(here, '../..'), 'docs/console'),
);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WAIT = { timeout: 15_000 };

let server;
let receiver;
let browser;
let tab;

before(async () => {
  if (shots) mkdirSync(shots, { recursive: true });
  receiver = await startReceiver();
  // Two quick retries, then failed: so that recover has something to re-queue within the test.
  server = await startRepute({ extraArgs: ['--retry-schedule', '1,1', '--retry-time-scale', '0.001'] });
  browser = await launch();
  tab = await openPage(browser);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (receiver) await receiver.close();
});

const shoot = async (name, page = tab.page) => {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
};

// Checks a delivery with the standardwebhooks library, as a receiver built on it would.
function verify(secret, request) {
  const headers = {
    'webhook-id': request.headers['webhook-id'],
    'webhook-timestamp': request.headers['webhook-timestamp'],
    'webhook-signature': request.headers['webhook-signature'],
  };
  return new Webhook(secret).verify(request.body, headers);
}

// Opens a section from the navigation bar.
function section(page, name) {
  return page.locator('header nav').getByRole('link', { name }).click();
}

function rowOf(page, text) {
  return page.locator('tbody tr').filter({ hasText: text }).first();
}

test('the console, from sign-in to sign-out', async (t) => {
  const { page } = tab;
  let hookId;

  await t.test('a wrong key is a clear message, the right one signs in', async () => {
    await page.goto(`${server.baseUrl}/console/`);
    await page.locator('#key-id').fill(server.apiKeyId);
    await page.locator('#key-secret').fill('not the secret');
    await page.keyboard.press('Enter');
    await assert.doesNotReject(page.locator('#signin-error').filter({ hasText: 'not accepted' }).waitFor(WAIT));
    await shoot('sign-in');
    await page.locator('#key-secret').fill(server.apiKeySecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor(WAIT);
    const kept = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
    assert.deepEqual(kept, [1, 0, ''], 'the key is in sessionStorage only');
  });

  await t.test('an empty console says what to do next', async () => {
    await section(page, 'Subscriptions');
    await page.getByText('No subscriptions yet').waitFor(WAIT);
  });

  await t.test('create a subscription', async () => {
    await page.locator('#new-subscription').click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('input[name=name]').fill('Payroll receiver');
    await dialog.locator('input[name=url]').fill(receiver.url('/hooks'));
    await dialog.locator('input[name=secret]').fill(SECRET);
    await dialog.getByRole('button', { name: 'Create' }).click();
    const row = rowOf(page, 'Payroll receiver');
    await row.waitFor(WAIT);
    hookId = await row.getAttribute('data-id');
    assert.match(hookId, /^[0-9a-f-]{36}$/);
    assert.ok(await row.getByText('enabled').isVisible());
  });

  await t.test('a scan makes a delivery that reaches the receiver signed and shows in the log', async () => {
    await section(page, 'Accounts');
    await page.locator('#new-account').click();  // its initial scan emits reputations.added
    const row = page.locator('tbody tr[data-id]').first();
    await row.waitFor(WAIT);
    await row.getByRole('button', { name: 'Periodic scan' }).click();
    await page.getByText('Scan started.').waitFor(WAIT);
    const first = await receiver.waitFor((request) => request.path === '/hooks');
    assert.equal(verify(SECRET, first).event, 'reputations.added');
    await row.getByRole('button', { name: 'Reputation' }).click();
    await page.getByRole('heading', { name: 'Reputation now' }).waitFor(WAIT);
    await page.locator('dl.facts').waitFor(WAIT);
    await shoot('accounts');

    await page.goto(`${server.baseUrl}/console/#/subscriptions/${hookId}`);
    const delivered = rowOf(page, first.headers['webhook-id'].slice(-8));
    await delivered.waitFor(WAIT);
    await delivered.getByText('delivered').waitFor(WAIT);
    assert.equal((await delivered.locator('.status-code').textContent()).trim(), '200');
    await delivered.getByRole('button', { name: 'Details' }).click();
    await page.locator('pre.headers').filter({ hasText: 'webhook-signature: v1,' }).waitFor(WAIT);
    await page.locator('pre.body').filter({ hasText: '"reputations.added"' }).first().waitFor(WAIT);
    await shoot('deliveries');
  });

  await t.test('a failing receiver shows its status code, and resend delivers', async () => {
    receiver.answer(500);
    await section(page, 'Subscriptions');
    await rowOf(page, 'Payroll receiver').getByRole('button', { name: 'Send test' }).click();
    await page.getByText('Test event queued').waitFor(WAIT);
    const failed = await receiver.waitFor((request) => request.status === 500);
    await page.goto(`${server.baseUrl}/console/#/subscriptions/${hookId}`);
    const row = rowOf(page, failed.headers['webhook-id'].slice(-8));
    await row.locator('.status-code', { hasText: '500' }).waitFor(WAIT);
    await shoot('deliveries-failing');

    receiver.answer(200);
    await row.getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Resent: due now.').waitFor(WAIT);
    await receiver.waitFor((request) => request.headers['webhook-id'] === failed.headers['webhook-id'] &&
      request.status === 200);
    // The log refreshes itself.
    await rowOf(page, failed.headers['webhook-id'].slice(-8)).locator('.badge', { hasText: 'delivered' })
      .waitFor({ timeout: 20_000 });
  });

  await t.test('recover re-sends every failed delivery since a time, with its progress', async () => {
    receiver.answer(500);
    await section(page, 'Subscriptions');
    const before = receiver.received.length;
    for (let i = 0; i < 2; i += 1) {
      await rowOf(page, 'Payroll receiver').getByRole('button', { name: 'Send test' }).click();
    }
    await page.goto(`${server.baseUrl}/console/#/subscriptions/${hookId}`);
    await page.locator('#state-filter').selectOption('failed');
    // Each test delivery is tried three times, then given up.
    await page.locator('tbody tr.state-failed').nth(1).waitFor({ timeout: 20_000 });
    assert.ok(receiver.received.length - before >= 6);
    await shoot('deliveries-failed');

    receiver.answer(200);
    await page.evaluate(() => {
      const since = new Date(Date.now() - 10 * 60 * 1000);
      since.setMinutes(since.getMinutes() - since.getTimezoneOffset());
      document.querySelector('#recover-since').value = since.toISOString().slice(0, 16);
    });
    await page.locator('#recover').click();
    await page.getByText('2 of 2 re-sent').waitFor({ timeout: 20_000 });
    await shoot('recover');
    await page.locator('#state-filter').selectOption('');
  });

  await t.test('the keyboard reaches the dialogs, and Escape closes them', async () => {
    await section(page, 'Subscriptions');
    await page.locator('#new-subscription').focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog[open] input[name=name]').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await page.locator('dialog').waitFor({ state: 'detached', ...WAIT });
  });

  await t.test('a rotated secret signs beside the old one', async () => {
    await section(page, 'Subscriptions');
    await rowOf(page, 'Payroll receiver').getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('dialog[open] select[name=grace]').selectOption('3600');
    await page.locator('dialog[open]').getByRole('button', { name: 'Rotate' }).click();
    const fresh = (await page.locator('#new-secret').textContent()).trim();
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, SECRET);
    await shoot('rotate-secret');
    await page.locator('dialog[open]').getByRole('button', { name: 'Done' }).click();

    const before = receiver.received.length;
    await rowOf(page, 'Payroll receiver').getByRole('button', { name: 'Send test' }).click();
    const signed = await receiver.waitFor((request, index) => index >= before && request.path === '/hooks');
    assert.equal(signed.headers['webhook-signature'].split(' ').length, 2, 'two signatures during the grace');
    assert.ok(verify(fresh, signed), 'the new secret verifies');
    assert.ok(verify(SECRET, signed), 'the old secret still verifies');
    await shoot('subscriptions');
  });

  await t.test('events and the overview show what happened', async () => {
    await section(page, 'Events');
    const row = page.locator('tbody tr[data-id]').first();
    await row.waitFor(WAIT);
    await row.getByRole('button', { name: 'Details' }).click();
    await page.getByRole('heading', { name: 'Per subscription' }).waitFor(WAIT);
    await shoot('events');

    await section(page, 'Overview');
    await page.locator('svg.chart rect.bar-delivered').first().waitFor(WAIT);
    await shoot('overview');
  });

  await t.test('a phone-width screen shows the same pages', async () => {
    const phone = await openPage(browser, { width: 390, height: 844 });
    try {
      await phone.page.goto(`${server.baseUrl}/console/`);
      await phone.page.locator('#key-id').fill(server.apiKeyId);
      await phone.page.locator('#key-secret').fill(server.apiKeySecret);
      await phone.page.getByRole('button', { name: 'Sign in' }).click();
      await section(phone.page, 'Subscriptions');
      await rowOf(phone.page, 'Payroll receiver').waitFor(WAIT);
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page does not scroll sideways (${width} px); wide tables scroll inside`);
      await shoot('subscriptions-phone', phone.page);
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.context.close();
    }
  });

  await t.test('disable, then sign out forgets the key', async () => {
    await section(page, 'Subscriptions');
    const row = rowOf(page, 'Payroll receiver');
    await row.getByRole('button', { name: 'Disable' }).click();
    await rowOf(page, 'Payroll receiver').getByText('disabled: manual').waitFor(WAIT);
    const hook = await server.request('GET', `/v1/webhooks/${hookId}`);
    assert.equal(hook.json.enabled, false);

    await page.locator('#sign-out').click();
    await page.locator('#key-id').waitFor(WAIT);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });

  await t.test('everything came from the repute server, without errors', () => {
    const foreign = tab.requests.filter((url) => !url.startsWith(`${server.baseUrl}/`) && !url.startsWith('data:'));
    assert.deepEqual(foreign, []);
    // The wrong key's 401 is the one failed request a browser reports.
    assert.deepEqual(tab.problems.filter((problem) => !problem.includes('401')), []);
  });
});
