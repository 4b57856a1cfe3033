// Starts the real repute binary for an interop test, and talks to it over HTTP.
//
//   const server = await startRepute();
//   after(() => server.stop());
//   const res = await server.request('POST', '/v1/webhooks', { json: { ... } });
//
// Each server gets a free loopback port and a fresh SQLite database in its own temporary folder.
// stop() sends SIGTERM to that child's PID only (never anything by name), waits for it to exit,
// SIGKILLs it if it does not, and removes the folder. A child still alive when node exits, or when
// node is stopped by SIGINT, SIGTERM or SIGHUP, is killed (by its PID) too; if node is killed
// outright, the kernel kills the child (setpriv --pdeathsig), though its folder stays behind.
import { spawn, execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const reputeBinary = process.env.REPUTE_BINARY || '/work/main/build/repute';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 200;
const SETPRIV = '/usr/bin/setpriv';

// A TCP port on 127.0.0.1 that nothing listens on right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// One HTTP request. body: a string or Buffer sent as is; json: a value sent as JSON with
// Content-Type application/json (unless headers say otherwise). Resolves to
// { status, headers, text, json } where json is the parsed body or undefined.
export function httpRequest(baseUrl, method, target, { headers = {}, body, json, timeoutMs = 10_000 } = {}) {
  const url = new URL(target, baseUrl);
  const sent = { ...headers };
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    if (!Object.keys(sent).some((name) => name.toLowerCase() === 'content-type')) {
      sent['Content-Type'] = 'application/json';
    }
  }
  if (payload !== undefined) sent['Content-Length'] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: sent, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    // The server may answer (413, say) and close before it has read the whole body: the answer
    // counts, a broken pipe after it does not.
    req.on('error', (error) => {
      if (!req.res) reject(error);
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// The Authorization header value for a key.
export function basicAuth(id, secret) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

// Runs a repute command to the end; resolves to its stdout, or rejects with its stderr.
export function runRepute(args, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(reputeBinary, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`repute ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// The servers this process started and has not stopped yet: PID -> temporary folder.
const liveServers = new Map();

function killLiveServers() {
  for (const [pid, dir] of liveServers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
  liveServers.clear();
}

// A test process stopped by a signal takes its servers with it. When nothing else listens for the
// signal, it is raised again so that the process still ends the way the signal says.
let signalHandlersInstalled = false;
function installSignalHandlers() {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  process.on('exit', killLiveServers);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const handler = () => {
      killLiveServers();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Starts `repute serve --dev` on a free port and a fresh database. extraArgs are appended to the
// command line. Resolves once GET /healthz answers 200.
export async function startRepute({ extraArgs = [], env = {} } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'repute-interop-'));
  const databaseUrl = `sqlite://${dir}/repute.db`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const args = ['serve', '--dev', '--listen', `127.0.0.1:${port}`, '--database', databaseUrl, ...extraArgs];
  // Through setpriv --pdeathsig, the kernel kills the server even when node itself is SIGKILLed.
  const [command, commandArgs] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', reputeBinary, ...args]]
    : [reputeBinary, args];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });

  const logs = [];
  const keep = (line) => {
    logs.push(line);
    if (logs.length > LOG_LINES_KEPT) logs.shift();
  };
  readline.createInterface({ input: child.stderr }).on('line', keep);
  const stdoutLines = readline.createInterface({ input: child.stdout });

  let exited = null;
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  let spawnFailure = null;
  child.on('error', (error) => {
    spawnFailure = error;
  });
  // If the test process ends without stop(), the child must not outlive it.
  installSignalHandlers();
  if (child.pid) liveServers.set(child.pid, dir);

  let stopping = null;
  const stop = () => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (exited === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        let timer;
        const timeout = new Promise((resolve) => {
          timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
        });
        const outcome = await Promise.race([exit, timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout' && exited === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          await exit;
        }
      }
      stdoutLines.close();
      liveServers.delete(child.pid);
      await rm(dir, { recursive: true, force: true });
      return exited;
    })();
    return stopping;
  };

  const describe = () =>
    `repute ${args.join(' ')}${exited ? ` exited (${JSON.stringify(exited)})` : ''}\n` +
    `last log lines:\n${logs.slice(-30).join('\n')}`;

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const keyLine = await new Promise((resolve, reject) => {
      const onLine = (line) => finish(null, line);
      const onClose = () => finish(new Error('stdout closed before the key line'));
      const onExit = () => finish(new Error('the server exited before printing its key'));
      const onError = (error) => finish(error);
      const timer = setTimeout(() => finish(new Error('no key line on stdout in time')), START_TIMEOUT_MS);
      function finish(error, line) {
        clearTimeout(timer);
        stdoutLines.off('line', onLine);
        stdoutLines.off('close', onClose);
        child.off('exit', onExit);
        child.off('error', onError);
        if (error) reject(error);
        else resolve(line);
      }
      if (spawnFailure) return finish(spawnFailure);
      if (exited) return finish(new Error('the server exited before printing its key'));
      stdoutLines.on('line', onLine);
      stdoutLines.on('close', onClose);
      child.on('exit', onExit);
      child.on('error', onError);
    });
    const key = JSON.parse(keyLine);
    if (typeof key.api_key_id !== 'string' || typeof key.api_key_secret !== 'string') {
      throw new Error(`the first stdout line is not a key: ${keyLine}`);
    }

    for (;;) {
      if (exited) throw new Error('the server exited while starting');
      try {
        const res = await httpRequest(baseUrl, 'GET', '/healthz', { timeoutMs: 1000 });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('GET /healthz did not answer 200 in time');
      await sleep(50);
    }

    const authorization = basicAuth(key.api_key_id, key.api_key_secret);
    return {
      baseUrl,
      port,
      pid: child.pid,
      dir,
      databaseUrl,
      apiKeyId: key.api_key_id,
      apiKeySecret: key.api_key_secret,
      authorization,
      // { Authorization: ... }, to spread into request headers.
      authHeader: { Authorization: authorization },
      // A request with the dev key (auth: false for none, or a string for another Authorization).
      request(method, target, { auth = true, headers = {}, ...options } = {}) {
        const sent = { ...headers };
        if (auth === true) sent.Authorization = authorization;
        else if (typeof auth === 'string') sent.Authorization = auth;
        return httpRequest(baseUrl, method, target, { headers: sent, ...options });
      },
      // A key for another tenant on the same database: { api_key_id, api_key_secret, authorization }.
      async createKey(tenant) {
        const out = await runRepute(['keys', 'create', '--tenant', tenant, '--database', databaseUrl]);
        const made = JSON.parse(out.trim().split('\n')[0]);
        return { ...made, authorization: basicAuth(made.api_key_id, made.api_key_secret) };
      },
      // The server's last log lines (stderr), for failure messages.
      logs: () => logs.slice(),
      describe,
      stop,
    };
  } catch (error) {
    const message = `${error.message}\n${describe()}`;
    await stop();
    throw new Error(message);
  }
}
