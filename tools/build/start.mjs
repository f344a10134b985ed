// @ts-check
// `npm start`: brings dist/ up to date (tools/build/dist.mjs: only the sources changed since the last build), then
// runs the embedded exchange from dist/ in this process. The npm script `exec`s node, so npm's shell is not in
// between: a SIGINT or SIGTERM sent to the `npm start` process is passed on by npm to this one and stops it cleanly.

import { ensureDist, ROOT } from './dist.mjs';

const startedMs = performance.now();
const build = await ensureDist(ROOT);
// Read by exchange/main.ts for the banner's phase times (exchange/phases.ts: BUILD_CHECK_MEASURE).
performance.measure('exchange:build-check', { start: startedMs });
if (build.sources + build.assets > 0) {
  process.stdout.write(
    `built dist/ (${build.sources} sources, ${build.assets} assets) in ${(build.buildMs / 1000).toFixed(1)} s\n`,
  );
}
// A URL, not a literal path: dist/ does not exist until the build above, so the type check must not resolve it.
await import(new URL('../../dist/exchange/main.js', import.meta.url).href);
