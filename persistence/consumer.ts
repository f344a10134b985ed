// The consumer: the imperative shell around the projector. Start: migrate, load the projector's state at the
// stored position, read the source from there. Each batch: project (pure), write in one transaction with the new
// position. A ProjectionError (an event that cannot be applied) stops it. A write that fails for an operating
// reason (connection lost, server restart) is retried after reloading the state from what the database holds,
// so a commit whose reply was lost is not applied twice.

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
    this.opts.logger.info({ lastSeq: from.lastSeq, sourceOffset: from.sourceOffset, openOrders: this.projector.openOrders.size }, 'persistence consuming');
    await this.opts.source.consume(from.sourceOffset, this.opts.batchRecordsMax, (records) => this.onBatch(records));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.opts.source.stop();
  }

  private async onBatch(records: SourceRecord[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const projector = this.projector as Projector;
      let rows: RowSets;
      try {
        rows = projector.project(records);
      } catch (err) {
        if (err instanceof ProjectionError) await this.writeBefore(records, err);
        throw err;
      }
      if (rows.events === 0) return; // all redelivered
      try {
        await this.writer.write(rows);
      } catch (err) {
        if (isPermanent(err) || this.stopping) throw err;
        this.opts.logger.warn({ err, attempt, lastSeq: rows.previous.lastSeq }, 'batch write failed; reloading the state and retrying');
        await sleep(this.opts.retryDelayMs ?? 500);
        this.projector = await this.reload();
        continue;
      }
      this.eventsWritten += rows.events;
      this.batchesWritten++;
      this.opts.logger.debug({ events: rows.events, lastSeq: rows.position.lastSeq }, 'batch committed');
      await this.opts.onCommitted?.({ records, rows, committedMs: performance.timeOrigin + performance.now() });
      return;
    }
  }

  /**
   * Stores the records of the batch that precede the one that cannot be applied, so the stored position ends
   * right before the event the error names (an operator looking at the database sees exactly where it stopped).
   */
  private async writeBefore(records: SourceRecord[], err: ProjectionError): Promise<void> {
    const bad = err.seq === null ? -1 : records.findIndex((r) => r.events[r.events.length - 1].seq >= (err.seq as number));
    if (bad <= 0) return;
    this.projector = await loadProjector(this.opts.sql);
    const rows = this.projector.project(records.slice(0, bad));
    if (rows.events > 0) await this.writer.write(rows);
  }

  /** The state as the database has it, waiting out an unavailable database. */
  private async reload(): Promise<Projector> {
    for (;;) {
      try {
        return await loadProjector(this.opts.sql);
      } catch (err) {
        if (this.stopping) throw err;
        this.opts.logger.warn({ err }, 'cannot reload the state yet');
        await sleep(this.opts.retryDelayMs ?? 500);
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
