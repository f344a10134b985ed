// compose/Dockerfile, read without Docker: nothing copied from outside the repository (../shared), dependencies from
// the lockfile, the final stage runs as a non-root user, no secret in it or in the build context, and the tsx it
// carries over from the full install is tsx's whole dependency closure according to package-lock.json.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ROOT } from './compose-file.js';

interface Instruction { readonly op: string; readonly args: string }

async function dockerfile(): Promise<Instruction[]> {
  const text = await readFile(path.join(ROOT, 'compose/Dockerfile'), 'utf8');
  const joined = text.replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

/** Instructions of the last stage (the image that runs). */
function finalStage(all: Instruction[]): Instruction[] {
  const from = all.map((i) => i.op).lastIndexOf('FROM');
  return all.slice(from);
}

t.test('nothing is copied from outside the repository', async (t) => {
  const copies = (await dockerfile()).filter((i) => i.op === 'COPY' || i.op === 'ADD');
  t.ok(copies.length >= 3);
  for (const c of copies) {
    t.notMatch(c.args, /\.\.\//, `${c.op} ${c.args}: no ../ source`);
    t.notMatch(c.args, /shared/, `${c.op} ${c.args}: nothing from shared`);
  }
  t.notOk(copies.some((c) => c.op === 'ADD'), 'COPY only (ADD fetches URLs and unpacks archives)');
});

t.test('dependencies come from the lockfile', async (t) => {
  const runs = (await dockerfile()).filter((i) => i.op === 'RUN').map((i) => i.args);
  t.ok(runs.some((r) => /^npm ci\b/.test(r)), 'npm ci');
  t.notOk(runs.some((r) => /npm (install|i)\b/.test(r)), 'never npm install');
});

t.test('the image runs as a non-root user', async (t) => {
  const users = finalStage(await dockerfile()).filter((i) => i.op === 'USER');
  t.ok(users.length >= 1, 'the final stage sets USER');
  t.notMatch(users.at(-1)?.args ?? 'root', /^(root|0)(:|$)/, 'the last USER is not root');
});

t.test('no secret is baked in', async (t) => {
  const all = await dockerfile();
  for (const i of all.filter((i) => i.op === 'ENV' || i.op === 'ARG')) {
    t.notMatch(i.args, /SECRET|PASSPHRASE|PASSWORD|MNEMONIC|XPUB|RPC_URL|TOKEN|_KEY\b/i, `${i.op} ${i.args}: no secret`);
  }
  const ignore = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  for (const pattern of ['node_modules', '.git', 'compose/secrets', '**/.env', '**/keystore*.json', '**/*passphrase*']) {
    t.ok(ignore.includes(pattern), `.dockerignore excludes ${pattern}`);
  }
});

t.test('the tsx copied into the production install is its whole dependency closure', async (t) => {
  const lock = (JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; dev?: boolean; os?: string[] }> }).packages;
  const resolve = (from: string, name: string): string | null => {
    for (let dir = from; ; ) {
      const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (lock[candidate] !== undefined) return candidate;
      if (dir === '') return null;
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  const closure = new Set<string>();
  const walk = (p: string): void => {
    if (closure.has(p)) return;
    closure.add(p);
    const entry = lock[p];
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const r = resolve(p, dep);
      if (r !== null) walk(r);
    }
  };
  walk('node_modules/tsx');
  // Platform packages (fsevents, @esbuild/<os>-<cpu>) are installed only where they run: Linux in the image.
  const linux = [...closure].filter((p) => lock[p].os === undefined || lock[p].os?.includes('linux'));
  for (const p of closure) t.equal(lock[p].dev, true, `${p} is dev-only (not already in the production install)`);
  const copied = (await dockerfile()).filter((i) => i.op === 'COPY' && i.args.startsWith('--from=full ')).map((i) => i.args.split(/\s+/)[1].replace(/^\/app\//, ''));
  const covered = (p: string): boolean => copied.some((c) => p === c || p.startsWith(`${c}/`));
  for (const p of linux) t.ok(covered(p), `${p} is copied`);
  t.equal(copied.length, new Set(linux.map((p) => p.split('/').slice(0, 2).join('/'))).size, 'and nothing else');
});
