// Deposit watcher: reads Transfer logs of the configured tokens to allocated deposit addresses, block range by
// block range, and credits each after `confirmations` with a Deposit command whose depositId is txHash:logIndex.
//
// Reorg safety. The hashes of recently read blocks (the last reorgWindowBlocks) are stored as a chain linked by
// parentHash, so when the newest stored hash still matches the node, all of them do. When it does not, we walk back
// to the newest block that still matches (the fork point): uncredited deposits above it are dropped and the cursor
// rewinds to re-read the new blocks. A fork point deeper than the confirmation depth (or below a credited deposit,
// or outside the window) means a credited deposit may have vanished: the watcher raises an alert (DEEP_REORG),
// marks the chain halted in the database and stops crediting until an operator clears it.
//
// Consistency of one read: headers are fetched for the blocks inside the window, checked to link to each other and
// to the stored chain, then the logs are fetched, and the last header is fetched again; if anything moved (a log
// from another block hash, a changed head), nothing is stored and the next tick starts over.

import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { ChainConfig, TokenConfig } from './config.js';
import type { CommandSink } from './engine-io.js';
import { chainCommandId } from './engine-io.js';
import { loadDepositAddresses } from './addresses.js';
import type { DepositAddress } from './addresses.js';
import { TRANSFER_TOPIC, addressTopic, blockHeader } from './erc20.js';
import type { BlockHeader } from './erc20.js';
import { assert } from './errors.js';
import { COMMAND_VERSION } from '../engine/core/index.js';

/** Deposit addresses per eth_getLogs topic filter; more addresses take more calls. */
export const ADDRESSES_PER_FILTER_MAX = 1_000;
/** Deposits credited per tick (one command batch). */
export const CREDIT_BATCH_MAX = 256;

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

export interface WatchTickResult {
  readonly head: number;
  readonly nextBlock: number;
  readonly seen: number;
  readonly credited: number;
  readonly dropped: number;
  readonly halted: boolean;
}

export class DepositWatcher {
  private readonly tokensByAddress: Map<string, TokenConfig>;

  constructor(
    private readonly deps: { sql: Sql; provider: JsonRpcProvider; config: ChainConfig; sink: CommandSink; log: Logger },
  ) {
    this.tokensByAddress = new Map(deps.config.tokens.map((t) => [t.address.toLowerCase(), t]));
  }

  async tick(): Promise<WatchTickResult> {
    const { sql, config } = this.deps;
    const cursor = await this.cursor();
    const head = await this.deps.provider.getBlockNumber();
    if (cursor.halted) return { head, nextBlock: cursor.nextBlock, seen: 0, credited: 0, dropped: 0, halted: true };
    const reorg = await this.checkReorg();
    if (reorg === 'halted')
      return { head, nextBlock: cursor.nextBlock, seen: 0, credited: 0, dropped: 0, halted: true };
    const nextBlock = reorg === 'none' ? cursor.nextBlock : reorg.nextBlock;
    const dropped = reorg === 'none' ? 0 : reorg.dropped;
    // Head before addresses: an address allocated after this read can only receive in a later block.
    const addresses = await loadDepositAddresses(sql);
    const seen =
      nextBlock <= head
        ? await this.scan(nextBlock, Math.min(head, nextBlock + config.logBlockRangeMax - 1), head, addresses)
        : 0;
    const credited = await this.credit(head);
    const after = await this.cursor();
    return { head, nextBlock: after.nextBlock, seen, credited, dropped, halted: false };
  }

  private async cursor(): Promise<{ nextBlock: number; halted: boolean }> {
    const { sql, config } = this.deps;
    await sql`INSERT INTO chain_watch_cursor (chain_id, next_block) VALUES (${config.chainId}, ${config.startBlock}) ON CONFLICT DO NOTHING`;
    const [row] = await sql<
      { next_block: string; halted: boolean }[]
    >`SELECT next_block, halted FROM chain_watch_cursor WHERE chain_id = ${config.chainId}`;
    return { nextBlock: Number(row.next_block), halted: row.halted };
  }

  /** Compares the stored block hashes with the node; handles a shallow reorg, halts on a deep one. */
  private async checkReorg(): Promise<'none' | 'halted' | { nextBlock: number; dropped: number }> {
    const { sql, config, provider, log } = this.deps;
    const stored = await sql<{ block_number: string; block_hash: string }[]>`
      SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ${config.chainId} ORDER BY block_number DESC LIMIT ${config.reorgWindowBlocks}`;
    if (stored.length === 0) return 'none';
    const top = Number(stored[0].block_number);
    let forkPoint: number | null = null;
    for (const row of stored) {
      const n = Number(row.block_number);
      const now = await blockHeader(provider, n);
      if (now !== null && now.hash === row.block_hash) {
        forkPoint = n;
        break;
      }
    }
    if (forkPoint === top) return 'none';
    const depth = forkPoint === null ? Infinity : top - forkPoint;
    const [{ credited }] = await sql<{ credited: number }[]>`
      SELECT count(*)::int AS credited FROM chain_deposits
      WHERE chain_id = ${config.chainId} AND state = 'credited' AND block_number > ${forkPoint ?? -1}`;
    if (forkPoint === null || depth >= config.confirmations || credited > 0) {
      const reason = `reorg of ${depth} blocks below block ${top} (confirmations ${config.confirmations}, credited deposits in replaced blocks: ${credited})`;
      await sql`UPDATE chain_watch_cursor SET halted = true, halt_reason = ${reason}, updated_at = now() WHERE chain_id = ${config.chainId}`;
      log.fatal(
        { alert: 'DEEP_REORG', chainId: config.chainId, top, forkPoint, depth, credited },
        `deposit crediting halted: ${reason}`,
      );
      return 'halted';
    }
    const dropped = await sql.begin(async (tx) => {
      const d =
        await tx`UPDATE chain_deposits SET state = 'dropped' WHERE chain_id = ${config.chainId} AND state = 'seen' AND block_number > ${forkPoint}`;
      await tx`DELETE FROM chain_blocks WHERE chain_id = ${config.chainId} AND block_number > ${forkPoint}`;
      await tx`UPDATE chain_watch_cursor SET next_block = LEAST(next_block, ${forkPoint + 1}), updated_at = now() WHERE chain_id = ${config.chainId}`;
      return d.count;
    });
    log.warn(
      { chainId: config.chainId, forkPoint, depth, dropped },
      'reorg: replaced blocks re-read, uncredited deposits in them dropped',
    );
    return { nextBlock: forkPoint + 1, dropped };
  }

  /** Reads [from, to]; stores deposits, block hashes and the new cursor in one transaction. Returns deposits seen. */
  private async scan(from: number, to: number, head: number, addresses: Map<string, DepositAddress>): Promise<number> {
    const { sql, config, provider, log } = this.deps;
    assert(from <= to && to - from < config.logBlockRangeMax, 'scan range is bounded');
    const windowLow = Math.max(from, head - config.reorgWindowBlocks + 1);
    const headers = await this.headers(windowLow, to);
    if (headers === null) return 0;
    const logs = await this.logs(from, to, addresses);
    const hashAt = new Map(headers.map((h) => [h.number, h.hash]));
    for (const l of logs) {
      const expected = hashAt.get(Number(BigInt(l.blockNumber)));
      if (l.removed === true || (expected !== undefined && expected !== l.blockHash)) {
        log.info({ from, to }, 'blocks changed during the read; retrying next tick');
        return 0;
      }
    }
    if (headers.length > 0) {
      const last = await blockHeader(provider, to);
      if (last === null || last.hash !== headers[headers.length - 1].hash) return 0;
    }
    const rows = logs.flatMap((l) => this.depositRow(l, addresses));
    await sql.begin(async (tx) => {
      for (const r of rows) {
        // A deposit dropped by a reorg and re-mined at the same log position comes back to life.
        await tx`INSERT INTO chain_deposits ${tx(r)}
          ON CONFLICT (chain_id, tx_hash, log_index) DO UPDATE SET state = 'seen', block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash
          WHERE chain_deposits.state = 'dropped'`;
      }
      for (const h of headers) {
        await tx`INSERT INTO chain_blocks (chain_id, block_number, block_hash, parent_hash) VALUES (${config.chainId}, ${h.number}, ${h.hash}, ${h.parentHash})
          ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash`;
      }
      await tx`DELETE FROM chain_blocks WHERE chain_id = ${config.chainId} AND block_number <= ${to - config.reorgWindowBlocks}`;
      const moved =
        await tx`UPDATE chain_watch_cursor SET next_block = ${to + 1}, updated_at = now() WHERE chain_id = ${config.chainId} AND next_block = ${from}`;
      assert(moved.count === 1, 'one watcher per chain moves the cursor');
    });
    return rows.length;
  }

  /** Headers of [low, to] linked by parentHash to each other and to the stored block below; null when they do not link. */
  private async headers(low: number, to: number): Promise<BlockHeader[] | null> {
    const { sql, config, provider } = this.deps;
    if (low > to) return [];
    const headers: BlockHeader[] = [];
    for (let n = low; n <= to; n++) {
      const h = await blockHeader(provider, n);
      if (h === null) return null;
      headers.push(h);
    }
    const [below] = await sql<
      { block_hash: string }[]
    >`SELECT block_hash FROM chain_blocks WHERE chain_id = ${config.chainId} AND block_number = ${low - 1}`;
    if (below !== undefined && headers[0].parentHash !== below.block_hash) return null;
    for (let i = 1; i < headers.length; i++) if (headers[i].parentHash !== headers[i - 1].hash) return null;
    return headers;
  }

  private async logs(from: number, to: number, addresses: Map<string, DepositAddress>): Promise<RawLog[]> {
    const { config, provider } = this.deps;
    const all = [...addresses.values()].map((a) => addressTopic(a.address));
    const out: RawLog[] = [];
    for (let i = 0; i < all.length; i += ADDRESSES_PER_FILTER_MAX) {
      const filter = {
        fromBlock: '0x' + from.toString(16),
        toBlock: '0x' + to.toString(16),
        address: config.tokens.map((t) => t.address),
        topics: [TRANSFER_TOPIC, null, all.slice(i, i + ADDRESSES_PER_FILTER_MAX)],
      };
      out.push(...((await provider.send('eth_getLogs', [filter])) as RawLog[]));
    }
    return out;
  }

  private depositRow(l: RawLog, addresses: Map<string, DepositAddress>): Record<string, unknown>[] {
    const token = this.tokensByAddress.get(l.address.toLowerCase());
    if (token === undefined || l.topics.length !== 3 || l.topics[0] !== TRANSFER_TOPIC) return [];
    const to = addresses.get('0x' + l.topics[2].slice(26).toLowerCase());
    // A standard Transfer carries the amount as one 32-byte word; anything else is not a transfer we understand.
    if (to === undefined || l.data.length !== 66) return [];
    const amount = BigInt(l.data);
    if (amount === 0n) return [];
    return [
      {
        chain_id: this.deps.config.chainId,
        tx_hash: l.transactionHash.toLowerCase(),
        log_index: Number(BigInt(l.logIndex)),
        block_number: Number(BigInt(l.blockNumber)),
        block_hash: l.blockHash,
        token: token.address,
        asset_id: token.assetId,
        user_id: to.userId,
        to_address: to.address,
        amount: amount.toString(),
        state: 'seen',
      },
    ];
  }

  /** Sends Deposit commands for seen deposits with enough confirmations, then marks them credited. */
  private async credit(head: number): Promise<number> {
    const { sql, config, sink } = this.deps;
    const confirmedMax = head - config.confirmations + 1;
    const rows = await sql<
      {
        tx_hash: string;
        log_index: number;
        block_number: string;
        block_hash: string;
        user_id: string;
        asset_id: number;
        amount: string;
      }[]
    >`
      SELECT d.tx_hash, d.log_index, d.block_number, d.block_hash, d.user_id, d.asset_id, d.amount
      FROM chain_deposits d
      LEFT JOIN chain_blocks b ON b.chain_id = d.chain_id AND b.block_number = d.block_number
      WHERE d.chain_id = ${config.chainId} AND d.state = 'seen' AND d.block_number <= ${confirmedMax}
        AND (b.block_hash IS NULL OR b.block_hash = d.block_hash)
      ORDER BY d.block_number, d.log_index LIMIT ${CREDIT_BATCH_MAX}`;
    if (rows.length === 0) return 0;
    // Sent before marked: a crash in between re-sends the same depositIds, which the engine credits once.
    await sink.send(
      rows.map((r) => {
        const depositId = `${r.tx_hash}:${r.log_index}`;
        const amount = BigInt(r.amount);
        assert(amount > 0n, 'a deposit credits a positive amount');
        return {
          v: COMMAND_VERSION,
          type: 'deposit',
          id: chainCommandId('deposit', depositId),
          userId: Number(r.user_id),
          assetId: r.asset_id,
          amount,
          depositId,
        } as const;
      }),
    );
    await sql.begin(async (tx) => {
      for (const r of rows) {
        await tx`UPDATE chain_deposits SET state = 'credited', credited_at = now() WHERE chain_id = ${config.chainId} AND tx_hash = ${r.tx_hash} AND log_index = ${r.log_index} AND state = 'seen'`;
      }
    });
    return rows.length;
  }
}
