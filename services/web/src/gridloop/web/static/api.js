// The session and the APIs (through the gateway, on this origin). The session is kept in
// IndexedDB so the app works offline with it until it expires.
import { get, set } from '/app/vendor/idb-keyval/index.js';

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

// Online: the server's session (after sign-in). Offline: the one kept from last time.
export async function loadSession() {
  try {
    const response = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
    reached(true);
    if (response.ok) {
      session = await response.json();
      await set('session', session);
    } else {
      const kept = await get('session');
      session = kept && !expired(kept) ? kept : null;
    }
  } catch {
    reached(false);
    session = (await get('session')) || null;
  }
  changed();
  return session;
}

export async function markExpired() {
  if (session) { session = { ...session, expires_at: new Date(0).toISOString() }; await set('session', session); }
  changed();
}

export async function api(path, { method = 'GET', json, form, headers = {} } = {}) {
  if (expired()) throw new ApiError(401, { code: 'not_signed_in', message: '登录已过期，请重新登录' });
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
  if (response.status === 401) await markExpired();
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: a gateway error page */ }
    throw new ApiError(response.status, body?.error);
  }
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.blob();
}
