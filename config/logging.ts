// pino options shared by the services that hold secrets (the gateway: passwords, API secrets, tokens; the chain
// service: the keystore's mnemonic and passphrase, private keys): secrets never reach a log line, and every line
// names its service. Fastify logs only method, url and host of a request by default; the redaction covers anything
// that logs headers, bodies or the objects we build.

import type { LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-signature"]',
  'password',
  'secret',
  'token',
  'signature',
  'secretKey',
  'mnemonic',
  'passphrase',
  'privateKey',
  '*.password',
  '*.secret',
  '*.token',
  '*.signature',
  '*.secretKey',
  '*.authorization',
  '*.mnemonic',
  '*.passphrase',
  '*.privateKey',
];

export function serviceLoggerOptions(service: string, level: string): LoggerOptions {
  return { level, base: { service }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}
