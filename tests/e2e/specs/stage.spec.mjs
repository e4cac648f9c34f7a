// The stage for a room and a keyboard: presenter mode never traps, overlays take
// focus and close with Escape, buttons keep Space/Enter, the byte grid is one tab
// stop, only the diagram pane scrolls, phones get one column, the page shows a
// sign of life before the WASM runs.
import { test, expect } from '@playwright/test';
import { guard, counter, open, menu, SHOTS } from './helpers.mjs';

const active = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? (a.id || a.dataset.offset !== undefined && `byte ${a.dataset.offset}` || a.tagName) : 'none';
});

test('a shared presenter link opens without an error, says "press F", and can be left', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await page.goto('/?s=hybrid&lang=en&present=1&at=3');
  await page.waitForSelector('#stage');
  await expect(page.locator('.shell.presenter')).toBeVisible();
  await expect(page.locator('#fs-hint')).toHaveText('Press F for full screen');
  await expect(page.locator('#exit-presenter')).toBeVisible();
  // The help overlay takes focus, holds the steps, and closes with Escape.
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog')).toBeVisible();
  expect(await active(page)).toBe('help-close');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('End');
  await page.keyboard.press('Tab');
  expect(await active(page)).toBe('help-close');
  await page.keyboard.press('Shift+Tab');
  expect(await active(page)).toBe('help-close');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect.poll(async () => (await counter(page)).cur).toBe(3);
  // Escape with nothing open leaves presenter mode; the visible control does too.
  await page.keyboard.press('Escape');
  await expect(page.locator('.shell.presenter')).toHaveCount(0);
  await expect(page.locator('header.top')).toBeVisible();
  await page.click('#present');
  await expect(page.locator('.shell.presenter')).toBeVisible();
  await page.click('#exit-presenter');
  await expect(page.locator('.shell.presenter')).toHaveCount(0);
  g.check();
  await ctx.close();
});

test('leaving full screen leaves presenter mode', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await open(page, '?s=hybrid&lang=en');
  await page.keyboard.press('f');
  await expect(page.locator('.shell.presenter')).toBeVisible();
  const full = await page.waitForFunction(() => !!document.fullscreenElement, null, { timeout: 5000 }).then(() => true, () => false);
  // Headless Chromium grants full screen to a key press; if it ever does not, the
  // test says so instead of passing without proving anything.
  expect(full, 'the browser granted full screen to F').toBe(true);
  await page.evaluate(() => document.exitFullscreen());
  await expect(page.locator('.shell.presenter')).toHaveCount(0);
  await expect(page.locator('header.top')).toBeVisible();
  g.check();
  await ctx.close();
});

test('the embed dialog takes focus and closes with Escape; nothing steps behind it', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en&at=4');
  await menu(page, 'settings');
  await page.click('#embed-button');
  await expect(page.locator('#snippet')).toBeVisible();
  expect(await active(page)).toBe('snippet-copy');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('End');
  await page.locator('#snippet-text').focus();
  await page.keyboard.press('Escape');
  await expect(page.locator('#snippet')).toHaveCount(0);
  await expect.poll(async () => (await counter(page)).cur).toBe(4);
  expect(await active(page)).toBe('embed-button');
  // A second Escape folds the settings panel and gives focus back to its button.
  await page.keyboard.press('Escape');
  await expect(page.locator('#settings-panel')).toHaveCount(0);
  expect(await active(page)).toBe('settings-toggle');
});

test('the control bar keeps what a class toggles in view and folds the rest; controls appear only where they apply', async ({ page }) => {
  await open(page, '?s=tls13&lang=en');
  // In view: stepping, the eavesdropper view, the key schedule, presenting.
  for (const id of ['#play', '#eve', '#schedule-toggle', '#present', '#downloads-toggle', '#settings-toggle']) {
    await expect(page.locator(id)).toBeVisible();
  }
  // Folded: downloads and settings, until asked for; an opened menu takes focus.
  await expect(page.locator('#seed')).toHaveCount(0);
  await expect(page.locator('#export')).toHaveCount(0);
  await page.click('#downloads-toggle');
  await expect(page.locator('#downloads-toggle')).toHaveAttribute('aria-expanded', 'true');
  expect(await active(page)).not.toBe('');
  const files = await page.locator('#downloads-menu button').allInnerTexts();
  expect(files).toContain('Open in Wireshark: capture (.pcapng)');
  expect(files.length).toBeGreaterThanOrEqual(3);
  await page.keyboard.press('Escape');
  await expect(page.locator('#downloads-menu')).toHaveCount(0);
  expect(await active(page)).toBe('downloads-toggle');
  // The bar is one row at 1280×800: its height is that of one button row plus padding.
  const bar = await page.locator('.controls').boundingBox();
  const button = await page.locator('#present').boundingBox();
  expect(bar.height).toBeLessThan(button.height * 2 + 20);
  // No eavesdropper in the certificate story: no eavesdropper view, and E does nothing.
  await open(page, '?s=tls-certificate&lang=en');
  await expect(page.locator('#present')).toBeVisible();
  await expect(page.locator('#eve')).toHaveCount(0);
  await page.keyboard.press('e');
  await expect(page).not.toHaveURL(/[?&]eve=1/);
  // No secret in the signed mail: no key schedule, and K does nothing.
  await open(page, '?s=smime-signed&lang=en');
  await expect(page.locator('#present')).toBeVisible();
  await expect(page.locator('#schedule-toggle')).toHaveCount(0);
  await page.keyboard.press('k');
  await expect(page.locator('svg.sequence')).toBeVisible();
  await expect(page.locator('#key-schedule')).toHaveCount(0);
});

test('Space and Enter press the focused button instead of stepping; P plays and pauses', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en&at=5');
  await page.locator('#prev').focus();
  await page.keyboard.press(' ');
  await expect.poll(async () => (await counter(page)).cur).toBe(4);
  await page.keyboard.press('Enter');
  await expect.poll(async () => (await counter(page)).cur).toBe(3);
  await page.locator('#schedule-toggle').focus();
  await page.keyboard.press(' ');
  await expect(page.locator('#key-schedule, .schedule .empty').first()).toBeVisible();
  await expect.poll(async () => (await counter(page)).cur).toBe(3);
  await page.locator('#schedule-toggle').press('Enter');
  await expect(page.locator('svg.sequence')).toBeVisible();
  await page.locator('#step-counter').click();
  await page.selectOption('.speed select', '3');
  await page.locator('#step-counter').click();
  await page.keyboard.press('p');
  await expect.poll(async () => (await counter(page)).cur, { timeout: 10000 }).toBeGreaterThan(5);
  await page.keyboard.press('p');
  const stopped = (await counter(page)).cur;
  await page.waitForTimeout(1000);
  expect((await counter(page)).cur).toBe(stopped);
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog')).toContainText('Play / pause');
});

test('the byte grid is one tab stop: arrows move byte by byte, Enter selects, flip uses that byte and keeps focus', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid-tamper&lang=en');
  for (let i = 0; i < 40 && !(await page.locator('#hex .b.p-enc').count()); i++) await page.keyboard.press('ArrowRight');
  const step = (await counter(page)).cur;
  await expect(page.locator('#hex [tabindex="0"]')).toHaveCount(1);
  await page.locator('#hex .b').first().click();
  expect(await active(page)).toBe('byte 0');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  expect(await active(page)).toBe('byte 3');
  await expect(page.locator('#hex [tabindex="0"]')).toHaveAttribute('data-offset', '3');
  // The steps did not move while the arrows moved in the grid.
  expect((await counter(page)).cur).toBe(step);
  await page.keyboard.press('Enter');
  await expect(page.locator('#hex .b.sel[data-offset="3"]')).toHaveCount(1);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.locator('#flip-here').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-param="flip"]')).toHaveValue(/^\d+:3$/);
  await expect(page.locator('#hex .b.tam')).toHaveAttribute('data-offset', '3');
  expect(await active(page)).not.toBe('BODY');
  g.check();
});

test('stepping never scrolls the window; the current row stays in the diagram pane', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=mtls&lang=en');
  const { total } = await counter(page);
  for (let i = 1; i < Math.min(total, 40); i++) {
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => (await counter(page)).cur).toBe(i + 1);
    const s = await page.evaluate((i) => {
      const pane = document.querySelector('.diagram-pane').getBoundingClientRect();
      const row = document.getElementById(`ev-${i}`).getBoundingClientRect();
      return { y: window.scrollY, x: window.scrollX, top: row.top - pane.top, bottom: pane.bottom - row.bottom };
    }, i);
    expect(s.y, `step ${i + 1}: window scrolled`).toBe(0);
    expect(s.x).toBe(0);
    expect(s.top, `step ${i + 1}: current row above the pane`).toBeGreaterThanOrEqual(0);
    expect(s.bottom, `step ${i + 1}: current row below the pane`).toBeGreaterThanOrEqual(0);
  }
  g.check();
});

test('on a phone the stage is one column: the current step and its bytes first, then a timeline', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const g = guard(page);
  await page.goto('/?s=hybrid-tamper&lang=ja&embed&at=27');
  await page.waitForSelector('#stage');
  await expect(page.locator('#timeline')).toBeVisible();
  const detail = await page.locator('.detail-pane').boundingBox();
  const diagram = await page.locator('.diagram-pane').boundingBox();
  expect(detail.y).toBeLessThan(diagram.y);
  expect(detail.width).toBeGreaterThan(300);
  await page.screenshot({ path: `${SHOTS}/embed-hybrid-tamper-ja-390x844.png` });
  g.check();
  await ctx.close();
});

test('the page says it is loading before the WASM runs, with its CSP intact', async ({ page, request }) => {
  const html = await (await request.get('/index.html')).text();
  expect(html).toContain('id="loading"');
  expect(html).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
  // No inline script: the one <script> without src is the build's manifest, data the
  // browser never runs.
  expect(html.replace(/<script type="application\/json" id="cipherstage-build">[^<]*<\/script>/, '')).not.toMatch(/<script(?![^>]*src=)/);
  // With the WASM held back, the loading state is what a visitor sees.
  await page.route('**/app-*.wasm', () => {});
  await page.goto('/?lang=en');
  await expect(page.locator('#loading')).toBeVisible();
  await expect(page.locator('#loading')).toContainText('Loading cipherstage');
  await page.unroute('**/app-*.wasm');
  await page.goto('/?lang=en');
  await page.waitForSelector('#picker');
  await expect(page.locator('#loading')).toHaveCount(0);
});
