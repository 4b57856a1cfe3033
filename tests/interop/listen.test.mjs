// `repute listen`, the local receiver for integrators, against signatures made by others: requests signed with the
// npm `standardwebhooks` package's Webhook.sign and node's crypto HMAC-SHA512 pass ("signature ok", 200); tampered
// ones are marked "BAD SIGNATURE" and answered 401. Then the real server delivers an event to it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import readline from 'node:readline';
import { after, before, test } from 'node:test';

import { Webhook as StandardWebhook } from 'standardwebhooks';

import { httpRequest, reputeBinary, startRepute } from './lib/repute.mjs';

const SETPRIV = '/usr/bin/setpriv';
const SECRET = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const BODY = JSON.stringify({
  event: 'reputations.updated',
  name: 'listen-test',
  data: { account: crypto.randomUUID(), user: crypto.randomUUID(), reputation: crypto.randomUUID() },
});

let listener;
let listenUrl;
const lines = [];
const waiters = [];

function startListener() {
  return new Promise((resolve, reject) => {
    const args = ['listen', '--port', '0', '--secret', SECRET];
    // Through setpriv --pdeathsig, the kernel ends the listener even if node itself is killed.
    const [command, commandArgs] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', reputeBinary, ...args]]
      : [reputeBinary, args];
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const wake of waiters.splice(0)) wake();
    });
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      const found = line.match(/receiving webhooks on (http:\/\/[^/]+\/)/);
      if (found) resolve({ child, url: found[1] });
    });
    child.on('exit', (code) => reject(new Error(`repute listen exited (${code})`)));
    setTimeout(() => reject(new Error('repute listen did not start')), 10_000);
  });
}

async function nextLine(containing, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((line) => line.includes(containing));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no output line with ${containing}; got:\n${lines.join('\n')}`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
}

// Headers as a sender built on the Standard Webhooks library and the reference documentation makes them.
function signedHeaders(id, body, { argyleSecret = SECRET, when = new Date() } = {}) {
  return {
    'Content-Type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
    'webhook-signature': new StandardWebhook(SECRET).sign(id, when, body),
    'X-Argyle-Signature': crypto.createHmac('sha512', argyleSecret).update(body).digest('hex'),
  };
}

before(async () => {
  ({ child: listener, url: listenUrl } = await startListener());
});

after(() => {
  listener?.kill('SIGTERM');
});

test('a correctly signed webhook is printed as "signature ok" and answered 200', async () => {
  const res = await httpRequest(listenUrl, 'POST', '/', { headers: signedHeaders('msg_good', BODY), body: BODY });
  assert.equal(res.status, 200);
  const line = await nextLine('msg_good');
  assert.match(line, /^reputations\.updated webhook-id=msg_good account=\S+ user=\S+ reputation=\S+ signature ok$/);
});

test('a tampered body is marked BAD SIGNATURE and answered 401', async () => {
  const headers = signedHeaders('msg_tampered', BODY);
  const res = await httpRequest(listenUrl, 'POST', '/', { headers, body: BODY.replace('updated', 'added') });
  assert.equal(res.status, 401);
  assert.match(await nextLine('msg_tampered'), /BAD SIGNATURE/);
});

test('a wrong X-Argyle-Signature alone is enough to be refused', async () => {
  const headers = signedHeaders('msg_argyle', BODY, { argyleSecret: 'not the secret' });
  const res = await httpRequest(listenUrl, 'POST', '/', { headers, body: BODY });
  assert.equal(res.status, 401);
  assert.match(await nextLine('msg_argyle'), /BAD SIGNATURE \(X-Argyle-Signature/);
});

test('a stale timestamp is refused, as Standard Webhooks receivers do', async () => {
  const headers = signedHeaders('msg_stale', BODY, { when: new Date(Date.now() - 3600_000) });
  const res = await httpRequest(listenUrl, 'POST', '/', { headers, body: BODY });
  assert.equal(res.status, 401);
  assert.match(await nextLine('msg_stale'), /BAD SIGNATURE/);
});

test('the real server delivers to it', async () => {
  const server = await startRepute();
  try {
    const hook = await server.request('POST', '/v1/webhooks', {
      json: { events: ['*'], name: 'to-listen', url: `${listenUrl}hook`, secret: SECRET },
    });
    assert.equal(hook.status, 201, hook.text);
    const user = await server.request('POST', '/v1/users', { json: {} });
    const account = await server.request('POST', '/v1/accounts', { json: { user: user.json.id, employer: 'uber' } });
    assert.equal(account.status, 201, account.text);
    const line = await nextLine(`account=${account.json.id}`);
    assert.match(line, /^reputations\.added webhook-id=[0-9a-f-]{36} .* signature ok$/);
  } finally {
    await server.stop();
  }
});
