// Opens the app's bench mode (?bench=ID&n=N) in headless Chromium and prints
// the microseconds per run that the page measured with performance.now().
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(url);
  const el = await page.waitForSelector('#bench-result[data-us]', { timeout: 120000 });
  console.log(await el.getAttribute('data-us'));
} finally {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
