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

export async function deployDevTokens(
  deployer: Signer,
  opts: { evmVersion?: 'cancun' | 'shanghai' } = {},
): Promise<DevTokens> {
  const a = await compileDevnetContracts(opts);
  const deploy = async (
    kind: 'TestToken' | 'NoReturnToken',
    name: string,
    symbol: string,
    decimals: number,
  ): Promise<DevToken> => {
    const factory = new ContractFactory(a[kind].abi as never[], a[kind].bytecode, deployer);
    const c = await factory.deploy(name, symbol, decimals);
    await c.waitForDeployment();
    return { symbol, decimals, address: await c.getAddress(), contract: c as Contract };
  };
  // Sequential: each deployment takes the deployer's next nonce.
  const tka = await deploy('TestToken', 'Test Token A', 'TKA', 18);
  const tkb = await deploy('TestToken', 'Test Token B', 'TKB', 6);
  const usdt = await deploy('NoReturnToken', 'Tether-style USD', 'USDT', 6);
  return { tka, tkb, usdt };
}

export async function mint(token: DevToken, to: string, amount: bigint): Promise<string> {
  const tx = await token.contract.getFunction('mint')(to, amount);
  await tx.wait();
  return tx.hash as string;
}
