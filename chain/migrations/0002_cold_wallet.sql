-- Transfers from the hot wallet to the cold address (the excess above the hot wallet's cap) go through the same
-- sender, state machine and nonces as user withdrawals; they are not the engine's: nothing is reported for them.
ALTER TABLE chain_withdrawals ADD COLUMN kind text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'cold'));
CREATE UNIQUE INDEX chain_withdrawals_cold_open ON chain_withdrawals (chain_id, token) WHERE kind = 'cold' AND state IN ('queued', 'signed', 'broadcast');
