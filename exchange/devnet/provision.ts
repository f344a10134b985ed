// First start of the devnet, once: deploy the demo tokens, fund the exchange's hot and gas wallets with ETH and
// the hot wallet with tokens (withdrawal liquidity), and remember all of it in DATA_DIR/devnet.json, written last
// (a crash before it means a clean redo: the half-done deployment is left unused on the chain). Later starts read
// the file and check that the chain still has the contracts: a data directory whose chain was lost would credit
// nothing and must be started over, so it is refused with a message saying so.

import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Contract, HDNodeWallet, Mnemonic, getAddress } from 'ethers';
import type { JsonRpcProvider, TransactionResponse } from 'ethers';
import type { Logger } from 'pino';
import { sendDevTokenDeployments } from '../../chain/devnet/tokens.js';
import type { HdKeys } from '../../chain/hd.js';

/** Hardhat's and ganache's well-known test mnemonic: devnet only, its keys are public. */
export const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEVNET_CHAIN_ID = 1337;
const ETH = 10n ** 18n;
const WALLET_FUNDING_WEI = 1000n * ETH;
const HOT_WALLET_TOKENS_WHOLE = 1_000_000n;
/** A first mint to a fresh address costs about 70,000 gas (two storage slots from zero, an event). */
const SETUP_MINT_GAS = 150_000n;

export interface DevnetToken {
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
  readonly address: string;
}

export interface DevnetState {
  readonly version: 1;
  readonly chainId: number;
  readonly tokens: readonly DevnetToken[];
  /** Block before the deployment: the chain service's first block to read. */
  readonly startBlock: number;
  /** The engine's assets and markets were appended (addAsset/addMarket); set once they are durable. */
  readonly listed: boolean;
}

export const TOKEN_ASSET_IDS: Readonly<Record<string, number>> = { TKA: 1, TKB: 2, USDT: 3 };

/** The funded account that deploys and mints (account 0 of DEVNET_MNEMONIC). */
export function devnetDeployer(provider: JsonRpcProvider): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEVNET_MNEMONIC), "m/44'/60'/0'/0/0").connect(provider);
}

export async function readDevnetState(file: string): Promise<DevnetState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const s = JSON.parse(text) as DevnetState;
  if (s.version !== 1 || !Array.isArray(s.tokens)) throw new Error(`${file}: not a devnet state file of version 1`);
  return s;
}

export async function writeDevnetState(file: string, s: DevnetState): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
  await rename(tmp, file);
}

/** The devnet as DATA_DIR knows it, deploying and funding on the first start. */
export async function provisionDevnet(opts: {
  file: string;
  provider: JsonRpcProvider;
  keys: HdKeys;
  logger: Logger;
}): Promise<DevnetState> {
  const { file, provider, keys, logger } = opts;
  const known = await readDevnetState(file);
  if (known !== null) {
    await checkDeployed(provider, known);
    return known;
  }
  logger.info('first start of the devnet: deploying the demo tokens and funding the exchange wallets');
  const deployer = devnetDeployer(provider);
  const startBlock = await provider.getBlockNumber();
  // Every set-up transaction is sent before any is awaited, with explicit nonces, and mined in one block (one
  // block time instead of eight). Interval mining is paused meanwhile and the block is mined on demand: with the
  // miner running, a start here once waited forever for a set-up transaction that never reached a block (sent, by
  // the nonces on the chain, while ganache was producing one; seen once in about twenty starts, not explained).
  await provider.send('miner_stop', []);
  let sent: TransactionResponse[];
  let t: Awaited<ReturnType<typeof sendDevTokenDeployments>>;
  try {
    t = await sendDevTokenDeployments(deployer, { evmVersion: 'shanghai' });
    sent = await sendFundingAndMints(deployer, t, keys);
    await provider.send('evm_mine', []);
  } finally {
    await provider.send('miner_start', []);
  }
  const tokens = [t.tka, t.tkb, t.usdt].map((d) => ({
    assetId: TOKEN_ASSET_IDS[d.symbol],
    symbol: d.symbol,
    decimals: d.decimals,
    address: getAddress(d.address),
  }));
  await Promise.all([t.tka, t.tkb, t.usdt].map((d) => d.contract.waitForDeployment()));
  for (const receipt of await Promise.all(sent.map((tx) => tx.wait()))) {
    if (receipt?.status !== 1) throw new Error(`a devnet set-up transaction failed: ${receipt?.hash ?? 'no receipt'}`);
  }
  const state: DevnetState = { version: 1, chainId: DEVNET_CHAIN_ID, tokens, startBlock, listed: false };
  await writeDevnetState(file, state);
  return state;
}

/** ETH for the hot and gas wallets, the hot wallet's tokens: sent after the deployments, from `t.nextNonce`. */
async function sendFundingAndMints(
  deployer: HDNodeWallet,
  t: Awaited<ReturnType<typeof sendDevTokenDeployments>>,
  keys: HdKeys,
): Promise<TransactionResponse[]> {
  let nonce = t.nextNonce;
  const sent: TransactionResponse[] = [];
  for (const to of [keys.hotWalletAddress(), keys.gasWalletAddress()]) {
    sent.push(await deployer.sendTransaction({ to, value: WALLET_FUNDING_WEI, nonce: nonce++ }));
  }
  for (const d of [t.tka, t.tkb, t.usdt]) {
    const amount = HOT_WALLET_TOKENS_WHOLE * 10n ** BigInt(d.decimals);
    // An explicit gas limit: an estimate would run against the latest block, where the contract does not exist
    // yet (its deployment is in the same block), and answer a plain transfer's 21,000.
    const mint = d.contract.getFunction('mint');
    sent.push(await mint(keys.hotWalletAddress(), amount, { nonce: nonce++, gasLimit: SETUP_MINT_GAS }));
  }
  return sent;
}

async function checkDeployed(provider: JsonRpcProvider, s: DevnetState): Promise<void> {
  for (const t of s.tokens) {
    if ((await provider.getCode(t.address)) === '0x') {
      throw new Error(
        `the devnet has no contract at ${t.address} (${t.symbol}) that devnet.json names: the chain's data was lost or belongs to another data directory; stop, delete the whole DATA_DIR and start again`,
      );
    }
  }
}

const MINT_ABI = ['function mint(address to, uint256 amount)'];
const MINT_GAS_HEADROOM = 25_000n;
/** Most the faucet gives per call, in whole tokens: keeps a typo from minting near 2^256. */
export const FAUCET_WHOLE_TOKENS_MAX = 1_000_000n;

export class FaucetError extends Error {
  constructor(
    readonly code: 'FAUCET_UNKNOWN_TOKEN' | 'FAUCET_BAD_ADDRESS' | 'FAUCET_BAD_AMOUNT',
    message: string,
  ) {
    super(message);
    this.name = 'FaucetError';
  }
}

/**
 * Mints devnet test tokens to an address (for a user: their deposit address, which makes it a deposit). One
 * mint at a time: the deployer's nonces are sequential. Resolves with the transaction hash once it is mined.
 */
export class Faucet {
  private tail: Promise<unknown> = Promise.resolve();
  /** Derived once: deriving from the mnemonic (PBKDF2) on each mint would block the shared event loop. */
  private readonly deployer: HDNodeWallet;

  constructor(
    provider: JsonRpcProvider,
    private readonly tokens: readonly DevnetToken[],
  ) {
    this.deployer = devnetDeployer(provider);
  }

  /** `amount` in base units of the token. */
  mint(to: string, symbol: string, amount: bigint): Promise<{ txHash: string; token: DevnetToken }> {
    const token = this.tokens.find((t) => t.symbol === symbol);
    if (token === undefined)
      return Promise.reject(
        new FaucetError(
          'FAUCET_UNKNOWN_TOKEN',
          `no devnet token ${JSON.stringify(symbol)} (have ${this.tokens.map((t) => t.symbol).join(', ')})`,
        ),
      );
    let address: string;
    try {
      address = getAddress(to);
    } catch {
      return Promise.reject(
        new FaucetError('FAUCET_BAD_ADDRESS', `not an address (or a bad EIP-55 checksum): ${JSON.stringify(to)}`),
      );
    }
    const max = FAUCET_WHOLE_TOKENS_MAX * 10n ** BigInt(token.decimals);
    if (amount <= 0n || amount > max)
      return Promise.reject(new FaucetError('FAUCET_BAD_AMOUNT', `amount must be 1..${max} base units of ${symbol}`));
    const run = this.tail.then(async () => {
      const c = new Contract(token.address, MINT_ABI, this.deployer);
      const mint = c.getFunction('mint');
      // The chain service may sweep this very address between the estimate and the mint: the recipient's balance
      // slot then goes from zero to non-zero, about 20,000 gas more than the estimate saw (a revert, out of gas).
      const gasLimit = (await mint.estimateGas(address, amount)) + MINT_GAS_HEADROOM;
      const tx = await mint(address, amount, { gasLimit });
      await tx.wait();
      return { txHash: tx.hash as string, token };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
