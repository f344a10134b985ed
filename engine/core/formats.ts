// The domain's closed lists and text rules, stated once. The core checks commands against them; the wire schemas,
// the gateway's HTTP schemas, the chain service and the codec build their enums and patterns from these, so a
// value the engine accepts is one every edge accepts too.

export const SIDES = ['buy', 'sell'] as const;
export const ORDER_TYPES = ['limit', 'market', 'stopLimit', 'stopMarket'] as const;
export const TIME_IN_FORCES = ['GTC', 'IOC', 'FOK'] as const;
/** Self-trade prevention modes; the incoming (taker) order's mode decides. */
export const STP_MODES = ['none', 'expireTaker', 'expireMaker', 'expireBoth', 'decrementAndCancel'] as const;
/** Why an order closed before it filled (orderCanceled / orderExpired `reason`). */
export const CLOSE_REASONS = ['user', 'cancelAll', 'ioc', 'noLiquidity', 'funds', 'stp', 'amend'] as const;

/** The characters of every id the engine takes (command, client order, deposit, withdrawal): printable ASCII, no space. */
export const ID_CHARS = '[\\x21-\\x7e]';
export const COMMAND_ID_MAX_LENGTH = 128;
export const CLIENT_ORDER_ID_MAX_LENGTH = 64;
/** Deposit and withdrawal ids and a withdrawal's destination: ids of other systems, carried as they are. */
export const EXTERNAL_ID_MAX_LENGTH = 128;

/** 1..maxLen of ID_CHARS. A loop: every command's id goes through here, and it runs faster than the regular expression it replaced. */
export function isPrintableId(x: unknown, maxLen: number): x is string {
  if (typeof x !== 'string' || x.length < 1 || x.length > maxLen) return false;
  for (let i = 0; i < x.length; i++) {
    const c = x.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** A JSON-schema pattern for an id of at most `maxLength` id characters (and at least `minLength`). */
export function idPattern(maxLength: number, minLength = 1): string {
  return `^${ID_CHARS}{${minLength},${maxLength}}$`;
}

/** An asset symbol, unanchored so an edge can offer alternatives (the gateway also takes an asset id). */
export const ASSET_SYMBOL = '[A-Z0-9._]{1,16}';
export const ASSET_SYMBOL_PATTERN = `^${ASSET_SYMBOL}$`;
export const MARKET_SYMBOL = '[A-Z0-9._-]{3,33}';
export const MARKET_SYMBOL_PATTERN = `^${MARKET_SYMBOL}$`;
