// Ad-hoc screenshots for looking at the site: node shot.mjs URL OUT.png [WIDTHxHEIGHT] [lang]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, out, size = '1280x800', lang = 'en-US'] = process.argv.slice(2);
const [width, height] = size.split('x').map(Number);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-shot-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: '/usr/bin/chromium', headless: true, locale: lang, viewport: { width, height },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(url);
await page.waitForSelector('.shell', { timeout: 15000 });
for (const key of (process.env.KEYS ?? '').split(',').filter(Boolean)) await page.keyboard.press(key);
if (process.env.CLICK) await page.click(process.env.CLICK);
await page.waitForTimeout(800);
await page.screenshot({ path: out, fullPage: false });
console.log('url now:', page.url());
await ctx.close();
fs.rmSync(dir, { recursive: true, force: true });
