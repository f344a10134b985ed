// pino options for the gateway: secrets never reach a log line. Fastify logs only method, url and host of a
// request by default; the redaction covers anything that logs headers, bodies or the objects we build.

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
  '*.password',
  '*.secret',
  '*.token',
  '*.signature',
  '*.secretKey',
  '*.authorization',
  '*.mnemonic',
];

export function gatewayLoggerOptions(level: string): LoggerOptions {
  return { level, base: { service: 'gateway' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}
