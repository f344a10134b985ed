// Docker health check of the services without an HTTP port, run inside their container with its environment:
//   node dist/compose/healthcheck.js engine|persistence|chain   (the image runs the compiled build)
// Healthy = one of the service's Kafka consumers is a member of a Stable group: the process is up, connected to the
// broker, and reading its input (a process that is merely alive, stuck at start-up, would not be). The groups are
// named by the services themselves: the engine and persistence read in a fresh group per start,
// `<prefix>.reader.<uuid>` (kafka/partition-reader.ts; prefixes from engine/daemon/main.ts and persistence's
// PERSISTENCE_GROUP_ID), the chain service in
// `chain-<name>-withdrawals` (chain/main.ts). Settings come from the services' own config readers, so the check looks
// where the service does. Limitation: after a crash, the dead member stays in its group until its session times out
// (30 s), so a restart can look healthy for that long.

import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { loadChainConfig } from '../chain/config.js';
import { readDaemonConfig } from '../engine/daemon/config.js';
import { readPersistenceConfig } from '../persistence/config.js';

export const CHECKED_SERVICES = ['engine', 'persistence', 'chain'] as const;
export type CheckedService = (typeof CHECKED_SERVICES)[number];

export interface GroupState {
  readonly groupId: string;
  readonly state: string;
  readonly memberCount: number;
}

/** Where to look: the brokers, and which consumer group ids are the service's. */
export interface GroupTarget {
  readonly brokers: string[];
  readonly matches: (groupId: string) => boolean;
}

type Env = Record<string, string | undefined>;

export async function groupTarget(service: CheckedService, env: Env): Promise<GroupTarget> {
  switch (service) {
    case 'engine': {
      const config = readDaemonConfig(env);
      if (config.kafkaBrokers === null)
        throw new Error('KAFKA_BROKERS is not set: the engine runs on its file log, nothing to check here');
      // engine/daemon/main.ts: prefix `${engineId}.engine`; kafka/partition-reader.ts reads in `<prefix>.reader.<uuid>`.
      const prefix = `${config.engineId}.engine.reader.`;
      return { brokers: config.kafkaBrokers, matches: (id) => id.startsWith(prefix) };
    }
    case 'persistence': {
      const config = readPersistenceConfig(env);
      const prefix = `${config.groupId}.reader.`;
      return { brokers: config.kafkaBrokers, matches: (id) => id.startsWith(prefix) };
    }
    case 'chain': {
      const config = await loadChainConfig(env.CHAIN_CONFIG ?? '');
      const groupId = `chain-${config.name}-withdrawals`;
      return { brokers: (env.KAFKA_BROKERS ?? '').split(',').filter((b) => b !== ''), matches: (id) => id === groupId };
    }
    default: {
      const _exhaustive: never = service;
      throw new Error(`unknown service ${String(_exhaustive)}`);
    }
  }
}

export function isConsuming(groups: readonly GroupState[], matches: (groupId: string) => boolean): boolean {
  return groups.some((g) => matches(g.groupId) && g.state === 'Stable' && g.memberCount > 0);
}

/** Bounded: the services leave few groups behind, but a broker could hold many; describe at most this many. */
const GROUPS_DESCRIBED_MAX = 100;
/** Below Docker's health check timeout (compose file: 10 s), so a hung broker reads as unhealthy, not as a timeout. */
const CHECK_TIMEOUT_MS = 8_000;

async function readGroups(target: GroupTarget): Promise<GroupState[]> {
  const kafka = new Kafka({
    brokers: target.brokers,
    clientId: 'healthcheck',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 1 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ids = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter(target.matches)
      .slice(-GROUPS_DESCRIBED_MAX);
    if (ids.length === 0) return [];
    const { groups } = await admin.describeGroups(ids);
    return groups.map((g) => ({ groupId: g.groupId, state: g.state, memberCount: g.members.length }));
  } finally {
    await admin.disconnect();
  }
}

async function main(argv: string[]): Promise<boolean> {
  const service = argv[0] as CheckedService;
  if (!CHECKED_SERVICES.includes(service)) throw new Error(`usage: healthcheck.ts ${CHECKED_SERVICES.join('|')}`);
  const target = await groupTarget(service, process.env);
  return isConsuming(await readGroups(target), target.matches);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const timer = setTimeout(() => {
    process.stderr.write(`unhealthy: no answer from Kafka in ${CHECK_TIMEOUT_MS} ms\n`);
    process.exit(1);
  }, CHECK_TIMEOUT_MS);
  main(process.argv.slice(2)).then(
    (healthy) => {
      clearTimeout(timer);
      process.stdout.write(
        healthy ? 'healthy: consuming\n' : 'unhealthy: no consumer of this service in a Stable group\n',
      );
      process.exit(healthy ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`unhealthy: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
