import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface TlsMaterial {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** An undici dispatcher for the API server: our TLS material, through `proxy` when one applies. */
export function buildDispatcher(tls: TlsMaterial, proxy: string | undefined): Dispatcher {
  const connect = {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
  };
  if (proxy) return new ProxyAgent({ uri: proxy, requestTls: connect });
  return new Agent({ connect });
}
