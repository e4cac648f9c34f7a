// Starts the app. An external module (not Trunk's inline loader) so the page can
// carry a strict Content-Security-Policy: no inline script, only 'wasm-unsafe-eval'.
import init, * as bindings from './app.js';

await init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
// The end-to-end tests reach test hooks through this, as with Trunk's own loader.
window.wasmBindings = bindings;
