// Stable error codes of the chain service. Operating errors (bad config, wrong passphrase, RPC down) carry a code
// that tests and operators match on; the message is for humans and may change. A retired code is never reused.

export type ChainErrorCode =
  // keystore (1xx)
  | 'KEYSTORE_EXISTS'
  | 'KEYSTORE_NOT_FOUND'
  | 'KEYSTORE_MALFORMED'
  | 'KEYSTORE_UNSUPPORTED_VERSION'
  | 'KEYSTORE_WRONG_PASSPHRASE'
  | 'KEYSTORE_TAMPERED'
  | 'KEYSTORE_NO_PASSPHRASE'
  | 'KEYSTORE_WEAK_PASSPHRASE'
  | 'KEYSTORE_BAD_MNEMONIC'
  // configuration (2xx)
  | 'CHAIN_CONFIG_INVALID'
  | 'CHAIN_ID_MISMATCH'
  | 'TOKEN_CHECK_FAILED'
  // withdrawals (3xx): the reason of a refused withdrawal, carried in failWithdrawal
  | 'WITHDRAWAL_BAD_ADDRESS'
  | 'WITHDRAWAL_BAD_AMOUNT'
  | 'WITHDRAWAL_UNKNOWN_ASSET'
  | 'WITHDRAWAL_TX_REVERTED'
  // deposits (4xx)
  | 'DEEP_REORG';

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
