// RayCluster objects missing or mangling any field (property test over the parser, real objects from the sandbox
// as seeds), Secrets without auth_token, and odd token bytes passed through untouched.
/* eslint-disable @typescript-eslint/no-explicit-any -- hostile input of any shape, untyped JSON answers */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FakeKubeClient,
  getRayToken,
  isRayConnectError,
  parseRayCluster,
} from '../../../packages/core/src/index.js';
import { kubectl } from '../../sandbox/client.mjs';
import { sandbox } from '../helpers.js';

type Json = Record<string, unknown>;
let seeds: Json[] = [];

beforeAll(async () => {
  const r = await kubectl(['get', 'rayclusters', '-n', sandbox().namespace, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get rayclusters: ${r.stderr}`);
  seeds = (JSON.parse(r.stdout) as { items: Json[] }).items;
  expect(seeds.length).toBeGreaterThanOrEqual(5);
});

/** Every path to an object key or array element in a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function mutate(obj: Json, path: (string | number)[], replacement: unknown, remove: boolean): Json {
  const copy = structuredClone(obj);
  let cur: any = copy;
  for (const p of path.slice(0, -1)) cur = cur[p];
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = replacement;
  return copy;
}

const MODES = ['token', 'kubernetes', 'none', 'unknown'];
const KINDS = ['secret', 'kubernetes-identity', 'head-env-literal', 'head-env-file', 'none'];

function checkSummary(s: ReturnType<typeof parseRayCluster>) {
  expect(MODES).toContain(s.authMode);
  expect(KINDS).toContain(s.tokenSource.kind);
  expect(['ready', 'provisioning', 'failed', 'suspended', 'unknown']).toContain(s.state);
  for (const [k, p] of Object.entries(s.ports)) {
    expect(typeof k).toBe('string');
    expect(Number.isInteger(p) && p > 0 && p < 65536, `port ${k}=${p}`).toBe(true);
  }
  expect(Array.isArray(s.warnings)).toBe(true);
  for (const w of s.warnings) expect(typeof w).toBe('string');
  expect(() => JSON.stringify(s)).not.toThrow();
}

const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constant(''),
  fc.constant('65536'),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
  fc.anything({ maxDepth: 2 }),
);

describe('parseRayCluster over mangled real RayClusters (fast-check, bounded)', () => {
  it('removing any field never throws (except BAD_REQUEST for no name/namespace) and gives a sane summary', () => {
    const all = seeds.flatMap((seed, i) => paths(seed).map((p) => [i, p] as const));
    fc.assert(
      fc.property(fc.constantFrom(...all), ([i, p]) => {
        const obj = mutate(seeds[i]!, p, undefined, true);
        try {
          checkSummary(parseRayCluster(obj, 'c'));
        } catch (e) {
          expect(isRayConnectError(e, 'BAD_REQUEST'), String(e)).toBe(true);
          expect(p[0]).toBe('metadata');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('replacing any field (1-3 at once) with junk of any type never throws unexpectedly', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1000 }),
        fc.array(fc.tuple(fc.nat(), junk, fc.boolean()), { minLength: 1, maxLength: 3 }),
        (seedIndex, edits) => {
          let obj = seeds[seedIndex % seeds.length]!;
          for (const [n, value, remove] of edits) {
            const ps = paths(obj);
            if (ps.length === 0) break;
            obj = mutate(obj, ps[n % ps.length]!, value, remove);
          }
          try {
            checkSummary(parseRayCluster(obj, 'c'));
          } catch (e) {
            expect(isRayConnectError(e, 'BAD_REQUEST'), String(e)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('non-objects of any type: BAD_REQUEST, never a TypeError', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (v) => {
        try {
          checkSummary(parseRayCluster(v, 'c'));
        } catch (e) {
          expect(isRayConnectError(e, 'BAD_REQUEST'), String(e)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Secrets and token bytes', () => {
  const summary = (secretName = 's') => ({
    clusterId: 'c',
    namespace: 'ns',
    name: 'rc',
    state: 'ready' as const,
    authMode: 'token' as const,
    tokenSource: { kind: 'secret' as const, secretName, key: 'auth_token' },
    ports: {},
    warnings: [],
  });
  const secretPath = '/api/v1/namespaces/ns/secrets/s';

  it.each([
    ['no data', { metadata: { name: 's' } }],
    ['data without auth_token', { data: { token: Buffer.from('x').toString('base64') } }],
    ['auth_token empty', { data: { auth_token: '' } }],
    ['auth_token whitespace only', { data: { auth_token: Buffer.from(' \n\t ').toString('base64') } }],
    ['auth_token not a string', { data: { auth_token: 42 } }],
    ['data is a list', { data: ['auth_token'] }],
    ['the object is a string', 'secret'],
  ])('%s -> RAY_TOKEN_NOT_FOUND', async (_label, secretObject) => {
    const kube = new FakeKubeClient().on('GET', secretPath, secretObject);
    await expect(getRayToken(summary(), kube)).rejects.toMatchObject({ code: 'RAY_TOKEN_NOT_FOUND' });
  });

  it('Secret missing (404) -> RAY_TOKEN_NOT_FOUND; forbidden (403) -> ACCESS_DENIED', async () => {
    await expect(getRayToken(summary(), new FakeKubeClient())).rejects.toMatchObject({
      code: 'RAY_TOKEN_NOT_FOUND',
    });
    const kube = new FakeKubeClient().on('GET', secretPath, FakeKubeClient.status(403));
    await expect(getRayToken(summary(), kube)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('odd token bytes (+ / = , and inner whitespace, unicode) pass through untouched; only outer whitespace is trimmed', async () => {
    const tokenChars = fc.constantFrom(
      ...'abcXYZ019+/=,-_.:;~!@#$%^&*()[]{}|<>? \t'.split(''),
      'é',
      '日',
      '🙂',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: tokenChars, minLength: 1, maxLength: 80 }),
        fc.constantFrom('', ' ', '\n', '\r\n', '\t '),
        async (raw, pad) => {
          const expected = raw.trim();
          fc.pre(expected.length > 0);
          const kube = new FakeKubeClient().on('GET', secretPath, {
            data: { auth_token: Buffer.from(pad + raw + pad).toString('base64') },
          });
          const got = await getRayToken(summary(), kube);
          expect(got?.token.reveal()).toBe(expected);
          expect(String(got?.token)).not.toContain(expected.length > 3 ? expected : '\u0000');
        },
      ),
      { numRuns: 150 },
    );
  });
});
