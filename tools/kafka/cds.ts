// Fast broker start-up: C1 only, and an AppCDS archive of the broker's classes dumped by the first broker that
// stops cleanly and mapped by every later one.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CDS_ARCHIVE_FILE } from './paths.js';

/** Dumping the CDS archive at exit took 2–20 s (idle vs. heavily loaded 2 cores); don't SIGKILL it. */
export const CDS_DUMP_EXTRA_STOP_MS = 60_000;

export interface FastStartupArgs {
  args: string[];
  /** Where this JVM dumps a new CDS archive at exit; published by publishCdsArchive(). */
  pendingArchive?: string;
}

export function cdsArchivePath(jarsDir: string): string {
  return path.join(jarsDir, CDS_ARCHIVE_FILE);
}

/**
 * Startup is CPU-bound (thousands of classes loaded, verified and JIT-compiled), so on 2 shared cores
 * it stretched from ~4 s to 20+ s. C1-only skips the C2 compiler threads; the AppCDS archive
 * (Java 13+ dynamic archive, dumped at JVM exit) maps pre-parsed classes instead of loading jars.
 * A JVM that cannot use the archive (other JDK build, changed classpath) falls back to normal loading.
 */
export function fastStartupJvmArgs(jarsDir: string, dumpIfMissing: boolean): FastStartupArgs {
  const args = ['-XX:TieredStopAtLevel=1'];
  const archive = cdsArchivePath(jarsDir);
  if (existsSync(archive)) return { args: [...args, `-XX:SharedArchiveFile=${archive}`] };
  if (!dumpIfMissing) return { args };
  // Unique name: brokers started side by side each dump their own, the first published one wins.
  const pendingArchive = `${archive}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  // -Xlog:cds=off: the dump lists every class it skips (old bytecode, unlinked), ~60 harmless lines.
  return { args: [...args, `-XX:ArchiveClassesAtExit=${pendingArchive}`, '-Xlog:cds=off'], pendingArchive };
}

/** Moves a freshly dumped archive into place; a missing dump (SIGKILL, failed start) is not an error. */
export async function publishCdsArchive(pendingArchive: string | undefined): Promise<void> {
  if (!pendingArchive) return;
  const archive = pendingArchive.slice(0, pendingArchive.lastIndexOf('.partial-'));
  if (existsSync(pendingArchive) && !existsSync(archive)) {
    await rename(pendingArchive, archive);
  } else {
    await rm(pendingArchive, { force: true });
  }
}
