// Persistence's and the chain service's links to the engine over the embedded log, in place of their Kafka ones
// (persistence/kafka-source.ts, chain/engine-io.ts). Same contracts: records in order, bounded batches, the
// position kept where the Kafka versions keep it (persistence: in PostgreSQL with its rows; chain: at least once,
// its handlers idempotent, the position in a small file where Kafka would keep the group's committed offset).

import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CommandWriter } from '../engine/daemon/log.js';
import { decodeEventRecord, encodeCommand } from '../engine/wire/codec.js';
import type { EngineEvent } from '../engine/core/index.js';
import type { ChainCommand, CommandSink, EngineEventHandlers } from '../chain/engine-io.js';
import { chainCommandKind } from '../chain/engine-io.js';
import { ProjectionError } from '../persistence/errors.js';
import type { SourceRecord } from '../persistence/projector.js';
import type { EventSource } from '../persistence/source.js';
import type { CommittedEvent, EmbeddedLog } from './embedded-log.js';
import { LogTail } from './embedded-log.js';

/** One record's events; a record that does not decode is the engine's bug and names its index. */
export function decodeLogRecord(r: CommittedEvent): EngineEvent[] {
  try {
    return decodeEventRecord(r.value);
  } catch (err) {
    throw new Error(`embedded log record ${r.index} (key ${JSON.stringify(r.key)}): ${(err as Error).message}`);
  }
}

/** Persistence's EventSource: the offset is the record's index in the log (events.log), stored with the rows. */
export class EmbeddedEventSource implements EventSource {
  private readonly tail: LogTail;

  constructor(log: EmbeddedLog) {
    this.tail = new LogTail(log);
  }

  consume(
    afterOffset: number,
    batchRecordsMax: number,
    onBatch: (records: SourceRecord[]) => Promise<void>,
  ): Promise<void> {
    return this.tail.run(afterOffset, batchRecordsMax, (records) => onBatch(records.map(toSourceRecord)));
  }

  stop(): Promise<void> {
    return this.tail.stop();
  }
}

function toSourceRecord(r: CommittedEvent): SourceRecord {
  let events: EngineEvent[];
  try {
    events = decodeEventRecord(r.value);
  } catch (err) {
    throw new ProjectionError(
      'PERSIST_BAD_RECORD',
      `embedded log record ${r.index} (key ${JSON.stringify(r.key)}): ${(err as Error).message}`,
    );
  }
  // The file log stamps commands, not records: the command's time is the record's (lag measurement only).
  return { offset: r.index, timestampMs: events[0].timeMs, events };
}

/** The chain service's commands, appended to the embedded log; resolves once durable (fsync'd). */
export class EmbeddedCommandSink implements CommandSink {
  private readonly encoder = new TextEncoder();

  constructor(private readonly writer: CommandWriter) {}

  async send(commands: readonly ChainCommand[]): Promise<void> {
    if (commands.length === 0) return;
    await this.writer.append(commands.map((c) => this.encoder.encode(encodeCommand(c))));
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

const CHAIN_BATCH_MAX = 500;
const CHAIN_RETRY_DELAY_MS = 1000;

/**
 * The chain service's events reader (withdrawalPending, rejections of its own commands), at least once like the
 * Kafka consumer group it replaces: the position is saved to `positionFile` after each batch was handled, so
 * after a crash a batch may be handled again (the handlers are idempotent). A handler that fails is retried on
 * the same batch: skipping could skip a withdrawal.
 */
export class EmbeddedChainEvents {
  private readonly tail: LogTail;
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(
    log: EmbeddedLog,
    private readonly opts: { positionFile: string; logger: Logger },
  ) {
    this.tail = new LogTail(log);
  }

  async start(handlers: EngineEventHandlers): Promise<void> {
    const after = await readPosition(this.opts.positionFile);
    this.running = this.tail
      .run(after, CHAIN_BATCH_MAX, (records) => this.handle(records, handlers))
      .catch((err) => handlers.onFatal(err));
  }

  private async handle(records: CommittedEvent[], handlers: EngineEventHandlers): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const r of records) {
          for (const ev of decodeLogRecord(r)) {
            if (ev.type === 'withdrawalPending') await handlers.onWithdrawalPending(ev);
            else if (ev.type === 'commandResult' && ev.status === 'rejected' && chainCommandKind(ev.cmdId) !== null)
              await handlers.onChainCommandRejected(ev);
          }
        }
        break;
      } catch (err) {
        // Stopping: the position stays before this batch, which the next start handles again.
        if (this.stopping) return;
        this.opts.logger.error(
          { err, attempt, firstRecord: records[0].index },
          'chain events handler failed; retrying the batch',
        );
        await new Promise((r) => setTimeout(r, CHAIN_RETRY_DELAY_MS));
      }
    }
    await writePosition(this.opts.positionFile, records[records.length - 1].index);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.tail.stop();
    await this.running;
  }
}

async function readPosition(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < -1)
    throw new Error(`${file}: not a record index: ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

async function writePosition(file: string, index: number): Promise<void> {
  // Write then rename: a crash leaves the old position or the new one, never a torn file.
  await writeFile(`${file}.tmp`, `${index}\n`);
  await rename(`${file}.tmp`, file);
}
