// The engine daemon: the imperative shell around the pure core. It recovers (newest valid snapshot + replay of
// the command log), then applies commands in bounded batches and commits each batch's events together with the
// batch's last command offset. Commands at or below the committed offset are re-applied to rebuild state but
// their events are not written again: that is what makes the output exactly once across crashes.

import type { Logger } from 'pino';
import { Engine, restore, snapshot } from '../core/index.js';
import type { EngineEvent, EngineLimits } from '../core/index.js';
import { EventRecordPacker, decodeCommand } from '../wire/codec.js';
import { isFatalLogError } from './log.js';
import type { CommandLog, CommandRecord, EventRecord } from './log.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface DaemonOptions {
  readonly log: CommandLog;
  readonly snapshots: SnapshotStore;
  readonly logger: Logger;
  readonly limits?: EngineLimits;
  /** Commands per batch (one commit each). */
  readonly batchMax: number;
  /** A snapshot after at least this many commands since the last one. */
  readonly snapshotEveryCommands: number;
  /** Wait between commit retries while the log is unavailable. */
  readonly retryDelayMs?: number;
}

export class EngineDaemon {
  engine: Engine = new Engine();
  /** Last command offset applied to `engine`. */
  appliedOffset = -1;
  /** Last command offset whose events are committed. */
  committedOffset = -1;
  private commandsSinceSnapshot = 0;
  private stopping = false;

  constructor(private readonly opts: DaemonOptions) {}

  /** Recovers, then consumes until stop(). */
  async run(): Promise<void> {
    await this.recover();
    const from = this.appliedOffset + 1;
    this.opts.logger.info({ from, committed: this.committedOffset }, 'engine daemon consuming');
    await this.opts.log.consume(from, this.opts.batchMax, (records) => this.onBatch(records));
    // A clean stop leaves a snapshot of exactly the committed state, so the next start replays nothing.
    if (this.commandsSinceSnapshot > 0 && this.appliedOffset === this.committedOffset) await this.writeSnapshot();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.opts.log.stop();
  }

  private async recover(): Promise<void> {
    const loaded = await this.opts.snapshots.loadNewest((bytes) => {
      try {
        this.engine = restore(bytes);
        return true;
      } catch (err) {
        this.opts.logger.warn({ err }, 'snapshot does not restore; trying an older one');
        return false;
      }
    });
    if (loaded === null) this.engine = new Engine(this.opts.limits);
    this.appliedOffset = loaded === null ? -1 : loaded.offset;
    this.committedOffset = await this.opts.log.committedOffset();
    if (this.appliedOffset > this.committedOffset) {
      // A snapshot is only written after its batch committed; the event log must have lost data.
      throw new Error(`snapshot covers offset ${this.appliedOffset} but the event log has committed only ${this.committedOffset}`);
    }
    this.opts.logger.info({ snapshotOffset: this.appliedOffset, committedOffset: this.committedOffset, eventSeq: this.engine.eventSeq }, 'engine daemon recovered');
  }

  private readonly packer = new EventRecordPacker();

  private async onBatch(records: CommandRecord[]): Promise<void> {
    const startedMs = performance.now();
    const packer = this.packer;
    for (const record of records) {
      if (record.offset <= this.appliedOffset) continue; // a redelivery below what the state already holds
      const events = this.applyRecord(record);
      this.appliedOffset = record.offset;
      if (record.offset > this.committedOffset) for (const ev of events) packer.add(ev);
    }
    const out: EventRecord[] = packer.take().map((value) => ({ key: '', value }));
    this.commandsSinceSnapshot += records.length;
    const appliedMs = performance.now();
    if (this.appliedOffset > this.committedOffset) await this.commit(out, this.appliedOffset);
    this.opts.logger.debug({ commands: records.length, events: out.length, applyMs: appliedMs - startedMs, commitMs: performance.now() - appliedMs }, 'batch');
    if (this.commandsSinceSnapshot >= this.opts.snapshotEveryCommands && this.appliedOffset === this.committedOffset) await this.writeSnapshot();
  }

  private applyRecord(record: CommandRecord): EngineEvent[] {
    const decoded = decodeCommand(record.value, record.timestampMs);
    if (decoded.ok) return this.engine.apply(decoded.command);
    return this.engine.applyInvalid(decoded.id, record.timestampMs, decoded.code);
  }

  /**
   * Commits, retrying while the log is unavailable. A failed commit may still have landed (a lost reply), so
   * before trying again the committed offset is read back, and the batch is written again only if it is not there.
   */
  private async commit(events: EventRecord[], lastOffset: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.log.commit(events, lastOffset);
        this.committedOffset = lastOffset;
        return;
      } catch (err) {
        if (this.stopping || isFatalLogError(err)) throw err;
        this.opts.logger.warn({ err, attempt, lastOffset }, 'commit failed; checking what landed before retrying');
        const committed = await this.readCommittedOffset();
        if (committed >= lastOffset) {
          this.committedOffset = committed;
          return;
        }
      }
    }
  }

  /** The log's committed offset, waiting out an unavailable log (the daemon cannot go on without knowing it). */
  private async readCommittedOffset(): Promise<number> {
    for (;;) {
      await sleep(this.opts.retryDelayMs ?? 500);
      try {
        return await this.opts.log.committedOffset();
      } catch (err) {
        if (this.stopping) throw err;
        this.opts.logger.warn({ err }, 'cannot read the committed offset yet');
      }
    }
  }

  private async writeSnapshot(): Promise<void> {
    const bytes = snapshot(this.engine);
    await this.opts.snapshots.write(bytes, this.appliedOffset);
    this.commandsSinceSnapshot = 0;
    this.opts.logger.info({ offset: this.appliedOffset, bytes: bytes.length }, 'snapshot written');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
