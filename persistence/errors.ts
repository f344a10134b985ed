// Errors of the persistence consumer, each with a stable code. A ProjectionError means the event stream cannot
// be applied as it is (a bug upstream or a stream that skipped events): the consumer stops, it never skips.

import type { EngineEvent } from '../engine/core/index.js';

/** Every code with what it means: docs/persistence.md's table lists the same (test/persistence/errors-docs.test.ts). */
export const PROJECTION_ERROR_CODES = {
  PERSIST_SEQ_GAP: "an event's seq is not the last applied + 1",
  PERSIST_RECORD_SPLIT: 'retired (a record straddling the position is now cut there); never reused',
  PERSIST_UNKNOWN_ASSET: 'an event names an asset that was never added',
  PERSIST_UNKNOWN_MARKET: 'an event names a market that was never added',
  PERSIST_UNKNOWN_ORDER: 'a fill, close or amend of an order that is not open',
  PERSIST_DUPLICATE_ID: 'an order, asset, market or withdrawal created twice',
  PERSIST_UNKNOWN_WITHDRAWAL: 'a withdrawal completed or failed that was never requested',
  PERSIST_HOLD_MISMATCH: "an order's hold would go negative, or stays non-zero once closed",
  PERSIST_LEDGER_OVERDRAFT: 'a ledger account would go below zero',
  PERSIST_BALANCE_MISMATCH: "the ledger disagrees with the engine's balanceChanged figures",
  PERSIST_BAD_RECORD: 'a record that is not a valid events record',
} as const;

export type ProjectionErrorCode = keyof typeof PROJECTION_ERROR_CODES;

export class ProjectionError extends Error {
  override readonly name = 'ProjectionError';
  constructor(
    readonly code: ProjectionErrorCode,
    message: string,
    readonly seq: number | null = null,
  ) {
    super(message);
  }
}

/** How errors name an event: enough to find it in the topic (seq, type, command id). */
export function describeEvent(ev: EngineEvent): string {
  return `event seq ${ev.seq} (${ev.type}, cmdId ${JSON.stringify(ev.cmdId)})`;
}

export function eventError(code: ProjectionErrorCode, ev: EngineEvent, detail: string): ProjectionError {
  return new ProjectionError(code, `${describeEvent(ev)}: ${detail}`, ev.seq);
}
