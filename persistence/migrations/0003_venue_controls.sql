-- Venue controls (engine events marketStatusChanged and userFrozenChanged): a market's status and a user's
-- frozen flag as the engine last set them, with the event that set them.
ALTER TABLE markets
  ADD COLUMN status text NOT NULL DEFAULT 'trading' CHECK (status IN ('trading', 'cancelOnly', 'halted')),
  ADD COLUMN status_seq bigint;
ALTER TABLE users
  ADD COLUMN frozen boolean NOT NULL DEFAULT false,
  ADD COLUMN frozen_seq bigint;
