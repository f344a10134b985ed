// The slice of ERC-20 the service uses. `transfer` is declared without a return value on purpose: USDT-style
// tokens return nothing, and a caller decoding a bool fails on them. Success is judged from the receipt instead:
// status 1 AND a Transfer log from/to/amount exactly as intended (a token that returns false without reverting
// emits no log, and is caught too).

import { Contract, Interface, getAddress, id, zeroPadValue } from 'ethers';
import type { JsonRpcProvider } from 'ethers';
import { BoundedJsonRpcProvider } from './rpc.js';
import type { Provider, TransactionReceipt } from 'ethers';
import type { ChainConfig } from './config.js';
import { ChainError } from './errors.js';

export const ERC20 = new Interface([
  'function balanceOf(address owner) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
  'function transfer(address to, uint256 value)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);

export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');

export function transferData(to: string, amount: bigint): string {
  return ERC20.encodeFunctionData('transfer', [to, amount]);
}

export function addressTopic(address: string): string {
  return zeroPadValue(getAddress(address), 32).toLowerCase();
}

export async function tokenBalance(provider: Provider, token: string, owner: string): Promise<bigint> {
  const [bal] = ERC20.decodeFunctionResult(
    'balanceOf',
    await provider.call({ to: token, data: ERC20.encodeFunctionData('balanceOf', [owner]) }),
  );
  return bal as bigint;
}

/** True when the receipt succeeded and holds exactly this token transfer. */
export function receiptHasTransfer(
  receipt: TransactionReceipt,
  t: { token: string; from: string; to: string; amount: bigint },
): boolean {
  if (receipt.status !== 1) return false;
  const fromTopic = addressTopic(t.from);
  const toTopic = addressTopic(t.to);
  return receipt.logs.some(
    (l) =>
      l.address.toLowerCase() === t.token.toLowerCase() &&
      l.topics.length === 3 &&
      l.topics[0] === TRANSFER_TOPIC &&
      l.topics[1].toLowerCase() === fromTopic &&
      l.topics[2].toLowerCase() === toTopic &&
      BigInt(l.data) === t.amount,
  );
}

/** The service's provider: bounded timeouts and retries on every call (chain/rpc.ts). */
export function makeProvider(
  config: Pick<ChainConfig, 'rpcUrl' | 'chainId' | 'pollIntervalMs'> & { rpc?: ChainConfig['rpc'] },
): JsonRpcProvider {
  const rpc = config.rpc ?? DEFAULT_RPC;
  return new BoundedJsonRpcProvider(config.rpcUrl, config.chainId, {
    ...rpc,
    pollingIntervalMs: Math.min(config.pollIntervalMs, 4_000),
  });
}

const DEFAULT_RPC: ChainConfig['rpc'] = { timeoutMs: 10_000, attempts: 3 };

/** At start: the RPC serves the configured chain, and every token is a contract with the configured decimals and symbol. */
export async function checkChainAndTokens(provider: JsonRpcProvider, config: ChainConfig): Promise<void> {
  const net = await provider.send('eth_chainId', []);
  if (BigInt(net as string) !== BigInt(config.chainId)) {
    throw new ChainError(
      'CHAIN_ID_MISMATCH',
      `${config.rpcUrl} serves chain ${BigInt(net as string)}, config says ${config.chainId}`,
      'config.chainId',
    );
  }
  for (const [i, t] of config.tokens.entries()) {
    const field = `config.tokens[${i}]`;
    if ((await provider.getCode(t.address)) === '0x')
      throw new ChainError('TOKEN_CHECK_FAILED', `${t.symbol}: no contract at ${t.address}`, `${field}.address`);
    const c = new Contract(t.address, ERC20, provider);
    let decimals: bigint;
    let symbol: string;
    try {
      decimals = (await c.getFunction('decimals')()) as bigint;
      symbol = (await c.getFunction('symbol')()) as string;
    } catch (err) {
      throw new ChainError(
        'TOKEN_CHECK_FAILED',
        `${t.symbol}: decimals()/symbol() failed at ${t.address}: ${(err as Error).message}`,
        `${field}.address`,
      );
    }
    if (Number(decimals) !== t.decimals)
      throw new ChainError(
        'TOKEN_CHECK_FAILED',
        `${t.symbol}: contract has ${decimals} decimals, config says ${t.decimals}`,
        `${field}.decimals`,
      );
    if (symbol !== t.symbol)
      throw new ChainError(
        'TOKEN_CHECK_FAILED',
        `${t.address}: contract symbol is ${JSON.stringify(symbol)}, config says ${JSON.stringify(t.symbol)}`,
        `${field}.symbol`,
      );
  }
}

export interface BlockHeader {
  readonly number: number;
  readonly hash: string;
  readonly parentHash: string;
}

export async function blockHeader(provider: JsonRpcProvider, n: number): Promise<BlockHeader | null> {
  const b = (await provider.send('eth_getBlockByNumber', ['0x' + n.toString(16), false])) as {
    number: string;
    hash: string;
    parentHash: string;
  } | null;
  if (b === null) return null;
  return { number: Number(BigInt(b.number)), hash: b.hash, parentHash: b.parentHash };
}
