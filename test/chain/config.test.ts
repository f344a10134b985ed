// Chain config validation names the bad field; withdrawal validation (pure) refuses bad addresses and amounts.

import t from 'tap';
import { Wallet } from 'ethers';
import { parseChainConfig } from '../../chain/config.js';
import { validateWithdrawal } from '../../chain/withdrawals.js';

const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const base = {
  name: 'sepolia',
  chainId: 11155111,
  rpcUrl: 'https://rpc.example',
  confirmations: 12,
  startBlock: 100,
  tokens: [
    { assetId: 1, symbol: 'USDC', address: TOKEN, decimals: 6, sweepThreshold: '10000000', withdrawalMin: '1000' },
  ],
};

t.test('a valid config gets its defaults', async (t) => {
  const c = parseChainConfig(base);
  t.equal(c.pollIntervalMs, 4_000);
  t.equal(c.reorgWindowBlocks, 12 + 64);
  t.equal(c.tokens[0].sweepThreshold, 10_000_000n);
  t.equal(c.withdrawals.feeBumpPct, 20);
  t.equal(c.tokens[0].address, TOKEN);
});

t.test('each bad field is named', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, rpcUrl: 'ftp://x' }, 'config.rpcUrl'],
    [{ ...base, confirmations: 0 }, 'config.confirmations'],
    [{ ...base, chainId: '1' }, 'config.chainId'],
    [{ ...base, tokens: [] }, 'config.tokens'],
    [{ ...base, tokens: [{ ...base.tokens[0], address: TOKEN.replace('F', 'f') }] }, 'config.tokens[0].address'],
    [{ ...base, tokens: [{ ...base.tokens[0], sweepThreshold: 10 }] }, 'config.tokens[0].sweepThreshold'],
    [{ ...base, tokens: [{ ...base.tokens[0], decimals: 99 }] }, 'config.tokens[0].decimals'],
    [{ ...base, tokens: [base.tokens[0], { ...base.tokens[0], assetId: 2 }] }, 'config.tokens[1].address'],
    [{ ...base, tokens: [{ ...base.tokens[0], decimal: 6 }] }, 'config.tokens[0].decimal'],
    [{ ...base, reorgWindowBlocks: 12 }, 'config.reorgWindowBlocks'],
    [{ ...base, withdrawals: { feeBumpPct: 5 } }, 'config.withdrawals.feeBumpPct'],
    [{ ...base, pollInterval: 5 }, 'config.pollInterval'],
  ];
  for (const [cfg, field] of cases)
    t.throws(() => parseChainConfig(cfg), { code: 'CHAIN_CONFIG_INVALID', field }, field);
});

t.test('withdrawal validation', async (t) => {
  const c = parseChainConfig(base);
  const dest = Wallet.createRandom().address;
  const ok = (destination: string, amount = 5000n) => validateWithdrawal(c, { assetId: 1, amount, destination });
  t.match(ok(dest), { ok: true, destination: dest });
  t.match(ok(dest.toLowerCase()), { ok: true, destination: dest }, 'no checksum: accepted, normalised');
  t.match(ok('0x' + dest.slice(2).toUpperCase()), { ok: true, destination: dest });
  const flipped = dest.replace(/[a-f]/, (ch) => ch.toUpperCase());
  if (flipped !== dest) t.match(ok(flipped), { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS' }, 'bad checksum');
  t.match(ok(dest.slice(0, 41)), { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS' });
  t.match(ok(' ' + dest), { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS' });
  t.match(ok('0x0000000000000000000000000000000000000000'), { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS' });
  t.match(ok(TOKEN), { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS' });
  t.match(ok(dest, 0n), { ok: false, code: 'WITHDRAWAL_BAD_AMOUNT' });
  t.match(ok(dest, 999n), { ok: false, code: 'WITHDRAWAL_BAD_AMOUNT' }, 'below withdrawalMin');
  t.match(ok(dest, 1n << 256n), { ok: false, code: 'WITHDRAWAL_BAD_AMOUNT' });
  t.match(validateWithdrawal(c, { assetId: 9, amount: 5000n, destination: dest }), {
    ok: false,
    code: 'WITHDRAWAL_UNKNOWN_ASSET',
  });
});
