// pino options for the chain service, which holds the keys: the redaction shared with the gateway (mnemonic,
// passphrase, private keys, secrets; config/logging.ts) and `service: "chain"` on every line.

import type { LoggerOptions } from 'pino';
import { serviceLoggerOptions } from '../config/logging.js';

export function chainLoggerOptions(level: string): LoggerOptions {
  return serviceLoggerOptions('chain', level);
}
