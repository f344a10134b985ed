// A request's logger (gateway/logging.ts: lazyRequestLogger) is pino's child only once the request logs: a line
// then carries the request id and the redaction holds; a request that logs nothing, or only below the level,
// never makes the child.

import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import t from 'tap';
import { gatewayLoggerOptions, lazyRequestLogger } from '../../gateway/logging.js';

function gatewayWithLines() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino(gatewayLoggerOptions('info'), sink);
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof logger.child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: lazyRequestLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/quiet', async (request) => {
    request.log.debug('below the level');
    return { ok: true };
  });
  app.get('/loud', async (request) => {
    request.log.warn({ secret: 's3cret', password: 'p' }, 'something to say');
    return { ok: true };
  });
  // Children made while starting (Fastify's own) are not the requests'.
  const ready = app.ready().then(() => (children = 0));
  return { app, lines, children: () => children, ready };
}

t.test('no child logger for a request that logs nothing at its level', async (t) => {
  const { app, lines, children, ready } = gatewayWithLines();
  await ready;
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/quiet' })).statusCode, 200);
  t.equal(children(), 0, 'pino made no child');
  t.same(lines, [], 'and nothing was written');
  await app.close();
});

t.test('a line of a request carries its id and is redacted', async (t) => {
  const { app, lines, children, ready } = gatewayWithLines();
  await ready;
  await app.inject({ method: 'GET', url: '/loud' });
  t.equal(children(), 1, 'the child is made when the request logs');
  t.equal(lines.length, 1);
  t.match(lines[0], { msg: 'something to say', service: 'gateway', secret: '[redacted]', password: '[redacted]' });
  t.match(lines[0].reqId, /^req-/, "the request's id");
  await app.close();
});
