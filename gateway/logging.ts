// pino options for the gateway: secrets never reach a log line (config/logging.ts, shared with the chain service).

import type { LoggerOptions } from 'pino';
import { serviceLoggerOptions } from '../config/logging.js';

export { REDACT_PATHS } from '../config/logging.js';

export function gatewayLoggerOptions(level: string): LoggerOptions {
  return serviceLoggerOptions('gateway', level);
}
