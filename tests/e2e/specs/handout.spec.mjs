// The handout: the whole run as one printable document, in both languages, printed to
// PDF on A4 and Letter by headless Chromium and turned into PNGs with pdftoppm.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { guard, open, menu, SHOTS } from './helpers.mjs';

// Every message's table accounts for all its bytes: the leaf rows' sizes add up to
// the size its heading gives.
async function everyByteInTables(page) {
  return page.$$eval('.h-message', (steps) => steps.map((s) => {
    const total = Number((s.querySelector('h3').textContent.match(/\((\d+) B\)\s*$/) || [])[1]);
    let leaves = 0;
    for (const row of s.querySelectorAll('tbody tr:not(.h-group)')) {
      leaves += Number(row.querySelector('.h-range small').textContent.replace(/\D/g, ''));
    }
    return { total, leaves };
  }));
}

test('the handout lists every step and every byte of every message, and Escape goes back', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=tls13&lang=en&at=5');
  await page.keyboard.press('h');
  await expect(page.locator('#handout')).toBeVisible();
  const steps = await page.locator('.h-step').count();
  expect(await page.locator('.h-list li').count()).toBe(steps);
  const tables = await everyByteInTables(page);
  expect(tables.length).toBeGreaterThan(5);
  for (const t of tables) expect(t.leaves).toBe(t.total);
  expect(await page.locator('.h-secret', { hasText: 'HKDF-Expand-Label' }).count()).toBeGreaterThan(3);
  await page.keyboard.press('Escape');
  await expect(page.locator('#stage')).toBeVisible();
  // The downloads menu opens it too, and a link opens it directly.
  await menu(page, 'downloads');
  await page.click('#handout-button');
  await expect(page.locator('#handout')).toBeVisible();
  expect(new URL(page.url()).searchParams.get('handout')).toBe('1');
  g.check();
});

for (const [lang, scenario] of [['ja', 'ipsec-tunnel'], ['en', 'mtls']]) {
  test(`the ${lang} handout of ${scenario} prints on A4 and Letter without anything cut`, async ({ page }) => {
    const g = guard(page);
    await open(page, `?s=${scenario}&lang=${lang}&handout=1`);
    await expect(page.locator('#handout')).toBeVisible();
    for (const t of await everyByteInTables(page)) expect(t.leaves).toBe(t.total);
    // The printable width of A4 with the page's margins (210 − 24 mm) is about 703 px:
    // nothing may be wider than that when printing.
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 703, height: 1000 });
    const over = await page.evaluate(() => [...document.querySelectorAll('#handout *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .map((e) => e.className || e.tagName).slice(0, 5));
    expect(over).toEqual([]);
    await expect(page.locator('.handout-bar')).toBeHidden();
    for (const format of ['A4', 'Letter']) {
      const pdf = `${SHOTS}/handout-${scenario}-${lang}-${format}.pdf`;
      await page.pdf({ path: pdf, format, printBackground: true });
      const prefix = `${SHOTS}/handout-${scenario}-${lang}-${format}`;
      execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '3', pdf, prefix]);
      const pages = fs.readdirSync(SHOTS).filter((f) => f.startsWith(`handout-${scenario}-${lang}-${format}-`) && f.endsWith('.png'));
      expect(pages.length).toBeGreaterThanOrEqual(2);
      const info = execFileSync('pdfinfo', [pdf]).toString();
      const n = Number(info.match(/Pages:\s+(\d+)/)[1]);
      console.log(`handout ${scenario} ${lang} ${format}: ${n} pages`);
      expect(n).toBeGreaterThan(1);
    }
    g.check();
  });
}
