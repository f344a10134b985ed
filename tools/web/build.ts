// Builds the web page (web/) into dist/web: one JavaScript bundle and one stylesheet with content hashes in their
// names, index.html naming them, and gzip and brotli forms the gateway serves as they are. esbuild does it in well
// under a second, so `npm start` rebuilds whenever the sources changed (build.json keeps the sources' hash).
// The page's budget is checked here: over PAGE_JS_GZIP_BYTES_MAX the build fails.
//
//   npx tsx tools/web/build.ts [--if-stale]     prints one JSON line: the files and their sizes

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

/** The page's JavaScript, gzipped: the budget is 300 KB. */
export const PAGE_JS_GZIP_BYTES_MAX = 300 * 1024;

export interface WebBuildOptions {
  /** The repository root (web/ and package-lock.json are read from it). */
  readonly root: string;
  /** Where the page goes; default <root>/dist/web. */
  readonly outDir?: string;
}

export interface WebBuildReport {
  readonly built: boolean;
  readonly sourceHash: string;
  readonly files: Record<string, { bytes: number; gzipBytes: number }>;
  readonly jsGzipBytes: number;
  readonly buildMs: number;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

/** What the page is built from: its sources, this script and the locked dependency versions. */
export async function webSourceHash(root: string): Promise<string> {
  const h = createHash('sha256');
  const files = [
    ...(await listFiles(path.join(root, 'web'))),
    path.join(root, 'tools/web/build.ts'),
    path.join(root, 'package-lock.json'),
  ];
  for (const f of files)
    h.update(path.relative(root, f))
      .update('\0')
      .update(await readFile(f))
      .update('\0');
  return h.digest('hex');
}

async function previousHash(outDir: string): Promise<string | null> {
  try {
    return (
      (JSON.parse(await readFile(path.join(outDir, 'build.json'), 'utf8')) as { sourceHash?: string }).sourceHash ??
      null
    );
  } catch {
    return null;
  }
}

/** A build holds this lock (a directory: mkdir is atomic); one older than this was left by a crash. */
const LOCK_STALE_MS = 120_000;
const LOCK_WAIT_MS = 180_000;

/**
 * Several exchanges may start at once from one checkout (the tests do): one builds, the others wait for it and then
 * find the page fresh.
 */
async function withLock<T>(outDir: string, run: () => Promise<T>): Promise<T> {
  const lock = `${outDir}.lock`;
  await mkdir(path.dirname(outDir), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`another web build has held ${lock} for ${Math.round(age / 1000)} s`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await run();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export async function buildWeb(opts: WebBuildOptions & { ifStale?: boolean }): Promise<WebBuildReport> {
  const outDir = opts.outDir ?? path.join(opts.root, 'dist', 'web');
  return withLock(outDir, () => buildLocked(opts, outDir));
}

async function buildLocked(opts: WebBuildOptions & { ifStale?: boolean }, outDir: string): Promise<WebBuildReport> {
  const started = performance.now();
  const sourceHash = await webSourceHash(opts.root);
  if (opts.ifStale === true && (await previousHash(outDir)) === sourceHash) {
    return { built: false, sourceHash, files: {}, jsGzipBytes: 0, buildMs: Math.round(performance.now() - started) };
  }
  const esbuild = await import('esbuild');
  const tmp = `${outDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  // esbuild's service process would otherwise stay for the life of the exchange that built the page (about 30 MB).
  const result = await esbuild
    .build({
      absWorkingDir: opts.root,
      entryPoints: { app: 'web/src/main.tsx' },
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: path.join(tmp, 'assets'),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    })
    .finally(() => esbuild.stop());
  const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (js === undefined || css === undefined)
    throw new Error(`the web build made no script or stylesheet: ${outputs.join(', ')}`);
  const template = await readFile(path.join(opts.root, 'web', 'index.html'), 'utf8');
  const html = template.replace('%APP_JS%', `/assets/${js}`).replace('%APP_CSS%', `/assets/${css}`);
  if (html.includes('%APP_')) throw new Error('web/index.html has a placeholder the build does not fill');
  await writeFile(path.join(tmp, 'index.html'), html);
  const files: Record<string, { bytes: number; gzipBytes: number }> = {};
  for (const rel of ['index.html', `assets/${js}`, `assets/${css}`]) {
    const file = path.join(tmp, rel);
    const raw = await readFile(file);
    const gz = gzipSync(raw, { level: 9 });
    await writeFile(`${file}.gz`, gz);
    await writeFile(`${file}.br`, brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }));
    files[rel] = { bytes: raw.length, gzipBytes: gz.length };
  }
  const jsGzipBytes = files[`assets/${js}`].gzipBytes;
  if (jsGzipBytes > PAGE_JS_GZIP_BYTES_MAX)
    throw new Error(
      `the page's JavaScript is ${jsGzipBytes} bytes gzipped, over the budget of ${PAGE_JS_GZIP_BYTES_MAX}`,
    );
  await writeFile(path.join(tmp, 'build.json'), `${JSON.stringify({ sourceHash, files }, null, 2)}\n`);
  // Swapped in whole: a gateway starting meanwhile reads either the old page or the new one.
  await mkdir(path.dirname(outDir), { recursive: true });
  await rm(`${outDir}.old`, { recursive: true, force: true });
  if (await exists(outDir)) await rename(outDir, `${outDir}.old`);
  await rename(tmp, outDir);
  await rm(`${outDir}.old`, { recursive: true, force: true });
  return { built: true, sourceHash, files, jsGzipBytes, buildMs: Math.round(performance.now() - started) };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)
) {
  buildWeb({ root: process.cwd(), ifStale: process.argv.includes('--if-stale') })
    .then((report) => process.stdout.write(`${JSON.stringify(report)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`web build failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
