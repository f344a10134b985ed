// Stable error codes of the chain service. Operating errors (bad config, wrong passphrase, RPC down) carry a code
// that tests and operators match on; the message is for humans and may change. A retired code is never reused.

/** Every code with what it means, grouped by area: docs/chain.md's table lists the same (test/chain/errors-docs.test.ts). */
export const CHAIN_ERROR_CODES = {
  // keystore
  KEYSTORE_EXISTS: 'keys:init refuses to overwrite an existing keystore file',
  KEYSTORE_NOT_FOUND: 'the keystore file does not exist',
  KEYSTORE_MALFORMED: 'the keystore file is not a keystore',
  KEYSTORE_UNSUPPORTED_VERSION: 'the keystore has a format version this code does not read',
  KEYSTORE_WRONG_PASSPHRASE: 'the passphrase does not unlock the keystore',
  KEYSTORE_TAMPERED: 'the keystore failed authentication: altered or corrupted',
  KEYSTORE_NO_PASSPHRASE: 'neither or both of KEYSTORE_PASSPHRASE and KEYSTORE_PASSPHRASE_FILE are set',
  KEYSTORE_WEAK_PASSPHRASE: 'the passphrase is too short',
  KEYSTORE_BAD_MNEMONIC: 'not a valid BIP-39 mnemonic',
  // configuration
  CHAIN_CONFIG_INVALID: 'a configuration file field is wrong, or the file unreadable (named)',
  CHAIN_ID_MISMATCH: 'the RPC node serves another chain than the configuration names',
  TOKEN_CHECK_FAILED: 'a configured token has no contract, or its decimals() or symbol() differ',
  // withdrawals: the reason of a refused withdrawal, carried in failWithdrawal
  WITHDRAWAL_BAD_ADDRESS: 'the destination is not a 20-byte hex address',
  WITHDRAWAL_BAD_AMOUNT: 'the amount is not in [1, 2^256-1] base units',
  WITHDRAWAL_UNKNOWN_ASSET: 'the asset is not a token of this chain',
  WITHDRAWAL_TX_REVERTED: "the withdrawal's transaction was mined and reverted",
  // deposits
  DEEP_REORG: 'a reorganisation deeper than the confirmations reached credited deposits: crediting halts',
} as const;

export type ChainErrorCode = keyof typeof CHAIN_ERROR_CODES;

export class ChainError extends Error {
  override readonly name = 'ChainError';
  constructor(
    readonly code: ChainErrorCode,
    message: string,
    /** The config field or input that is wrong, when there is one. */
    readonly field?: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A broken invariant: a bug, never retried (the service stops on it). */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new InvariantError(`assertion failed: ${what}`);
}
