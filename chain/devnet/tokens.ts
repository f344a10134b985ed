// Deploys the devnet tokens (18 and 6 decimals with an open mint, and a USDT-style token whose transfer returns
// nothing) from a funded signer, and helpers to mint and to move ETH. For tests and the embedded devnet only.

import { ContractFactory, Contract } from 'ethers';
import type { Signer } from 'ethers';
import { compileDevnetContracts } from './compile.js';

export interface DevToken {
  readonly symbol: string;
  readonly decimals: number;
  readonly address: string;
  readonly contract: Contract;
}

export interface DevTokens {
  /** 18 decimals, standard OpenZeppelin ERC20. */
  readonly tka: DevToken;
  /** 6 decimals, standard OpenZeppelin ERC20. */
  readonly tkb: DevToken;
  /** 6 decimals, transfer returns nothing (like USDT on mainnet). */
  readonly usdt: DevToken;
}

/** Deploys the three tokens and waits until they are mined. */
export async function deployDevTokens(
  deployer: Signer,
  opts: { evmVersion?: 'cancun' | 'shanghai' } = {},
): Promise<DevTokens> {
  const tokens = await sendDevTokenDeployments(deployer, opts);
  await Promise.all([tokens.tka, tokens.tkb, tokens.usdt].map((t) => t.contract.waitForDeployment()));
  return tokens;
}

/**
 * Sends the three deployments back to back with explicit nonces (from the deployer's pending nonce) without
 * waiting for them: an interval-mining chain (the embedded devnet) then mines them in one block, with whatever the
 * caller sends next from `nextNonce`. The addresses are known at once (they follow from the deployer and nonce).
 */
export async function sendDevTokenDeployments(
  deployer: Signer,
  opts: { evmVersion?: 'cancun' | 'shanghai' } = {},
): Promise<DevTokens & { readonly nextNonce: number }> {
  const a = await compileDevnetContracts(opts);
  const nonce = await deployer.getNonce('pending');
  const deploy = async (
    kind: 'TestToken' | 'NoReturnToken',
    token: { name: string; symbol: string; decimals: number; nonce: number },
  ): Promise<DevToken> => {
    const factory = new ContractFactory(a[kind].abi as never[], a[kind].bytecode, deployer);
    const c = await factory.deploy(token.name, token.symbol, token.decimals, { nonce: token.nonce });
    return { symbol: token.symbol, decimals: token.decimals, address: await c.getAddress(), contract: c as Contract };
  };
  // In nonce order: a later nonce sent first would wait in the pool for the earlier one.
  const tka = await deploy('TestToken', { name: 'Test Token A', symbol: 'TKA', decimals: 18, nonce });
  const tkb = await deploy('TestToken', { name: 'Test Token B', symbol: 'TKB', decimals: 6, nonce: nonce + 1 });
  const usdt = await deploy('NoReturnToken', {
    name: 'Tether-style USD',
    symbol: 'USDT',
    decimals: 6,
    nonce: nonce + 2,
  });
  return { tka, tkb, usdt, nextNonce: nonce + 3 };
}

export async function mint(token: DevToken, to: string, amount: bigint): Promise<string> {
  const tx = await token.contract.getFunction('mint')(to, amount);
  await tx.wait();
  return tx.hash as string;
}
