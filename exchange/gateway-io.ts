// The gateway's links to the engine over the embedded log, in place of gateway/kafka-bus.ts and
// gateway/market-data/kafka-source.ts: the same interfaces (CommandBus, MarketEventSource), so buildGateway and the
// market-data plugin run unchanged in the embedded exchange.

import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/index.js';
import type { CommandInput } from '../engine/wire/codec.js';
import type { CommandWriter } from '../engine/daemon/log.js';
import { CommandPipe } from '../gateway/command-bus.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from '../gateway/command-bus.js';
import type { EventRecord, MarketEventSource } from '../gateway/market-data/source.js';
import { decodeLogRecord } from './embedded-io.js';
import { LogTail } from './embedded-log.js';
import type { EmbeddedLog } from './embedded-log.js';

const READ_BATCH_MAX = 500;

/**
 * Commands appended to the embedded log (group commit: one fsync'd append carries what queued meanwhile), results
 * read from its records from the end at start (older results belong to commands this gateway never sent).
 */
export class EmbeddedCommandBus implements CommandBus {
  private readonly writer: CommandWriter;
  private readonly tail: LogTail;
  private readonly pipe: CommandPipe;
  private running = false;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly log: EmbeddedLog,
    private readonly opts: { pendingMax: number; timeoutMs: number; logger: Logger; onLate?: LateResultHandler },
  ) {
    this.writer = log.writer();
    this.tail = new LogTail(log);
    this.pipe = new CommandPipe(this.writer, opts.logger, 'the embedded log', {
      pendingMax: opts.pendingMax,
      timeoutMs: opts.timeoutMs,
      onLate: opts.onLate,
    });
  }

  /** Positions the reader at the log's end before any command is sent: no result of ours is missed. */
  start(): void {
    const after = this.log.recordCount - 1;
    this.running = true;
    this.reading = this.tail
      .run(after, READ_BATCH_MAX, async (records) => {
        for (const r of records) this.pipe.deliver(decodeLogRecord(r));
      })
      .catch((err) => {
        this.running = false;
        this.opts.logger.error({ err }, 'embedded command bus: reading results failed');
      });
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    return this.pipe.submit(cmd, meta);
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    return this.pipe.subscribe(listener);
  }

  healthy(): boolean {
    return this.running;
  }

  async close(): Promise<void> {
    this.running = false;
    this.pipe.close();
    await this.tail.stop();
    await this.reading;
    await this.writer.close();
  }
}

/** Market data's event source: the embedded log's records by index (the offset persistence stores too). */
export class EmbeddedMarketSource implements MarketEventSource {
  private tail: LogTail | null = null;

  constructor(private readonly log: EmbeddedLog) {}

  async consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    // A fresh tail per call: the interface allows consume() again after it ended.
    const tail = new LogTail(this.log);
    this.tail = tail;
    await tail.run(afterOffset, READ_BATCH_MAX, (records) =>
      onBatch(records.map((r) => ({ offset: r.index, events: decodeLogRecord(r) }))),
    );
  }

  async stop(): Promise<void> {
    await this.tail?.stop();
  }
}
