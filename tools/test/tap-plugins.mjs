// @ts-check
// Run by `npm test` before tap: makes tap's compiled Test class match package.json's plugin list.
//
// npm ci installs tap's Test class built with every default plugin, @tapjs/typescript among them. tap notices the
// difference from our list ("!@tapjs/typescript": tsx runs the TypeScript) and rebuilds, but the run that notices
// still starts every test file with that plugin's loader: ts-node, which loads the TypeScript compiler beside tsx,
// about 0.9 s of CPU per test file (100 files in a fresh-clone CI run). `tap build` first avoids that run.

import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
const listed = /** @type {string[]} */ (pkg.tap?.plugin ?? []);
const excluded = listed.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
const added = listed.filter((p) => !p.startsWith('!'));
// The built set is in the compiled module's `signature` (importing the module itself would start a tap run).
const builtFile = fileURLToPath(import.meta.resolve('@tapjs/test/test-built'));
const signature = /export const signature = `([^`]*)`/.exec(await readFile(builtFile, 'utf8'))?.[1];
if (signature === undefined) throw new Error(`tap-plugins: no plugin signature in ${builtFile}`);
const built = new Set(signature.split('\n'));
const stale = excluded.some((p) => built.has(p)) || added.some((p) => !built.has(p));
if (stale) {
  console.error('tap-plugins: rebuilding tap for the plugin list in package.json (tap build)');
  const result = spawnSync('npx', ['tap', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
