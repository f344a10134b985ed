// The few pieces of the PostgreSQL wire protocol (v3) the embedded server needs: splitting a client's byte stream
// into messages, recognising the messages it treats specially, and building the replies it writes itself. Pure.
// Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html

/** Untyped start-up packets are identified by a code after their length. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
export const PROTOCOL_V3 = 196608;

/** Longest message accepted from a client; a bigger length field means a broken or hostile client. */
export const MESSAGE_BYTES_MAX = 64 * 1024 * 1024;

export type StartupKind = 'ssl' | 'gssenc' | 'cancel' | 'startup';

export interface StartupPacket {
  readonly kind: StartupKind;
  readonly bytes: Buffer;
}

/** The first packet of a connection (no type byte): null until complete; throws on garbage. */
export function takeStartupPacket(buf: Buffer): StartupPacket | null {
  if (buf.length < 8) return null;
  const length = buf.readInt32BE(0);
  if (length < 8 || length > 10_000) throw new Error(`bad start-up packet length ${length}`);
  if (buf.length < length) return null;
  const code = buf.readInt32BE(4);
  const bytes = buf.subarray(0, length);
  if (code === SSL_REQUEST_CODE) return { kind: 'ssl', bytes };
  if (code === GSSENC_REQUEST_CODE) return { kind: 'gssenc', bytes };
  if (code === CANCEL_REQUEST_CODE) return { kind: 'cancel', bytes };
  if (code === PROTOCOL_V3) return { kind: 'startup', bytes };
  throw new Error(`unsupported protocol version ${code >> 16}.${code & 0xffff}`);
}

/** Splits complete typed messages off the front of `buf`; returns them and the bytes left over. */
export function splitMessages(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let at = 0;
  while (buf.length - at >= 5) {
    const length = buf.readInt32BE(at + 1);
    if (length < 4 || length > MESSAGE_BYTES_MAX)
      throw new Error(`bad message length ${length} for type ${JSON.stringify(String.fromCharCode(buf[at]))}`);
    if (buf.length - at < 1 + length) break;
    messages.push(buf.subarray(at, at + 1 + length));
    at += 1 + length;
  }
  return { messages, rest: buf.subarray(at) };
}

export const messageType = (m: Buffer): string => String.fromCharCode(m[0]);

/** The query text of a simple Query ('Q') message. */
export function queryText(m: Buffer): string {
  return m.toString('utf8', 5, m.length - 1);
}

/** The query text of a Parse ('P') message: after the statement name. */
export function parseText(m: Buffer): string {
  const nameEnd = m.indexOf(0, 5);
  return m.toString('utf8', nameEnd + 1, m.indexOf(0, nameEnd + 1));
}

// `COPY <target> [(<columns>)] FROM STDIN [rest]`, the form postgres.js's `.writable()` sends as a simple query.
const COPY_FROM_STDIN = /^\s*COPY\s+([\s\S]+?)\s+FROM\s+STDIN\b([\s\S]*?);?\s*$/i;

export interface CopyFromStdin {
  /** The same statement reading the embedded database's /dev/blob device instead of the client. */
  readonly fromBlob: string;
  /** Columns named in the statement (0 when it names none; clients do not rely on the count). */
  readonly columns: number;
}

/** A simple query that is a COPY ... FROM STDIN, or null. */
export function copyFromStdin(sql: string): CopyFromStdin | null {
  const m = COPY_FROM_STDIN.exec(sql);
  if (m === null) return null;
  const list = /\(([^)]*)\)\s*$/.exec(m[1]);
  const columns = list === null ? 0 : list[1].split(',').length;
  return { fromBlob: `COPY ${m[1]} FROM '/dev/blob'${m[2]}`, columns };
}

/** True when a statement's text would make the backend read COPY data from the client. */
export function mentionsCopyFromStdin(sql: string): boolean {
  return /\bCOPY\b[\s\S]*\bFROM\s+STDIN\b/i.test(sql);
}

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

export function copyInResponse(columns: number): Buffer {
  const body = Buffer.alloc(3 + 2 * columns);
  body.writeInt8(0, 0); // text format
  body.writeInt16BE(columns, 1);
  return typed('G', body);
}

/** A simple Query message. */
export function queryMessage(sql: string): Buffer {
  return typed('Q', Buffer.from(`${sql}\0`, 'utf8'));
}

export const SYNC_MESSAGE = typed('S', Buffer.alloc(0));

/** A statement that fails with this SQLSTATE and message when run: the backend itself then reports the error. */
export function raiseStatement(sqlState: string, message: string): string {
  const quoted = `'${message.replace(/'/g, "''")}'`;
  return `DO $raise$ BEGIN RAISE EXCEPTION USING ERRCODE = '${sqlState}', MESSAGE = ${quoted}; END $raise$`;
}

/** A Parse message with the same statement name and another text, no parameter types. */
export function reparse(m: Buffer, text: string): Buffer {
  const nameEnd = m.indexOf(0, 5);
  const name = m.subarray(5, nameEnd + 1);
  return typed('P', Buffer.concat([name, Buffer.from(`${text}\0`, 'utf8'), Buffer.alloc(2)]));
}

/** A FATAL ErrorResponse, for refusing a connection before it reaches the database. */
export function fatalError(sqlState: string, message: string): Buffer {
  const fields = [`SFATAL`, `VFATAL`, `C${sqlState}`, `M${message}`].map((f) => Buffer.from(`${f}\0`, 'utf8'));
  return typed('E', Buffer.concat([...fields, Buffer.alloc(1)]));
}

/**
 * Follows the backend's output message by message (chunks may split messages anywhere) and remembers the
 * transaction status of the last ReadyForQuery seen, and whether it was the last message: only then is the
 * session at a boundary where another client may use it.
 */
export class ReadyTracker {
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;
  private type = 0;
  private body: number[] = [];
  /** Status of the last complete message if it was a ReadyForQuery, else null. */
  lastReady: 'I' | 'T' | 'E' | null = null;

  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.headerBytes < 5) {
        this.header[this.headerBytes++] = chunk[at++];
        if (this.headerBytes === 5) {
          this.type = this.header[0];
          this.bodyLeft = this.header.readInt32BE(1) - 4;
          this.body = [];
          this.lastReady = null;
          if (this.bodyLeft === 0) this.finish();
        }
        continue;
      }
      const n = Math.min(this.bodyLeft, chunk.length - at);
      if (this.type === 0x5a) for (let i = 0; i < n; i++) this.body.push(chunk[at + i]);
      at += n;
      this.bodyLeft -= n;
      if (this.bodyLeft === 0) this.finish();
    }
  }

  private finish(): void {
    this.headerBytes = 0;
    if (this.type !== 0x5a || this.body.length !== 1) return;
    const status = String.fromCharCode(this.body[0]);
    if (status === 'I' || status === 'T' || status === 'E') this.lastReady = status;
  }
}
