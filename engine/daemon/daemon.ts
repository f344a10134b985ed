// The engine daemon: the imperative shell around the pure core. It recovers (the event log's end, then the newest
// snapshot at or before it, then a replay of the command log), then applies commands in bounded batches and
// appends each batch's events. The engine is deterministic, so the event log itself is the progress: a replayed
// command's events with a `seq` at or below the last one written are dropped, and only higher ones are written.
// Appends are not pipelined by default (PIPELINE_APPENDS says why); when they are, at most one is in flight.
// With a standby election (Kafka only), every instance starts as a hot standby: it applies every command and writes
// nothing, checks its events against the writer's (divergence.ts), and writes only once promote()d (the lease).

import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { Engine, checkInvariants, restore } from '../core/index.js';
import type { EngineEvent, EngineLimits } from '../core/index.js';
import { EventRecordPacker, decodeCommand, decodeEventRecord } from '../wire/codec.js';
import { DivergenceCheck } from './divergence.js';
import type { ComputedEvent } from './divergence.js';
import { writeBacklog } from './backlog.js';
import { isFatalLogError } from './log.js';
import { encodeSnapshot, yieldToTimers } from './snapshot-encode.js';
import type { CommandLog, CommandRecord, EventRecord, ResumePoint } from './log.js';
import type { SnapshotStore } from './snapshot-store.js';
import { StandbyError } from './standby-errors.js';
import { StandbyGate } from './standby-gate.js';
import type { PublishedFollower } from './standby.js';

/**
 * Whether the next batch is applied while the previous batch's records are in flight. Off: on bench:kafka (2 cores,
 * load 27, both variants at once) the pipelined daemon spent 55-58 µs of CPU per command against 45-47 µs awaiting
 * each append, and answered no sooner: records kept alive across the next batch's allocation leave the young
 * generation (DAEMON_NODE_FLAGS), and GC was 28% of the pipelined daemon's profile.
 */
const PIPELINE_APPENDS = false;

export interface DaemonOptions {
  readonly log: CommandLog;
  readonly snapshots: SnapshotStore;
  readonly logger: Logger;
  readonly limits?: EngineLimits;
  /** Commands per batch (one append each). */
  readonly batchMax: number;
  /** A snapshot after at least this many commands since the last one. */
  readonly snapshotEveryCommands: number;
  /** Wait between append retries while the log is unavailable. */
  readonly retryDelayMs?: number;
  /** Present: start as a hot standby, write only once elected. */
  readonly standby?: StandbyOptions;
}

export interface StandbyOptions {
  readonly follower: PublishedFollower;
  /** Started once the standby follows the writer; calls back when this process takes the lease or loses it. */
  readonly election: Election;
  /** Test only (ENGINE_TEST_STANDBY_FAULT_OFFSET): a standby applies this command as malformed, to prove detection. */
  readonly faultOffset: number | null;
  /** Events the divergence check holds per side (divergence.ts). */
  readonly windowMax?: number;
}

export interface Election {
  start(onAcquired: () => void, onLost: (reason: string) => void): void;
  /** Stops campaigning; gives a held lease up, so a standby takes over without waiting for it to expire. */
  stop(): Promise<void>;
}

/** Default of StandbyOptions.windowMax: about 25 MB of encoded events, seconds of traffic at 10,000 commands/s. */
const STANDBY_WINDOW_EVENTS_MAX = 100_000;

export class EngineDaemon {
  engine: Engine = new Engine();
  /** Last command offset applied to `engine`. */
  appliedOffset = -1;
  /** Last event seq handed to the log (written, or in the append in flight). */
  emittedSeq = 0;
  private commandsSinceSnapshot = 0;
  private stopping = false;
  /** Whether the state has reached the event log's end (everything after it is new output). */
  private caughtUp = false;
  /** The append in flight: at most one, so the pipeline holds at most two batches' events. */
  private appending: Promise<void> = Promise.resolve();
  /** Whether this process writes events: from the start without a standby election, else once promoted. */
  private writing: boolean;
  /** A standby's comparison of its events with the writer's; null once it writes. */
  private check: DivergenceCheck | null = null;
  /** A standby's backpressure: no batch is applied while it holds a full window of unpublished events. */
  private gate: StandbyGate | null = null;
  /** A standby still replaying its way to the events topic's end at its start: campaigns once there (see below). */
  private campaignLater: { readonly atSeq: number; readonly start: () => void } | null = null;
  /** Batches and promotion run one at a time, in this chain. */
  private lane: Promise<void> = Promise.resolve();
  /** Why the daemon stopped on its own (a divergence, a lost lease): run() rejects with it. */
  private failure: unknown = null;
  /** Set by promotion: the next append logs the failover's end (bench/failover.ts reads the line). */
  private announceFirstWrite = false;
  /** Whether this process has written events yet (its first write ends a restart, logged once). */
  private wroteSinceStart = false;
  /** Whether the recovered state's invariants were checked (once per start: tryRestore or checkCaughtUp). */
  private stateChecked = false;
  /** performance.now() when recover() had the state restored: the replay's start. */
  private recoveredAtMs = 0;

  private markRecovered: () => void = () => undefined;
  /** Resolves once run() has restored the state (snapshot, and where the replay starts): for start-up timing. */
  readonly recovered: Promise<void> = new Promise((resolve) => (this.markRecovered = resolve));

  constructor(private readonly opts: DaemonOptions) {
    this.writing = opts.standby === undefined;
  }

  get role(): 'writer' | 'standby' {
    return this.writing ? 'writer' : 'standby';
  }

  /** Recovers, then consumes until stop(). */
  async run(): Promise<void> {
    const resume = await this.recover();
    this.markRecovered();
    const { standby } = this.opts;
    try {
      if (standby !== undefined) await this.startStandby(standby);
      const from = this.appliedOffset + 1;
      this.opts.logger.info(
        { from, resumeOffset: resume.commandOffset, resumeSeq: resume.eventSeq, role: this.role },
        'engine daemon consuming',
      );
      await this.opts.log.consume(from, this.opts.batchMax, (records) => this.takeBatch(records));
      await this.lane;
      await this.appending;
      if (this.failure !== null) throw this.failure;
      // A clean stop leaves a snapshot of the state (every event of it is written), so the next start replays nothing.
      if (this.commandsSinceSnapshot > 0) await this.writeSnapshot();
    } finally {
      await standby?.follower.stop();
      await standby?.election.stop();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.gate?.open();
    await this.opts.log.stop();
  }

  /**
   * Stops the daemon on its own; run() rejects with `err`. A lease held or being taken is given up first, at once:
   * another standby takes over now rather than after the lease expires (the stop itself can take seconds).
   */
  fail(err: unknown): void {
    if (this.failure === null) this.failure = err;
    const election = this.opts.standby?.election;
    if (election !== undefined)
      void election.stop().catch((e: unknown) => this.opts.logger.warn({ err: e }, 'cannot give the lease up'));
    void this.stop().catch(() => undefined);
  }

  /**
   * A batch from the command log: a standby first waits for room (standby-gate.ts), outside the lane. With an
   * election, a batch that will write nothing (a standby's, or a promoted standby's replay up to the last seq
   * published) first lets the event loop run its timers: such batches await no I/O, so without this a whole fetch
   * (several thousand commands) ran in one turn, and on 2 loaded cores the lease's timers fired 0.5-3 s late (a
   * standby's campaign polls and Redis answers timed out; a promoted standby that replayed lost its lease).
   */
  private takeBatch(records: CommandRecord[]): Promise<void> {
    const writesNothing = !(this.writing && this.caughtUp);
    if (this.opts.standby !== undefined && writesNothing) return yieldToTimers().then(() => this.takeBatchNow(records));
    return this.takeBatchNow(records);
  }

  private takeBatchNow(records: CommandRecord[]): Promise<void> {
    const gate = this.gate;
    if (gate === null || !gate.mustWait()) return this.exclusive(() => this.onBatch(records));
    return gate.wait().then(() => (this.stopping ? undefined : this.exclusive(() => this.onBatch(records))));
  }

  private exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.lane.then(work);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Follows the writer's output from its tail on, then campaigns for the lease. */
  private async startStandby(standby: StandbyOptions): Promise<void> {
    const tailSeq = await standby.follower.start(
      (runs) => {
        this.check?.addPublished(runs);
        this.gate?.published();
      },
      (err) => (this.writing ? undefined : this.fail(err)), // once promoted, the follower no longer matters
    );
    const check = new DivergenceCheck({
      checkFromSeq: Math.max(tailSeq, this.engine.eventSeq) + 1,
      windowMax: standby.windowMax ?? STANDBY_WINDOW_EVENTS_MAX,
    });
    this.check = check;
    this.gate = new StandbyGate(() => check.full());
    const campaign = (): void =>
      standby.election.start(
        () => {
          // The writer is gone: nothing more will be published, so a batch waiting at the gate goes on, after this.
          this.gate?.open();
          const acquiredMs = performance.now();
          this.opts.logger.info({ eventSeq: this.engine.eventSeq, offset: this.appliedOffset }, 'writer lease taken');
          void this.exclusive(() => this.promote(standby, acquiredMs)).catch((err) => this.fail(err));
        },
        (reason) => this.fail(new StandbyError('ENGINE_LEASE_LOST', reason)),
      );
    // A standby that starts far behind (a replacement started cold, with no recent snapshot) would, promoted, replay
    // for as long before the venue trades again; hot standbys are there. It campaigns once its replay has reached
    // the topic's end as it found it (always reached: those events came from commands on the topic). Alone, it
    // still takes over, after a replay as long as a cold restart's.
    if (this.engine.eventSeq >= tailSeq) campaign();
    else this.campaignLater = { atSeq: tailSeq, start: campaign };
  }

  /** After a standby's batch: a replaying standby that has reached the topic's end at its start campaigns now. */
  private campaignOnceHot(): void {
    const later = this.campaignLater;
    if (later === null || this.engine.eventSeq < later.atSeq) return;
    this.campaignLater = null;
    this.opts.logger.info({ eventSeq: this.engine.eventSeq, offset: this.appliedOffset }, 'standby hot: campaigning');
    later.start();
  }

  /**
   * Becomes the writer: reads the events topic up to its end (the last seq the old writer published), writes the
   * events this standby computed after it, and from then on writes every batch's events.
   */
  private async promote(standby: StandbyOptions, acquiredMs: number): Promise<void> {
    if (this.writing || this.stopping || this.check === null) return;
    const startedMs = performance.now();
    const publishedSeq = await standby.follower.catchUp();
    const caughtUpMs = performance.now();
    const backlog = this.check.unpublished(publishedSeq, this.engine.eventSeq);
    this.check = null;
    this.writing = true;
    this.announceFirstWrite = true;
    this.emittedSeq = publishedSeq;
    // A standby behind the writer drops the events it recomputes up to publishedSeq, as a replay does.
    if (this.engine.eventSeq < publishedSeq) this.caughtUp = false;
    const gate = { pauses: this.gate?.pauses, pausedMs: round(this.gate?.pausedMs ?? 0) };
    // Where a failover's time goes after the lease is taken: the batch in hand (laneMs), following the events
    // topic to its end (catchUpMs), then the backlog (promotion done).
    const phases = { laneMs: round(startedMs - acquiredMs), catchUpMs: round(caughtUpMs - startedMs) };
    this.opts.logger.info(
      {
        publishedSeq,
        eventSeq: this.engine.eventSeq,
        backlogEvents: backlog.length,
        offset: this.appliedOffset,
        gate,
        ...phases,
      },
      'engine promoted to writer',
    );
    const backlogStartedMs = performance.now();
    const slices = await this.writeBacklog(backlog);
    // Off the failover's path: leaving the consumer group takes a round trip or more (run() awaits it at the end).
    void standby.follower.stop();
    const doneMs = performance.now();
    this.opts.logger.info(
      { promoteMs: round(doneMs - startedMs), backlogMs: round(doneMs - backlogStartedMs), slices },
      'promotion done',
    );
  }

  /** Writes a promoted standby's backlog in slices that let the lease's renewals run between them (backlog.ts). */
  private async writeBacklog(backlog: readonly ComputedEvent[]): Promise<number> {
    if (backlog.length === 0) return 0;
    this.emittedSeq = this.engine.eventSeq;
    const slices = await writeBacklog(backlog, this.packer, (records, first, last) =>
      this.appendNow(records, first, last),
    );
    // promote() runs in the lane: no batch can have emitted events meanwhile.
    assert.equal(this.emittedSeq, this.engine.eventSeq, 'the backlog is the last thing emitted');
    return slices;
  }

  private async recover(): Promise<ResumePoint> {
    const startedMs = performance.now();
    // The log's end is asked for first and awaited once the newest snapshot is read and verified: the round trips
    // to the broker overlap that read (0.1-0.3 s of a restart). resumePointMs is the wait left after the read.
    const resuming = this.opts.log.resumePoint();
    resuming.catch(() => undefined); // awaited below, unless reading the snapshots fails first
    const phases = { resumePointMs: 0, snapshotReadMs: 0, restoreMs: 0, invariantsMs: 0 };
    const awaitResume = async (): Promise<ResumePoint> => {
      const waitStartedMs = performance.now();
      const point = await resuming;
      phases.resumePointMs += performance.now() - waitStartedMs;
      return point;
    };
    let resume: ResumePoint | null = null;
    let readStartedMs = performance.now();
    const loaded = await this.opts.snapshots.loadNewest(async (bytes) => {
      phases.snapshotReadMs += performance.now() - readStartedMs;
      resume ??= await awaitResume();
      const restoreStartedMs = performance.now();
      const accepted = this.tryRestore(bytes, resume.eventSeq, phases);
      phases.restoreMs += performance.now() - restoreStartedMs - (accepted.invariantsMs ?? 0);
      readStartedMs = performance.now();
      return accepted.ok;
    });
    resume ??= await awaitResume();
    if (loaded === null) this.engine = new Engine(this.opts.limits);
    this.appliedOffset = loaded === null ? -1 : loaded.offset;
    this.emittedSeq = resume.eventSeq;
    this.recoveredAtMs = performance.now();
    this.opts.logger.info(
      {
        snapshotOffset: this.appliedOffset,
        resumeOffset: resume.commandOffset,
        eventSeq: this.engine.eventSeq,
        resumeSeq: resume.eventSeq,
        orders: this.engine.orders.size,
        ...roundAll(phases),
        recoverMs: round(this.recoveredAtMs - startedMs),
      },
      'engine daemon recovered',
    );
    this.checkCaughtUp();
    return resume;
  }

  /**
   * Restores `bytes` into this.engine if it can be resumed from. The invariants are checked here only when the
   * snapshot is at the log's end (nothing to replay): a broken one then falls back to an older snapshot. Otherwise
   * they are checked once, after the replay (checkCaughtUp): each check is O(state), about a second for a million
   * orders, and checking both before and after the replay put two of them on the restart's path.
   */
  private tryRestore(
    bytes: Uint8Array,
    logEventSeq: number,
    phases: { invariantsMs: number },
  ): { ok: boolean; invariantsMs?: number } {
    try {
      this.engine = restore(bytes);
    } catch (err) {
      this.opts.logger.warn({ err }, 'snapshot does not restore; trying an older one');
      return { ok: false };
    }
    const checkState = this.engine.eventSeq === logEventSeq;
    const checkStartedMs = performance.now();
    const problem = snapshotProblem(this.engine, logEventSeq, checkState);
    const invariantsMs = performance.now() - checkStartedMs;
    phases.invariantsMs += invariantsMs;
    if (problem === null) {
      this.stateChecked = checkState;
      return { ok: true, invariantsMs };
    }
    this.opts.logger.warn(
      { snapshotSeq: this.engine.eventSeq, logSeq: logEventSeq, problem },
      'snapshot cannot be resumed from; trying an older one',
    );
    return { ok: false, invariantsMs };
  }

  private readonly packer = new EventRecordPacker();

  private async onBatch(records: CommandRecord[]): Promise<void> {
    const startedMs = performance.now();
    const packer = this.packer;
    let firstOffset = -1;
    for (const record of records) {
      if (record.offset <= this.appliedOffset) continue; // a redelivery below what the state already holds
      const events = this.applyRecord(record);
      this.appliedOffset = record.offset;
      if (!this.writing) {
        this.check?.addComputed(events, record.offset);
        continue;
      }
      for (const ev of events) {
        if (ev.seq <= this.emittedSeq) continue; // replayed: already in the log
        if (firstOffset < 0) firstOffset = record.offset;
        packer.add(ev);
      }
    }
    const out: EventRecord[] = packer.take().map((value) => ({ key: '', value }));
    this.commandsSinceSnapshot += records.length;
    if (!this.caughtUp) this.checkCaughtUp();
    if (this.campaignLater !== null) this.campaignOnceHot();
    const appliedMs = performance.now();
    // The previous append finishes before this one starts: records stay in seq order, and at most one is in flight.
    await this.appending;
    if (out.length > 0) {
      this.emittedSeq = this.engine.eventSeq;
      const appending = this.appendNow(out, firstOffset, this.appliedOffset);
      // Awaited by the next batch (or run()); the handler keeps a failure from counting as unhandled until then.
      appending.catch(() => undefined);
      this.appending = appending;
      if (!PIPELINE_APPENDS) await appending;
    }
    this.opts.logger.debug(
      {
        commands: records.length,
        events: out.length,
        applyMs: appliedMs - startedMs,
        waitMs: performance.now() - appliedMs,
      },
      'batch',
    );
    if (this.commandsSinceSnapshot >= this.opts.snapshotEveryCommands) {
      await this.appending; // a snapshot only of a state whose events are all written
      await this.writeSnapshot();
    }
  }

  /**
   * Once, when the replay reaches the event log's end (from there on, output is new): the recovered state must hold
   * every invariant, or the process stops here rather than trade on a broken state (O(state), once per start).
   */
  private checkCaughtUp(): void {
    if (this.caughtUp || this.engine.eventSeq < this.emittedSeq) return;
    const checkStartedMs = performance.now();
    if (!this.stateChecked) {
      const problems = checkInvariants(this.engine);
      if (problems.length > 0)
        throw new Error(`engine invariants broken after recovery: ${problems.slice(0, 5).join('; ')}`);
      this.stateChecked = true;
    }
    this.caughtUp = true;
    const doneMs = performance.now();
    this.opts.logger.info(
      {
        offset: this.appliedOffset,
        eventSeq: this.engine.eventSeq,
        replayMs: round(checkStartedMs - this.recoveredAtMs),
        invariantsMs: round(doneMs - checkStartedMs),
        sinceProcessStartMs: round(doneMs),
        cpuSinceProcessStartMs: processCpuMs(),
      },
      'engine daemon caught up with the event log',
    );
  }

  private applyRecord(record: CommandRecord): EngineEvent[] {
    const decoded = decodeCommand(record.value, record.timestampMs);
    if (!decoded.ok) return this.engine.applyInvalid(decoded.id, record.timestampMs, decoded.code);
    if (!this.writing && record.offset === this.opts.standby?.faultOffset)
      return this.engine.applyInvalid(decoded.command.id, record.timestampMs, 'COMMAND_MALFORMED');
    return this.engine.apply(decoded.command);
  }

  /** The append of a batch's events; the first one after a promotion logs the failover's end. */
  private async appendNow(events: EventRecord[], firstOffset: number, lastOffset: number): Promise<void> {
    await this.append(events, firstOffset, lastOffset);
    if (!this.wroteSinceStart) {
      this.wroteSinceStart = true;
      // The end of a cold restart (bench:failover's restartMs): performance.now() counts from process start.
      this.opts.logger.info(
        { firstOffset, sinceProcessStartMs: round(performance.now()), cpuSinceProcessStartMs: processCpuMs() },
        'first events written',
      );
    }
    if (!this.announceFirstWrite) return;
    this.announceFirstWrite = false;
    this.opts.logger.info({ firstOffset, lastOffset }, 'first events written as the writer');
  }

  /**
   * Appends, retrying while the log is unavailable. A failed append may have written some records (a lost reply,
   * or a send cut in the middle), so before trying again the log's end is read back and only the records after
   * it are written again.
   */
  private async append(events: EventRecord[], firstOffset: number, lastOffset: number): Promise<void> {
    let pending = events;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.log.commit(pending, lastOffset, firstOffset);
        return;
      } catch (err) {
        if (this.stopping || isFatalLogError(err)) throw err;
        this.opts.logger.warn({ err, attempt, lastOffset }, 'append failed; checking what landed before retrying');
        const resume = await this.readResumePoint();
        pending = pending.filter((r) => lastSeqOf(r) > resume.eventSeq);
        if (pending.length === 0) return;
      }
    }
  }

  /** The log's end, waiting out an unavailable log (the daemon cannot go on without knowing it). */
  private async readResumePoint(): Promise<ResumePoint> {
    for (;;) {
      await sleep(this.opts.retryDelayMs ?? 500);
      try {
        return await this.opts.log.resumePoint();
      } catch (err) {
        if (this.stopping) throw err;
        this.opts.logger.warn({ err }, 'cannot read the event log end yet');
      }
    }
  }

  /** Runs in the lane (or after it has drained): no batch is applied while the snapshot is encoded in slices. */
  private async writeSnapshot(): Promise<void> {
    const startedMs = performance.now();
    const offset = this.appliedOffset;
    const { bytes, slices, sliceMsMax } = await encodeSnapshot(this.engine);
    assert.equal(this.appliedOffset, offset, 'no batch is applied while a snapshot is encoded');
    const encodedMs = performance.now();
    await this.opts.snapshots.write(bytes, offset);
    this.commandsSinceSnapshot = 0;
    this.opts.logger.info(
      {
        offset,
        bytes: bytes.length,
        slices,
        sliceMsMax: round(sliceMsMax),
        encodeMs: round(encodedMs - startedMs),
        writeMs: round(performance.now() - encodedMs),
      },
      'snapshot written',
    );
  }
}

/** The last seq of an event record (only on the retry path: it decodes the whole record). */
function lastSeqOf(record: EventRecord): number {
  const events = decodeEventRecord(record.value);
  return events[events.length - 1].seq;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Why a restored snapshot cannot be resumed from, or null. A snapshot is written once its events are; one ahead of
 * the log (a log that lost data, or another daemon's) cannot be resumed from without leaving a gap. And a state
 * that breaks an invariant (a bug, or a snapshot altered with a valid checksum) is never traded on: with
 * `checkState` false the caller checks the invariants later itself (once the replay is done).
 */
export function snapshotProblem(engine: Engine, logEventSeq: number, checkState = true): string | null {
  if (engine.eventSeq > logEventSeq)
    return `snapshot seq ${engine.eventSeq} is ahead of the event log's ${logEventSeq}`;
  if (!checkState) return null;
  const problems = checkInvariants(engine);
  return problems.length === 0 ? null : `invariants broken: ${problems.slice(0, 5).join('; ')}`;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** CPU time of the whole process (every thread: GC helpers included) since its start: a start-up figure that
 * says what the start cost when the machine is shared, where wall time says mostly how busy the machine was. */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1000);
}
const roundAll = <T extends Record<string, number>>(xs: T): T =>
  Object.fromEntries(Object.entries(xs).map(([k, v]) => [k, round(v)])) as T;
