// Binance request parameters: the query string and an application/x-www-form-urlencoded body, merged (a name sent
// twice is refused, as Binance does), read with typed getters that refuse bad values with Binance's codes. Pure.

import { binanceError } from './errors.js';

/** Parameters of one request: names to values, decoded. */
export type Params = ReadonlyMap<string, string>;

/** The latest time a Date holds (ms): times beyond it are refused, not turned into invalid dates. */
export const TIME_MS_MAX = 8_640_000_000_000_000;

/** Bounds every Binance request: more parameters than this are refused (-1101). */
export const PARAMS_MAX = 64;

export function parseParams(rawQuery: string, rawBody: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of [rawQuery, rawBody]) {
    if (raw === '') continue;
    for (const [name, value] of new URLSearchParams(raw)) {
      if (out.has(name)) throw binanceError('TOO_MANY_PARAMETERS', 'Duplicate values for a parameter detected.');
      out.set(name, value);
      if (out.size > PARAMS_MAX)
        throw binanceError('TOO_MANY_PARAMETERS', `Too many parameters; at most ${PARAMS_MAX}.`);
    }
  }
  return out;
}

/** The query string of a request target ("/api/v3/order?a=1" -> "a=1"). */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

const missing = (name: string) =>
  binanceError(
    'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
const invalid = (name: string, why: string) =>
  binanceError('INVALID_PARAMETER', `Invalid data sent for parameter '${name}': ${why}.`);

export function optional(p: Params, name: string): string | undefined {
  const v = p.get(name);
  return v === undefined || v === '' ? undefined : v;
}

export function required(p: Params, name: string): string {
  const v = optional(p, name);
  if (v === undefined) throw missing(name);
  return v;
}

export function oneOf<T extends string>(
  p: Params,
  name: string,
  allowed: readonly T[],
  onBad: () => Error = () => invalid(name, `one of ${allowed.join(', ')}`),
): T | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw onBad();
  return v as T;
}

/** A non-negative integer parameter within [min, max]. */
export function integer(p: Params, name: string, min: number, max: number): number | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(v)) throw invalid(name, 'an integer');
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(name, `an integer from ${min} to ${max}`);
  return n;
}

/** Binance's JSON array of symbols: symbols=["BTCUSDT","ETHUSDT"] (at most `max`). */
export function symbolList(p: Params, name: string, max: number): string[] | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(v);
  } catch {
    throw invalid(name, 'a JSON array of symbols');
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > max || !list.every((s) => typeof s === 'string'))
    throw invalid(name, `a JSON array of 1 to ${max} symbols`);
  return list as string[];
}

/** A decimal as Binance clients send it ("0.10000000"); a sign, exponent or other characters are illegal. */
export function decimal(p: Params, name: string): string | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,80}(\.[0-9]{1,80})?$/.test(v))
    throw binanceError(
      'ILLEGAL_CHARS',
      `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
    );
  return canonicalDecimal(v);
}

/** "000.5000" -> "0.5": the gateway's decimal form (no leading zeros; trailing zeros are harmless). */
export function canonicalDecimal(text: string): string {
  const [whole, fraction] = text.split('.');
  const w = whole.replace(/^0+(?=[0-9])/, '');
  const f = fraction?.replace(/0+$/, '') ?? '';
  return f === '' ? w : `${w}.${f}`;
}

/** Binance's client order ids (ccxt's own are 32 characters with an x- prefix). */
export const CLIENT_ORDER_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export function clientOrderId(p: Params, name: string): string | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!CLIENT_ORDER_ID.test(v))
    throw binanceError(
      'ILLEGAL_CHARS',
      `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`,
    );
  return v;
}
