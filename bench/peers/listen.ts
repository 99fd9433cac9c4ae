/** The listen address of a peer server, read from env HOST and PORT. */

export interface ListenOptions {
  host: string;
  /** 0 lets the operating system pick a free port. */
  port: number;
}

/**
 * Reads HOST (default 127.0.0.1) and PORT (default 0).
 * @throws Error when PORT is not an integer from 0 to 65535.
 */
export function readListenOptions(): ListenOptions {
  const host = process.env.HOST || '127.0.0.1';
  const port = Number(process.env.PORT || '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid PORT ${JSON.stringify(process.env.PORT)}: expected an integer from 0 to 65535.`);
  }
  return { host, port };
}

/** Returns the GraphQL URL of a server bound to `host` and `port`, with brackets around an IPv6 host. */
export function graphqlUrl(host: string, port: number): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}:${port}/graphql`;
}
