// COPY text of times: the writer's cached formatting must give exactly what Date.toISOString gives, for any order
// of times (an order row alternates between its created, updated and closed times), and \N for NULL.

import t from 'tap';
import { time } from '../../persistence/copy-format.js';
import { Prng } from '../../testkit/prng.js';

t.test('time() equals toISOString, in any order of times', async (t) => {
  const seed = Number(process.env.PERSIST_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  const rng = new Prng(seed);
  const edges = [0, 1, 9, 10, 99, 100, 999, 1000, -1, -1001, 1_700_000_000_007, 253_402_300_799_999];
  const samples = [...edges];
  for (let i = 0; i < 20_000; i++) samples.push(1_600_000_000_000 + rng.int(0, 100_000_000_000));
  let wrong = 0;
  for (const ms of samples) if (time(ms) !== new Date(ms).toISOString()) wrong++;
  t.equal(wrong, 0, 'every time formats as toISOString does');
  t.equal(time(253_402_300_800_000), new Date(253_402_300_800_000).toISOString(), 'a year past 9999 too');
  t.equal(time(null), '\\N', 'NULL');
});
