// Determinism: a seeded command stream applied twice gives byte-identical events and the same state hash;
// and a snapshot taken at any point, restored and fed the rest of the stream, continues exactly like the
// uninterrupted run (same events, same final hash).
//
//   SIM_SEED=s       run only seed s         SIM_COMMANDS=n   commands per stream (default 3000)

import t from 'tap';
import { Engine, checkInvariants, restore, snapshot } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import type { Command } from '../../engine/core/index.js';
import { Prng } from '../../testkit/prng.js';
import { ReferenceExchange } from './reference-book.js';
import { CommandGenerator, makeScenario } from './sim-commands.js';
import type { SimScenario } from './sim-commands.js';
import { toJson } from './engine-view.js';

const COMMANDS = Number(process.env.SIM_COMMANDS ?? 3000);
const seeds = process.env.SIM_SEED !== undefined ? [Number(process.env.SIM_SEED)] : [101, 202, 303];
const CUTS = 4;

/** The stream, generated against the reference (so cancels and amends name live orders). */
function makeStream(seed: number): { scenario: SimScenario; commands: Command[] } {
  const rng = new Prng(seed);
  const scenario = makeScenario(rng);
  const ref = new ReferenceExchange(scenario.limits);
  const gen = new CommandGenerator(rng, scenario, ref);
  const commands = gen.setup();
  for (const cmd of commands) ref.apply(cmd);
  for (let i = 0; i < COMMANDS; i++) {
    const cmd = gen.next();
    ref.apply(cmd);
    commands.push(cmd);
  }
  return { scenario, commands };
}

/** Applies commands[from..] to the engine; returns each command's events as canonical JSON. */
function run(engine: Engine, commands: Command[], from = 0, atCut?: (index: number) => void): string[] {
  const out: string[] = [];
  for (let i = from; i < commands.length; i++) {
    atCut?.(i);
    out.push(toJson(engine.apply(commands[i])));
  }
  return out;
}

function firstMismatch(a: string[], b: string[], offset = 0): string | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `command #${i + offset}:\n  first:  ${a[i]}\n  second: ${b[i]}`;
  }
  return null;
}

for (const seed of seeds) {
  t.test(`seed ${seed}: ${COMMANDS} commands replay identically, also from snapshots`, async (t) => {
    const { scenario, commands } = makeStream(seed);
    const rng = new Prng(seed ^ 0x5eed);
    const cuts = Array.from({ length: CUTS }, () => rng.int(1, commands.length - 1)).sort((a, b) => a - b);
    const replayHint = `replay: SIM_SEED=${seed} SIM_COMMANDS=${COMMANDS} npx tap test/engine/determinism.sim.test.ts`;

    const snapshots = new Map<number, { bytes: Uint8Array; hash: string }>();
    const first = new Engine(scenario.limits);
    const firstEvents = run(first, commands, 0, (i) => {
      if (cuts.includes(i)) snapshots.set(i, { bytes: snapshot(first), hash: stateHash(first) });
    });
    const finalHash = stateHash(first);
    t.same(checkInvariants(first), [], `the first run ends sound (${replayHint})`);
    t.ok(
      firstEvents.some((json) => json.includes('"type":"trade"')),
      'the stream trades',
    );

    const second = new Engine(scenario.limits);
    const secondEvents = run(second, commands);
    t.equal(
      firstMismatch(firstEvents, secondEvents),
      null,
      `the second run emits byte-identical events (${replayHint})`,
    );
    t.equal(stateHash(second), finalHash, 'and ends in the same state');

    for (const cut of cuts) {
      const saved = snapshots.get(cut) as { bytes: Uint8Array; hash: string };
      const restored = restore(saved.bytes);
      t.equal(stateHash(restored), saved.hash, `cut at #${cut}: the restored state hashes like the original`);
      t.same(checkInvariants(restored), [], `cut at #${cut}: the restored state is sound`);
      const resumed = run(restored, commands, cut);
      t.equal(
        firstMismatch(firstEvents.slice(cut), resumed, cut),
        null,
        `cut at #${cut}: the rest replays byte-identically (${replayHint})`,
      );
      t.equal(stateHash(restored), finalHash, `cut at #${cut}: and ends in the same state`);
    }
  });
}
