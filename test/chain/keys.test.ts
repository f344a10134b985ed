// Keystore (scrypt + AES-256-GCM) and key derivation: round trip, stable error codes for a wrong passphrase and a
// tampered file, no overwrite, passphrase sources, derivation equal to ethers' HD wallet, no secret in logs.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import t from 'tap';
import * as bip39 from 'bip39';
import { HDNodeWallet, JsonRpcProvider, Mnemonic } from 'ethers';
import {
  decryptMnemonic,
  encryptMnemonic,
  passphraseFromEnv,
  readKeystoreFile,
  writeKeystoreFile,
} from '../../chain/keystore.js';
import type { KeystoreFile } from '../../chain/keystore.js';
import { HdKeys } from '../../chain/hd.js';

const FAST = { N: 1 << 10, r: 8, p: 1 }; // tests only; production uses SCRYPT_DEFAULT (2^17)
const PASS = 'correct horse battery staple';

t.test('keystore round trip and errors', async (t) => {
  const mnemonic = bip39.generateMnemonic(256);
  const k = await encryptMnemonic(mnemonic, PASS, FAST);
  t.equal(await decryptMnemonic(k, PASS), mnemonic);
  t.notMatch(JSON.stringify(k), mnemonic.split(' ')[0] + ' ', 'no plaintext in the file');
  await t.rejects(decryptMnemonic(k, PASS + 'x'), { code: 'KEYSTORE_WRONG_PASSPHRASE' });
  const flip = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
  await t.rejects(decryptMnemonic({ ...k, ciphertext: flip(k.ciphertext) }, PASS), { code: 'KEYSTORE_TAMPERED' });
  await t.rejects(decryptMnemonic({ ...k, tag: flip(k.tag) }, PASS), { code: 'KEYSTORE_TAMPERED' });
  await t.rejects(
    decryptMnemonic({ ...k, iv: flip(k.iv) }, PASS),
    { code: 'KEYSTORE_TAMPERED' },
    'the header is authenticated',
  );
  await t.rejects(decryptMnemonic({ ...k, salt: flip(k.salt) }, PASS), { code: 'KEYSTORE_WRONG_PASSPHRASE' });
  await t.rejects(decryptMnemonic({ ...k, version: 2 }, PASS), { code: 'KEYSTORE_UNSUPPORTED_VERSION' });
  await t.rejects(
    decryptMnemonic({ ...k, kdfParams: { N: 1 << 30, r: 8, p: 1 } }, PASS),
    { code: 'KEYSTORE_MALFORMED' },
    'unbounded scrypt cost refused',
  );
  await t.rejects(decryptMnemonic({ ...k, iv: 'zz' } as KeystoreFile, PASS), { code: 'KEYSTORE_MALFORMED' });
  await t.rejects(decryptMnemonic('nope', PASS), { code: 'KEYSTORE_MALFORMED' });
  await t.rejects(encryptMnemonic(mnemonic, 'short', FAST), { code: 'KEYSTORE_WEAK_PASSPHRASE' });
  await t.rejects(encryptMnemonic('not a mnemonic at all', PASS, FAST), { code: 'KEYSTORE_BAD_MNEMONIC' });
});

t.test('keystore file: never overwritten; passphrase from env or file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keystore-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keystore.json');
  const mnemonic = bip39.generateMnemonic(256);
  await writeKeystoreFile(file, await encryptMnemonic(mnemonic, PASS, FAST));
  const before = await readFile(file, 'utf8');
  await t.rejects(writeKeystoreFile(file, await encryptMnemonic(bip39.generateMnemonic(), PASS, FAST)), {
    code: 'KEYSTORE_EXISTS',
  });
  t.equal(await readFile(file, 'utf8'), before, 'the existing keystore is untouched');
  t.equal(await readKeystoreFile(file, PASS), mnemonic);
  await t.rejects(readKeystoreFile(path.join(dir, 'missing.json'), PASS), { code: 'KEYSTORE_NOT_FOUND' });
  const secret = path.join(dir, 'pass');
  await writeFile(secret, PASS + '\n');
  t.equal(await passphraseFromEnv({ KEYSTORE_PASSPHRASE_FILE: secret }), PASS, 'secret file, trailing newline dropped');
  t.equal(await passphraseFromEnv({ KEYSTORE_PASSPHRASE: PASS }), PASS);
  await t.rejects(passphraseFromEnv({}), { code: 'KEYSTORE_NO_PASSPHRASE' });
  await t.rejects(passphraseFromEnv({ KEYSTORE_PASSPHRASE: PASS, KEYSTORE_PASSPHRASE_FILE: secret }), {
    code: 'KEYSTORE_NO_PASSPHRASE',
  });
});

t.test('derivation equals ethers HDNodeWallet; roles are separate; nothing secret is printable', async (t) => {
  const mnemonic = bip39.generateMnemonic(256);
  const keys = new HdKeys(mnemonic);
  const m = Mnemonic.fromPhrase(mnemonic);
  for (const i of [0, 1, 2, 19, 1000, 0x7fffffff]) {
    t.equal(keys.depositAddress(i), HDNodeWallet.fromMnemonic(m, `m/44'/60'/0'/0/${i}`).address, `deposit ${i}`);
  }
  t.equal(keys.hotWalletAddress(), HDNodeWallet.fromMnemonic(m, "m/44'/60'/1'/0/0").address);
  t.equal(keys.gasWalletAddress(), HDNodeWallet.fromMnemonic(m, "m/44'/60'/2'/0/0").address);
  const provider = new JsonRpcProvider('http://127.0.0.1:1', 1, { staticNetwork: true });
  t.teardown(() => provider.destroy());
  t.equal(keys.depositWallet(5, provider).address, keys.depositAddress(5));
  const firstUsers = new Set(Array.from({ length: 100 }, (_, i) => keys.depositAddress(i)));
  t.notOk(
    firstUsers.has(keys.hotWalletAddress()) || firstUsers.has(keys.gasWalletAddress()),
    'hot and gas wallets are not user slots',
  );
  const printed = inspect(keys, { depth: 10 }) + JSON.stringify(keys);
  t.notMatch(printed, mnemonic.split(' ')[0]);
  t.equal(printed, 'HdKeys {}{}');
  t.throws(() => keys.depositAddress(-1));
  t.throws(() => keys.depositAddress(0x80000000), 'hardened indices are not deposit slots');
});
