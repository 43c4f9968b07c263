// The session and the APIs (through the gateway, on this origin). The session is kept in
// IndexedDB so the app works offline with it until it expires; its short-lived token is renewed
// from /session while the session lives. A session the server no longer knows (signed out, here or
// from a copy of it elsewhere) is forgotten at once, with what the app kept of the person; the
// reports waiting to be sent (outbox.js, a store of their own) stay, each with its author.
import { clear, del, get, set } from '/app/vendor/idb-keyval/index.js';

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || 'http_error';
    this.details = error?.details;
  }
  // A definitive answer about this request: sending it again cannot succeed.
  get definitive() { return this.status >= 400 && this.status < 500 && ![401, 408, 429].includes(this.status); }
}

export class NetworkError extends Error {}

let session = null;
const listeners = new Set();
// Whether the last request reached the server. navigator.onLine alone says only that the phone has
// a network, not that it carries data (a weak cell, a captive portal).
let reachable = true;
const reachability = new Set();

export function onReachabilityChange(fn) { reachability.add(fn); }
export function isReachable() { return reachable; }
function reached(now) {
  if (now === reachable) return;
  reachable = now;
  reachability.forEach((fn) => fn(now));
}

export function onSessionChange(fn) { listeners.add(fn); }
function changed() { listeners.forEach((fn) => fn(session)); }

export function expired(s = session) { return !s || Date.parse(s.expires_at) <= Date.now(); }
export function currentSession() { return session; }

// Online: the server's session (after sign-in), with a fresh token. Offline, or the server busy:
// the one kept from last time. The server saying "not signed in": nobody, whatever was kept.
export async function loadSession() {
  let response;
  try {
    response = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    reached(false);
    session = (await get('session')) || null;
    changed();
    return session;
  }
  reached(true);
  if (response.ok) {
    session = await response.json();
    await set('session', session);
  } else if (response.status === 401) {
    await forget();
  } else {
    const kept = await get('session');
    session = kept && !expired(kept) ? kept : null;
  }
  changed();
  return session;
}

// What the app keeps of the person (the session, their reports' list, the reference data) goes;
// the outbox's own store does not.
async function forget() {
  session = null;
  await clear();
}

const SIGNING_OUT = 'signing-out';

// Ends the session on the server, then forgets it here; the caller leaves the page (nothing is
// drawn meanwhile: a page left with its storage busy holds up the next one's). Without signal the
// server's session is ended at the next start with signal (finishSignOut), unless someone has
// signed in since.
export async function signOut() {
  const ending = session?.session_id;
  await forget();
  if (ending) await set(SIGNING_OUT, ending);
  try {
    const response = await fetch('/signout', { method: 'POST', credentials: 'same-origin', redirect: 'manual' });
    if (response.type === 'opaqueredirect' || response.ok) await del(SIGNING_OUT);
  } catch { /* no signal: finishSignOut does it */ }
}

// A sign-out begun without signal: end that session if it is still the one this browser holds.
export async function finishSignOut() {
  const ending = await get(SIGNING_OUT);
  if (!ending) return false;
  const current = await loadSession();
  if (current && current.session_id !== ending) { await del(SIGNING_OUT); return false; }
  await signOut();
  return true;
}

// A token with less than a minute left is renewed first; one the services refuse (expired, or its
// session ended) is renewed once, and the request tried again with the fresh one.
const RENEW_BEFORE_MS = 60 * 1000;

export async function api(path, options = {}) {
  if (expired()) throw new ApiError(401, { code: 'not_signed_in', message: '登录已过期，请重新登录' });
  if (Date.parse(session.token_expires_at) - Date.now() < RENEW_BEFORE_MS) await loadSession();
  let response = await call(path, options);
  if (response.status === 401 && session) {
    const used = session.token;
    await loadSession();
    if (session && session.token !== used) response = await call(path, options);
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: a gateway error page */ }
    throw new ApiError(response.status, body?.error);
  }
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.blob();
}

async function call(path, { method = 'GET', json, form, headers = {} }) {
  if (!session) throw new ApiError(401, { code: 'not_signed_in', message: '请先登录' });
  const init = { method, headers: { Authorization: `Bearer ${session.token}`, ...headers } };
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers['Content-Type'] = 'application/json'; }
  if (form !== undefined) init.body = form;
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    reached(false);
    throw new NetworkError(err.message);
  }
  reached(true);
  return response;
}
