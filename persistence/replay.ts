// The engine's state at a given event seq, rebuilt from the command log the way the daemon does it: the newest
// snapshot that is not past the target, then every command after it, decoded with the record's timestamp.

import { Engine } from '../engine/core/index.js';
import type { CommandRecord } from '../engine/daemon/log.js';
import { decodeCommand } from '../engine/wire/codec.js';

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

/**
 * Applies commands from `records` (offsets after `start.offset`) until the engine has emitted `targetSeq`
 * events. Throws when the log ends first, or when the target falls inside a command (the consumer stored a
 * position between two records of one command: reconcile again once it has caught up).
 */
export async function replayToSeq(
  records: AsyncIterable<CommandRecord>,
  targetSeq: number,
  start: { engine: Engine; offset: number } = { engine: new Engine(), offset: -1 },
): Promise<Engine> {
  const engine = start.engine;
  if (engine.eventSeq > targetSeq)
    throw new ReplayError(`the starting snapshot is at seq ${engine.eventSeq}, past the target ${targetSeq}`);
  if (engine.eventSeq === targetSeq) return engine;
  for await (const r of records) {
    if (r.offset <= start.offset) continue;
    const decoded = decodeCommand(r.value, r.timestampMs);
    if (decoded.ok) engine.apply(decoded.command);
    else engine.applyInvalid(decoded.id, r.timestampMs, decoded.code);
    if (engine.eventSeq === targetSeq) return engine;
    if (engine.eventSeq > targetSeq)
      throw new ReplayError(
        `seq ${targetSeq} falls inside the command at offset ${r.offset} (seq ..${engine.eventSeq}): the consumer is mid-command, try again`,
      );
  }
  throw new ReplayError(`the command log ended at seq ${engine.eventSeq}, before the stored position ${targetSeq}`);
}
