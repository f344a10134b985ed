// Binance's request signing with our API keys: `signature = hex(HMAC-SHA256(secret, totalParams))`, where
// totalParams is the query string followed by the body, exactly as received, without the `signature` parameter
// (Binance's own rule; ccxt signs POST parameters in a form body, other clients in the query string). The key is in
// the X-MBX-APIKEY header. A request is accepted when `timestamp` is at most `recvWindow` ms old (default 5000, at
// most 60000) and at most 1000 ms ahead of the gateway's clock. The WebSocket API signs its key-sorted params
// instead. Pure: the caller supplies the clock; AuthService.keyPrincipal does the key lookup and replay check.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { binanceError } from './errors.js';

export const RECV_WINDOW_DEFAULT_MS = 5000;
export const RECV_WINDOW_MAX_MS = 60_000;
/** How far ahead of the gateway's clock a timestamp may be. */
export const TIMESTAMP_AHEAD_MAX_MS = 1000;

export interface SignedRequest {
  /** What the signature covers. */
  readonly payload: string;
  readonly signature: string;
  readonly timestampMs: number;
  readonly recvWindowMs: number;
}

/** `part` without its `signature=` parameter, and that parameter's value (null when absent). */
function withoutSignature(part: string): { rest: string; signature: string | null } {
  if (part === '') return { rest: '', signature: null };
  let signature: string | null = null;
  const kept: string[] = [];
  for (const piece of part.split('&')) {
    if (piece.startsWith('signature=')) signature = decodeURIComponent(piece.slice('signature='.length));
    else kept.push(piece);
  }
  return { rest: kept.join('&'), signature };
}

/** Reads the signature, timestamp and recvWindow of a REST request (query and body as received). */
export function readSigned(rawQuery: string, rawBody: string, params: ReadonlyMap<string, string>): SignedRequest {
  const q = withoutSignature(rawQuery);
  const b = withoutSignature(rawBody);
  const signature = q.signature ?? b.signature;
  if (signature === null || signature === '')
    throw binanceError(
      'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
      "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    );
  return { payload: q.rest + b.rest, signature, ...timing(params) };
}

/** timestamp and recvWindow, checked for form (not yet against the clock). */
export function timing(params: ReadonlyMap<string, string>): { timestampMs: number; recvWindowMs: number } {
  const ts = params.get('timestamp');
  if (ts === undefined || !/^[0-9]{1,16}$/.test(ts))
    throw binanceError(
      'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
      "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    );
  const rw = params.get('recvWindow');
  let recvWindowMs = RECV_WINDOW_DEFAULT_MS;
  if (rw !== undefined) {
    // Binance allows fractions of a millisecond (microsecond precision); the window is whole ms here.
    if (!/^[0-9]{1,9}(\.[0-9]{1,3})?$/.test(rw))
      throw binanceError('INVALID_PARAMETER', "Invalid data sent for parameter 'recvWindow'.");
    recvWindowMs = Number(rw);
    if (recvWindowMs > RECV_WINDOW_MAX_MS)
      throw binanceError('BAD_RECV_WINDOW', `recvWindow must be less than ${RECV_WINDOW_MAX_MS}`);
  }
  return { timestampMs: Number(ts), recvWindowMs };
}

/** Binance's rule: not older than recvWindow, not more than 1 s ahead. */
export function timestampAccepted(s: { timestampMs: number; recvWindowMs: number }, nowMs: number): boolean {
  return s.timestampMs < nowMs + TIMESTAMP_AHEAD_MAX_MS && nowMs - s.timestampMs <= s.recvWindowMs;
}

/** A signature stays remembered while its timestamp could still be accepted. */
export const replayTtlMs = (s: { recvWindowMs: number }): number => Math.ceil(s.recvWindowMs) + TIMESTAMP_AHEAD_MAX_MS;

export function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

export function signatureMatches(secret: string, payload: string, signature: string): boolean {
  if (!HEX_SIGNATURE.test(signature)) return false;
  return timingSafeEqual(Buffer.from(hmacHex(secret, payload), 'hex'), Buffer.from(signature, 'hex'));
}

/**
 * The WebSocket API's payload: every param but `signature`, sorted by name, as `name=value` joined by `&`, values as
 * they are (ccxt's rawencode; the params are an API key, a timestamp and a window, which need no encoding).
 */
export function wsPayload(params: Readonly<Record<string, unknown>>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}
