// Reading LOBSTER sample files (no header row, comma separated). Format: ../shared/conformance/lobster/README.md.
// Message row: Time (seconds after midnight), Type, OrderID, Size (shares), Price (dollars x 10000), Direction (1 buy, -1 sell).
// Orderbook row: AskPrice1, AskSize1, BidPrice1, BidSize1, AskPrice2, ... : the visible book right after the message.

import { readFile } from 'node:fs/promises';

export interface LobsterMessage {
  /** 1-based row in the message file (the same row number in the orderbook file). */
  readonly row: number;
  readonly timeMs: number;
  /** Time as written: rows of one incoming order's executions share it exactly. */
  readonly timeText: string;
  readonly type: number;
  readonly orderId: number;
  readonly size: number;
  readonly price: number;
  /** 1 buy, -1 sell; for executions (type 4/5) the side of the resting order. */
  readonly direction: 1 | -1;
  /** The row as written, for reports. */
  readonly text: string;
}

/** One side of one orderbook row, best level first; LOBSTER's empty-level markers are left out. */
export interface VisibleSide {
  readonly prices: number[];
  readonly sizes: number[];
}

export interface VisibleBook {
  readonly asks: VisibleSide;
  readonly bids: VisibleSide;
}

export interface OrderbookFile {
  /** Levels per side, from the column count (4 columns per level). */
  readonly levels: number;
  readonly rows: VisibleBook[];
}

/** LOBSTER writes an empty ask level as price 9999999999 and an empty bid level as -9999999999, size 0. */
const EMPTY_ASK_PRICE = 9999999999;
const EMPTY_BID_PRICE = -9999999999;

function lines(text: string): string[] {
  const out = text.split('\n');
  for (let i = 0; i < out.length; i++) if (out[i].endsWith('\r')) out[i] = out[i].slice(0, -1);
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function integerField(raw: string, path: string, row: number, column: string): number {
  const value = Number(raw);
  if (raw === '' || !Number.isSafeInteger(value))
    throw new Error(`${path} row ${row}: ${column} is not an integer: '${raw}'`);
  return value;
}

export async function readMessages(path: string): Promise<LobsterMessage[]> {
  const rows = lines(await readFile(path, 'utf8'));
  return rows.map((text, i) => parseMessage(text, path, i + 1));
}

function parseMessage(text: string, path: string, row: number): LobsterMessage {
  const f = text.split(',');
  if (f.length !== 6) throw new Error(`${path} row ${row}: expected 6 fields, got ${f.length}: '${text}'`);
  const seconds = Number(f[0]);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`${path} row ${row}: bad time '${f[0]}'`);
  const direction = integerField(f[5], path, row, 'Direction');
  if (direction !== 1 && direction !== -1)
    throw new Error(`${path} row ${row}: Direction must be 1 or -1, got ${direction}`);
  return {
    row,
    // Whole milliseconds are enough: the engine only needs time that does not run backwards.
    timeMs: Math.floor(seconds * 1000),
    timeText: f[0],
    type: integerField(f[1], path, row, 'Type'),
    orderId: integerField(f[2], path, row, 'OrderID'),
    size: integerField(f[3], path, row, 'Size'),
    price: integerField(f[4], path, row, 'Price'),
    direction,
    text,
  };
}

export async function readOrderbook(path: string): Promise<OrderbookFile> {
  const rows = lines(await readFile(path, 'utf8'));
  if (rows.length === 0) throw new Error(`${path} is empty`);
  const columns = rows[0].split(',').length;
  if (columns % 4 !== 0) throw new Error(`${path}: ${columns} columns is not 4 per level`);
  const levels = columns / 4;
  return { levels, rows: rows.map((text, i) => parseBookRow(text, path, i + 1, columns)) };
}

function parseBookRow(text: string, path: string, row: number, columns: number): VisibleBook {
  const f = text.split(',');
  if (f.length !== columns) throw new Error(`${path} row ${row}: expected ${columns} fields, got ${f.length}`);
  const asks: VisibleSide = { prices: [], sizes: [] };
  const bids: VisibleSide = { prices: [], sizes: [] };
  for (let c = 0; c < columns; c += 4) {
    addLevel(
      asks,
      integerField(f[c], path, row, `AskPrice${c / 4 + 1}`),
      integerField(f[c + 1], path, row, `AskSize${c / 4 + 1}`),
      EMPTY_ASK_PRICE,
    );
    addLevel(
      bids,
      integerField(f[c + 2], path, row, `BidPrice${c / 4 + 1}`),
      integerField(f[c + 3], path, row, `BidSize${c / 4 + 1}`),
      EMPTY_BID_PRICE,
    );
  }
  return { asks, bids };
}

function addLevel(side: VisibleSide, price: number, size: number, emptyPrice: number): void {
  if (price === emptyPrice || size === 0) return;
  side.prices.push(price);
  side.sizes.push(size);
}
