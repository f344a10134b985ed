// `npm run bench:kafka`: the engine daemon on a real broker (started here, with the C2 JIT: fastStartup off), against
// a passthrough of the same shape, and the end-to-end latency at a fixed offered load. One run prints progress on
// stderr and exactly one JSON line on stdout. What each run does and how the figures are computed: bench/README.md,
// "Kafka"; the runs live in kafka-throughput.ts, kafka-latency.ts and the passthrough child kafka-child.ts.
//
//   npm run bench:kafka
//   npm run bench:kafka -- --commands 100000 --rates 10000,1000 --seconds 15 --profile /tmp/kafka-prof
// Options: --seed N (20261124), --commands N (100,000), --batch-max N (1000, the daemon's ENGINE_BATCH_MAX
// default), --rates R,R (10000,1000 commands/s), --seconds N (10 per rate), --warmup-seconds N (3), --rounds N (2),
// --no-engine-output (skips both engineOutput runs), --daemon PATH (another entry point to compare with
// engine/daemon/main.ts; same env), --node-flags "..." (for every child; default the daemon's own DAEMON_NODE_FLAGS,
// given to the passthroughs too so the ratio stays fair),
// --profile DIR (every child runs with node --cpu-prof; summaries of the timed part go to stderr; a profiled
// run's numbers are not comparable with an unprofiled one's).

import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { DAEMON_NODE_FLAGS } from '../engine/daemon/config.js';
import { ensureTopics } from '../kafka/topics.js';
import { kafkaClient } from '../kafka/client.js';
import { kafkaVersion, startKafkaBroker } from '../tools/kafka/broker.js';
import { seededCommands } from '../testkit/daemon-process.js';
import { formatSummary, summarizeProfileFile } from './cpu-profile.js';
import { WARMUP_RATE_MAX, runLatency } from './kafka-latency.js';
import type { LatencyRun } from './kafka-latency.js';
import { REPO_ROOT, idOf, precomputeEvents, produceAll } from './kafka-support.js';
import type { Profiled, Setup } from './kafka-support.js';
import { runDaemon, runPassthrough } from './kafka-throughput.js';
import type { ThroughputRun } from './kafka-throughput.js';
import { intArg, log, parseArgs, round } from './measure.js';

const GOALS = { ratioVsPassthrough: 0.8, latencyMsP99: 10, atOfferedPerSec: 10_000 };

/** Takes `--node-flags VALUE` out of argv first: its value starts with -- itself, which parseArgs reads as a flag. */
function takeNodeFlags(argv: string[]): { rest: string[]; nodeFlags: string[] } {
  const at = argv.indexOf('--node-flags');
  if (at < 0) return { rest: argv, nodeFlags: [...DAEMON_NODE_FLAGS] };
  const value = argv[at + 1] ?? '';
  return { rest: [...argv.slice(0, at), ...argv.slice(at + 2)], nodeFlags: value.split(' ').filter((f) => f !== '') };
}

async function main(): Promise<void> {
  const { rest, nodeFlags } = takeNodeFlags(process.argv.slice(2));
  const args = parseArgs(rest);
  const seed = intArg(args, 'seed', 20261124);
  const streamCommands = intArg(args, 'commands', 100_000);
  const batchMax = intArg(args, 'batch-max', 1000);
  const rates = (args.get('rates') ?? '10000,1000').split(',').map((r) => Number(r.replace(/_/g, '')));
  if (rates.some((r) => !Number.isSafeInteger(r) || r <= 0))
    throw new Error(`--rates must be positive integers, got ${args.get('rates')}`);
  const seconds = intArg(args, 'seconds', 10);
  const rounds = Math.max(1, intArg(args, 'rounds', 2));
  const warmupSeconds = intArg(args, 'warmup-seconds', 3);
  const profileDir = args.has('profile') ? path.resolve(args.get('profile') as string) : null;
  const withEngineOutput = !args.has('no-engine-output');
  const daemonScript = path.resolve(args.get('daemon') ?? path.join(REPO_ROOT, 'engine/daemon/main.ts'));
  const startedMs = performance.now();

  log(
    `kafka bench: seed ${seed}, ${streamCommands} commands, batches of ${batchMax}, rates ${rates.join(', ')}/s; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`,
  );
  const values = seededCommands(seed, streamCommands);
  const eventsPerCommand = precomputeEvents(values).eventCount / values.length;
  const latencySeed = seed + 1;
  const latencyNeeded = Math.max(...rates.map((r) => Math.min(r, WARMUP_RATE_MAX) * warmupSeconds + r * seconds));
  const latencyValues = seededCommands(latencySeed, latencyNeeded);
  const setupCount = latencyValues.findIndex((v) => !(idOf(new TextDecoder().decode(v)) ?? '').startsWith('setup-'));

  log('starting a Kafka broker (C2 JIT)');
  const broker = await startKafkaBroker({ fastStartup: false });
  const kafka = kafkaClient([broker.brokers], 'bench-kafka');
  const admin = kafka.admin();
  try {
    await admin.connect();
    log(`broker ${broker.brokers} ready in ${broker.startupMs} ms`);
    const s: Setup = {
      broker,
      kafka,
      admin,
      tag: `bench-${randomUUID().slice(0, 8)}`,
      seed,
      streamCommands,
      batchMax,
      daemonScript,
      nodeFlags,
      profileDir,
      profiles: [],
    };
    const commandsTopic = `${s.tag}.commands`;
    await ensureTopics(admin, { commandsTopic, eventsTopic: `${s.tag}.unused.events` });
    await produceAll(kafka, commandsTopic, values);
    const commands = values.length;
    log(`throughput: ${commands} commands (${eventsPerCommand.toFixed(2)} events each) on ${commandsTopic}`);

    await runPassthrough(s, 'warmup', 'txn', commandsTopic, commands);
    // Passthrough and daemon alternate, best of --rounds each: other processes on the machine only slow a run down.
    const passthroughs: ThroughputRun[] = [];
    const daemons: ThroughputRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      passthroughs.push(await runPassthrough(s, `passthrough-${round}`, 'txn', commandsTopic, commands));
      daemons.push(await runDaemon(s, `daemon-${round}`, commandsTopic, commands));
    }
    const noTxn = await runPassthrough(s, 'passthrough-notxn', 'notxn', commandsTopic, commands);
    const engineOutput = withEngineOutput
      ? await runPassthrough(s, 'engine-output', 'events', commandsTopic, commands)
      : null;
    const best = (runs: ThroughputRun[]): number => Math.max(...runs.map((r) => r.commandsPerSec));
    const passthroughPerSec = best(passthroughs);
    const commandsPerSec = best(daemons);

    log(`latency: ${latencyValues.length - setupCount} commands of seed ${latencySeed} available`);
    const latency: LatencyRun[] = [];
    for (const rate of rates)
      latency.push(await runLatency(s, latencyValues, setupCount, rate, seconds, warmupSeconds));
    const atGoal = latency.find((l) => l.offeredPerSec === GOALS.atOfferedPerSec) ?? latency[0];
    const highestSustained = latency.filter((l) => l.sustained).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];

    const out = {
      bench: 'kafka',
      node: process.version,
      kafka: kafkaVersion(),
      cores: cpus().length,
      loadAvg1: round(loadavg()[0]),
      seed,
      commands,
      batchMax,
      eventsPerCommand: round(eventsPerCommand),
      eventsPerCommandDaemon: daemons[0].events === null ? null : round(daemons[0].events / commands),
      commandsPerSec,
      passthroughPerSec,
      ratioVsPassthrough: round(commandsPerSec / passthroughPerSec, 3),
      passthroughNoTxnPerSec: noTxn.commandsPerSec,
      daemonCpuUsPerCommand: Math.min(...daemons.map((r) => r.cpuUsPerCommand ?? Infinity)),
      passthroughCpuUsPerCommand: Math.min(...passthroughs.map((r) => r.cpuUsPerCommand ?? Infinity)),
      engineOutputPerSec: engineOutput?.commandsPerSec ?? null,
      latencyOfferedPerSec: atGoal.offeredPerSec,
      latencyAchievedPerSec: atGoal.achievedPerSec,
      latencySustained: atGoal.sustained,
      latencyMsP50: atGoal.latencyMs.p50,
      latencyMsP99: atGoal.latencyMs.p99,
      // The highest measured rate the daemon kept up with, so a latency figure exists even when 10,000/s is too much.
      latencyAtHighestSustained:
        highestSustained === undefined
          ? null
          : {
              offeredPerSec: highestSustained.offeredPerSec,
              p50: highestSustained.latencyMs.p50,
              p99: highestSustained.latencyMs.p99,
            },
      goals: GOALS,
      throughput: { rounds, passthrough: passthroughs, daemon: daemons, passthroughNoTxn: noTxn, engineOutput },
      daemon: path.relative(REPO_ROOT, daemonScript),
      nodeFlags,
      latency: latency.map((l) => ({ ...l, seed: latencySeed, seconds, warmupSeconds })),
      profiled: profileDir !== null,
      wallSec: round((performance.now() - startedMs) / 1000, 1),
    };
    if (profileDir !== null) await printProfiles(s.profiles);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
    const stopMs = performance.now();
    await broker.stop();
    log(`broker stopped in ${Math.round(performance.now() - stopMs)} ms`);
  }
}

async function printProfiles(expected: Profiled[]): Promise<void> {
  for (const { dir, windowUs } of expected) {
    // Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread 0.
    const main = (await readdir(dir).catch(() => [] as string[])).find((f) =>
      /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f),
    );
    if (main === undefined) {
      log(`no main-thread profile in ${dir}`);
      continue;
    }
    const file = path.join(dir, main);
    const title = `${path.basename(dir)}: ${file}${windowUs === undefined ? '' : ' (timed window only)'}`;
    process.stderr.write(`\n${formatSummary(title, await summarizeProfileFile(file, 20, windowUs))}\n`);
  }
}

await main();
