-- Persistence: the engine's events projected into tables users and operators query, and a double-entry ledger.
-- Money is NUMERIC(78,0) base units (every uint256 fits); prices and quantities are kept both in engine units
-- (ticks, lots: exact integers) and in base units. Timestamps are the engine's command time (`timeMs`).

-- Where the consumer is: the last event applied, written in the same transaction as that event's rows, so a
-- redelivered event (seq <= last_seq) is skipped and a crash never applies a batch twice or half.
CREATE TABLE persistence_position (
  id smallint PRIMARY KEY CHECK (id = 1),
  last_seq bigint NOT NULL CHECK (last_seq >= 0),
  -- Position in the event source (Kafka offset of the last record applied); -1 before the first.
  source_offset bigint NOT NULL CHECK (source_offset >= -1),
  commands_applied bigint NOT NULL CHECK (commands_applied >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO persistence_position (id, last_seq, source_offset, commands_applied) VALUES (1, 0, -1, 0);

-- The engine opens an account on a user's first deposit; registration (the gateway) fills the profile later.
CREATE TABLE users (
  user_id bigint PRIMARY KEY CHECK (user_id > 0),
  first_seen_seq bigint NOT NULL,
  first_seen_at timestamptz NOT NULL,
  email text UNIQUE,
  display_name text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  registered_at timestamptz
);

CREATE TABLE assets (
  asset_id integer PRIMARY KEY CHECK (asset_id >= 0),
  symbol text NOT NULL UNIQUE,
  decimals smallint NOT NULL CHECK (decimals BETWEEN 0 AND 36),
  created_seq bigint NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE markets (
  market_id integer PRIMARY KEY CHECK (market_id >= 0),
  symbol text NOT NULL UNIQUE,
  base_asset_id integer NOT NULL REFERENCES assets,
  quote_asset_id integer NOT NULL REFERENCES assets,
  -- Quote base units per whole base token per tick; base units per lot.
  tick_size numeric(78,0) NOT NULL CHECK (tick_size > 0),
  lot_size numeric(78,0) NOT NULL CHECK (lot_size > 0),
  min_notional numeric(78,0) NOT NULL CHECK (min_notional >= 0),
  maker_fee_bps integer NOT NULL CHECK (maker_fee_bps >= 0),
  taker_fee_bps integer NOT NULL CHECK (taker_fee_bps >= 0),
  created_seq bigint NOT NULL,
  created_at timestamptz NOT NULL,
  CHECK (base_asset_id <> quote_asset_id)
);

-- One row per accepted order, updated as it rests, fills, is amended and closes.
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  user_id bigint NOT NULL,
  market_id integer NOT NULL,
  client_order_id text,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  order_type text NOT NULL CHECK (order_type IN ('limit', 'market', 'stopLimit', 'stopMarket')),
  time_in_force text NOT NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
  post_only boolean NOT NULL,
  stp text NOT NULL,
  -- pendingTrigger: a stop order not yet triggered; new: live without fills; partiallyFilled: live with fills.
  status text NOT NULL CHECK (status IN ('pendingTrigger', 'new', 'partiallyFilled', 'filled', 'canceled', 'expired')),
  close_reason text,
  price_ticks bigint NOT NULL CHECK (price_ticks >= 0),
  price numeric(78,0) NOT NULL CHECK (price >= 0),
  stop_price_ticks bigint NOT NULL CHECK (stop_price_ticks >= 0),
  stop_price numeric(78,0) NOT NULL CHECK (stop_price >= 0),
  -- Quantity as placed, as now (an amend changes it), filled and remaining, in lots and in base units.
  original_qty_lots bigint NOT NULL CHECK (original_qty_lots >= 0),
  qty_lots bigint NOT NULL CHECK (qty_lots >= 0),
  filled_lots bigint NOT NULL CHECK (filled_lots >= 0),
  remaining_lots bigint NOT NULL CHECK (remaining_lots >= 0),
  original_quantity numeric(78,0) NOT NULL CHECK (original_quantity >= 0),
  filled_quantity numeric(78,0) NOT NULL CHECK (filled_quantity >= 0),
  remaining_quantity numeric(78,0) NOT NULL CHECK (remaining_quantity >= 0),
  -- Market buys by budget: the quote to spend, fees included.
  quote_quantity numeric(78,0) NOT NULL CHECK (quote_quantity >= 0),
  -- Sum of the trades' quote amounts (before fees), and the fees this order paid (quote asset).
  filled_quote numeric(78,0) NOT NULL CHECK (filled_quote >= 0),
  fees_paid numeric(78,0) NOT NULL CHECK (fees_paid >= 0),
  -- filled_quote / filled_quantity in quote base units per whole base token, 18 decimals, rounded down.
  avg_fill_price numeric,
  hold_asset_id integer NOT NULL,
  held numeric(78,0) NOT NULL CHECK (held >= 0),
  trades_count integer NOT NULL CHECK (trades_count >= 0),
  created_seq bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_seq bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  triggered_at timestamptz,
  closed_at timestamptz
);
CREATE INDEX orders_user_created ON orders (user_id, created_seq DESC);
CREATE INDEX orders_open ON orders (market_id, side, price_ticks) WHERE status IN ('pendingTrigger', 'new', 'partiallyFilled');

-- Orders refused at placement (no order id): users ask why their order is not there.
CREATE TABLE order_rejections (
  seq bigint PRIMARY KEY,
  cmd_id text NOT NULL,
  user_id bigint NOT NULL,
  market_id bigint NOT NULL,
  client_order_id text,
  code text NOT NULL,
  rejected_at timestamptz NOT NULL
);
CREATE INDEX order_rejections_user ON order_rejections (user_id, seq DESC);

CREATE TABLE trades (
  trade_id bigint PRIMARY KEY,
  seq bigint NOT NULL UNIQUE,
  market_id integer NOT NULL,
  price_ticks bigint NOT NULL CHECK (price_ticks > 0),
  price numeric(78,0) NOT NULL CHECK (price > 0),
  qty_lots bigint NOT NULL CHECK (qty_lots > 0),
  base_amount numeric(78,0) NOT NULL CHECK (base_amount > 0),
  quote_amount numeric(78,0) NOT NULL CHECK (quote_amount >= 0),
  taker_side text NOT NULL CHECK (taker_side IN ('buy', 'sell')),
  maker_order_id bigint NOT NULL,
  taker_order_id bigint NOT NULL,
  maker_user_id bigint NOT NULL,
  taker_user_id bigint NOT NULL,
  -- Both fees are in the quote asset.
  maker_fee numeric(78,0) NOT NULL CHECK (maker_fee >= 0),
  taker_fee numeric(78,0) NOT NULL CHECK (taker_fee >= 0),
  executed_at timestamptz NOT NULL
);
CREATE INDEX trades_market ON trades (market_id, trade_id DESC);
CREATE INDEX trades_maker_user ON trades (maker_user_id, trade_id DESC);
CREATE INDEX trades_taker_user ON trades (taker_user_id, trade_id DESC);

-- The engine's own figures (balanceChanged), per user and asset: what the ledger must add up to.
CREATE TABLE balances (
  user_id bigint NOT NULL,
  asset_id integer NOT NULL,
  available numeric(78,0) NOT NULL CHECK (available >= 0),
  held numeric(78,0) NOT NULL CHECK (held >= 0),
  pending numeric(78,0) NOT NULL CHECK (pending >= 0),
  updated_seq bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, asset_id)
);

CREATE TABLE deposits (
  deposit_id text PRIMARY KEY,
  user_id bigint NOT NULL,
  asset_id integer NOT NULL,
  amount numeric(78,0) NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('credited')),
  seq bigint NOT NULL UNIQUE,
  credited_at timestamptz NOT NULL
);
CREATE INDEX deposits_user ON deposits (user_id, seq DESC);

CREATE TABLE withdrawals (
  withdrawal_id text PRIMARY KEY,
  user_id bigint NOT NULL,
  asset_id integer NOT NULL,
  amount numeric(78,0) NOT NULL CHECK (amount > 0),
  destination text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  tx_hash text,
  fail_reason text,
  requested_seq bigint NOT NULL,
  requested_at timestamptz NOT NULL,
  finished_seq bigint,
  finished_at timestamptz,
  CHECK ((status = 'pending') = (finished_seq IS NULL))
);
CREATE INDEX withdrawals_user ON withdrawals (user_id, requested_seq DESC);
CREATE INDEX withdrawals_pending ON withdrawals (requested_seq) WHERE status = 'pending';

-- Double-entry ledger. Accounts are (kind, user, asset); user 0 is the exchange itself.
--   1 available, 2 held, 3 pending withdrawal: what the exchange owes a user (credit-normal)
--   4 fee revenue: the exchange's income (credit-normal)
--   5 custody: what the exchange holds on chain (debit-normal): deposits debit it, completed withdrawals credit it
-- Per asset, custody always equals the sum of all the other accounts.
CREATE TABLE ledger_account_kinds (
  kind smallint PRIMARY KEY,
  name text NOT NULL UNIQUE,
  normal_side text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  is_user boolean NOT NULL
);
INSERT INTO ledger_account_kinds VALUES
  (1, 'available', 'credit', true), (2, 'held', 'credit', true), (3, 'pending', 'credit', true),
  (4, 'fees', 'credit', false), (5, 'custody', 'debit', false);

-- One row is one transfer: a debit entry and a credit entry of the same amount in the same asset, so every
-- posting balances by construction (an unbalanced posting cannot be written). A posting is the set of rows of
-- one event (`seq`); `n` orders them within it.
CREATE TABLE ledger_entries (
  seq bigint NOT NULL,
  n smallint NOT NULL CHECK (n >= 0),
  asset_id integer NOT NULL,
  debit_kind smallint NOT NULL REFERENCES ledger_account_kinds,
  debit_user bigint NOT NULL CHECK (debit_user >= 0),
  credit_kind smallint NOT NULL REFERENCES ledger_account_kinds,
  credit_user bigint NOT NULL CHECK (credit_user >= 0),
  amount numeric(78,0) NOT NULL CHECK (amount > 0),
  -- deposit, hold, release, trade, fee, withdrawalRequest, withdrawalComplete, withdrawalFail
  reason text NOT NULL,
  ref_id text NOT NULL,
  posted_at timestamptz NOT NULL,
  PRIMARY KEY (seq, n),
  CHECK (debit_kind <> credit_kind OR debit_user <> credit_user),
  -- System accounts belong to user 0 and user accounts to a real user.
  CHECK ((debit_kind <= 3) = (debit_user > 0)),
  CHECK ((credit_kind <= 3) = (credit_user > 0))
);

-- Each account's balance on its normal side, maintained with the entries in the same transaction. The CHECK is
-- the ledger's overdraft rule: no account ever goes below zero.
CREATE TABLE ledger_balances (
  kind smallint NOT NULL REFERENCES ledger_account_kinds,
  user_id bigint NOT NULL CHECK (user_id >= 0),
  asset_id integer NOT NULL,
  balance numeric(78,0) NOT NULL CHECK (balance >= 0),
  updated_seq bigint NOT NULL,
  PRIMARY KEY (user_id, asset_id, kind)
);

-- Balances recomputed from the entries alone (the audit view; ledger_balances is its fast, maintained copy).
CREATE VIEW ledger_entry_sums AS
SELECT e.kind, e.user_id, e.asset_id,
       sum(CASE WHEN (k.normal_side = 'debit') = e.is_debit THEN e.amount ELSE -e.amount END) AS balance
FROM (
  SELECT debit_kind AS kind, debit_user AS user_id, asset_id, amount, true AS is_debit FROM ledger_entries
  UNION ALL
  SELECT credit_kind, credit_user, asset_id, amount, false FROM ledger_entries
) e JOIN ledger_account_kinds k USING (kind)
GROUP BY e.kind, e.user_id, e.asset_id;
