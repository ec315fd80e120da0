// Playwright in Debian Chromium (never `playwright install`) against the hub run.mjs started. No galata: its
// fixtures expect a server of their own (no auth, galata's page helpers); these tests go through the hub's login.
import { join } from 'node:path';

const results = process.env.RC_E2E_RESULTS ?? join(import.meta.dirname ?? '.', '..', '..', 'test-results');

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default {
  testDir: 'tests',
  outputDir: 'artifacts/playwright',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: join(results, 'e2e-jupyterhub.playwright.json') }]],
  use: {
    baseURL: process.env.HUB_URL,
    viewport: { width: 1400, height: 900 },
    trace: 'retain-on-failure',
    video: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.RC_CHROMIUM ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
  },
};
