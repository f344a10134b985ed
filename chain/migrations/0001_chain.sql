-- Chain service state. Amounts are NUMERIC(78,0) base units (uint256 fits); chain ids are bigint.

-- One deposit slot per user, the same on every EVM chain (the address is chain-independent); allocated once.
CREATE TABLE chain_deposit_addresses (
  user_id     bigint PRIMARY KEY,
  addr_index  integer NOT NULL UNIQUE CHECK (addr_index >= 0),
  address     text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Watcher cursor: the next block to read. `halted` stops crediting after a reorg deeper than the confirmations.
CREATE TABLE chain_watch_cursor (
  chain_id    bigint PRIMARY KEY,
  next_block  bigint NOT NULL CHECK (next_block >= 0),
  halted      boolean NOT NULL DEFAULT false,
  halt_reason text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Hashes of recently read blocks (a bounded window) to detect a replaced block.
CREATE TABLE chain_blocks (
  chain_id     bigint NOT NULL,
  block_number bigint NOT NULL,
  block_hash   text NOT NULL,
  parent_hash  text NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);

CREATE TABLE chain_deposits (
  chain_id     bigint NOT NULL,
  tx_hash      text NOT NULL,
  log_index    integer NOT NULL,
  block_number bigint NOT NULL,
  block_hash   text NOT NULL,
  token        text NOT NULL,
  asset_id     integer NOT NULL,
  user_id      bigint NOT NULL,
  to_address   text NOT NULL,
  amount       numeric(78,0) NOT NULL CHECK (amount > 0),
  -- seen: in a block, waiting for confirmations; credited: Deposit command sent; dropped: its block was replaced
  state        text NOT NULL CHECK (state IN ('seen', 'credited', 'dropped')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  credited_at  timestamptz,
  -- the sweep that moved this deposit to the hot wallet
  sweep_id     bigint,
  PRIMARY KEY (chain_id, tx_hash, log_index)
);
CREATE INDEX chain_deposits_seen ON chain_deposits (chain_id, block_number) WHERE state = 'seen';
CREATE INDEX chain_deposits_unswept ON chain_deposits (chain_id, to_address, token) WHERE state = 'credited' AND sweep_id IS NULL;

-- Next nonce of each sending account (hot wallet, gas wallet), allocated under a row lock with the signed tx.
CREATE TABLE chain_nonces (
  chain_id   bigint NOT NULL,
  address    text NOT NULL,
  next_nonce bigint NOT NULL CHECK (next_nonce >= 0),
  PRIMARY KEY (chain_id, address)
);

-- Sweeps: one step machine per row; every signed transaction is stored before it is broadcast.
--   planned -> topup_signed -> funded -> transfer_signed -> done   (topup skipped when the address has the gas)
CREATE TABLE chain_sweeps (
  id                   bigserial PRIMARY KEY,
  chain_id             bigint NOT NULL,
  token                text NOT NULL,
  addr_index           integer NOT NULL,
  address              text NOT NULL,
  amount               numeric(78,0) NOT NULL CHECK (amount > 0),
  state                text NOT NULL CHECK (state IN ('planned', 'topup_signed', 'funded', 'transfer_signed', 'done', 'failed')),
  gas_limit            numeric(78,0) NOT NULL,
  max_fee_per_gas      numeric(78,0) NOT NULL,
  max_priority_fee     numeric(78,0) NOT NULL,
  topup_amount         numeric(78,0) NOT NULL DEFAULT 0,
  topup_nonce          bigint,
  topup_raw_tx         text,
  topup_tx_hash        text,
  transfer_nonce       bigint,
  transfer_raw_tx      text,
  transfer_tx_hash     text,
  detail               text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
-- A deposit address sends one sweep at a time (its nonce is then the chain's count of its transactions).
CREATE UNIQUE INDEX chain_sweeps_active ON chain_sweeps (chain_id, address) WHERE state NOT IN ('done', 'failed');

-- Withdrawals from the hot wallet.
--   queued -> signed -> broadcast -> confirmed (completeWithdrawal sent) | failed (failWithdrawal sent)
--   rejected: refused before signing (bad address/amount/asset), failWithdrawal sent
CREATE TABLE chain_withdrawals (
  withdrawal_id    text PRIMARY KEY,
  chain_id         bigint NOT NULL,
  user_id          bigint NOT NULL,
  asset_id         integer NOT NULL,
  token            text,
  destination      text NOT NULL,
  amount           numeric(78,0) NOT NULL,
  state            text NOT NULL CHECK (state IN ('queued', 'signed', 'broadcast', 'confirmed', 'failed', 'rejected')),
  -- why a queued withdrawal waits (e.g. HOT_WALLET_UNDERFUNDED) or why it failed
  status_code      text,
  status_detail    text,
  nonce            bigint,
  gas_limit        numeric(78,0),
  max_fee_per_gas  numeric(78,0),
  max_priority_fee numeric(78,0),
  raw_tx           text,
  tx_hash          text,
  broadcast_at     timestamptz,
  mined_tx_hash    text,
  mined_block      bigint,
  reported         boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((state IN ('queued', 'rejected')) = (nonce IS NULL))
);
CREATE UNIQUE INDEX chain_withdrawals_nonce ON chain_withdrawals (chain_id, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX chain_withdrawals_open ON chain_withdrawals (chain_id, state) WHERE state IN ('queued', 'signed', 'broadcast');

-- Every signed version of a withdrawal's transaction (the first and its fee replacements, all at one nonce):
-- any of them may be the one mined.
CREATE TABLE chain_withdrawal_txs (
  withdrawal_id    text NOT NULL REFERENCES chain_withdrawals (withdrawal_id),
  attempt          integer NOT NULL,
  tx_hash          text NOT NULL UNIQUE,
  raw_tx           text NOT NULL,
  max_fee_per_gas  numeric(78,0) NOT NULL,
  max_priority_fee numeric(78,0) NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (withdrawal_id, attempt)
);
