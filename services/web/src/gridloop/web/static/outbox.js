// The outbox: every report is saved on the phone before it is sent, with its Idempotency-Key
// (the draft's id) and its photos (each with its own client id, the key of its upload). A draft
// leaves the outbox only when intake has filed it (2xx) or refused it for good (then it stays,
// marked, for the grid worker to correct). Sending again after a lost answer files nothing twice:
// intake answers a known key with the first answer.
// A draft belongs to the grid worker who saved it (`owner`, their sub): signing out leaves it here,
// and only that worker's next sign-in sends it or shows it; another worker on the same phone sees
// only how many reports of someone else wait. (Drafts saved before authors were noted belong to
// whoever signs in.)
import { createStore, del, get, set, values } from '/app/vendor/idb-keyval/index.js';
import { api, ApiError, currentSession, NetworkError } from './api.js';

const drafts = createStore('gridloop-outbox', 'drafts');
const listeners = new Set();
let sending = null;

export function onOutboxChange(fn) { listeners.add(fn); }
async function changed() { const all = await list(); listeners.forEach((fn) => fn(all)); }

const me = () => currentSession()?.user?.sub;
const mine = (draft) => Boolean(me()) && (draft.owner ?? me()) === me();

// The signed-in worker's drafts, oldest first.
export async function list() {
  return (await values(drafts)).filter(mine).sort((a, b) => a.created_at.localeCompare(b.created_at));
}

// How many drafts of other workers wait on this phone (never what they say).
export async function othersWaiting() {
  return (await values(drafts)).filter((d) => !mine(d)).length;
}

export async function save(report, photos) {
  const draft = {
    id: crypto.randomUUID(),
    owner: me(),
    created_at: new Date().toISOString(),
    report,
    photos: photos.map((blob) => ({ client_id: crypto.randomUUID(), blob, attachment_id: null })),
    refused: null,
  };
  await set(draft.id, draft, drafts);
  await changed();
  return draft;
}

export async function remove(id) { await del(id, drafts); await changed(); }

// A corrected draft is a new request: a new key, the same photos (already uploaded ones are kept).
export async function correct(id, report) {
  const old = await get(id, drafts);
  const draft = { ...old, id: crypto.randomUUID(), report, refused: null };
  await set(draft.id, draft, drafts);
  await del(id, drafts);
  await changed();
  return draft;
}

async function sendOne(draft) {
  for (const photo of draft.photos) {
    if (photo.attachment_id) continue;
    const form = new FormData();
    form.append('file', photo.blob, `${photo.client_id}.jpg`);
    const uploaded = await api('/v1/attachments', { method: 'POST', form, headers: { 'Idempotency-Key': photo.client_id } });
    photo.attachment_id = uploaded.attachment_id;
    await set(draft.id, draft, drafts);
  }
  const body = { ...draft.report, photos: draft.photos.map((p) => p.attachment_id) };
  delete body.category_name;
  delete body.grid_name;
  return api('/v1/reports', { method: 'POST', json: body, headers: { 'Idempotency-Key': draft.id } });
}

// Send what waits, oldest first, one sender at a time across tabs. Returns {filed, refused, waiting}.
export function flush() {
  if (sending) return sending;
  const run = async () => {
    const outcome = { filed: [], refused: [], waiting: 0 };
    for (const draft of await list()) {
      if (draft.refused) continue;
      try {
        const ticket = await sendOne(draft);
        await del(draft.id, drafts);
        outcome.filed.push({ draft, ticket });
      } catch (err) {
        if (err instanceof ApiError && err.definitive) {
          draft.refused = { status: err.status, code: err.code, message: err.message, details: err.details ?? null };
          await set(draft.id, draft, drafts);
          outcome.refused.push(draft);
        } else if (err instanceof NetworkError || err instanceof ApiError) {
          break; // no signal, the session ended, or the server is busy: everything waits for the next try
        } else {
          throw err;
        }
      }
    }
    outcome.waiting = (await list()).filter((d) => !d.refused).length;
    await changed();
    return outcome;
  };
  const locked = navigator.locks ? navigator.locks.request('gridloop-outbox', run) : run();
  sending = locked.finally(() => { sending = null; });
  return sending;
}
