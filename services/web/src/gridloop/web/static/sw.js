// The app's service worker: the shell and its files come from the cache when there is no signal.
// API calls are never cached here: the page keeps what it needs (outbox, session) in IndexedDB.
// The labels and limits the app shows and checks (/app/labels.json) are kept like the shell.
const CACHE = 'gridloop-app-v2';
const SHELL = [
  '/app/', '/app/manifest.webmanifest', '/app/labels.json',
  '/app/static/app.css', '/app/static/app.js', '/app/static/api.js', '/app/static/outbox.js',
  '/app/static/photos.js', '/app/static/geo.js', '/app/static/icon.svg', '/app/static/icon-192.png', '/app/static/icon-512.png',
  '/app/vendor/leaflet/leaflet.js', '/app/vendor/leaflet/leaflet.css',
  '/app/vendor/leaflet/images/marker-icon.png', '/app/vendor/leaflet/images/marker-icon-2x.png', '/app/vendor/leaflet/images/marker-shadow.png',
  '/app/vendor/idb-keyval/index.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  // Network first, so a new version shows as soon as there is signal; the cache when there is none.
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((cache) => cache.put(event.request, copy)); }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((hit) => hit || (event.request.mode === 'navigate' ? caches.match('/app/') : Response.error()))));
});
