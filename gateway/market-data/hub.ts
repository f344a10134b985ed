// WebSocket connections and their subscriptions. Every message is serialised once and written to each subscriber.
// Memory per connection is bounded: before each write the socket's backlog (bytes ws has queued but the kernel has
// not taken) is checked, and a client whose backlog is over `sendBacklogBytesMax` is disconnected with
// MARKET_DATA_WS_SLOW_CONSUMER instead of being queued for without limit. One message may exceed the limit on its
// own (a large snapshot), so the bound is the limit plus one message.

import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { WS_CLOSE } from './errors.js';
import type { WsCloseCode, WsErrorCode } from './errors.js';

export interface HubLimits {
  readonly sendBacklogBytesMax: number;
  readonly subscriptionsPerConnectionMax: number;
  readonly connectionsMax: number;
  /** After a close frame, how long a client has to answer before its socket is destroyed. */
  readonly closeTimeoutMs: number;
}

export class Connection {
  readonly subscriptions = new Set<string>();
  closed = false;
  messagesInWindow = 0;
  windowStartMs = 0;

  constructor(
    readonly socket: WebSocket,
    /** Set when the upgrade request authenticated; the user channel needs it. */
    readonly userId: number | null,
  ) {}
}

export interface HubStats {
  connections: number;
  slowConsumerDisconnects: number;
  messagesSent: number;
}

export class Hub {
  private readonly channels = new Map<string, Set<Connection>>();
  /** Connections subscribed to the user channel, by user. */
  private readonly users = new Map<number, Set<Connection>>();
  readonly connections = new Set<Connection>();
  readonly stats: HubStats = { connections: 0, slowConsumerDisconnects: 0, messagesSent: 0 };

  constructor(
    readonly limits: HubLimits,
    private readonly logger: Logger,
  ) {}

  get isFull(): boolean {
    return this.connections.size >= this.limits.connectionsMax;
  }

  add(conn: Connection): void {
    this.connections.add(conn);
    this.stats.connections = this.connections.size;
  }

  remove(conn: Connection): void {
    conn.closed = true;
    for (const channel of conn.subscriptions) this.unsubscribe(conn, channel);
    this.connections.delete(conn);
    this.stats.connections = this.connections.size;
  }

  subscribe(conn: Connection, channel: string): void {
    conn.subscriptions.add(channel);
    if (channel === 'user') return addTo(this.users, conn.userId as number, conn);
    addTo(this.channels, channel, conn);
  }

  unsubscribe(conn: Connection, channel: string): void {
    conn.subscriptions.delete(channel);
    if (channel === 'user') return removeFrom(this.users, conn.userId as number, conn);
    removeFrom(this.channels, channel, conn);
  }

  subscribers(channel: string): ReadonlySet<Connection> {
    return this.channels.get(channel) ?? EMPTY;
  }

  hasSubscribers(channel: string): boolean {
    return this.channels.has(channel);
  }

  hasUser(userId: number): boolean {
    return this.users.has(userId);
  }

  broadcast(channel: string, text: string): void {
    const set = this.channels.get(channel);
    if (set === undefined) return;
    for (const conn of set) this.send(conn, text);
  }

  sendToUser(userId: number, text: string): void {
    const set = this.users.get(userId);
    if (set === undefined) return;
    for (const conn of set) this.send(conn, text);
  }

  sendError(conn: Connection, code: WsErrorCode, message: string, id: unknown, channel?: string): void {
    this.send(
      conn,
      JSON.stringify({ type: 'error', code, message, id: id ?? null, ...(channel === undefined ? {} : { channel }) }),
    );
  }

  send(conn: Connection, text: string): void {
    if (conn.closed) return;
    if (conn.socket.bufferedAmount > this.limits.sendBacklogBytesMax) {
      this.stats.slowConsumerDisconnects++;
      this.logger.info(
        { bufferedBytes: conn.socket.bufferedAmount, userId: conn.userId },
        'websocket client too slow: disconnecting',
      );
      this.close(conn, 'MARKET_DATA_WS_SLOW_CONSUMER');
      return;
    }
    conn.socket.send(text);
    this.stats.messagesSent++;
  }

  /** Sends a close frame and stops sending; the socket is destroyed if the client does not answer in time. */
  close(conn: Connection, why: WsCloseCode): void {
    if (conn.closed) return;
    this.remove(conn);
    const { code, reason } = WS_CLOSE[why];
    conn.socket.close(code, reason);
    const timer = setTimeout(() => conn.socket.terminate(), this.limits.closeTimeoutMs);
    timer.unref();
    conn.socket.once('close', () => clearTimeout(timer));
  }

  closeAll(why: WsCloseCode): void {
    for (const conn of [...this.connections]) this.close(conn, why);
  }
}

const EMPTY: ReadonlySet<Connection> = new Set();

function addTo<K>(map: Map<K, Set<Connection>>, key: K, conn: Connection): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(conn);
}

function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, conn: Connection): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(conn);
  if (set.size === 0) map.delete(key);
}
