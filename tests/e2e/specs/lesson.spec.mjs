// Lessons: a shipped lesson played stop to stop with the stepping keys; a lesson
// built in the page (stops added from views, notes, a step range), saved as a file,
// shared as a link whose fragment carries it deflated, and opened again from both;
// the speaker window (S) kept at the stage's stop over BroadcastChannel; bad links
// and a deflate bomb refused with a notice. English and Japanese, laptop and phone.
import { test, expect } from '@playwright/test';
import zlib from 'node:zlib';
import fs from 'node:fs';
import { guard, counter, open, menu, SHOTS } from './helpers.mjs';

const stageIs = (page, id) => expect(page.locator('#stage')).toHaveAttribute('data-scenario', id);

test('a shipped lesson plays stop to stop with the stepping keys, and survives a reload', async ({ page }) => {
  const g = guard(page);
  await open(page, '?lang=en');
  await expect(page.locator('[data-lesson]')).toHaveCount(3);
  await page.click('[data-lesson="transport"]');
  await stageIs(page, 'hybrid');
  await expect(page.locator('#lesson-counter')).toHaveText('Stop 1 of 5');
  await expect(page.locator('#lesson-note')).toContainText('Hybrid encryption');
  await page.locator('#step-counter').click();
  // A stop without a step range is one view: → goes to the next stop.
  await page.keyboard.press('ArrowRight');
  await stageIs(page, 'tls13');
  await expect(page.locator('#lesson-counter')).toHaveText('Stop 2 of 5');
  // This stop has its quiz on; the button moves on regardless.
  await menu(page, 'settings');
  await expect(page.locator('#quiz-toggle')).toHaveAttribute('aria-pressed', 'true');
  await page.click('#lesson-next');
  await stageIs(page, 'tls-sni-default');
  await expect(page.locator('#lesson-counter')).toHaveText('Stop 3 of 5');
  await expect(page).toHaveURL(/#lesson=transport&stop=3$/);
  await page.locator('#step-counter').click();
  await page.keyboard.press('ArrowLeft');
  await stageIs(page, 'tls13');
  await expect(page).toHaveURL(/[?&]s=tls13[&#].*#lesson=transport&stop=2$/);
  // A reload keeps the lesson and the view.
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('opening'));
  await stageIs(page, 'tls13');
  await expect(page.locator('#lesson-counter')).toHaveText('Stop 2 of 5');
  await page.screenshot({ path: `${SHOTS}/lesson-transport-en-1280x800.png` });
  await page.click('#lesson-leave');
  await expect(page.locator('#lesson-bar')).toHaveCount(0);
  await expect(page).not.toHaveURL(/#lesson/);
  g.check();
});

test('a lesson built in the page is saved as a file and shared as a link, and both open it again (ja)', async ({ page, context }) => {
  const g = guard(page);
  await open(page, '?s=ipsec-transport&lang=ja&at=3');
  await menu(page, 'settings');
  await page.click('#lesson-new');
  await expect(page.locator('#lesson-editor')).toBeVisible();
  await page.fill('#lesson-title', '第1回 IPsec');
  await page.locator('.stop-note').nth(0).fill('トランスポートモードのメモ');
  // Stepping keys step inside the run while editing; then this view becomes stop 2.
  await page.locator('#step-counter').click();
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await counter(page)).cur).toBe(4);
  await page.click('#lesson-add');
  await expect(page.locator('.lesson-stop')).toHaveCount(2);
  await expect(page.locator('#lesson-counter')).toHaveText('ストップ 2 / 2');
  await page.locator('.stop-note').nth(1).fill('ステップ 4 から 6 まで');
  await page.locator('.stop-until').nth(1).fill('6');
  await page.locator('.stop-until').nth(1).dispatchEvent('change');
  await expect(page.locator('.stop-go').nth(1)).toContainText('ステップ 4–6');
  // The link carries the lesson deflated after #, and the stop counted from 1.
  const link = page.locator('#lesson-link');
  await expect.poll(() => link.inputValue()).toMatch(/\?lang=ja#lesson=d\.[A-Za-z0-9_-]+&stop=1$/);
  const href = await link.inputValue();
  // The file.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lesson-save')]);
  const path = `${SHOTS}/lesson-built.txt`;
  await download.saveAs(path);
  const text = fs.readFileSync(path, 'utf8');
  expect(download.suggestedFilename()).toBe('第1回-ipsec-lesson.txt');
  expect(text.split('\n')[0]).toBe('cipherstage-lesson 1');
  expect(text).toContain('\t第1回 IPsec');
  expect(text).toMatch(/^stop\ts=ipsec-transport&seed=1&at=4&from=4&to=6\t0\t\tステップ 4 から 6 まで$/m);
  await page.screenshot({ path: `${SHOTS}/lesson-editor-ja-1280x800.png` });
  // The link, in a new page: the lesson from its first stop.
  const other = await context.newPage();
  const g2 = guard(other);
  await other.goto(href);
  await other.waitForSelector('#lesson-bar');
  await stageIs(other, 'ipsec-transport');
  await expect(other.locator('#lesson-counter')).toHaveText('ストップ 1 / 2');
  await expect(other.locator('#lesson-note')).toHaveText('トランスポートモードのメモ');
  await expect.poll(async () => (await counter(other)).cur).toBe(3);
  await other.locator('#step-counter').click();
  await other.keyboard.press('ArrowRight');
  await expect(other.locator('#lesson-counter')).toHaveText('ストップ 2 / 2');
  await expect.poll(async () => (await counter(other)).cur).toBe(4);
  // Stop 2 has a range: the keys step through it, and no further.
  await other.keyboard.press('ArrowRight');
  await other.keyboard.press('ArrowRight');
  await other.keyboard.press('ArrowRight');
  await expect.poll(async () => (await counter(other)).cur).toBe(6);
  // ← at the range's start goes back to stop 1.
  await other.keyboard.press('Home');
  await expect.poll(async () => (await counter(other)).cur).toBe(4);
  await other.keyboard.press('ArrowLeft');
  await expect(other.locator('#lesson-counter')).toHaveText('ストップ 1 / 2');
  g2.check();
  // The file, opened on the map.
  await other.click('#lesson-leave');
  await other.goto('/?lang=ja');
  await other.setInputFiles('#lessons .lesson-open', path);
  await other.waitForSelector('#lesson-bar');
  await expect(other.locator('.lesson-title')).toHaveText('第1回 IPsec');
  await expect(other.locator('#lesson-counter')).toHaveText('ストップ 1 / 2');
  g.check();
});

test('the speaker window follows the stage and moves it (BroadcastChannel, no server)', async ({ page, context }) => {
  const g = guard(page);
  await open(page, '?lang=en#lesson=network');
  await page.waitForSelector('#lesson-bar');
  await stageIs(page, 'ipsec-transport');
  const [speaker] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('s')]);
  const gs = guard(speaker);
  await speaker.waitForSelector('#speaker-note');
  await expect(speaker.locator('#speaker-counter')).toContainText('Stop 1 of 4');
  await expect(speaker.locator('#speaker-note')).toContainText('transport mode');
  await expect(speaker.locator('#speaker-next')).toContainText('tunnel mode');
  await expect(speaker.locator('#speaker-timer')).toHaveText(/^\d\d:\d\d$/);
  // The speaker's button moves the stage; the stage's key moves the speaker.
  await speaker.click('#speaker-go-next');
  await stageIs(page, 'ipsec-tunnel');
  await expect(page.locator('#lesson-counter')).toHaveText('Stop 2 of 4');
  await expect(speaker.locator('#speaker-counter')).toContainText('Stop 2 of 4');
  await page.bringToFront();
  await page.locator('#step-counter').click();
  await page.keyboard.press('ArrowRight');
  await stageIs(page, 'ikev2-remote-access');
  await expect(speaker.locator('#speaker-counter')).toContainText('Stop 3 of 4');
  await speaker.screenshot({ path: `${SHOTS}/lesson-speaker-en-1280x800.png` });
  // A stop picked in the speaker's list.
  await speaker.locator('.speaker-stops button').nth(3).click();
  await stageIs(page, 'vpn-openvpn');
  await expect(speaker.locator('#speaker-next')).toHaveText('This is the last stop.');
  gs.check();
  g.check();
});

test('presenter mode shows the lesson without its notes, and nothing runs off a phone (ja)', async ({ browser }) => {
  for (const [w, h, q] of [[1920, 1080, '&present=1'], [390, 844, '']]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: h } });
    const page = await ctx.newPage();
    const g = guard(page);
    await open(page, `?lang=ja${q}#lesson=application`);
    await page.waitForSelector('#lesson-bar');
    await stageIs(page, 'smime-signed');
    await expect(page.locator('#lesson-note')).toHaveCount(q ? 0 : 1);
    if (!q) {
      await page.click('#lesson-edit');
      await expect(page.locator('.lesson-stop')).toHaveCount(6);
    }
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide).toBeLessThanOrEqual(w);
    const small = await page.$$eval('#lesson-bar button', (bs) => bs.map((b) => parseFloat(getComputedStyle(b).fontSize)));
    expect(Math.min(...small)).toBeGreaterThanOrEqual(q ? 20 : 12);
    await page.screenshot({ path: `${SHOTS}/lesson-application-ja-${w}x${h}.png` });
    g.check();
    await ctx.close();
  }
});

test('a bad lesson link is refused with a notice, a deflate bomb included, and the page goes on', async ({ page }) => {
  const bomb = zlib.deflateRawSync(Buffer.alloc(2_000_000, 0x61)).toString('base64url');
  expect(bomb.length).toBeLessThan(10_000);
  const cases = [
    ['d.AAAA', 'not a cipherstage lesson'],
    [`t.${Buffer.from('hello').toString('base64url')}`, 'not a cipherstage lesson'],
    [`t.${Buffer.from('cipherstage-lesson 1\nstop\tseed=1\t0\t\t\n').toString('base64url')}`, 'names no scenario'],
    [`d.${bomb}`, 'not a cipherstage lesson'],
    ['nosuch', 'not a cipherstage lesson'],
  ];
  for (const [value, text] of cases) {
    // A new document each time (a change of fragment alone is no new page).
    await page.goto('about:blank');
    await open(page, `?lang=en#lesson=${value}`);
    await expect(page.locator('.notice')).toContainText(text);
    await expect(page.locator('#lesson-bar')).toHaveCount(0);
    await expect(page.locator('#picker')).toBeVisible();
  }
  // The page still works: a shipped lesson opens.
  await page.click('[data-lesson="application"]');
  await stageIs(page, 'smime-signed');
});
