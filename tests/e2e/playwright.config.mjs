// Playwright against the release build served on 127.0.0.1 by `cargo xtask test`
// (BASE_URL). Debian's chromium; Playwright never downloads a browser.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './specs',
  timeout: 60_000,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:8099',
    viewport: { width: 1280, height: 800 },
    // The release build registers a service worker that caches the whole build
    // (offline use); the specs checking what the page itself requests block it, and
    // offline.spec.mjs allows it.
    serviceWorkers: 'block',
    // A step that never renders fails with where it stopped, instead of waiting for
    // the whole test's timeout.
    actionTimeout: 30_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
