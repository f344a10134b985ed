// The engine daemon's bundle (tools/build/dist.mjs BUNDLES): what the Docker image, `npm run engine` and the
// restart benchmark run. Built here as they build it, then started for real on the embedded file log: every module
// it inlines must load from the one file (the CommonJS dependencies through the bundle's `require`).

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { REPO_ROOT, startDaemon, waitFor } from '../../../testkit/daemon-process.js';
import { BUNDLES, ensureBundles } from '../../../tools/build/dist.mjs';

t.test('the daemon bundle builds, starts on the file log and stops cleanly on SIGTERM', async (t) => {
  const daemon = BUNDLES.find((b) => b.entry === 'engine/daemon/main.ts');
  t.ok(daemon, 'the engine daemon is bundled');
  await ensureBundles(REPO_ROOT);
  const built = await stat(path.join(REPO_ROOT, daemon?.outfile ?? ''));
  t.ok(built.size > 0, `${daemon?.outfile} is built`);
  const again = await ensureBundles(REPO_ROOT);
  t.equal(again.bundles, 0, 'and not built again while no source is newer');

  const dataDir = await mkdtemp(path.join(tmpdir(), 'bundle-test-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const proc = startDaemon(
    { DATA_DIR: dataDir, KAFKA_BROKERS: '', LOG_LEVEL: 'info', ENGINE_ID: 'bundle-test' },
    'dist',
  );
  t.teardown(() => void proc.child.kill('SIGKILL'));
  await waitFor(
    async () => proc.ready() || proc.child.exitCode !== null,
    60_000,
    () => proc.output(),
  );
  t.ok(proc.ready(), 'it recovers and consumes');
  proc.child.kill('SIGTERM');
  const exit = await proc.exited;
  t.same(exit, { code: 0, signal: null }, `it stops cleanly: ${proc.output().slice(-500)}`);
  t.match(proc.output(), /"msg":"stopped"/, 'after logging its stop');
});
