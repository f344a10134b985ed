// The chain service for one chain: the deposit watcher, the sweeper and the withdrawal processor in one loop every
// pollIntervalMs. One instance per chain is enforced with a PostgreSQL advisory lock held for the process's life:
// two watchers would race on the cursor and two signers on the budget.
// Operating errors (RPC down, database restarting) are logged and retried next tick; a failed assertion (a
// broken invariant) stops the service.

import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import type { ReservedSql, Sql } from 'postgres';
import type { CommandResult, WithdrawalPending } from '../engine/core/events.js';
import type { ChainConfig } from './config.js';
import type { CommandSink } from './engine-io.js';
import { chainCommandKind } from './engine-io.js';
import type { HdKeys } from './hd.js';
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
  private stopped = false;
  private lock: ReservedSql | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: { sql: Sql; provider: JsonRpcProvider; config: ChainConfig; keys: HdKeys; sink: CommandSink; log: Logger }) {
    this.watcher = new DepositWatcher(deps);
    this.sweeper = new Sweeper(deps);
    this.withdrawals = new WithdrawalProcessor(deps);
  }

  /** Event handler for the engine's events topic. */
  async onWithdrawalPending(ev: WithdrawalPending): Promise<void> {
    const r = await this.withdrawals.intake(ev);
    if (r === 'queued') this.wake?.();
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
      log.warn({ cmdId: result.cmdId, code: result.code }, 'the engine has no such pending withdrawal (already finished?)');
      return;
    }
    log.fatal({ alert: 'ENGINE_REJECTED_COMMAND', cmdId: result.cmdId, code: result.code, seq: result.seq }, `the engine rejected ${kind} command ${result.cmdId}: ${result.code}`);
  }

  async start(): Promise<void> {
    const { sql, config } = this.deps;
    this.lock = await sql.reserve();
    const [{ ok }] = await this.lock<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, ${config.chainId % 0x7fffffff}) AS ok`;
    if (!ok) {
      this.lock.release();
      throw new Error(`another chain service holds chain ${config.chainId}`);
    }
    this.loop = this.run();
  }

  /** Settles when the loop ends: after stop(), or rejected by a broken invariant (the process must then exit). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.lock !== null) {
      await this.lock`SELECT pg_advisory_unlock_all()`;
      this.lock.release();
    }
  }

  private async run(): Promise<void> {
    const { log, config } = this.deps;
    while (!this.stopped) {
      for (const [name, step] of [
        ['deposits', () => this.watcher.tick()],
        ['withdrawals', () => this.withdrawals.tick()],
        ['sweeps', () => this.sweeper.tick()],
      ] as const) {
        try {
          await step();
        } catch (err) {
          if (err instanceof InvariantError) throw err;
          log.error({ step: name, err }, 'chain step failed; retrying next tick');
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
