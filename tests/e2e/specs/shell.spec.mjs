import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { guard, counter, open, menu, SHOTS } from './helpers.mjs';

test('the layer map lists the scenarios, in English and in Japanese', async ({ page }) => {
  const g = guard(page);
  await open(page, '?lang=en');
  await expect(page.locator('.picker h1')).toHaveText('Encryption protocols, layer by layer');
  await expect(page.locator('[data-scenario="hybrid"]')).toBeVisible();
  await expect(page.locator('[data-scenario="hybrid-tamper"]')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/picker-en-1280x800.png` });
  await page.click('#lang-switch');
  await expect(page.locator('.picker h1')).toHaveText('暗号化プロトコルをレイヤーごとに');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(page).toHaveURL(/[?&]lang=ja(&|$)/);
  await page.screenshot({ path: `${SHOTS}/picker-ja-1280x800.png` });
  g.check();
});

test('the browser language picks Japanese when no language is in the URL', async ({ browser }) => {
  const ctx = await browser.newContext({ locale: 'ja-JP' });
  const page = await ctx.newPage();
  await open(page, '');
  await expect(page.locator('.picker h1')).toHaveText('暗号化プロトコルをレイヤーごとに');
  await ctx.close();
});

test('a deep link reopens the same scenario, seed, step and language', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&seed=7&step=5&lang=ja');
  await expect(page.locator('#stage')).toHaveAttribute('data-scenario', 'hybrid');
  await expect.poll(async () => (await counter(page)).cur).toBe(6);
  await menu(page, 'settings');
  await expect(page.locator('#seed')).toHaveValue('7');
  const caption = await page.locator('#caption').innerText();
  await page.reload();
  await page.waitForSelector('#stage');
  await expect.poll(async () => (await counter(page)).cur).toBe(6);
  await expect(page.locator('#caption')).toHaveText(caption);
  g.check();
});

test('keys step through the scenario: → Space N forward, ← B back, Home, End', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&lang=en');
  const { total } = await counter(page);
  expect(total).toBeGreaterThan(10);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press(' ');
  await page.keyboard.press('n');
  await expect.poll(async () => (await counter(page)).cur).toBe(4);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('b');
  await expect.poll(async () => (await counter(page)).cur).toBe(2);
  await page.keyboard.press('End');
  await expect.poll(async () => (await counter(page)).cur).toBe(total);
  // The URL counts steps as the screen does.
  await expect(page).toHaveURL(new RegExp(`[?&]at=${total}(&|$)`));
  await page.keyboard.press('Home');
  await expect.poll(async () => (await counter(page)).cur).toBe(1);
  await page.keyboard.press('l');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  g.check();
});

test('play advances on its own and pause stops it', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en');
  await page.selectOption('.speed select', '3');
  await page.click('#play');
  await expect.poll(async () => (await counter(page)).cur, { timeout: 10000 }).toBeGreaterThan(3);
  await page.click('#play');
  const stopped = (await counter(page)).cur;
  await page.waitForTimeout(1200);
  await expect.poll(async () => (await counter(page)).cur).toBe(stopped);
});

test('every message shows all its bytes, each coloured by a field, linked to the tree', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid&lang=en');
  const { total } = await counter(page);
  await page.keyboard.press('Home');
  await expect.poll(async () => (await counter(page)).cur).toBe(1);
  let messages = 0;
  for (let i = 0; i < total; i++) {
    if (await page.locator('#hex').count()) {
      messages++;
      const bytes = page.locator('#hex .b');
      const n = await bytes.count();
      const label = await page.locator('.row.current .msg-label').textContent();
      expect(label).toContain(`(${n} B)`);
      // Every byte belongs to a field with a protection kind.
      const unclassified = await page.locator('#hex .b:not(.p-plain):not(.p-enc):not(.p-int):not(.p-sig):not(.p-key)').count();
      expect(unclassified).toBe(0);
      // Clicking the last byte selects its field and shows its explanation.
      await bytes.nth(n - 1).click();
      await expect(page.locator('#field-tree li.sel .explain')).toBeVisible();
      await expect(page.locator('#hex .b.sel').last()).toHaveAttribute('data-offset', String(n - 1));
      // Clicking the first field in the tree highlights its bytes.
      await page.locator('#field-tree > li > button').first().click();
      await expect(page.locator('#hex .b.sel').first()).toHaveAttribute('data-offset', '0');
      // Arrows inside the byte grid move its own cursor: step from outside it.
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
    }
    if (i + 1 < total) {
      await page.keyboard.press('ArrowRight');
      await expect.poll(async () => (await counter(page)).cur).toBe(i + 2);
    }
  }
  expect(messages).toBe(4);
  g.check();
});

test('the eavesdropper view hides ciphertext and keeps the header readable', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en&step=0');
  // Walk to the sealed message.
  for (let i = 0; i < 40 && !(await page.locator('#hex .b.p-enc').count()); i++) await page.keyboard.press('ArrowRight');
  await expect(page.locator('#hex .b.p-enc').first()).toBeVisible();
  await expect(page.locator('#hex .b.opaque')).toHaveCount(0);
  await page.keyboard.press('e');
  expect(await page.locator('#hex .b.opaque').count()).toBe(await page.locator('#hex .b.p-enc').count());
  await expect(page.locator('#hex .b.p-int.opaque')).toHaveCount(0);
  await expect(page).toHaveURL(/[?&]eve=1(&|$)/);
  await page.screenshot({ path: `${SHOTS}/eve-en-1280x800.png` });
});

test('a flipped byte makes the receiver reject the message with a tag mismatch', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=hybrid-tamper&lang=en');
  await page.keyboard.press('End');
  await expect(page.locator('#caption')).toContainText('rejects');
  const fail = page.locator('.row .glyph.check.fail');
  await expect(fail).toHaveCount(1);
  await fail.click();
  await expect(page.locator('.check-detail.fail')).toContainText('authentication tag mismatch');
  // Flip a header byte instead, from the inspector: the type byte no longer decodes.
  await page.goto('/?s=hybrid-tamper&lang=en');
  await page.waitForSelector('#stage');
  for (let i = 0; i < 40 && !(await page.locator('#hex .b.p-enc').count()); i++) await page.keyboard.press('ArrowRight');
  await page.locator('#hex .b').first().click();
  await page.click('#flip-here');
  await expect(page.locator('[data-param="flip"]')).toHaveValue(/^2:0$/);
  await page.keyboard.press('End');
  await expect(page.locator('.alert-detail, #caption')).toBeVisible();
  expect(await page.locator('.row .marker-label.alert').textContent()).toContain('decode_error');
  await page.screenshot({ path: `${SHOTS}/tamper-en-1280x800.png` });
  g.check();
});

test('any scenario with Eve on the path lets a byte be flipped, not only the tamper ones', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=tls13&lang=en');
  await expect(page.locator('[data-param="flip"]')).toHaveValue('');
  // Step to the server's encrypted Certificate record and flip a ciphertext byte.
  for (let i = 0; i < 80 && !(await page.locator('#hex .b.p-enc').count()); i++) await page.keyboard.press('ArrowRight');
  await page.locator('#hex .b.p-enc').nth(10).click();
  await page.click('#flip-here');
  await expect(page.locator('[data-param="flip"]')).toHaveValue(/^\d+:\d+$/);
  await page.keyboard.press('End');
  await expect(page.locator('.row .marker-label.alert').first()).toContainText('bad_record_mac');
  // The certificate story has no attacker: nothing to flip there.
  await open(page, '?s=tls-certificate&lang=en&step=7');
  await page.locator('#hex .b').first().click();
  await expect(page.locator('#flip-here')).toHaveCount(0);
  g.check();
});

test('live randomness gives new keys each run; a seed gives the same bytes again', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en&seed=3&step=2');
  const seeded = await page.locator('#hex').innerText();
  await menu(page, 'settings');
  await page.check('#live');
  await expect(page.locator('#seed')).toBeDisabled();
  await expect(page).toHaveURL(/[?&]seed=live(&|$)/);
  // Each run comes back from the worker: wait for its bytes, not for the click.
  await expect.poll(() => page.locator('#hex').innerText()).not.toBe(seeded);
  const live1 = await page.locator('#hex').innerText();
  await page.getByRole('button', { name: 'Run again' }).click();
  await expect.poll(() => page.locator('#hex').innerText()).not.toBe(live1);
  await page.uncheck('#live');
  await page.fill('#seed', '3');
  await page.locator('#seed').dispatchEvent('change');
  await expect.poll(() => page.locator('#hex').innerText()).toBe(seeded);
});

test('bytes computed in WASM equal the native core\'s, and the export imports back', async ({ page }) => {
  const nativePath = process.env.NATIVE_JSON;
  expect(nativePath, 'xtask sets NATIVE_JSON').toBeTruthy();
  const native = JSON.parse(fs.readFileSync(nativePath, 'utf8'));
  await open(page, '?s=hybrid&seed=1&lang=en');
  await menu(page, 'downloads');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  expect(download.suggestedFilename()).toBe('hybrid-transcript.json');
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  expect(exported).toEqual(native);
  await menu(page, 'settings');
  await page.setInputFiles('#import', await download.path());
  await expect(page.locator('#stage')).toHaveAttribute('data-scenario', 'imported');
  await expect(page.locator('.stage-head h1')).toHaveText('Imported transcript');
  // A broken file is refused with a position, and the page keeps working.
  await page.setInputFiles('#import', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{\n "scenario": 1,') });
  await expect(page.locator('#notice')).toContainText('line 2');
  // Well-formed JSON naming an actor that does not exist is refused too.
  const hostile = structuredClone(native);
  hostile.events.find((e) => e.type === 'message').to = 99;
  await page.setInputFiles('#import', { name: 'hostile.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(hostile)) });
  await expect(page.locator('#notice')).toContainText('does not define');
  await page.keyboard.press('End');
  await expect.poll(async () => (await counter(page)).cur).toBe(native.events.length);
});

test('a stale URL opens the scenario with defaults and a notice naming what was dropped', async ({ page }) => {
  const g = guard(page);
  // Only a scenario that does not exist opens the map.
  await open(page, '?s=nope&lang=en');
  await expect(page.locator('#notice')).toContainText('no scenario called "nope"');
  await expect(page.locator('#picker')).toBeVisible();
  const cases = [
    ['?s=hybrid&seed=abc&lang=en', 'the seed "abc"', 1],
    ['?s=hybrid&step=999&lang=en', 'step=999 (this scenario has steps 1–', 1],
    ['?s=hybrid&at=99999&lang=en', 'at=99999', 1],
    ['?s=hybrid&step=-1&lang=en', 'step=-1', 1],
    ['?s=hybrid&p.nonsense=1&lang=en', 'the parameter "nonsense" = "1" (this scenario has no such parameter)', 1],
    ['?s=hybrid&zoom=3&at=4&lang=en', '"zoom"', 4],
    ['?s=hybrid-tamper&p.flip=x&lang=en', 'the parameter "flip" = "x"', 1],
    ['?s=hybrid-tamper&p.flip=99:99999&lang=en', 'the flip 99:99999 (this run has only', 1],
    ['?s=hybrid-tamper&p.flip=2:99999&lang=en', 'the flip 2:99999 (that message has only', 1],
    ['?s=hybrid&seed=99999999999999999999999&lang=ja', 'シード', 1],
  ];
  for (const [q, text, at] of cases) {
    await open(page, q);
    await expect(page.locator('#stage'), q).toBeVisible();
    await expect(page.locator('#notice'), q).toContainText(text);
    await expect.poll(async () => (await counter(page)).cur, q).toBe(at);
  }
  // What was dropped is gone from the address too.
  await open(page, '?s=hybrid-tamper&p.flip=99:99999&p.nosuch=1&lang=en');
  await expect(page).not.toHaveURL(/flip=|nosuch/);
  // An out-of-range flip typed into the form is said, not silently ignored.
  await open(page, '?s=hybrid-tamper&lang=en');
  await page.fill('[data-param="flip"]', '1:99999');
  await page.locator('[data-param="flip"]').dispatchEvent('change');
  await expect(page.locator('#notice')).toContainText('the flip 1:99999');
  // Long and odd parameter values are handled, not crashed on.
  await open(page, `?s=hybrid&lang=en&p.text=${'%F0%9F%94%91'.repeat(300)}`);
  await expect(page.locator('#notice')).toContainText('parameter "text"');
  await expect(page.locator('#stage')).toBeVisible();
  await open(page, `?s=hybrid&lang=en&p.text=${encodeURIComponent('<script>alert(1)</script>')}`);
  await expect(page.locator('#stage')).toBeVisible();
  await expect(page.locator('#fatal')).toBeHidden();
  g.check();
});

test('old links with step= open the step they opened before; new links say at=', async ({ page }) => {
  await open(page, '?s=hybrid&step=5&lang=en');
  await expect.poll(async () => (await counter(page)).cur).toBe(6);
  await expect(page).toHaveURL(/[?&]at=6(&|$)/);
  await expect(page).not.toHaveURL(/[?&]step=/);
  await open(page, '?s=hybrid&at=6&lang=en');
  await expect.poll(async () => (await counter(page)).cur).toBe(6);
});

test('the built site works under a sub-path; after the first paint it asks only for its own files, and nothing once they are here', async ({ page }) => {
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto('/sub/path/?s=hybrid&lang=en');
  await page.waitForSelector('#stage');
  // The build's own files, as its manifest names them (content-hashed).
  const manifest = JSON.parse(await page.locator('#cipherstage-build').textContent());
  const own = new Set([
    manifest.app.js, manifest.app.wasm, manifest.worker,
    ...Object.values(manifest.catalogues).flatMap((chunks) => Object.values(chunks)),
    ...Object.values(manifest.modules).flatMap((m) => [m.js, m.wasm]),
    'manifest.webmanifest', 'icon.svg', 'sw.js',
  ]);
  expect(own.size).toBeGreaterThan(10);
  const first = requests.length;
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
  await page.fill('[data-param="text"]', 'changed');
  await page.locator('[data-param="text"]').dispatchEvent('change');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('l');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(page.locator('#caption')).not.toContainText('⟦');
  const later = requests.slice(first).map((u) => new URL(u));
  for (const u of later) {
    expect(u.origin).toBe(new URL(page.url()).origin);
    expect(u.pathname.startsWith('/sub/path/'), u.href).toBe(true);
    expect(own.has(u.pathname.slice('/sub/path/'.length)), u.href).toBe(true);
  }
  // The other language's catalogue (its base and this family's chunk) came when it
  // was asked for, once each.
  for (const chunk of [manifest.catalogues.ja.base, manifest.catalogues.ja.hybrid]) {
    expect(later.filter((u) => u.pathname.endsWith(chunk))).toHaveLength(1);
  }
  // Once loaded it works offline: a live re-run and stepping need nothing from the network.
  requests.length = 0;
  await page.context().setOffline(true);
  await menu(page, 'settings');
  await page.check('#live');
  await page.keyboard.press('End');
  await expect(page.locator('#caption')).toBeVisible();
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('l');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  expect(requests).toEqual([]);
});

test('the embed layout fits 640×400 and keeps the keyboard', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 640, height: 400 } });
  const page = await ctx.newPage();
  await page.goto('/?s=hybrid&lang=ja&embed');
  await page.waitForSelector('#stage');
  await expect(page.locator('header.top')).toHaveCount(0);
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await counter(page)).cur).toBe(9);
  await page.screenshot({ path: `${SHOTS}/embed-ja-640x400.png` });
  await ctx.close();
});

test('screenshots of a message in both languages', async ({ page }) => {
  for (const lang of ['en', 'ja']) {
    await open(page, `?s=hybrid&lang=${lang}&step=21`);
    await page.locator('#hex .b').nth(12).click();
    await page.screenshot({ path: `${SHOTS}/message-${lang}-1280x800.png` });
  }
});

test('after a panic the page says so and reloads the same view', async ({ page }) => {
  await open(page, '?s=hybrid&lang=ja&step=4&seed=5');
  await page.evaluate(() => { try { window.wasmBindings.cipherstage_test_panic(); } catch (e) { /* the hook has run */ } });
  await expect(page.locator('#fatal')).toBeVisible();
  await expect(page.locator('#fatal-title')).toHaveText('cipherstage の内部で問題が発生しました。');
  await expect(page.locator('#app')).toBeHidden();
  const href = await page.locator('#fatal-reload').getAttribute('href');
  expect(href).toContain('s=hybrid');
  expect(href).toContain('at=5');
  await page.click('#fatal-reload');
  await page.waitForSelector('#stage');
  await expect.poll(async () => (await counter(page)).cur).toBe(5);
  await menu(page, 'settings');
  await expect(page.locator('#seed')).toHaveValue('5');
});

test('the documentation demo page shows two working widgets at the height reserved before they loaded', async ({ page }) => {
  const g = guard(page);
  await page.goto('/embed-demo.html');
  const frames = page.locator('iframe');
  await expect(frames).toHaveCount(3);
  const first = page.frameLocator('iframe').first();
  const second = page.frameLocator('iframe').nth(1);
  await expect(first.locator('#stage')).toHaveAttribute('data-scenario', 'hybrid');
  await expect(second.locator('#stage')).toHaveAttribute('data-scenario', 'hybrid-tamper');
  await expect(second.locator('#caption')).toContainText('拒否');
  // Each iframe keeps the height the loader reserved for its width (two columns: 460 px),
  // whatever its content posts, so the page around it never moves.
  await page.waitForTimeout(500);
  expect(await frames.nth(0).evaluate((f) => f.style.height)).toBe('460px');
  expect(await frames.nth(1).evaluate((f) => f.style.height)).toBe('460px');
  // The keyboard works inside a widget.
  await first.locator('#step-counter').click();
  await page.keyboard.press('ArrowRight');
  await expect(first.locator('#step-counter')).toHaveText(/^4 \//);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.screenshot({ path: `${SHOTS}/embed-demo-1280x1000.png`, fullPage: true });
  g.check();
});

test('presenter mode: full-screen layout, large text, projector colours, chrome hidden', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await page.goto('/?s=hybrid&lang=ja&step=21');
  await page.waitForSelector('#stage');
  await page.keyboard.press('f');
  await expect(page.locator('.shell.presenter')).toBeVisible();
  await expect(page.locator('header.top')).toHaveCount(0);
  await expect(page.locator('.side-pane')).toBeHidden();
  await expect(page).toHaveURL(/[?&]present=1(&|$)/);
  const size = await page.locator('.shell').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(size).toBeGreaterThanOrEqual(28);
  const bg = await page.locator('body').evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(bg).toBe('rgb(0, 0, 0)');
  await page.keyboard.press('ArrowRight');
  await page.screenshot({ path: `${SHOTS}/presenter-ja-1920x1080.png` });
  await page.keyboard.press('f');
  await expect(page.locator('header.top')).toBeVisible();
  g.check();
  await ctx.close();
});

test('the help overlay lists the keys; themes cycle and stay in the URL', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog')).toContainText('Presenter mode');
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.keyboard.press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.keyboard.press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page).toHaveURL(/[?&]theme=dark(&|$)/);
  await page.screenshot({ path: `${SHOTS}/dark-en-1280x800.png` });
});

test('the embed snippet for the current view can be copied', async ({ page }) => {
  await open(page, '?s=hybrid&lang=en&step=3');
  await menu(page, 'settings');
  await page.click('#embed-button');
  const text = await page.locator('#snippet-text').inputValue();
  expect(text).toContain('data-cipherstage="s=hybrid&amp;');
  expect(text).toContain('at=4');
  expect(text).toContain('embed.js');
  await page.click('#snippet-copy');
  await expect(page.locator('#snippet-copy')).toHaveText('Copied');
});

test('an IPsec run downloads as a pcapng capture with its tshark keys', async ({ page }) => {
  await open(page, '?s=ipsec-tunnel&lang=en');
  await menu(page, 'downloads');
  const [pcap] = await Promise.all([page.waitForEvent('download'), page.click('[data-file$=".pcapng"]')]);
  expect(pcap.suggestedFilename()).toBe('ipsec-tunnel-capture.pcapng');
  const bytes = fs.readFileSync(await pcap.path());
  expect(bytes.subarray(0, 4).toString('hex')).toBe('0a0d0d0a');
  await menu(page, 'downloads');
  const [keys] = await Promise.all([page.waitForEvent('download'), page.click('[data-file$="-tshark.txt"]')]);
  expect(fs.readFileSync(await keys.path(), 'utf8')).toContain('uat:esp_sa:"IPv4"');
});

test('the certificate story hands out its CSR and certificates as PEM, made in this page', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=tls-certificate&lang=en&p.server_key=ecdsa-p256');
  await menu(page, 'downloads');
  const [csr] = await Promise.all([page.waitForEvent('download'), page.click('[data-file="tls-certificate-server-csr.pem"]')]);
  const text = fs.readFileSync(await csr.path(), 'utf8');
  expect(text).toContain('-----BEGIN CERTIFICATE REQUEST-----');
  // The CSR's bytes are the ones the step shows.
  await page.keyboard.press('End');
  await page.locator('.row', { hasText: 'Certificate signing request' }).first().click();
  await expect(page.locator('.field', { hasText: 'CertificationRequestInfo' }).first()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/certificate-csr-en-1280x800.png` });
  g.check();
});

test('the key schedule is drawn by depth, names each secret\'s sources and its nodes lead to their steps', async ({ page }) => {
  const g = guard(page);
  await open(page, '?s=tls13&lang=en');
  await page.keyboard.press('End');
  await page.keyboard.press('k');
  await expect(page.locator('#key-schedule')).toBeVisible();
  const nodes = page.locator('#key-schedule .ks-node');
  expect(await nodes.count()).toBeGreaterThan(5);
  expect(await page.locator('#key-schedule .ks-edge').count()).toBeGreaterThan(5);
  await page.screenshot({ path: `${SHOTS}/key-schedule-tls13-en-1280x800.png` });
  await nodes.filter({ has: page.locator('.ks-edge') }).nth(1).click();
  await expect(page.locator('.ks-node.current')).toHaveCount(1);
  // The current secret's sources are lit, and each is named on it.
  const current = page.locator('.ks-node.current');
  const from = await current.locator('.ks-edge').allInnerTexts();
  expect(from.length).toBeGreaterThan(0);
  await expect(page.locator('.ks-node.source')).toHaveCount(new Set(from).size);
  // Keyboard: every node is a button; Enter on one goes to its step.
  await nodes.nth(0).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('.ks-node').nth(0)).toHaveClass(/current/);
  await expect(page.locator('#caption')).toBeVisible();
  await page.keyboard.press('k');
  await expect(page.locator('svg.sequence')).toBeVisible();
  g.check();
});

test('a browser refusing the server certificate shows the warning page', async ({ page }) => {
  for (const [id, code] of [
    ['tls-wrong-host', 'COMMON_NAME_INVALID'], ['tls-self-signed', 'AUTHORITY_INVALID'], ['tls-expired-server', 'DATE_INVALID'],
    ['tls-certificate&p.visit=shop.example.com', 'COMMON_NAME_INVALID'], ['tls-certificate&p.issuer=self', 'AUTHORITY_INVALID'],
  ]) {
    await open(page, `?s=${id}&lang=ja`);
    await page.keyboard.press('End');
    await page.locator('.row .glyph.alert').first().click();
    await expect(page.locator('#browser-warning')).toContainText('この接続ではプライバシーが保護されません');
    await expect(page.locator('#browser-warning')).toContainText(code);
  }
  await page.screenshot({ path: `${SHOTS}/browser-warning-ja-1280x800.png` });
});

test('a pasted SSH key or certificate is explained; a broken one gets a clear error', async ({ page }) => {
  const g = guard(page);
  await open(page, '?lang=en');
  // A real ssh-keygen ed25519 public key line (RFC 8032 test 1's public key).
  const line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea demo@example';
  await page.fill('#inspect-input', line);
  await page.click('#inspect-go');
  await expect(page.locator('#inspect-result')).toContainText('SHA256:');
  expect(await page.locator('#inspect-result #hex .b').count()).toBe(51);
  await page.locator('#inspect-result #hex .b').nth(20).click();
  await expect(page.locator('#inspect-result .explain')).toContainText('fingerprint');
  await page.fill('#inspect-input', 'ssh-ed25519 AAAA$AAA');
  await page.click('#inspect-go');
  await expect(page.locator('#inspect-error')).toContainText('not base64');
  await expect(page.locator('#inspect-error')).toContainText('byte 16');
  await page.fill('#inspect-input', '-----BEGIN CERTIFICATE-----\nMIIB\n');
  await page.click('#inspect-go');
  await expect(page.locator('#inspect-error')).toContainText('END');
  await page.click('[data-scenario="hybrid"]');
  await expect(page.locator('#stage')).toBeVisible();
  g.check();
});

test('no layout shift: a playing scenario on a laptop and a phone, and an embed page on a phone', async ({ browser }) => {
  const shifts = async (page) => page.evaluate(() => window.__shifts.reduce((a, s) => a + s, 0));
  const observe = () => {
    window.__shifts = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__shifts.push(e.value); })
      .observe({ type: 'layout-shift', buffered: true });
  };
  for (const [viewport, query, limit] of [[{ width: 1280, height: 800 }, '?s=tls13&lang=en', 0.01], [{ width: 390, height: 844 }, '?s=mtls&lang=ja', 0.05]]) {
    const ctx = await browser.newContext({ viewport });
    await ctx.addInitScript(observe);
    const page = await ctx.newPage();
    await open(page, query);
    await page.selectOption('.speed select', '3');
    // Autoplay moves the stage with no input, so every shift counts.
    await page.click('#play');
    await expect.poll(async () => (await counter(page)).cur, { timeout: 20000 }).toBeGreaterThan(20);
    const cls = await shifts(page);
    console.log(`layout shift ${viewport.width}x${viewport.height} ${query}: ${cls.toFixed(4)}`);
    expect(cls).toBeLessThanOrEqual(limit);
    await ctx.close();
  }
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await ctx.addInitScript(observe);
  const page = await ctx.newPage();
  await page.goto('/embed-demo.html');
  await expect(page.frameLocator('iframe').first().locator('#stage')).toHaveAttribute('data-scenario', 'hybrid');
  await page.mouse.wheel(0, 900);
  await expect(page.frameLocator('iframe').nth(1).locator('#stage')).toHaveAttribute('data-scenario', 'hybrid-tamper');
  await page.waitForTimeout(500);
  const cls = await shifts(page);
  console.log(`layout shift embed-demo 390x844: ${cls.toFixed(4)}`);
  expect(cls).toBeLessThanOrEqual(0.05);
  await ctx.close();
});
