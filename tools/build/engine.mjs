// @ts-check
// `npm run engine`: the engine daemon as the Docker image runs it (compose/Dockerfile: node on its bundle in dist/),
// after bringing dist/ up to date from the sources changed since the last build (dist.mjs ensureDist, as
// `npm start` does) and rebuilding the bundle if any of them changed (ensureBundles). From the sources through tsx, a cold restart spent about a second more loading modules
// (importing typebox's 700 modules took 1.26 s of CPU through tsx, 0.33 s in plain node), which is not what
// production runs.
// The npm script passes the daemon's node flags (engine/daemon/config.ts DAEMON_NODE_FLAGS).

import { ensureBundles, ensureDist, ROOT } from './dist.mjs';

await ensureDist(ROOT);
await ensureBundles(ROOT);
// A URL, not a literal path: dist/ does not exist until the build above, so the type check must not resolve it.
await import(new URL('../../dist/engine/daemon/main.bundle.js', import.meta.url).href);
