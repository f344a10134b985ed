// compose/Dockerfile, read without Docker: nothing copied from outside the repository (../shared), dependencies from
// the lockfile, the final stage runs as a non-root user, no secret in it or in the build context, and it holds the
// compiled build (dist/), production dependencies and nothing else, run by node under tini.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/config.js';
import { ROOT, builtFrom } from './compose-file.js';

interface Instruction {
  readonly op: string;
  readonly args: string;
}

async function dockerfile(): Promise<Instruction[]> {
  const text = await readFile(path.join(ROOT, 'compose/Dockerfile'), 'utf8');
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
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
  t.notOk(
    copies.some((c) => c.op === 'ADD'),
    'COPY only (ADD fetches URLs and unpacks archives)',
  );
});

t.test('dependencies come from the lockfile', async (t) => {
  const runs = (await dockerfile()).filter((i) => i.op === 'RUN').map((i) => i.args);
  t.ok(
    runs.some((r) => /^npm ci\b/.test(r)),
    'npm ci',
  );
  t.notOk(
    runs.some((r) => /npm (install|i)\b/.test(r)),
    'never npm install',
  );
});

t.test('the image runs as a non-root user', async (t) => {
  const users = finalStage(await dockerfile()).filter((i) => i.op === 'USER');
  t.ok(users.length >= 1, 'the final stage sets USER');
  t.notMatch(users.at(-1)?.args ?? 'root', /^(root|0)(:|$)/, 'the last USER is not root');
});

t.test('no secret is baked in', async (t) => {
  const all = await dockerfile();
  for (const i of all.filter((i) => i.op === 'ENV' || i.op === 'ARG')) {
    t.notMatch(
      i.args,
      /SECRET|PASSPHRASE|PASSWORD|MNEMONIC|XPUB|RPC_URL|TOKEN|_KEY\b/i,
      `${i.op} ${i.args}: no secret`,
    );
  }
  const ignore = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  for (const pattern of [
    'node_modules',
    '.git',
    'compose/secrets',
    '**/.env',
    '**/keystore*.json',
    '**/*passphrase*',
  ]) {
    t.ok(ignore.includes(pattern), `.dockerignore excludes ${pattern}`);
  }
});

t.test(
  'the image runs the compiled build with node under tini: dist/, production dependencies, nothing else',
  async (t) => {
    const all = await dockerfile();
    const stages = all.filter((i) => i.op === 'FROM').map((i) => i.args);
    t.ok(stages.length >= 3, 'a build stage, a production-dependency stage and the final stage');
    const runs = all.filter((i) => i.op === 'RUN').map((i) => i.args);
    t.ok(
      runs.some((r) => /\bnpm run build\b/.test(r)),
      'a builder stage compiles dist/ (npm run build)',
    );
    t.ok(
      runs.some((r) => /^npm ci --omit=dev\b/.test(r)),
      'production dependencies installed without devDependencies',
    );
    const final = finalStage(all);
    const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
    t.same(
      copies.sort(),
      ['--from=build /app/dist ./dist', '--from=deps /app/node_modules ./node_modules', 'package.json ./'].sort(),
      'only dist/ (with its migrations), production node_modules and package.json (type: module)',
    );
    t.notOk(
      final.some((i) => /tsx|esbuild/.test(i.args)),
      'no TypeScript runner in the image',
    );
    t.notOk(
      final.some((i) => i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)),
      'nothing installed in the final stage but tini',
    );
    const entrypoint = JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')?.args ?? 'null') as string[] | null;
    t.same(entrypoint, ['/usr/bin/tini', '--'], 'tini is PID 1: it passes signals on and reaps children');
    t.ok(
      final.some((i) => i.op === 'RUN' && /apt-get install .*\btini\b/.test(i.args)),
      'tini is installed',
    );
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? '[]') as string[];
    t.same(
      cmd,
      ['node', '--enable-source-maps', ...DAEMON_NODE_FLAGS, 'dist/engine/daemon/main.bundle.js'],
      'the default command: the engine daemon with its node flags',
    );
    t.equal(await builtFrom(cmd.at(-1) ?? ''), 'engine/daemon/main.ts', 'which the build emits');
  },
);
