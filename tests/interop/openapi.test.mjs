// docs/openapi.yaml against tools written by others and against the real server:
// 1. Redocly CLI lints it (tests/interop/redocly.yaml says which rules, and why).
// 2. Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses) compiles every schema in strict mode.
// 3. The real binary answers the requests in CASES; each answer's status must be documented for
//    its operation, and its headers and body must match what the document says.
// To check a new route, add its requests to CASES.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

import { basicAuth, startRepute } from './lib/repute.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const specPath = path.resolve(here, '../../docs/openapi.yaml');
// Read once; a document that does not even parse fails every test but the lint, which says why.
let spec = { paths: {}, components: { schemas: {} }, webhooks: {} };
let specError = null;
try {
  spec = YAML.parse(readFileSync(specPath, 'utf8'));
} catch (error) {
  specError = error;
}

// ---------------------------------------------------------------------------------------------
// The document, read as a test reads it.

const SCHEMAS_ID = 'https://repute.invalid/openapi/components/schemas';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// The value at a local JSON pointer ("#/components/responses/NotFound").
function pointer(ref) {
  assert.ok(ref.startsWith('#/'), `only local references are supported: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((node, part) => {
      assert.ok(node && part in node, `dangling reference ${ref}`);
      return node[part];
    }, spec);
}

// A response, header or parameter object with its $ref (if any) followed.
function deref(node) {
  let seen = 0;
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    assert.ok(++seen < 20, 'reference cycle');
    node = pointer(node.$ref);
  }
  return node;
}

// A copy of a schema whose component references point into the schema document Ajv holds.
function forAjv(schema) {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      copy[key] = `${SCHEMAS_ID}#/$defs/${value.slice('#/components/schemas/'.length)}`;
    } else {
      copy[key] = forAjv(value);
    }
  }
  return copy;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: SCHEMAS_ID, $defs: forAjv(spec.components?.schemas ?? {}) });

const compiled = new Map();
// The compiled validator of a schema found at `where` (for messages and caching).
function validatorFor(schema, where) {
  if (!compiled.has(where)) compiled.set(where, ajv.compile(forAjv(schema)));
  return compiled.get(where);
}

// "POST /v1/webhooks" -> the operation object.
function operation(key) {
  const [method, template] = key.split(' ');
  const item = spec.paths[template];
  assert.ok(item, `${template} is not in docs/openapi.yaml`);
  const op = item[method.toLowerCase()];
  assert.ok(op, `${key} is not in docs/openapi.yaml`);
  return op;
}

// The documented response of an operation (or of an x-...-response extension) for a status.
function documentedResponse(where, status) {
  if (where.startsWith('x-')) {
    const response = deref(spec[where]);
    assert.ok(response, `docs/openapi.yaml has no ${where}`);
    return { response, at: `${where}` };
  }
  const responses = operation(where).responses;
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
    if (responses[key]) return { response: deref(responses[key]), at: `${where} ${key}` };
  }
  assert.fail(`${where} answered ${status}, which docs/openapi.yaml does not document for it`);
}

const shown = (value) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
};

// Asserts that an HTTP answer is what the document says `where` answers with that status.
function assertConforms(res, where) {
  const { response, at } = documentedResponse(where, res.status);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const definition = deref(header);
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) {
      assert.ok(!definition.required, `${at}: header ${name} is required but absent`);
      continue;
    }
    if (definition.schema) {
      const validate = validatorFor(definition.schema, `${at} header ${name}`);
      assert.ok(validate(value), `${at}: header ${name}: ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  const content = response.content;
  if (!content) {
    assert.equal(res.text, '', `${at}: documented without a body, but the answer has one: ${shown(res.text)}`);
    return;
  }
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const media = content[mediaType];
  assert.ok(media, `${at}: Content-Type ${JSON.stringify(mediaType)} is not one of ${Object.keys(content).join(', ')}`);
  if (!media.schema) return;
  let body = res.text;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    assert.ok(res.json !== undefined, `${at}: the body is not JSON: ${shown(res.text)}`);
    body = res.json;
  }
  const validate = validatorFor(media.schema, `${at} ${mediaType}`);
  assert.ok(
    validate(body),
    `${at}: the body does not match the schema:\n  ${ajv.errorsText(validate.errors, { separator: '\n  ' })}\nbody: ${shown(body)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// What the server is asked, and what it must answer.
//
// A case: { name, operation: 'METHOD /template' or answer: 'x-unlisted-method-response' with
// method, path; path: string or (state) => string (default: the template); auth: true (the dev
// key), false (none), or a header value, or (state) => one of those; json / body / headers as
// lib/repute.mjs's request takes (json may be a function of state); status: the expected
// status; setup(ctx) before the request; check(res, state, ctx) after it has been found
// conformant }. Cases run in order and share `state`.

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const HOOK_URL = 'http://127.0.0.1:9/hooks/repute';
const JSON_TYPE = { 'Content-Type': 'application/json' };

const fieldsOf = (res) => Object.keys(res.json).sort();
const webhookPath = (state) => `/v1/webhooks/${state.webhook.id}`;
const target = (link) => {
  const url = new URL(link);
  return url.pathname + url.search;
};

const CASES = [
  // --- Operations ----------------------------------------------------------------------------
  { name: 'liveness', operation: 'GET /healthz', auth: false, status: 200 },
  { name: 'readiness', operation: 'GET /readyz', auth: false, status: 200 },
  {
    name: 'metrics in Prometheus text format',
    operation: 'GET /metrics',
    auth: false,
    status: 200,
    check: (res) => assert.match(res.text, /^repute_http_requests_total\{/m),
  },

  // --- Creating subscriptions ----------------------------------------------------------------
  {
    name: 'create with the required fields',
    operation: 'POST /v1/webhooks',
    json: { events: ['reputations.added'], name: 'interop: added', url: HOOK_URL },
    status: 201,
    check: (res, state) => {
      const hook = res.json;
      assert.deepEqual(hook.events, ['reputations.added']);
      assert.equal(hook.name, 'interop: added');
      assert.equal(hook.url, HOOK_URL);
      assert.equal(hook.secret, null);
      assert.deepEqual(hook.config, { include_resource: false });
      assert.equal(hook.enabled, true);
      assert.equal(hook.disabled_reason, null);
      assert.equal(hook.last_sent_at, null);
      assert.equal(hook.created_at, hook.updated_at);
      state.webhook = hook;
    },
  },
  {
    name: 'create with every field',
    operation: 'POST /v1/webhooks',
    json: {
      events: ['*'],
      name: 'interop: everything',
      url: 'https://127.0.0.1:8443/path?q=1',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      config: { include_resource: true },
    },
    status: 201,
    check: (res, state) => {
      assert.deepEqual(res.json.events, ['*']);
      assert.equal(res.json.secret, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      assert.deepEqual(res.json.config, { include_resource: true });
      state.second = res.json;
    },
  },
  {
    name: 'validation errors are keyed by field',
    operation: 'POST /v1/webhooks',
    json: { events: 'reputations.added', name: '', url: 'ftp://example.org/', secret: 7, config: { nope: 1 }, extra: 1 },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['config', 'events', 'extra', 'name', 'secret', 'url']),
  },
  {
    name: 'missing required fields',
    operation: 'POST /v1/webhooks',
    json: {},
    status: 400,
    check: (res) => {
      assert.deepEqual(fieldsOf(res), ['events', 'name', 'url']);
      for (const messages of Object.values(res.json)) assert.deepEqual(messages, ['This field is required.']);
    },
  },
  {
    name: 'an unknown event name',
    operation: 'POST /v1/webhooks',
    json: { events: ['reputations.deleted'], name: 'x', url: HOOK_URL },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['events']),
  },
  {
    name: 'an empty events list',
    operation: 'POST /v1/webhooks',
    json: { events: [], name: 'x', url: HOOK_URL },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['events']),
  },
  {
    name: 'a literal private address (SSRF guard)',
    operation: 'POST /v1/webhooks',
    json: { events: ['*'], name: 'x', url: 'http://10.0.0.1/hook' },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['url']),
  },
  {
    name: 'a name over 255 characters',
    operation: 'POST /v1/webhooks',
    json: { events: ['*'], name: 'n'.repeat(256), url: HOOK_URL },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['name']),
  },
  {
    name: '`enabled` is not a creation field',
    operation: 'POST /v1/webhooks',
    json: { events: ['*'], name: 'x', url: HOOK_URL, enabled: false },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['enabled']),
  },
  {
    name: 'malformed JSON',
    operation: 'POST /v1/webhooks',
    headers: JSON_TYPE,
    body: '{"events": ["*"], "name": ',
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['detail']),
  },
  {
    name: 'a repeated key',
    operation: 'POST /v1/webhooks',
    headers: JSON_TYPE,
    body: '{"events": ["*"], "name": "a", "name": "b", "url": "http://127.0.0.1:9/"}',
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['detail']),
  },
  {
    name: 'a body that is not an object',
    operation: 'POST /v1/webhooks',
    json: [{ events: ['*'] }],
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['non_field_errors']),
  },
  {
    name: 'a body that is not JSON',
    operation: 'POST /v1/webhooks',
    headers: { 'Content-Type': 'text/plain' },
    body: 'events=*',
    status: 415,
  },
  {
    name: 'a body over 1 MiB',
    operation: 'POST /v1/webhooks',
    headers: JSON_TYPE,
    body: JSON.stringify({ events: ['*'], name: 'x'.repeat(1024 * 1024 + 10), url: HOOK_URL }),
    status: 413,
  },
  {
    name: 'no credentials',
    operation: 'POST /v1/webhooks',
    auth: false,
    json: { events: ['*'], name: 'x', url: HOOK_URL },
    status: 401,
  },

  // --- Reading -------------------------------------------------------------------------------
  {
    name: 'list',
    operation: 'GET /v1/webhooks',
    status: 200,
    check: (res, state) => {
      const ids = res.json.results.map((hook) => hook.id);
      assert.deepEqual(ids, [state.second.id, state.webhook.id], 'newest first');
    },
  },
  {
    name: 'pages: default limit 10, next and previous neither skip nor repeat',
    operation: 'GET /v1/webhooks',
    path: '/v1/webhooks',
    setup: async ({ server, state }) => {
      state.all = [state.second.id, state.webhook.id];
      for (let i = 0; i < 11; i += 1) {
        const res = await server.request('POST', '/v1/webhooks', {
          json: { events: ['reputations.updated'], name: `interop: page ${i}`, url: HOOK_URL },
        });
        assert.equal(res.status, 201, res.text);
        state.all.unshift(res.json.id);
      }
    },
    status: 200,
    check: async (res, state, { get }) => {
      assert.equal(res.json.results.length, 10, 'default page size');
      assert.equal(res.json.previous, null);
      assert.ok(res.json.next);
      const forward = [];
      let page = await get('/v1/webhooks?limit=4');
      const pages = [page];
      forward.push(...page.json.results.map((hook) => hook.id));
      while (page.json.next) {
        page = await get(target(page.json.next));
        assert.ok(page.json.previous, 'a later page links back');
        pages.push(page);
        forward.push(...page.json.results.map((hook) => hook.id));
      }
      assert.deepEqual(forward, state.all);
      const backward = [...page.json.results.map((hook) => hook.id)];
      while (page.json.previous) {
        page = await get(target(page.json.previous));
        backward.unshift(...page.json.results.map((hook) => hook.id));
      }
      assert.deepEqual(backward, state.all);
    },
  },
  { name: 'limit below 1', operation: 'GET /v1/webhooks', path: '/v1/webhooks?limit=0', status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['limit']) },
  { name: 'limit above 200', operation: 'GET /v1/webhooks', path: '/v1/webhooks?limit=201', status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['limit']) },
  { name: 'a cursor this server did not make', operation: 'GET /v1/webhooks', path: '/v1/webhooks?cursor=bm9wZQ', status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['cursor']) },
  { name: 'list without credentials', operation: 'GET /v1/webhooks', auth: false, status: 401 },
  { name: 'list with a wrong secret', operation: 'GET /v1/webhooks', status: 401,
    auth: (state) => basicAuth(state.server.apiKeyId, 'not-the-secret') },
  { name: 'list with an unknown key', operation: 'GET /v1/webhooks', status: 401,
    auth: basicAuth(UNKNOWN_ID, 'secret') },
  { name: 'list with a Bearer token', operation: 'GET /v1/webhooks', status: 401, auth: 'Bearer abc' },
  {
    name: 'retrieve',
    operation: 'GET /v1/webhooks/{id}',
    path: webhookPath,
    status: 200,
    check: (res, state) => assert.deepEqual(res.json, state.webhook),
  },
  { name: 'retrieve an unknown id', operation: 'GET /v1/webhooks/{id}', path: `/v1/webhooks/${UNKNOWN_ID}`, status: 404 },
  { name: 'retrieve an id that is not a UUID', operation: 'GET /v1/webhooks/{id}', path: '/v1/webhooks/not-a-uuid', status: 404 },
  { name: 'retrieve without credentials', operation: 'GET /v1/webhooks/{id}', path: webhookPath, auth: false, status: 401 },
  {
    name: "another tenant's subscription is not found",
    operation: 'GET /v1/webhooks/{id}',
    path: webhookPath,
    auth: (state) => state.otherTenant.authorization,
    status: 404,
  },
  {
    name: "another tenant's list is empty",
    operation: 'GET /v1/webhooks',
    auth: (state) => state.otherTenant.authorization,
    status: 200,
    check: (res) => assert.deepEqual(res.json.results, []),
  },

  // --- Changing ------------------------------------------------------------------------------
  {
    name: 'disable',
    operation: 'PATCH /v1/webhooks/{id}',
    path: webhookPath,
    json: { enabled: false },
    status: 200,
    check: (res, state) => {
      assert.equal(res.json.enabled, false);
      assert.equal(res.json.disabled_reason, 'manual');
      assert.equal(res.json.created_at, state.webhook.created_at);
      assert.ok(res.json.updated_at > state.webhook.updated_at, 'updated_at moves on');
    },
  },
  {
    name: 'change every field and re-enable',
    operation: 'PATCH /v1/webhooks/{id}',
    path: webhookPath,
    json: {
      events: ['reputations.added', 'reputations.updated'],
      name: 'interop: renamed',
      url: 'http://127.0.0.1:9/other',
      secret: 'a-secret',
      config: { include_resource: true },
      enabled: true,
    },
    status: 200,
    check: (res, state) => {
      assert.deepEqual(res.json.events, ['reputations.added', 'reputations.updated']);
      assert.equal(res.json.name, 'interop: renamed');
      assert.equal(res.json.url, 'http://127.0.0.1:9/other');
      assert.equal(res.json.secret, 'a-secret');
      assert.deepEqual(res.json.config, { include_resource: true });
      assert.equal(res.json.enabled, true);
      assert.equal(res.json.disabled_reason, null);
      state.webhook = res.json;
    },
  },
  {
    name: 'remove the secret',
    operation: 'PATCH /v1/webhooks/{id}',
    path: webhookPath,
    json: { secret: null },
    status: 200,
    check: (res, state) => {
      assert.equal(res.json.secret, null);
      assert.equal(res.json.name, state.webhook.name, 'fields not given stay');
    },
  },
  {
    name: 'change with bad values',
    operation: 'PATCH /v1/webhooks/{id}',
    path: webhookPath,
    json: { enabled: 'no', name: '   ', url: 'http://', unknown: true },
    status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['enabled', 'name', 'unknown', 'url']),
  },
  { name: 'change an unknown id', operation: 'PATCH /v1/webhooks/{id}', path: `/v1/webhooks/${UNKNOWN_ID}`,
    json: { name: 'x' }, status: 404 },
  { name: 'change with a body that is not JSON', operation: 'PATCH /v1/webhooks/{id}', path: webhookPath,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=x', status: 415 },
  {
    name: "change another tenant's subscription",
    operation: 'PATCH /v1/webhooks/{id}',
    path: webhookPath,
    auth: (state) => state.otherTenant.authorization,
    json: { enabled: false },
    status: 404,
  },

  // --- Routes and methods that do not exist --------------------------------------------------
  { name: 'PUT on the collection', answer: 'x-unlisted-method-response', method: 'PUT', path: '/v1/webhooks',
    json: {}, status: 405, check: (res) => assert.deepEqual(res.headers.allow.split(', ').sort(), ['GET', 'POST']) },
  { name: 'POST on an item', answer: 'x-unlisted-method-response', method: 'POST', path: webhookPath,
    json: {}, status: 405, check: (res) => assert.deepEqual(res.headers.allow.split(', ').sort(), ['DELETE', 'GET', 'PATCH']) },
  { name: 'POST on /healthz', answer: 'x-unlisted-method-response', method: 'POST', path: '/healthz', auth: false, status: 405 },
  { name: 'an unknown route', answer: 'x-unknown-path-response', method: 'GET', path: '/v1/nothing-here', status: 404 },
  { name: 'an unknown route without credentials', answer: 'x-unknown-path-response', method: 'GET', path: '/v2/webhooks',
    auth: false, status: 404 },

  // --- Deleting ------------------------------------------------------------------------------
  { name: "delete another tenant's subscription", operation: 'DELETE /v1/webhooks/{id}', path: webhookPath,
    auth: (state) => state.otherTenant.authorization, status: 404 },
  { name: 'delete without credentials', operation: 'DELETE /v1/webhooks/{id}', path: webhookPath, auth: false, status: 401 },
  { name: 'delete', operation: 'DELETE /v1/webhooks/{id}', path: webhookPath, status: 204 },
  { name: 'a deleted subscription is gone', operation: 'GET /v1/webhooks/{id}', path: webhookPath, status: 404 },
  { name: 'delete it again', operation: 'DELETE /v1/webhooks/{id}', path: webhookPath, status: 404 },

  // --- Users ---------------------------------------------------------------------------------
  {
    name: 'create a user',
    operation: 'POST /v1/users',
    json: { external_id: 'worker-4217', metadata: { team: 'north' } },
    status: 201,
    check: (res, state) => {
      assert.equal(res.json.external_id, 'worker-4217');
      assert.deepEqual(res.json.metadata, { team: 'north' });
      state.user = res.json;
    },
  },
  {
    name: 'create a user with no fields',
    operation: 'POST /v1/users',
    json: {},
    status: 201,
    check: (res) => {
      assert.equal(res.json.external_id, null);
      assert.deepEqual(res.json.metadata, {});
    },
  },
  { name: 'create a user with bad fields', operation: 'POST /v1/users', json: { external_id: 5, metadata: [], extra: 1 },
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['external_id', 'extra', 'metadata']) },
  { name: 'create a user without credentials', operation: 'POST /v1/users', auth: false, json: {}, status: 401 },
  { name: 'list users', operation: 'GET /v1/users', status: 200,
    check: (res, state) => assert.ok(res.json.results.some((user) => user.id === state.user.id)) },
  { name: 'retrieve a user', operation: 'GET /v1/users/{id}', path: (state) => `/v1/users/${state.user.id}`, status: 200,
    check: (res, state) => assert.deepEqual(res.json, state.user) },
  { name: 'retrieve an unknown user', operation: 'GET /v1/users/{id}', path: `/v1/users/${UNKNOWN_ID}`, status: 404 },
  { name: "another tenant's user is not found", operation: 'GET /v1/users/{id}',
    path: (state) => `/v1/users/${state.user.id}`, auth: (state) => state.otherTenant.authorization, status: 404 },

  // --- Accounts ------------------------------------------------------------------------------
  {
    name: 'create a sandbox account',
    operation: 'POST /v1/accounts',
    json: (state) => ({ user: state.user.id, employer: 'uber' }),
    status: 201,
    check: (res, state) => {
      assert.equal(res.json.user, state.user.id);
      assert.equal(res.json.source.type, 'sandbox');
      assert.equal(res.json.refresh_frequency, 21600);
      assert.deepEqual(res.json.ongoing_refresh, { status: 'enabled' });
      state.account = res.json;
    },
  },
  {
    name: 'create a push account',
    operation: 'POST /v1/accounts',
    json: (state) => ({ user: state.user.id, employer: 'lyft', source: { type: 'push' }, refresh_frequency: 3600 }),
    status: 201,
    check: (res, state) => {
      assert.deepEqual(res.json.source, { type: 'push' });
      state.pushAccount = res.json;
    },
  },
  { name: 'create an account with bad fields', operation: 'POST /v1/accounts',
    json: (state) => ({ user: state.user.id, employer: ' ', source: { type: 'http' }, refresh_frequency: 0 }),
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['employer', 'refresh_frequency', 'source']) },
  { name: 'create an account without its required fields', operation: 'POST /v1/accounts', json: {}, status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['employer', 'user']) },
  { name: "create an account for another tenant's user", operation: 'POST /v1/accounts',
    json: (state) => ({ user: state.user.id, employer: 'uber' }), auth: (state) => state.otherTenant.authorization,
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['user']) },
  {
    name: 'an account after its initial scan',
    operation: 'GET /v1/accounts/{id}',
    path: (state) => `/v1/accounts/${state.account.id}`,
    setup: async ({ server, state }) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const res = await server.request('GET', `/v1/accounts/${state.account.id}`);
        if (res.json?.connection?.status !== 'connecting' || Date.now() > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    status: 200,
    check: (res) => {
      assert.equal(res.json.connection.status, 'connected');
      assert.ok(res.json.scanned_at);
    },
  },
  { name: 'list accounts of a user', operation: 'GET /v1/accounts', path: (state) => `/v1/accounts?user=${state.user.id}`,
    status: 200, check: (res, state) => assert.deepEqual(res.json.results.map((account) => account.id),
      [state.pushAccount.id, state.account.id]) },
  { name: 'list accounts of a user that is not a UUID', operation: 'GET /v1/accounts', path: '/v1/accounts?user=nope',
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['user']) },
  { name: 'list accounts without credentials', operation: 'GET /v1/accounts', auth: false, status: 401 },
  { name: 'stop periodic scans', operation: 'PATCH /v1/accounts/{id}', path: (state) => `/v1/accounts/${state.account.id}`,
    json: { ongoing_refresh: { status: 'disabled' }, refresh_frequency: 3600 }, status: 200,
    check: (res) => {
      assert.deepEqual(res.json.ongoing_refresh, { status: 'disabled' });
      assert.equal(res.json.refresh_frequency, 3600);
    } },
  { name: 'restart periodic scans (status alone)', operation: 'PATCH /v1/accounts/{id}',
    path: (state) => `/v1/accounts/${state.account.id}`, json: { ongoing_refresh: 'enabled' }, status: 200,
    check: (res) => assert.deepEqual(res.json.ongoing_refresh, { status: 'enabled' }) },
  { name: 'change what cannot be changed', operation: 'PATCH /v1/accounts/{id}',
    path: (state) => `/v1/accounts/${state.account.id}`, json: { employer: 'doordash' }, status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['employer']) },
  { name: 'change an unknown account', operation: 'PATCH /v1/accounts/{id}', path: `/v1/accounts/${UNKNOWN_ID}`,
    json: { refresh_frequency: 60 }, status: 404 },
  { name: 'scan a sandbox account now', operation: 'POST /v1/accounts/{id}/periodic-scan',
    path: (state) => `/v1/accounts/${state.account.id}/periodic-scan`, status: 202,
    check: (res, state) => assert.equal(res.json.id, state.account.id) },
  { name: 'a push account is not scanned by repute', operation: 'POST /v1/accounts/{id}/periodic-scan',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/periodic-scan`, status: 409 },
  { name: 'scan an unknown account', operation: 'POST /v1/accounts/{id}/periodic-scan',
    path: `/v1/accounts/${UNKNOWN_ID}/periodic-scan`, status: 404 },
  {
    name: 'the first pushed result adds the reputation',
    operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/scans`,
    json: { rating: 4.5, acceptance_rate: '0.9', ontime_rate: null, achievements: [{ label: 'Top rated', count: 2 }] },
    status: 200,
    check: (res, state) => {
      assert.equal(res.json.event, 'reputations.added');
      assert.equal(res.json.reputation.rating, '4.5');
      assert.equal(res.json.reputation.acceptance_rate, '0.9');
      assert.equal(res.json.reputation.ontime_rate, null);
      state.pushEventId = res.json.event_id;
      state.pushReputation = res.json.reputation;
    },
  },
  { name: 'the same result again changes nothing', operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/scans`,
    json: { rating: '4.50', acceptance_rate: 0.9, achievements: [{ label: 'Top rated', count: 2 }] }, status: 200,
    check: (res) => {
      assert.equal(res.json.event, null);
      assert.equal(res.json.event_id, null);
    } },
  { name: 'a different result updates it', operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/scans`, json: { rating: 4.6, acceptance_rate: 0.9 }, status: 200,
    check: (res, state) => {
      assert.equal(res.json.event, 'reputations.updated');
      assert.equal(res.json.reputation.id, state.pushReputation.id);
    } },
  { name: 'a result out of range', operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/scans`, json: { rating: 7, ontime_rate: '-0.1', extra: 1 },
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['extra', 'ontime_rate', 'rating']) },
  { name: 'a result for a sandbox account', operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.account.id}/scans`, json: { rating: 4 }, status: 409 },
  { name: 'a result that is not JSON', operation: 'POST /v1/accounts/{id}/scans',
    path: (state) => `/v1/accounts/${state.pushAccount.id}/scans`, headers: { 'Content-Type': 'text/csv' },
    body: 'rating\n4', status: 415 },

  // --- Reputations and events ----------------------------------------------------------------
  { name: "an account's reputation", operation: 'GET /v1/reputations',
    path: (state) => `/v1/reputations?account=${state.account.id}`, status: 200,
    check: (res, state) => {
      assert.equal(res.json.results.length, 1);
      assert.equal(res.json.results[0].account, state.account.id);
      state.reputation = res.json.results[0];
    } },
  { name: "a user's reputations", operation: 'GET /v1/reputations', path: (state) => `/v1/reputations?user=${state.user.id}`,
    status: 200, check: (res) => assert.equal(res.json.results.length, 2) },
  { name: 'reputations of an account that is not a UUID', operation: 'GET /v1/reputations',
    path: '/v1/reputations?account=nope', status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['account']) },
  { name: "another tenant's reputations", operation: 'GET /v1/reputations', auth: (state) => state.otherTenant.authorization,
    status: 200, check: (res) => assert.deepEqual(res.json.results, []) },
  { name: 'retrieve a reputation', operation: 'GET /v1/reputations/{id}',
    path: (state) => `/v1/reputations/${state.reputation.id}`, status: 200,
    check: (res, state) => assert.equal(res.json.id, state.reputation.id) },
  { name: 'retrieve an unknown reputation', operation: 'GET /v1/reputations/{id}', path: `/v1/reputations/${UNKNOWN_ID}`,
    status: 404 },
  { name: 'list events', operation: 'GET /v1/events', status: 200,
    check: (res, state) => assert.ok(res.json.results.some((event) => event.id === state.pushEventId)) },
  { name: 'retrieve an event', operation: 'GET /v1/events/{id}', path: (state) => `/v1/events/${state.pushEventId}`,
    status: 200, check: (res, state) => {
      assert.equal(res.json.event, 'reputations.added');
      assert.deepEqual(res.json.data, {
        account: state.pushAccount.id, user: state.user.id, reputation: state.pushReputation.id,
      });
    } },
  { name: "another tenant's event", operation: 'GET /v1/events/{id}', path: (state) => `/v1/events/${state.pushEventId}`,
    auth: (state) => state.otherTenant.authorization, status: 404 },
  { name: 'events without credentials', operation: 'GET /v1/events', auth: false, status: 401 },

  // --- The delivery log ----------------------------------------------------------------------
  {
    name: "a subscription's deliveries",
    operation: 'GET /v1/webhooks/{id}/deliveries',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/deliveries`,
    setup: async ({ server, state }) => {
      // A subscription whose receiver refuses connections, and an event for it: its delivery is tried and fails.
      const hook = await server.request('POST', '/v1/webhooks', {
        json: { events: ['*'], name: 'interop: deliveries', url: HOOK_URL, secret: 's3cret' },
      });
      assert.equal(hook.status, 201, hook.text);
      state.deliveryHook = hook.json;
      const account = await server.request('POST', '/v1/accounts', {
        json: { user: state.user.id, employer: 'lyft', source: { type: 'push' } },
      });
      assert.equal(account.status, 201, account.text);
      const pushed = await server.request('POST', `/v1/accounts/${account.json.id}/scans`, { json: { rating: 4.2 } });
      assert.equal(pushed.status, 200, pushed.text);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const res = await server.request('GET', `/v1/webhooks/${state.deliveryHook.id}/deliveries`);
        if (res.json?.results?.[0]?.attempt_count >= 1 || Date.now() > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    status: 200,
    check: (res, state) => {
      assert.equal(res.json.results.length, 1);
      const delivery = res.json.results[0];
      assert.equal(delivery.webhook, state.deliveryHook.id);
      assert.ok(delivery.attempt_count >= 1, 'the first attempt was made');
      state.delivery = delivery;
    },
  },
  { name: 'deliveries in one state', operation: 'GET /v1/webhooks/{id}/deliveries',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/deliveries?state=delivered`, status: 200,
    check: (res) => assert.deepEqual(res.json.results, []) },
  { name: 'an unknown delivery state', operation: 'GET /v1/webhooks/{id}/deliveries',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/deliveries?state=lost`, status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['state']) },
  { name: 'a delivery with its attempts', operation: 'GET /v1/deliveries/{id}',
    path: (state) => `/v1/deliveries/${state.delivery.id}`, status: 200,
    check: (res) => {
      assert.ok(res.json.attempts.length >= 1);
      assert.equal(res.json.attempts[0].status_code, null, 'nothing answered on port 9');
      assert.ok(res.json.attempts[0].error);
    } },
  { name: "another tenant's delivery", operation: 'GET /v1/deliveries/{id}',
    path: (state) => `/v1/deliveries/${state.delivery.id}`, auth: (state) => state.otherTenant.authorization,
    status: 404 },
  { name: 'retry a delivery now', operation: 'POST /v1/deliveries/{id}/retry',
    path: (state) => `/v1/deliveries/${state.delivery.id}/retry`, status: 202,
    check: (res) => assert.equal(res.json.state, 'pending') },
  { name: 'retry an unknown delivery', operation: 'POST /v1/deliveries/{id}/retry',
    path: `/v1/deliveries/${UNKNOWN_ID}/retry`, status: 404 },
  { name: 'recover failed deliveries', operation: 'POST /v1/webhooks/{id}/recover',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/recover`, json: { since: '2026-01-01T00:00:00Z' },
    status: 202, check: (res) => assert.equal(res.json.requeued, 0, 'nothing has failed for good yet') },
  { name: 'recover with a bad time', operation: 'POST /v1/webhooks/{id}/recover',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/recover`, json: { since: 'yesterday' },
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['since']) },
  { name: 'deliveries made in a span of time', operation: 'GET /v1/webhooks/{id}/deliveries',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/deliveries?created_after=2026-01-01T00:00:00Z` +
      '&created_before=2100-01-01T00:00:00Z', status: 200, check: (res) => assert.equal(res.json.results.length, 1) },
  { name: 'deliveries after a bad time', operation: 'GET /v1/webhooks/{id}/deliveries',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/deliveries?created_before=soon`, status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['created_before']) },
  { name: 'an attempt records the headers it sent', operation: 'GET /v1/deliveries/{id}',
    path: (state) => `/v1/deliveries/${state.delivery.id}`, status: 200,
    check: (res, state) => {
      const sent = res.json.attempts[0].request_headers;
      assert.equal(sent['webhook-id'], state.delivery.id);
      assert.match(sent['webhook-signature'], /^v1,/);
    } },

  // --- Console calls: rotation, test events, statistics --------------------------------------
  { name: 'rotate a secret with a grace period', operation: 'POST /v1/webhooks/{id}/rotate-secret',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/rotate-secret`, json: { grace_period: 60 }, status: 200,
    check: (res, state) => {
      assert.notEqual(res.json.secret, state.deliveryHook.secret);
      assert.match(res.json.secret, /^whsec_/);
      assert.ok(res.json.previous_secret_expires_at);
    } },
  { name: 'rotate to a chosen secret', operation: 'POST /v1/webhooks/{id}/rotate-secret',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/rotate-secret`,
    json: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, status: 200,
    check: (res) => assert.equal(res.json.secret, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') },
  { name: 'a rotation with bad fields', operation: 'POST /v1/webhooks/{id}/rotate-secret',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/rotate-secret`,
    json: { secret: '', grace_period: 1.5, extra: true }, status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['extra', 'grace_period', 'secret']) },
  { name: "rotating another tenant's secret", operation: 'POST /v1/webhooks/{id}/rotate-secret',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/rotate-secret`, json: {},
    auth: (state) => state.otherTenant.authorization, status: 404 },
  { name: 'send a test event', operation: 'POST /v1/webhooks/{id}/test',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/test`, status: 202,
    check: (res, state) => {
      assert.equal(res.json.webhook, state.deliveryHook.id);
      assert.equal(res.json.state, 'pending');
    } },
  { name: "a test event to another tenant's subscription", operation: 'POST /v1/webhooks/{id}/test',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/test`, auth: (state) => state.otherTenant.authorization,
    status: 404 },
  { name: 'a test event to a disabled subscription', operation: 'POST /v1/webhooks/{id}/test',
    setup: async ({ server, state }) => {
      const hook = await server.request('POST', '/v1/webhooks', {
        json: { events: ['reputations.updated'], name: 'interop: disabled', url: HOOK_URL },
      });
      state.disabledHook = hook.json;
      await server.request('PATCH', `/v1/webhooks/${hook.json.id}`, { json: { enabled: false } });
    },
    path: (state) => `/v1/webhooks/${state.disabledHook.id}/test`, status: 409 },
  { name: "a subscription's stats", operation: 'GET /v1/webhooks/{id}/stats',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/stats`, status: 200,
    check: (res) => {
      assert.ok(res.json.last_hour.total >= 2, 'the pushed event and the test');
      assert.ok(res.json.pending >= 1);
    } },
  { name: "another tenant's stats", operation: 'GET /v1/webhooks/{id}/stats',
    path: (state) => `/v1/webhooks/${state.deliveryHook.id}/stats`, auth: (state) => state.otherTenant.authorization,
    status: 404 },
  { name: 'the overview', operation: 'GET /v1/overview', path: '/v1/overview?minutes=30', status: 200,
    check: (res) => assert.ok(res.json.minutes.length >= 1) },
  { name: 'an overview of too many minutes', operation: 'GET /v1/overview', path: '/v1/overview?minutes=100000',
    status: 400, check: (res) => assert.deepEqual(fieldsOf(res), ['minutes']) },
  { name: 'the overview without credentials', operation: 'GET /v1/overview', auth: false, status: 401 },
  { name: 'events of one type', operation: 'GET /v1/events', path: '/v1/events?type=reputations.updated', status: 200,
    check: (res) => assert.ok(res.json.results.every((event) => event.event === 'reputations.updated')) },
  { name: 'events of an unknown type', operation: 'GET /v1/events', path: '/v1/events?type=nope', status: 400,
    check: (res) => assert.deepEqual(fieldsOf(res), ['type']) },

  // --- Deleting users and accounts -----------------------------------------------------------
  { name: 'delete an account', operation: 'DELETE /v1/accounts/{id}', path: (state) => `/v1/accounts/${state.account.id}`,
    status: 204 },
  { name: "a deleted account's reputation is gone", operation: 'GET /v1/reputations/{id}',
    path: (state) => `/v1/reputations/${state.reputation.id}`, status: 404 },
  { name: 'delete an unknown account', operation: 'DELETE /v1/accounts/{id}', path: `/v1/accounts/${UNKNOWN_ID}`, status: 404 },
  { name: 'delete a user', operation: 'DELETE /v1/users/{id}', path: (state) => `/v1/users/${state.user.id}`, status: 204 },
  { name: "a deleted user's accounts are gone", operation: 'GET /v1/accounts/{id}',
    path: (state) => `/v1/accounts/${state.pushAccount.id}`, status: 404 },
  { name: 'delete an unknown user', operation: 'DELETE /v1/users/{id}', path: `/v1/users/${UNKNOWN_ID}`, status: 404 },
];

// ---------------------------------------------------------------------------------------------

const redoclyEnv = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
};

function run(command, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

test('Redocly CLI lints docs/openapi.yaml without errors', { timeout: 180_000 }, async () => {
  const redocly = path.join(here, 'node_modules', '.bin', 'redocly');
  const { code, signal, output } = await run(
    redocly,
    ['lint', path.relative(here, specPath), '--config', 'redocly.yaml', '--format', 'codeframe'],
    { cwd: here, env: redoclyEnv, timeoutMs: 170_000 },
  );
  const problems = output
    .split('\n')
    .filter((line) => !/[║╔╚═]/.test(line))
    .join('\n');
  assert.equal(signal, null, `redocly was killed (${signal}):\n${problems}`);
  assert.equal(code, 0, `redocly lint failed:\n${problems}`);
  assert.match(output, /Your API description is valid/);
});

test('every schema in docs/openapi.yaml compiles under Ajv (JSON Schema 2020-12, strict)', () => {
  assert.ifError(specError);
  for (const name of Object.keys(spec.components.schemas)) {
    assert.doesNotThrow(() => ajv.getSchema(`${SCHEMAS_ID}#/$defs/${name}`), `components.schemas.${name}`);
    assert.ok(ajv.getSchema(`${SCHEMAS_ID}#/$defs/${name}`), `components.schemas.${name} did not compile`);
  }
  for (const [name, item] of Object.entries(spec.webhooks)) {
    const schema = item.post.requestBody.content['application/json'].schema;
    const validate = validatorFor(schema, `webhooks ${name}`);
    const example = item.post.requestBody.content['application/json'].example;
    assert.ok(validate(example), `webhooks ${name}: its example: ${ajv.errorsText(validate.errors)}`);
    const other = { ...example, event: name === 'reputations.added' ? 'reputations.updated' : 'reputations.added' };
    assert.ok(!validate(other), `webhooks ${name} must refuse another event's name`);
    assert.ok(!validate({ ...example, extra: 1 }), `webhooks ${name} must refuse unknown fields`);
  }
});

describe('the server answers as docs/openapi.yaml says', () => {
  let server;
  const state = {};

  before(async () => {
    assert.ifError(specError);
    server = await startRepute();
    state.server = server;
    state.otherTenant = await server.createKey('interop-other-tenant');
  });
  after(async () => {
    if (server) await server.stop();
  });

  // A GET that a check makes on its own, held to the document like the cases' requests.
  const get = async (pathAndQuery, operationKey = `GET ${new URL(pathAndQuery, server.baseUrl).pathname}`) => {
    const res = await server.request('GET', pathAndQuery);
    assertConforms(res, operationKey);
    return res;
  };

  for (const entry of CASES) {
    const where = entry.operation ?? entry.answer;
    const [method, template] = entry.operation ? entry.operation.split(' ') : [entry.method, undefined];
    const shownPath = template ?? (typeof entry.path === 'string' ? entry.path : '{path}');
    test(`${entry.status} ${method} ${shownPath}: ${entry.name}`, async () => {
      if (entry.setup) await entry.setup({ server, state });
      const valueOf = (field) => (typeof field === 'function' ? field(state) : field);
      const requestPath = valueOf(entry.path) ?? template;
      const auth = valueOf(entry.auth) ?? true;
      const res = await server.request(method, requestPath, {
        auth,
        headers: entry.headers,
        json: valueOf(entry.json),
        body: entry.body,
      });
      assert.equal(res.status, entry.status, `${method} ${requestPath} answered ${res.status}: ${shown(res.text)}`);
      assertConforms(res, where);
      if (entry.check) await entry.check(res, state, { server, get });
    });
  }

  test('every documented operation the server has is checked by a case above', async () => {
    // Without credentials, a route the server has answers 401 (or, for the open ones, 2xx/5xx),
    // and one it lacks answers 404: that tells which documented operations exist now.
    const covered = new Set(CASES.filter((entry) => entry.operation).map((entry) => entry.operation));
    const missing = [];
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const key = `${method.toUpperCase()} ${template}`;
        const res = await server.request(method.toUpperCase(), template.replaceAll('{id}', UNKNOWN_ID), {
          auth: false,
          headers: JSON_TYPE,
          body: method === 'get' || method === 'delete' ? undefined : '{}',
        });
        const exists = res.status !== 404 && res.status !== 405;
        if (exists && !covered.has(key)) missing.push(`${key} (answered ${res.status})`);
      }
    }
    assert.deepEqual(
      missing,
      [],
      'the server has these documented operations, but no case checks them: add cases for them to CASES in ' +
        'tests/interop/openapi.test.mjs',
    );
  });
});
