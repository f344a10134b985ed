// `npm run audit:verify -- [--expect-head SEQ:HASH]`: recomputes the audit log's hash chain (DATABASE_URL) and
// prints one JSON line: rows checked, the head (record it: a later run with --expect-head SEQ:HASH detects rows
// cut off the end), and the first problems. Exit 0 when the chain is intact, 1 when it is not, 2 on bad usage.

import postgres from 'postgres';
import { verifyAudit } from './log.js';
import { requiredPostgresUrl } from '../config/env.js';

function usage(message: string): never {
  process.stderr.write(
    `audit:verify: ${message}\nusage: DATABASE_URL=postgres://... npm run audit:verify -- [--expect-head SEQ:HASH]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { expectHead?: { seq: number; hash: string } } {
  if (argv.length === 0) return {};
  if (argv.length !== 2 || argv[0] !== '--expect-head') usage(`unexpected arguments: ${argv.join(' ')}`);
  const m = /^([1-9][0-9]{0,15}):([0-9a-f]{64})$/.exec(argv[1]);
  if (m === null) usage('--expect-head takes SEQ:HASH (the head printed by an earlier run)');
  return { expectHead: { seq: Number(m[1]), hash: m[2] } };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  let url: string;
  try {
    url = requiredPostgresUrl(process.env, 'DATABASE_URL');
  } catch (err) {
    usage((err as Error).message);
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const result = await verifyAudit(sql, opts);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`audit:verify: ${(err as Error).message}\n`);
  process.exit(2);
});
