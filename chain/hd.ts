// Key derivation from the master mnemonic (BIP-32/44 with hdkey). Roles live on separate BIP-44 accounts so a
// user index can never collide with an operational wallet:
//   m/44'/60'/0'/0/{i}  deposit address of user slot i (allocated in PostgreSQL, chain/addresses.ts)
//   m/44'/60'/1'/0/0    hot wallet: pays withdrawals, receives sweeps
//   m/44'/60'/2'/0/0    gas wallet: tops up deposit addresses with ETH for sweeps
// Private keys are derived on demand into an ethers Wallet and never returned as data, logged or stored.

import { inspect } from 'node:util';
import * as bip39 from 'bip39';
import HDKey from 'hdkey';
import { Wallet, computeAddress, hexlify } from 'ethers';
import type { Provider } from 'ethers';
import { ChainError, assert } from './errors.js';

export const DEPOSIT_PATH = "m/44'/60'/0'/0";
export const HOT_WALLET_PATH = "m/44'/60'/1'/0/0";
export const GAS_WALLET_PATH = "m/44'/60'/2'/0/0";
/** Non-hardened child indices are below 2^31. */
export const DEPOSIT_INDEX_MAX = 0x7fffffff;

export class HdKeys {
  readonly #root: HDKey;
  readonly #deposits: HDKey;

  constructor(mnemonic: string) {
    if (!bip39.validateMnemonic(mnemonic)) throw new ChainError('KEYSTORE_BAD_MNEMONIC', 'not a valid BIP-39 mnemonic');
    this.#root = HDKey.fromMasterSeed(bip39.mnemonicToSeedSync(mnemonic));
    // The hardened part is derived once; children of it are cheap.
    this.#deposits = this.#root.derive(DEPOSIT_PATH);
  }

  depositAddress(index: number): string {
    return addressOf(this.#depositNode(index));
  }

  /**
   * Extended public key of the deposit branch (m/44'/60'/0'/0): what a process that only hands out deposit
   * addresses (the gateway) needs. It reveals every deposit address but cannot sign.
   */
  depositXpub(): string {
    return this.#deposits.publicExtendedKey;
  }

  depositWallet(index: number, provider: Provider): Wallet {
    return walletOf(this.#depositNode(index), provider);
  }

  hotWalletAddress(): string {
    return addressOf(this.#root.derive(HOT_WALLET_PATH));
  }

  hotWallet(provider: Provider): Wallet {
    return walletOf(this.#root.derive(HOT_WALLET_PATH), provider);
  }

  gasWalletAddress(): string {
    return addressOf(this.#root.derive(GAS_WALLET_PATH));
  }

  gasWallet(provider: Provider): Wallet {
    return walletOf(this.#root.derive(GAS_WALLET_PATH), provider);
  }

  #depositNode(index: number): HDKey {
    assert(
      Number.isSafeInteger(index) && index >= 0 && index <= DEPOSIT_INDEX_MAX,
      'deposit index is a non-hardened child index',
    );
    return this.#deposits.deriveChild(index);
  }

  // Nothing secret in logs, even when someone logs this object by mistake.
  [inspect.custom](): string {
    return 'HdKeys {}';
  }

  toJSON(): Record<string, never> {
    return {};
  }
}

/** What allocating deposit addresses needs: HdKeys (the chain service) or XpubDepositKeys (the gateway). */
export interface DepositKeys {
  depositAddress(index: number): string;
}

/** Depth of m/44'/60'/0'/0: a key of another level would derive other addresses. */
const DEPOSIT_BRANCH_DEPTH = 4;

/** Parses the deposit branch's extended public key; throws a ChainError when it is not one. */
export function parseXpub(xpub: string): HDKey {
  let node: HDKey;
  try {
    node = HDKey.fromExtendedKey(xpub);
  } catch (err) {
    throw new ChainError('KEYSTORE_MALFORMED', `not an extended public key (${(err as Error).message})`);
  }
  if (node.privateKey !== null)
    throw new ChainError('KEYSTORE_MALFORMED', 'an extended PRIVATE key was given where the public one belongs');
  if (node.depth !== DEPOSIT_BRANCH_DEPTH)
    throw new ChainError(
      'KEYSTORE_MALFORMED',
      `expected the key of m/44'/60'/0'/0 (depth ${DEPOSIT_BRANCH_DEPTH}), got depth ${node.depth}`,
    );
  return node;
}

/**
 * Deposit addresses from the branch's extended public key alone (non-hardened public derivation gives the same
 * keys as HdKeys derives from the mnemonic): the gateway hands out addresses without holding any secret.
 */
export class XpubDepositKeys implements DepositKeys {
  readonly #branch: HDKey;

  constructor(xpub: string) {
    this.#branch = parseXpub(xpub);
  }

  depositAddress(index: number): string {
    assert(
      Number.isSafeInteger(index) && index >= 0 && index <= DEPOSIT_INDEX_MAX,
      'deposit index is a non-hardened child index',
    );
    return addressOf(this.#branch.deriveChild(index));
  }
}

function addressOf(node: HDKey): string {
  assert(node.publicKey !== null, 'derived node has a public key');
  return computeAddress(hexlify(node.publicKey));
}

function walletOf(node: HDKey, provider: Provider): Wallet {
  assert(node.privateKey !== null, 'derived node has a private key');
  return new Wallet(hexlify(node.privateKey), provider);
}
