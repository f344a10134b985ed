// What a trading client does to sign a request (docs/gateway.md), written from the documentation's side.

import { sign } from '../gateway/auth/signing.js';

export function signRequest(
  key: { keyId: string; secret: string },
  req: { method: string; url: string; body: string; timestampMs: number },
): Record<string, string> {
  const timestampMs = String(req.timestampMs);
  const headers: Record<string, string> = {
    'x-api-key': key.keyId,
    'x-timestamp': timestampMs,
    'x-signature': sign(key.secret, { timestampMs, method: req.method, url: req.url, body: req.body }),
  };
  if (req.body !== '') headers['content-type'] = 'application/json';
  return headers;
}
