import { describe, expect, it } from 'vitest';
import { isRayConnectError } from '../errors.js';
import { FakeKubeClient } from './fakeKubeClient.js';
import { findHeadPod, whyNotRunning } from './findHeadPod.js';
import { getRayToken } from './getRayToken.js';
import { parseRayCluster } from './parseRayCluster.js';

/**
 * RayClusters shaped as KubeRay v1.6/v1.7 writes them: condition types and reasons from rayv1
 * (raycluster_types.go), the ReplicaFailure message from errors.Join(ErrFailedCreateHeadPod, err), the
 * HeadPodReady condition copied from the pod's Ready condition (utils.FindHeadPodReadyCondition).
 */
const T = '2026-01-01T00:00:00Z';
const cond = (type: string, status: string, reason: string, message = '') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T,
  observedGeneration: 1,
});

function cluster(
  name: string,
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
  headEnv: unknown[] = [],
) {
  return {
    apiVersion: 'ray.io/v1',
    kind: 'RayCluster',
    metadata: { name, namespace: 'ray-demo', uid: `uid-${name}`, generation: 1 },
    spec: {
      rayVersion: '2.55.0',
      headGroupSpec: {
        rayStartParams: {},
        template: {
          spec: {
            containers: [
              {
                name: 'ray-head',
                image: 'rayproject/ray:2.55.0',
                env: headEnv,
                ports: [{ containerPort: 8265, name: 'dashboard' }],
              },
            ],
          },
        },
      },
      ...spec,
    },
    ...(status !== undefined && { status }),
  };
}
const parse = (o: unknown) => parseRayCluster(o, 'context:test');
const token = { authOptions: { mode: 'token' } };

describe('KubeRay status shapes', () => {
  it('a head pod KubeRay cannot create: failed, with the operator reason and cause on one line', () => {
    const s = parse(
      cluster('rc', token, {
        state: undefined,
        conditions: [
          cond('HeadPodReady', 'False', 'HeadPodNotFound', 'Head Pod not found'),
          cond(
            'RayClusterProvisioned',
            'False',
            'RayClusterPodsProvisioning',
            'RayCluster Pods are being provisioned for first time',
          ),
          cond(
            'ReplicaFailure',
            'True',
            'FailedCreateHeadPod',
            'FailedCreateHeadPod\npods "rc-head-x" is forbidden: exceeded quota: compute',
          ),
        ],
      }),
    );
    expect(s.state).toBe('failed');
    expect(s.stateReason).toBe('FailedCreateHeadPod: pods "rc-head-x" is forbidden: exceeded quota: compute');
  });

  it('a Pending head (no Ready condition on the pod yet): no bare "Unknown"', () => {
    const s = parse(
      cluster('rc', token, {
        conditions: [
          cond('HeadPodReady', 'False', 'Unknown'),
          cond(
            'RayClusterProvisioned',
            'False',
            'RayClusterPodsProvisioning',
            'RayCluster Pods are being provisioned for first time',
          ),
        ],
      }),
    );
    expect(s.state).toBe('provisioning');
    expect(s.stateReason).toMatch(/head pod is not ready/);
    expect(s.stateReason).not.toMatch(/^Unknown$/);
  });

  it('a head whose container waits: the reason KubeRay copied from the pod', () => {
    const s = parse(
      cluster('rc', token, {
        conditions: [
          cond('HeadPodReady', 'False', 'ImagePullBackOff', 'Back-off pulling image "rayproject/ray:nope"'),
        ],
      }),
    );
    expect(s.stateReason).toBe('Back-off pulling image "rayproject/ray:nope"');
  });

  it('head ready, a worker Pending (state left empty, Provisioned False): ready, saying workers are starting', () => {
    const s = parse(
      cluster('rc', token, {
        conditions: [
          cond('HeadPodReady', 'True', 'HeadPodRunningAndReady'),
          cond(
            'RayClusterProvisioned',
            'False',
            'RayClusterPodsProvisioning',
            'RayCluster Pods are being provisioned for first time',
          ),
        ],
        readyWorkerReplicas: 0,
        desiredWorkerReplicas: 1,
      }),
    );
    expect(s.state).toBe('ready');
    expect(s.stateReason).toBe('the head is ready; workers are still starting');
  });

  it('all pods ready: ready without a reason', () => {
    const s = parse(
      cluster('rc', token, {
        state: 'ready',
        conditions: [
          cond('HeadPodReady', 'True', 'HeadPodRunningAndReady'),
          cond(
            'RayClusterProvisioned',
            'True',
            'AllPodRunningAndReadyFirstTime',
            'All Ray Pods are ready for the first time',
          ),
        ],
      }),
    );
    expect(s).toMatchObject({ state: 'ready' });
    expect(s.stateReason).toBeUndefined();
  });

  it('no status yet: starting, not "provisioning forever"', () => {
    expect(parse(cluster('rc', token)).stateReason).toBe('starting (no status from KubeRay yet)');
  });
});

describe('specs KubeRay rejects (an event, never a status): failed, the rule in words, no Secret', () => {
  it.each([
    ['a 54-character name', 'r'.repeat(54), token, /at most 53/],
    ['a name that is not a DNS-1035 label', '1rc', token, /DNS-1035/],
    [
      'enableK8sTokenAuth without mode: token',
      'rc',
      { authOptions: { enableK8sTokenAuth: true } },
      /mode is not 'token'/,
    ],
    [
      'secretName with enableK8sTokenAuth',
      'rc',
      { authOptions: { mode: 'token', enableK8sTokenAuth: true, secretName: 'mine' } },
      /exclusive/,
    ],
    ['mode: token without rayVersion', 'rc', { ...token, rayVersion: '' }, /rayVersion is not set/],
    ['mode: token on Ray 2.51', 'rc', { ...token, rayVersion: '2.51.0' }, />= 2\.52/],
  ])('%s', (_what, name, spec, rule) => {
    const s = parse(cluster(name, spec));
    expect(s.state).toBe('failed');
    expect(s.stateReason).toMatch(/^KubeRay rejects this RayCluster: /);
    expect(s.stateReason).toMatch(rule);
    expect(s.tokenSource).toEqual({ kind: 'none' });
  });

  it('53 characters is accepted (the Secret name is truncated to the last 50)', () => {
    const name = 'r' + 'a'.repeat(52);
    const s = parse(
      cluster(name, token, { conditions: [cond('HeadPodReady', 'True', 'HeadPodRunningAndReady')] }),
    );
    expect(s.state).toBe('ready');
    expect(s.tokenSource).toEqual({ kind: 'secret', secretName: 'a'.repeat(50), key: 'auth_token' });
  });
});

describe('auth next to what KubeRay does', () => {
  it("a user's own RAY_AUTH_TOKEN literal next to mode: token is the head's token (KubeRay keeps it)", async () => {
    const rc = cluster('rc', token, undefined, [{ name: 'RAY_AUTH_TOKEN', value: 'users-own-token' }]);
    const s = parse(rc);
    expect(s.tokenSource).toEqual({ kind: 'head-env-literal' });
    expect(s.warnings.join()).toMatch(/own RAY_AUTH_TOKEN/);
    const kube = new FakeKubeClient()
      .on('GET', '/apis/ray.io/v1/namespaces/ray-demo/rayclusters/rc', rc)
      .on('GET', '/api/v1/namespaces/ray-demo/secrets/rc', {
        data: { auth_token: Buffer.from('operator-token').toString('base64') },
      });
    expect((await getRayToken(s, kube))?.token.reveal()).toBe('users-own-token');
  });

  it("a user's own RAY_AUTH_TOKEN secretKeyRef next to mode: token names the Secret the head reads", () => {
    const s = parse(
      cluster('rc', token, undefined, [
        { name: 'RAY_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: 'team-token', key: 'tok' } } },
      ]),
    );
    expect(s.tokenSource).toEqual({ kind: 'secret', secretName: 'team-token', key: 'tok' });
  });

  it('authOptions without mode: only {} says KubeRay still makes a Secret', () => {
    expect(parse(cluster('rc', { authOptions: {} })).warnings.join()).toMatch(
      /KubeRay still creates a Secret rc/,
    );
    const named = parse(cluster('rc', { authOptions: { secretName: 'mine' } })).warnings.join();
    expect(named).toMatch(/Secret mine is not used/);
    expect(named).not.toMatch(/still creates/);
    const k8s = parse(cluster('rc', { authOptions: { enableK8sTokenAuth: true } })).warnings.join();
    expect(k8s).toMatch(/KubeRay rejects/);
    expect(k8s).not.toMatch(/still creates/);
  });

  it('a missing Secret the user named: create it; a missing Secret KubeRay makes: check KubeRay', async () => {
    const kube = new FakeKubeClient();
    const named = parse(cluster('rc', { authOptions: { mode: 'token', secretName: 'mine' } }));
    const err = await getRayToken(named, kube).catch((e: unknown) => e);
    expect(isRayConnectError(err) && err.code).toBe('RAY_TOKEN_NOT_FOUND');
    expect(isRayConnectError(err) && err.fix).toMatch(/^Create Secret mine with key auth_token/);
    const made = await getRayToken(parse(cluster('rc', token)), kube).catch((e: unknown) => e);
    expect(isRayConnectError(made) && made.fix).toMatch(/^Check that KubeRay created it/);
  });
});

describe('a head pod that is not running: the reason from the pod, not "Unknown"', () => {
  const headPod = (status: Record<string, unknown>) => ({
    metadata: { name: 'rc-head-abc', labels: { 'ray.io/cluster': 'rc', 'ray.io/node-type': 'head' } },
    status,
  });
  it.each([
    [
      'a container waiting',
      {
        phase: 'Pending',
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: [
          {
            name: 'ray-head',
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
          },
        ],
      },
      'rc-head-abc: ImagePullBackOff: Back-off pulling image',
    ],
    [
      'not scheduled',
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available',
          },
        ],
      },
      'rc-head-abc: Unschedulable: 0/1 nodes are available',
    ],
    ['nothing reported yet', { phase: 'Pending' }, 'rc-head-abc is Pending'],
  ])('%s', async (_what, status, reason) => {
    const kube = new FakeKubeClient().on('GET', '/api/v1/namespaces/ray-demo/pods', {
      items: [headPod(status)],
    });
    const err = await findHeadPod(kube, 'ray-demo', 'rc').catch((e: unknown) => e);
    expect(isRayConnectError(err) && err.code).toBe('RAYCLUSTER_NOT_READY');
    expect(isRayConnectError(err) && err.message).toBe(`RayCluster rc has no running head pod (${reason})`);
    expect(whyNotRunning(headPod(status))).toBe(reason);
  });
});
