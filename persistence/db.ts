// The consumer's PostgreSQL client. Its sockets have Nagle's algorithm off: a COPY ends with a small CopyDone
// message right after its data, and with Nagle on that message waits for the server's delayed ACK (40 ms on
// Linux) - per COPY, several per batch. postgres.js has no option for it, but takes a socket factory.

import net from 'node:net';
import { once } from 'node:events';
import postgres from 'postgres';
import type { Options, Sql } from 'postgres';

async function connectNoDelay(host: string, port: number): Promise<net.Socket> {
  const socket = net.connect({ host, port, noDelay: true });
  await once(socket, 'connect');
  return socket;
}

/** A postgres.js client for `url` whose TCP sockets send at once. Unix-socket URLs keep the default. */
export function connectPostgres(url: string, opts: Options<Record<string, never>> = {}): Sql {
  const parsed = new URL(url);
  const host = parsed.hostname === '' ? undefined : decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, '');
  const port = parsed.port === '' ? 5432 : Number(parsed.port);
  const socket = host === undefined || host.startsWith('/') ? undefined : () => connectNoDelay(host, port);
  return postgres(url, { onnotice: () => {}, ...opts, ...(socket === undefined ? {} : { socket }) });
}
