// whoami, clusters and logout with a fake API: what they print (text and exit code), through main()'s reporter.
import { PassThrough } from 'node:stream';
import type { RayConnect } from '@ray-connect/core';
import { RayConnectError, silentLogger } from '@ray-connect/core';
import type { ClusterSummary, RayClusterList } from '@ray-connect/shared';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import type { CliContext } from '../compose.js';
import { reportError } from '../output.js';
import { clusters } from './clusters.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { whoami } from './whoami.js';

const cluster = {
  id: 'context:dev',
  name: 'dev',
  server: 'https://127.0.0.1:6443',
  current: true,
  source: 'kubeconfig',
  namespace: 'default',
  namespaces: ['default'],
  signIn: { status: 'signed-out' },
  storage: { kind: 'memory', label: 'memory only' },
} as unknown as ClusterSummary;

function run(
  command: (ctx: CliContext) => Promise<number>,
  argv: string[],
  api: Partial<RayConnect>,
  extra: Partial<CliContext> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  const ctx: CliContext = {
    api: { listClusters: async () => [cluster], ...api } as RayConnect,
    args: parseArgs(argv),
    io,
    json: false,
    configDir: '/nonexistent',
    logger: silentLogger,
    memoryOnly: false,
    keychainLocked: false,
    fileStorePath: '/nonexistent/secrets.json',
    out: (t) => void (stdout += t + '\n'),
    err: (t) => void (stderr += t + '\n'),
    warn: (t) => void (stderr += `ray-connect: warning: ${t}\n`),
    note: (t) => void (stderr += `ray-connect: note: ${t}\n`),
    ...extra,
  };
  return command(ctx).then(
    (code) => ({ code, stdout, stderr }),
    (e: unknown) => {
      const code = reportError(e, io.stderr, {}, false);
      return { code, stdout, stderr: stderr + String(io.stderr.read() ?? '') };
    },
  );
}

const empty = (searched: string[]): RayClusterList => ({ items: [], searched, errors: [] });

describe('clusters', () => {
  it('empty namespace: says so and hints at -A', async () => {
    const r = await run(clusters, ['clusters'], { listRayClusters: async () => empty(['default']) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'No Ray clusters in default on dev. Other namespaces: ray-connect clusters -A (or -n <namespace>).\n',
    );
  });

  it('-A asks for every namespace and lists them with a NAMESPACE column', async () => {
    let asked: string[] | undefined;
    const r = await run(clusters, ['clusters', '-A'], {
      listRayClusters: async (_id, namespaces) => {
        asked = namespaces;
        return {
          items: [
            {
              namespace: 'team-a',
              name: 'rc-a',
              state: 'ready',
              authMode: 'token',
              tokenSource: { kind: 'none' },
              warnings: [],
            },
            {
              namespace: 'team-b',
              name: 'rc-b',
              state: 'ready',
              authMode: 'disabled',
              tokenSource: { kind: 'none' },
              warnings: [],
            },
          ],
          searched: ['team-a', 'team-b'],
          errors: [],
        } as unknown as RayClusterList;
      },
    });
    expect(asked).toEqual(['*']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+STATE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual([
      'team-a/rc-a',
      'team-b/rc-b',
    ]);
  });

  it('-A with nothing anywhere says so without the hint', async () => {
    const r = await run(clusters, ['clusters', '--all-namespaces'], {
      listRayClusters: async () => empty([]),
    });
    expect(r.stdout).toBe('No Ray clusters in any namespace you may list on dev.\n');
  });

  it('-A and -n together: a usage error (exit 2)', async () => {
    const r = await run(clusters, ['clusters', '-A', '-n', 'x'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ray-connect: error: choose --namespace or -A \(--all-namespaces\), not both — /,
    );
  });

  it('a failed namespace is one error line in the CLI style', async () => {
    const r = await run(clusters, ['clusters'], {
      listRayClusters: async () => ({
        items: [],
        searched: ['default'],
        errors: [
          { namespace: 'default', error: { code: 'ACCESS_DENIED', message: 'You may not list', fix: 'Ask' } },
        ],
      }),
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('ray-connect: error: namespace default: You may not list — Ask\n');
  });
});

describe('a locked keychain is reported as locked, not signed out', () => {
  const locked = { keychainLocked: true, memoryOnly: true };
  const lockedLine =
    /^ray-connect: error: The OS keychain is locked: .* \(this is not "signed out"\)\. — Unlock your keyring/;

  it('whoami', async () => {
    const r = await run(whoami, ['whoami'], {}, locked);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(lockedLine);
  });

  it('clusters', async () => {
    const r = await run(
      clusters,
      ['clusters'],
      {
        listRayClusters: async () => {
          throw new RayConnectError('SIGNED_OUT', 'Not signed in to dev');
        },
      },
      locked,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(lockedLine);
  });

  it('logout', async () => {
    let signedOut = false;
    const r = await run(
      logout,
      ['logout'],
      { signOut: async () => ((signedOut = true), { removed: [] }) },
      locked,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/Nothing stored/);
    expect(r.stderr).toMatch(lockedLine);
    expect(signedOut).toBe(false);
  });

  it('an unlocked store still says signed out (exit 3) and Nothing stored', async () => {
    const who = await run(whoami, ['whoami'], {});
    expect(who.code).toBe(3);
    expect(who.stdout).toBe('dev: signed-out\n');
    const out = await run(logout, ['logout'], { signOut: async () => ({ removed: [] }) });
    expect(out.stdout).toMatch(/^Nothing stored for dev/);
  });
});

describe('login --device waits visibly', () => {
  it('not a TTY: one line when waiting, one when approved, on stderr; stdout only the result', async () => {
    const device = {
      kind: 'device',
      loginId: 'l1',
      userCode: 'ABCD-EFGH',
      verificationUri: 'https://idp/device',
      expiresAt: Date.now() + 600_000,
      intervalSeconds: 5,
    };
    const signedIn = { status: 'signed-in', method: 'device', identity: { username: 'alice', groups: [] } };
    let stdout = '';
    const stderr = new PassThrough();
    const ctx = {
      api: {
        listClusters: async () => [cluster],
        beginSignIn: async () => device,
        completeSignIn: async () => signedIn,
      } as unknown as RayConnect,
      args: parseArgs(['login', '--device']),
      io: { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {} },
      json: false,
      configDir: '/nonexistent',
      logger: silentLogger,
      memoryOnly: false,
      keychainLocked: false,
      fileStorePath: '/nonexistent/secrets.json',
      out: (t: string) => void (stdout += t + '\n'),
      err: (t: string) => void stderr.write(t + '\n'),
      warn: (t: string) => void stderr.write(`ray-connect: warning: ${t}\n`),
      note: (t: string) => void stderr.write(`ray-connect: note: ${t}\n`),
    } satisfies CliContext;
    expect(await login(ctx)).toBe(0);
    const lines = String(stderr.read()).trimEnd().split('\n');
    expect(lines).toEqual([
      'To sign in to dev, open https://idp/device',
      'and enter the code: ABCD-EFGH',
      expect.stringMatching(/^Waiting for you to approve the sign-in \(the code expires in (10:00|9:59)\)$/),
      'Approved.',
    ]);
    expect(stdout).toBe('Signed in to dev as alice (device)\n');
  });
});
