// Embeds for documentation authors: a step range the widget stays in, panes left out,
// start playing, and the postMessage interface a host page drives it with (the demo
// page's third widget), in both languages.
import { test, expect } from '@playwright/test';
import { guard, counter, open, SHOTS } from './helpers.mjs';

const at = async (page) => (await counter(page)).cur;

test('a step range keeps every way of stepping inside it, and the link keeps the range', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&lang=ja&embed&from=3&to=5');
  expect(await at(page)).toBe(3);
  await page.locator('#step-counter').click();
  await page.keyboard.press('End');
  expect(await at(page)).toBe(5);
  await page.keyboard.press('ArrowRight');
  expect(await at(page)).toBe(5);
  await page.keyboard.press('Home');
  expect(await at(page)).toBe(3);
  await page.keyboard.press('ArrowLeft');
  expect(await at(page)).toBe(3);
  const q = new URL(page.url()).searchParams;
  expect([q.get('from'), q.get('to')]).toEqual(['3', '5']);
  // A link's own step inside the range opens there; the whole run still counts.
  await open(page, '?s=hybrid&lang=en&embed&from=3&to=5&at=4');
  const c = await counter(page);
  expect(c.cur).toBe(4);
  expect(c.total).toBeGreaterThan(5);
  g.check();
});

test('a range past the run, or a pane that does not exist, is named and dropped', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&lang=ja&embed&from=500');
  await expect(page.locator('.notice')).toContainText('ステップ範囲 from=500');
  expect(await at(page)).toBe(1);
  await page.keyboard.press('End');
  expect(await at(page)).toBe((await counter(page)).total);
  await open(page, '?s=hybrid&lang=en&embed&hide=sidebar');
  await expect(page.locator('.notice')).toContainText('hide=sidebar');
  await expect(page.locator('.diagram-pane')).toHaveCount(1);
  g.check();
});

test('hidden panes are left out and the other takes the width', async ({ browser }) => {
  for (const lang of ['en', 'ja']) {
    const ctx = await browser.newContext({ viewport: { width: 640, height: 400 } });
    const page = await ctx.newPage();
    const g = guard(page);
    await open(page, `?s=tls13&lang=${lang}&embed&hide=diagram,title&at=6`);
    await expect(page.locator('.detail-pane')).toBeVisible();
    await expect(page.locator('.diagram-pane')).toHaveCount(0);
    await expect(page.locator('.stage-head')).toHaveCount(0);
    // The heading stays for screen readers.
    await expect(page.locator('h1.visually-hidden')).toHaveCount(1);
    const w = await page.locator('.detail-pane').evaluate((e) => e.getBoundingClientRect().width);
    expect(w).toBeGreaterThan(560);
    await page.screenshot({ path: `${SHOTS}/embed-hide-diagram-${lang}-640x400.png` });
    await open(page, `?s=tls13&lang=${lang}&embed&hide=controls`);
    await expect(page.locator('#step-counter')).toHaveCount(0);
    await expect(page.locator('.diagram-pane')).toHaveCount(1);
    g.check();
    await ctx.close();
  }
});

test('play=1 starts playing and stops at the end of the range', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&lang=en&embed&from=2&to=4&play=1');
  await expect(page.locator('#step-counter')).toHaveText(/^4 \//, { timeout: 15000 });
  await page.waitForTimeout(2500);
  expect(await at(page)).toBe(4);
  g.check();
});

test('the host page drives a widget by postMessage and hears its steps; nothing else is obeyed', async ({ page }) => {
  const g = guard(page);
  // Every message the widgets send their page, kept to check what they carry.
  await page.addInitScript(() => {
    window.__heard = [];
    window.addEventListener('message', (e) => window.__heard.push(e.data));
  });
  await page.goto('/embed-demo.html');
  await expect(page.locator('iframe')).toHaveCount(3);
  const status = page.locator('#drive-status');
  await expect(status).toHaveText(/^Step 3 of 3–9 \(\d+ in the whole run\)$/);
  const driven = page.frameLocator('#driven iframe');
  await expect(driven.locator('#stage')).toHaveAttribute('data-scenario', 'tls13');
  await expect(driven.locator('.controls, #step-counter')).toHaveCount(0);
  await expect(driven.locator('.stage-head')).toHaveCount(0);
  await page.click('#drive-next');
  await expect(status).toHaveText(/^Step 4 of/);
  for (let i = 0; i < 8; i++) await page.click('#drive-next');
  await expect(status).toHaveText(/^Step 9 of/);
  await page.click('#drive-prev');
  await expect(status).toHaveText(/^Step 8 of/);
  await page.click('#drive-first');
  await expect(status).toHaveText(/^Step 3 of/);
  // A message that is not from the parent page (here: the widget's own window) is ignored.
  const frame = page.frames().find((f) => f.url().includes('s=tls13'));
  await frame.evaluate(() => window.postMessage({ type: 'cipherstage:goto', at: 7 }, '*'));
  await page.waitForTimeout(500);
  await expect(status).toHaveText(/^Step 3 of/);
  // A goto outside the range lands on its edge.
  await page.evaluate(() => document.getElementById('driven').cipherstage.goto(40));
  await expect(status).toHaveText(/^Step 9 of/);
  // What the widgets told the page: step numbers and the scenario id, nothing more.
  const heard = await page.evaluate(() => window.__heard);
  const kinds = new Set(heard.map((m) => m.type));
  expect(kinds.has('cipherstage:ready') && kinds.has('cipherstage:step')).toBe(true);
  for (const m of heard) {
    const allowed = m.type === 'cipherstage:size' ? ['type', 'height'] : ['type', 'scenario', 'at', 'steps', 'from', 'to'];
    expect(Object.keys(m).filter((k) => !allowed.includes(k))).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.locator('#driven').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/embed-demo-driven-1280x1000.png` });
  g.check();
});
