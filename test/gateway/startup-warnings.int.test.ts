// The gateway starts without a warning: Fastify 5 warns at every start about deprecated options (such as the
// top-level disableRequestLogging), and an operator learns to ignore warnings that appear every time.

import t from 'tap';
import { startTestGateway } from './support.js';

t.test('building the gateway emits no process warning', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const tg = await startTestGateway('startup-warnings');
  t.teardown(() => tg.close());
  // Node emits warnings on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  t.same(warnings, [], 'no deprecation or other warning');
});
