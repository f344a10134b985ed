// `npm start` (for now): replays a demo order stream through the engine core and prints the trades, the
// resulting book and the balances, in human units. No services needed.

import { Engine, checkInvariants, formatUnits } from '../core/index.js';
import { stateHash } from '../daemon/snapshot-store.js';
import type { Command, EngineEvent, Trade } from '../core/index.js';
import { demoCommands, DEMO } from './stream.js';

function main(): void {
  const engine = new Engine();
  const trades: Trade[] = [];
  const rejected: string[] = [];
  for (const cmd of demoCommands()) {
    const events = engine.apply(cmd);
    for (const ev of events) if (ev.type === 'trade') trades.push(ev);
    const result = resultOf(events);
    if (result.status === 'rejected') rejected.push(`${cmd.id} ${result.code}`);
    const problems = checkInvariants(engine);
    if (problems.length > 0) throw new Error(`invariants broken after ${cmd.id}: ${problems.join('; ')}`);
  }
  printTrades(trades);
  printBook(engine);
  printBalances(engine);
  console.log(
    `\n${engine.commandsApplied} commands, ${trades.length} trades, ${engine.eventSeq} events, ${rejected.length} rejected${rejected.length > 0 ? ': ' + rejected.join(', ') : ''}`,
  );
  console.log(`state hash ${stateHash(engine)}`);
}

function resultOf(events: EngineEvent[]): Extract<EngineEvent, { type: 'commandResult' }> {
  return events[events.length - 1] as Extract<EngineEvent, { type: 'commandResult' }>;
}

const price = (ticks: number): string => formatUnits(BigInt(ticks) * DEMO.tickSize, DEMO.quoteDecimals);
const qty = (lots: number): string => formatUnits(BigInt(lots) * DEMO.lotSize, DEMO.baseDecimals);

function printTrades(trades: Trade[]): void {
  console.log(`Last trades of ${DEMO.symbol} (of ${trades.length}):`);
  for (const t of trades.slice(-10)) {
    console.log(
      `  #${t.tradeId} ${t.takerSide.padEnd(4)} ${qty(t.qtyLots).padStart(8)} @ ${price(t.priceTicks).padStart(9)}  maker ${t.makerUserId} taker ${t.takerUserId}  fees ${formatUnits(t.makerFee + t.takerFee, DEMO.quoteDecimals)}`,
    );
  }
}

function printBook(engine: Engine): void {
  const book = engine.markets[0]!.book;
  const rows = (side: typeof book.bids): string[] => {
    const out: string[] = [];
    side.forEachLevel((level) => {
      out.push(`${price(level.priceTicks).padStart(9)}  ${qty(level.totalLots).padStart(8)}  (${level.count} orders)`);
      return out.length < 5;
    });
    return out;
  };
  console.log(`\nBook ${DEMO.symbol} (top 5):`);
  for (const line of rows(book.asks).reverse()) console.log(`  ask ${line}`);
  console.log('  ---');
  for (const line of rows(book.bids)) console.log(`  bid ${line}`);
}

function printBalances(engine: Engine): void {
  console.log('\nBalances (available / held):');
  for (const account of [...engine.accounts.values()].sort((a, b) => a.userId - b.userId)) {
    const weth = `${formatUnits(account.available[0], DEMO.baseDecimals)} / ${formatUnits(account.held[0], DEMO.baseDecimals)} WETH`;
    const usdc = `${formatUnits(account.available[1], DEMO.quoteDecimals)} / ${formatUnits(account.held[1], DEMO.quoteDecimals)} USDC`;
    console.log(`  user ${account.userId}: ${weth}, ${usdc}`);
  }
  console.log(`  fee account: ${formatUnits(engine.feeBalances[1], DEMO.quoteDecimals)} USDC`);
}

export type { Command };
main();
