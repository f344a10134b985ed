import t from 'tap';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, MigrationError } from '../../db/migrate.js';
import { createTestDatabase } from '../../testkit/pg.js';

t.test('migrations apply in order once, and a changed applied migration is refused', async (t) => {
  const db = await createTestDatabase('migrate');
  const dir = await mkdtemp(join(tmpdir(), 'mig-'));
  t.teardown(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, '0001_first.sql'), 'CREATE TABLE a (x int);');
  await writeFile(join(dir, '0002_second.sql'), 'INSERT INTO a VALUES (1);');

  t.same(await migrate(db.sql, { component: 'test', dir }), [1, 2], 'both applied from empty');
  t.same(await migrate(db.sql, { component: 'test', dir }), [], 're-run is a no-op');
  t.same(await db.sql`SELECT x FROM a`, [{ x: 1 }], 'the insert ran once');
  const other = await migrate(db.sql, { component: 'other', dir }).catch((e: Error) => e.message);
  t.equal(other, 'relation "a" already exists', 'each component has its own record: another one runs its files itself');

  await writeFile(join(dir, '0002_second.sql'), 'INSERT INTO a VALUES (2);');
  const err = await migrate(db.sql, { component: 'test', dir }).catch((e: unknown) => e);
  t.ok(err instanceof MigrationError && err.code === 'MIGRATION_CHANGED', 'a changed file is refused');

  await writeFile(join(dir, '0002_second.sql'), 'INSERT INTO a VALUES (1);');
  await writeFile(join(dir, '0003_broken.sql'), 'CREATE TABLE b (y int); SELECT no_such_function();');
  await t.rejects(migrate(db.sql, { component: 'test', dir }), 'a failing migration throws');
  const b = await db.sql`SELECT to_regclass('b') AS r`;
  t.equal(b[0].r, null, 'and leaves nothing half-applied');
  const versions = await db.sql`SELECT version FROM schema_migrations WHERE component = 'test' ORDER BY version`;
  t.same(
    versions.map((r) => r.version),
    [1, 2],
    'nor a record of it',
  );
});
