// Offline in a classroom (issue 21 §8): after one visit the whole build, every
// protocol module included, is in the service worker's cache, and the site works
// with the network cut — the map, a scenario of another family than the one first
// opened (its module never fetched while online), an embed — under a sub-path.
// The other specs block service workers (playwright.config.mjs), so their request
// checks see the page alone; this one allows them.
import { test, expect } from '@playwright/test';
import { guard, open, SHOTS } from './helpers.mjs';

test.use({ serviceWorkers: 'allow' });

test('after one visit the site works with no network: map, any family, an embed', async ({ page, context }) => {
  const g = guard(page);
  await page.goto('/sub/path/?s=hybrid&lang=ja');
  await page.waitForSelector('#stage');
  const manifest = JSON.parse(await page.locator('#cipherstage-build').textContent());
  expect(manifest.offline).toBe(true);
  // The worker installed: its one cache holds every file of the build.
  const state = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const keys = (await caches.keys()).filter((k) => k.startsWith('cipherstage-'));
    const cache = await caches.open(keys[0]);
    const urls = (await cache.keys()).map((r) => new URL(r.url).pathname);
    return { scope: new URL(reg.scope).pathname, keys, urls };
  });
  expect(state.scope).toBe('/sub/path/');
  expect(state.keys).toHaveLength(1);
  const cached = new Set(state.urls.map((u) => u.slice('/sub/path/'.length)));
  for (const f of [
    '', 'index.html', manifest.app.js, manifest.app.wasm, manifest.worker, 'embed.js', 'manifest.webmanifest',
    ...Object.values(manifest.modules).flatMap((m) => [m.js, m.wasm]),
    ...Object.values(manifest.catalogues).flatMap((c) => Object.values(c)),
  ]) {
    expect(cached.has(f), `${f || './'} cached`).toBe(true);
  }

  // Network cut: every page below comes from the cache alone.
  await context.setOffline(true);
  const fromNetwork = [];
  page.on('requestfinished', async (r) => {
    const resp = await r.response();
    if (resp && !resp.fromServiceWorker() && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) fromNetwork.push(r.url());
  });
  await page.reload();
  await page.waitForSelector('#stage');
  // A family whose module was never loaded online (SSH), in the other language.
  await open(page, 'sub/path/?s=ssh-password&lang=en');
  await page.keyboard.press('End');
  await expect(page.locator('#caption')).toBeVisible();
  await expect(page.locator('#caption')).not.toContainText('⟦');
  await page.screenshot({ path: `${SHOTS}/offline-ssh-password-en.png` });
  // The map and an embed.
  await open(page, 'sub/path/?lang=ja');
  await expect(page.locator('[data-scenario]').first()).toBeVisible();
  await open(page, 'sub/path/?s=ipsec-tunnel&lang=ja&embed');
  await page.keyboard.press('End');
  await expect(page.locator('#caption')).toBeVisible();
  expect(fromNetwork, fromNetwork.join('\n')).toEqual([]);
  g.check();
});
