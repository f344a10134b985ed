// `npm run devnet:artifacts`: compiles the devnet contracts for every EVM version and rewrites
// chain/devnet/artifacts.json (see compile.ts). Run it after changing a contract or upgrading solc or OpenZeppelin.

import { writeFile } from 'node:fs/promises';
import { COMMITTED_ARTIFACTS_FILE, compileCommittedArtifacts } from './compile.js';

await writeFile(COMMITTED_ARTIFACTS_FILE, JSON.stringify(await compileCommittedArtifacts(), null, 2) + '\n');
process.stdout.write(`wrote ${COMMITTED_ARTIFACTS_FILE}\n`);
