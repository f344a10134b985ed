// The engine daemon on the embedded file log, killed with SIGKILL at seeded points of a 100,000-command stream
// and restarted each time: its committed events and final state must equal one uninterrupted run, with no event
// lost and none doubled. A failure prints the seed; RECOVERY_SEED=<seed> replays it.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FileLog, readCommittedEvents } from '../../engine/daemon/file-log.js';
import {
  eventsOfRecords,
  killPoints,
  referenceRun,
  seededCommands,
  sleep,
  startDaemon,
  verifyAgainstReference,
  waitFor,
} from './recovery-support.js';

const SEED = Number(process.env.RECOVERY_SEED ?? 20261124);
const COMMANDS = Number(process.env.RECOVERY_COMMANDS ?? 100_000);
const KILLS = Number(process.env.RECOVERY_KILLS ?? 12);

t.test(`file log: ${COMMANDS} commands, SIGKILL at ${KILLS} points, seed ${SEED}`, async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'engine-recovery-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const logDir = path.join(dataDir, 'log');

  const log = await FileLog.open(logDir);
  const values = seededCommands(SEED, COMMANDS);
  for (let i = 0; i < values.length; i += 5000) await log.append(values.slice(i, i + 5000));
  const stored = await log.readCommands(0, values.length);
  await log.close();
  t.equal(stored.length, values.length, 'every command is in the log');
  const reference = referenceRun(stored);
  const totalBytes = reference.events.reduce((n, e) => n + e.length, 0);
  const eventsSize = async (): Promise<number> =>
    (await stat(path.join(logDir, 'events.log')).catch(() => ({ size: 0 }))).size;
  const env = { DATA_DIR: dataDir, ENGINE_SNAPSHOT_EVERY: '7000', ENGINE_BATCH_MAX: '500' };

  for (const point of killPoints(SEED, KILLS)) {
    const daemon = startDaemon(env);
    await waitFor(
      async () => (await eventsSize()) >= point * totalBytes || daemon.child.exitCode !== null,
      120_000,
      () => `progress to ${point}: ${daemon.output()}`,
    );
    await sleep(Math.floor(point * 1000) % 37); // a little jitter past the point
    daemon.child.kill('SIGKILL');
    const exit = await daemon.exited;
    t.equal(
      exit.signal,
      'SIGKILL',
      `killed at ${(point * 100).toFixed(1)}% (seed ${SEED}) ${exit.signal === 'SIGKILL' ? '' : daemon.output()}`,
    );
  }

  const daemon = startDaemon({ ...env, LOG_LEVEL: 'info' });
  await waitFor(
    async () =>
      (await eventsSize()) >= totalBytes &&
      eventsOfRecords((await readCommittedEvents(logDir)).map((e) => e.value)).length >= reference.events.length,
    180_000,
    () => `final run: ${daemon.output()}`,
  );
  // A SIGTERM before the process has installed its handlers would just kill it: wait until it is consuming.
  await waitFor(
    async () => daemon.ready(),
    60_000,
    () => `final run start: ${daemon.output()}`,
  );
  daemon.child.kill('SIGTERM');
  t.equal((await daemon.exited).code, 0, 'a clean stop exits 0');

  const records = (await readCommittedEvents(logDir)).map((e) => e.value);
  await verifyAgainstReference(t, {
    records,
    reference,
    snapshotsDir: path.join(dataDir, 'snapshots', 'engine-0'),
    lastOffset: stored.length - 1,
    seed: SEED,
  });
});
