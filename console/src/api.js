// The one module that talks to repute: the public API, signed in with an API key kept in sessionStorage
// (gone when the tab closes, never in localStorage or a cookie).

const STORAGE_KEY = 'repute.console.key';

// An answer other than 2xx: its status and JSON body ({"detail": ...} or field-keyed messages).
export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (status === 401) return 'The key id or secret is wrong, or the key was revoked.';
  if (body && typeof body.detail === 'string') return body.detail;
  if (body && typeof body === 'object') {
    const fields = Object.entries(body).map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`);
    if (fields.length) return fields.join('; ');
  }
  return `The server answered ${status}.`;
}

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
  } catch {
    return null;
  }
}

let listeners = [];

// Calls back with no arguments when the key is refused or forgotten, so the shell can show the sign-in page.
export function onSignedOut(listener) {
  listeners.push(listener);
}

export function signedIn() {
  return stored() !== null;
}

export function keyId() {
  return stored()?.id ?? '';
}

function authorization(key) {
  const bytes = new TextEncoder().encode(`${key.id}:${key.secret}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

async function send(key, method, path, body) {
  const headers = { Authorization: authorization(key), Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: 'The server cannot be reached.' });
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// Checks the key with one cheap request before keeping it.
export async function signIn(id, secret) {
  const key = { id: id.trim(), secret: secret.trim() };
  await send(key, 'GET', '/v1/webhooks?limit=1');
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(key));
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

// One API call with the kept key; a 401 forgets the key (it was revoked meanwhile).
export async function call(method, path, body) {
  const key = stored();
  if (!key) throw new ApiError(401, null);
  try {
    return await send(key, method, path, body);
  } catch (error) {
    if (error.status === 401) signOut();
    throw error;
  }
}

// The path and query of a list's next or previous page (the API answers absolute URLs).
export function pagePath(url) {
  if (!url) return null;
  const parsed = new URL(url, location.origin);
  return parsed.pathname + parsed.search;
}

// A query string from the defined, non-empty values of params.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
