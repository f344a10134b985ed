-- Custody controls shared by the gateway (which refuses a withdrawal request before the engine holds the funds)
-- and the chain service (which refuses to sign): docs/security.md says which check lives where and why.
-- Amounts are NUMERIC(78,0) base units.

-- The withdrawal address book. A new address is usable from usable_at (added + the time lock); removal is immediate.
CREATE TABLE custody_withdrawal_addresses (
  address_id text PRIMARY KEY,
  user_id    bigint NOT NULL,
  -- EIP-55 checksummed
  address    text NOT NULL CHECK (address ~ '^0x[0-9a-fA-F]{40}$'),
  label      text NOT NULL,
  created_at timestamptz NOT NULL,
  usable_at  timestamptz NOT NULL,
  removed_at timestamptz
);
CREATE UNIQUE INDEX custody_withdrawal_addresses_live ON custody_withdrawal_addresses (user_id, address) WHERE removed_at IS NULL;

-- Per asset: the most a user may withdraw in any 24 h, and the amount above which a withdrawal waits for an
-- operator. NULL: no limit / no approval.
CREATE TABLE custody_asset_limits (
  asset_id               integer PRIMARY KEY,
  daily_withdrawal_limit numeric(78,0) CHECK (daily_withdrawal_limit >= 0),
  approval_threshold     numeric(78,0) CHECK (approval_threshold >= 0),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  updated_by             text
);

-- Withdrawal requests as the gateway admitted them, for the rolling 24 h limit (written before the engine command,
-- under a per-user lock). refused: the engine rejected it (nothing was held).
CREATE TABLE custody_withdrawal_requests (
  withdrawal_id text PRIMARY KEY,
  user_id       bigint NOT NULL,
  asset_id      integer NOT NULL,
  amount        numeric(78,0) NOT NULL CHECK (amount > 0),
  address       text NOT NULL,
  requested_at  timestamptz NOT NULL,
  refused       boolean NOT NULL DEFAULT false
);
CREATE INDEX custody_withdrawal_requests_window ON custody_withdrawal_requests (user_id, asset_id, requested_at);

-- What may happen to each withdrawal the engine holds, written by the chain service when it takes the withdrawal
-- in, by operators (approve, reject) and by the signer:
--   clear              may be signed
--   awaiting_approval  above the asset's approval threshold: waits for an operator
--   approved           an operator approved it: may be signed
--   rejected           an operator rejected it: the chain service fails it in the engine (refund), never signs it
--   signed             the chain service signed it (set in the signing transaction): too late to reject
-- The signer and the operator's decision both take this row's lock, so a rejection and a signature cannot cross.
CREATE TABLE custody_withdrawal_controls (
  withdrawal_id text PRIMARY KEY,
  user_id       bigint NOT NULL,
  asset_id      integer NOT NULL,
  amount        numeric(78,0) NOT NULL,
  destination   text NOT NULL,
  state         text NOT NULL CHECK (state IN ('clear', 'awaiting_approval', 'approved', 'rejected', 'signed')),
  decided_by    text,
  decided_at    timestamptz,
  reason        text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX custody_withdrawal_controls_waiting ON custody_withdrawal_controls (created_at) WHERE state = 'awaiting_approval';

-- Venue-wide switches (one row). The kill switch halts every market (their statuses before it are kept to resume)
-- and every withdrawal (nothing more is signed; signed ones still go out, their nonces are taken).
CREATE TABLE custody_controls (
  id                     boolean PRIMARY KEY DEFAULT true CHECK (id),
  withdrawals_halted     boolean NOT NULL DEFAULT false,
  kill_switch_engaged    boolean NOT NULL DEFAULT false,
  market_statuses_before jsonb,
  updated_at             timestamptz NOT NULL DEFAULT now(),
  updated_by             text
);
INSERT INTO custody_controls (id) VALUES (true);

-- Users frozen by an operator: the engine refuses their orders and withdrawal requests (setUserFrozen); this row
-- stops the chain service from signing their pending withdrawals.
CREATE TABLE custody_frozen_users (
  user_id   bigint PRIMARY KEY,
  frozen_at timestamptz NOT NULL DEFAULT now(),
  frozen_by text NOT NULL,
  reason    text
);

-- Hot and cold wallet figures per token, written by the chain service every withdrawal loop, read by operators.
CREATE TABLE custody_wallet_figures (
  chain_id        bigint NOT NULL,
  token           text NOT NULL,
  asset_id        integer NOT NULL,
  symbol          text NOT NULL,
  hot_address     text NOT NULL,
  hot_balance     numeric(78,0) NOT NULL,
  in_flight       numeric(78,0) NOT NULL,
  queued          numeric(78,0) NOT NULL,
  cold_address    text,
  cold_balance    numeric(78,0),
  hot_cap         numeric(78,0),
  refill_below    numeric(78,0),
  low             boolean NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (chain_id, token)
);
