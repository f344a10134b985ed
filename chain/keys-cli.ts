// `keys-cli.ts init [path]`: creates the encrypted keystore (default $KEYSTORE_PATH or ./keystore.json) with a
// fresh 24-word mnemonic, prints the mnemonic once for the operator's paper backup and the public addresses of the
// hot and gas wallets (to fund them). Refuses to overwrite an existing file.
// `keys-cli.ts show [path]`: unlocks the keystore and prints the public addresses only, and the extended public key
// of the deposit branch (m/44'/60'/0'/0) that the gateway derives deposit addresses from.

import * as bip39 from 'bip39';
import { HdKeys } from './hd.js';
import { encryptMnemonic, passphraseFromEnv, readKeystoreFile, writeKeystoreFile } from './keystore.js';
import { ChainError } from './errors.js';

async function main(argv: string[]): Promise<void> {
  const [cmd, pathArg] = argv;
  const path = pathArg ?? process.env.KEYSTORE_PATH ?? 'keystore.json';
  const passphrase = await passphraseFromEnv();
  if (cmd === 'init') {
    const mnemonic = bip39.generateMnemonic(256);
    await writeKeystoreFile(path, await encryptMnemonic(mnemonic, passphrase));
    const keys = new HdKeys(mnemonic);
    process.stdout.write(
      `Keystore written to ${path}.\n\n` +
        `MNEMONIC (shown once; write it on paper and keep it offline, it controls every deposit and the hot wallet):\n\n  ${mnemonic}\n\n` +
        `hot wallet: ${keys.hotWalletAddress()}\ngas wallet: ${keys.gasWalletAddress()}\ndeposit xpub (DEPOSIT_XPUB of the gateway): ${keys.depositXpub()}\n`,
    );
    return;
  }
  if (cmd === 'show') {
    const keys = new HdKeys(await readKeystoreFile(path, passphrase));
    process.stdout.write(
      `hot wallet: ${keys.hotWalletAddress()}\ngas wallet: ${keys.gasWalletAddress()}\ndeposit xpub (DEPOSIT_XPUB of the gateway): ${keys.depositXpub()}\n`,
    );
    return;
  }
  process.stderr.write('usage: keys-cli.ts init|show [keystore-path]\n');
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof ChainError ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
