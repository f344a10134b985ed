// Wire codec benchmark: the cost of decodeCommand (UTF-8 bytes -> validated Command, as the daemon calls it per
// Kafka record) and of encodeEvent, per call, in-process. Prints one JSON line on stdout.
//
//   npm run bench:wire                 Options: --rounds N (5), --calls N (200,000 per round)
//
// Inputs are built before timing: the UTF-8 bytes of every example command (engine/wire/examples.ts), one
// malformed record, and every example event. Each round times `calls` calls cycling through the inputs with one
// wall-clock measurement (no per-call timer); the report gives the best and the median round, in µs per call.
// The first round doubles as warm-up for the JIT.

import { decodeCommand, encodeCommand, encodeEvent } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import type { EngineEvent } from '../engine/core/index.js';
import { COMMAND_EXAMPLES, EVENT_EXAMPLES } from '../engine/wire/examples.js';
import { intArg, log, parseArgs, round } from './measure.js';

const args = parseArgs(process.argv.slice(2));
const rounds = intArg(args, 'rounds', 5);
const calls = intArg(args, 'calls', 200_000);

const utf8 = new TextEncoder();
const commands = Object.values(COMMAND_EXAMPLES).map((c) => utf8.encode(encodeCommand(c as CommandInput)));
const malformed = utf8.encode(
  '{"v":1,"type":"deposit","id":"bad-1","userId":7,"assetId":1,"amount":"1.5","depositId":"tx"}',
);
const events = Object.values(EVENT_EXAMPLES) as EngineEvent[];

function timeUs(fn: (i: number) => number): number[] {
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let sink = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink += fn(i);
    const ns = Number(process.hrtime.bigint() - t0);
    if (sink < 0) log('unreachable');
    perCall.push(ns / calls / 1000);
  }
  return perCall.sort((a, b) => a - b);
}

const summary = (us: number[]): { bestUs: number; medianUs: number } => ({
  bestUs: round(us[0], 3),
  medianUs: round(us[us.length >> 1], 3),
});

log(`decodeCommand: ${commands.length} command types, ${rounds} rounds of ${calls} calls`);
const decode = timeUs((i) => (decodeCommand(commands[i % commands.length], i).ok ? 1 : 0));
const decodeMalformed = timeUs((i) => (decodeCommand(malformed, i).ok ? 0 : 1));
const encode = timeUs((i) => encodeEvent(events[i % events.length]).length);
const meanCommandBytes = Math.round(commands.reduce((n, c) => n + c.length, 0) / commands.length);

console.log(
  JSON.stringify({
    bench: 'wire',
    meanCommandBytes,
    decodeCommand: summary(decode),
    decodeMalformed: summary(decodeMalformed),
    encodeEvent: summary(encode),
    node: process.version,
  }),
);
