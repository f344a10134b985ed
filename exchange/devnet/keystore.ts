// The embedded mode's keystore, created on the first start without asking: a fresh mnemonic encrypted with a
// generated passphrase that is stored NEXT TO IT (DATA_DIR/keystore.passphrase, mode 0600). That protects nothing
// against anyone who can read DATA_DIR: acceptable for a devnet whose tokens are worthless, never for real funds
// (there, `npm run keys:init` with a passphrase kept elsewhere, see docs/chain.md). The logs and docs say so.

import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as bip39 from 'bip39';
import { HdKeys } from '../../chain/hd.js';
import { encryptMnemonic, readKeystoreFile, writeKeystoreFile } from '../../chain/keystore.js';
import type { ScryptParams } from '../../chain/keystore.js';

/**
 * DEVNET ONLY, never for a real keystore: scrypt at 2^14 (16 MiB, a few milliseconds) instead of SCRYPT_DEFAULT's
 * 2^17 (128 MiB, about 0.3 s idle and seconds on a busy machine, paid on every start). A slow KDF protects a
 * passphrase an attacker does not have; this one sits in a file next to the keystore, so the cost bought nothing.
 * Real keystores come from `npm run keys:init`, which keeps the default.
 */
const DEVNET_SCRYPT: ScryptParams = { N: 1 << 14, r: 8, p: 1 };

export interface DevKeystore {
  readonly keys: HdKeys;
  readonly keystorePath: string;
  readonly passphraseFile: string;
  readonly created: boolean;
}

export async function ensureDevKeystore(dataDir: string): Promise<DevKeystore> {
  const keystorePath = path.join(dataDir, 'keystore.json');
  const passphraseFile = path.join(dataDir, 'keystore.passphrase');
  const created = !(await exists(keystorePath));
  if (created) {
    // The passphrase first: a crash between the two files leaves a passphrase without keystore (redone), never
    // a keystore nobody can open.
    const passphrase = randomBytes(32).toString('hex');
    await writeFile(passphraseFile, `${passphrase}\n`, { mode: 0o600 });
    await chmod(passphraseFile, 0o600); // the mode of an existing file is not changed by writeFile
    await writeKeystoreFile(
      keystorePath,
      await encryptMnemonic(bip39.generateMnemonic(256), passphrase, DEVNET_SCRYPT),
    );
  }
  const passphrase = (await readFile(passphraseFile, 'utf8')).trim();
  const keys = new HdKeys(await readKeystoreFile(keystorePath, passphrase));
  return { keys, keystorePath, passphraseFile, created };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
