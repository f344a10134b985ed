// An exclusive lock on a data directory: a lock file holding the owner's pid, host and process start time.
// Node has no flock(), so the lock is a file created atomically (link() of a fully written temp file fails if the
// name exists) and considered stale when its owner is gone: no such pid, or (Linux) a pid reused by a process
// that started at a different time. A SIGKILLed owner therefore does not block the next start.
//
// It guards against starting a second daemon on the same directory by mistake. It is not a race-free mutex:
// two processes that find the same stale lock at the same instant can both take it over.

import { link, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { errorCode } from './durable-fs.js';

export class DirectoryLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder,
  ) {
    const who =
      holder.pid === process.pid && holder.host === os.hostname()
        ? 'this process'
        : `pid ${holder.pid} on ${holder.host}`;
    super(
      `${lockPath} is held by ${who} since ${holder.acquiredAt}: another log is open on this data directory and two writers would corrupt it. If that process is gone, delete the lock file.`,
    );
    this.name = 'DirectoryLockedError';
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Process start time in clock ticks since boot (Linux /proc), null where unavailable. */
  readonly startTicks: string | null;
  readonly acquiredAt: string;
}

const TAKEOVER_ATTEMPTS = 3;
let tempSeq = 0;

export class FileLock {
  private released = false;

  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  /** Takes the lock at `lockPath`, replacing a stale one; throws DirectoryLockedError if a live process holds it. */
  static async acquire(lockPath: string): Promise<FileLock> {
    const me: LockHolder = {
      pid: process.pid,
      host: os.hostname(),
      startTicks: await processStartTicks(process.pid),
      acquiredAt: new Date().toISOString(),
    };
    const tempPath = `${lockPath}.${process.pid}.${++tempSeq}.tmp`;
    const fh = await open(tempPath, 'w');
    try {
      await fh.writeFile(`${JSON.stringify(me)}\n`);
    } finally {
      await fh.close();
    }
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await link(tempPath, lockPath);
          return new FileLock(lockPath, me);
        } catch (err) {
          if (errorCode(err) !== 'EEXIST' || attempt >= TAKEOVER_ATTEMPTS) throw err;
        }
        const holder = await readHolder(lockPath);
        if (holder !== null && (await isAlive(holder))) throw new DirectoryLockedError(lockPath, holder);
        await rm(lockPath, { force: true });
      }
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const holder = await readHolder(this.path);
    if (holder !== null && holder.pid === this.holder.pid && holder.acquiredAt === this.holder.acquiredAt)
      await rm(this.path, { force: true });
  }
}

/** The lock's holder; null if the file is gone or unreadable (a lock nobody can be shown to hold). */
async function readHolder(lockPath: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockHolder>;
    // pid <= 0 would address a process group in kill(): only a corrupt file holds one.
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0 || typeof parsed.host !== 'string')
      return null;
    const pid = parsed.pid as number;
    return { pid, host: parsed.host, startTicks: parsed.startTicks ?? null, acquiredAt: String(parsed.acquiredAt) };
  } catch {
    return null;
  }
}

async function isAlive(holder: LockHolder): Promise<boolean> {
  if (holder.host !== os.hostname()) return true; // a shared file system: no way to check, so assume it is held
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (errorCode(err) === 'ESRCH') return false; // EPERM: alive, owned by another user
  }
  if (holder.startTicks === null) return true;
  const startTicks = await processStartTicks(holder.pid);
  return startTicks === null || startTicks === holder.startTicks;
}

/** Field 22 of /proc/<pid>/stat (start time since boot), which tells a reused pid apart; null off Linux. */
async function processStartTicks(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesized and may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
