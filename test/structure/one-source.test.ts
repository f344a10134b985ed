// One source for each constant: the domain's lists and patterns live in engine/core/formats.ts, the settings'
// readers and defaults in config/env.ts. This reads every built source file and fails on a retyped copy, which is
// how they drifted apart before (a pattern changed in one place and not in the other four).

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The folders of the compiled build: the product. */
const BUILT: string[] = createRequire(import.meta.url)(path.join(ROOT, 'tsconfig.build.json')).include;

interface Rule {
  readonly what: string;
  readonly retyped: RegExp;
  /** The one file allowed to state it. */
  readonly home: string | null;
}

const FORMATS = 'engine/core/formats.ts';
const ENV = 'config/env.ts';
const RULES: Rule[] = [
  { what: 'the id characters (ID_CHARS, idPattern, isPrintableId)', retyped: /x21-\\{0,2}x7e/, home: FORMATS },
  { what: 'the asset symbol rule (ASSET_SYMBOL)', retyped: /A-Z0-9\._\]\{1,16\}/, home: FORMATS },
  { what: 'the market symbol rule (MARKET_SYMBOL)', retyped: /A-Z0-9\._-\]\{3,33\}/, home: FORMATS },
  { what: 'the side list (SIDES)', retyped: /\[\s*'buy',\s*'sell'\s*\]/, home: FORMATS },
  { what: 'the order type list (ORDER_TYPES)', retyped: /'limit',\s*'market',\s*'stopLimit'/, home: FORMATS },
  { what: 'the time-in-force list (TIME_IN_FORCES)', retyped: /'GTC',\s*'IOC',\s*'FOK'/, home: FORMATS },
  { what: 'the STP mode list (STP_MODES)', retyped: /'none',\s*'expireTaker',\s*'expireMaker'/, home: FORMATS },
  { what: 'the close reason list (CLOSE_REASONS)', retyped: /'noLiquidity',\s*'funds'/, home: FORMATS },
  { what: "a command's version (COMMAND_VERSION, EVENT_VERSION, WIRE_VERSION)", retyped: /\bv: 1\b/, home: null },
  {
    what: 'the default topics (DEFAULT_COMMANDS_TOPIC, DEFAULT_EVENTS_TOPIC)',
    retyped: /exchange\.(commands|events)\.v1/,
    home: ENV,
  },
  { what: 'the DATABASE_URL check (postgresUrlVar)', retyped: /postgres\(ql\)\?/, home: ENV },
  { what: 'the KAFKA_BROKERS check (brokersVar)', retyped: /\+:\\d\{1,5\}/, home: ENV },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|tsx)$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** The web page and the benchmarks too: the page's form lists and the benches' commands drifted before. */
const files = [...BUILT, 'web/src', 'bench'].flatMap(sourceFiles);

t.test('the product has source files to check', async (t) => {
  t.ok(files.includes(FORMATS) && files.includes(ENV) && files.length > 100, `${files.length} files`);
});

for (const rule of RULES) {
  t.test(`${rule.what} is stated once`, async (t) => {
    const copies = files.filter((f) => f !== rule.home && rule.retyped.test(readFileSync(path.join(ROOT, f), 'utf8')));
    t.same(
      copies,
      [],
      `use the export instead of retyping it${rule.home === null ? '' : ` (it lives in ${rule.home})`}`,
    );
    if (rule.home !== null)
      t.match(readFileSync(path.join(ROOT, rule.home), 'utf8'), rule.retyped, 'its home states it');
  });
}
