// The committed devnet contracts (chain/devnet/artifacts.json) are what the sources compile to today: npm start and
// the tests deploy them without loading solc, so a stale file would deploy contracts nobody can read in the source.
// Compiling both EVM versions takes solc-js a few seconds.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import t from 'tap';
import {
  COMMITTED_ARTIFACTS_FILE,
  compileCommittedArtifacts,
  compileDevnetContracts,
  currentArtifactKeys,
  EVM_VERSIONS,
} from '../../chain/devnet/compile.js';
import type { CommittedArtifacts } from '../../chain/devnet/compile.js';

const committed = JSON.parse(await readFile(COMMITTED_ARTIFACTS_FILE, 'utf8')) as CommittedArtifacts;

// First, before anything here loads solc.
t.test('compileDevnetContracts answers from the committed file, without loading solc', async (t) => {
  for (const v of EVM_VERSIONS) {
    const a = await compileDevnetContracts({ evmVersion: v });
    t.equal(a.TestToken.bytecode, committed[v].TestToken.bytecode, v);
    t.equal(a.NoReturnToken.bytecode, committed[v].NoReturnToken.bytecode, v);
  }
  // The key reads solc's package.json, which is no compiler.
  const solcLoaded = Object.keys(createRequire(import.meta.url).cache).some(
    (m) => m.includes('/node_modules/solc/') && !m.endsWith('package.json'),
  );
  t.notOk(solcLoaded, 'without loading solc');
});

t.test('each entry carries the key of the current sources, compiler and OpenZeppelin', async (t) => {
  const keys = await currentArtifactKeys();
  for (const v of EVM_VERSIONS) t.equal(committed[v].key, keys[v], `${v}: npm run devnet:artifacts rewrites it`);
});

t.test('the committed bytecode and ABI are what solc compiles the sources to', async (t) => {
  t.same(await compileCommittedArtifacts(), committed);
});
