// Debian Chromium through playwright-core (never `playwright install`).
import { chromium as pw } from 'playwright-core';
import { chromium } from '../scripts/install.mjs';

export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export async function launchBrowser() {
  const args = [...CHROMIUM_ARGS];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return pw.launch({ executablePath: chromium, args, headless: true });
}
