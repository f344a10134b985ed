// Commands out, results back. The gateway appends a command (with an id of its own) and waits for the command's
// events, which end with its commandResult. A result that does not come within the time limit is answered as
// "unknown" (never as a success): the command may still be applied, and the client looks it up.

import type { CommandResult, EngineEvent } from '../engine/core/index.js';
import type { Logger } from 'pino';
import type { CommandWriter } from '../engine/daemon/log.js';
import { encodeCommand } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { gatewayError } from './errors.js';

export type CommandOutcome =
  | {
      readonly status: 'done';
      readonly cmdId: string;
      readonly result: CommandResult;
      readonly events: readonly EngineEvent[];
    }
  | { readonly status: 'unknown'; readonly cmdId: string };

/** Who asked, kept with a pending command so a late result can be recorded for its owner. */
export interface CommandMeta {
  readonly userId: number;
}

export interface CommandBus {
  /** Appends `cmd` and resolves with its events, or `unknown` after the time limit. Throws EX_BUSY when full. */
  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome>;
  /** Every command's events as they are read (market data and the private streams feed on them). */
  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void;
  /** Connected and reading: what /ready reports. */
  healthy(): boolean;
  close(): Promise<void>;
}

/** A result that came after its command was answered `unknown`. */
export type LateResultHandler = (cmdId: string, meta: CommandMeta, result: CommandResult) => void;

interface Pending {
  readonly meta: CommandMeta;
  readonly events: EngineEvent[];
  readonly resolve: (o: CommandOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/** Commands answered `unknown` whose late results are still watched for (the oldest is forgotten first). */
const TIMED_OUT_MAX = 100_000;

/**
 * The commands waiting for their results, bounded: a full map refuses new commands (EX_BUSY) instead of growing.
 * Commands answered `unknown` are remembered (bounded too) so their late results reach `onLate`.
 */
export class PendingCommands {
  private readonly pending = new Map<string, Pending>();
  /** Who asked, for each command answered `unknown`: enough to record its late result (its events are not kept). */
  private readonly timedOut = new Map<string, CommandMeta>();

  constructor(
    private readonly opts: {
      readonly pendingMax: number;
      readonly timeoutMs: number;
      readonly onLate?: LateResultHandler;
    },
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers `cmdId` before its command is sent, so a result that comes quickly is not missed. */
  wait(cmdId: string, meta: CommandMeta): Promise<CommandOutcome> {
    if (this.pending.size >= this.opts.pendingMax) throw gatewayError('EX_BUSY');
    if (this.pending.has(cmdId)) throw new Error(`command id ${cmdId} is already pending`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.expire(cmdId), this.opts.timeoutMs);
      this.pending.set(cmdId, { meta, events: [], resolve, timer });
    });
  }

  /** Answers `unknown` at once (the append failed in a way that leaves its fate open). */
  giveUp(cmdId: string): void {
    this.expire(cmdId);
  }

  /**
   * Events of one record of the events topic: a run of consecutive events of one or more commands (the daemon
   * packs a whole batch into a record), where the first command's events may have begun in the previous record
   * and the last one's may go on in the next. Each command's events end with its commandResult.
   */
  deliver(events: readonly EngineEvent[]): void {
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      const last = i === events.length - 1 || events[i + 1].cmdId !== ev.cmdId;
      if (!last) continue;
      this.deliverRun(ev.cmdId, events, start, i + 1);
      start = i + 1;
    }
  }

  /** events[from, to) are consecutive events of `cmdId`; a commandResult at the end completes it. */
  private deliverRun(cmdId: string, events: readonly EngineEvent[], from: number, to: number): void {
    const end = events[to - 1];
    const p = this.pending.get(cmdId);
    if (p !== undefined) {
      for (let i = from; i < to; i++) p.events.push(events[i]);
      if (end.type !== 'commandResult') return; // more events of this command follow in the next record
      clearTimeout(p.timer);
      this.pending.delete(cmdId);
      p.resolve({ status: 'done', cmdId, result: end, events: p.events });
      return;
    }
    if (end.type !== 'commandResult') return;
    const late = this.timedOut.get(cmdId);
    if (late === undefined) return;
    this.timedOut.delete(cmdId);
    this.opts.onLate?.(cmdId, late, end);
  }

  close(): void {
    for (const cmdId of [...this.pending.keys()]) this.expire(cmdId);
  }

  private expire(cmdId: string): void {
    const p = this.pending.get(cmdId);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(cmdId);
    if (this.timedOut.size >= TIMED_OUT_MAX) this.timedOut.delete(this.timedOut.keys().next().value as string);
    this.timedOut.set(cmdId, p.meta);
    p.resolve({ status: 'unknown', cmdId });
  }
}

/** Commands per append: one append carries whatever queued while the previous one was in flight. */
const APPEND_BATCH_MAX = 500;

/**
 * What every CommandBus does, whatever log it runs on: group-committed appends through a CommandWriter (Kafka's
 * or the embedded log's), results matched to the commands waiting for them, and every command's events passed
 * on to the listeners. A bus adds only how it reads the events and hands them to deliver().
 */
export class CommandPipe {
  private readonly pending: PendingCommands;
  private readonly listeners = new Set<(events: readonly EngineEvent[]) => void>();
  private readonly queue: { value: Uint8Array; cmdId: string }[] = [];
  private readonly encoder = new TextEncoder();
  private sending = false;

  constructor(
    private readonly writer: Pick<CommandWriter, 'append'>,
    private readonly logger: Logger,
    /** Where the appends go, for the log line when one fails. */
    private readonly logName: string,
    pendingOpts: ConstructorParameters<typeof PendingCommands>[0],
    /** Told how long each append took (sent to acknowledged): one leg of a command's round trip, for the metrics. */
    private readonly onAppendSeconds?: (seconds: number) => void,
  ) {
    this.pending = new PendingCommands(pendingOpts);
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    const value = this.encoder.encode(encodeCommand(cmd));
    const outcome = this.pending.wait(cmd.id, meta);
    this.queue.push({ value, cmdId: cmd.id });
    void this.flush();
    return outcome;
  }

  /** One command's events or a record's run of several commands' events, in order. */
  deliver(events: readonly EngineEvent[]): void {
    this.pending.deliver(events);
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.logger.error({ err }, 'events listener failed');
      }
    }
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every waiting command is answered `unknown`. */
  close(): void {
    this.pending.close();
  }

  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, APPEND_BATCH_MAX);
        const startedMs = performance.now();
        try {
          await this.writer.append(batch.map((b) => b.value));
          this.onAppendSeconds?.((performance.now() - startedMs) / 1000);
        } catch (err) {
          // The append may or may not have become durable: the honest answer is "unknown".
          this.logger.error({ err, commands: batch.length }, `append to ${this.logName} failed`);
          for (const b of batch) this.pending.giveUp(b.cmdId);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
