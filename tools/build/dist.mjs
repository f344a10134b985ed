// @ts-check
// The compiled build's file set and its two emitters. Plain JavaScript: it runs before anything is compiled.
//
// dist/ mirrors the repository: <folder>/<file>.ts becomes dist/<folder>/<file>.js with a source map, for the
// folders tsconfig.build.json includes; the files the code reads at run time next to itself (SQL migrations, the
// devnet's Solidity sources and compiled contracts, the Kafka tool's templates, the chain container's entry script,
// example configurations) are copied beside their JavaScript.
// The engine daemon also runs from one bundled file (BUNDLES below).
//   `npm run build`: tsc -p tsconfig.build.json (type-checked), then `node tools/build/dist.mjs --assets --bundles`.
//   `npm start`: ensureDist() below, a transpile-only build (esbuild, the same transform tsx uses in development
//   and the tests) of just the sources newer than their output, so a start after an edit costs well under a second.
//   `npm run engine`: ensureDist(), then ensureBundles() when a source or the lockfile is newer than the bundle.
// dist/web (the web page, tools/web/build.ts) shares the folder and is left alone here.

import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = 'dist';
const ASSET_EXTENSIONS = new Set(['.sql', '.sol', '.json', '.properties', '.xml', '.sh']);
/** Never into dist/: Docker files and the secrets folder are not code. */
const SKIPPED_DIRS = new Set(['node_modules', 'secrets']);
/** What the transpile-only build and the bundles share; output stays in memory, for writeAtomically. */
const ESBUILD_OPTIONS = /** @type {const} */ ({
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  tsconfig: 'tsconfig.build.json',
  logLevel: 'warning',
  write: false,
});

/** The folders tsconfig.build.json compiles: one list for tsc, this script and the Docker image. */
export async function buildFolders(root = ROOT) {
  const config = JSON.parse(await readFile(path.join(root, 'tsconfig.build.json'), 'utf8'));
  const include = /** @type {string[]} */ (config.include);
  if (!Array.isArray(include) || include.length === 0) throw new Error('tsconfig.build.json has no include list');
  return include;
}

/** Sources (.ts, not .d.ts) and run-time assets under the build's folders, as paths relative to root. */
export async function buildInputs(root = ROOT) {
  /** @type {{ sources: string[]; assets: string[] }} */
  const inputs = { sources: [], assets: [] };
  /** @param {string} dir */
  const walk = async (dir) => {
    for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(rel);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        inputs.sources.push(rel);
      } else if (ASSET_EXTENSIONS.has(path.extname(entry.name))) {
        inputs.assets.push(rel);
      }
    }
  };
  for (const folder of await buildFolders(root)) await walk(folder);
  return inputs;
}

/** @param {string} rel a source path relative to root */
export function outputOf(rel) {
  return path.join(OUT_DIR, rel.endsWith('.ts') ? `${rel.slice(0, -3)}.js` : rel);
}

/** @param {string} file */
async function mtimeMs(file) {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Inputs whose output is missing or older than they are. */
export async function staleInputs(root = ROOT) {
  const { sources, assets } = await buildInputs(root);
  /** @param {string} rel */
  const stale = async (rel) => (await mtimeMs(path.join(root, outputOf(rel)))) < (await mtimeMs(path.join(root, rel)));
  const pick = async (/** @type {string[]} */ list) =>
    (await Promise.all(list.map(async (rel) => ((await stale(rel)) ? rel : null)))).filter((r) => r !== null);
  return { sources: await pick(sources), assets: await pick(assets) };
}

/**
 * Through a temporary file and a rename: exchanges started together from one checkout (the tests do) may build at
 * once, and a reader then sees a whole old or a whole new file, never a half-written one.
 * @param {string} file @param {string | Uint8Array} contents
 */
async function writeAtomically(file, contents) {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, contents);
  await rename(temp, file);
}

/** @param {string} root @param {string[]} assets */
export async function copyAssets(root, assets) {
  for (const rel of assets) await writeAtomically(path.join(root, outputOf(rel)), await readFile(path.join(root, rel)));
}

/**
 * Brings dist/ up to date for `npm start`: transpiles the stale sources (esbuild, no type check: `npm test` and
 * `npm run build` check types) and copies the stale assets. Returns what it did, for the start banner.
 */
export async function ensureDist(root = ROOT) {
  const startedMs = performance.now();
  const { sources, assets } = await staleInputs(root);
  if (sources.length > 0) {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: sources,
      outdir: OUT_DIR,
      outbase: '.',
      bundle: false,
      ...ESBUILD_OPTIONS,
    });
    for (const file of result.outputFiles) await writeAtomically(file.path, file.contents);
    // esbuild's service process would otherwise stay for the life of the exchange (about 60 MB).
    await esbuild.stop();
  }
  await copyAssets(root, assets);
  return { sources: sources.length, assets: assets.length, buildMs: Math.round(performance.now() - startedMs) };
}

/**
 * Entry points also built as one file with every module they import, dependencies included. The engine daemon's
 * cold restart (issue 17) is measured from process start: node's ES module loader resolves, reads and compiles the
 * ~1,200 modules the daemon imports one by one (typebox alone ~700), 2.0-2.3 s against 0.9-1.0 s for the bundle
 * at load 11 (its moduleLoadMs). Loaded as an ES module, the bundle gives the CommonJS dependencies it inlines
 * (kafkajs, ioredis, pino) a `require` for node's built-in modules.
 */
export const BUNDLES = [{ entry: 'engine/daemon/main.ts', outfile: 'dist/engine/daemon/main.bundle.js' }];
const BUNDLE_BANNER =
  "import { createRequire as __bundleRequire } from 'node:module';\n" +
  'const require = __bundleRequire(import.meta.url);';

/** @param {string} root @param {string[]} rels */
async function newestMtimeMs(root, rels) {
  const times = await Promise.all(rels.map((rel) => mtimeMs(path.join(root, rel))));
  return Math.max(-1, ...times);
}

/**
 * Builds the bundles (esbuild: no type check, as ensureDist) whose file is missing or older than any build source
 * or the lockfile (dependencies are inside the bundle). Returns how many it built.
 */
export async function ensureBundles(root = ROOT) {
  const startedMs = performance.now();
  const { sources } = await buildInputs(root);
  const inputsMs = await newestMtimeMs(root, [...sources, 'package-lock.json']);
  const stale = [];
  for (const b of BUNDLES) if ((await mtimeMs(path.join(root, b.outfile))) < inputsMs) stale.push(b);
  if (stale.length > 0) await buildBundles(root, stale);
  return { bundles: stale.length, buildMs: Math.round(performance.now() - startedMs) };
}

/** @param {string} root @param {typeof BUNDLES} bundles */
export async function buildBundles(root = ROOT, bundles = BUNDLES) {
  const esbuild = await import('esbuild');
  for (const b of bundles) {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [b.entry],
      outfile: b.outfile,
      bundle: true,
      banner: { js: BUNDLE_BANNER },
      ...ESBUILD_OPTIONS,
    });
    for (const file of result.outputFiles) await writeAtomically(file.path, file.contents);
  }
  await esbuild.stop();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--assets')) {
    const { assets } = await buildInputs(ROOT);
    await copyAssets(ROOT, assets);
    if (process.argv.includes('--bundles')) await buildBundles(ROOT);
  } else {
    process.stdout.write(`${JSON.stringify(await ensureDist(ROOT))}\n`);
  }
}
