// Accessibility: axe-core (npm) finds no serious or critical violation on the map, a
// scenario and an embed, in both languages and every theme. The page's CSP refuses
// injected scripts, so this context alone bypasses it (bypassCSP) to load axe.
import { test, expect } from '@playwright/test';
import { createRequire } from 'node:module';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PAGES = [
  ['map', '?'],
  ['scenario', '?s=tls13&at=12&'],
  ['embed', '?s=hybrid-tamper&at=20&embed&'],
];

for (const lang of ['en', 'ja']) {
  test(`axe: no serious or critical violation, ${lang}, every theme`, async ({ browser }) => {
    test.setTimeout(300_000);
    const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const found = [];
    for (const theme of ['auto', 'light', 'dark', 'projector']) {
      for (const [name, q] of PAGES) {
        await page.goto(`/${q}lang=${lang}${theme === 'auto' ? '' : `&theme=${theme}`}`);
        await page.waitForSelector(name === 'map' ? '#picker' : '#stage');
        await page.addScriptTag({ path: axePath });
        const result = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ['violations'] });
          return r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.length}× e.g. ${v.nodes[0]?.target.join(' ')}`);
        });
        for (const v of result) found.push(`${name} ${theme}: ${v}`);
      }
    }
    expect(found, found.join('\n')).toEqual([]);
    await ctx.close();
  });
}
