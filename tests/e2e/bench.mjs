// Browser measurements for `cargo xtask bench`, in headless Chromium:
//   node bench.mjs run URL          -> µs per scenario run measured by the page (?bench=ID&n=N)
//   node bench.mjs load BASE STATIC -> cold load to interactive of the app vs a static page
//   node bench.mjs longtasks URL    -> longest main-thread task while playing a scenario
//   node bench.mjs sweep BASE        -> per scenario: the longest main-thread task from the
//                                       first byte of the page through its start-up, a re-run
//                                       with a new seed, and a step to the end; and how long a
//                                       re-run took to show (one line per scenario: id count max rerun_ms)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [mode, url, other] = process.argv.slice(2);
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function fresh(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args });
  try {
    return await fn(ctx.pages()[0] ?? await ctx.newPage());
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (mode === 'run') {
  console.log(await fresh(async (page) => {
    await page.goto(url);
    const el = await page.waitForSelector('#bench-result[data-us]', { timeout: 120000 });
    return el.getAttribute('data-us');
  }));
} else if (mode === 'load') {
  // Median of 5 cold loads each (fresh profile every time): until the app's map is
  // interactive, and until the static page's load event.
  const times = async (target, ready) => {
    const out = [];
    for (let i = 0; i < 5; i++) {
      out.push(await fresh(async (page) => {
        const t0 = Date.now();
        await page.goto(target, { waitUntil: 'load' });
        await page.waitForSelector(ready);
        return Date.now() - t0;
      }));
    }
    return out.sort((a, b) => a - b)[2];
  };
  const app = await times(url, '[data-scenario="hybrid"]');
  const stat = await times(other, '#ready');
  console.log(`${app} ${stat}`);
} else if (mode === 'sweep') {
  console.log(await fresh(async (page) => {
    await page.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${url}/?lang=en`);
    await page.waitForSelector('#picker');
    const ids = await page.locator('[data-scenario]').evaluateAll((els) => els.map((e) => e.dataset.scenario));
    const lines = [];
    for (const id of ids) {
      await page.goto(`${url}/?s=${id}&lang=en`);
      try {
        await page.waitForSelector('#stage', { timeout: 60000 });
      } catch {
        lines.push(`${id} did-not-open`);
        continue;
      }
      // A re-run: the seed changes, the worker runs, the new run is drawn.
      const before = await page.locator('#step-counter').innerText();
      const t0 = await page.evaluate(() => performance.now());
      if (!(await page.locator('#settings-panel').count())) await page.click('#settings-toggle');
      await page.fill('#seed', '7');
      await page.locator('#seed').dispatchEvent('change');
      await page.waitForFunction(() => !document.getElementById('busy'), null, { timeout: 60000 });
      const rerun = (await page.evaluate(() => performance.now())) - t0;
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      await page.keyboard.press('End');
      await page.waitForTimeout(100);
      const longs = await page.evaluate(() => window.__long);
      lines.push(`${id} ${longs.length} ${Math.max(0, ...longs).toFixed(0)} ${rerun.toFixed(0)} ${before.replace(/\s/g, '')}`);
    }
    return lines.join('\n');
  }));
} else if (mode === 'longtasks') {
  console.log(await fresh(async (page) => {
    await page.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    await page.goto(url);
    await page.waitForSelector('#stage');
    await page.evaluate(() => { window.__long = []; });
    await page.selectOption('.speed select', '3');
    await page.click('#play');
    await page.waitForFunction(() => document.querySelector('#play')?.textContent.trim() === '▶', null, { timeout: 60000 });
    // Tamper live, re-run, step back and forth: the interactive paths.
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
    const longs = await page.evaluate(() => window.__long);
    return `${longs.length} ${Math.max(0, ...longs).toFixed(0)}`;
  }));
}
