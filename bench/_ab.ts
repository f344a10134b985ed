// temporary A/B harness (not committed): node --import tsx bench/_ab.ts <stream> <coreDirA> <coreDirB> [rounds]
import { generateStream, STREAMS } from './stream.js';
import { collectGarbage } from './measure.js';
const [name = 'shallow', a, b, roundsArg = '5'] = process.argv.slice(2);
const stream = generateStream({ ...STREAMS[name], seed: 42, commands: 1_000_000 });
const dirs = [a, b];
const engines = await Promise.all(dirs.map((d) => import(`${d}/index.ts`)));
const res: number[][] = [[], []];
for (let r = 0; r < Number(roundsArg); r++) {
  for (let k = 0; k < 2; k++) {
    collectGarbage();
    const e = new engines[k].Engine();
    for (const c of stream.setup) e.apply(c);
    let n = 0;
    const c0 = process.cpuUsage();
    for (const c of stream.commands) n += e.apply(c).length;
    const cu = process.cpuUsage(c0);
    const s = (cu.user + cu.system) / 1e6;
    res[k].push(Math.round(stream.commands.length / s));
    if (n === 0) throw new Error('x');
  }
  console.error(`round ${r}: A ${res[0][r]} B ${res[1][r]} (B/A ${(res[1][r] / res[0][r]).toFixed(3)})`);
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
const ratios = res[0].map((x, i) => res[1][i] / x);
console.log(JSON.stringify({ stream: name, A: dirs[0], B: dirs[1], medA: med(res[0]), medB: med(res[1]), medRatio: Number(med(ratios).toFixed(3)) }));
