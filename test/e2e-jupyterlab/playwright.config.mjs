// Galata's Playwright defaults, Debian Chromium (never `playwright install`), the server run.mjs started.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const base = require('@jupyterlab/galata/lib/playwright-config');
const results = process.env.RC_E2E_RESULTS ?? join(import.meta.dirname ?? '.', '..', '..', 'test-results');

export default {
  ...base,
  testDir: 'tests',
  outputDir: 'artifacts/playwright',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: join(results, 'e2e-jupyterlab.playwright.json') }]],
  use: {
    ...base.use,
    baseURL: process.env.TARGET_URL,
    viewport: { width: 1400, height: 900 },
    trace: 'retain-on-failure',
    video: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.RC_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // remoteSignIn.spec.ts: the Jupyter server by a name that is not loopback, so the page counts as remote
        '--host-resolver-rules=MAP jupyter.test 127.0.0.1',
      ],
    },
  },
};
