// Starts the app. An external module (not Trunk's inline loader) so the page can
// carry a strict Content-Security-Policy: no inline script, only 'wasm-unsafe-eval'.
//
// The build's manifest (index.html, written by `cargo xtask modules`) names every
// file by its content hash. The app and the catalogue of the page's language are
// fetched side by side; the other language's catalogue and the protocol modules
// come later, only when needed (the worker loads a family's module on first use).
const manifest = JSON.parse(document.getElementById('cipherstage-build').textContent || '{}');
const here = (file) => new URL(file, document.baseURI);

// The page's language, as the app decides it: `lang=` in the address, else the
// browser's first language (Japanese if it starts with "ja").
function pageLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'ja') return asked;
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return first.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

const lang = pageLang();
// The base chunk of the catalogue (every page needs it); a scenario's own chunks
// are fetched by the app beside its module.
const base = manifest.catalogues && manifest.catalogues[lang] && manifest.catalogues[lang].base;
const catalogue = base
  ? fetch(here(base)).then((r) => (r.ok ? r.text() : null)).catch(() => null)
  : Promise.resolve(null);
const wasm = fetch(here(manifest.app.wasm));
const bindings = await import(here(manifest.app.js).href);
const text = await catalogue;
if (text !== null) window.cipherstageCatalogue = { lang, text };
await bindings.default({ module_or_path: wasm });
// The end-to-end tests reach test hooks through this, as with Trunk's own loader.
window.wasmBindings = bindings;
