// The audit log (audit/migrations): security-relevant actions, appended by the gateway and the chain service,
// read by users (their own) and operators (all), and checked end to end by `npm run audit:verify`.
//
// Each row carries the SHA-256 of the row before it: hash = SHA-256(prev_hash || canonical(row)), the first row's
// prev_hash being 32 zero bytes. An edited row no longer matches its hash; a deleted row leaves a gap in `seq` and
// a prev_hash that matches nothing. (Cutting rows off the end leaves a shorter valid chain: compare the head with
// one recorded earlier, `audit:verify --expect-head`, to detect that.)
//
// Appends run as the role exchange_audit_writer (SELECT and INSERT only), under a transaction-scoped advisory lock
// that orders every writer, so seq is gap-free and prev_hash is the true predecessor.

import { createHash } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';

export const AUDIT_WRITER_ROLE = 'exchange_audit_writer';
/** Any constant: serialises appends from every process on this database. */
const AUDIT_LOCK_KEY = 0x61756474;
export const GENESIS_HASH = Buffer.alloc(32);
/** Rows read per query by verify and by the listings. */
export const AUDIT_PAGE_MAX = 1000;
const DETAIL_BYTES_MAX = 4096;

/** Every action the log records: stable names (a renamed action would split the history). */
export const AUDIT_ACTIONS = [
  'account.registered',
  'auth.login_succeeded',
  'auth.login_failed',
  'auth.logout',
  'session.revoked',
  'two_factor.setup_started',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.recovery_codes_renewed',
  'two_factor.recovery_code_used',
  'api_key.created',
  'api_key.revoked',
  'withdrawal_address.added',
  'withdrawal_address.removed',
  'withdrawal.requested',
  'withdrawal.refused',
  'withdrawal.approved',
  'withdrawal.rejected',
  'withdrawal.sent',
  'operator.created',
  'operator.disabled',
  'operator.two_factor_reset',
  'operator.login_succeeded',
  'operator.login_failed',
  'operator.logout',
  'asset.added',
  'asset.limits_changed',
  'market.added',
  'market.status_changed',
  'user.frozen',
  'user.unfrozen',
  'kill_switch.engaged',
  'kill_switch.released',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type ActorType = 'user' | 'operator' | 'system' | 'anonymous';

export interface AuditEntry {
  readonly actorType: ActorType;
  /** user id, operator username, or system component (e.g. chain-devnet); null for anonymous. */
  readonly actorId: string | null;
  /** The user the action concerns, when there is one. */
  readonly userId: number | null;
  readonly action: AuditAction;
  readonly detail?: Record<string, unknown>;
  readonly ip?: string | null;
}

export interface AuditRow {
  readonly seq: number;
  readonly at: Date;
  readonly actorType: ActorType;
  readonly actorId: string | null;
  readonly userId: number | null;
  readonly action: string;
  readonly detail: string;
  readonly ip: string | null;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** The hash of a row given its predecessor's: what append stores and verify recomputes. */
export function rowHash(prevHash: Buffer, r: Omit<AuditRow, 'prevHash' | 'hash'>): Buffer {
  const canonical = JSON.stringify([
    r.seq,
    r.at.toISOString(),
    r.actorType,
    r.actorId,
    r.userId,
    r.action,
    r.detail,
    r.ip,
  ]);
  return createHash('sha256').update(prevHash).update(canonical, 'utf8').digest();
}

function detailText(detail: Record<string, unknown> | undefined): string {
  const text = JSON.stringify(detail ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  // Bounded: details are small facts (ids, amounts, codes), never request bodies.
  if (Buffer.byteLength(text) > DETAIL_BYTES_MAX) throw new Error(`audit detail over ${DETAIL_BYTES_MAX} bytes`);
  return text;
}

type Db = Sql | TransactionSql;
const isTransaction = (db: Db): db is TransactionSql => typeof (db as { savepoint?: unknown }).savepoint === 'function';

export class AuditLog {
  constructor(private readonly nowMs: () => number = Date.now) {}

  /**
   * Appends one entry: in the caller's transaction when given one (the entry commits or rolls back with the action
   * it records; it holds the audit lock until then, so append last), else in a transaction of its own.
   */
  async append(db: Db, entry: AuditEntry): Promise<{ seq: number; hash: Buffer }> {
    if (isTransaction(db)) return this.appendIn(db, entry);
    return (db as Sql).begin((tx) => this.appendIn(tx, entry));
  }

  private async appendIn(tx: TransactionSql, e: AuditEntry): Promise<{ seq: number; hash: Buffer }> {
    await tx.unsafe(`SET LOCAL ROLE ${AUDIT_WRITER_ROLE}`);
    await tx`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
    const [last] = await tx<{ seq: string; hash: Buffer }[]>`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`;
    const prevHash = last === undefined ? GENESIS_HASH : last.hash;
    // Millisecond precision: what the row stores (timestamptz keeps microseconds) is exactly what was hashed.
    const row = {
      seq: last === undefined ? 1 : Number(last.seq) + 1,
      at: new Date(this.nowMs()),
      actorType: e.actorType,
      actorId: e.actorId,
      userId: e.userId,
      action: e.action,
      detail: detailText(e.detail),
      ip: e.ip ?? null,
    };
    const hash = rowHash(prevHash, row);
    await tx`INSERT INTO audit_log (seq, at, actor_type, actor_id, user_id, action, detail, ip, prev_hash, hash)
      VALUES (${row.seq}, ${row.at}, ${row.actorType}, ${row.actorId}, ${row.userId}, ${row.action}, ${row.detail}, ${row.ip}, ${prevHash}, ${hash})`;
    await tx`RESET ROLE`;
    return { seq: row.seq, hash };
  }
}

interface AuditRowDb {
  seq: string;
  at: Date;
  actor_type: ActorType;
  actor_id: string | null;
  user_id: string | null;
  action: string;
  detail: string;
  ip: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

const fromDb = (r: AuditRowDb): AuditRow => ({
  seq: Number(r.seq),
  at: r.at,
  actorType: r.actor_type,
  actorId: r.actor_id,
  userId: r.user_id === null ? null : Number(r.user_id),
  action: r.action,
  detail: r.detail,
  ip: r.ip,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/** A page of entries, newest first: all of them, or one user's; `beforeSeq` continues a previous page. */
export async function readAudit(
  sql: Sql,
  q: { userId: number | null; beforeSeq: number | null; limit: number },
): Promise<AuditRow[]> {
  const limit = Math.min(q.limit, AUDIT_PAGE_MAX);
  const user = q.userId === null ? sql`` : sql`AND user_id = ${q.userId}`;
  const before = q.beforeSeq === null ? sql`` : sql`AND seq < ${q.beforeSeq}`;
  const rows = await sql<
    AuditRowDb[]
  >`SELECT * FROM audit_log WHERE true ${user} ${before} ORDER BY seq DESC LIMIT ${limit}`;
  return rows.map(fromDb);
}

export interface AuditProblem {
  readonly seq: number;
  readonly problem: 'gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'head_mismatch';
  readonly detail: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly rows: number;
  readonly head: { seq: number; hash: string } | null;
  /** The first problems found (at most 20). */
  readonly problems: AuditProblem[];
}

/**
 * Recomputes the chain from the first row: every seq present once in order from 1, every prev_hash the hash of the
 * row before, every hash matching its row. `expectHead` (a head recorded earlier) must still be in the chain.
 */
export async function verifyAudit(
  sql: Sql,
  opts: { expectHead?: { seq: number; hash: string } } = {},
): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let prev: Buffer = GENESIS_HASH;
  let expectedSeq = 1;
  let rows = 0;
  let head: { seq: number; hash: string } | null = null;
  let expectSeen = false;
  for (;;) {
    const page = (
      await sql<AuditRowDb[]>`SELECT * FROM audit_log WHERE seq >= ${expectedSeq} ORDER BY seq LIMIT ${AUDIT_PAGE_MAX}`
    ).map(fromDb);
    if (page.length === 0) break;
    for (const r of page) {
      rows++;
      if (r.seq !== expectedSeq)
        problems.push({ seq: r.seq, problem: 'gap', detail: `rows ${expectedSeq}..${r.seq - 1} are missing` });
      if (!r.prevHash.equals(prev))
        problems.push({
          seq: r.seq,
          problem: 'prev_hash_mismatch',
          detail: 'prev_hash is not the hash of the row before',
        });
      if (!rowHash(r.prevHash, r).equals(r.hash))
        problems.push({
          seq: r.seq,
          problem: 'hash_mismatch',
          detail: 'the row does not match its hash: it was changed',
        });
      if (opts.expectHead !== undefined && r.seq === opts.expectHead.seq) {
        expectSeen = true;
        if (r.hash.toString('hex') !== opts.expectHead.hash)
          problems.push({ seq: r.seq, problem: 'head_mismatch', detail: 'the recorded head has another hash now' });
      }
      prev = r.hash;
      expectedSeq = r.seq + 1;
      head = { seq: r.seq, hash: r.hash.toString('hex') };
    }
    if (problems.length >= 20) break;
  }
  if (opts.expectHead !== undefined && !expectSeen) {
    problems.push({
      seq: opts.expectHead.seq,
      problem: 'head_mismatch',
      detail: `the recorded head ${opts.expectHead.seq} is gone: rows were cut off the end`,
    });
  }
  return { ok: problems.length === 0, rows, head, problems: problems.slice(0, 20) };
}
