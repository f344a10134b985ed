// Commands out, results back. The gateway appends a command (with an id of its own) and waits for the command's
// events, which end with its commandResult. A result that does not come within the time limit is answered as
// "unknown" (never as a success): the command may still be applied, and the client looks it up.

import type { CommandResult, EngineEvent } from '../engine/core/events.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { gatewayError } from './errors.js';

export type CommandOutcome =
  | { readonly status: 'done'; readonly cmdId: string; readonly result: CommandResult; readonly events: readonly EngineEvent[] }
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

/**
 * The commands waiting for their results, bounded: a full map refuses new commands (EX_BUSY) instead of growing.
 * Commands answered `unknown` are remembered (bounded too) so their late results reach `onLate`.
 */
export class PendingCommands {
  private readonly pending = new Map<string, Pending>();
  private readonly timedOut = new Map<string, { meta: CommandMeta; events: EngineEvent[] }>();

  constructor(
    private readonly opts: {
      readonly pendingMax: number;
      readonly timeoutMs: number;
      readonly timedOutMax?: number;
      readonly onTimeout?: (cmdId: string, meta: CommandMeta) => void;
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

  /** Events of one record of the events topic (one command's, or part of them). */
  deliver(events: readonly EngineEvent[]): void {
    if (events.length === 0) return;
    const cmdId = events[0].cmdId;
    const p = this.pending.get(cmdId);
    if (p !== undefined) {
      p.events.push(...events);
      const last = events[events.length - 1];
      if (last.type !== 'commandResult') return; // more records of this command follow
      clearTimeout(p.timer);
      this.pending.delete(cmdId);
      p.resolve({ status: 'done', cmdId, result: last, events: p.events });
      return;
    }
    const late = this.timedOut.get(cmdId);
    if (late === undefined) return;
    const last = events[events.length - 1];
    if (last.type !== 'commandResult') return;
    this.timedOut.delete(cmdId);
    this.opts.onLate?.(cmdId, late.meta, last);
  }

  close(): void {
    for (const cmdId of [...this.pending.keys()]) this.expire(cmdId);
  }

  private expire(cmdId: string): void {
    const p = this.pending.get(cmdId);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(cmdId);
    const max = this.opts.timedOutMax ?? 100_000;
    if (this.timedOut.size >= max) this.timedOut.delete(this.timedOut.keys().next().value as string);
    this.timedOut.set(cmdId, { meta: p.meta, events: p.events });
    this.opts.onTimeout?.(cmdId, p.meta);
    p.resolve({ status: 'unknown', cmdId });
  }
}
