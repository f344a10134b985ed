// kafkajs's own log lines go through the daemon's pino logger (JSON, with the daemon's fields), never to the
// console in kafkajs's format; its routine per-retry errors are debug lines, not warnings.

import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { kafkaClient } from '../../kafka/client.js';

t.test('a client that cannot reach its broker logs through pino', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'trace', base: { service: 'engine' } }, sink);
  const consoleLines: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void consoleLines.push(args);
  t.teardown(() => void (console.error = original));

  // Port 9 (discard) has no broker: the connection is refused at once.
  const admin = kafkaClient(['127.0.0.1:9'], 'logging-test', logger).admin({ retry: { retries: 0 } });
  await t.rejects(admin.connect(), 'the connection fails');

  const fromKafkajs = lines.filter((l) => l.component === 'kafkajs');
  t.ok(fromKafkajs.length > 0, 'kafkajs logged through pino');
  t.ok(
    fromKafkajs.every((l) => l.service === 'engine' && typeof l.msg === 'string' && typeof l.namespace === 'string'),
    "as the daemon's JSON records",
  );
  t.ok(
    fromKafkajs.some((l) => l.namespace === 'Connection' && l.level === 20),
    'a refused connection is a routine debug line',
  );
  t.same(consoleLines, [], 'nothing went to the console');
});
