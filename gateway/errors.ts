// Every error the gateway answers with: JSON `{ code, message }` from one factory, with stable codes. A code is
// never renamed or reused; docs/gateway.md lists them all and test/gateway/errors-docs.test.ts keeps the two in
// step. The engine's own rejection codes (docs/reject-codes.md) pass through unchanged with status 422, except
// the few in ENGINE_CODES_AS_GATEWAY, which become the gateway's code for the same answer: the engine's
// ORDER_NOT_FOUND is EX_ORDER_NOT_FOUND, so "not yours" and "does not exist" answer alike whichever side found it.

import { REJECT_CODES, REJECT_DESCRIPTIONS } from '../engine/core/index.js';
import type { RejectCode } from '../engine/core/index.js';

export const GATEWAY_ERRORS = {
  // request shape
  EX_BAD_REQUEST: { status: 400, message: "The request does not match the route's schema." },
  EX_BAD_JSON: { status: 400, message: 'The body is not valid JSON.' },
  EX_BODY_TOO_LARGE: { status: 413, message: 'The body exceeds the size limit.' },
  EX_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The body must be application/json.' },
  EX_NOT_FOUND: { status: 404, message: 'No such route.' },
  EX_METHOD_NOT_ALLOWED: { status: 405, message: 'The route does not take this method.' },
  // decimals: prices and quantities in market units
  EX_DECIMAL_INVALID: {
    status: 400,
    message: 'A price, quantity or amount is not a plain positive decimal string like "1850.25".',
  },
  EX_PRICE_TOO_PRECISE: { status: 400, message: "The price has more decimals than the market's tick size allows." },
  EX_QTY_TOO_PRECISE: { status: 400, message: "The quantity has more decimals than the market's lot size allows." },
  EX_AMOUNT_TOO_PRECISE: { status: 400, message: 'The amount has more decimals than the asset has.' },
  EX_VALUE_OVERFLOW: { status: 400, message: 'The value exceeds 2^256-1 base units.' },
  EX_MARKET_UNKNOWN: { status: 404, message: 'No market has this id.' },
  EX_ASSET_UNKNOWN: { status: 404, message: 'No asset has this symbol or id.' },
  // authentication and authorisation
  EX_UNAUTHENTICATED: { status: 401, message: 'This route needs a session token or a signed API-key request.' },
  EX_BAD_CREDENTIALS: { status: 401, message: 'Unknown username or wrong password.' },
  EX_SESSION_INVALID: { status: 401, message: 'The session token is unknown, revoked or expired.' },
  EX_API_KEY_INVALID: { status: 401, message: 'The API key is unknown or revoked.' },
  EX_SIGNATURE_INVALID: { status: 401, message: 'The request signature does not match.' },
  EX_TIMESTAMP_OUT_OF_WINDOW: {
    status: 401,
    message: 'The request timestamp is missing or outside the allowed window.',
  },
  EX_SIGNATURE_REPLAYED: { status: 401, message: 'This signature was already used.' },
  EX_SCOPE_MISSING: { status: 403, message: 'The API key lacks the scope this route needs.' },
  EX_SESSION_REQUIRED: { status: 403, message: 'API keys are managed with a session token, not with an API key.' },
  EX_CSRF_TOKEN_INVALID: {
    status: 403,
    message:
      'A request signed in by the session cookie that changes something needs the X-CSRF-Token header from GET /v1/auth/session.',
  },
  EX_USERNAME_TAKEN: { status: 409, message: 'This username is taken.' },
  EX_API_KEYS_MAX: { status: 409, message: 'The user has the maximum number of active API keys.' },
  EX_RATE_LIMITED: { status: 429, message: "Too many requests; retry after the Retry-After header's seconds." },
  EX_AUTH_THROTTLED: {
    status: 429,
    message: "Too many failed attempts; retry after the Retry-After header's seconds.",
  },
  EX_IP_NOT_ALLOWED: { status: 403, message: 'Requests from this address are not allowed with these credentials.' },
  EX_IP_ALLOW_LIST_INVALID: {
    status: 400,
    message: 'The IP allow-list holds 1 to 16 IPv4/IPv6 addresses or CIDR blocks.',
  },
  EX_SESSION_NOT_FOUND: { status: 404, message: 'No session of yours has this id.' },
  // two-factor authentication
  EX_OTP_REQUIRED: { status: 401, message: 'Two-factor authentication is on: send the current one-time code (otp).' },
  EX_OTP_INVALID: { status: 401, message: 'The one-time code is wrong, expired or already used.' },
  EX_TWO_FACTOR_ALREADY_ENABLED: { status: 409, message: 'Two-factor authentication is already on.' },
  EX_TWO_FACTOR_NOT_SET_UP: { status: 409, message: 'Start the set-up first: POST /v1/auth/2fa/setup.' },
  EX_TWO_FACTOR_NOT_ENABLED: { status: 409, message: 'Two-factor authentication is not on.' },
  // operators (the /v1/admin/ routes)
  EX_OPERATOR_REQUIRED: {
    status: 403,
    message: 'This route is for operators: log in with POST /v1/admin/auth/login and send the operator session token.',
  },
  EX_OPERATOR_ROLE_INSUFFICIENT: { status: 403, message: 'Your operator role does not allow this route.' },
  EX_USER_NOT_FOUND: { status: 404, message: 'No user has this id.' },
  EX_WITHDRAWAL_NOT_DECIDABLE: {
    status: 409,
    message: 'The withdrawal cannot take this decision: it needs no approval, was already decided, or is signed.',
  },
  EX_KILL_SWITCH_NOT_ENGAGED: { status: 409, message: 'The kill switch is not engaged.' },
  // resources
  EX_ORDER_NOT_FOUND: { status: 404, message: 'No order of yours has this id.' },
  EX_COMMAND_NOT_FOUND: { status: 404, message: 'No command of yours has this id (or its record expired).' },
  EX_WITHDRAWAL_NOT_FOUND: { status: 404, message: 'No withdrawal of yours has this id.' },
  EX_API_KEY_NOT_FOUND: { status: 404, message: 'No API key of yours has this id.' },
  EX_ADDRESS_INVALID: { status: 400, message: 'The address is not an EIP-55 checksummed Ethereum address.' },
  EX_INSUFFICIENT_BALANCE: { status: 422, message: 'The available balance does not cover the amount.' },
  // withdrawal controls
  EX_WITHDRAWALS_HALTED: { status: 503, message: 'Withdrawals are halted by the operator; nothing was requested.' },
  EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK: {
    status: 422,
    message: 'Withdrawals go only to addresses in your withdrawal address book (POST /v1/withdrawal-addresses).',
  },
  EX_WITHDRAWAL_ADDRESS_LOCKED: {
    status: 422,
    message: 'This address was added recently and is not usable yet (see usableAt).',
  },
  EX_WITHDRAWAL_ADDRESS_EXISTS: { status: 409, message: 'This address is already in your withdrawal address book.' },
  EX_WITHDRAWAL_ADDRESSES_MAX: { status: 409, message: 'Your withdrawal address book is full.' },
  EX_WITHDRAWAL_ADDRESS_NOT_FOUND: { status: 404, message: 'No withdrawal address of yours has this id.' },
  EX_WITHDRAWAL_LIMIT_EXCEEDED: {
    status: 422,
    message: 'The amount exceeds what is left of your rolling 24 h withdrawal limit for this asset (see remaining).',
  },
  // devnet faucet (only where the gateway runs on a devnet: gateway/routes/faucet.ts)
  EX_FAUCET_UNKNOWN_TOKEN: { status: 404, message: 'The devnet faucet has no token with this symbol.' },
  EX_FAUCET_AMOUNT_OUT_OF_RANGE: {
    status: 400,
    message: 'The faucet mints from one base unit up to its maximum per request (1,000,000 whole tokens).',
  },
  EX_FAUCET_BUSY: { status: 503, message: 'Too many faucet requests are waiting; retry shortly.' },
  // operating conditions
  EX_BUSY: { status: 503, message: 'Too many commands are waiting for the engine; retry shortly.' },
  EX_UNAVAILABLE: { status: 503, message: 'A service the gateway depends on is unavailable.' },
  EX_INTERNAL: { status: 500, message: 'Internal error.' },
} as const;

export type GatewayCode = keyof typeof GATEWAY_ERRORS;
export type ErrorCode = GatewayCode | RejectCode;

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly statusCode: number,
    /** Extra fields of the answer (e.g. the command id of an engine rejection). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The one factory: `gatewayError('EX_ORDER_NOT_FOUND')`, optionally with a more specific message. */
export function gatewayError(code: GatewayCode, message?: string, extra?: Record<string, unknown>): GatewayError {
  const def = GATEWAY_ERRORS[code];
  return new GatewayError(code, message ?? def.message, def.status, extra);
}

/**
 * Engine codes answered with a gateway code instead: the engine's ORDER_NOT_FOUND (cancel, amend) would otherwise
 * differ from the gateway's EX_ORDER_NOT_FOUND (reads), and the difference told which order ids exist.
 */
export const ENGINE_CODES_AS_GATEWAY: Partial<Record<RejectCode, GatewayCode>> = {
  ORDER_NOT_FOUND: 'EX_ORDER_NOT_FOUND',
};

/** HTTP statuses of engine codes other than 422: the venue controls' (a frozen account is forbidden to act). */
export const ENGINE_CODE_STATUS: Partial<Record<RejectCode, number>> = {
  MARKET_NOT_FOUND: 404,
  USER_FROZEN: 403,
};

/** An engine rejection as an HTTP error: the engine's own code and 422 (or its status above), or its gateway equivalent. */
export function engineRejection(code: RejectCode, extra: Record<string, unknown> = {}): GatewayError {
  const asGateway = ENGINE_CODES_AS_GATEWAY[code];
  if (asGateway !== undefined) return gatewayError(asGateway, undefined, extra);
  return new GatewayError(code, REJECT_DESCRIPTIONS[code], ENGINE_CODE_STATUS[code] ?? 422, extra);
}

export function isRejectCode(x: string): x is RejectCode {
  return Object.hasOwn(REJECT_CODES, x);
}
