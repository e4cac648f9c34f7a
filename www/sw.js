// The service worker that keeps cipherstage working in a classroom with no network.
// `cargo xtask modules` writes VERSION and FILES (every file of the build, each
// protocol module included); this template is never served as it is.
//
// - install: the whole build goes into one cache named after VERSION, all or
//   nothing (addAll), so a half-cached build is never used.
// - activate: caches of every other version are deleted. A new deploy's worker
//   waits until no page of the old one is open (no skipWaiting), so a page never
//   mixes old and new files: the old pages keep the old cache until they close.
// - fetch: the build's own files from the cache; a page's URL matches with any
//   query (?s=…&lang=…); anything else goes to the network as usual.
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `cipherstage-${VERSION}`;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES.map((f) => new URL(f, self.registration.scope).href))));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith('cipherstage-') && k !== CACHE).map((k) => caches.delete(k)),
  )));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith(caches.open(CACHE)
    .then((c) => c.match(req, { ignoreSearch: req.mode === 'navigate' }))
    .then((hit) => hit || fetch(req)));
});
