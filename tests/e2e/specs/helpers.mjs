import { expect } from '@playwright/test';
import fs from 'node:fs';

export const SHOTS = new URL('../screenshots/', import.meta.url).pathname;
fs.mkdirSync(SHOTS, { recursive: true });

/// Fails the test on any page error, console error, or request that leaves 127.0.0.1.
export function guard(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', ''].includes(u.hostname) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) {
      problems.push(`request off the machine: ${r.url()}`);
    }
  });
  return { check: () => expect(problems, problems.join('\n')).toEqual([]) };
}

export async function counter(page) {
  const text = await page.locator('#step-counter').innerText();
  const [cur, total] = text.split('/').map((s) => Number(s.trim()));
  return { cur, total };
}

export async function open(page, query) {
  await page.goto(`/${query}`);
  await page.waitForSelector('.shell');
  // A scenario runs in the worker: wait until it is on stage (or refused).
  await page.waitForFunction(() => !document.getElementById('opening'));
}

// Opens a folded group of the control bar ('settings' or 'downloads') unless it is open.
export async function menu(page, which) {
  const panel = which === 'settings' ? '#settings-panel' : '#downloads-menu';
  if (!(await page.locator(panel).count())) await page.click(`#${which}-toggle`);
  await page.waitForSelector(panel);
}
