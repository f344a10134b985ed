// Request signing for API keys: HMAC-SHA256 with the key's secret over
//
//   timestamp "\n" METHOD "\n" path "\n" query "\n" hex(sha256(body))
//
// where path and query are exactly as sent on the request line (query without the "?", empty when none) and body
// is the raw bytes (empty when none). Headers: X-API-Key, X-Timestamp (Unix ms), X-Signature (lower-case hex).
// Pure: the caller supplies the clock and the replay check.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedParts {
  readonly timestampMs: string;
  readonly method: string;
  /** The request target as sent: "/v1/orders?marketId=1". */
  readonly url: string;
  readonly body: string | Buffer;
}

export function canonicalString(p: SignedParts): string {
  const q = p.url.indexOf('?');
  const path = q < 0 ? p.url : p.url.slice(0, q);
  const query = q < 0 ? '' : p.url.slice(q + 1);
  const bodyHash = createHash('sha256').update(p.body).digest('hex');
  return `${p.timestampMs}\n${p.method.toUpperCase()}\n${path}\n${query}\n${bodyHash}`;
}

export function sign(secret: string, p: SignedParts): string {
  return createHmac('sha256', secret).update(canonicalString(p)).digest('hex');
}

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^[0-9]{1,16}$/;

export function signatureMatches(secret: string, p: SignedParts, signature: string): boolean {
  if (!HEX_SIGNATURE.test(signature)) return false;
  return timingSafeEqual(Buffer.from(sign(secret, p), 'hex'), Buffer.from(signature, 'hex'));
}

/** Is the timestamp a Unix-ms integer within `windowMs` of `nowMs`, either way? */
export function timestampInWindow(timestampMs: string, nowMs: number, windowMs: number): boolean {
  if (!TIMESTAMP.test(timestampMs)) return false;
  return Math.abs(Number(timestampMs) - nowMs) <= windowMs;
}
