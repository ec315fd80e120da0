import { ErrorCodes } from './errors.js';
import {
  AGENT_METHODS,
  AGENT_SECRET_ENV,
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
  RAY_ENV_KEYS,
  httpStatusFor,
} from './protocol.js';

/** The agent protocol as data, for the Python server extension (extension-jupyterlab/ray_connect_jupyterlab/protocol.json). */
export interface AgentProtocolJson {
  protocolVersion: number;
  agentSecretEnv: string;
  maxBodyBytes: number;
  methods: string[];
  /** Every error code with its HTTP status (httpStatusFor). */
  errors: Record<string, number>;
  rayEnvKeys: string[];
}

/** The text of protocol.json: what extension-jupyterlab/scripts/write-protocol-json.mjs writes at build time. */
export function agentProtocolJson(): string {
  const data: AgentProtocolJson = {
    protocolVersion: PROTOCOL_VERSION,
    agentSecretEnv: AGENT_SECRET_ENV,
    maxBodyBytes: MAX_BODY_BYTES,
    methods: [...AGENT_METHODS],
    errors: Object.fromEntries(ErrorCodes.map((code) => [code, httpStatusFor(code)])),
    rayEnvKeys: [...RAY_ENV_KEYS],
  };
  return JSON.stringify(data, null, 2) + '\n';
}
