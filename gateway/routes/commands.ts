// Sending a command for a route and turning its outcome into an answer: an engine rejection becomes an error
// with the engine's code; no result within the time limit becomes status "unknown" with where to look it up,
// recorded in the commands store (Redis: any gateway instance can answer the lookup; or in-process for a single
// instance) and the late result, when it comes, replaces the record.

import { randomUUID } from 'node:crypto';
import type { RejectCode } from '../../engine/core/index.js';
import type { CommandResult, EngineEvent } from '../../engine/core/index.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import type { CommandMeta } from '../command-bus.js';
import { engineRejection } from '../errors.js';
import type { KeyValueStore } from '../stores/key-value.js';
import type { RouteContext } from './context.js';

/** How long a command's lookup record is kept. */
export const COMMAND_RECORD_TTL_SECONDS = 24 * 3600;

export interface CommandRecord {
  readonly userId: number;
  readonly status: 'unknown' | 'accepted' | 'rejected';
  readonly code: RejectCode | null;
  readonly orderId: number | null;
}

export const newCommandId = (): string => `gw:${randomUUID()}`;
export const commandLookup = (cmdId: string): string => `/v1/commands/${encodeURIComponent(cmdId)}`;
const recordKey = (prefix: string, cmdId: string): string => `${prefix}cmd:${cmdId}`;

export type Sent =
  | {
      readonly status: 'accepted';
      readonly cmdId: string;
      readonly result: CommandResult;
      readonly events: readonly EngineEvent[];
    }
  | { readonly status: 'unknown'; readonly cmdId: string };

/** Sends `cmd` and waits; throws the engine's rejection as an HTTP error. */
export async function send(
  ctx: RouteContext,
  cmd: CommandInput & { userId?: number },
  meta: CommandMeta,
): Promise<Sent> {
  const started = performance.now();
  const outcome = await ctx.bus.submit(cmd, meta);
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status === 'unknown') {
    ctx.metrics.commandRoundTrip.observe({ type: cmd.type, outcome: 'unknown' }, seconds);
    const record: CommandRecord = { userId: meta.userId, status: 'unknown', code: null, orderId: null };
    // NX: a late result recorded first must not be overwritten by "unknown".
    await ctx.stores.commands
      .setIfAbsent(
        recordKey(ctx.options.redisPrefix, cmd.id),
        JSON.stringify(record),
        COMMAND_RECORD_TTL_SECONDS * 1000,
      )
      .catch(() => undefined);
    return { status: 'unknown', cmdId: cmd.id };
  }
  ctx.metrics.commandRoundTrip.observe({ type: cmd.type, outcome: outcome.result.status }, seconds);
  if (outcome.result.status === 'rejected')
    throw engineRejection(outcome.result.code ?? 'COMMAND_MALFORMED', { commandId: cmd.id });
  return { status: 'accepted', cmdId: cmd.id, result: outcome.result, events: outcome.events };
}

/** For the bus's onLate: the result of a command answered "unknown", for its lookup. */
export function lateResultRecorder(
  store: KeyValueStore,
  prefix: string,
): (cmdId: string, meta: CommandMeta, result: CommandResult) => void {
  return (cmdId, meta, result) => {
    const record: CommandRecord = {
      userId: meta.userId,
      status: result.status,
      code: result.code,
      orderId: result.orderId,
    };
    store
      .set(recordKey(prefix, cmdId), JSON.stringify(record), COMMAND_RECORD_TTL_SECONDS * 1000)
      .catch(() => undefined);
  };
}

export async function readCommandRecord(
  store: KeyValueStore,
  prefix: string,
  cmdId: string,
): Promise<CommandRecord | null> {
  const text = await store.get(recordKey(prefix, cmdId));
  return text === null ? null : (JSON.parse(text) as CommandRecord);
}
