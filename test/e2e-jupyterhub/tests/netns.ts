// A Chromium that cannot reach the server's loopback, like a user's browser on another machine: it runs in a
// network namespace of its own (`unshare --net`: only its own loopback), where ../relay.mjs carries exactly the
// hub's and the identity provider's ports to the host through unix sockets. Needs root (CI runs as root).
import type { Browser, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

const relayJs = join(import.meta.dirname ?? __dirname, '..', 'relay.mjs');

export async function startNetnsBrowser(
  runDir: string,
  ports: number[],
  args: string[],
): Promise<{ browser: Browser; close(): Promise<void> }> {
  const dir = join(runDir, 'netns');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The host half: <dir>/<port>.sock -> 127.0.0.1:<port>.
  const servers: Server[] = [];
  for (const port of ports) {
    const s = createServer((sock) => {
      const upstream = connect(port, '127.0.0.1');
      sock.pipe(upstream).pipe(sock);
      const close = () => {
        sock.destroy();
        upstream.destroy();
      };
      sock.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((r) => s.listen(join(dir, `${port}.sock`), r));
    servers.push(s);
  }
  const chromiumPath = process.env.RC_CHROMIUM ?? '/usr/bin/chromium';
  const wrapper = join(dir, 'chromium-netns.sh');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      'set -e',
      // Re-exec inside a new network namespace; Playwright's pipe (fds 3 and 4) goes along.
      `if [ -z "$RC_IN_NETNS" ]; then RC_IN_NETNS=1 exec unshare --net -- "$0" "$@"; fi`,
      'ip link set lo up',
      `"${process.execPath}" "${relayJs}" inside "${dir}" ${ports.join(' ')} 3>&- 4>&- </dev/null &`,
      // the relay listens before Chromium starts (a condition, bounded: 10 s)
      `i=0; while [ ! -e "${dir}/inside.ready" ]; do i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done`,
      `exec "${chromiumPath}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o700);
  const browser = await chromium.launch({ executablePath: wrapper, args });
  return {
    browser,
    async close() {
      await browser.close();
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in at the sandbox OIDC provider's pages in `popup` (login form, then consent) and returns the first URL off
 * the provider (the redirect back), once the popup went there.
 */
export async function driveIdpLogin(
  popup: Page,
  issuer: string,
  user: string,
  password: string,
): Promise<string> {
  const idp = new URL(issuer).origin;
  const end = Date.now() + 60_000;
  let redirected: string | undefined;
  popup.on('request', (r) => {
    if (!redirected && r.isNavigationRequest() && new URL(r.url()).origin !== idp) redirected = r.url();
  });
  await popup.waitForLoadState('domcontentloaded');
  while (!redirected && Date.now() < end) {
    const before = popup.url();
    // oidc-provider's error page (e.g. a redirect_uri the client does not list): say what it says
    if ((await popup.title().catch(() => '')) === 'Error')
      throw new Error(`the provider refused: ${(await popup.locator('body').innerText()).slice(0, 300)}`);
    if (await popup.locator('input[name="password"]').count()) {
      await popup.locator('input[name="login"]').fill(user);
      await popup.locator('input[name="password"]').fill(password);
      await popup.locator('button[type="submit"]').first().click();
    } else if (await popup.locator('form button[type="submit"]').count()) {
      await popup.locator('form button[type="submit"]').first().click();
    }
    await popup
      .waitForURL((u) => u.href !== before, { timeout: 10_000, waitUntil: 'commit' })
      .catch(() => undefined);
  }
  if (!redirected) throw new Error(`the provider never redirected back (at ${popup.url()})`);
  return redirected;
}
