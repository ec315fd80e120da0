import { describe, expect, it } from 'vitest';
import { isLoopbackHost, planBrowserRedirect } from './browserRedirect.js';

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    'app.localhost',
    '[::1]',
    '::1',
    'localhost.',
  ])('%s is loopback', (h) => expect(isLoopbackHost(h)).toBe(true));
  it.each([
    'jupyter.test',
    '10.0.0.1',
    '128.0.0.1',
    '127.0.0.1.nip.io',
    'localhost.example.com',
    '[::2]',
    '127.0.0.256',
    '',
  ])('%s is not loopback', (h) => expect(isLoopbackHost(h)).toBe(false));
});

describe('planBrowserRedirect', () => {
  const callbackUrl = 'https://hub.example.com/user/alice/ray-connect/oauth/callback';
  const remote = 'https://hub.example.com/user/alice/lab';
  const local = 'http://127.0.0.1:8888/lab';
  const plan = (
    method: 'browser' | 'openshift',
    setting: Parameters<typeof planBrowserRedirect>[0]['setting'],
    pageUrl: string,
  ) => planBrowserRedirect({ method, setting, pageUrl, callbackUrl });

  it('a page on the server host keeps the loopback listener unless the setting says device', () => {
    expect(plan('browser', 'auto', local)).toEqual({ kind: 'loopback' });
    expect(plan('browser', undefined, 'http://localhost:8888/lab')).toEqual({ kind: 'loopback' });
    expect(plan('browser', 'server', local)).toEqual({ kind: 'loopback' });
    expect(plan('browser', 'device', local)).toEqual({ kind: 'device', reason: 'setting' });
  });
  it('a remote page uses the server callback when configured, else device code with the reason', () => {
    expect(plan('browser', 'server', remote)).toEqual({ kind: 'server', redirectUri: callbackUrl });
    expect(plan('browser', 'auto', remote)).toEqual({ kind: 'device', reason: 'remote-page' });
    expect(plan('browser', undefined, remote)).toEqual({ kind: 'device', reason: 'remote-page' });
    expect(plan('browser', 'device', remote)).toEqual({ kind: 'device', reason: 'setting' });
    expect(plan('browser', 'loopback', remote)).toEqual({ kind: 'loopback' });
  });
  it('OpenShift: the server callback when configured and remote, else the loopback flow (display-token page)', () => {
    expect(plan('openshift', 'server', remote)).toEqual({ kind: 'server', redirectUri: callbackUrl });
    expect(plan('openshift', 'auto', remote)).toEqual({ kind: 'loopback' });
    expect(plan('openshift', 'device', remote)).toEqual({ kind: 'loopback' });
    expect(plan('openshift', 'server', local)).toEqual({ kind: 'loopback' });
  });
});
