// The QR code of the current view (issue 21 §3): Q shows it, an independent decoder
// (jsQR, from npm) reads the rendered picture back to the page's own address —
// scenario, parameters, seed, step and language, not the embed or presenter flags —
// and Escape closes it. Presenter size and a phone are looked at in screenshots.
import { test, expect } from '@playwright/test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { guard, open, menu, SHOTS } from './helpers.mjs';

async function decode(page) {
  const png = PNG.sync.read(await page.locator('#qr-code').screenshot());
  const got = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return got && got.data;
}

test('Q shows a QR code that decodes to this view\'s address; Escape closes it', async ({ page }) => {
  const g = guard(page);
  await open(page, 'sub/path/?s=tls13&lang=ja&seed=7&p.suite=TLS_CHACHA20_POLY1305_SHA256&embed');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('q');
  await expect(page.locator('#qr-code')).toBeVisible();
  const shown = await page.locator('#qr-url').innerText();
  const url = new URL(shown);
  expect(url.pathname).toBe('/sub/path/');
  const q = url.searchParams;
  expect(q.get('s')).toBe('tls13');
  expect(q.get('lang')).toBe('ja');
  expect(q.get('seed')).toBe('7');
  expect(q.get('at')).toBe('6');
  expect(q.get('p.suite')).toBe('TLS_CHACHA20_POLY1305_SHA256');
  expect(q.has('embed')).toBe(false);
  expect(await decode(page)).toBe(shown);
  // Focus is in the dialog; the steps do not move behind it.
  await expect(page.locator('#qr-close')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Escape');
  await expect(page.locator('#qr')).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('at')).toBe('6');
  g.check();
});

test('the QR code is in the share menu, readable in presenter mode and on a phone', async ({ browser }) => {
  for (const [name, viewport, query] of [['presenter-1920x1080', { width: 1920, height: 1080 }, '&present=1'], ['phone-390x844', { width: 390, height: 844 }, '']]) {
    const ctx = await browser.newContext({ viewport });
    const page = await ctx.newPage();
    await open(page, `?s=ssh-password&lang=en${query}`);
    await page.keyboard.press('End');
    if (query) {
      await page.keyboard.press('q');
    } else {
      await menu(page, 'settings');
      await page.click('#qr-button');
    }
    await expect(page.locator('#qr-code')).toBeVisible();
    const box = await page.locator('#qr-code').boundingBox();
    expect(box.width).toBeGreaterThan(viewport.width < 600 ? 280 : 600);
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    const shown = await page.locator('#qr-url').innerText();
    expect(new URL(shown).searchParams.has('present')).toBe(false);
    expect(await decode(page)).toBe(shown);
    await page.screenshot({ path: `${SHOTS}/qr-ssh-password-en-${name}.png` });
    await page.click('#qr-close');
    await expect(page.locator('#qr')).toHaveCount(0);
    await ctx.close();
  }
});
