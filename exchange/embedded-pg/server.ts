// PostgreSQL embedded in the process (PGlite: Postgres compiled to WASM, data in a directory), served over the
// wire protocol on a loopback port, so persistence, the chain service and the gateway connect with the same
// `postgres` client and SQL as in production.
//
// Why not PGLiteSocketServer (@electric-sql/pglite-socket 0.2.17) as it is. PGlite is ONE backend session; that
// server multiplexes several client connections onto it message by message and keeps a client's messages
// together only while an explicit transaction block is open. We found three ways that breaks our components:
//   - outside BEGIN, another client's Parse/Bind/Execute can run between a client's Bind and Execute: the
//     unnamed portal is shared, so a client can execute another's statement, and an error discards the other
//     client's messages up to its Sync. postgres.js cursors (persistence's state load) hold a portal open
//     across round trips without BEGIN;
//   - COPY ... FROM STDIN (persistence's writer) makes the WASM backend read client data that is not there
//     yet: it calls exit(1) and the whole database is gone until restart;
//   - a client over the connection limit gets a plain-text line instead of a protocol error.
// So this server: one client at a time OWNS the session from its first message until the backend answers
// ReadyForQuery with status 'I' (idle, no transaction) and the client has nothing queued; the others wait in
// arrival order. COPY ... FROM STDIN sent as a simple query (what postgres.js `.writable()` sends) is answered
// here (CopyInResponse), its data collected up to copyBytesMax, and run as COPY ... FROM '/dev/blob' (PGlite's
// device for COPY data) when the client sends CopyDone; any other COPY FROM STDIN is turned into an error.
//
// Consequences (documented in docs/running.md): one statement at a time across the whole process (fine for one
// user on a laptop, not a benchmark); a client must not wait, inside a transaction, for another connection of its
// own (that would wait forever, where a real server would let both run); session state (temporary tables,
// session advisory locks, SET) is shared by all connections: advisory locks never exclude each other here.

import { Buffer } from 'node:buffer';
import net from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import {
  ReadyTracker,
  SYNC_MESSAGE,
  copyFromStdin,
  copyInResponse,
  fatalError,
  mentionsCopyFromStdin,
  messageType,
  parseText,
  queryMessage,
  queryText,
  raiseStatement,
  reparse,
  splitMessages,
  takeStartupPacket,
} from './protocol.js';

export interface EmbeddedPgServerOptions {
  readonly db: PGlite;
  readonly logger: Logger;
  /** Loopback only: the embedded database has no authentication. */
  readonly host?: '127.0.0.1';
  /** 0 = any free port. */
  readonly port?: number;
  /** Open client connections at most; one more gets a FATAL too_many_connections. */
  readonly connectionsMax?: number;
  /** Bytes of one COPY ... FROM STDIN at most (they are held in memory until CopyDone). */
  readonly copyBytesMax?: number;
  /** Bytes a waiting client may queue before its socket is paused. */
  readonly queuedBytesMax?: number;
  /** A waiting client logs a warning when the session has been held by another for this long. */
  readonly ownerWarnAfterMs?: number;
  /** The database failed (PGlite aborted): nothing more can run; the process should stop. */
  readonly onFatal?: (err: unknown) => void;
}

type Phase = 'startup' | 'ready' | 'copy-in' | 'closed';

interface Client {
  readonly id: number;
  readonly socket: net.Socket;
  phase: Phase;
  pending: Buffer;
  readonly queue: Buffer[];
  queuedBytes: number;
  copy: { fromBlob: string; chunks: Buffer[]; bytes: number; tooBig: boolean } | null;
  waitingSinceMs: number;
}

export class EmbeddedPgServer {
  private readonly server: net.Server;
  private readonly clients = new Map<number, Client>();
  /** Every open socket, refused ones included: stop() must close them all for the listener to close. */
  private readonly sockets = new Set<net.Socket>();
  /** Clients with queued messages waiting for the session, in arrival order. */
  private readonly waiting: Client[] = [];
  private owner: Client | null = null;
  private ownerSinceMs = 0;
  private readonly tracker = new ReadyTracker();
  private pumping = false;
  private nextId = 1;
  private failed: unknown = null;
  private stopping = false;
  private readonly connectionsMax: number;
  private readonly copyBytesMax: number;
  private readonly queuedBytesMax: number;
  private readonly ownerWarnAfterMs: number;
  port = 0;

  constructor(private readonly opts: EmbeddedPgServerOptions) {
    this.connectionsMax = opts.connectionsMax ?? 32;
    this.copyBytesMax = opts.copyBytesMax ?? 256 * 1024 * 1024;
    this.queuedBytesMax = opts.queuedBytesMax ?? 16 * 1024 * 1024;
    this.ownerWarnAfterMs = opts.ownerWarnAfterMs ?? 10_000;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** A postgres:// URL for clients of this server. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    await this.opts.db.waitReady;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops accepting, closes every client connection, and waits for the statement in hand. */
  async stop(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
  }

  get stats(): { connections: number; waiting: number } {
    return { connections: this.clients.size, waiting: this.waiting.length };
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.stopping || this.failed !== null || this.clients.size >= this.connectionsMax) {
      const full = this.clients.size >= this.connectionsMax;
      const why = full
        ? `too many connections to the embedded database (at most ${this.connectionsMax})`
        : 'the embedded database is shutting down';
      socket.on('error', () => socket.destroy());
      // The client may keep its end open after reading the error: close ours once the error is sent.
      socket.end(fatalError(full ? '53300' : '57P01', why), () => socket.destroy());
      return;
    }
    const c: Client = {
      id: this.nextId++,
      socket,
      phase: 'startup',
      pending: Buffer.alloc(0),
      queue: [],
      queuedBytes: 0,
      copy: null,
      waitingSinceMs: 0,
    };
    this.clients.set(c.id, c);
    socket.on('data', (data) => this.onData(c, data));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose(c));
  }

  private onData(c: Client, data: Buffer): void {
    if (c.phase === 'closed') return;
    c.pending = c.pending.length === 0 ? data : Buffer.concat([c.pending, data]);
    try {
      if (c.phase === 'startup' && !this.takeStartup(c)) return;
      const { messages, rest } = splitMessages(c.pending);
      c.pending = rest;
      for (const m of messages) this.enqueue(c, m);
    } catch (err) {
      this.opts.logger.warn(
        { client: c.id, err: (err as Error).message },
        'embedded postgres: protocol error; closing the connection',
      );
      c.socket.destroy();
      return;
    }
    if (c.queuedBytes > this.queuedBytesMax) c.socket.pause();
    this.pump();
  }

  /** Handles start-up packets; true once the client's StartupMessage is queued. */
  private takeStartup(c: Client): boolean {
    for (;;) {
      const p = takeStartupPacket(c.pending);
      if (p === null) return false;
      c.pending = c.pending.subarray(p.bytes.length);
      if (p.kind === 'ssl' || p.kind === 'gssenc') {
        c.socket.write('N'); // no encryption on loopback; the client goes on in plain text
        continue;
      }
      if (p.kind === 'cancel') {
        // No backend process to signal: the statement runs to its end (the client's timeout still applies).
        c.socket.end();
        return false;
      }
      c.phase = 'ready';
      this.enqueue(c, Buffer.from(p.bytes));
      return true;
    }
  }

  private enqueue(c: Client, m: Buffer): void {
    if (c.queue.length === 0 && this.owner !== c) {
      c.waitingSinceMs = Date.now();
      this.waiting.push(c);
    }
    c.queue.push(m);
    c.queuedBytes += m.length;
  }

  private onClose(c: Client): void {
    c.phase = 'closed';
    this.clients.delete(c.id);
    const i = this.waiting.indexOf(c);
    if (i >= 0) this.waiting.splice(i, 1);
    c.queue.length = 0;
    c.queuedBytes = 0;
    // A closed owner is released by the loop (after the statement in hand, if one is running).
    if (this.owner === c) this.pump();
  }

  /** Serialises everything that touches the session. */
  private pump(): void {
    if (this.pumping || this.failed !== null) return;
    this.pumping = true;
    this.pumpLoop()
      .catch((err) => this.fail(err))
      .finally(() => {
        this.pumping = false;
      });
  }

  private async pumpLoop(): Promise<void> {
    for (;;) {
      if (this.owner !== null && this.owner.phase === 'closed') await this.releaseAbandoned(this.owner);
      const c = this.owner ?? this.waiting.shift() ?? null;
      if (c === null) return;
      if (this.owner === null) {
        this.owner = c;
        this.ownerSinceMs = Date.now();
      }
      if (c.queue.length === 0) {
        this.warnIfHeldLong();
        return; // the owner is between messages (inside a transaction, a COPY, or a portal): wait for it
      }
      await this.runNext(c);
      if (c.queuedBytes <= this.queuedBytesMax && c.socket.isPaused()) c.socket.resume();
      if (c.phase !== 'copy-in' && this.tracker.lastReady === 'I' && this.owner === c) {
        this.owner = null;
        if (c.queue.length > 0) {
          c.waitingSinceMs = Date.now();
          this.waiting.push(c); // fairness: back of the line
        }
      }
      // Each statement runs synchronously in WASM: let sockets and timers run between two of them.
      await yieldToLoop();
    }
  }

  /** Runs the owner's queued messages up to the first one that needs special handling (or that one alone). */
  private async runNext(c: Client): Promise<void> {
    if (c.phase === 'copy-in') return this.copyMessage(c, this.take(c));
    const special = c.queue.findIndex((m) => isSpecial(m));
    if (special === 0) {
      const m = this.take(c);
      const type = messageType(m);
      if (type === 'X') return void c.socket.end();
      if (type === 'Q') {
        const copy = copyFromStdin(queryText(m));
        if (copy !== null) {
          c.phase = 'copy-in';
          c.copy = { fromBlob: copy.fromBlob, chunks: [], bytes: 0, tooBig: false };
          c.socket.write(copyInResponse(copy.columns));
          return;
        }
        return this.exec(
          c,
          queryMessage(
            raiseStatement(
              '0A000',
              'the embedded database supports COPY FROM STDIN only as a whole simple query (COPY table (columns) FROM STDIN)',
            ),
          ),
        );
      }
      return this.exec(
        c,
        reparse(
          m,
          raiseStatement('0A000', 'the embedded database does not support COPY FROM STDIN in the extended protocol'),
        ),
      );
    }
    const n = special < 0 ? c.queue.length : special;
    const batch = c.queue.splice(0, n);
    for (const m of batch) c.queuedBytes -= m.length;
    await this.exec(c, Buffer.concat(batch));
  }

  private take(c: Client): Buffer {
    const m = c.queue.shift() as Buffer;
    c.queuedBytes -= m.length;
    return m;
  }

  /** A message while the client sends COPY data. */
  private async copyMessage(c: Client, m: Buffer): Promise<void> {
    const copy = c.copy as NonNullable<Client['copy']>;
    const type = messageType(m);
    if (type === 'd') {
      const data = m.subarray(5);
      copy.bytes += data.length;
      if (copy.bytes > this.copyBytesMax) copy.tooBig = true;
      if (!copy.tooBig) copy.chunks.push(Buffer.from(data));
      return;
    }
    if (type === 'H' || type === 'S') return; // ignored during COPY, as by a real server
    c.phase = 'ready';
    c.copy = null;
    if (type === 'c' && !copy.tooBig) {
      await this.opts.db._handleBlob(new Blob(copy.chunks));
      try {
        return await this.exec(c, queryMessage(copy.fromBlob));
      } finally {
        await this.opts.db._cleanupBlob();
      }
    }
    const why = copy.tooBig
      ? `COPY data over ${this.copyBytesMax} bytes: the embedded database holds it in memory; send smaller batches`
      : type === 'f'
        ? `COPY from stdin failed: ${m.toString('utf8', 5, m.length - 1)}`
        : `unexpected message ${JSON.stringify(type)} during COPY from stdin`;
    return this.exec(c, queryMessage(raiseStatement(copy.tooBig ? '54000' : '57014', why)));
  }

  /** Runs protocol bytes on the session and streams the answer to the client. */
  private async exec(c: Client, bytes: Buffer): Promise<void> {
    const { db } = this.opts;
    await db.runExclusive(() =>
      db.execProtocolRawStream(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
        onRawData: (data) => {
          this.tracker.feed(data);
          // PGlite reuses its buffer: copy before handing to the socket.
          if (c.phase !== 'closed') c.socket.write(Buffer.from(data));
        },
      }),
    );
  }

  /**
   * The owner left mid-conversation: end what it started (a half-sent extended query, an open transaction) so the
   * session is idle for the next client, as a real server would when a backend's client disconnects.
   */
  private async releaseAbandoned(c: Client): Promise<void> {
    if (this.owner !== c) return;
    const { db } = this.opts;
    const sink = { onRawData: (data: Uint8Array) => this.tracker.feed(data) };
    await db.runExclusive(async () => {
      await db.execProtocolRawStream(SYNC_MESSAGE, sink);
      if (this.tracker.lastReady !== 'I') await db.execProtocolRawStream(queryMessage('ROLLBACK'), sink);
    });
    this.opts.logger.debug(
      { client: c.id, status: this.tracker.lastReady },
      'embedded postgres: released the session of a closed connection',
    );
    this.owner = null;
  }

  private warnIfHeldLong(): void {
    const heldMs = Date.now() - this.ownerSinceMs;
    if (this.waiting.length > 0 && heldMs > this.ownerWarnAfterMs) {
      this.opts.logger.warn(
        { owner: this.owner?.id, heldMs, waiting: this.waiting.length },
        'embedded postgres: one connection has held the session (a transaction) for long; the others wait',
      );
      this.ownerSinceMs = Date.now();
    }
  }

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err;
    this.opts.logger.fatal({ err }, 'embedded postgres failed; closing every connection');
    for (const c of this.clients.values()) c.socket.destroy();
    this.opts.onFatal?.(err);
  }
}

/** Messages that are not passed through as they are. */
function isSpecial(m: Buffer): boolean {
  const type = messageType(m);
  if (type === 'X') return true;
  if (type === 'Q') return mentionsCopyFromStdin(queryText(m));
  if (type === 'P') return mentionsCopyFromStdin(parseText(m));
  return false;
}
