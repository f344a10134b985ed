// temporary profiling harness (not committed)
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { Engine } from '../engine/core/index.js';
import { applyAll, generateStream, STREAMS } from './stream.js';
const name = process.argv[2] ?? 'shallow';
const mode = process.argv[3] ?? 'alloc';
const stream = generateStream({ ...STREAMS[name], seed: 42, commands: 1_000_000 });
const run = () => { const e = new Engine(); applyAll(e, stream.setup); let n = 0; for (const c of stream.commands) n += e.apply(c).length; return n; };
run();
const s = new Session(); s.connect();
if (mode === 'alloc') {
  await s.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as any);
  run();
  const { profile } = await s.post('HeapProfiler.stopSampling');
  writeFileSync(`/tmp/prof/${name}.heapprofile`, JSON.stringify(profile));
} else {
  await s.post('Profiler.enable'); await s.post('Profiler.setSamplingInterval', { interval: 100 }); await s.post('Profiler.start');
  const t0 = performance.now(); run(); const ms = performance.now() - t0;
  const { profile } = await s.post('Profiler.stop');
  writeFileSync(`/tmp/prof/${name}.cpuprofile`, JSON.stringify(profile));
  console.error('pass ms', ms);
}
