// The Web Worker that runs every protocol core, off the main thread.
//
// The app posts {init: modules-json} once, then {id, module, request} per run or
// inspection (or {id, module, bench, n} for the benchmark). A module is one
// protocol family's WASM build (crates/worker), loaded on its first request from
// this same folder under its content-hashed name; it answers with JSON text.
// Nothing here fetches anything but the build's own files.

let modules = {};
const loaded = new Map();

function load(name) {
  if (!loaded.has(name)) {
    const spec = modules[name];
    if (!spec) {
      return Promise.reject(new Error(`no module named ${name} in this build`));
    }
    const p = (async () => {
      const mod = await import(new URL(spec.js, self.location.href).href);
      await mod.default({ module_or_path: new URL(spec.wasm, self.location.href) });
      return mod;
    })();
    // A failed load may be retried by the next request (a network blip).
    p.catch(() => loaded.delete(name));
    loaded.set(name, p);
  }
  return loaded.get(name);
}

self.onmessage = async (e) => {
  const msg = e.data || {};
  if (typeof msg.init === 'string') {
    try {
      modules = JSON.parse(msg.init) || {};
    } catch {
      modules = {};
    }
    return;
  }
  const { id, module } = msg;
  try {
    if (!loaded.has(module)) self.postMessage({ id, progress: null });
    const m = await load(module);
    if (typeof msg.qr === 'string') {
      // The QR code of the page's URL (the inspect module): "side:0101…", or "" if too long.
      self.postMessage({ id, qrcode: typeof m.qr === 'function' ? m.qr(msg.qr) : '' });
      return;
    }
    if (typeof msg.bench === 'string') {
      const t0 = performance.now();
      const ok = m.bench(msg.bench, msg.n >>> 0);
      self.postMessage({ id, benched: ok ? performance.now() - t0 : null });
      return;
    }
    // A heavy scene reports how far it is; the page shows a progress bar.
    const report = (fraction) => self.postMessage({ id, progress: fraction });
    self.postMessage({ id, answer: m.handle_reporting(msg.request, report) });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
};
