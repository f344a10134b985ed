// The audit log on a real PostgreSQL: appends from many writers form one gap-free hash chain; the role appends run
// as can insert and read but not change or delete; the table refuses changes even from its owner; and when a
// superuser goes around all that, `npm run audit:verify` finds the edited row, the deleted row and a cut-off tail.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { AuditLog, verifyAudit } from '../../audit/log.js';
import { migrateAudit } from '../../audit/migrate.js';
import { REPO_ROOT } from '../daemon/recovery-support.js';
import { createTestDatabase } from '../../testkit/pg.js';

const run = promisify(execFile);

async function verifyCli(url: string, args: string[] = []): Promise<{ code: number; out: Record<string, unknown> }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'audit/verify-cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: url },
    });
    return { code: 0, out: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: JSON.parse(e.stdout) };
  }
}

t.test('audit log', async (t) => {
  const db = await createTestDatabase('audit');
  t.teardown(() => db.drop());
  await migrateAudit(db.sql);
  const audit = new AuditLog();

  await t.test('concurrent appends form one gap-free chain', async (t) => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        audit.append(db.sql, {
          actorType: 'user',
          actorId: String(i),
          userId: i,
          action: 'auth.login_succeeded',
          detail: { i },
          ip: '127.0.0.1',
        }),
      ),
    );
    await db.sql.begin((tx) =>
      audit.append(tx, {
        actorType: 'system',
        actorId: 'test',
        userId: null,
        action: 'withdrawal.sent',
        detail: { amount: 5n },
      }),
    );
    const v = await verifyAudit(db.sql);
    t.same([v.ok, v.rows, v.head?.seq], [true, 13, 13]);
    const cli = await verifyCli(db.url);
    t.same([cli.code, cli.out.ok, cli.out.rows], [0, true, 13], 'npm run audit:verify agrees');
  });

  await t.test('the writer role may insert and read, not change or delete; the owner may not either', async (t) => {
    for (const statement of [
      "UPDATE audit_log SET detail = '{}' WHERE seq = 1",
      'DELETE FROM audit_log WHERE seq = 1',
      'TRUNCATE audit_log',
    ]) {
      await t.rejects(
        db.sql.begin(async (tx) => {
          await tx.unsafe('SET LOCAL ROLE exchange_audit_writer');
          await tx.unsafe(statement);
        }),
        /permission denied/,
        `as the writer: ${statement}`,
      );
      await t.rejects(db.sql.unsafe(statement), /append-only/, `as the owner: ${statement}`);
    }
    t.equal((await verifyAudit(db.sql)).ok, true, 'nothing changed');
  });

  await t.test("a row edited or deleted behind the triggers' back is detected", async (t) => {
    const head = (await verifyAudit(db.sql)).head!;
    await db.sql.unsafe('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await db.sql`UPDATE audit_log SET detail = ${JSON.stringify({ i: 999 })} WHERE seq = 4`;
    let v = await verifyAudit(db.sql);
    t.same(
      v.problems.map((p) => [p.seq, p.problem]),
      [[4, 'hash_mismatch']],
      'the edited row',
    );
    const cli = await verifyCli(db.url);
    t.same([cli.code, cli.out.ok], [1, false], 'audit:verify exits 1');
    await db.sql`DELETE FROM audit_log WHERE seq = 7`;
    v = await verifyAudit(db.sql);
    t.same(
      v.problems.map((p) => [p.seq, p.problem]),
      [
        [4, 'hash_mismatch'],
        [8, 'gap'],
        [8, 'prev_hash_mismatch'],
      ],
      'the deleted row',
    );
    await db.sql`DELETE FROM audit_log WHERE seq > 10`;
    const cut = await verifyCli(db.url, ['--expect-head', `${head.seq}:${head.hash}`]);
    t.equal(cut.code, 1);
    t.match(
      cut.out.problems,
      [{}, {}, {}, { seq: head.seq, problem: 'head_mismatch' }],
      'a cut-off tail is found against the recorded head',
    );
  });
});
