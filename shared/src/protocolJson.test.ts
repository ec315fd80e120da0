import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from './errors.js';
import { AGENT_METHODS, PROTOCOL_VERSION, RAY_ENV_KEYS } from './protocol.js';
import { agentProtocolJson } from './protocolJson.js';

const committed = fileURLToPath(
  new URL('../../extension-jupyterlab/ray_connect_jupyterlab/protocol.json', import.meta.url),
);

describe('protocol.json (the agent protocol for the Python server extension)', () => {
  it('is what the TypeScript definitions generate (run: pnpm --filter ./extension-jupyterlab run build:protocol)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(agentProtocolJson());
  });

  it('holds every method, error code and Ray env key', () => {
    const data = JSON.parse(agentProtocolJson()) as Record<string, unknown>;
    expect(data.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(data.methods).toEqual([...AGENT_METHODS]);
    expect(Object.keys(data.errors as object)).toEqual([...ErrorCodes]);
    expect(data.errors).toMatchObject({ BAD_REQUEST: 400, VERSION_MISMATCH: 409, INTERNAL: 500 });
    expect(data.rayEnvKeys).toEqual([...RAY_ENV_KEYS]);
  });
});
