// The consumer: the imperative shell around the projector. Start: migrate, load the projector's state at the
// stored position, read the source from there. Each batch: project (pure), write in one transaction with the new
// position. Pipelined: the next batch is decoded and projected while the previous one's transaction is in flight
// (one at a time, in order). A ProjectionError (an event that cannot be applied) stops it. A write that fails for
// an operating reason (connection lost, server restart) is retried with the same rows once the database's stored
// position says it did not land, so a commit whose reply was lost is not applied twice.

import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { ProjectionError } from './errors.js';
import type { Projector, SourceRecord } from './projector.js';
import type { RowSets } from './rows.js';
import type { EventSource } from './source.js';
import { loadProjector, migratePersistence } from './state.js';
import { BatchWriter, PositionConflictError } from './writer.js';

export interface BatchInfo {
  readonly records: readonly SourceRecord[];
  readonly rows: RowSets;
  /** performance.timeOrigin-based wall clock when the batch's transaction committed. */
  readonly committedMs: number;
}

export interface ConsumerOptions {
  readonly sql: Sql;
  readonly source: EventSource;
  readonly logger: Logger;
  /** Records per batch (= per transaction). */
  readonly batchRecordsMax: number;
  /** Called after each committed batch (tests check the ledger there; the bench measures lag). */
  readonly onCommitted?: (info: BatchInfo) => Promise<void> | void;
  readonly retryDelayMs?: number;
}

/** SQLSTATE classes that retrying cannot fix: data exceptions, constraint violations, syntax/undefined objects. */
const PERMANENT_SQLSTATE = /^(22|23|42)/;

function isPermanent(err: unknown): boolean {
  if (err instanceof ProjectionError || err instanceof PositionConflictError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && PERMANENT_SQLSTATE.test(code);
}

export class PersistenceConsumer {
  private projector: Projector | null = null;
  private readonly writer: BatchWriter;
  private stopping = false;
  /** The batch write in flight: at most one, so at most two batches' rows are held. */
  private writing: Promise<void> = Promise.resolve();
  eventsWritten = 0;
  batchesWritten = 0;

  constructor(private readonly opts: ConsumerOptions) {
    this.writer = new BatchWriter(opts.sql);
  }

  get position(): Projector['position'] | null {
    return this.projector?.position ?? null;
  }

  async run(): Promise<void> {
    const applied = await migratePersistence(this.opts.sql);
    if (applied.length > 0) this.opts.logger.info({ applied }, 'migrations applied');
    this.projector = await loadProjector(this.opts.sql);
    const from = this.projector.position;
    this.opts.logger.info(
      { lastSeq: from.lastSeq, sourceOffset: from.sourceOffset, openOrders: this.projector.openOrders.size },
      'persistence consuming',
    );
    await this.opts.source.consume(from.sourceOffset, this.opts.batchRecordsMax, (records) => this.onBatch(records));
    await this.writing;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.opts.source.stop();
  }

  private async onBatch(records: SourceRecord[]): Promise<void> {
    const projector = this.projector as Projector;
    let rows: RowSets;
    try {
      rows = await projectYielding(projector, records);
    } catch (err) {
      if (err instanceof ProjectionError) {
        await this.writing;
        await this.writeBefore(records, err);
      }
      throw err;
    }
    // The previous batch's transaction finishes first: positions move in order (each write checks its predecessor).
    await this.writing;
    if (rows.events === 0) return; // all redelivered
    const writing = this.write(records, rows);
    // Awaited by the next batch (or run()); the handler keeps a failure from counting as unhandled until then.
    writing.catch(() => undefined);
    this.writing = writing;
  }

  /** Writes one batch's rows, retrying operating failures once the stored position shows the batch did not land. */
  private async write(records: SourceRecord[], rows: RowSets): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.writer.write(rows);
        break;
      } catch (err) {
        if (isPermanent(err) || this.stopping) throw err;
        this.opts.logger.warn(
          { err, attempt, lastSeq: rows.previous.lastSeq },
          'batch write failed; checking the stored position and retrying',
        );
        const storedSeq = await this.storedSeq();
        if (storedSeq === rows.position.lastSeq) break; // it landed; the reply was lost
        if (storedSeq !== rows.previous.lastSeq)
          throw new PositionConflictError(
            `the stored position is at seq ${storedSeq}, neither before (${rows.previous.lastSeq}) nor after (${rows.position.lastSeq}) this batch`,
          );
      }
    }
    this.eventsWritten += rows.events;
    this.batchesWritten++;
    this.opts.logger.debug({ events: rows.events, lastSeq: rows.position.lastSeq }, 'batch committed');
    await this.opts.onCommitted?.({ records, rows, committedMs: performance.timeOrigin + performance.now() });
  }

  /**
   * Stores the records of the batch that precede the one that cannot be applied, so the stored position ends
   * right before the event the error names (an operator looking at the database sees exactly where it stopped).
   */
  private async writeBefore(records: SourceRecord[], err: ProjectionError): Promise<void> {
    const bad =
      err.seq === null ? -1 : records.findIndex((r) => r.events[r.events.length - 1].seq >= (err.seq as number));
    if (bad <= 0) return;
    this.projector = await loadProjector(this.opts.sql);
    const rows = this.projector.project(records.slice(0, bad));
    if (rows.events > 0) await this.writer.write(rows);
  }

  /** The stored position's seq, waiting out an unavailable database. */
  private async storedSeq(): Promise<number> {
    for (;;) {
      await sleep(this.opts.retryDelayMs ?? 500);
      try {
        const [row] = await this.opts.sql<
          { last_seq: string }[]
        >`SELECT last_seq FROM persistence_position WHERE id = 1`;
        return Number(row.last_seq);
      } catch (err) {
        if (this.stopping) throw err;
        this.opts.logger.warn({ err }, 'cannot read the stored position yet');
      }
    }
  }
}

/**
 * Projects a batch one record at a time, letting the event loop run between records: the previous batch's COPY
 * (written by this thread) keeps PostgreSQL busy instead of waiting out a whole batch's projection.
 */
async function projectYielding(projector: Projector, records: readonly SourceRecord[]): Promise<RowSets> {
  projector.beginBatch();
  for (const record of records) {
    projector.add([record]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return projector.finishBatch();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
