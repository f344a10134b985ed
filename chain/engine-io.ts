// The chain service's two links to the engine, behind small interfaces so the chain logic is tested without a
// broker: commands out (deposit, completeWithdrawal, failWithdrawal) and withdrawalPending events in.
// Production: commands are appended to the commands topic (KafkaCommandWriter); events are read from the events
// topic (kafka/event-stream.ts: decoded, copies dropped by seq).

import { createHash } from 'node:crypto';
import type { Kafka, Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { CommandResult, WithdrawalPending } from '../engine/core/index.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { encodeCommand } from '../engine/wire/codec.js';
import { decodeEventMessage } from '../kafka/event-stream.js';
import { SeqFilter } from '../kafka/seq-filter.js';
import { COMMAND_ID_MAX_LENGTH, isPrintableId } from '../engine/core/index.js';
import { bounded, DISCONNECT_TIMEOUT_MS } from '../kafka/shutdown.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';

/** Commands the chain service sends. Ids are deterministic, so a re-send after a crash is a duplicate the engine refuses. */
export type ChainCommand = Extract<CommandInput, { type: 'deposit' | 'completeWithdrawal' | 'failWithdrawal' }>;

export type ChainCommandKind = 'deposit' | 'withdrawal-complete' | 'withdrawal-fail';
const KINDS: readonly ChainCommandKind[] = ['deposit', 'withdrawal-complete', 'withdrawal-fail'];

/**
 * The command id for `kind` of `key` (a depositId or withdrawalId): the same every time, so a re-send after a crash
 * is a duplicate the engine refuses. A withdrawal id may itself be 128 characters, the engine's limit for a
 * command id: a key that does not fit is replaced by its SHA-256, still deterministic.
 */
export function chainCommandId(kind: ChainCommandKind, key: string): string {
  const plain = `${kind}:${key}`;
  if (isPrintableId(plain, COMMAND_ID_MAX_LENGTH)) return plain;
  return `${kind}:sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** The kind of a command id made by chainCommandId, or null when the chain service did not make it. */
export function chainCommandKind(cmdId: string): ChainCommandKind | null {
  return KINDS.find((k) => cmdId.startsWith(`${k}:`)) ?? null;
}

export interface CommandSink {
  /** Resolves once the commands are durably appended, in order. */
  send(commands: readonly ChainCommand[]): Promise<void>;
}

export class KafkaCommandSink implements CommandSink {
  private readonly writer: KafkaCommandWriter;
  private readonly encoder = new TextEncoder();

  constructor(kafka: Kafka, topic: string) {
    this.writer = new KafkaCommandWriter(kafka, topic);
  }

  async connect(): Promise<void> {
    await this.writer.connect();
  }

  async send(commands: readonly ChainCommand[]): Promise<void> {
    if (commands.length === 0) return;
    await this.writer.append(commands.map((c) => this.encoder.encode(encodeCommand(c))));
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}

/** For tests of the chain logic: keeps what was sent. */
export class RecordingSink implements CommandSink {
  readonly commands: ChainCommand[] = [];
  async send(commands: readonly ChainCommand[]): Promise<void> {
    this.commands.push(...commands);
  }
}

export interface EngineEventHandlers {
  /** Must be idempotent: delivery is at least once, offsets are committed after the handler resolved. */
  onWithdrawalPending(ev: WithdrawalPending): Promise<void>;
  /** The engine's answer to a command a chain service sent (kind from chainCommandKind), when it was rejected. */
  onChainCommandRejected(result: CommandResult): Promise<void>;
  /** The consumer stopped for good (kafkajs gave up): the process must not go on without its input. */
  onFatal(err: unknown): void;
}

/**
 * Reads the events topic for withdrawalPending events and for rejections of the chain services' own commands, with
 * the offsets committed in the chain service's consumer group (at least once: the handlers are idempotent). The
 * engine's daemon writes without transactions and may write an event more than once (a restart, a zombie): records
 * go through the shared decode and seq filter, so a copy seen in the same run is skipped before the handlers.
 */
export class KafkaEngineEventSource {
  private readonly consumer: Consumer;
  private stopping = false;
  /** From the first record this run reads: the committed offset may sit inside a run of copies. */
  private readonly seen = new SeqFilter(null);

  constructor(
    kafka: Kafka,
    private readonly opts: { eventsTopic: string; groupId: string; log: Logger },
  ) {
    this.consumer = kafka.consumer({ groupId: opts.groupId, maxWaitTimeInMs: 250, readUncommitted: true });
  }

  async start(handlers: EngineEventHandlers): Promise<void> {
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer after retriable errors; when it does not, nothing would read withdrawals.
      if (!payload.restart && !this.stopping) handlers.onFatal(payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.eventsTopic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      eachMessage: async ({ message }) => {
        // The engine writes every record: one that does not decode (or a gap) is a broken invariant, and skipping it
        // could skip a withdrawal, so the error is thrown and the offset not committed (kafkajs retries and restarts
        // the consumer at this record, loudly, until an operator steps in).
        if (message.value === null) return;
        const record = decodeEventMessage(message);
        for (const ev of this.seen.fresh(record.events, record.offset)) {
          if (ev.type === 'withdrawalPending') await handlers.onWithdrawalPending(ev);
          else if (ev.type === 'commandResult' && ev.status === 'rejected' && chainCommandKind(ev.cmdId) !== null)
            await handlers.onChainCommandRejected(ev);
        }
        // Only once handled: a handler that throws gets the same events again when kafkajs retries the record.
        this.seen.accept(record.events, record.offset);
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await bounded(this.consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}
