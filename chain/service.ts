// The chain service for one chain: the deposit watcher, the sweeper and the withdrawal sender, each in a loop of
// its own every pollIntervalMs, so a step stuck on an unanswered RPC call (bounded by chain/rpc.ts's timeouts and
// retries) holds up only its own loop: deposits keep being credited while a sweep or a withdrawal waits on the
// node. Nonces stay owned by one sender each: the hot wallet's by the withdrawal loop (user withdrawals and
// transfers to cold storage), the gas wallet's and the deposit addresses' by the sweep loop.
// One instance per chain is enforced with a PostgreSQL advisory lock held for the process's life: two watchers
// would race on the cursor and two signers on the budget.
// Operating errors (RPC down, database restarting) are logged and retried next tick; a failed assertion (a
// broken invariant) stops the service. Each loop's last progress is a metric and part of /ready (status-server.ts).

import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import type { ReservedSql, Sql } from 'postgres';
import type { CommandResult, WithdrawalPending } from '../engine/core/index.js';
import type { ChainConfig } from './config.js';
import type { CommandSink } from './engine-io.js';
import { chainCommandKind } from './engine-io.js';
import type { HdKeys } from './hd.js';
import { HotWalletKeeper } from './hot-wallet.js';
import { ChainMetrics, LOOPS } from './metrics.js';
import type { LoopName } from './metrics.js';
import { Sweeper } from './sweeper.js';
import { InvariantError } from './errors.js';
import { DepositWatcher } from './watcher.js';
import { WithdrawalProcessor } from './withdrawals.js';

const LOCK_NAMESPACE = 0x63686e;
// Answers meaning "already applied": a re-send after a crash (same command id, same depositId) changed nothing.
const REPEAT_CODES: ReadonlySet<string> = new Set(['COMMAND_DUPLICATE_ID', 'DEPOSIT_DUPLICATE']);

export class ChainService {
  readonly watcher: DepositWatcher;
  readonly sweeper: Sweeper;
  readonly withdrawals: WithdrawalProcessor;
  readonly hotWallet: HotWalletKeeper;
  readonly metrics: ChainMetrics;
  private stopped = false;
  private lock: ReservedSql | null = null;
  private loops: Promise<void> | null = null;
  private readonly wakers = new Map<LoopName, () => void>();

  constructor(
    private readonly deps: {
      sql: Sql;
      provider: JsonRpcProvider;
      config: ChainConfig;
      keys: HdKeys;
      sink: CommandSink;
      log: Logger;
      metrics?: ChainMetrics;
      nowMs?: () => number;
    },
  ) {
    this.metrics = deps.metrics ?? new ChainMetrics(deps.nowMs);
    this.watcher = new DepositWatcher(deps);
    this.sweeper = new Sweeper(deps);
    this.withdrawals = new WithdrawalProcessor(deps);
    this.hotWallet = new HotWalletKeeper({ ...deps, hotAddress: deps.keys.hotWalletAddress(), metrics: this.metrics });
  }

  /** Event handler for the engine's events topic. */
  async onWithdrawalPending(ev: WithdrawalPending): Promise<void> {
    const r = await this.withdrawals.intake(ev);
    if (r === 'queued') this.wakers.get('withdrawals')?.();
  }

  /** Wakes the withdrawal loop now (an operator approved or rejected a withdrawal, or released the halt). */
  wakeWithdrawals(): void {
    this.wakers.get('withdrawals')?.();
  }

  /**
   * The engine refused a command a chain service sent. The chain side already happened (tokens received, a
   * withdrawal mined), so the engine's books now disagree with the chain: an alert for an operator, never silent.
   * Several chain services share the events topic, so this may be another chain's command (the id says which
   * deposit or withdrawal).
   */
  async onChainCommandRejected(result: CommandResult): Promise<void> {
    const { log } = this.deps;
    if (result.code !== null && REPEAT_CODES.has(result.code)) return;
    const kind = chainCommandKind(result.cmdId);
    // A completion/failure re-sent after the engine forgot the command id (outside its window) finds nothing pending.
    if (kind !== 'deposit' && result.code === 'WITHDRAWAL_NOT_FOUND') {
      log.warn(
        { cmdId: result.cmdId, code: result.code },
        'the engine has no such pending withdrawal (already finished?)',
      );
      return;
    }
    log.fatal(
      { alert: 'ENGINE_REJECTED_COMMAND', cmdId: result.cmdId, code: result.code, seq: result.seq },
      `the engine rejected ${kind} command ${result.cmdId}: ${result.code}`,
    );
  }

  async start(): Promise<void> {
    const { sql, config } = this.deps;
    this.lock = await sql.reserve();
    const [{ ok }] = await this.lock<
      { ok: boolean }[]
    >`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, ${config.chainId % 0x7fffffff}) AS ok`;
    if (!ok) {
      this.lock.release();
      throw new Error(`another chain service holds chain ${config.chainId}`);
    }
    const steps: Record<LoopName, () => Promise<unknown>> = {
      deposits: () => this.watcher.tick(),
      sweeps: () => this.sweeper.tick(),
      withdrawals: async () => {
        await this.withdrawals.tick();
        await this.hotWallet.tick();
      },
    };
    this.loops = Promise.all(LOOPS.map((name) => this.run(name, steps[name]))).then(() => undefined);
  }

  /** Settles when the loops end: after stop(), or rejected by a broken invariant (the process must then exit). */
  get done(): Promise<void> {
    return this.loops ?? Promise.resolve();
  }

  /** Milliseconds since each loop last completed a tick (null before its first), and whether that is too long. */
  progress(): { loops: Record<LoopName, number | null>; stale: boolean } {
    const loops = Object.fromEntries(LOOPS.map((l) => [l, this.metrics.progressAgeMs(l)])) as Record<
      LoopName,
      number | null
    >;
    const stale = Object.values(loops).some((age) => age === null || age > this.deps.config.staleAfterMs);
    return { loops, stale };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers.values()) wake();
    await this.loops?.catch(() => undefined);
    if (this.lock !== null) {
      await this.lock`SELECT pg_advisory_unlock_all()`;
      this.lock.release();
    }
  }

  private async run(name: LoopName, step: () => Promise<unknown>): Promise<void> {
    const { log, config } = this.deps;
    while (!this.stopped) {
      try {
        await step();
        this.metrics.progress(name);
      } catch (err) {
        if (err instanceof InvariantError) {
          // One loop's broken invariant stops them all: the process exits and recovers from the database.
          this.stopped = true;
          for (const wake of this.wakers.values()) wake();
          throw err;
        }
        this.metrics.loopErrors.inc({ loop: name });
        log.error({ step: name, err }, 'chain step failed; retrying next tick');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.pollIntervalMs);
        this.wakers.set(name, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.wakers.delete(name);
    }
  }
}
