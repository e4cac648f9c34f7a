// The layout audit: what a person sees must fit. Fails on
// - clipped or overflowing text (HTML: a text's block has scrollWidth > clientWidth,
//   or the text runs outside a box that clips it or outside the window; SVG text:
//   its box outside the diagram's visible box),
// - a lane outside the window or the diagram pane, or no lanes at all where the
//   screen is wide enough for them (1280 and presenter 1920),
// - text drawn smaller than the minimum (presenter 20 px, otherwise 12 px; SVG
//   text measured after any scaling, so shrinking a drawing is no way to pass),
// - the window scrolled (sideways anywhere; down on a wide screen, where only the
//   panes scroll).
// CI checks a fixed sample: every scenario at its first, middle and last step and
// at every step with a failure (a failed check or an alert), at each viewport and
// in both languages, and the key schedule at the last step wherever there is one.
// AUDIT_FULL=1 (`cargo xtask audit --full`) checks every step.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { SHOTS } from './helpers.mjs';

const FULL = process.env.AUDIT_FULL === '1';
const VIEWS = [
  { name: 'presenter-1920x1080', viewport: { width: 1920, height: 1080 }, query: '&present=1', min: 20, wide: true },
  { name: 'laptop-1280x800', viewport: { width: 1280, height: 800 }, query: '', min: 12, wide: true },
  { name: 'phone-390x844', viewport: { width: 390, height: 844 }, query: '', min: 12, wide: false },
  { name: 'embed-640x400', viewport: { width: 640, height: 400 }, query: '&embed', min: 12, wide: false },
  { name: 'embed-400x600', viewport: { width: 400, height: 600 }, query: '&embed', min: 12, wide: false },
];

/// Runs in the page: every problem with what a person sees, as plain objects.
function auditPage({ min, wide }) {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const app = document.getElementById('app');
  const short = (t) => t.replace(/\s+/g, ' ').trim().slice(0, 70);
  const where = (el) => {
    const id = el.closest('[id]');
    const cls = typeof el.className === 'string' ? el.className : el.className?.baseVal ?? '';
    return `${id ? '#' + id.id + ' ' : ''}${el.tagName.toLowerCase()}${cls ? '.' + cls.trim().split(/\s+/).join('.') : ''}`;
  };
  const shown = (el) => {
    if (el.closest('[hidden], noscript, template, title, option, textarea, defs')) return false;
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 || r.height > 0;
  };
  // Boxes that clip what overflows them (horizontally).
  const clippers = (el) => {
    const list = [];
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      const ox = getComputedStyle(e).overflowX;
      if (ox !== 'visible') list.push(e);
    }
    return list;
  };
  if (document.documentElement.scrollWidth > vw + 1) {
    out.push({ kind: 'window-sideways', what: 'html', text: `page ${document.documentElement.scrollWidth} px wide in a ${vw} px window` });
  }
  if (wide && (window.scrollY > 0 || document.documentElement.scrollHeight > innerHeight + 1)) {
    out.push({ kind: 'window-scrolls', what: 'html', text: `scrollY ${window.scrollY}, page ${document.documentElement.scrollHeight} px tall in ${innerHeight}` });
  }

  // HTML text.
  const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('svg') || seen.has(el)) continue;
    seen.add(el);
    if (!shown(el)) continue;
    const fs = parseFloat(getComputedStyle(el).fontSize);
    if (fs < min - 0.05) out.push({ kind: 'small', what: where(el), size: fs, text: short(el.textContent) });
    let block = el;
    while (block !== app && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    if (block.scrollWidth > block.clientWidth + 1 && getComputedStyle(block).overflowX !== 'auto') {
      out.push({ kind: 'overflow', what: where(block), text: `${short(block.textContent)} (${block.scrollWidth} > ${block.clientWidth})` });
    }
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.left < -1 || r.right > vw + 1) {
      out.push({ kind: 'off-window', what: where(el), text: `${short(node.textContent)} (${Math.round(r.left)}..${Math.round(r.right)} of ${vw})` });
      continue;
    }
    for (const c of clippers(el)) {
      const b = c.getBoundingClientRect();
      const left = b.left + c.clientLeft;
      const right = left + c.clientWidth;
      if (r.left < left - 1 || r.right > right + 1) {
        out.push({ kind: 'clipped', what: where(el), text: `${short(node.textContent)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(left)}..${Math.round(right)} of ${where(c)})` });
        break;
      }
    }
  }

  // SVG text: inside the visible box of its drawing's pane, never below the minimum.
  for (const t of app.querySelectorAll('svg text, svg tspan')) {
    if (!t.textContent.trim() || !shown(t)) continue;
    const svg = t.ownerSVGElement;
    const scale = svg.getScreenCTM()?.a ?? 1;
    const fs = parseFloat(getComputedStyle(t).fontSize) * scale;
    if (fs < min - 0.05) out.push({ kind: 'small', what: where(t), size: Math.round(fs * 10) / 10, text: short(t.textContent) });
    if (t.tagName === 'text' && t.querySelector('tspan')) continue;
    const pane = svg.closest('.diagram-pane') ?? svg.parentElement;
    const p = pane.getBoundingClientRect();
    const left = Math.max(p.left + pane.clientLeft, 0);
    const right = Math.min(p.left + pane.clientLeft + pane.clientWidth, vw);
    const r = t.getBoundingClientRect();
    const s = svg.getBoundingClientRect();
    if (r.left < left - 1 || r.right > right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1) {
      out.push({ kind: 'svg-clipped', what: where(t), text: `${short(t.textContent)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(left)}..${Math.round(right)})` });
    }
  }

  // Lanes: every one inside the window and the pane, sideways.
  const heads = [...app.querySelectorAll('.lane')];
  for (const lane of heads) {
    const r = lane.getBoundingClientRect();
    const pane = lane.closest('.diagram-pane')?.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1 || (pane && (r.left < pane.left - 1 || r.right > pane.right + 1))) {
      out.push({ kind: 'lane-out', what: where(lane), text: `${short(lane.textContent)} (${Math.round(r.left)}..${Math.round(r.right)})` });
    }
  }
  if (wide && app.querySelector('#stage') && !app.querySelector('#key-schedule') && heads.length === 0) {
    out.push({ kind: 'lane-out', what: 'diagram', text: 'no lanes drawn on a wide screen' });
  }
  return out;
}

/// The steps to check (0-based): first, middle, last and every failure; or all.
async function sampleSteps(page, total) {
  if (FULL) return [...Array(total).keys()];
  const failures = await page.evaluate(() => [...document.querySelectorAll('.row')]
    .filter((r) => r.querySelector('.check.fail, .alert'))
    .map((r) => Number(r.id.replace('ev-', ''))));
  return [...new Set([0, Math.floor((total - 1) / 2), total - 1, ...failures])];
}

const stepText = async (page) => Number((await page.locator('#step-counter').innerText()).split('/')[0].trim());

for (const view of VIEWS) {
  for (const lang of ['en', 'ja']) {
    test(`layout audit: ${view.name}, ${lang}${FULL ? ', every step' : ''}`, async ({ browser }) => {
      test.setTimeout(FULL ? 3_600_000 : 900_000);
      const ctx = await browser.newContext({ viewport: view.viewport, locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
      const page = await ctx.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const started = Date.now();
      await page.goto(`/?lang=${lang}`);
      await page.waitForSelector('#picker');
      const ids = await page.locator('[data-scenario]').evaluateAll((els) => els.map((e) => e.dataset.scenario));
      expect(ids.length).toBeGreaterThan(10);
      const problems = [];
      let checked = 0;
      let schedules = 0;
      for (const id of ids) {
        await page.goto(`/?s=${id}&lang=${lang}${view.query}`);
        await page.waitForSelector('#stage');
        const total = Number((await page.locator('#step-counter').innerText()).split('/')[1].trim());
        // From the last step back, each sampled step is a row already drawn: a click.
        await page.keyboard.press('End');
        await expect.poll(() => stepText(page)).toBe(total);
        if (['ssh-hostkey-changed', 'vpn-tls', 'tls-certificate', 'ipsec-nat', 'hybrid-tamper'].includes(id)) {
          await page.screenshot({ path: `${SHOTS}/audit-${id}-${lang}-${view.name}.png` });
        }
        const steps = (await sampleSteps(page, total)).sort((a, b) => b - a);
        for (const step of steps) {
          if (step !== total - 1) {
            await page.evaluate((i) => {
              const row = document.getElementById(`ev-${i}`);
              (row?.querySelector('button') ?? row)?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
            }, step);
            await expect.poll(() => stepText(page)).toBe(step + 1);
          }
          // One frame for the pane's scroll and the fitted text.
          await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
          for (const p of await page.evaluate(auditPage, { min: view.min, wide: view.wide })) {
            problems.push({ scenario: id, step: step + 1, ...p });
          }
          checked++;
        }
        // The key schedule (K) at the last step, where it holds every secret of
        // its owner, wherever the run has secrets.
        // (Presenter mode hides the control bar; its K view is left to the full sweep.)
        if (await page.locator('#schedule-toggle').isVisible()) {
          await page.keyboard.press('End');
          await expect.poll(() => stepText(page)).toBe(total);
          await page.click('#schedule-toggle');
          await page.waitForSelector('#key-schedule');
          await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
          if (['tls13', 'ssh-password', 'ikev2-remote-access'].includes(id)) {
            await page.screenshot({ path: `${SHOTS}/audit-${id}-schedule-${lang}-${view.name}.png` });
          }
          for (const p of await page.evaluate(auditPage, { min: view.min, wide: view.wide })) {
            problems.push({ scenario: id, step: `${total} (key schedule)`, ...p });
          }
          checked++;
          schedules++;
          await page.click('#schedule-toggle');
          await page.waitForSelector('#key-schedule', { state: 'detached' });
        }
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      const counts = {};
      for (const p of problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
      const summary = { view: view.name, lang, full: FULL, scenarios: ids.length, checked, schedules, seconds, counts, problems };
      fs.mkdirSync(`${SHOTS}/audit`, { recursive: true });
      fs.writeFileSync(`${SHOTS}/audit/${view.name}-${lang}.json`, JSON.stringify(summary, null, 1));
      console.log(`audit ${view.name} ${lang}: ${ids.length} scenarios, ${checked} views (${schedules} key schedules) in ${seconds} s: ${JSON.stringify(counts)}`);
      const list = problems.slice(0, 40).map((p) => `${p.scenario} step ${p.step}: ${p.kind} ${p.what}${p.size ? ` ${p.size}px` : ''}: ${p.text}`);
      expect(errors, errors.join('\n')).toEqual([]);
      expect(problems.length, `${problems.length} layout problems:\n${list.join('\n')}`).toBe(0);
      await ctx.close();
    });
  }
}
