// Quiz mode: before a step that sends something the page asks what it will be, with
// options drawn from the run; stepping on shows the answer, which is the step itself;
// the score stays in the browser. English and Japanese, a flipped byte's alert, presenter.
import { test, expect } from '@playwright/test';
import { guard, counter, open, menu, SHOTS } from './helpers.mjs';

// Steps on until a question is on screen (bounded); returns its prompt.
async function toQuestion(page, match = /./, limit = 120) {
  for (let i = 0; i < limit; i++) {
    if (await page.locator('#quiz').count()) {
      const prompt = await page.locator('#quiz-prompt').innerText();
      if (match.test(prompt)) return prompt;
      await page.keyboard.press('ArrowRight'); // reveal, and go on
      continue;
    }
    await page.keyboard.press('ArrowRight');
  }
  throw new Error(`no question matching ${match} within ${limit} steps`);
}

// The option texts without their letters.
const optionTexts = (page) => page.$$eval('.quiz-option', (bs) => bs.map((b) => b.textContent.replace(/^[A-D]: /, '')));

test('a question before a message; stepping on shows it; the score stays in the browser', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=tls13&lang=en&quiz=1');
  await page.locator('#step-counter').click();
  const prompt = await toQuestion(page, /send to/);
  expect(prompt).toMatch(/^What does .+ send to .+ next\?$/);
  const before = (await counter(page)).cur;
  const options = await optionTexts(page);
  expect(options.length).toBeGreaterThanOrEqual(3);
  expect(new Set(options).size).toBe(options.length);
  await page.keyboard.press('1');
  await expect(page.locator('#quiz-a')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('ArrowRight');
  // The answer is the step itself: exactly one option is in its caption.
  expect((await counter(page)).cur).toBe(before + 1);
  const caption = await page.locator('#caption').innerText();
  const inCaption = options.filter((o) => caption.endsWith(`: ${o}`));
  expect(inCaption.length).toBe(1);
  const verdict = page.locator('#quiz-verdict');
  await expect(verdict).toBeVisible();
  const right = inCaption[0] === options[0];
  await expect(verdict).toHaveText(right ? `✓ Right: A: ${options[0]}` : new RegExp(`^✗ You picked A: .*; the answer is [B-D]: ${inCaption[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  // The score is kept in localStorage and survives a reload.
  const stored = await page.evaluate(() => localStorage.getItem('cipherstage.quiz.score'));
  expect(stored).toBe(right ? '1/1' : '0/1');
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('opening'));
  await page.locator('#step-counter').click();
  await toQuestion(page);
  await expect(page.locator('#quiz-score')).toHaveText(`In this browser: ${right ? 1 : 0} of 1 right`);
  // Stepping back drops the question; X turns quiz mode off.
  await page.keyboard.press('ArrowLeft');
  await expect(page.locator('#quiz')).toHaveCount(0);
  await page.keyboard.press('x');
  await menu(page, 'settings');
  await expect(page.locator('#quiz-toggle')).toHaveAttribute('aria-pressed', 'false');
  // The Settings panel's button turns it back on.
  await page.click('#quiz-toggle');
  await expect(page.locator('#quiz-toggle')).toHaveAttribute('aria-pressed', 'true');
  g.check();
});

test('after a flipped byte, the quiz asks which alert the receiver sends (Japanese, presenter)', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await open(page, '?s=hybrid-tamper&lang=ja&quiz=1&present=1');
  await page.locator('#step-counter').click();
  const prompt = await toQuestion(page, /拒否/);
  expect(prompt).toContain('送るアラート');
  const options = await optionTexts(page);
  await page.screenshot({ path: `${SHOTS}/quiz-alert-ja-1920x1080.png` });
  // The options are large for a show of hands.
  const size = await page.locator('.quiz-option').first().evaluate((b) => parseFloat(getComputedStyle(b).fontSize));
  expect(size).toBeGreaterThanOrEqual(28);
  await page.keyboard.press('ArrowRight');
  const caption = await page.locator('#caption').innerText();
  expect(options.filter((o) => caption.includes(o)).length).toBe(1);
  await expect(page.locator('#quiz-verdict')).toContainText('正解');
  g.check();
  await ctx.close();
});
