// Every scenario on the map, in both languages: every step renders, every message's
// bytes are all shown and all belong to a field, and no text is missing a translation.
// One test per language, so the two run side by side on the two workers.
// Every step is stepped through (one key press each, in order); CI checks the text and bytes of a fixed
// sample of them (every 4th step and the last two), `cargo xtask audit --full`
// (WALK_FULL=1) checks every one.
const FULL = process.env.WALK_FULL === '1';
import { test, expect } from '@playwright/test';
import { guard, counter, open, SHOTS } from './helpers.mjs';

for (const lang of ['en', 'ja']) {
  test(`every scenario, every step, in ${lang}`, async ({ page }) => {
    test.setTimeout(1_200_000);
    const g = guard(page);
    await open(page, `?lang=${lang}`);
    const ids = await page.locator('[data-scenario]').evaluateAll((els) => els.map((e) => e.dataset.scenario));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    let steps = 0;
    let messages = 0;
    for (const id of ids) {
      await open(page, `?s=${id}&lang=${lang}`);
      await expect(page.locator('#stage')).toHaveAttribute('data-scenario', id);
      const { total } = await counter(page);
      for (let i = 0; i < total; i++) {
        if (!FULL && i % 4 !== 0 && i < total - 2) {
          // A step outside the sample: pressed without waiting for its frame; the
          // page takes the keys in order and the next sampled step waits for its own.
          await page.keyboard.press('ArrowRight');
          continue;
        }
        await expect.poll(async () => (await counter(page)).cur).toBe(i + 1);
        steps++;
        const body = await page.locator('#stage').innerText();
        expect(body, `${id} ${lang} step ${i}: untranslated key`).not.toContain('⟦');
        if (await page.locator('#hex').count()) {
          messages++;
          // The label and the byte grid of one message (polled: the two render in
          // the same frame, but a read can fall between them).
          let seen = '';
          await expect
            .poll(async () => {
              const n = await page.locator('#hex .b').count();
              const label = await page.locator('.row.current .msg-label').textContent();
              seen = `${label} / ${n} bytes`;
              return label.includes(`(${n} B)`);
            }, { message: `${id} step ${i}: ${seen}` })
            .toBe(true);
          const loose = await page.locator('#hex .b:not(.p-plain):not(.p-enc):not(.p-int):not(.p-sig):not(.p-key)').count();
          expect(loose, `${id} step ${i}: bytes without a field`).toBe(0);
        }
        await page.keyboard.press('ArrowRight');
      }
      await expect.poll(async () => (await counter(page)).cur).toBe(total);
      await page.screenshot({ path: `${SHOTS}/scenario-${id}-${lang}-1280x800.png` });
    }
    console.log(`${ids.length} scenarios in ${lang}: ${steps} steps checked${FULL ? ' (all)' : ' (sample)'}, ${messages} message views`);
    g.check();
  });
}
