// Binance's error answers: `{"code": <negative int>, "msg": "..."}`, and how every code of ours (the gateway's and
// the engine's, docs/gateway.md and docs/reject-codes.md) maps onto one of Binance's codes and messages. Binance
// clients decide by code and, for a few cases, by exact message: ccxt raises InsufficientFunds only for the message
// "Account has insufficient balance for requested action." and OrderImmediatelyFillable for "Order would
// immediately match and take."; a body naming LOT_SIZE or PRICE_FILTER is an InvalidOrder. Those texts are kept
// exactly as Binance writes them. Pure.

import { GatewayError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

/** The Binance codes this layer answers with (Binance's own numbers and names). */
export const BINANCE_CODES = {
  UNKNOWN: -1000,
  DISCONNECTED: -1001,
  TOO_MANY_REQUESTS: -1003,
  TIMEOUT: -1007,
  SERVER_BUSY: -1008,
  INVALID_MESSAGE: -1013,
  UNKNOWN_ORDER_COMPOSITION: -1014,
  TOO_MANY_ORDERS: -1015,
  UNSUPPORTED_OPERATION: -1020,
  INVALID_TIMESTAMP: -1021,
  INVALID_SIGNATURE: -1022,
  ILLEGAL_CHARS: -1100,
  TOO_MANY_PARAMETERS: -1101,
  MANDATORY_PARAM_EMPTY_OR_MALFORMED: -1102,
  UNKNOWN_PARAM: -1103,
  PARAM_NOT_REQUIRED: -1106,
  BAD_ASSET: -1108,
  BAD_PRECISION: -1111,
  INVALID_TIF: -1115,
  INVALID_ORDER_TYPE: -1116,
  INVALID_SIDE: -1117,
  BAD_INTERVAL: -1120,
  BAD_SYMBOL: -1121,
  INVALID_LISTEN_KEY: -1125,
  MORE_THAN_XX_HOURS: -1127,
  OPTIONAL_PARAMS_BAD_COMBO: -1128,
  INVALID_PARAMETER: -1130,
  BAD_RECV_WINDOW: -1131,
  NEW_ORDER_REJECTED: -2010,
  CANCEL_REJECTED: -2011,
  NO_SUCH_ORDER: -2013,
  BAD_API_KEY_FMT: -2014,
  REJECTED_MBX_KEY: -2015,
  CANCEL_REPLACE_PARTIALLY_FAILED: -2021,
  CANCEL_REPLACE_FAILED: -2022,
} as const;

export type BinanceCodeName = keyof typeof BINANCE_CODES;

/** Binance's messages that clients match exactly: never reworded. */
export const BINANCE_MESSAGES = {
  insufficientBalance: 'Account has insufficient balance for requested action.',
  wouldMatch: 'Order would immediately match and take.',
  stopWouldTrigger: 'Stop price would trigger immediately.',
  lotSize: 'Filter failure: LOT_SIZE',
  priceFilter: 'Filter failure: PRICE_FILTER',
  notional: 'Filter failure: NOTIONAL',
  unknownOrder: 'Unknown order sent.',
  noSuchOrder: 'Order does not exist.',
  invalidSymbol: 'Invalid symbol.',
  badApiKeyFormat: 'API-key format invalid.',
  rejectedKey: 'Invalid API-key, IP, or permissions for action.',
  invalidSignature: 'Signature for this request is not valid.',
  outsideRecvWindow: 'Timestamp for this request is outside of the recvWindow.',
  unsupported: 'This operation is not supported.',
  unsupportedCombination: 'Unsupported order combination.',
  timeout: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
  marketClosed: 'Market is closed.',
  accountDisabled: 'This action is disabled on this account.',
} as const;

export class BinanceError extends Error {
  override readonly name = 'BinanceError';
  constructor(
    readonly code: number,
    message: string,
    readonly statusCode: number,
    /** Extra fields of the answer (cancelReplace's `data`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { code: this.code, msg: this.message, ...this.extra };
  }
}

/** The one factory of this layer's errors: `binanceError('BAD_SYMBOL', 'Invalid symbol.')`. */
export function binanceError(
  name: BinanceCodeName,
  msg: string,
  statusCode = 400,
  extra?: Record<string, unknown>,
): BinanceError {
  return new BinanceError(BINANCE_CODES[name], msg, statusCode, extra);
}

type Mapped = readonly [BinanceCodeName, string, number?];

const M = BINANCE_MESSAGES;

/**
 * Every code of ours that can reach a Binance route, with Binance's code, message and (when not 400) status. Keyed by
 * string so codes the engine gains later map here before they exist; an unlisted engine code answers -2010 with its
 * own description and an unlisted gateway code -1000 (test/gateway/binance-errors.test.ts lists every code we have).
 */
export const CODE_MAP: Readonly<Record<string, Mapped>> = {
  // gateway: request shape
  EX_BAD_REQUEST: ['INVALID_PARAMETER', 'Invalid data sent for a parameter.'],
  EX_BAD_JSON: ['INVALID_PARAMETER', 'The body is not valid JSON.'],
  EX_BODY_TOO_LARGE: ['TOO_MANY_PARAMETERS', 'The body exceeds the size limit.', 413],
  EX_UNSUPPORTED_MEDIA_TYPE: [
    'INVALID_PARAMETER',
    'Send parameters in the query string or as application/x-www-form-urlencoded.',
    415,
  ],
  EX_NOT_FOUND: ['UNSUPPORTED_OPERATION', M.unsupported, 404],
  EX_METHOD_NOT_ALLOWED: ['UNSUPPORTED_OPERATION', M.unsupported, 405],
  EX_DECIMAL_INVALID: [
    'ILLEGAL_CHARS',
    'Illegal characters found in a parameter: decimals are plain strings like "1850.25".',
  ],
  EX_PRICE_TOO_PRECISE: ['INVALID_MESSAGE', M.priceFilter],
  EX_QTY_TOO_PRECISE: ['INVALID_MESSAGE', M.lotSize],
  EX_AMOUNT_TOO_PRECISE: ['BAD_PRECISION', 'Precision is over the maximum defined for this asset.'],
  EX_VALUE_OVERFLOW: ['INVALID_PARAMETER', 'A value exceeds 2^256-1 base units.'],
  EX_MARKET_UNKNOWN: ['BAD_SYMBOL', M.invalidSymbol],
  EX_ASSET_UNKNOWN: ['BAD_ASSET', 'Invalid asset.'],
  // gateway: authentication
  EX_UNAUTHENTICATED: ['BAD_API_KEY_FMT', M.badApiKeyFormat, 401],
  EX_BAD_CREDENTIALS: ['REJECTED_MBX_KEY', M.rejectedKey, 401],
  EX_SESSION_INVALID: ['REJECTED_MBX_KEY', M.rejectedKey, 401],
  EX_API_KEY_INVALID: ['REJECTED_MBX_KEY', M.rejectedKey, 401],
  EX_SIGNATURE_INVALID: ['INVALID_SIGNATURE', M.invalidSignature, 401],
  EX_TIMESTAMP_OUT_OF_WINDOW: ['INVALID_TIMESTAMP', M.outsideRecvWindow],
  EX_SIGNATURE_REPLAYED: [
    'INVALID_TIMESTAMP',
    'This signature was already used: sign the request again with a new timestamp.',
  ],
  EX_SCOPE_MISSING: ['REJECTED_MBX_KEY', M.rejectedKey, 403],
  EX_SESSION_REQUIRED: ['REJECTED_MBX_KEY', M.rejectedKey, 403],
  EX_IP_NOT_ALLOWED: ['REJECTED_MBX_KEY', M.rejectedKey, 403],
  EX_OTP_REQUIRED: ['REJECTED_MBX_KEY', M.rejectedKey, 403],
  EX_OTP_INVALID: ['REJECTED_MBX_KEY', M.rejectedKey, 403],
  EX_AUTH_THROTTLED: ['TOO_MANY_REQUESTS', 'Too many failed attempts; retry later.', 429],
  EX_RATE_LIMITED: [
    'TOO_MANY_REQUESTS',
    "Too many requests; current limit is exceeded. Please retry after the Retry-After header's seconds.",
    429,
  ],
  // gateway: resources
  EX_ORDER_NOT_FOUND: ['NO_SUCH_ORDER', M.noSuchOrder],
  EX_COMMAND_NOT_FOUND: ['NO_SUCH_ORDER', M.noSuchOrder],
  EX_WITHDRAWAL_NOT_FOUND: ['INVALID_PARAMETER', 'No withdrawal of yours has this id.'],
  EX_ADDRESS_INVALID: [
    'INVALID_PARAMETER',
    'Invalid data sent for a parameter: address must be an EIP-55 checksummed Ethereum address.',
  ],
  EX_INSUFFICIENT_BALANCE: ['NEW_ORDER_REJECTED', M.insufficientBalance],
  // gateway: withdrawal controls (docs/security.md)
  EX_WITHDRAWALS_HALTED: ['UNSUPPORTED_OPERATION', 'Withdrawals are suspended by the operator.', 503],
  EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK: ['INVALID_PARAMETER', 'The address is not in your withdrawal address book.'],
  EX_WITHDRAWAL_ADDRESS_LOCKED: ['INVALID_PARAMETER', 'The address was added recently and is not usable yet.'],
  EX_WITHDRAWAL_LIMIT_EXCEEDED: ['INVALID_PARAMETER', 'The amount exceeds your 24h withdrawal limit.'],
  // gateway: operating conditions
  EX_BUSY: [
    'SERVER_BUSY',
    'Server is currently overloaded with other requests. Please try again in a few minutes.',
    503,
  ],
  EX_UNAVAILABLE: ['DISCONNECTED', 'Internal error; unable to process your request. Please try again.', 503],
  EX_INTERNAL: ['UNKNOWN', 'An unknown error occurred while processing the request.', 500],

  // engine: order validation
  ORDER_MARKET_UNKNOWN: ['BAD_SYMBOL', M.invalidSymbol],
  ORDER_SIDE_INVALID: ['INVALID_SIDE', 'Invalid side.'],
  ORDER_TYPE_INVALID: ['INVALID_ORDER_TYPE', 'Invalid orderType.'],
  ORDER_TIF_INVALID: ['INVALID_TIF', 'Invalid timeInForce.'],
  ORDER_STP_INVALID: ['INVALID_PARAMETER', 'Invalid selfTradePreventionMode.'],
  ORDER_CLIENT_ID_INVALID: ['ILLEGAL_CHARS', "Illegal characters found in parameter 'newClientOrderId'."],
  ORDER_PRICE_MISSING: [
    'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
    "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
  ],
  ORDER_PRICE_NOT_POSITIVE: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_PRICE_OVERFLOW: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_PRICE_NOT_ON_TICK: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_PRICE_OUT_OF_RANGE: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_PRICE_NOT_ALLOWED: ['PARAM_NOT_REQUIRED', "Parameter 'price' sent when not required."],
  ORDER_QTY_MISSING: [
    'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
    "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
  ],
  ORDER_QTY_NOT_POSITIVE: ['INVALID_MESSAGE', M.lotSize],
  ORDER_QTY_OVERFLOW: ['INVALID_MESSAGE', M.lotSize],
  ORDER_QTY_NOT_ON_LOT: ['INVALID_MESSAGE', M.lotSize],
  ORDER_QTY_OUT_OF_RANGE: ['INVALID_MESSAGE', M.lotSize],
  ORDER_QTY_AND_QUOTE_QTY: [
    'OPTIONAL_PARAMS_BAD_COMBO',
    'Combination of optional parameters invalid: send quantity or quoteOrderQty, not both.',
  ],
  ORDER_QUOTE_QTY_NOT_ALLOWED: [
    'UNKNOWN_ORDER_COMPOSITION',
    `${M.unsupportedCombination} quoteOrderQty is for MARKET and STOP_LOSS buys only.`,
  ],
  ORDER_QUOTE_QTY_NOT_POSITIVE: ['INVALID_MESSAGE', M.notional],
  ORDER_QUOTE_QTY_OVERFLOW: ['INVALID_MESSAGE', M.notional],
  ORDER_STOP_PRICE_MISSING: [
    'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
    "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
  ],
  ORDER_STOP_PRICE_NOT_POSITIVE: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_STOP_PRICE_OVERFLOW: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_STOP_PRICE_NOT_ON_TICK: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_STOP_PRICE_OUT_OF_RANGE: ['INVALID_MESSAGE', M.priceFilter],
  ORDER_STOP_PRICE_NOT_ALLOWED: ['PARAM_NOT_REQUIRED', "Parameter 'stopPrice' sent when not required."],
  ORDER_STOP_WOULD_TRIGGER: ['NEW_ORDER_REJECTED', M.stopWouldTrigger],
  ORDER_STOP_MARKET_BUY_NEEDS_QUOTE_QTY: [
    'UNKNOWN_ORDER_COMPOSITION',
    `${M.unsupportedCombination} A STOP_LOSS buy gives quoteOrderQty, so its funds are held when placed.`,
  ],
  ORDER_NOTIONAL_TOO_SMALL: ['INVALID_MESSAGE', M.notional],
  ORDER_POST_ONLY_WOULD_TAKE: ['NEW_ORDER_REJECTED', M.wouldMatch],
  ORDER_POST_ONLY_NOT_GTC: ['UNKNOWN_ORDER_COMPOSITION', M.unsupportedCombination],
  ORDER_FOK_NOT_FILLABLE: ['NEW_ORDER_REJECTED', 'Order would not be filled completely (FOK); nothing was placed.'],
  // engine: risk
  RISK_INSUFFICIENT_FUNDS: ['NEW_ORDER_REJECTED', M.insufficientBalance],
  RISK_BALANCE_OVERFLOW: ['NEW_ORDER_REJECTED', 'The resulting balance would exceed 2^256-1 base units.'],
  // engine: cancel and amend
  ORDER_NOT_FOUND: ['CANCEL_REJECTED', M.unknownOrder],
  CANCEL_MARKET_UNKNOWN: ['BAD_SYMBOL', M.invalidSymbol],
  // engine: wallet
  WALLET_ASSET_UNKNOWN: ['BAD_ASSET', 'Invalid asset.'],
  WALLET_AMOUNT_NOT_POSITIVE: [
    'INVALID_PARAMETER',
    'Invalid data sent for a parameter: amount must be greater than zero.',
  ],
  WALLET_AMOUNT_OVERFLOW: [
    'INVALID_PARAMETER',
    'Invalid data sent for a parameter: amount exceeds 2^256-1 base units.',
  ],
  WITHDRAWAL_DESTINATION_INVALID: ['INVALID_PARAMETER', 'Invalid data sent for a parameter: address.'],
  // engine: capacity (Binance's MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS filters; venue-wide limits are a rate)
  CAPACITY_OPEN_ORDERS_PER_USER: ['NEW_ORDER_REJECTED', 'Filter failure: MAX_NUM_ORDERS'],
  CAPACITY_STOP_ORDERS_PER_USER: ['NEW_ORDER_REJECTED', 'Filter failure: MAX_NUM_ALGO_ORDERS'],
  CAPACITY_OPEN_ORDERS_TOTAL: [
    'TOO_MANY_ORDERS',
    'Too many new orders; the venue holds its maximum of open orders. Retry later.',
  ],
  CAPACITY_STOP_ORDERS_TOTAL: [
    'TOO_MANY_ORDERS',
    'Too many new orders; the venue holds its maximum of stop orders. Retry later.',
  ],
  CAPACITY_CLIENT_ORDER_IDS: [
    'TOO_MANY_ORDERS',
    'Too many new orders; current limit of client order ids per user within the dedup window is reached.',
  ],
  CAPACITY_USERS: ['NEW_ORDER_REJECTED', 'The venue holds its maximum of accounts.'],
  CAPACITY_PENDING_WITHDRAWALS: ['TOO_MANY_ORDERS', 'Too many pending withdrawals on the venue; retry later.'],
  // market status and frozen accounts (issue 14): Binance's own texts, which clients match
  MARKET_HALTED: ['INVALID_MESSAGE', M.marketClosed],
  MARKET_CANCEL_ONLY: ['INVALID_MESSAGE', M.marketClosed],
  USER_FROZEN: ['NEW_ORDER_REJECTED', M.accountDisabled],
  EX_USER_FROZEN: ['REJECTED_MBX_KEY', M.accountDisabled, 403],
};

/** Our error (a GatewayError, or a Fastify error already turned into one) as Binance's. */
export function toBinanceError(err: GatewayError): BinanceError {
  const mapped = CODE_MAP[err.code];
  if (mapped !== undefined) return binanceError(mapped[0], mapped[1], mapped[2] ?? 400);
  if (isEngineCode(err.code)) return binanceError('NEW_ORDER_REJECTED', err.message);
  return binanceError(
    'UNKNOWN',
    'An unknown error occurred while processing the request.',
    err.statusCode >= 500 ? err.statusCode : 400,
  );
}

/** Engine codes are upper snake case without the gateway's EX_ prefix. */
function isEngineCode(code: ErrorCode | string): boolean {
  return !code.startsWith('EX_');
}
