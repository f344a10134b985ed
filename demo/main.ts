// `npm run demo`: a scripted walkthrough against the RUNNING exchange (`npm start` in another terminal), over its
// public API only. Two users register, get deposit addresses, receive devnet tokens from the faucet, see the
// deposits credited after the chain's confirmations, trade on TKA-USDT with crossing limit and market orders, and
// one withdraws to an outside address whose on-chain balance is then read from the devnet. Every step is checked
// exactly (balances to the base unit, after fees); the first that does not hold stops the demo with exit code 1.
//
//   npm run demo [-- API_URL [RPC_URL]]    or EXCHANGE_URL / DEVNET_RPC_URL
// API_URL is what `npm start` prints after "API:" (default http://127.0.0.1:8080/v1), RPC_URL its "devnet RPC:"
// (default http://127.0.0.1:8545). It registers new users each run, so it can run again and again.

import { randomBytes } from 'node:crypto';
import { Contract, JsonRpcProvider, Wallet, formatUnits as ethersFormatUnits, id as topicOf, parseUnits } from 'ethers';
import type { Balances } from './client.js';
import { Api, DemoFailure, balances, check, say, step, waitFor } from './client.js';
import { placeOrder } from './orders.js';

const MARKET = 'TKA-USDT';
/** Deposits need the chain's confirmations (a block a second on the devnet) and the chain service's poll. */
const DEPOSIT_TIMEOUT_MS = 120_000;
/** Persistence follows the engine within moments; a loaded machine gets room. */
const SETTLE_TIMEOUT_MS = 60_000;
/** A withdrawal is signed, mined and confirmed, then reported to the engine. */
const WITHDRAWAL_TIMEOUT_MS = 180_000;
const API_TIMEOUT_MS = 30_000;
const ERC20_ABI = [
  'function balanceOf(address) view returns (uint256)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
];
const TRANSFER_TOPIC = topicOf('Transfer(address,address,uint256)');
/** "10" rather than ethers' "10.0": the way the API writes amounts. */
const formatUnits = (amount: bigint, decimals: number): string =>
  ethersFormatUnits(amount, decimals).replace(/\.0$/, '');

interface Market {
  marketId: number;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  baseDecimals: number;
  quoteDecimals: number;
  makerFeeBps: number;
  takerFeeBps: number;
}
interface User {
  name: string;
  api: Api;
  userId: number;
  depositAddress: string;
}

function readSettings(argv: readonly string[], env: NodeJS.ProcessEnv): { apiUrl: string; rpcUrl: string } {
  const apiUrl = (argv[0] ?? env.EXCHANGE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '').replace(/\/v1$/, '');
  const rpcUrl = argv[1] ?? env.DEVNET_RPC_URL ?? 'http://127.0.0.1:8545';
  for (const [name, url] of [
    ['API_URL', apiUrl],
    ['RPC_URL', rpcUrl],
  ]) {
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new DemoFailure(`${name} must be an http(s) URL, got "${url}"`);
  }
  return { apiUrl, rpcUrl };
}

async function connect(apiUrl: string): Promise<{ api: Api; market: Market; decimals: Map<string, number> }> {
  step(0, `The exchange at ${apiUrl}`);
  const api = new Api(apiUrl);
  await waitFor(
    `${apiUrl}/health (is npm start running?)`,
    async () => api.get('/health').catch(() => null),
    API_TIMEOUT_MS,
  );
  // Market data is ready once the gateway has read the engine's listing.
  const { markets } = await waitFor(
    'the market list',
    async () => api.get<{ markets: Market[] }>('/v1/markets').catch(() => null),
    API_TIMEOUT_MS,
  );
  const { assets } = await api.get<{ assets: { symbol: string; decimals: number }[] }>('/v1/assets');
  const market = markets.find((m) => m.symbol === MARKET);
  check(market !== undefined, `the market ${MARKET} is listed (markets: ${markets.map((m) => m.symbol).join(', ')})`);
  say(`  ${MARKET}: maker fee ${market!.makerFeeBps} bps, taker fee ${market!.takerFeeBps} bps`);
  return { api, market: market!, decimals: new Map(assets.map((a) => [a.symbol, a.decimals])) };
}

async function registerUser(api: Api, name: string): Promise<User> {
  const username = `${name}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const reg = await api.post<{ userId: number }>('/v1/auth/register', { username, password }, 201);
  const { token } = await api.post<{ token: string }>('/v1/auth/login', { username, password }, 200);
  const authed = api.as(token);
  const { address } = await authed.get<{ address: string }>('/v1/deposit-address');
  say(`  ${username}: user ${reg.userId}, deposit address ${address}`);
  return { name, api: authed, userId: reg.userId, depositAddress: address };
}

function showBalances(who: string, b: Balances, decimals: ReadonlyMap<string, number>): void {
  const parts = [...b.entries()].map(([asset, x]) => {
    const d = decimals.get(asset) ?? 0;
    const extra =
      (x.held > 0n ? ` (held ${formatUnits(x.held, d)})` : '') +
      (x.pending > 0n ? ` (pending ${formatUnits(x.pending, d)})` : '');
    return `${asset} ${formatUnits(x.available, d)}${extra}`;
  });
  say(`  ${who}: ${parts.length === 0 ? '(nothing)' : parts.join(', ')}`);
}

type Expected = Record<string, { available: bigint; held?: bigint; pending?: bigint }>;

/** Polls the user's balances until they are exactly `expected` (every asset named, and no other); fails after the timeout. */
async function expectBalances(
  u: User,
  expected: Expected,
  decimals: ReadonlyMap<string, number>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const matches = (b: Balances): boolean => {
    const assets = new Set([
      ...Object.keys(expected),
      ...[...b.entries()].filter(([, x]) => x.available + x.held + x.pending > 0n).map(([a]) => a),
    ]);
    return [...assets].every((a) => {
      const got = b.get(a) ?? { available: 0n, held: 0n, pending: 0n };
      const want = expected[a] ?? { available: 0n };
      return got.available === want.available && got.held === (want.held ?? 0n) && got.pending === (want.pending ?? 0n);
    });
  };
  let last: Balances = new Map();
  try {
    await waitFor(what, async () => ((last = await balances(u.api, decimals)), matches(last) ? true : null), timeoutMs);
  } finally {
    showBalances(u.name, last, decimals);
  }
  const wanted = Object.entries(expected)
    .map(([a, x]) => `${a} ${formatUnits(x.available, decimals.get(a) ?? 0)}`)
    .join(', ');
  say(`  ok   ${u.name}'s balances are exactly ${wanted} (${what})`);
}

async function faucet(u: User, asset: string, amount: string): Promise<void> {
  const r = await u.api.post<{ txHash: string; address: string }>('/v1/devnet/faucet', { asset, amount }, 200);
  check(
    r.address === u.depositAddress,
    `the faucet minted ${amount} ${asset} to ${u.name}'s deposit address (tx ${r.txHash})`,
  );
}

async function showDeposits(u: User): Promise<void> {
  const { deposits } = await u.api.get<{ deposits: { asset: string; amount: string; status: string }[] }>(
    '/v1/deposits',
  );
  for (const d of deposits) say(`  ${u.name}'s deposit: ${d.amount} ${d.asset}, ${d.status}`);
  check(deposits.length === 1, `${u.name} has one credited deposit`);
}

async function main(): Promise<void> {
  const { apiUrl, rpcUrl } = readSettings(process.argv.slice(2), process.env);
  const { api, market, decimals } = await connect(apiUrl);
  const base = market.baseAsset;
  const quote = market.quoteAsset;
  const d = { base: market.baseDecimals, quote: market.quoteDecimals };
  const B = (x: string): bigint => parseUnits(x, d.base);
  const Q = (x: string): bigint => parseUnits(x, d.quote);
  /** Quote of a fill, and the fee on it: floor(quote x bps / 10000), as the engine charges (docs/engine.md). */
  const quoteOf = (price: string, qty: string): bigint => (Q(price) * B(qty)) / 10n ** BigInt(d.base);
  const fee = (q: bigint, bps: number): bigint => (q * BigInt(bps)) / 10_000n;

  step(1, 'Alice and Bob register, log in and get their deposit addresses');
  const alice = await registerUser(api, 'alice');
  const bob = await registerUser(api, 'bob');
  check(alice.depositAddress !== bob.depositAddress, 'each has an address of their own');

  step(2, `The devnet faucet sends Alice 10 ${base} and Bob 1000 ${quote} (real token transfers on the devnet)`);
  await faucet(alice, base, '10');
  await faucet(bob, quote, '1000');

  step(3, 'The chain service sees the deposits; after the confirmations the engine credits them');
  await expectBalances(alice, { [base]: { available: B('10') } }, decimals, DEPOSIT_TIMEOUT_MS, 'deposit credited');
  await expectBalances(bob, { [quote]: { available: Q('1000') } }, decimals, DEPOSIT_TIMEOUT_MS, 'deposit credited');
  await showDeposits(alice);
  await showDeposits(bob);

  await trade({ alice, bob, market, d, quoteOf, fee, B, Q, decimals });
  await withdraw({ bob, base, quote, B, Q, decimals, rpcUrl, bobQuote: bobQuoteAfterTrades(quoteOf, fee, Q, market) });
  say('\nThe demo ran to the end: every step held.');
}

function bobQuoteAfterTrades(
  quoteOf: (p: string, q: string) => bigint,
  fee: (q: bigint, bps: number) => bigint,
  Q: (x: string) => bigint,
  m: Market,
): bigint {
  const [q1, q2, q3] = [quoteOf('100', '1'), quoteOf('100', '0.5'), quoteOf('99', '0.5')];
  return Q('1000') - (q1 + fee(q1, m.takerFeeBps)) - (q2 + fee(q2, m.takerFeeBps)) - (q3 + fee(q3, m.makerFeeBps));
}

interface TradeCtx {
  alice: User;
  bob: User;
  market: Market;
  d: { base: number; quote: number };
  decimals: Map<string, number>;
  quoteOf: (p: string, q: string) => bigint;
  fee: (q: bigint, bps: number) => bigint;
  B: (x: string) => bigint;
  Q: (x: string) => bigint;
}

async function trade(c: TradeCtx): Promise<void> {
  const { alice, bob, market: m, d, quoteOf, fee, B } = c;
  const marketId = m.marketId;
  step(4, `Trading on ${m.symbol}: a resting limit sell, a crossing limit buy, a market buy`);
  const ask = await placeOrder(
    alice.api,
    'Alice',
    { marketId, side: 'sell', orderType: 'limit', price: '100', quantity: '2' },
    d,
  );
  check(ask.status === 'new' && ask.filled === 0n, "Alice's ask rests on the book (nothing to cross yet)");
  const q1 = quoteOf('100', '1');
  const bid = await placeOrder(
    bob.api,
    'Bob',
    { marketId, side: 'buy', orderType: 'limit', price: '101', quantity: '1' },
    d,
  );
  check(
    bid.status === 'filled' && bid.filled === B('1') && bid.feesPaid === fee(q1, m.takerFeeBps),
    "Bob's bid at 101 crosses: 1 filled at Alice's 100, Bob pays the taker fee",
  );
  const q2 = quoteOf('100', '0.5');
  const mkt = await placeOrder(bob.api, 'Bob', { marketId, side: 'buy', orderType: 'market', quantity: '0.5' }, d);
  check(
    mkt.status === 'filled' && mkt.filled === B('0.5') && mkt.feesPaid === fee(q2, m.takerFeeBps),
    "Bob's market buy takes 0.5 more at 100",
  );

  step(5, 'Bob bids 99; Alice sells into it with a market order, then cancels what is left of her ask');
  const q3 = quoteOf('99', '0.5');
  const bid2 = await placeOrder(
    bob.api,
    'Bob',
    { marketId, side: 'buy', orderType: 'limit', price: '99', quantity: '0.5' },
    d,
  );
  check(bid2.status === 'new', "Bob's bid at 99 rests (below Alice's ask)");
  const sell = await placeOrder(
    alice.api,
    'Alice',
    { marketId, side: 'sell', orderType: 'market', quantity: '0.5' },
    d,
  );
  check(
    sell.status === 'filled' && sell.filled === B('0.5') && sell.feesPaid === fee(q3, m.takerFeeBps),
    "Alice's market sell fills 0.5 at Bob's 99",
  );
  const canceled = await alice.api.call<{ canceled: { orderId: number; remainingQuantity: string }[] }>(
    'DELETE',
    `/v1/orders/${ask.orderId}`,
    undefined,
    200,
  );
  check(
    canceled.canceled.length === 1 && B(canceled.canceled[0].remainingQuantity) === B('0.5'),
    `Alice cancels her ask: 0.5 ${m.baseAsset} was still open`,
  );

  step(6, 'Fills and balances, exact after fees (maker and taker fees are charged in the quote asset)');
  for (const u of [alice, bob]) {
    const { trades } = await waitFor(
      `${u.name}'s three trades`,
      async () => {
        const r = await u.api.get<{
          trades: { side: string; price: string; quantity: string; liquidity: string; fee: string }[];
        }>('/v1/trades');
        return r.trades.length >= 3 ? r : null;
      },
      SETTLE_TIMEOUT_MS,
    );
    for (const t of [...trades].reverse())
      say(`  ${u.name}: ${t.side} ${t.quantity} @ ${t.price} as ${t.liquidity}, fee ${t.fee}`);
    check(trades.length === 3, `${u.name} has exactly three trades`);
  }
  const aliceQuote = q1 - fee(q1, m.makerFeeBps) + (q2 - fee(q2, m.makerFeeBps)) + (q3 - fee(q3, m.takerFeeBps));
  await expectBalances(
    alice,
    { [m.baseAsset]: { available: B('8') }, [m.quoteAsset]: { available: aliceQuote } },
    c.decimals,
    SETTLE_TIMEOUT_MS,
    'sold 2, received the quote less fees',
  );
  await expectBalances(
    bob,
    { [m.baseAsset]: { available: B('2') }, [m.quoteAsset]: { available: bobQuoteAfterTrades(quoteOf, fee, c.Q, m) } },
    c.decimals,
    SETTLE_TIMEOUT_MS,
    'bought 2, paid the quote plus fees',
  );
}

interface WithdrawCtx {
  bob: User;
  base: string;
  quote: string;
  B: (x: string) => bigint;
  Q: (x: string) => bigint;
  decimals: Map<string, number>;
  rpcUrl: string;
  bobQuote: bigint;
}

async function withdraw(c: WithdrawCtx): Promise<void> {
  const { bob, base, B } = c;
  step(7, `Bob withdraws 1.5 ${base} to an outside address`);
  const outside = Wallet.createRandom().address;
  // Withdrawals go only to the address book; on the devnet its time lock is 0 (GATEWAY_WITHDRAWAL_ADDRESS_DELAY_SECONDS).
  const book = await bob.api.post<{ usableAt: string }>(
    '/v1/withdrawal-addresses',
    { address: outside, label: 'outside' },
    201,
  );
  say(`  ${outside} added to the withdrawal address book, usable from ${book.usableAt}`);
  const req = await bob.api.post<{ withdrawalId: string; status: string }>(
    '/v1/withdrawals',
    { asset: base, amount: '1.5', address: outside },
    [201, 202],
  );
  say(`  withdrawal ${req.withdrawalId} to ${outside}: ${req.status}`);
  type W = { status: string; txHash: string | null; failReason: string | null };
  const w = await waitFor(
    'the withdrawal to complete',
    async () => {
      const r = await bob.api.call<W>('GET', `/v1/withdrawals/${req.withdrawalId}`, undefined, [200, 404]);
      return r !== null && 'status' in r && r.status !== 'pending' ? r : null;
    },
    WITHDRAWAL_TIMEOUT_MS,
    1000,
  );
  check(
    w.status === 'completed' && w.txHash !== null,
    `the withdrawal completed on chain (tx ${w.txHash}${w.failReason === null ? '' : `, failed: ${w.failReason}`})`,
  );
  await expectBalances(
    bob,
    { [base]: { available: B('0.5') }, [c.quote]: { available: c.bobQuote } },
    c.decimals,
    SETTLE_TIMEOUT_MS,
    '1.5 left custody',
  );

  step(8, `The outside address's balance, read from the devnet at ${c.rpcUrl}`);
  // cacheTimeout -1: every read goes to the node (a cached answer could predate the transfer).
  const provider = new JsonRpcProvider(c.rpcUrl, undefined, { cacheTimeout: -1, staticNetwork: true });
  try {
    const receipt = await provider.getTransactionReceipt(w.txHash!);
    const log = receipt?.logs.find(
      (l) => l.topics[0] === TRANSFER_TOPIC && l.topics[2] !== undefined && BigInt(l.topics[2]) === BigInt(outside),
    );
    check(log !== undefined, 'the withdrawal transaction transferred the token to the outside address');
    const token = new Contract(log!.address, ERC20_ABI, provider);
    const [symbol, decimals, onChain] = (await Promise.all([
      token.getFunction('symbol')(),
      token.getFunction('decimals')(),
      token.getFunction('balanceOf')(outside),
    ])) as [string, bigint, bigint];
    say(`  ${outside} holds ${formatUnits(onChain, Number(decimals))} ${symbol} (token ${log!.address})`);
    check(symbol === base && onChain === B('1.5'), `the outside address holds exactly 1.5 ${base} on chain`);
  } finally {
    provider.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const failed = err instanceof DemoFailure;
    process.stderr.write(`\n  FAILED: ${failed ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
    process.exit(1);
  },
);
