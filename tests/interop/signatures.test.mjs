// Webhook signatures against verifiers written by others: real deliveries from the real binary, triggered through
// the API (a sandbox account's initial scan emits reputations.added), received by a plain node HTTP server and
// checked with
//   - the npm `standardwebhooks` package's Webhook.verify, with a whsec_ secret and with a raw secret;
//   - the npm `svix` package's Webhook.verify;
//   - node's crypto, as a receiver following the reference API's documentation writes it (X-Argyle-Signature:
//     lowercase hex HMAC-SHA512 of the raw body, keyed with the secret as given).
// A retried delivery must verify too, under the same webhook-id; a tampered body must not.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

import { startRepute } from './lib/repute.mjs';

const WHSEC_SECRET = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const RAW_SECRET = 'a raw secret: any text, even ü and ✓';
const ASCII_SECRET = 'plain-ascii-raw-secret';

let server;
let receiver;
const received = []; // { path, headers, body (string), raw (Buffer) }
const waiters = [];
let failFirstRetried = true;

function startReceiver() {
  return new Promise((resolve) => {
    const httpServer = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        received.push({ path: req.url, headers: req.headers, body: raw.toString('utf8'), raw });
        for (const wake of waiters.splice(0)) wake();
        // The first attempt at /retried fails, so that a retry is signed and verified too.
        const fail = req.url === '/retried' && failFirstRetried;
        if (fail) failFirstRetried = false;
        res.writeHead(fail ? 500 : 200, { 'Content-Type': 'text/plain' });
        res.end(fail ? 'try again' : 'ok');
      });
    });
    httpServer.listen(0, '127.0.0.1', () => resolve(httpServer));
  });
}

async function waitFor(predicate, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
}

const at = (path) => received.filter((r) => r.path === path);

async function ok(method, target, json) {
  const res = await server.request(method, target, { json });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${target}: ${res.status} ${res.text}`);
  return res.json;
}

// The X-Argyle-Signature a receiver following the reference documentation computes.
function argyleSignature(secret, rawBody) {
  return crypto.createHmac('sha512', secret).update(rawBody).digest('hex');
}

before(async () => {
  receiver = await startReceiver();
  server = await startRepute({ extraArgs: ['--retry-time-scale', '0.001'] });
  const url = (path) => `http://127.0.0.1:${receiver.address().port}${path}`;
  await ok('POST', '/v1/webhooks', { events: ['*'], name: 'whsec', url: url('/whsec'), secret: WHSEC_SECRET });
  await ok('POST', '/v1/webhooks', { events: ['*'], name: 'raw', url: url('/raw'), secret: RAW_SECRET });
  await ok('POST', '/v1/webhooks', { events: ['*'], name: 'ascii', url: url('/ascii'), secret: ASCII_SECRET });
  await ok('POST', '/v1/webhooks', { events: ['*'], name: 'retried', url: url('/retried'), secret: WHSEC_SECRET });
  const user = await ok('POST', '/v1/users', {});
  await ok('POST', '/v1/accounts', { user: user.id, employer: 'uber' });
  await waitFor(
    () => at('/whsec').length >= 1 && at('/raw').length >= 1 && at('/ascii').length >= 1 && at('/retried').length >= 2,
    'deliveries',
  );
});

after(async () => {
  await server?.stop();
  receiver?.close();
});

test('standardwebhooks verifies a whsec_ secret delivery unchanged', () => {
  const [delivery] = at('/whsec');
  const payload = new StandardWebhook(WHSEC_SECRET).verify(delivery.body, delivery.headers);
  assert.equal(payload.event, 'reputations.added');
  assert.equal(payload.name, 'whsec');
  assert.deepEqual(Object.keys(payload.data), ['account', 'user', 'reputation']);
  assert.deepEqual(payload, JSON.parse(delivery.body));
});

test('standardwebhooks verifies a raw secret delivery', () => {
  // The key is the secret's UTF-8 bytes. (The library's string form of a raw key takes one byte per UTF-16 unit,
  // which only equals UTF-8 for ASCII secrets; both forms are checked.)
  const [delivery] = at('/raw');
  const key = new TextEncoder().encode(RAW_SECRET);
  assert.equal(new StandardWebhook(key, { format: 'raw' }).verify(delivery.body, delivery.headers).name, 'raw');
  const [ascii] = at('/ascii');
  assert.equal(new StandardWebhook(ASCII_SECRET, { format: 'raw' }).verify(ascii.raw, ascii.headers).name, 'ascii');
});

test('svix verifies the delivery', () => {
  const [delivery] = at('/whsec');
  const payload = new SvixWebhook(WHSEC_SECRET).verify(delivery.body, delivery.headers);
  assert.equal(payload.event, 'reputations.added');
});

test('node crypto HMAC-SHA512 matches X-Argyle-Signature, for any secret', () => {
  for (const [path, secret] of [['/whsec', WHSEC_SECRET], ['/raw', RAW_SECRET], ['/ascii', ASCII_SECRET]]) {
    const [delivery] = at(path);
    const expected = argyleSignature(secret, delivery.raw);
    assert.match(delivery.headers['x-argyle-signature'], /^[0-9a-f]{128}$/);
    assert.ok(
      crypto.timingSafeEqual(Buffer.from(delivery.headers['x-argyle-signature']), Buffer.from(expected)),
      `${path}: X-Argyle-Signature does not match`,
    );
  }
});

test('every attempt of a retried delivery verifies, under one webhook-id', () => {
  const attempts = at('/retried');
  assert.ok(attempts.length >= 2);
  const verifier = new StandardWebhook(WHSEC_SECRET);
  for (const attempt of attempts) {
    verifier.verify(attempt.body, attempt.headers);
    new SvixWebhook(WHSEC_SECRET).verify(attempt.body, attempt.headers);
    assert.equal(attempt.headers['x-argyle-signature'], argyleSignature(WHSEC_SECRET, attempt.raw));
    assert.equal(attempt.headers['webhook-id'], attempts[0].headers['webhook-id']);
    assert.equal(attempt.body, attempts[0].body);
  }
});

test('a tampered body or another secret does not verify', () => {
  const [delivery] = at('/whsec');
  const tampered = delivery.body.replace('reputations.added', 'reputations.updated');
  assert.throws(() => new StandardWebhook(WHSEC_SECRET).verify(tampered, delivery.headers));
  assert.throws(() => new SvixWebhook(WHSEC_SECRET).verify(tampered, delivery.headers));
  const otherSecret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  assert.throws(() => new StandardWebhook(otherSecret).verify(delivery.body, delivery.headers));
  assert.notEqual(delivery.headers['x-argyle-signature'], argyleSignature(RAW_SECRET, delivery.raw));
});
