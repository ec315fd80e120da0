import { Agent as HttpsAgent, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/**
 * An https.Agent that tunnels through an HTTP(S) proxy with CONNECT, for `ws` (port-forward WebSockets) when
 * HTTPS_PROXY applies. TLS to the API server (ca, cert, key, rejectUnauthorized, servername) comes from the request.
 */
export class ProxyTunnelAgent extends HttpsAgent {
  private readonly proxy: URL;

  constructor(proxy: string, options?: AgentOptions) {
    super({ keepAlive: false, ...options });
    this.proxy = new URL(proxy);
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => undefined);
    const host = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 443);
    const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const proxyPort = Number(this.proxy.port || (this.proxy.protocol === 'https:' ? 443 : 80));
    const proxyHost = this.proxy.hostname.replace(/^\[|\]$/g, '');
    const socket: Socket =
      this.proxy.protocol === 'https:'
        ? tlsConnect({
            host: proxyHost,
            port: proxyPort,
            ...(isIP(proxyHost) ? {} : { servername: proxyHost }),
          })
        : netConnect({ host: proxyHost, port: proxyPort });
    let buffered = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.removeListener('data', onData);
      socket.destroy();
      done(e, socket);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 16 * 1024) fail(new Error('the proxy sent an oversized CONNECT response'));
        return;
      }
      socket.removeListener('data', onData);
      socket.removeListener('error', fail);
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
      if (status !== 200)
        return fail(
          Object.assign(new Error(`the proxy refused CONNECT ${target} (HTTP ${status || '?'})`), {
            code: 'ERR_PROXY_CONNECT',
          }),
        );
      const rest = buffered.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      const tls = tlsConnect({
        socket,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.cert !== undefined ? { cert: options.cert } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
        rejectUnauthorized: options.rejectUnauthorized !== false,
        ...((options.servername ?? (isIP(host) ? undefined : host))
          ? { servername: options.servername ?? host }
          : {}),
      });
      done(null, tls);
    };
    socket.on('error', fail);
    socket.on('data', onData);
    socket.once(this.proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      const auth = this.proxy.username
        ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`).toString('base64')}\r\n`
        : '';
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    return undefined;
  }
}
