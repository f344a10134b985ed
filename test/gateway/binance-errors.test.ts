// Every code of ours that a Binance route can answer with is mapped to a Binance code and message, and ccxt's own
// binance class (its handleErrors, as it runs on a reply from a custom host) raises the exception class a client
// expects for it. Also: every gateway and engine code has a mapping, so a new code cannot slip through unmapped.

import t from 'tap';
import ccxt from 'ccxt';
import { REJECT_CODES } from '../../engine/core/codes.js';
import { GATEWAY_ERRORS, GatewayError } from '../../gateway/errors.js';
import { CODE_MAP, toBinanceError } from '../../gateway/binance/errors.js';

const ex = new ccxt.binance();
const url = 'http://127.0.0.1:8080/api/v3/order';

/** The exception ccxt raises for our answer to `code`. */
function ccxtClassFor(code: string): string {
  const e = toBinanceError(new GatewayError(code as never, 'ours', 400));
  const body = JSON.stringify(e.body());
  try {
    ex.handleErrors(e.statusCode, '', url, 'POST', {}, body, JSON.parse(body), {}, '');
  } catch (err) {
    return (err as Error).constructor.name;
  }
  return 'none';
}

const EXPECTED: Record<string, string> = {
  RISK_INSUFFICIENT_FUNDS: 'InsufficientFunds',
  EX_INSUFFICIENT_BALANCE: 'InsufficientFunds',
  ORDER_POST_ONLY_WOULD_TAKE: 'OrderImmediatelyFillable',
  ORDER_STOP_WOULD_TRIGGER: 'OrderImmediatelyFillable',
  ORDER_QTY_NOT_ON_LOT: 'InvalidOrder',
  ORDER_PRICE_NOT_ON_TICK: 'InvalidOrder',
  EX_QTY_TOO_PRECISE: 'InvalidOrder',
  EX_PRICE_TOO_PRECISE: 'InvalidOrder',
  ORDER_FOK_NOT_FILLABLE: 'InvalidOrder',
  ORDER_QUOTE_QTY_NOT_ALLOWED: 'InvalidOrder',
  CAPACITY_OPEN_ORDERS_PER_USER: 'InvalidOrder',
  ORDER_NOT_FOUND: 'OrderNotFound',
  EX_ORDER_NOT_FOUND: 'OrderNotFound',
  EX_MARKET_UNKNOWN: 'BadSymbol',
  ORDER_MARKET_UNKNOWN: 'BadSymbol',
  EX_API_KEY_INVALID: 'AuthenticationError',
  EX_SIGNATURE_INVALID: 'AuthenticationError',
  EX_UNAUTHENTICATED: 'AuthenticationError',
  EX_SCOPE_MISSING: 'AuthenticationError',
  EX_IP_NOT_ALLOWED: 'AuthenticationError',
  EX_TIMESTAMP_OUT_OF_WINDOW: 'InvalidNonce',
  EX_SIGNATURE_REPLAYED: 'InvalidNonce',
  CAPACITY_CLIENT_ORDER_IDS: 'RateLimitExceeded',
  CAPACITY_OPEN_ORDERS_TOTAL: 'RateLimitExceeded',
  // A 429 is checked by status before the body: ccxt raises DDoSProtection, RateLimitExceeded's sibling.
  EX_RATE_LIMITED: 'DDoSProtection',
  EX_DECIMAL_INVALID: 'BadRequest',
  MARKET_HALTED: 'MarketClosed',
  MARKET_CANCEL_ONLY: 'MarketClosed',
  USER_FROZEN: 'AccountSuspended',
};

t.test("each mapped code raises ccxt's expected class", async (t) => {
  for (const [code, cls] of Object.entries(EXPECTED)) t.equal(ccxtClassFor(code), cls, code);
});

t.test('every gateway code and every engine code an API user can meet is mapped', async (t) => {
  // Codes of session-only routes (accounts, keys, two-factor, sessions, the address book, cookie CSRF), the operator API and the devnet faucet never reach a Binance route.
  const sessionOnly =
    /^EX_(FAUCET_|CSRF_|USERNAME_TAKEN|API_KEYS_MAX|API_KEY_NOT_FOUND|IP_ALLOW_LIST_INVALID|SESSION_NOT_FOUND|TWO_FACTOR_|WITHDRAWAL_ADDRESS_(EXISTS|NOT_FOUND)|WITHDRAWAL_ADDRESSES_MAX|OPERATOR_|USER_NOT_FOUND|WITHDRAWAL_NOT_DECIDABLE|KILL_SWITCH_)/;
  for (const code of Object.keys(GATEWAY_ERRORS)) if (!sessionOnly.test(code)) t.ok(CODE_MAP[code], code);
  const adminOnly =
    /^(COMMAND_|ASSET_|MARKET_(ID|ALREADY|SYMBOL|ASSET|SAME|TICK|LOT|UNITS|MIN|FEE)|ORDER_USER_INVALID|WALLET_USER_INVALID|DEPOSIT_|WITHDRAWAL_(ID|NOT_FOUND)|CAPACITY_(ASSETS|MARKETS|DEPOSIT_IDS|COMMAND_IDS)|AMEND_|MARKET_NOT_FOUND|MARKET_STATUS_INVALID|USER_ID_INVALID)/;
  for (const code of Object.keys(REJECT_CODES)) if (!adminOnly.test(code)) t.ok(CODE_MAP[code], code);
});

t.test('an unmapped engine code still answers as a rejected order, an unmapped gateway code as unknown', async (t) => {
  t.equal(toBinanceError(new GatewayError('SOME_NEW_CODE' as never, 'why', 422)).code, -2010);
  t.equal(toBinanceError(new GatewayError('EX_SOMETHING_NEW' as never, 'why', 500)).code, -1000);
});
