// The compare view: two runs side by side, messages paired, differing bytes marked,
// sizes totalled — ESP transport against tunnel mode (Japanese), and one scenario
// against itself with another seed (English).
import { test, expect } from '@playwright/test';
import { guard, open, menu, SHOTS } from './helpers.mjs';

// The bytes of each side as the rows give them.
const sides = (page) => page.$$eval('.cmp-row', (rows) => rows.map((r) => {
  const [l, rt] = r.querySelectorAll('.cmp-side');
  const n = (el) => { const m = el.querySelector('.cmp-msg'); return m ? Number(m.dataset.bytes) : null; };
  return { left: n(l), right: n(rt) };
}));

test('ESP transport and tunnel mode side by side: tunnel packets are larger, and the total says by how much', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await open(page, '?s=ipsec-transport&lang=ja&compare=ipsec-tunnel');
  await expect(page.locator('#compare-rows .cmp-row').first()).toBeVisible();
  const rows = await sides(page);
  const sum = (k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
  const [left, right] = [sum('left'), sum('right')];
  expect(right).toBeGreaterThan(left);
  await expect(page.locator('#compare-total')).toContainText(`${left} B と ${right} B（右が +${right - left} B）`);
  // Paired ESP packets: the tunnel one is bigger (the inner IP header is inside it).
  const paired = rows.filter((r) => r.left !== null && r.right !== null);
  expect(paired.length).toBeGreaterThan(0);
  expect(paired.some((r) => r.right > r.left)).toBe(true);
  // Opening a row shows both messages' bytes with the differences marked.
  await page.locator('.cmp-row.paired summary').first().click();
  expect(await page.locator('.cmp-row.paired details[open] .diff').count()).toBeGreaterThan(0);
  await page.screenshot({ path: `${SHOTS}/compare-ipsec-ja-1280x800.png` });
  await page.keyboard.press('Escape');
  await expect(page.locator('#stage')).toBeVisible();
  g.check();
  await ctx.close();
});

test('one scenario against another seed: every message pairs, sizes equal, the random bytes differ (phone)', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await open(page, '?s=hybrid&lang=en');
  await menu(page, 'settings');
  await page.click('#compare-button');
  await expect(page.locator('#compare-rows .cmp-row').first()).toBeVisible();
  await expect(page.locator('#compare-seed')).toHaveValue('2');
  const rows = await sides(page);
  expect(rows.every((r) => r.left !== null && r.left === r.right)).toBe(true);
  await expect(page.locator('#compare-total')).toContainText('(+0 B on the right)');
  const differ = await page.$$eval('.cmp-diff', (d) => d.map((x) => Number(x.textContent.match(/^(\d+) bytes differ/)[1])));
  expect(differ.some((n) => n > 0)).toBe(true);
  // Nothing wider than the phone.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(wide).toBeLessThanOrEqual(390);
  await page.screenshot({ path: `${SHOTS}/compare-hybrid-en-390x844.png`, fullPage: true });
  expect(new URL(page.url()).searchParams.get('compare')).toBe('hybrid');
  g.check();
  await ctx.close();
});
