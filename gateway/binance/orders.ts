// Binance's order parameters as our placeOrder command, and the commands of the order routes sent through the
// gateway's command bus (routes/commands.ts's send: the same path as POST /v1/orders). Binance types map onto ours:
// LIMIT (GTC/IOC/FOK), LIMIT_MAKER (post-only), MARKET (quantity, or quoteOrderQty for buys), STOP_LOSS (stop-market:
// a sell by quantity, a buy by quoteOrderQty), STOP_LOSS_LIMIT (stop-limit, GTC/IOC). TAKE_PROFIT(_LIMIT) triggers the
// other way round from our stops, and icebergs, trailing stops and pegged orders do not exist here: those are refused
// with -1014 before anything is sent.

import type { CommandInput } from '../../engine/wire/codec.js';
import type { EngineEvent, OrderClosed } from '../../engine/core/index.js';
import { COMMAND_VERSION, TIME_IN_FORCES } from '../../engine/core/index.js';
import { newCommandId, send } from '../routes/commands.js';
import type { Sent } from '../routes/commands.js';
import type { MarketInfo } from '../units.js';
import { amountToUnits, priceToUnits, qtyToUnits } from '../units.js';
import type { BinanceContext } from './context.js';
import { binanceError, BINANCE_MESSAGES } from './errors.js';
import { clientOrderId, decimal, oneOf, optional, required } from './params.js';
import type { Params } from './params.js';
import { BINANCE_ORDER_TYPES, STP_MODES, UNSUPPORTED_ORDER_TYPES } from './views.js';
import type { BinanceOrderType, BinanceStp } from './views.js';

export type RespType = 'ACK' | 'RESULT' | 'FULL';

export interface Placement {
  readonly cmd: Extract<CommandInput, { type: 'placeOrder' }>;
  readonly respType: RespType;
}

/** Parameters Binance has for features we do not: any of them set (non-zero) refuses the order. */
const UNSUPPORTED_PARAMS = ['icebergQty', 'trailingDelta', 'pegPriceType', 'pegOffsetValue', 'pegOffsetType'];

const needs = (name: string) => () =>
  binanceError(
    'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
const notRequired = (name: string) => binanceError('PARAM_NOT_REQUIRED', `Parameter '${name}' sent when not required.`);

function orderType(p: Params): BinanceOrderType {
  const type = required(p, 'type');
  if ((UNSUPPORTED_ORDER_TYPES as readonly string[]).includes(type))
    throw binanceError(
      'UNKNOWN_ORDER_COMPOSITION',
      `${BINANCE_MESSAGES.unsupportedCombination} ${type} orders are not supported here.`,
    );
  if (!(BINANCE_ORDER_TYPES as readonly string[]).includes(type))
    throw binanceError('INVALID_ORDER_TYPE', 'Invalid orderType.');
  return type as BinanceOrderType;
}

/** The placeOrder command for Binance's order parameters (prices and quantities exact, in market units). */
export function placement(p: Params, m: MarketInfo, userId: number): Placement {
  for (const name of UNSUPPORTED_PARAMS) {
    const v = optional(p, name);
    if (v !== undefined && !/^0*(\.0*)?$/.test(v))
      throw binanceError(
        'UNKNOWN_ORDER_COMPOSITION',
        `${BINANCE_MESSAGES.unsupportedCombination} ${name} is not supported here.`,
      );
  }
  const side =
    oneOf(p, 'side', ['BUY', 'SELL'], () => binanceError('INVALID_SIDE', 'Invalid side.')) ??
    (() => {
      throw needs('side')();
    })();
  const type = orderType(p);
  const tif = oneOf(p, 'timeInForce', TIME_IN_FORCES, () => binanceError('INVALID_TIF', 'Invalid timeInForce.'));
  const price = decimal(p, 'price');
  const stopPrice = decimal(p, 'stopPrice');
  const quantity = decimal(p, 'quantity');
  const quoteQty = decimal(p, 'quoteOrderQty');
  const stp = oneOf(p, 'selfTradePreventionMode', Object.keys(STP_MODES) as BinanceStp[]);
  const coid = clientOrderId(p, 'newClientOrderId');
  const limitLike = type === 'LIMIT' || type === 'LIMIT_MAKER' || type === 'STOP_LOSS_LIMIT';
  const stopLike = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
  if (limitLike && price === undefined) throw needs('price')();
  if (!limitLike && price !== undefined) throw notRequired('price');
  if (stopLike && stopPrice === undefined) throw needs('stopPrice')();
  if (!stopLike && stopPrice !== undefined) throw notRequired('stopPrice');
  if ((type === 'LIMIT' || type === 'STOP_LOSS_LIMIT') && tif === undefined) throw needs('timeInForce')();
  if (
    !(type === 'LIMIT' || type === 'STOP_LOSS_LIMIT') &&
    tif !== undefined &&
    !(type === 'LIMIT_MAKER' && tif === 'GTC')
  )
    throw binanceError('PARAM_NOT_REQUIRED', "Parameter 'timeInForce' sent when not required.");
  if (quantity === undefined && quoteQty === undefined) throw needs('quantity')();
  if (quoteQty !== undefined && type !== 'MARKET' && type !== 'STOP_LOSS') throw notRequired('quoteOrderQty');
  const ourType =
    type === 'MARKET'
      ? 'market'
      : type === 'STOP_LOSS'
        ? 'stopMarket'
        : type === 'STOP_LOSS_LIMIT'
          ? 'stopLimit'
          : 'limit';
  const cmd: Placement['cmd'] = {
    v: COMMAND_VERSION,
    type: 'placeOrder',
    id: newCommandId(),
    userId,
    marketId: m.marketId,
    side: side === 'BUY' ? 'buy' : 'sell',
    orderType: ourType,
    ...(price !== undefined ? { price: priceToUnits(price, m) } : {}),
    ...(stopPrice !== undefined ? { stopPrice: priceToUnits(stopPrice, m, 'stopPrice') } : {}),
    ...(quantity !== undefined ? { quantity: qtyToUnits(quantity, m) } : {}),
    ...(quoteQty !== undefined ? { quoteQuantity: amountToUnits(quoteQty, m.quoteDecimals, 'quoteOrderQty') } : {}),
    ...(type === 'LIMIT' || type === 'STOP_LOSS_LIMIT' ? { timeInForce: tif } : {}),
    ...(type === 'LIMIT_MAKER' ? { postOnly: true } : {}),
    ...(stp !== undefined ? { stp: STP_MODES[stp] } : {}),
    ...(coid !== undefined ? { clientOrderId: coid } : {}),
  };
  // Binance: LIMIT and MARKET answer FULL by default, the other types ACK.
  const respType =
    oneOf(p, 'newOrderRespType', ['ACK', 'RESULT', 'FULL'] as RespType[]) ??
    (type === 'LIMIT' || type === 'MARKET' ? 'FULL' : 'ACK');
  return { cmd, respType };
}

/** Sends a command for a Binance route: an answer that did not come in time is Binance's -1007 (status unknown). */
export async function sendFor(
  b: BinanceContext,
  cmd: CommandInput & { userId: number },
): Promise<Extract<Sent, { status: 'accepted' }>> {
  const sent = await send(b.ctx, cmd, { userId: cmd.userId });
  if (sent.status === 'unknown') throw binanceError('TIMEOUT', BINANCE_MESSAGES.timeout, 503);
  // Reads by this user from now on wait until persistence has stored this command's events.
  b.userSeqs.note(cmd.userId, sent.result.seq);
  return sent;
}

/** Orders a cancel or cancel-all closed, in the order the engine closed them. */
export function canceledOrders(events: readonly EngineEvent[]): OrderClosed[] {
  return events.filter((e): e is OrderClosed => e.type === 'orderCanceled');
}
