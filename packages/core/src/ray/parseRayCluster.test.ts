import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRayConnectError } from '../errors.js';
import { parseRayCluster } from './parseRayCluster.js';

const dir = join(import.meta.dirname, '../../testdata/rayclusters');
const load = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const parse = (file: string) => parseRayCluster(load(file), 'context:kind');

describe('parseRayCluster: auth modes and token sources', () => {
  it.each([
    ['token-generated.json', 'token', { kind: 'secret', secretName: 'raycluster-token', key: 'auth_token' }],
    ['token-secretname.json', 'token', { kind: 'secret', secretName: 'my-ray-token', key: 'auth_token' }],
    ['rbac.json', 'kubernetes', { kind: 'kubernetes-identity' }],
    ['auth-disabled.json', 'none', { kind: 'none' }],
    ['auth-options-empty.json', 'none', { kind: 'none' }],
    ['noauth.json', 'none', { kind: 'none' }],
    ['legacy-secretkeyref.json', 'token', { kind: 'secret', secretName: 'legacy-token', key: 'token' }],
    ['legacy-literal.json', 'token', { kind: 'head-env-literal' }],
    ['legacy-token-path.json', 'token', { kind: 'head-env-file', path: '/etc/ray/token' }],
    ['legacy-k8s.json', 'kubernetes', { kind: 'kubernetes-identity' }],
    ['legacy-envfrom.json', 'token', { kind: 'secret', secretName: 'ray-env', key: 'RAY_AUTH_TOKEN' }],
    ['legacy-envfrom-only.json', 'unknown', { kind: 'secret', secretName: 'ray-env', key: 'AUTH_TOKEN' }],
    ['legacy-mode-typo.json', 'none', { kind: 'none' }],
    ['legacy-no-token.json', 'token', { kind: 'none' }],
  ])('%s -> %s', (file, mode, source) => {
    const s = parse(file);
    expect(s.authMode).toBe(mode);
    expect(s.tokenSource).toEqual(source);
  });

  it('warns about authOptions: {} (auth off although a Secret exists)', () => {
    expect(parse('auth-options-empty.json').warnings.join()).toMatch(/no mode/);
  });
  it('warns about Ray too old for RBAC mode, and secretName with RBAC', () => {
    expect(parse('rbac-old-ray.json').warnings.join()).toMatch(/2\.55/);
    expect(parse('rbac-with-secretname.json').warnings.join()).toMatch(/exclusive/);
  });
  it('warns when token mode has no token source', () => {
    expect(parse('legacy-no-token.json').warnings.join()).toMatch(/no RAY_AUTH_TOKEN/);
  });
});

describe('parseRayCluster: state, head, ports', () => {
  it('reads a ready cluster', () => {
    const s = parse('token-generated.json');
    expect(s).toMatchObject({
      name: 'raycluster-token',
      namespace: 'ray-demo',
      clusterId: 'context:kind',
      state: 'ready',
      headPod: 'raycluster-token-head-abcde',
      headService: 'raycluster-token-head-svc',
      rayVersion: '2.53.0',
      ports: { dashboard: 8265, client: 10001, 'gcs-server': 6379, metrics: 8080 },
    });
  });
  it.each([
    ['provisioning.json', 'provisioning', /Head Pod not found/],
    ['suspended.json', 'suspended', /suspended/],
    [
      'replica-failure.json',
      'failed',
      /^FailedCreateHeadPod: pods "raycluster-failed-head" is forbidden: exceeded quota/,
    ],
    ['state-fallback.json', 'ready', undefined],
    ['no-status.json', 'provisioning', /no status from KubeRay yet/],
  ])('%s -> %s', (file, state, reason) => {
    const s = parse(file);
    expect(s.state).toBe(state);
    if (reason) expect(s.stateReason).toMatch(reason);
  });
  it('uses status.head.serviceName, else <name>-head-svc', () => {
    expect(parse('state-fallback.json').headService).toBe('custom-svc');
    expect(parse('no-status.json').headService).toBe('raycluster-new-head-svc');
  });
  it('takes ports from status.endpoints and defaults when the container names none', () => {
    expect(parse('no-ports.json').ports).toMatchObject({ dashboard: 18265, client: 10001 });
  });
});

describe('parseRayCluster: malformed objects', () => {
  it.each(['malformed-no-name.json', 'malformed-not-object.json'])(
    '%s is rejected with BAD_REQUEST',
    (file) => {
      let error: unknown;
      try {
        parse(file);
      } catch (e) {
        error = e;
      }
      expect(isRayConnectError(error, 'BAD_REQUEST')).toBe(true);
    },
  );
  it.each(['malformed-types.json', 'malformed-no-spec.json', 'malformed-bad-ports.json'])(
    '%s parses without throwing',
    (file) => {
      const s = parse(file);
      expect(s.ports.dashboard).toBe(8265);
      expect(Object.values(s.ports).every((p) => Number.isInteger(p) && p > 0 && p < 65536)).toBe(true);
    },
  );
  it('wrong field types read as absent', () => {
    const s = parse('malformed-types.json');
    expect(s.authMode).toBe('unknown');
    expect(s.state).toBe('provisioning');
    expect(parse('malformed-no-spec.json').warnings.join()).toMatch(/headGroupSpec/);
  });
});
