// Starts the app (an external module, so the page's CSP allows no inline script).
// The manifest in index.html (cargo xtask modules) names every file by content hash;
// the app and its language's base catalogue load side by side; the rest on demand.
const manifest = JSON.parse(document.getElementById('cipherstage-build').textContent || '{}');
const here = (file) => new URL(file, document.baseURI);
// The page's language as the app decides it: `lang=`, else the browser's first.
function pageLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'ja') return asked;
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return first.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}
const lang = pageLang();
const base = manifest.catalogues && manifest.catalogues[lang] && manifest.catalogues[lang].base;
const catalogue = base
  ? fetch(here(base)).then((r) => (r.ok ? r.text() : null)).catch(() => null)
  : Promise.resolve(null);
const wasm = fetch(here(manifest.app.wasm));
const bindings = await import(here(manifest.app.js).href);
const text = await catalogue;
if (text !== null) window.cipherstageCatalogue = { lang, text };
await bindings.default({ module_or_path: wasm });
// The end-to-end tests reach test hooks through this.
window.wasmBindings = bindings;
// Offline in a classroom: a release build's service worker caches the whole build
// once the app runs (sw.js; never on file://, where browsers refuse it). A debug
// build (trunk serve) has none, and removes one an earlier build left behind, so a
// developer never sees stale files.
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  if (manifest.offline) {
    navigator.serviceWorker.register(here('sw.js')).catch(() => {});
  } else {
    navigator.serviceWorker.getRegistrations()
      .then((all) => all.forEach((r) => r.unregister()))
      .catch(() => {});
  }
}
