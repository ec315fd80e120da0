import type {
  ConnectionSummary,
  ConnectOptions,
  RayClusterRef,
  RayConnectEvent,
  SessionEnv,
} from '@ray-connect/shared';
import { join } from 'node:path';
import { RayConnectError } from '../errors.js';
import { nodeReadTextFile } from '../kube/readTextFile.js';
import { connectRayCluster, type RayConnection } from '../ray/connectRayCluster.js';
import { createFrontGet } from '../ray/detectFronting.js';
import { getRayCluster } from '../ray/getRayCluster.js';
import { getRayToken } from '../ray/getRayToken.js';
import type { RayConnectDeps } from './deps.js';
import type { KubeClients } from './kubeClients.js';

const refKey = (r: RayClusterRef) => `${r.clusterId}\u0000${r.namespace}\u0000${r.name}`;

/** The live connections (one per Ray cluster), their env and token. Several clusters at once. */
export class Connections {
  private readonly live = new Map<string, RayConnection>();

  constructor(
    private readonly deps: RayConnectDeps,
    private readonly clients: KubeClients,
    private readonly emit: (event: RayConnectEvent) => void,
  ) {}

  summaryOf(ref: RayClusterRef): ConnectionSummary | undefined {
    return this.live.get(refKey(ref))?.summary();
  }

  list(): ConnectionSummary[] {
    return [...this.live.values()].map((c) => c.summary());
  }

  async connect(ref: RayClusterRef, options: ConnectOptions): Promise<ConnectionSummary> {
    const key = refKey(ref);
    const existing = this.live.get(key);
    if (existing && !['failed', 'disconnected'].includes(existing.summary().state)) {
      // Connecting again to a live connection picks up a rotated token Secret (a read failure keeps the old one).
      await existing.recheckToken().catch((e: unknown) =>
        this.deps.logger.warn('Could not read the Ray token again', {
          name: ref.name,
          reason: e instanceof Error ? e.message : String(e),
        }),
      );
      return existing.summary();
    }
    if (existing) await this.disconnect(ref);
    const kube = await this.clients.get(ref.clusterId);
    let lastVersion = 1;
    const c = await connectRayCluster(ref, options, {
      kube,
      clock: this.deps.clock,
      logger: this.deps.logger,
      tokenDir: this.deps.tokenDir ?? join(this.deps.configDir, 'tokens'),
      username: await this.clients.username(ref.clusterId),
      env: this.deps.env,
      frontGet: createFrontGet({
        env: this.deps.env,
        readFile: this.deps.readFile ?? nodeReadTextFile,
        logger: this.deps.logger,
        ...(this.deps.caFile !== undefined && { caFile: this.deps.caFile }),
        ...(this.deps.insecureSkipTlsVerify && { insecureSkipTlsVerify: true }),
      }),
      ...(this.deps.watchIntervalMs !== undefined && { watchIntervalMs: this.deps.watchIntervalMs }),
      onChange: (summary) => {
        this.emit({ type: 'connection-changed', connection: summary });
        if (summary.error && (summary.state === 'failed' || summary.state === 'reconnecting'))
          this.emit({
            type: 'log',
            level: summary.state === 'failed' ? 'error' : 'warn',
            message: `${ref.name}: ${summary.state}: ${summary.error.message}`,
          });
        if (summary.tokenVersion !== lastVersion) {
          lastVersion = summary.tokenVersion;
          this.emit({
            type: 'token-rotated',
            ref: { clusterId: ref.clusterId, namespace: ref.namespace, name: ref.name },
            tokenVersion: summary.tokenVersion,
          });
        }
      },
    });
    this.live.set(key, c);
    return c.summary();
  }

  /** Stops one connection; says what it removed. */
  async disconnect(ref: RayClusterRef): Promise<string[]> {
    const key = refKey(ref);
    const c = this.live.get(key);
    if (!c) return [];
    this.live.delete(key);
    const removed = await c.stop();
    return removed.length
      ? removed.map((r) => `${r} (connection ${c.ref.name})`)
      : [`connection ${c.ref.name}`];
  }

  /** Stops every connection of a cluster (sign-out), or all of them. */
  async disconnectAll(clusterId?: string): Promise<string[]> {
    const removed: string[] = [];
    for (const c of [...this.live.values()])
      if (clusterId === undefined || c.ref.clusterId === clusterId)
        removed.push(...(await this.disconnect(c.ref)));
    return removed;
  }

  sessionEnv(ref: RayClusterRef): SessionEnv {
    const c = this.live.get(refKey(ref));
    if (!c || c.summary().state === 'disconnected')
      throw new RayConnectError('BAD_REQUEST', `Not connected to Ray cluster ${ref.name}`, {
        fix: `Connect first: ray-connect connect ${ref.name} -n ${ref.namespace}`,
        details: { ...ref },
      });
    return c.sessionEnv();
  }

  /** The Ray token: the connection's (kept fresh; a token Secret is read again), else read now without connecting. */
  async rayToken(ref: RayClusterRef): Promise<{ token: string; expiresAt?: number }> {
    const c = this.live.get(refKey(ref));
    // A live connection re-reads its Secret: a rotated token is picked up, a deleted one is reported.
    let token = await c?.recheckToken();
    if (!c) {
      const kube = await this.clients.get(ref.clusterId);
      token = await getRayToken(await getRayCluster(ref, kube), kube);
    }
    if (!token)
      throw new RayConnectError(
        'RAY_TOKEN_NOT_FOUND',
        `Ray cluster ${ref.name} has no auth: there is no token`,
        { details: { ...ref } },
      );
    return token.expiresAt === undefined
      ? { token: token.token.reveal() }
      : { token: token.token.reveal(), expiresAt: token.expiresAt };
  }
}
