// The chain service's log (chain/logging.ts, the options chain/main.ts builds its logger with): a mnemonic, a
// keystore passphrase or a private key never reaches a log line, at the top level or one object down, and every
// line names the service.

import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { chainLoggerOptions } from '../../chain/logging.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const PASSPHRASE = 'a long enough passphrase 7f3c';
const PRIVATE_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

function capture(): { logger: pino.Logger; lines: () => string[] } {
  let text = '';
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => void ((text += chunk.toString()), done()) });
  return { logger: pino(chainLoggerOptions('trace'), stream), lines: () => text.split('\n').filter((l) => l !== '') };
}

t.test("secrets are redacted from the chain service's log lines", async (t) => {
  const { logger, lines } = capture();
  logger.info({ mnemonic: MNEMONIC, passphrase: PASSPHRASE, privateKey: PRIVATE_KEY }, 'top level');
  logger.warn(
    { keystore: { mnemonic: MNEMONIC, passphrase: PASSPHRASE }, wallet: { privateKey: PRIVATE_KEY } },
    'one object down',
  );
  logger.child({ component: 'withdrawals' }).error({ signer: { privateKey: PRIVATE_KEY } }, 'from a child logger');
  const out = lines();
  t.equal(out.length, 3);
  for (const line of out) {
    for (const secret of [MNEMONIC, PASSPHRASE, PRIVATE_KEY])
      t.notOk(line.includes(secret), `no secret in: ${JSON.parse(line).msg}`);
    t.match(line, /\[redacted\]/, 'the field is there, redacted');
    t.equal(JSON.parse(line).service, 'chain', 'the line names its service');
  }
});

t.test('what is not a secret is logged as it is', async (t) => {
  const { logger, lines } = capture();
  logger.info({ address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', nonce: 7 }, 'sent');
  const line = JSON.parse(lines()[0]) as { address: string; nonce: number };
  t.equal(line.address, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
  t.equal(line.nonce, 7);
});
