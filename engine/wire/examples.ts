// One example per command type and per event type, for the AsyncAPI document and the codec tests. The record
// types make the lists exhaustive: a command or event type added to engine/core without an example here does
// not compile. Figures follow one story: WETH (18 decimals) against USDC (6 decimals), 0.01 USDC ticks,
// 0.0001 WETH lots, user 7 buys 0.5 WETH at 2000 USDC from user 8.

import { COMMAND_VERSION } from '../core/commands.js';
import type { CommandType } from '../core/commands.js';
import { EVENT_VERSION } from '../core/events.js';
import type { EngineEvent, EventType } from '../core/events.js';
import type { CommandInput } from './codec.js';

export type CommandInputOf<K extends CommandType> = Extract<CommandInput, { type: K }>;
/** The event of one type; events sharing an interface (fills, closes) have a union `type` that Extract cannot split. */
export type EventOf<K extends EventType> = EngineEvent extends infer E ? (E extends { type: infer T } ? (K extends T ? Omit<E, 'type'> & { readonly type: K } : never) : never) : never;

const WETH = 0;
const USDC = 1;
const MARKET = 0;
const BUYER = 7;
const SELLER = 8;
const WEI_PER_LOT = 10n ** 14n;

export const COMMAND_EXAMPLES: { readonly [K in CommandType]: CommandInputOf<K> } = {
  addAsset: { v: COMMAND_VERSION, type: 'addAsset', id: 'admin-0001', assetId: WETH, symbol: 'WETH', decimals: 18 },
  addMarket: {
    v: COMMAND_VERSION, type: 'addMarket', id: 'admin-0003', marketId: MARKET, symbol: 'WETH-USDC', baseAssetId: WETH, quoteAssetId: USDC,
    tickSize: 10_000n, lotSize: WEI_PER_LOT, minNotional: 1_000_000n, makerFeeBps: 10, takerFeeBps: 20,
  },
  deposit: { v: COMMAND_VERSION, type: 'deposit', id: 'chain-dep-0x9f2c', userId: BUYER, assetId: USDC, amount: 5_000_000_000n, depositId: '0x9f2c41d7e8a3b6c5:12' },
  requestWithdrawal: {
    v: COMMAND_VERSION, type: 'requestWithdrawal', id: 'gw-5c1e', userId: SELLER, assetId: USDC, amount: 250_000_000n, withdrawalId: 'wd-000123',
    destination: '0x52908400098527886E0F7030069857D2E4169EE7',
  },
  completeWithdrawal: { v: COMMAND_VERSION, type: 'completeWithdrawal', id: 'chain-wd-000123', withdrawalId: 'wd-000123', txHash: '0x4e3a3754410177e6937ef1f84bba68ea139e8d1a2258c5f85db9f1cd715a1bdd' },
  failWithdrawal: { v: COMMAND_VERSION, type: 'failWithdrawal', id: 'chain-wd-000124', withdrawalId: 'wd-000124', reason: 'destination rejected the transfer' },
  placeOrder: {
    v: COMMAND_VERSION, type: 'placeOrder', id: 'gw-7f3a', userId: BUYER, marketId: MARKET, side: 'buy', orderType: 'limit',
    price: 2_000_000_000n, quantity: 5000n * WEI_PER_LOT, timeInForce: 'GTC', stp: 'expireTaker', clientOrderId: 'my-order-1',
  },
  cancelOrder: { v: COMMAND_VERSION, type: 'cancelOrder', id: 'gw-7f3b', userId: BUYER, clientOrderId: 'my-order-1' },
  cancelAll: { v: COMMAND_VERSION, type: 'cancelAll', id: 'gw-7f3c', userId: BUYER, marketId: MARKET },
  amendOrder: { v: COMMAND_VERSION, type: 'amendOrder', id: 'gw-7f3d', userId: BUYER, orderId: 41, quantity: 3000n * WEI_PER_LOT },
  setMarketStatus: { v: COMMAND_VERSION, type: 'setMarketStatus', id: 'ops-0042', marketId: MARKET, status: 'cancelOnly' },
  setUserFrozen: { v: COMMAND_VERSION, type: 'setUserFrozen', id: 'ops-0043', userId: SELLER, frozen: true },
};

const at = { v: EVENT_VERSION, cmdId: 'gw-7f3a', timeMs: 1767225600000 } as const;

export const EVENT_EXAMPLES: { readonly [K in EventType]: EventOf<K> } = {
  commandResult: { ...at, seq: 1012, type: 'commandResult', status: 'accepted', code: null, orderId: 42, duplicateOf: null },
  assetAdded: { ...at, cmdId: 'admin-0001', seq: 1, type: 'assetAdded', assetId: WETH, symbol: 'WETH', decimals: 18 },
  marketAdded: {
    ...at, cmdId: 'admin-0003', seq: 5, type: 'marketAdded', marketId: MARKET, symbol: 'WETH-USDC', baseAssetId: WETH, quoteAssetId: USDC,
    tickSize: 10_000n, lotSize: WEI_PER_LOT, minNotional: 1_000_000n, makerFeeBps: 10, takerFeeBps: 20,
  },
  orderAccepted: {
    ...at, seq: 1001, type: 'orderAccepted', orderId: 42, userId: BUYER, marketId: MARKET, side: 'buy', orderType: 'limit', timeInForce: 'GTC',
    postOnly: false, stp: 'expireTaker', priceTicks: 200_000, stopPriceTicks: 0, qtyLots: 5000, quoteQuantity: 0n, holdAssetId: USDC,
    held: 1_002_000_000n, clientOrderId: 'my-order-1',
  },
  orderRejected: { ...at, cmdId: 'gw-7f40', seq: 1020, type: 'orderRejected', userId: BUYER, marketId: MARKET, clientOrderId: null, code: 'RISK_INSUFFICIENT_FUNDS' },
  orderRested: { ...at, seq: 1005, type: 'orderRested', orderId: 42, marketId: MARKET, side: 'buy', priceTicks: 200_000, remainingLots: 2000 },
  orderTriggered: { ...at, cmdId: 'gw-7f41', seq: 1030, type: 'orderTriggered', orderId: 40, marketId: MARKET, lastPriceTicks: 200_000 },
  orderPartiallyFilled: {
    ...at, seq: 1004, type: 'orderPartiallyFilled', orderId: 42, userId: BUYER, tradeId: 311, fillLots: 3000, filledLots: 3000, remainingLots: 2000, released: 0n,
  },
  orderFilled: { ...at, seq: 1003, type: 'orderFilled', orderId: 39, userId: SELLER, tradeId: 311, fillLots: 3000, filledLots: 3000, remainingLots: 0, released: 0n },
  orderCanceled: {
    ...at, cmdId: 'gw-7f3b', seq: 1040, type: 'orderCanceled', orderId: 42, userId: BUYER, marketId: MARKET, reason: 'user', remainingLots: 2000,
    holdAssetId: USDC, released: 400_800_000n,
  },
  orderExpired: {
    ...at, cmdId: 'gw-7f42', seq: 1050, type: 'orderExpired', orderId: 43, userId: BUYER, marketId: MARKET, reason: 'ioc', remainingLots: 100,
    holdAssetId: USDC, released: 20_040_000n,
  },
  orderAmended: {
    ...at, cmdId: 'gw-7f3d', seq: 1060, type: 'orderAmended', orderId: 41, userId: BUYER, marketId: MARKET, priceTicks: 199_000, qtyLots: 3000,
    remainingLots: 3000, keptPriority: true, holdAssetId: USDC, held: 598_194_000n,
  },
  trade: {
    ...at, seq: 1002, type: 'trade', tradeId: 311, marketId: MARKET, priceTicks: 200_000, qtyLots: 3000, takerSide: 'buy', makerOrderId: 39,
    takerOrderId: 42, makerUserId: SELLER, takerUserId: BUYER, baseAmount: 3000n * WEI_PER_LOT, quoteAmount: 600_000_000n,
    makerFee: 600_000n, takerFee: 1_200_000n,
  },
  balanceChanged: { ...at, seq: 1010, type: 'balanceChanged', userId: BUYER, assetId: USDC, available: 3_998_000_000n, held: 400_800_000n, pending: 0n },
  depositCredited: { ...at, cmdId: 'chain-dep-0x9f2c', seq: 900, type: 'depositCredited', depositId: '0x9f2c41d7e8a3b6c5:12', userId: BUYER, assetId: USDC, amount: 5_000_000_000n },
  withdrawalPending: {
    ...at, cmdId: 'gw-5c1e', seq: 1100, type: 'withdrawalPending', withdrawalId: 'wd-000123', userId: SELLER, assetId: USDC, amount: 250_000_000n,
    destination: '0x52908400098527886E0F7030069857D2E4169EE7',
  },
  withdrawalCompleted: {
    ...at, cmdId: 'chain-wd-000123', seq: 1200, type: 'withdrawalCompleted', withdrawalId: 'wd-000123', userId: SELLER, assetId: USDC, amount: 250_000_000n,
    txHash: '0x4e3a3754410177e6937ef1f84bba68ea139e8d1a2258c5f85db9f1cd715a1bdd',
  },
  withdrawalFailed: {
    ...at, cmdId: 'chain-wd-000124', seq: 1201, type: 'withdrawalFailed', withdrawalId: 'wd-000124', userId: SELLER, assetId: USDC, amount: 100_000_000n,
    reason: 'destination rejected the transfer',
  },
  marketStatusChanged: { ...at, cmdId: 'ops-0042', seq: 1300, type: 'marketStatusChanged', marketId: MARKET, status: 'cancelOnly' },
  userFrozenChanged: { ...at, cmdId: 'ops-0043', seq: 1301, type: 'userFrozenChanged', userId: SELLER, frozen: true },
};

/** Events-topic record content: user 7's limit buy, filled in part against user 8 and resting the rest (one balance event shown). */
export const EVENT_RECORD_EXAMPLE: readonly EngineEvent[] = Object.values(EVENT_EXAMPLES)
  .filter((e) => e.cmdId === at.cmdId)
  .sort((a, b) => a.seq - b.seq)
  .map((e, i) => ({ ...e, seq: 1001 + i }) as EngineEvent);
